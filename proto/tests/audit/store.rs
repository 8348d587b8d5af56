//! The SQLite store end to end: appends, receipts checked the way the coordinator checks them,
//! replay claims, reopening, key and origin mismatches, and the append-only triggers.

use std::sync::Arc;

use fedlink_proto::audit::checkpoint::open_checkpoint;
use fedlink_proto::audit::merkle::{Hash, empty_root, leaf_hash};
use fedlink_proto::audit::proof::{hashes_from_bytes, verify_consistency, verify_inclusion};
use fedlink_proto::audit::store::{AuditLog, StoreError, decode_entry};
use fedlink_proto::clock::{Clock as _, MockClock, UnixMillis};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;

use crate::util::{ORIGIN, SEED, entry, fill, identity_from_seed, open_log};

/// Checks a receipt as a coordinator would, given the root it holds for `from` entries.
fn check_receipt(log: &AuditLog, receipt: &pb::Receipt, from_root: &Hash) -> u64 {
    let cp = open_checkpoint(&receipt.checkpoint, &log.verifier()).expect("checkpoint opens");
    assert_eq!(cp.origin, ORIGIN);
    let inclusion = hashes_from_bytes(&receipt.inclusion_proof).expect("proof bytes");
    verify_inclusion(receipt.leaf_index, cp.size, &leaf_hash(&receipt.entry), &inclusion, &cp.root)
        .expect("inclusion");
    let consistency = hashes_from_bytes(&receipt.consistency_proof).expect("proof bytes");
    verify_consistency(receipt.consistency_from, cp.size, from_root, &cp.root, &consistency)
        .expect("consistency");
    let e = decode_entry(&receipt.entry).expect("entry decodes");
    assert_eq!(e.index, receipt.leaf_index);
    assert_eq!(e.origin, ORIGIN);
    cp.size
}

#[test]
fn appends_produce_signed_checkpoints_and_canonical_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, _) = open_log(dir.path());
    assert_eq!(log.size(), 0);
    assert_eq!(log.latest_checkpoint().expect("read"), None);
    for i in 0..5u64 {
        clock.advance_ms(250);
        let mut e = entry("policy");
        e.origin = "forged origin is overwritten".into();
        e.index = 999;
        let a = log.append(e, None).expect("append");
        assert_eq!((a.index, a.size), (i, i + 1));
        let decoded = decode_entry(&a.entry_bytes).expect("decode");
        assert_eq!(decoded.origin, ORIGIN);
        assert_eq!(decoded.index, i);
        assert_eq!(decoded.time_ms, clock.now().0);
        let cp = open_checkpoint(&a.checkpoint, &log.verifier()).expect("opens");
        assert_eq!((cp.size, cp.root), (a.size, a.root));
        assert_eq!(log.latest_checkpoint().expect("read"), Some((a.size, a.root, a.checkpoint)));
        assert_eq!(log.entry(i).expect("entry"), a.entry_bytes);
    }
    assert_eq!(log.size(), 5);
    let all = log.entries().expect("entries");
    assert_eq!(all.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert!(matches!(log.entry(5), Err(StoreError::IndexOutOfRange { index: 5, size: 5 })));
}

#[test]
fn receipts_verify_from_every_earlier_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, _) = open_log(dir.path());
    fill(&mut log, &clock, 13);
    for index in 0..13u64 {
        for from in [0, 1, index, index + 1, 12, 13] {
            let from_root = match from {
                0 => empty_root(),
                n => log.checkpoint_at(n).expect("read").expect("checkpoint").0,
            };
            let receipt = log.receipt(index, from).expect("receipt");
            assert_eq!(receipt.consistency_from, from);
            assert_eq!(check_receipt(&log, &receipt, &from_root), 13, "index {index} from {from}");
        }
    }
    // A receipt must not verify against a root the log never had at that size.
    let receipt = log.receipt(3, 5).expect("receipt");
    let wrong = log.checkpoint_at(6).expect("read").expect("checkpoint").0;
    let cp = open_checkpoint(&receipt.checkpoint, &log.verifier()).expect("opens");
    let proof = hashes_from_bytes(&receipt.consistency_proof).expect("bytes");
    assert!(verify_consistency(5, cp.size, &wrong, &cp.root, &proof).is_err());
}

#[test]
fn receipt_requests_that_cannot_be_met() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, _) = open_log(dir.path());
    assert!(matches!(log.receipt(0, 0), Err(StoreError::IndexOutOfRange { index: 0, size: 0 })));
    fill(&mut log, &clock, 3);
    assert!(matches!(log.receipt(3, 0), Err(StoreError::IndexOutOfRange { index: 3, size: 3 })));
    let ahead = log.receipt(1, 4);
    assert!(matches!(ahead, Err(StoreError::KnownSizeAhead { known: 4, size: 3 })));
    assert!(ahead.expect_err("error").to_string().contains("seen 4 entries"));
}

#[test]
fn a_replayed_query_id_is_refused_and_nothing_is_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    fill(&mut log, &clock, 2);
    let q = [0xabu8; 16];
    let first = log.append(entry("policy"), Some(q)).expect("first claim");
    fill(&mut log, &clock, 1);
    let before = (log.size(), log.latest_checkpoint().expect("read"));
    let again = log.append(entry("policy"), Some(q));
    assert!(
        matches!(again, Err(StoreError::QueryIdSeen { first_index }) if first_index == first.index)
    );
    assert_eq!((log.size(), log.latest_checkpoint().expect("read")), before);
    assert_eq!(log.query_id_seen(&q).expect("read"), Some(first.index));
    assert_eq!(log.query_id_seen(&[0u8; 16]).expect("read"), None);
    // Refusals may be logged without a claim, and the log goes on.
    let next = log.append(entry("replayed"), None).expect("append");
    assert_eq!(next.index, before.0);
    drop(log);
    let report = fedlink_proto::audit::verify::verify_log(&path, None).expect("verifies");
    assert_eq!(report.size, 5);
}

#[test]
fn reopening_keeps_the_log_and_refuses_other_keys_and_origins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    fill(&mut log, &clock, 4);
    let latest = log.latest_checkpoint().expect("read");
    drop(log);

    let clock2 = Arc::new(MockClock::new(UnixMillis(1_800_000_000_000)));
    let mut log =
        AuditLog::open(&path, ORIGIN, identity_from_seed(&SEED), clock2.clone()).expect("reopen");
    assert_eq!(log.size(), 4);
    assert_eq!(log.latest_checkpoint().expect("read"), latest);
    assert_eq!(log.append(entry("after reopen"), None).expect("append").index, 4);
    drop(log);

    let other = IdentityKey::generate().expect("key");
    let wrong_key = AuditLog::open(&path, ORIGIN, other, clock2.clone());
    let Err(err @ StoreError::KeyMismatch { .. }) = wrong_key else {
        panic!("a different key was accepted");
    };
    let text = err.to_string();
    assert!(text.contains(&identity_from_seed(&SEED).public_key().to_base64()), "{text}");

    let wrong_origin =
        AuditLog::open(&path, "fedlink.audit/elsewhere", identity_from_seed(&SEED), clock2);
    let Err(err @ StoreError::OriginMismatch { .. }) = wrong_origin else {
        panic!("a different origin was accepted");
    };
    let text = err.to_string();
    assert!(text.contains(ORIGIN) && text.contains("fedlink.audit/elsewhere"), "{text}");
}

#[test]
fn triggers_block_update_and_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    fill(&mut log, &clock, 3);
    drop(log);
    let raw = rusqlite::Connection::open(&path).expect("raw open");
    for sql in [
        "UPDATE log_entry SET entry = x'00' WHERE idx = 1",
        "UPDATE log_entry SET query_id = zeroblob(16) WHERE idx = 1",
        "DELETE FROM log_entry WHERE idx = 2",
        "UPDATE checkpoint SET note = 'x' WHERE size = 1",
        "DELETE FROM checkpoint WHERE size = 3",
        "UPDATE subtree SET hash = zeroblob(32) WHERE level = 0 AND idx = 0",
        "DELETE FROM subtree",
        "UPDATE meta SET value = 'other' WHERE key = 'origin'",
        "DELETE FROM meta",
    ] {
        let err = raw.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(raw);
    let report = fedlink_proto::audit::verify::verify_log(&path, None).expect("still verifies");
    assert_eq!(report.size, 3);
}

#[test]
fn origins_must_be_key_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(MockClock::new(UnixMillis(0)));
    for bad in ["", "has space", "has+plus", "new\nline"] {
        let key = IdentityKey::generate().expect("key");
        let opened = AuditLog::open(&dir.path().join("a.db"), bad, key, clock.clone());
        assert!(matches!(opened, Err(StoreError::InvalidOrigin(_))), "{bad:?}");
    }
}

/// An append that fails part-way (here the checkpoint insert, on a planted conflicting row)
/// leaves no entry, no subtree and no checkpoint behind: the whole append is one transaction.
#[test]
fn a_failed_append_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    fill(&mut log, &clock, 3);
    let raw = rusqlite::Connection::open(&path).expect("raw open");
    let count = |table: &str| -> i64 {
        raw.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
    };
    let before = (count("log_entry"), count("subtree"));
    raw.execute(
        "INSERT INTO checkpoint (size, root, note, created_ms) VALUES (4, zeroblob(32), 'x', 0)",
        [],
    )
    .expect("plant");
    let failed = log.append(entry("doomed"), Some([9u8; 16]));
    assert!(matches!(failed, Err(StoreError::Sqlite(_))), "{failed:?}");
    assert_eq!((count("log_entry"), count("subtree")), before);
    assert_eq!(log.size(), 3);
    assert_eq!(log.query_id_seen(&[9u8; 16]).expect("read"), None);
}
