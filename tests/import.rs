//! Importing extracts: validation, quarantine with reasons, reconciliation, idempotent
//! re-import, unusable files refused, and every import logged as a COLLECTION event.

use std::path::{Path, PathBuf};

use fedlink_proto::pb;

use crate::util::{TestFederation, audit_entries, run, text};

const SCHEMA: &str = r#"
name = "ed"
description = "ED attendances (test)"
subject = "person"
invalid_nhs_number = "quarantine"

[[column]]
name = "EC_Ident"
role = "record_id"

[[column]]
name = "NHS_Number"
role = "nhs_number"

[[column]]
name = "Given"
role = "forenames"

[[column]]
name = "Family"
role = "surname"

[[column]]
name = "DOB"
role = "dob"

[[column]]
name = "Postcode"
role = "postcode"

[[column]]
name = "Arrival"
role = "event_datetime"

[[column]]
name = "Intent"
role = "category"
codes = ["assault", "self_harm", "accident"]
"#;

const HEADER: &str = "EC_Ident,NHS_Number,Given,Family,DOB,Postcode,Arrival,Intent\n";

/// Good rows, then one broken row of every kind.
fn extract() -> Vec<u8> {
    let mut csv = HEADER.as_bytes().to_vec();
    let rows = [
        "E1,943 476 5919,John,Smith,1980-01-02,CH1 2AB,2025-05-01 22:10,assault",
        "E2,,Mary,O'Brien,02/03/1975,ch12ab,2025-05-02 01:00,self_harm",
        "E3,,UNKNOWN,Jones,1900-01-01,ZZ99 3VZ,2025-05-03 12:00,accident",
        "E4,9434765918,Bad,Check,1990-01-01,CH1 2AB,2025-05-04 12:00,assault", // bad check digit
        "E5,,Impossible,Date,2023-02-29,CH1 2AB,2025-05-05 12:00,assault",     // impossible date
        "E6,,Too,Few,1990-01-01,CH1 2AB",                                      // wrong column count
        "E8,,Dup,Licate,1990-01-01,CH1 2AB,2025-05-08 12:00,assault",
        "E8,,Dup,Changed,1990-01-01,CH1 2AB,2025-05-08 12:00,assault", // duplicate id, changed
        "E9,,Odd,Code,1990-01-01,CH1 2AB,2025-05-09 12:00,fell_over",  // not in the code list
    ];
    for row in rows {
        csv.extend_from_slice(row.as_bytes());
        csv.push(b'\n');
    }
    // Bad encoding: Latin-1 bytes in a name.
    csv.extend_from_slice(b"E7,,Jos\xe9,Garc\xeda,1990-01-01,CH1 2AB,2025-05-07 12:00,assault\n");
    csv
}

fn setup(fed: &TestFederation) -> PathBuf {
    let dir = fed.member_dir("icb");
    std::fs::create_dir_all(dir.join("datasets")).expect("mkdir");
    std::fs::write(dir.join("datasets/ed.toml"), SCHEMA).expect("schema");
    let config = fed.node_config("icb");
    let mut text = std::fs::read_to_string(&config).expect("read");
    text.push_str("\n[[dataset]]\nschema = \"datasets/ed.toml\"\n");
    std::fs::write(&config, text).expect("write");
    let file = dir.join("ed.csv");
    std::fs::write(&file, extract()).expect("csv");
    file
}

fn import(fed: &TestFederation, file: &Path) -> std::process::Output {
    run(&[
        "node",
        "import",
        "--config",
        fed.node_config("icb").to_str().expect("utf8"),
        "--dataset",
        "ed",
        "--operator",
        "tester",
        file.to_str().expect("utf8"),
    ])
}

/// The number after `label` on its line of the summary.
fn count(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.trim_start()[label.len()..].split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in {summary}"))
}

#[test]
fn broken_rows_go_to_quarantine_with_reasons_and_counts_reconcile() {
    let fed = TestFederation::new();
    let file = setup(&fed);
    let out = import(&fed, &file);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(count(&summary, "rows read"), 10, "{summary}");
    assert_eq!(count(&summary, "accepted"), 4, "{summary}");
    assert_eq!(count(&summary, "quarantined"), 6, "{summary}");
    for kind in [
        "nhs_number: e.g. NHS number",
        "impossible_date",
        "wrong_field_count: e.g. expected 8 fields, found 6",
        "duplicate_record_id",
        "not_utf8",
        "not_in_code_list",
    ] {
        assert!(summary.contains(kind), "{kind} missing from {summary}");
    }
    assert!(summary.contains("placeholder"), "{summary}");
    assert!(summary.contains("reconciled: 10 = 4 + 0 + 0 + 6"), "{summary}");

    // The quarantine table holds each refused row with its line and reason.
    let db = fed.member_dir("icb").join("data/datasets.db");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let lines: Vec<(i64, String)> = conn
        .prepare("SELECT line, kind FROM quarantine ORDER BY line")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        lines,
        vec![
            (5, "nhs_number".to_string()),
            (6, "impossible_date".into()),
            (7, "wrong_field_count".into()),
            (9, "duplicate_record_id".into()),
            (10, "not_in_code_list".into()),
            (11, "not_utf8".into()),
        ]
    );
    // Nothing is lost: the duplicate's raw row is kept whole, like every other refused row.
    let raw: Vec<u8> = conn
        .query_row("SELECT raw FROM quarantine WHERE kind = 'duplicate_record_id'", [], |r| {
            r.get(0)
        })
        .expect("duplicate");
    assert_eq!(raw, b"E8,,Dup,Changed,1990-01-01,CH1 2AB,2025-05-08 12:00,assault".to_vec());
    // Normalised values are stored; placeholders are not.
    let (postcode, surname): (String, String) = conn
        .query_row("SELECT postcode, surname FROM ds_ed WHERE record_id = 'E2'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("E2");
    assert_eq!(postcode, "CH1 2AB");
    assert_eq!(surname, "OBRIEN");
    let (fore, pcd, dob): (Option<String>, Option<String>, Option<String>) = conn
        .query_row("SELECT forenames, postcode, dob FROM ds_ed WHERE record_id = 'E3'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("E3");
    assert_eq!((fore, pcd, dob), (None, None, None));

    // Each import is two COLLECTION entries, and the log verifies.
    let entries = audit_entries(&fed.audit_log("icb"));
    let collections: Vec<&pb::AuditEntry> =
        entries.iter().filter(|e| e.event_type == pb::EventType::Collection as i32).collect();
    assert_eq!(collections.len(), 2);
    assert!(collections[1].detail.contains("rows_read=10"), "{:?}", collections[1]);
    assert!(fed.verify_log("icb").status.success());
}

#[test]
fn reimport_is_idempotent_and_a_changed_row_replaces_its_earlier_version() {
    let fed = TestFederation::new();
    let file = setup(&fed);
    assert!(import(&fed, &file).status.success());

    let again = import(&fed, &file);
    let summary = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(count(&summary, "accepted"), 0, "{summary}");
    assert_eq!(count(&summary, "unchanged"), 4, "{summary}");
    assert_eq!(count(&summary, "quarantined"), 6, "{summary}");

    let changed = String::from_utf8_lossy(&extract()).replace("John,Smith", "Jon,Smith");
    std::fs::write(&file, changed.as_bytes()).expect("write");
    // The Latin-1 row was lossily rewritten; it is now valid UTF-8 (and a new good row).
    let third = import(&fed, &file);
    let summary = String::from_utf8_lossy(&third.stdout).to_string();
    assert!(summary.contains("(1 new, 1 replaced)"), "{summary}");
    assert_eq!(count(&summary, "unchanged"), 3, "{summary}");
    let conn =
        rusqlite::Connection::open(fed.member_dir("icb").join("data/datasets.db")).expect("open");
    let (forenames, rows): (String, i64) = conn
        .query_row(
            "SELECT (SELECT forenames FROM ds_ed WHERE record_id = 'E1'), count(*) FROM ds_ed",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("query");
    assert_eq!((forenames.as_str(), rows), ("JON", 5));
}

#[test]
fn an_unusable_file_is_refused_saying_what_was_expected() {
    let fed = TestFederation::new();
    let file = setup(&fed);
    std::fs::write(&file, "EC_Ident,NHS_Number,Given\nE1,,John\n").expect("write");
    let out = import(&fed, &file);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("lacks column(s)"), "{shown}");
    assert!(shown.contains("Family"), "{shown}");

    let mut utf16 = vec![0xff, 0xfe];
    for unit in HEADER.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(&file, utf16).expect("write");
    let out = import(&fed, &file);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not UTF-8"), "{}", text(&out));

    let out = run(&[
        "node",
        "import",
        "--config",
        fed.node_config("icb").to_str().expect("utf8"),
        "--dataset",
        "nope",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not configured on this node"), "{}", text(&out));
}

#[test]
fn describe_lists_datasets_with_row_counts() {
    let fed = TestFederation::new();
    let file = setup(&fed);
    assert!(import(&fed, &file).status.success());
    let _node = fed.start_node("icb");
    let out = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("icb datasets: ed (4 rows)"),
        "{}",
        text(&out)
    );
}

#[test]
fn importing_while_the_node_serves_keeps_one_consistent_log() {
    let fed = TestFederation::new();
    let file = setup(&fed);
    let mut node = fed.start_node("icb");
    let describe = || {
        run(&[
            "coordinator",
            "describe",
            "--config",
            fed.coordinator_config().to_str().expect("utf8"),
        ])
    };
    let before = describe();
    assert!(
        String::from_utf8_lossy(&before.stdout).contains("icb datasets: ed (0 rows)"),
        "{}",
        text(&before)
    );
    // The import (another process) appends to the same log the serving node appends to.
    assert!(import(&fed, &file).status.success());
    let after = describe();
    let shown = text(&after);
    assert!(shown.contains("icb datasets: ed (4 rows)"), "{shown}");
    // The coordinator's receipt proves the log it saw before is a prefix of the log now.
    let row = String::from_utf8_lossy(&after.stdout)
        .lines()
        .find(|l| l.starts_with("icb "))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(row.contains("verified @"), "{shown}");
    assert!(node.stop());
    assert!(fed.verify_log("icb").status.success());
}
