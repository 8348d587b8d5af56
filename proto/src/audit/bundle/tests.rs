use std::sync::Arc;

use super::*;
use crate::audit::budget::BudgetLimits;
use crate::audit::store::AuditLog;
use crate::audit::verify::{LedgerProblem, verify_log};
use crate::clock::{MockClock, UnixMillis};
use crate::identity::IdentityKey;
use crate::pb;

const LIMITS: BudgetLimits =
    BudgetLimits { coordinator_micro: 3_000_000, requester_micro: 2_000_000 };

/// A closed log of seven entries, two of them charged, with one witness cosignature.
fn sample_log(dir: &Path) -> (PathBuf, PublicKey) {
    let path = dir.join("audit.db");
    let key = IdentityKey::generate().expect("key");
    let public = key.public_key();
    let clock = Arc::new(MockClock::new(UnixMillis(1_764_201_600_000)));
    let mut log =
        AuditLog::open(&path, "fedlink.audit/unit/icb", key, clock.clone()).expect("open");
    for i in 0..7u64 {
        clock.advance_ms(1_000);
        let entry = pb::AuditEntry {
            event_type: pb::EventType::Disclosure as i32,
            decision: pb::Decision::Allowed as i32,
            rule: format!("rule-{i}"),
            ..Default::default()
        };
        if i % 3 == 1 {
            let budget = pb::BudgetCharge {
                coordinator: "coordinator".into(),
                requester: "4821@DEMO-POLICE".into(),
                dataset: "ed".into(),
                period: "2025/26".into(),
                epsilon_micro: 500_000,
            };
            log.append_charged(pb::AuditEntry { budget: Some(budget), ..entry }, &LIMITS)
                .expect("charged");
        } else {
            log.append(entry, None).expect("append");
        }
    }
    drop(log);
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute(
        "INSERT INTO cosignature (size, witness, line, received_ms) VALUES (5, 'dpo', '— dpo abc=', 1)",
        [],
    )
    .expect("cosignature");
    (path, public)
}

fn exported() -> (tempfile::TempDir, PathBuf, PathBuf, PublicKey) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, key) = sample_log(dir.path());
    let bundle = dir.path().join("bundle");
    write_bundle(&log, &bundle, 1_764_300_000_000).expect("export");
    (dir, log, bundle, key)
}

fn edit(bundle: &Path, file: &str, change: impl Fn(&str) -> String) {
    let path = bundle.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, change(&text)).expect("write");
}

#[test]
fn a_bundle_verifies_exactly_as_the_file_it_came_from() {
    let (_dir, log, bundle, key) = exported();
    let from_file = verify_log(&log, Some(&key)).expect("file verifies");
    let from_bundle = verify_log(&bundle, Some(&key)).expect("bundle verifies");
    assert_eq!(from_bundle, from_file);
    assert_eq!(from_bundle.size, 7);
    assert_eq!(from_bundle.ledger.charges, 2);
    assert_eq!(from_bundle.ledger.balances, Some(2));

    let mut source = BundleSource::open(&bundle).expect("open");
    let m = source.manifest();
    assert_eq!(m.format, BUNDLE_FORMAT);
    assert_eq!(m.origin, "fedlink.audit/unit/icb");
    assert_eq!(m.size, 7);
    assert_eq!(m.public_key, key.to_base64());
    assert_eq!(m.exported_at, "2025-11-28T03:20:00.000Z");
    assert_eq!(
        m.counts,
        BundleCounts { entries: 7, checkpoints: 7, cosignatures: 1, budget_balances: Some(2) }
    );
    let vkey = std::fs::read_to_string(bundle.join(VKEY)).expect("vkey");
    assert_eq!(vkey.trim_end(), m.vkey);
    assert_eq!(NoteVerifier::from_vkey(&m.vkey).expect("vkey").key(), &key);
    let cosignatures = source.cosignatures().expect("cosignatures");
    assert_eq!(cosignatures.len(), 1);
    assert_eq!((cosignatures[0].size, cosignatures[0].witness.as_str()), (5, "dpo"));
    assert_eq!(std::fs::read_to_string(bundle.join(README)).expect("readme"), BUNDLE_README);
    // The subject tables are never exported.
    let names: Vec<String> = std::fs::read_dir(&bundle)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("payload") && !n.ends_with(".partial")), "{names:?}");
}

#[test]
fn the_exact_bytes_are_exported_and_the_view_beside_them_is_checked() {
    let (_dir, log, bundle, _key) = exported();
    let conn = rusqlite::Connection::open(&log).expect("open");
    let stored: Vec<u8> = conn
        .query_row("SELECT entry FROM log_entry WHERE idx = 3", [], |r| r.get(0))
        .expect("entry");
    let text = std::fs::read_to_string(bundle.join(ENTRIES)).expect("read");
    let line: EntryLine = serde_json::from_str(text.lines().nth(3).expect("line 4")).expect("json");
    assert_eq!(BASE64.decode(&line.bytes).expect("base64"), stored);
    assert_eq!(line.view.as_ref().expect("view")["rule"], "rule-3");

    edit(&bundle, ENTRIES, |t| t.replacen("\"rule\":\"rule-3\"", "\"rule\":\"rule-9\"", 1));
    let err = verify_log(&bundle, None).expect_err("an edited view fails");
    let VerifyError::Entry { index: 3, problem: EntryProblem::ViewMismatch { field } } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(field, "/rule");
}

#[test]
fn an_edited_manifest_balance_or_checkpoint_order_is_named() {
    let (_dir, _log, bundle, key) = exported();
    let original = |file: &str| std::fs::read(bundle.join(file)).expect("read");
    let (manifest, balances, checkpoints) =
        (original(MANIFEST), original(BALANCES), original(CHECKPOINTS));
    let restore = |file: &str, bytes: &[u8]| std::fs::write(bundle.join(file), bytes).expect("w");

    edit(&bundle, MANIFEST, |t| t.replace("\"size\": 7", "\"size\": 6"));
    let err = verify_log(&bundle, Some(&key)).expect_err("a wrong size fails");
    assert!(matches!(&err, VerifyError::Bundle(BundleError::Manifest { .. })), "{err}");
    assert!(err.to_string().contains("it says 6 entries"), "{err}");
    restore(MANIFEST, &manifest);

    edit(&bundle, BALANCES, |t| t.replacen("\"spent_micro\":1000000", "\"spent_micro\":500000", 1));
    let err = verify_log(&bundle, Some(&key)).expect_err("a lowered balance fails");
    assert!(matches!(err, VerifyError::Ledger(LedgerProblem::Mismatch { .. })), "{err}");
    restore(BALANCES, &balances);

    edit(&bundle, CHECKPOINTS, |t| {
        let mut lines: Vec<&str> = t.lines().collect();
        lines.swap(2, 3);
        lines.join("\n") + "\n"
    });
    let err = verify_log(&bundle, Some(&key)).expect_err("reordered checkpoints fail");
    let VerifyError::Checkpoint {
        size: 3,
        problem: CheckpointProblem::OutOfOrder { previous: 4 },
        ..
    } = &err
    else {
        panic!("{err}");
    };
    restore(CHECKPOINTS, &checkpoints);

    // A truncated checkpoints file leaves the last entries unsigned.
    edit(&bundle, CHECKPOINTS, |t| t.lines().take(5).map(|l| format!("{l}\n")).collect());
    let err = verify_log(&bundle, Some(&key)).expect_err("missing checkpoints fail");
    assert!(
        matches!(err, VerifyError::Entry { index: 5, problem: EntryProblem::NotSigned { .. } }),
        "{err}"
    );
    restore(CHECKPOINTS, &checkpoints);

    // A dropped cosignature is counted missing.
    let cosignatures = original(COSIGNATURES);
    std::fs::write(bundle.join(COSIGNATURES), "").expect("empty");
    let err = verify_log(&bundle, Some(&key)).expect_err("a dropped cosignature fails");
    assert!(err.to_string().contains("it counts 1 cosignatures"), "{err}");
    restore(COSIGNATURES, &cosignatures);

    verify_log(&bundle, Some(&key)).expect("restored, it verifies again");
}

#[test]
fn an_export_never_overwrites_and_an_unfinished_one_is_not_a_bundle() {
    let (dir, log, bundle, _key) = exported();
    let again = write_bundle(&log, &bundle, 0).expect_err("refuses a non-empty folder");
    assert!(matches!(again, BundleError::NotEmpty { .. }), "{again}");
    // An existing empty folder is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    write_bundle(&log, &empty, 0).expect("exports into an empty folder");

    std::fs::remove_file(bundle.join(MANIFEST)).expect("remove");
    let err = verify_log(&bundle, None).expect_err("no manifest");
    assert!(matches!(err, VerifyError::NotAnAuditLog { .. }), "{err}");
    assert!(err.to_string().contains("did not finish"), "{err}");
}

#[test]
fn a_damaged_checkpoint_line_is_named_by_the_size_it_still_shows() {
    assert_eq!(leading_size("{\"size\":12,\"root\":\"ab\""), Some(12));
    assert_eq!(leading_size("z\"size\":12,\"root\":\"ab\""), Some(12));
    assert_eq!(leading_size("{\"size\":1\u{2}2,\"root\""), None);
    assert_eq!(leading_size("{\"sizf\":12,"), None);
}
