//! The audit log under review and under attack: `show` selects exactly the entries each filter
//! names; `export` writes a bundle that verifies offline, and reading through the member's
//! config is itself logged; a one-byte change anywhere in an entry, a checkpoint note or its
//! signature is found and located, in the live file and in an exported bundle.

use std::path::{Path, PathBuf};

use fedlink_proto::audit::verify::{CheckpointProblem, VerifyError, verify_log};
use fedlink_proto::pb;

use crate::util::{TestFederation, audit_entries, run, text};

fn run_describe(fed: &TestFederation) {
    let out = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Flips one byte of entry `index`'s stored bytes, bypassing the append-only triggers the way a
/// database administrator could.
fn flip_byte(log: &Path, index: i64) {
    let conn = rusqlite::Connection::open(log).expect("open");
    let bytes: Vec<u8> = conn
        .query_row("SELECT entry FROM log_entry WHERE idx = ?1", [index], |r| r.get(0))
        .expect("entry");
    let mut changed = bytes.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    conn.execute_batch("DROP TRIGGER IF EXISTS log_entry_no_update;").expect("drop trigger");
    conn.execute(
        "UPDATE log_entry SET entry = ?1 WHERE idx = ?2",
        rusqlite::params![changed, index],
    )
    .expect("update");
}

#[test]
fn a_one_byte_change_to_a_stored_entry_fails_verification_naming_the_entry() {
    let fed = TestFederation::new();
    let mut nodes: Vec<_> = ["police", "icb", "council-east", "council-west"]
        .iter()
        .map(|n| fed.start_node(n))
        .collect();
    run_describe(&fed);
    for node in &mut nodes {
        assert!(node.stop());
    }
    let before = fed.verify_log("police");
    assert!(before.status.success(), "{}", text(&before));

    flip_byte(&fed.audit_log("police"), 1);
    let out = fed.verify_log("police");
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("FAILED"), "{shown}");
    assert!(shown.contains("entry 1"), "{shown}");

    // The coordinator's log is just as tamper-evident.
    flip_byte(&fed.audit_log("coordinator"), 2);
    let out = fed.verify_log("coordinator");
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("entry 2"), "{shown}");
}

#[test]
fn a_log_signed_by_another_key_fails_when_pinned_to_the_federation_file() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    assert!(node.stop());
    // icb's log checked against police's listed key.
    let out = run(&[
        "audit",
        "verify",
        "--log",
        fed.audit_log("icb").to_str().expect("utf8"),
        "--federation",
        fed.dir.join("federation.toml").to_str().expect("utf8"),
        "--member",
        "police",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// `fedlink audit ARGS`.
fn audit(args: &[&str]) -> std::process::Output {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    run(&all)
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf8")
}

/// `audit show --log LOG ARGS --format jsonl`, parsed: one JSON object per entry.
fn show_jsonl(log: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["show", "--log", utf8(log), "--format", "jsonl"];
    all.extend_from_slice(args);
    let out = audit(&all);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect()
}

fn indices(views: &[serde_json::Value]) -> Vec<u64> {
    views.iter().map(|v| v["index"].as_u64().expect("index")).collect()
}

/// The indices of the entries `keep` selects, computed from the decoded log, not by `show`.
fn expected(log: &Path, keep: impl Fn(&pb::AuditEntry) -> bool) -> Vec<u64> {
    audit_entries(log).iter().filter(|e| keep(e)).map(|e| e.index).collect()
}

#[test]
fn show_selects_exactly_the_entries_each_filter_names() {
    let fed = crate::aggregate::setup();
    let mut node = fed.start_node("icb");
    let coordinator = |args: &[&str]| {
        let config = fed.coordinator_config();
        let mut all = vec!["coordinator", args[0], "--config", utf8(&config)];
        all.extend_from_slice(&args[1..]);
        run(&all)
    };
    // Only icb is up, so describe reports the others down (exit 1) but icb answers.
    let described = coordinator(&["describe"]);
    assert!(matches!(described.status.code(), Some(0 | 1)), "{}", text(&described));
    let base = ["aggregate", "--node", "icb", "--dataset", "ed", "--purpose", "SVD-SNA"];
    let charged = coordinator(&[&base[..], &["--group-by", "Intent"]].concat());
    assert!(charged.status.success(), "{}", text(&charged));
    let refused = coordinator(&[&base[..], &["--group-by", "DOB"]].concat());
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(node.stop());
    let log = fed.audit_log("icb");
    let all = audit_entries(&log);
    let mode = |e: &pb::AuditEntry| e.query.as_ref().map_or(0, |q| q.mode);

    // Decisions partition the log.
    let denied = show_jsonl(&log, &["--decision", "denied"]);
    let want = expected(&log, |e| e.decision == pb::Decision::Denied as i32);
    assert!(!want.is_empty());
    assert_eq!(indices(&denied), want);
    assert!(denied.iter().any(|v| v["rule"] == "policy.aggregate.columns"), "{denied:?}");
    let allowed = show_jsonl(&log, &["--decision", "allowed"]);
    assert_eq!(indices(&allowed), expected(&log, |e| e.decision == pb::Decision::Allowed as i32));
    assert_eq!(allowed.len() + denied.len(), all.len());

    // A query mode: the describe request and its disclosure; an event type.
    let described = show_jsonl(&log, &["--kind", "describe"]);
    assert_eq!(indices(&described), expected(&log, |e| mode(e) == pb::Mode::Describe as i32));
    assert!(described.len() >= 2, "{described:?}");
    assert!(described.iter().all(|v| v["query"]["mode"] == "describe"));
    let aggregates = show_jsonl(&log, &["--kind", "aggregate", "--decision", "allowed"]);
    assert_eq!(
        indices(&aggregates),
        expected(&log, |e| mode(e) == pb::Mode::Aggregate as i32
            && e.decision == pb::Decision::Allowed as i32)
    );
    let imports = show_jsonl(&log, &["--kind", "collection"]);
    assert_eq!(indices(&imports), [0, 1], "{imports:?}");

    // The refused query's id selects its entries and nothing else.
    let refusal = denied.iter().find(|v| v["rule"] == "policy.aggregate.columns").expect("refusal");
    let id = refusal["query"]["query_id"].as_str().expect("query id text");
    let by_id = show_jsonl(&log, &["--query-id", id]);
    let id_bytes = all[refusal["index"].as_u64().expect("index") as usize]
        .query
        .as_ref()
        .expect("query")
        .query_id
        .clone();
    assert_eq!(
        indices(&by_id),
        expected(&log, |e| e.query.as_ref().is_some_and(|q| q.query_id == id_bytes))
    );
    assert!(by_id.iter().all(|v| v["query"]["query_id"] == id));

    // The dataset is named by the imports' reasons and the charged disclosure's budget.
    let ed = show_jsonl(&log, &["--dataset", "ed"]);
    let ed_events: Vec<&str> = ed.iter().map(|v| v["event"].as_str().expect("event")).collect();
    assert_eq!(ed_events, ["collection", "collection", "disclosure"], "{ed:?}");
    assert_eq!(ed[2]["budget"]["dataset"], "ed");
    assert!(show_jsonl(&log, &["--dataset", "e"]).is_empty());

    // Requester, purpose, lawful basis, time.
    let tester = show_jsonl(&log, &["--requester", "tester"]);
    assert_eq!(indices(&tester), [0, 1]);
    let purpose = show_jsonl(&log, &["--purpose", "svd-sna"]);
    assert_eq!(
        indices(&purpose),
        expected(&log, |e| e.query.as_ref().is_some_and(|q| q.purpose == "SVD-SNA"))
    );
    assert!(!purpose.is_empty());
    let basis = all.iter().find_map(|e| e.query.as_ref()?.lawful_basis.clone()).expect("basis");
    let with_basis = show_jsonl(&log, &["--lawful-basis", &basis.gateway.to_lowercase()]);
    assert_eq!(
        indices(&with_basis),
        expected(&log, |e| e
            .query
            .as_ref()
            .and_then(|q| q.lawful_basis.as_ref())
            .is_some_and(|l| l.gateway == basis.gateway))
    );
    assert!(show_jsonl(&log, &["--since", "2100-01-01"]).is_empty());
    assert!(show_jsonl(&log, &["--until", "1999-12-31"]).is_empty());
    assert_eq!(show_jsonl(&log, &["--since", "2000-01-01T00:00:00Z"]).len(), all.len());

    // CSV: a header, then one row per entry, the same columns as the table.
    let out = audit(&["show", "--log", utf8(&log), "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(header, fedlink_proto::audit::view::SUMMARY_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), all.len());
    for (row, entry) in rows.iter().zip(&all) {
        assert_eq!(row[0], entry.index.to_string());
    }
    // A copy (--log) cannot record the reading, and says so.
    assert!(String::from_utf8_lossy(&out.stderr).contains("not recorded"), "{}", text(&out));

    // The table: a header and one aligned line per entry.
    let out = audit(&["show", "--log", utf8(&log), "--decision", "denied"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + denied.len(), "{table}");
    assert!(lines[0].starts_with("index  time"), "{table}");
    let rule_at = lines[0].find("rule").expect("rule column");
    assert!(lines[1..].iter().any(|l| l[rule_at..].starts_with("policy.aggregate.columns")));

    // Bad filters are usage errors.
    for bad in [["--kind", "nonsense"], ["--since", "27/11/2025"], ["--query-id", "42"]] {
        let out = audit(&[&["show", "--log", utf8(&log)][..], &bad[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
}

/// A federation whose police node answered one describe, stopped; returns it and the log.
fn described_police() -> (TestFederation, PathBuf) {
    let fed = TestFederation::new();
    let mut node = fed.start_node("police");
    let config = fed.coordinator_config();
    let out = run(&["coordinator", "describe", "--config", utf8(&config)]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    assert!(node.stop());
    let log = fed.audit_log("police");
    (fed, log)
}

/// `audit verify --log PATH`, pinned to the federation file's key for police.
fn verify_pinned(fed: &TestFederation, path: &Path) -> std::process::Output {
    let federation = fed.dir.join("federation.toml");
    audit(&["verify", "--log", utf8(path), "--federation", utf8(&federation), "--member", "police"])
}

#[test]
fn an_export_through_the_config_is_logged_and_its_bundle_verifies_offline_pinned() {
    let (fed, log) = described_police();
    let size = audit_entries(&log).len() as u64;
    let bundle = fed.tmp.path().join("bundle");
    let config = fed.node_config("police");
    let out = audit(&[
        "export",
        "--config",
        utf8(&config),
        "--out",
        utf8(&bundle),
        "--operator",
        "auditor-7",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // The export was recorded first, as the next entry, and the bundle includes it.
    let shown = text(&out);
    assert!(shown.contains(&format!("recorded as entry {size}")), "{shown}");
    assert!(shown.contains(&format!("({} entries", size + 1)), "{shown}");
    for file in ["manifest.json", "entries.jsonl", "checkpoints.jsonl", "README.md", "log.vkey"] {
        assert!(bundle.join(file).is_file(), "{file}");
    }
    assert!(!bundle.join("payload.jsonl").exists());

    let verified = verify_pinned(&fed, &bundle);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains(&format!("OK — {} entries", size + 1)), "{}", text(&verified));
    assert!(text(&verified).contains("federation file's key"), "{}", text(&verified));
    // Pinned to another member's key, it fails.
    let federation = fed.dir.join("federation.toml");
    let wrong = audit(&[
        "verify",
        "--log",
        utf8(&bundle),
        "--federation",
        utf8(&federation),
        "--member",
        "icb",
    ]);
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));

    // `show --kind log-export` finds exactly that entry, with who exported.
    let exports = show_jsonl(&log, &["--kind", "log-export"]);
    assert_eq!(indices(&exports), [size]);
    assert_eq!(exports[0]["rule"], "audit.export");
    assert_eq!(exports[0]["actor"]["requester"]["officer_id"], "auditor-7");
    assert!(exports[0]["detail"].as_str().expect("detail").contains("command=export"));
    // The bundle shows the same entries as the file it came from.
    assert_eq!(show_jsonl(&bundle, &[]), show_jsonl(&log, &[]));

    // A show through the config is recorded too, after what it read.
    let out = audit(&[
        "show",
        "--config",
        utf8(&config),
        "--kind",
        "log-export",
        "--operator",
        "dpo",
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "{}", text(&out));
    let exports = show_jsonl(&log, &["--kind", "log-export"]);
    assert_eq!(indices(&exports), [size, size + 1]);
    assert_eq!(exports[1]["rule"], "audit.show");
    assert!(exports[1]["detail"].as_str().expect("detail").contains("--kind \"log-export\""));
    let after = fed.verify_log("police");
    assert!(after.status.success(), "{}", text(&after));

    // A bundle is never overwritten, and a bundle is not exported again.
    let again = audit(&["export", "--log", utf8(&log), "--out", utf8(&bundle)]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("not empty"), "{}", text(&again));
    let other = fed.tmp.path().join("other");
    let nested = audit(&["export", "--log", utf8(&bundle), "--out", utf8(&other)]);
    assert_eq!(nested.status.code(), Some(2), "{}", text(&nested));
    // An export that did not finish (no manifest) is not taken for a bundle.
    std::fs::remove_file(bundle.join("manifest.json")).expect("remove");
    let unfinished = verify_pinned(&fed, &bundle);
    assert_eq!(unfinished.status.code(), Some(1), "{}", text(&unfinished));
    assert!(text(&unfinished).contains("did not finish"), "{}", text(&unfinished));
}

/// Flips bit `mask` of byte `at` of `bytes`.
fn flipped(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[at] ^= mask;
    changed
}

/// Where a verification failure was located: `Entry(n)`, or `Checkpoint(size)`.
#[derive(Debug, PartialEq, Eq)]
enum Located {
    Entry(u64),
    Checkpoint(u64),
}

fn located(err: &VerifyError) -> Option<Located> {
    match err {
        VerifyError::Entry { index, .. } => Some(Located::Entry(*index)),
        VerifyError::Checkpoint { size, .. } => Some(Located::Checkpoint(*size)),
        _ => None,
    }
}

#[test]
fn a_one_byte_change_anywhere_is_located_in_the_live_log_and_in_its_bundle() {
    let (fed, log) = described_police();
    let entries = audit_entries(&log);
    assert_eq!(entries.len(), 3, "{entries:?}");
    let k: i64 = 1; // the entry changed; checkpoint k + 1 is the first that covers it
    let size = (k + 1) as u64;
    let conn = rusqlite::Connection::open(&log).expect("open");
    let bytes: Vec<u8> = conn
        .query_row("SELECT entry FROM log_entry WHERE idx = ?1", [k], |r| r.get(0))
        .expect("entry");
    let note: String = conn
        .query_row("SELECT note FROM checkpoint WHERE size = ?1", [k + 1], |r| r.get(0))
        .expect("note");
    drop(conn);
    let bundle = fed.tmp.path().join("bundle");
    let out = audit(&["export", "--log", utf8(&log), "--out", utf8(&bundle)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(verify_pinned(&fed, &bundle).status.success());

    // The live file: every byte of the entry, and every byte of the checkpoint note (its
    // body and its signature line), each restored before the next.
    let conn = rusqlite::Connection::open(&log).expect("open");
    conn.execute_batch("DROP TRIGGER log_entry_no_update; DROP TRIGGER checkpoint_no_update;")
        .expect("drop the append-only triggers, as a database administrator could");
    let set_entry = |value: &[u8]| {
        conn.execute("UPDATE log_entry SET entry = ?1 WHERE idx = ?2", rusqlite::params![value, k])
            .expect("update entry");
    };
    let set_note = |value: &[u8]| {
        let sql = "UPDATE checkpoint SET note = CAST(?1 AS TEXT) WHERE size = ?2";
        conn.execute(sql, rusqlite::params![value, k + 1]).expect("update note");
    };
    let signature_starts = note.rfind('\u{2014}').expect("signature line");
    for at in 0..bytes.len() {
        set_entry(&flipped(&bytes, at, 0x01));
        let err = verify_log(&log, None).expect_err("a changed entry fails");
        assert_eq!(located(&err), Some(Located::Entry(size - 1)), "byte {at}: {err}");
    }
    set_entry(&bytes);
    for at in 0..note.len() {
        set_note(&flipped(note.as_bytes(), at, 0x01));
        let err = verify_log(&log, None).expect_err("a changed note fails");
        assert_eq!(located(&err), Some(Located::Checkpoint(size)), "byte {at}: {err}");
        if at >= signature_starts {
            let signature_failed = matches!(
                err,
                VerifyError::Checkpoint { problem: CheckpointProblem::Signature(_), .. }
            );
            assert!(signature_failed, "byte {at}: {err}");
        }
    }
    set_note(note.as_bytes());
    assert!(verify_log(&log, None).is_ok());

    // And as the command line says it, for one entry byte and one signature byte.
    set_entry(&flipped(&bytes, 20, 0x20));
    let out = verify_pinned(&fed, &log);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("FAILED — entry {k}:")), "{}", text(&out));
    set_entry(&bytes);
    set_note(&flipped(note.as_bytes(), note.len() - 5, 0x20));
    let out = verify_pinned(&fed, &log);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("checkpoint at size {size}:")), "{}", text(&out));
    set_note(note.as_bytes());

    // The bundle: every byte of entry k's line in entries.jsonl (its bytes, leaf hash, index
    // and decoded view), and every byte of checkpoint k + 1's line in checkpoints.jsonl.
    let line_of = |file: &str, n: usize| -> (Vec<u8>, std::ops::Range<usize>) {
        let all = std::fs::read(bundle.join(file)).expect("read");
        let start: usize = all.split(|b| *b == b'\n').take(n).map(|l| l.len() + 1).sum();
        let len = all[start..].iter().position(|b| *b == b'\n').expect("line end");
        (all, start..start + len + 1) // with its newline
    };
    let (entries_file, entry_line) = line_of("entries.jsonl", k as usize);
    let (checkpoints_file, checkpoint_line) = line_of("checkpoints.jsonl", k as usize);
    let size_field = checkpoint_line.start.."{\"size\":N,".len() + checkpoint_line.start;
    for at in entry_line.clone() {
        std::fs::write(bundle.join("entries.jsonl"), flipped(&entries_file, at, 0x01))
            .expect("write");
        let err = verify_log(&bundle, None).expect_err("a changed entry line fails");
        assert_eq!(located(&err), Some(Located::Entry(size - 1)), "byte {at}: {err}");
    }
    std::fs::write(bundle.join("entries.jsonl"), &entries_file).expect("restore");
    for at in checkpoint_line.clone() {
        std::fs::write(bundle.join("checkpoints.jsonl"), flipped(&checkpoints_file, at, 0x01))
            .expect("write");
        let err = verify_log(&bundle, None).expect_err("a changed checkpoint line fails");
        if size_field.contains(&at) {
            // The size field itself changed: the line is named by the size it now claims,
            // or by its line number when it no longer says one.
            let by_line = format!("checkpoints.jsonl line {size}:");
            assert!(
                matches!(err, VerifyError::Checkpoint { .. }) || err.to_string().contains(&by_line),
                "byte {at}: {err}"
            );
        } else {
            assert_eq!(located(&err), Some(Located::Checkpoint(size)), "byte {at}: {err}");
        }
    }
    std::fs::write(bundle.join("checkpoints.jsonl"), &checkpoints_file).expect("restore");
    // As the command line says it.
    let signature_byte = checkpoint_line.end - 8;
    std::fs::write(bundle.join("checkpoints.jsonl"), flipped(&checkpoints_file, signature_byte, 1))
        .expect("write");
    let out = verify_pinned(&fed, &bundle);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("checkpoint at size {size}:")), "{}", text(&out));
    std::fs::write(bundle.join("checkpoints.jsonl"), &checkpoints_file).expect("restore");
    let in_bytes = entry_line.start
        + entries_file[entry_line.clone()]
            .windows(9)
            .position(|w| w == b"\"bytes\":\"")
            .expect("bytes field")
        + 20;
    std::fs::write(bundle.join("entries.jsonl"), flipped(&entries_file, in_bytes, 1))
        .expect("write");
    let out = verify_pinned(&fed, &bundle);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("FAILED — entry {k}:")), "{}", text(&out));
    std::fs::write(bundle.join("entries.jsonl"), &entries_file).expect("restore");
    assert!(verify_pinned(&fed, &bundle).status.success());
}

#[test]
fn the_help_says_what_is_logged_and_what_a_bundle_holds() {
    let help = |sub: &str| {
        let out = audit(&[sub, "--help"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let show = help("show");
    for said in ["LOG_EXPORT", "it cannot be", "--lawful-basis", "log-export", "jsonl", "--dataset"]
    {
        assert!(show.contains(said), "{said}: {show}");
    }
    let export = help("export");
    for said in ["manifest.json", "written last", "payload", "never overwritten", "LOG_EXPORT"] {
        assert!(export.contains(said), "{said}: {export}");
    }
    assert!(help("verify").contains("export bundle"));
}
