//! `fedlink audit reconcile` end to end: a clean run (describe, an aggregate, a linked count)
//! reconciles clean; then copies of its logs are tampered with the way a party could — a
//! deleted tail, a rewritten middle re-signed with the node's own key, a fork shown to the
//! auditor, a result hash rewritten in the coordinator's re-signed log — and each is named by
//! its finding and entries. Live runs show a query logged only at the coordinator (the node was
//! down), one logged only at the node (an envelope signed with the coordinator's key but never
//! logged by it), and a relay that substituted a message between two real nodes.
//!
//! Each case prints reconcile's text report, which is what the closing note shows.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use fedlink_proto::audit::budget::BudgetLimits;
use fedlink_proto::audit::entry::decode_entry;
use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{MockClock, UnixMillis};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use serde_json::Value as Json;

use crate::util::{TestFederation, audit_entries, run, runtime, text};

/// An aggregate rule for the ICB's `ed` dataset of the linked-query tests.
const AGGREGATE_RULE: &str = r#"
[[aggregate]]
dataset = "ed"
purposes = ["SVD-SNA"]
columns = { intent = ["filter", "group_by"] }
metrics = ["rows"]
privacy = { epsilon = "1", max_rows_per_subject = 2 }
"#;

/// The linked-query federation (police deaths, ICB attendances) with aggregates on at the ICB.
fn setup() -> TestFederation {
    let fed = crate::link::setup();
    let policy_path = fed.member_dir("icb").join("policy.toml");
    let policy = std::fs::read_to_string(&policy_path).expect("policy");
    let policy = policy.replacen("aggregate = false", "aggregate = true", 1);
    std::fs::write(&policy_path, format!("{policy}\n{AGGREGATE_RULE}")).expect("write policy");
    fed
}

fn coordinator(fed: &TestFederation, args: &[&str]) -> Output {
    let config = fed.coordinator_config();
    let mut all = vec!["coordinator", args[0], "--config", config.to_str().expect("utf8")];
    all.extend_from_slice(&args[1..]);
    run(&all)
}

fn aggregate(fed: &TestFederation) -> Output {
    coordinator(
        fed,
        &[
            "aggregate",
            "--node",
            "icb",
            "--dataset",
            "ed",
            "--purpose",
            "SVD-SNA",
            "--group-by",
            "intent",
        ],
    )
}

/// A copy of a SQLite file that is consistent even if its owner is still writing.
fn snapshot(src: &Path, dst: &Path) {
    if let Some(dir) = dst.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    let _ = std::fs::remove_file(dst);
    let conn = rusqlite::Connection::open(src).expect("open");
    conn.execute("VACUUM INTO ?1", [dst.to_str().expect("utf8")]).expect("vacuum into");
}

/// Rebuilds the log at `src` into `dst` from its first `keep` entries, each passed through
/// `edit` first, appended and signed afresh with `key` at the entry's own time: a log its
/// owner could have written, which verifies on its own.
fn rebuild(
    src: &Path,
    dst: &Path,
    key: IdentityKey,
    keep: usize,
    mut edit: impl FnMut(u64, &mut pb::AuditEntry),
) {
    let conn = rusqlite::Connection::open(src).expect("open");
    let origin: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| r.get(0))
        .expect("origin");
    let mut stmt =
        conn.prepare("SELECT idx, entry, query_id FROM log_entry ORDER BY idx").expect("q");
    let rows: Vec<(i64, Vec<u8>, Option<Vec<u8>>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let _ = std::fs::remove_file(dst);
    let clock = Arc::new(MockClock::new(UnixMillis(0)));
    let mut log = AuditLog::open(dst, &origin, key, clock.clone()).expect("open rebuilt");
    let limits = BudgetLimits { coordinator_micro: u64::MAX / 4, requester_micro: u64::MAX / 4 };
    for (idx, bytes, claim) in rows.into_iter().take(keep) {
        let mut entry = decode_entry(&bytes).expect("decodes");
        clock.set(UnixMillis(entry.time_ms));
        edit(u64::try_from(idx).expect("index"), &mut entry);
        let claim = claim.map(|c| <[u8; 16]>::try_from(c.as_slice()).expect("16 bytes"));
        if entry.budget.is_some() {
            log.append_charged(entry, &limits).expect("append charged");
        } else {
            log.append(entry, claim).expect("append");
        }
    }
    drop(log);
    // The erasable payloads (subject tokens) the kept entries commit to come along unchanged.
    let rebuilt = rusqlite::Connection::open(dst).expect("open rebuilt");
    rebuilt.execute("ATTACH DATABASE ?1 AS src", [src.to_str().expect("utf8")]).expect("attach");
    let keep = i64::try_from(keep).expect("keep");
    rebuilt
        .execute("INSERT INTO payload SELECT * FROM src.payload WHERE idx < ?1", [keep])
        .expect("payloads");
    rebuilt
        .execute(
            "INSERT INTO payload_subject SELECT * FROM src.payload_subject WHERE idx < ?1",
            [keep],
        )
        .expect("subject index");
}

/// The members' log files of one auditor's case.
struct Case {
    dir: PathBuf,
}

impl Case {
    /// Copies every log (and the receipt store) of `fed` into a fresh folder `name`.
    fn copy(fed: &TestFederation, name: &str, members: &[&str]) -> Case {
        let dir = fed.tmp.path().join("cases").join(name);
        for member in members {
            snapshot(&fed.audit_log(member), &dir.join(member).join("audit.db"));
        }
        let receipts = fed.member_dir("coordinator").join("data/receipts.db");
        snapshot(&receipts, &dir.join("coordinator/receipts.db"));
        Case { dir }
    }

    fn log(&self, member: &str) -> PathBuf {
        self.dir.join(member).join("audit.db")
    }

    /// Replaces `member`'s log with a rebuilt one (see [`rebuild`]).
    fn rebuild(
        &self,
        fed: &TestFederation,
        member: &str,
        keep: usize,
        edit: impl FnMut(u64, &mut pb::AuditEntry),
    ) {
        let rebuilt = self.dir.join(format!("{member}-rebuilt.db"));
        rebuild(&self.log(member), &rebuilt, fed.identity(member), keep, edit);
        std::fs::rename(&rebuilt, self.log(member)).expect("replace");
    }
}

/// Runs reconcile in text (printed, for the closing note) and in JSON lines (returned), and
/// checks both exit with the same code.
fn reconcile(
    fed: &TestFederation,
    label: &str,
    coordinator: &Path,
    nodes: &[PathBuf],
) -> (i32, Vec<Json>) {
    let federation = fed.dir.join("federation.toml");
    let mut args: Vec<String> = vec![
        "audit".into(),
        "reconcile".into(),
        "--federation".into(),
        federation.display().to_string(),
        "--coordinator".into(),
        coordinator.display().to_string(),
    ];
    for node in nodes {
        args.push("--node".into());
        args.push(node.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&refs);
    let code = out.status.code().expect("exit code");
    println!(
        "===== reconcile: {label} (exit {code}) =====\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(code == 0 || code == 1, "{}", text(&out));
    let mut json_args = refs.clone();
    json_args.extend(["--format", "jsonl"]);
    let json_out = run(&json_args);
    assert_eq!(json_out.status.code(), Some(code), "{}", text(&json_out));
    let lines = String::from_utf8_lossy(&json_out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("a JSON line"))
        .filter(|j| j["type"] == "finding")
        .collect();
    (code, lines)
}

/// The findings of `kind` reported under `member`.
fn of_kind<'a>(findings: &'a [Json], kind: &str, member: &str) -> Vec<&'a Json> {
    findings.iter().filter(|f| f["kind"] == kind && f["member"] == member).collect()
}

/// Whether a finding names entry `index` of `log`.
fn names(finding: &Json, log: &str, index: u64) -> bool {
    finding["entries"]
        .as_array()
        .is_some_and(|es| es.iter().any(|e| e["log"] == log && e["index"] == index))
}

/// Index of the first entry of `entries` matching `pred`.
fn index_of(entries: &[pb::AuditEntry], pred: impl Fn(&pb::AuditEntry) -> bool) -> u64 {
    entries.iter().position(pred).expect("such an entry") as u64
}

fn is_event(e: &pb::AuditEntry, event: pb::EventType) -> bool {
    e.event_type == event as i32
}

fn audience(e: &pb::AuditEntry) -> &str {
    e.query.as_ref().map_or("", |q| q.audience.as_str())
}

fn query_id(e: &pb::AuditEntry) -> &[u8] {
    e.query.as_ref().map_or(&[], |q| q.query_id.as_slice())
}

const MEMBERS: [&str; 5] = ["coordinator", "police", "icb", "council-east", "council-west"];
const NODES: [&str; 4] = ["police", "icb", "council-east", "council-west"];

#[test]
fn a_clean_run_reconciles_clean_and_every_tampering_of_its_logs_is_named() {
    let fed = setup();
    let mut nodes: Vec<_> = NODES.iter().map(|n| fed.start_node(n)).collect();
    let out = coordinator(&fed, &["describe"]);
    assert!(out.status.success(), "{}", text(&out));
    // The ICB's log as it stood after describe: the fork starts here.
    let after_describe = fed.tmp.path().join("icb-after-describe.db");
    snapshot(&fed.audit_log("icb"), &after_describe);
    let out = aggregate(&fed);
    assert!(out.status.success(), "{}", text(&out));
    let linked = crate::link::count_query(
        "reconcile",
        "unit = \"person\"\nkey_types = [\"nhs\", \"name_dob\"]",
        "untimed",
    );
    let out = crate::link::link(&fed, "reconcile", &linked);
    assert!(out.status.success(), "{}", text(&out));
    for node in &mut nodes {
        assert!(node.stop());
    }

    let clean = Case::copy(&fed, "clean", &MEMBERS);
    let node_logs = |case: &Case| NODES.iter().map(|n| case.log(n)).collect::<Vec<_>>();
    let (code, findings) =
        reconcile(&fed, "clean run", &clean.dir.join("coordinator"), &node_logs(&clean));
    assert_eq!(code, 0, "{findings:#?}");
    assert!(findings.is_empty());

    // The same logs as an auditor takes them away: export bundles (the coordinator's carries
    // its receipt store) reconcile exactly as the files do.
    let bundles = fed.tmp.path().join("bundles");
    for member in MEMBERS {
        let out = run(&[
            "audit",
            "export",
            "--log",
            clean.log(member).to_str().expect("utf8"),
            "--out",
            bundles.join(member).to_str().expect("utf8"),
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    assert!(bundles.join("coordinator/receipts.db").is_file(), "the receipt store is exported");
    let node_bundles: Vec<PathBuf> = NODES.iter().map(|n| bundles.join(n)).collect();
    let (code, findings) =
        reconcile(&fed, "clean run, from bundles", &bundles.join("coordinator"), &node_bundles);
    assert_eq!(code, 0, "{findings:#?}");

    let coordinator_log = audit_entries(&clean.log("coordinator"));
    let icb_log = audit_entries(&clean.log("icb"));
    let icb_size = icb_log.len();
    // The coordinator's RESULT_RECEIVED entries from the ICB: describe, aggregate, link.
    let icb_results: Vec<u64> = coordinator_log
        .iter()
        .enumerate()
        .filter(|(_, e)| is_event(e, pb::EventType::ResultReceived) && audience(e) == "icb")
        .map(|(i, _)| i as u64)
        .collect();
    assert_eq!(icb_results.len(), 3, "describe, aggregate and the linked count");

    // 1. A deleted tail: the ICB's last two entries gone, the rest re-signed as they were (so
    //    the shortened log verifies on its own). The coordinator saw the full size.
    let tail = Case::copy(&fed, "deleted-tail", &MEMBERS);
    tail.rebuild(&fed, "icb", icb_size - 2, |_, _| {});
    let (code, findings) =
        reconcile(&fed, "deleted tail", &tail.dir.join("coordinator"), &node_logs(&tail));
    assert_eq!(code, 1);
    assert!(of_kind(&findings, "log_does_not_verify", "icb").is_empty(), "{findings:#?}");
    let deleted = of_kind(&findings, "deleted_tail", "icb");
    assert_eq!(deleted.len(), 1, "{findings:#?}");
    assert!(names(deleted[0], "coordinator", icb_results[2]), "{:#}", deleted[0]);
    assert!(names(deleted[0], "icb", icb_size as u64 - 3), "{:#}", deleted[0]);

    // 2. A rewritten middle: the ICB's describe answer entry says something else, and the
    //    whole log is rebuilt and re-signed with the ICB's own key. It verifies on its own;
    //    the receipt the coordinator holds still shows the original.
    let rewritten = index_of(&icb_log, |e| is_event(e, pb::EventType::Disclosure));
    let middle = Case::copy(&fed, "rewritten-middle", &MEMBERS);
    middle.rebuild(&fed, "icb", icb_size, |i, e| {
        if i == rewritten {
            e.reason = "nothing was released".into();
        }
    });
    let (code, findings) =
        reconcile(&fed, "rewritten middle", &middle.dir.join("coordinator"), &node_logs(&middle));
    assert_eq!(code, 1);
    assert!(of_kind(&findings, "log_does_not_verify", "icb").is_empty(), "{findings:#?}");
    let differs = of_kind(&findings, "receipt_entry_differs", "icb");
    assert_eq!(differs.len(), 1, "{findings:#?}");
    assert!(names(differs[0], "icb", rewritten), "{:#}", differs[0]);
    assert!(names(differs[0], "coordinator", icb_results[0]), "{:#}", differs[0]);
    let split = of_kind(&findings, "split_view", "icb");
    assert!(!split.is_empty(), "{findings:#?}");
    assert!(split.iter().any(|f| names(f, "coordinator", icb_results[0])), "{split:#?}");

    // 3. A fork: the auditor is shown a log that left the real one after describe and went on
    //    with other entries, signed with the ICB's key, longer than the real one.
    let fork = Case::copy(&fed, "forked", &MEMBERS);
    std::fs::copy(&after_describe, fork.log("icb")).expect("fork");
    {
        let origin = fedlink_proto::federation::log_origin(&fed.federation().name, "icb");
        let clock = Arc::new(MockClock::new(crate::util::now()));
        let mut log = AuditLog::open(&fork.log("icb"), &origin, fed.identity("icb"), clock)
            .expect("open fork");
        while (log.size() as usize) < icb_size + 2 {
            let entry = pb::AuditEntry {
                event_type: pb::EventType::ServiceStart as i32,
                decision: pb::Decision::Allowed as i32,
                detail: "service started".into(),
                ..Default::default()
            };
            log.append(entry, None).expect("append");
        }
    }
    let (code, findings) =
        reconcile(&fed, "forked log", &fork.dir.join("coordinator"), &node_logs(&fork));
    assert_eq!(code, 1);
    assert!(of_kind(&findings, "log_does_not_verify", "icb").is_empty(), "{findings:#?}");
    let split = of_kind(&findings, "split_view", "icb");
    assert!(split.iter().any(|f| names(f, "coordinator", icb_results[1])), "{findings:#?}");
    assert!(split.iter().any(|f| names(f, "coordinator", icb_results[2])), "{findings:#?}");
    // The describe receipt predates the fork: it still matches.
    assert!(!split.iter().any(|f| names(f, "coordinator", icb_results[0])), "{split:#?}");

    // 4. A result hash mismatch: the coordinator's log rewritten (and re-signed with its own
    //    key) to record another hash for the ICB's aggregate answer.
    let hashed = Case::copy(&fed, "result-hash", &MEMBERS);
    let coordinator_size = coordinator_log.len();
    hashed.rebuild(&fed, "coordinator", coordinator_size, |i, e| {
        if i == icb_results[1]
            && let Some(output) = e.output.as_mut()
        {
            output.result_hash[0] ^= 0xff;
        }
    });
    let (code, findings) = reconcile(
        &fed,
        "result hash mismatch",
        &hashed.dir.join("coordinator"),
        &node_logs(&hashed),
    );
    assert_eq!(code, 1);
    let mismatch = of_kind(&findings, "result_hash_mismatch", "icb");
    assert_eq!(mismatch.len(), 1, "{findings:#?}");
    assert!(names(mismatch[0], "coordinator", icb_results[1]), "{:#}", mismatch[0]);
    let aggregate_query = query_id(&coordinator_log[icb_results[1] as usize]).to_vec();
    let answered = index_of(&icb_log, |e| {
        is_event(e, pb::EventType::Disclosure) && query_id(e) == aggregate_query.as_slice()
    });
    assert!(names(mismatch[0], "icb", answered), "{:#}", mismatch[0]);
}

#[test]
fn a_query_logged_only_at_the_coordinator_or_only_at_the_node_is_reported() {
    let fed = TestFederation::new();
    let icb_logs = || vec![fed.audit_log("icb")];
    let coordinator_data = fed.member_dir("coordinator").join("data");

    // The ICB is down: the coordinator logs the query it issued, the ICB never sees it.
    let mut icb = fed.start_node("icb");
    assert!(icb.stop());
    let out = coordinator(&fed, &["describe"]);
    assert_eq!(out.status.code(), Some(1), "the other nodes and the ICB are down: {}", text(&out));
    let coordinator_log = audit_entries(&fed.audit_log("coordinator"));
    let issued = index_of(&coordinator_log, |e| {
        is_event(e, pb::EventType::QueryIssued) && audience(e) == "icb"
    });
    let (code, findings) =
        reconcile(&fed, "query only at the coordinator", &coordinator_data, &icb_logs());
    assert_eq!(code, 1);
    let only = of_kind(&findings, "query_only_at_coordinator", "icb");
    assert_eq!(only.len(), 1, "{findings:#?}");
    assert!(names(only[0], "coordinator", issued), "{:#}", only[0]);

    // An envelope signed with the coordinator's key but never logged by the coordinator.
    let mut icb = fed.start_node("icb");
    let envelope = fed.envelope("icb");
    let signed = envelope.sign(&fed.identity("coordinator"));
    runtime().block_on(async {
        let mut client = fed.client("icb", &fed.client_tls("coordinator")).await;
        client.describe(signed).await.expect("the node answers");
    });
    assert!(icb.stop());
    let at_icb: Vec<u64> = audit_entries(&fed.audit_log("icb"))
        .iter()
        .enumerate()
        .filter(|(_, e)| query_id(e) == envelope.query_id.as_bytes())
        .map(|(i, _)| i as u64)
        .collect();
    assert_eq!(at_icb.len(), 2, "admitted, then answered");
    let (code, findings) =
        reconcile(&fed, "query only at the node", &coordinator_data, &icb_logs());
    assert_eq!(code, 1);
    let only = of_kind(&findings, "query_only_at_node", "icb");
    assert_eq!(only.len(), 1, "{findings:#?}");
    for index in &at_icb {
        assert!(names(only[0], "icb", *index), "{:#}", only[0]);
    }
    // The earlier query is still reported too.
    assert_eq!(of_kind(&findings, "query_only_at_coordinator", "icb").len(), 1, "{findings:#?}");
}

#[test]
fn a_relay_that_substitutes_a_message_is_caught_in_both_logs() {
    use crate::adversary::fixture::{LinkFed, Mitm, Person, Row, Setup, count_query, fillers};

    let police = fillers("P", 100, 12, "2025-06-15", "base");
    let mut icb: Vec<Row> = (100..104)
        .map(|i| Row::new(format!("E{i}"), Person::synthetic(i), "2025-03-10", "assault"))
        .collect();
    icb.extend(fillers("G", 2000, 6, "2025-02-01", "assault"));
    let fed = LinkFed::start(&Setup::exact(police, icb));
    // The relay flips one byte of the ICB's M2 on its way to the police node.
    let mut mitm = Mitm::new(
        fed.transport(),
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| m.sender == "icb" && m.step == 1) {
                let middle = m.ciphertext.len() / 2;
                m.ciphertext[middle] ^= 0x01;
            }
            member.to_string()
        }),
    );
    let query = count_query(&[], None);
    let run_ = runtime().block_on(fed.run_with(&query, &mut mitm, None));
    assert!(run_.release().is_none(), "the police node refused the altered M2");
    let qid = run_.query_id.expect("issued");

    let entries_of = |member: &str| audit_entries(&fed.fed.audit_log(member));
    let for_query = |e: &pb::AuditEntry| query_id(e) == qid.as_bytes();
    let icb_log = entries_of("icb");
    let police_log = entries_of("police");
    // The ICB's entry that sent M2, and the police node's refusal that lists what it received.
    let sent = index_of(&icb_log, |e| {
        for_query(e) && e.relay_digests.iter().any(|d| d.starts_with("icb>police#1:"))
    });
    let refused =
        index_of(&police_log, |e| for_query(e) && e.decision == pb::Decision::Denied as i32);
    assert!(
        police_log[refused as usize].relay_digests.iter().any(|d| d.starts_with("icb>police#1:")),
        "the refusal lists the message it refused: {:?}",
        police_log[refused as usize]
    );

    let coordinator_data = fed.fed.member_dir("coordinator").join("data");
    let logs = vec![fed.fed.audit_log("police"), fed.fed.audit_log("icb")];
    let (code, findings) =
        reconcile(&fed.fed, "relay substituted a message", &coordinator_data, &logs);
    assert_eq!(code, 1);
    let mismatch = of_kind(&findings, "relay_digest_mismatch", "police");
    assert_eq!(mismatch.len(), 1, "{findings:#?}");
    assert!(names(mismatch[0], "icb", sent), "{:#}", mismatch[0]);
    assert!(names(mismatch[0], "police", refused), "{:#}", mismatch[0]);
}

#[test]
fn reconcile_has_help_and_names_a_missing_file_with_exit_code_2() {
    let help = run(&["audit", "reconcile", "--help"]);
    assert!(help.status.success(), "{}", text(&help));
    let shown = String::from_utf8_lossy(&help.stdout);
    for flag in ["--coordinator", "--node", "--receipts", "--federation", "--format"] {
        assert!(shown.contains(flag), "{flag}: {shown}");
    }
    let out =
        run(&["audit", "reconcile", "--coordinator", "/nonexistent/c", "--node", "/nonexistent/n"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/c"), "{}", text(&out));
    // A node is required.
    let out = run(&["audit", "reconcile", "--coordinator", "/nonexistent/c"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
