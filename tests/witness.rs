//! Witnessing (design-review F14): after a command, the coordinator's log is cosigned by the
//! nodes it talked to and each node keeps the coordinator's cosignatures of its own
//! checkpoints; an independent `fedlink witness serve` witnesses the coordinator's and the
//! police node's logs; a forked coordinator log is refused by the node and by the witness.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fedlink_proto::audit::checkpoint::Checkpoint;
use fedlink_proto::audit::cosignature::CosignatureVerifier;
use fedlink_proto::audit::merkle::Hash;
use fedlink_proto::pb;
use fedlink_proto::witness::member_cosigner_name;

use crate::util::{TestFederation, audit_entries, fedlink, read, run, text};

const FEDERATION: &str = "demo-county";
const NODES: [&str; 4] = ["police", "icb", "council-east", "council-west"];

/// A stored cosignature: (size, witness, line).
type Row = (u64, String, String);

/// The `cosignature` table of an audit log.
fn cosignatures(log: &Path) -> Vec<Row> {
    let conn =
        rusqlite::Connection::open_with_flags(log, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open log");
    let mut stmt = conn
        .prepare("SELECT size, witness, line FROM cosignature ORDER BY size, witness")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// The checkpoint a log signed at `size`, as its body says.
fn checkpoint_at(log: &Path, origin: &str, size: u64) -> Checkpoint {
    let conn =
        rusqlite::Connection::open_with_flags(log, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open log");
    let root: Vec<u8> = conn
        .query_row("SELECT root FROM checkpoint WHERE size = ?1", [size as i64], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{origin} has no checkpoint at {size}: {e}"));
    Checkpoint { origin: origin.into(), size, root: Hash::from_slice(&root).expect("32 bytes") }
}

fn origin(member: &str) -> String {
    fedlink_proto::federation::log_origin(FEDERATION, member)
}

/// The cosigner key of a federation member (its identity key under its witness name).
fn member_cosigner(fed: &TestFederation, member: &str) -> CosignatureVerifier {
    CosignatureVerifier::new(
        &member_cosigner_name(FEDERATION, member),
        fed.member(member).public_key,
    )
}

/// Runs `fedlink coordinator SUBCOMMAND --config CONFIG ARGS…`.
fn coordinator(config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["coordinator", args[0], "--config", config.to_str().expect("utf8")];
    all.extend_from_slice(&args[1..]);
    run(&all)
}

#[test]
fn coordinator_and_nodes_cosign_each_others_checkpoints() {
    let fed = crate::aggregate::setup();
    let _nodes: Vec<_> = NODES.iter().map(|n| fed.start_node(n)).collect();
    let config = fed.coordinator_config();

    let described = coordinator(&config, &["describe"]);
    assert!(described.status.success(), "{}", text(&described));
    let stderr = String::from_utf8_lossy(&described.stderr).to_string();
    assert!(
        stderr.contains("witnessing: the coordinator's log was cosigned by 4 of 4"),
        "{}",
        text(&described)
    );
    assert!(!stderr.contains("WARNING"), "{}", text(&described));

    let aggregated = coordinator(&config, &crate::aggregate::ICB_TEMPLATE_QUERY);
    assert!(aggregated.status.success(), "{}", text(&aggregated));
    assert!(
        String::from_utf8_lossy(&aggregated.stderr)
            .contains("cosigned by 1 of 1 (node icb at size"),
        "{}",
        text(&aggregated)
    );

    // The coordinator's log holds each node's cosignature of its checkpoint, and each verifies
    // over the coordinator's own checkpoint at that size with the node's key.
    let coordinator_log = fed.audit_log("coordinator");
    let held = cosignatures(&coordinator_log);
    for node in NODES {
        let verifier = member_cosigner(&fed, node);
        let rows: Vec<&Row> = held.iter().filter(|(_, w, _)| w == verifier.name()).collect();
        assert!(!rows.is_empty(), "no cosignature by {node}: {held:?}");
        for (size, _, line) in rows {
            let cp = checkpoint_at(&coordinator_log, &origin("coordinator"), *size);
            verifier.verify(&cp, line).unwrap_or_else(|e| panic!("{node} at {size}: {e}"));
        }
    }
    // icb cosigned twice (after describe, after aggregate); the later at the log's size then.
    let icb_sizes: Vec<u64> = held
        .iter()
        .filter(|(_, w, _)| w == member_cosigner(&fed, "icb").name())
        .map(|(s, _, _)| *s)
        .collect();
    assert_eq!(icb_sizes.len(), 2, "{held:?}");
    let police_size =
        held.iter().find(|(_, w, _)| w == member_cosigner(&fed, "police").name()).map(|r| r.0);
    assert!(police_size < Some(icb_sizes[1]), "{held:?}");

    // Each node's log holds the coordinator's cosignatures of its own checkpoints: for icb,
    // one per verified receipt (the describe's and the aggregate's), each over icb's own
    // checkpoint at that size.
    let coordinator_cosigner = member_cosigner(&fed, "coordinator");
    for node in NODES {
        let log = fed.audit_log(node);
        let rows = cosignatures(&log);
        assert!(!rows.is_empty(), "{node} holds no coordinator cosignature");
        for (size, witness, line) in &rows {
            assert_eq!(witness, coordinator_cosigner.name());
            let cp = checkpoint_at(&log, &origin(node), *size);
            coordinator_cosigner.verify(&cp, line).unwrap_or_else(|e| panic!("{node} {size}: {e}"));
        }
    }
    let icb_entries = audit_entries(&fed.audit_log("icb"));
    let last_disclosure = icb_entries
        .iter()
        .rposition(|e| e.event_type == pb::EventType::Disclosure as i32)
        .expect("a disclosure") as u64;
    let icb_rows = cosignatures(&fed.audit_log("icb"));
    assert_eq!(icb_rows.len(), 2, "{icb_rows:?}");
    assert_eq!(icb_rows[1].0, last_disclosure + 1, "the aggregate's receipt checkpoint");
    // Witnessing wrote nothing into the nodes' logs: no alarms.
    assert!(icb_entries.iter().all(|e| e.event_type != pb::EventType::WitnessAlarm as i32));
}

/// A running `fedlink witness serve`, stopped when dropped.
struct WitnessProcess {
    child: Child,
    stderr: PathBuf,
}

impl WitnessProcess {
    fn start(config: &Path) -> Self {
        let stderr = config.with_file_name("witness-stderr.log");
        let file = std::fs::File::create(&stderr).expect("log file");
        let mut child = fedlink()
            .env("FEDLINK_LOG", "info")
            .args(["witness", "serve", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(file))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn witness");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            panic!("the witness did not start: {}", read(&stderr));
        });
        assert!(line.contains("listening on"), "{line}");
        assert!(
            line.contains(&origin("coordinator")) && line.contains(&origin("police")),
            "{line}"
        );
        Self { child, stderr }
    }

    fn stderr(&self) -> String {
        read(&self.stderr)
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Appends `text` at the end of a file.
fn append(path: &Path, text: &str) {
    let mut all = read(path);
    all.push('\n');
    all.push_str(text);
    std::fs::write(path, all).expect("write");
}

/// Waits until `check` holds or `secs` pass.
fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    check()
}

#[test]
fn an_independent_witness_witnesses_the_coordinator_and_police_and_refuses_a_fork() {
    let fed = TestFederation::new();
    let witness_dir = fed.tmp.path().join("dpo");
    let init = run(&[
        "witness",
        "init",
        "--dir",
        witness_dir.to_str().expect("utf8"),
        "--federation",
        fed.dir.join("federation.toml").to_str().expect("utf8"),
        "--name",
        "dpo",
        "--logs",
        "coordinator,police",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(init.status.success(), "{}", text(&init));
    let stdout = String::from_utf8_lossy(&init.stdout).to_string();
    let table = &stdout[stdout.find("[[witness]]").expect("the table is printed")..];
    let table: String = table.lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(table.contains("vkey = \"fedlink.witness/demo-county/dpo+"), "{table}");

    // The coordinator and the police node send their checkpoints to it; police every second.
    append(&fed.coordinator_config(), &table);
    fed.append_to_node_config("police", "witness_push_every_s = 1");
    append(&fed.node_config("police"), &table);
    let witness = WitnessProcess::start(&witness_dir.join("witness.toml"));
    let _police = fed.start_node("police");

    let config = fed.coordinator_config();
    let described = coordinator(&config, &["describe"]);
    let stderr = String::from_utf8_lossy(&described.stderr).to_string();
    assert!(stderr.contains("cosigned by 2 of 2"), "{}", text(&described));
    assert!(stderr.contains("witness dpo at size"), "{}", text(&described));

    // The coordinator's log holds the witness's cosignature; the police node's log gets one
    // from its background push.
    let dpo = "fedlink.witness/demo-county/dpo";
    assert!(cosignatures(&fed.audit_log("coordinator")).iter().any(|(_, w, _)| w == dpo));
    assert!(
        eventually(20, || cosignatures(&fed.audit_log("police")).iter().any(|(_, w, _)| w == dpo)),
        "police was never cosigned by the witness: {}",
        witness.stderr()
    );
    let witnessed: Vec<String> = {
        let conn = rusqlite::Connection::open_with_flags(
            witness_dir.join("data/witness.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("witness.db");
        let mut stmt = conn.prepare("SELECT origin FROM witnessed ORDER BY origin").expect("prep");
        stmt.query_map([], |r| r.get(0)).expect("query").map(|r| r.expect("row")).collect()
    };
    assert_eq!(witnessed, [origin("coordinator"), origin("police")]);

    // A fork: a second log at the coordinator's origin, signed with its key (the same config,
    // another data folder), diverging from the one the node and the witness cosigned.
    let fork_config = config.with_file_name("coordinator-fork.toml");
    std::fs::write(
        &fork_config,
        read(&config).replace("data_dir = \"data\"", "data_dir = \"fork\""),
    )
    .expect("write fork config");
    let forked = coordinator(&fork_config, &["describe"]);
    let shown = text(&forked);
    // The answer itself still arrives: witnessing never blocks it.
    assert!(String::from_utf8_lossy(&forked.stdout).contains("police"), "{shown}");
    let warnings: Vec<&str> = shown.lines().filter(|l| l.starts_with("WARNING: ")).collect();
    let node_warning = warnings
        .iter()
        .find(|l| l.starts_with("WARNING: node police did not cosign the coordinator's log"))
        .unwrap_or_else(|| panic!("no warning from police: {shown}"));
    assert!(node_warning.contains("forked"), "{node_warning}");
    let witness_warning = warnings
        .iter()
        .find(|l| l.starts_with("WARNING: witness dpo did not cosign the coordinator's log"))
        .unwrap_or_else(|| panic!("no warning from the witness: {shown}"));
    assert!(witness_warning.contains("forked"), "{witness_warning}");
    assert!(
        !cosignatures(&fed.dir.join("coordinator/fork/audit.db")).iter().any(|(_, w, _)| w == dpo),
        "the fork was cosigned"
    );

    // The fork grows past the size they cosigned: its proof from there cannot lead to the
    // root they hold (422).
    let grown = coordinator(&fork_config, &["describe"]);
    let shown = text(&grown);
    for who in ["node police", "witness dpo"] {
        let line = shown
            .lines()
            .find(|l| l.starts_with(&format!("WARNING: {who} did not cosign")))
            .unwrap_or_else(|| panic!("no warning from {who}: {shown}"));
        assert!(line.contains("refused by rule witness.bad_proof"), "{line}");
        assert!(line.contains("is not consistent with the one this witness cosigned"), "{line}");
    }

    // The police node entered both alarms in its own log; the witness said so and kept them.
    let alarms: Vec<pb::AuditEntry> = audit_entries(&fed.audit_log("police"))
        .into_iter()
        .filter(|e| e.event_type == pb::EventType::WitnessAlarm as i32)
        .collect();
    let rules: Vec<&str> = alarms.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(rules, ["witness.conflict", "witness.bad_proof"], "{alarms:?}");
    assert_eq!(alarms[0].actor.as_ref().map(|a| a.member.as_str()), Some("coordinator"));
    assert!(alarms[0].detail.contains(&origin("coordinator")), "{}", alarms[0].detail);
    assert!(eventually(5, || witness.stderr().contains("witness alarm")), "{}", witness.stderr());
}

#[test]
fn a_coordinator_cosignature_over_another_police_log_is_a_split_view_alarm() {
    let fed = TestFederation::new();
    let _police = fed.start_node("police");
    let config = fed.coordinator_config();
    let described = coordinator(&config, &["describe"]);
    assert!(String::from_utf8_lossy(&described.stderr).contains("node police at size"));

    // The coordinator's real checkpoint, from the size police last cosigned, carrying a
    // coordinator cosignature of a police checkpoint at size 2 that police never signed: what
    // a coordinator shown a different police log would deliver.
    let police_cosigner = member_cosigner(&fed, "police");
    let clock = std::sync::Arc::new(fedlink_proto::clock::SystemClock::new());
    let log = fedlink_proto::audit::store::AuditLog::open(
        &fed.audit_log("coordinator"),
        &origin("coordinator"),
        fed.identity("coordinator"),
        clock,
    )
    .expect("the coordinator's log");
    let old = log.last_cosigned_size(police_cosigner.name()).expect("read").expect("cosigned");
    let submission = log.witness_submission(old).expect("submission").expect("non-empty");
    let other_police = Checkpoint { origin: origin("police"), size: 2, root: Hash([9; 32]) };
    let cosigner = fedlink_proto::audit::cosignature::Cosigner::new(
        &member_cosigner_name(FEDERATION, "coordinator"),
        fed.identity("coordinator"),
    )
    .expect("cosigner");
    let forged = cosigner.cosign(&other_police, 1_700_000_000).expect("cosign").to_line();
    let request = fedlink_proto::witness::Submission {
        old_size: submission.old_size,
        proof: submission.proof,
        note: submission.note,
        delivered: vec![(2, forged)],
    };

    let police = fed.member("police");
    let refused = crate::util::runtime().block_on(async {
        let mut client = fedlink_coordinator::client::connect_witness(
            police.endpoint.as_deref().expect("endpoint"),
            police.tls_name.as_deref(),
            &fed.client_tls("coordinator"),
        )
        .await
        .expect("connect");
        client.add_checkpoint(request.to_pb()).await.expect_err("refused")
    });
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    let rule = refused.metadata().get(fedlink_proto::witness::WITNESS_REFUSAL_HEADER);
    assert_eq!(rule.and_then(|v| v.to_str().ok()), Some("witness.split_view"));
    assert!(refused.message().starts_with("SPLIT VIEW"), "{}", refused.message());

    let entries = audit_entries(&fed.audit_log("police"));
    let alarm = entries.last().expect("entries");
    assert_eq!(alarm.event_type, pb::EventType::WitnessAlarm as i32, "{alarm:?}");
    assert_eq!(alarm.rule, "witness.split_view");
    assert!(alarm.reason.contains("at size 2"), "{}", alarm.reason);
    // Nothing of the delivery was kept.
    assert!(cosignatures(&fed.audit_log("police")).iter().all(|(size, _, _)| *size != 2));
}
