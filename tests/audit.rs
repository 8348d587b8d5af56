//! The audit log under attack: a one-byte change to a stored entry is found and named, whether
//! or not the attacker also recomputes the stored hashes.

use crate::util::{TestFederation, run, text};

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
fn flip_byte(log: &std::path::Path, index: i64) {
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
