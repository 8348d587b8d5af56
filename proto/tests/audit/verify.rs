//! Offline verification of log files: clean logs pass, and each way of altering the file is
//! caught with the first bad entry named where it can be.

use std::path::Path;

use fedlink_proto::audit::merkle::{Hash, MemoryTree, leaf_hash};
use fedlink_proto::audit::store::encode_entry;
use fedlink_proto::audit::verify::{
    CheckpointProblem, EntryProblem, KeySource, VerifyError, verify_log,
};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use rusqlite::{Connection, params};

use crate::util::{ORIGIN, SEED, entry, fill, identity_from_seed, open_log};

/// A log of `n` entries, closed; returns the folder (kept alive) and the file.
fn closed_log(n: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    fill(&mut log, &clock, n);
    drop(log);
    (dir, path)
}

/// What an attacker with the file does first.
fn tamper(path: &Path) -> Connection {
    let raw = Connection::open(path).expect("raw open");
    for table in ["log_entry", "subtree", "checkpoint", "meta"] {
        for op in ["update", "delete"] {
            raw.execute_batch(&format!("DROP TRIGGER {table}_no_{op};")).expect("drop trigger");
        }
    }
    raw
}

/// Rewrites the subtree table and leaf hashes from the (altered) entries, as a careful
/// attacker would.
fn rebuild_derived(raw: &Connection) {
    let mut tree = MemoryTree::new();
    let rows: Vec<(i64, Vec<u8>)> = raw
        .prepare("SELECT idx, entry FROM log_entry ORDER BY idx")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (idx, bytes) in &rows {
        let leaf = leaf_hash(bytes);
        raw.execute(
            "UPDATE log_entry SET leaf_hash = ?1 WHERE idx = ?2",
            params![leaf.0.as_slice(), idx],
        )
        .expect("fix leaf hash");
        tree.push(leaf);
    }
    raw.execute("DELETE FROM subtree", []).expect("clear subtrees");
    let size = rows.len() as u64;
    for level in 0..64u32 {
        for index in 0..(size >> level) {
            let hash = tree.perfect(level, index).expect("subtree");
            raw.execute(
                "INSERT INTO subtree (level, idx, hash) VALUES (?1, ?2, ?3)",
                params![level, index as i64, hash.0.as_slice()],
            )
            .expect("insert subtree");
        }
    }
}

/// Changes one byte of entry `index`'s reason text, keeping it a valid, canonical entry.
fn change_one_byte(raw: &Connection, index: i64) {
    let mut bytes: Vec<u8> = raw
        .query_row("SELECT entry FROM log_entry WHERE idx = ?1", [index], |r| r.get(0))
        .expect("read entry");
    let at = bytes.windows(10).position(|w| w == b"test entry").expect("reason text");
    bytes[at] = b'T';
    raw.execute("UPDATE log_entry SET entry = ?1 WHERE idx = ?2", params![bytes, index])
        .expect("rewrite entry");
}

#[test]
fn a_clean_log_verifies_with_either_key_source() {
    let (_dir, path) = closed_log(9);
    let report = verify_log(&path, None).expect("verifies");
    assert_eq!(report.origin, ORIGIN);
    assert_eq!((report.size, report.checkpoints), (9, 9));
    assert_eq!(report.key_source, KeySource::RecordedInLog);
    assert_eq!(report.first_time_ms, Some(1_700_000_001_000));
    assert_eq!(report.last_time_ms, Some(1_700_000_009_000));

    let key = identity_from_seed(&SEED).public_key();
    let pinned = verify_log(&path, Some(&key)).expect("verifies");
    assert_eq!(pinned.key_source, KeySource::Pinned);
    assert_eq!(pinned.public_key, key);

    let other = IdentityKey::generate().expect("key").public_key();
    let err = verify_log(&path, Some(&other)).expect_err("wrong key");
    assert!(matches!(err, VerifyError::KeyMismatch { .. }), "{err}");
}

#[test]
fn an_empty_log_verifies() {
    let (_dir, path) = closed_log(0);
    let report = verify_log(&path, None).expect("verifies");
    assert_eq!((report.size, report.checkpoints), (0, 0));
    assert_eq!((report.first_time_ms, report.last_time_ms), (None, None));
}

#[test]
fn a_file_that_is_not_a_log_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.db");
    Connection::open(&path).expect("create").execute_batch("CREATE TABLE t (x);").expect("t");
    let err = verify_log(&path, None).expect_err("not a log");
    assert!(matches!(err, VerifyError::NotAnAuditLog { .. }), "{err}");
    let missing = verify_log(&dir.path().join("missing.db"), None).expect_err("missing");
    assert!(matches!(missing, VerifyError::Read { .. }), "{missing}");
}

#[test]
fn a_one_byte_change_names_the_entry() {
    let (_dir, path) = closed_log(9);
    let raw = tamper(&path);
    change_one_byte(&raw, 5);
    drop(raw);
    let err = verify_log(&path, None).expect_err("tampered");
    let VerifyError::Entry { index: 5, problem: EntryProblem::LeafHashMismatch { .. } } = &err
    else {
        panic!("wrong error: {err}");
    };
    let text = err.to_string();
    println!("{text}");
    assert!(text.starts_with("entry 5: stored bytes hash to "), "{text}");
    assert!(text.contains(", but the log recorded "), "{text}");
}

#[test]
fn a_change_with_rebuilt_hashes_is_pinned_by_the_checkpoints() {
    let (_dir, path) = closed_log(9);
    let raw = tamper(&path);
    change_one_byte(&raw, 5);
    rebuild_derived(&raw);
    drop(raw);
    let err = verify_log(&path, None).expect_err("tampered");
    let VerifyError::Checkpoint {
        size: 6,
        problem: CheckpointProblem::RootMismatch { last_good: 5, .. },
        first_bad_entry: Some(5),
    } = &err
    else {
        panic!("wrong error: {err}");
    };
    let text = err.to_string();
    println!("{text}");
    assert!(text.starts_with("checkpoint at size 6: the entries hash to root "), "{text}");
    assert!(text.ends_with("(entry 5 was changed after it was signed)"), "{text}");
}

#[test]
fn a_forged_checkpoint_note_is_caught() {
    let (_dir, path) = closed_log(4);
    let raw = tamper(&path);
    let note: String = raw
        .query_row("SELECT note FROM checkpoint WHERE size = 3", [], |r| r.get(0))
        .expect("note");
    let forged = note.replacen("\n3\n", "\n2\n", 1);
    raw.execute("UPDATE checkpoint SET note = ?1 WHERE size = 3", [forged]).expect("forge");
    drop(raw);
    let err = verify_log(&path, None).expect_err("forged");
    assert!(
        matches!(
            err,
            VerifyError::Checkpoint { size: 3, problem: CheckpointProblem::Signature(_), .. }
        ),
        "{err}"
    );
}

#[test]
fn an_entry_added_without_the_key_is_unsigned() {
    let (_dir, path) = closed_log(4);
    let raw = tamper(&path);
    // A well-formed entry 4, with its leaf hash; only the log's key could sign a checkpoint
    // that covers it.
    let forged = pb::AuditEntry { origin: ORIGIN.into(), index: 4, time_ms: 5, ..entry("forged") };
    let bytes = encode_entry(&forged);
    let leaf: Hash = leaf_hash(&bytes);
    raw.execute(
        "INSERT INTO log_entry (idx, entry, leaf_hash, created_ms) VALUES (4, ?1, ?2, 5)",
        params![bytes, leaf.0.as_slice()],
    )
    .expect("insert");
    drop(raw);
    let err = verify_log(&path, None).expect_err("unsigned");
    assert!(
        matches!(
            err,
            VerifyError::Entry { index: 4, problem: EntryProblem::NotSigned { signed_size: 4 } }
        ),
        "{err}"
    );
}

#[test]
fn a_missing_entry_is_named() {
    let (_dir, path) = closed_log(6);
    let raw = tamper(&path);
    raw.execute("DELETE FROM log_entry WHERE idx = 2", []).expect("delete");
    drop(raw);
    let err = verify_log(&path, None).expect_err("gap");
    assert!(
        matches!(err, VerifyError::Entry { index: 2, problem: EntryProblem::Missing { found: 3 } }),
        "{err}"
    );
}

#[test]
fn removed_tail_entries_with_their_checkpoints_left_are_caught() {
    let (_dir, path) = closed_log(6);
    let raw = tamper(&path);
    raw.execute("DELETE FROM log_entry WHERE idx = 5", []).expect("delete");
    drop(raw);
    let err = verify_log(&path, None).expect_err("truncated");
    assert!(
        matches!(
            err,
            VerifyError::Checkpoint { size: 6, problem: CheckpointProblem::BeyondLog { .. }, .. }
        ),
        "{err}"
    );
}

/// The limit of offline verification, stated as a test: truncating entries, subtrees and
/// checkpoints together leaves a self-consistent file. Only a checkpoint held by someone else
/// (the coordinator's receipt store, a witness) shows the log once was longer (§1.5).
#[test]
fn clean_truncation_needs_a_checkpoint_held_elsewhere() {
    let (_dir, path) = closed_log(6);
    let key = identity_from_seed(&SEED).public_key();
    let raw = tamper(&path);
    let held_elsewhere: String = raw
        .query_row("SELECT note FROM checkpoint WHERE size = 6", [], |r| r.get(0))
        .expect("note");
    raw.execute_batch(
        "DELETE FROM log_entry WHERE idx = 5; DELETE FROM checkpoint WHERE size = 6;
         DELETE FROM subtree WHERE (level = 0 AND idx = 5) OR (level = 1 AND idx = 2);",
    )
    .expect("truncate");
    drop(raw);
    let report = verify_log(&path, Some(&key)).expect("self-consistent");
    assert_eq!(report.size, 5);
    // The held checkpoint is for a size the file no longer reaches.
    let verifier = fedlink_proto::audit::checkpoint::NoteVerifier::new(ORIGIN, key);
    let held = fedlink_proto::audit::checkpoint::open_checkpoint(&held_elsewhere, &verifier)
        .expect("still a valid signature");
    assert!(held.size > report.size);
}

#[test]
fn a_damaged_subtree_is_named() {
    let (_dir, path) = closed_log(8);
    let raw = tamper(&path);
    raw.execute("UPDATE subtree SET hash = zeroblob(32) WHERE level = 2 AND idx = 1", [])
        .expect("damage");
    drop(raw);
    let err = verify_log(&path, None).expect_err("damaged");
    assert!(matches!(err, VerifyError::Subtree { level: 2, index: 1, .. }), "{err}");
}
