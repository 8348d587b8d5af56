//! Subject search and payload retention end to end (issue 7 items 4 and 5): two linked counts
//! whose police sides differ, so a chosen person is in one only; `fedlink node audit subject`
//! finds exactly the entries that concerned them, by NHS number and by name and date of birth,
//! and logs itself; `fedlink node audit erase` erases the payloads whose retention ended, the
//! log still verifies, and a changed payload fails verification naming its entry.
//!
//! The data and policies are `tests/link.rs`'s: police death reports (the cohort) and ICB ED
//! attendances (the partner). The first query's police side is study = untimed (D01–D08, with
//! Alice Archer), the second's study = window (W01–W11, with Hana Hill); the ICB's side is its
//! whole dataset both times, so Alice is on the ICB's side of both.

use std::path::Path;

use fedlink_proto::pb;
use serde_json::Value as Json;

use crate::link::{entries_for, flag_back, json_of, link, nhs, setup};
use crate::util::{TestFederation, audit_entries, last_entry, run, text};

/// A count over the two nodes' datasets with the police side's `study`.
fn count(study: &str) -> String {
    format!(
        r#"title = "subjects {study}"
kind = "count"
purpose = "HMICFRS-R2-DEATH-ANALYSIS"
unit = "person"
key_types = ["nhs", "name_dob"]

[[side]]
member = "police"
dataset = "deaths"
role = "cohort"
filter = ["study={study}"]

[[side]]
member = "icb"
dataset = "ed"
"#
    )
}

/// Runs a count that must succeed; returns its query id.
fn run_count(fed: &TestFederation, study: &str) -> String {
    let out = link(fed, study, &count(study));
    assert!(out.status.success(), "{study}: {}", text(&out));
    json_of(&out)["query_id"].as_str().expect("query id").to_string()
}

/// `fedlink node audit subject --config … ARGS --format jsonl --reason REASON --operator
/// dpo-7`: the entries found, and the whole output for messages.
fn search(fed: &TestFederation, node: &str, args: &[&str], reason: &str) -> (Vec<Json>, String) {
    let config = fed.node_config(node);
    let mut all = vec!["node", "audit", "subject", "--config", config.to_str().expect("utf8")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "jsonl", "--reason", reason, "--operator", "dpo-7"]);
    let out = run(&all);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let found = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (found, shown)
}

fn indices(found: &[Json]) -> Vec<u64> {
    found.iter().map(|e| e["index"].as_u64().expect("index")).collect()
}

/// The entries of a query at a node that carry a payload (subject tokens).
fn with_payload(fed: &TestFederation, node: &str, query_id: &str) -> Vec<u64> {
    entries_for(fed, node, query_id)
        .iter()
        .filter(|e| !e.payload_commitment.is_empty())
        .map(|e| e.index)
        .collect()
}

fn count_rows(log: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(log).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn subject_search_finds_exactly_the_entries_concerning_the_subject_and_is_logged() {
    let fed = setup();
    // Police erase payloads at the first sweep; the ICB keeps the default 730 days.
    let policy = fed.member_dir("police").join("policy.toml");
    let text_of = std::fs::read_to_string(&policy).expect("policy");
    std::fs::write(&policy, format!("{text_of}\n[audit]\npayload_retention_days = 0\n"))
        .expect("write policy");
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");

    let untimed = run_count(&fed, "untimed");
    let window = run_count(&fed, "window");
    let alice_m1 = with_payload(&fed, "police", &untimed);
    let hana_m1 = with_payload(&fed, "police", &window);
    assert_eq!(alice_m1.len(), 1, "one police entry per query names its side (M1)");
    assert_eq!(hana_m1.len(), 1);
    let icb_m2 = [with_payload(&fed, "icb", &untimed), with_payload(&fed, "icb", &window)].concat();
    assert_eq!(icb_m2.len(), 2, "one ICB entry per query names its side (M2)");
    for entry in audit_entries(&fed.audit_log("police")) {
        assert_eq!(entry.subject_count, 0, "the entry never says how many people a side had");
    }

    // Alice (D01) is in the untimed side only: by NHS number, exactly its M1 entry.
    let alice_nhs = nhs(1);
    let (found, shown) =
        search(&fed, "police", &["--nhs-number", &alice_nhs], "SAR 2026-0141 (Alice Archer)");
    assert_eq!(indices(&found), alice_m1, "{shown}");
    assert_eq!(found[0]["query_id"], untimed.as_str(), "{shown}");
    assert_eq!(found[0]["event"], "disclosure");
    assert_eq!(found[0]["mode"], "linked_count");
    assert_eq!(found[0]["purpose"], "HMICFRS-R2-DEATH-ANALYSIS");
    assert_eq!(found[0]["decision"], "allowed");
    assert!(shown.contains("1 entries found"), "{shown}");

    // The search was logged first, with the operator and the reason, and holds a payload
    // (the searched token), never the number.
    let logged = last_entry(&fed.audit_log("police"));
    assert_eq!(logged.event_type, pb::EventType::LogExport as i32);
    assert_eq!(logged.reason, "SAR 2026-0141 (Alice Archer)");
    let requester = logged.actor.as_ref().and_then(|a| a.requester.as_ref()).expect("operator");
    assert_eq!(requester.officer_id, "dpo-7");
    assert!(logged.detail.contains("subject search by NHS number: 1 entries found"), "{logged:?}");
    assert!(!logged.payload_commitment.is_empty());
    let log_files =
        ["", "-wal"].map(|suffix| format!("{}{suffix}", fed.audit_log("police").display()));
    let number = alice_nhs.as_bytes();
    for file in log_files {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!bytes.windows(number.len()).any(|w| w == number), "an NHS number in {file}");
    }
    assert!(shown.contains(&format!("logged as entry {}", logged.index)), "{shown}");

    // By name and date of birth, typed the other way round and in other cases: the same entry.
    let (found, shown) = search(
        &fed,
        "police",
        &["--name", "ARCHER, alice", "--dob", "1970-01-01"],
        "SAR 2026-0141 by name",
    );
    assert_eq!(indices(&found), alice_m1, "{shown}");

    // Hana (W01) is in the window side only: the other query's entry, not the first's.
    let (found, shown) =
        search(&fed, "police", &["--name", "Hana Hill", "--dob", "1980-01-01"], "x");
    assert_eq!(indices(&found), hana_m1, "{shown}");
    assert_eq!(found[0]["query_id"], window.as_str());

    // At the ICB Alice is on its side of both queries: both M2 entries.
    let (found, shown) = search(&fed, "icb", &["--nhs-number", &alice_nhs], "SAR at the ICB");
    assert_eq!(indices(&found), icb_m2, "{shown}");

    // Someone no node holds: nothing, and the search is still logged.
    let before = audit_entries(&fed.audit_log("police")).len();
    let (found, shown) = search(&fed, "police", &["--nhs-number", &nhs(900)], "misuse inquiry");
    assert!(found.is_empty(), "{shown}");
    assert_eq!(audit_entries(&fed.audit_log("police")).len(), before + 1);

    assert!(police.stop());
    assert!(icb.stop());

    // Retention: the police payloads are due (0 days); the ICB's are not (730 days).
    let police_payloads =
        count_rows(&fed.audit_log("police"), "SELECT count(*) FROM payload WHERE body IS NOT NULL");
    assert_eq!(police_payloads, 2 + 4, "two M1 sides and four searches");
    let erase = |node: &str| {
        let config = fed.node_config(node);
        let out = run(&[
            "node",
            "audit",
            "erase",
            "--config",
            config.to_str().expect("utf8"),
            "--operator",
            "dpo-7",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let said = erase("icb");
    assert!(said.contains("nothing erased"), "{said}");
    let said = erase("police");
    let erasure = last_entry(&fed.audit_log("police"));
    assert_eq!(erasure.event_type, pb::EventType::Erasure as i32);
    let first = alice_m1[0].min(hana_m1[0]);
    assert!(
        erasure.detail.contains(&format!("of 6 entries from entry {first} to entry")),
        "{}",
        erasure.detail
    );
    assert!(said.contains(&format!("logged as entry {}", erasure.index)), "{said}");

    let log = fed.audit_log("police");
    assert_eq!(count_rows(&log, "SELECT count(*) FROM payload WHERE body IS NOT NULL"), 0);
    assert_eq!(count_rows(&log, "SELECT count(*) FROM payload WHERE erased_ms IS NOT NULL"), 6);
    assert_eq!(count_rows(&log, "SELECT count(*) FROM payload_subject"), 0, "index rows gone");
    let out = fed.verify_log("police");
    assert!(out.status.success(), "an erased payload still verifies: {}", text(&out));

    // An erased payload cannot be searched, and the search says so.
    let (found, shown) = search(&fed, "police", &["--nhs-number", &alice_nhs], "after erasure");
    assert!(found.is_empty(), "{shown}");
    assert!(shown.contains("6 entries in that range had their payload erased"), "{shown}");

    // A changed payload that is still there fails verification, naming its entry.
    let icb_log = fed.audit_log("icb");
    assert!(fed.verify_log("icb").status.success());
    let target = icb_m2[1];
    let row = i64::try_from(target).expect("small");
    let conn = rusqlite::Connection::open(&icb_log).expect("open");
    let mut body: Vec<u8> = conn
        .query_row("SELECT body FROM payload WHERE idx = ?1", [row], |r| r.get(0))
        .expect("body");
    body[5] ^= 0x01;
    conn.execute("UPDATE payload SET body = ?1 WHERE idx = ?2", rusqlite::params![body, row])
        .expect("tamper");
    drop(conn);
    let out = fed.verify_log("icb");
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains(&format!("entry {target}'s payload")), "{shown}");
    assert!(shown.contains("not the one the entry commits to"), "{shown}");
}

#[test]
fn a_flag_back_names_its_cohort_at_the_release_and_the_partner_its_side() {
    let fed = setup();
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");
    let out = flag_back(&fed, "OP-SUBJECT-0001", &["approve", "--approver", "Insp Tester"]);
    assert!(out.status.success(), "{}", text(&out));
    let query_id = json_of(&out)["query_id"].as_str().expect("query id").to_string();

    // Police: the M1 entry and the entry releasing the flags (every cohort row gets one) both
    // name Alice; nothing else does.
    let at_police = entries_for(&fed, "police", &query_id);
    let named: Vec<&pb::AuditEntry> =
        at_police.iter().filter(|e| !e.payload_commitment.is_empty()).collect();
    let classes: Vec<&str> =
        named.iter().map(|e| e.output.as_ref().map_or("", |o| o.output_class.as_str())).collect();
    assert_eq!(classes, ["LINKAGE_BLINDED", "FLAG_BACK"], "{at_police:#?}");
    let (found, shown) = search(&fed, "police", &["--nhs-number", &nhs(1)], "case review audit");
    assert_eq!(indices(&found), named.iter().map(|e| e.index).collect::<Vec<_>>(), "{shown}");
    assert!(found.iter().all(|e| e["mode"] == "flag_back"), "{shown}");

    // ICB: its M2 entry names its side; its flags entry names no one (it cannot tell which of
    // its own people matched).
    let at_icb = entries_for(&fed, "icb", &query_id);
    let named: Vec<u64> =
        at_icb.iter().filter(|e| !e.payload_commitment.is_empty()).map(|e| e.index).collect();
    assert_eq!(named.len(), 1, "{at_icb:#?}");
    let (found, shown) =
        search(&fed, "icb", &["--name", "Alice Archer", "--dob", "1970-01-01"], "x");
    assert_eq!(indices(&found), named, "{shown}");
    assert!(police.stop());
    assert!(icb.stop());
    for node in ["police", "icb"] {
        let out = fed.verify_log(node);
        assert!(out.status.success(), "{}", text(&out));
    }
}
