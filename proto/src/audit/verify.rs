//! Offline verification of a whole audit log file, as an auditor runs it: every entry is
//! re-hashed and re-parsed, the tree is rebuilt, and every signed checkpoint is checked against
//! it (audit-privacy-legal.md §1.4 checks (a) and (b)); then the budget ledger is replayed
//! from the entries and compared with the balances the store recorded ([`ledger`]). Reads the
//! file only, never writes.

mod ledger;
mod payload;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::audit::budget::{add_charge, charge_of};
use crate::audit::checkpoint::{CheckpointError, NoteVerifier, open_checkpoint};
use crate::audit::entry::{EntryError, decode_entry};
use crate::audit::merkle::{Hash, MemoryTree, TreeSource, empty_root, leaf_hash};
use crate::audit::proof::{ProofError, consistency_proof, verify_consistency};
use crate::audit::store::FILE_FORMAT;
use crate::identity::PublicKey;

pub use ledger::{LedgerProblem, LedgerReport};
pub use payload::{PayloadProblem, PayloadReport};

/// Whose key the checkpoints were checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The key the auditor gave (from the data-sharing agreement, say): the strong check.
    Pinned,
    /// The key the file itself records. Only proves the file is self-consistent: whoever
    /// rewrote the file could have rewritten the key too.
    RecordedInLog,
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The log's origin.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Number of signed checkpoints checked.
    pub checkpoints: u64,
    /// The key checkpoints were checked with.
    pub public_key: PublicKey,
    /// Where that key came from.
    pub key_source: KeySource,
    /// Time of the first entry (ms since the epoch), if there is one.
    pub first_time_ms: Option<i64>,
    /// Time of the last entry, if there is one.
    pub last_time_ms: Option<i64>,
    /// What the budget ledger's replay found.
    pub ledger: LedgerReport,
    /// What the payload check found.
    pub payloads: PayloadReport,
}

/// Why a log file failed verification. Wherever the fault can be pinned to an entry, the
/// error names the first bad entry.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A checkpoint does not hold: its signature, its fields, or its root.
    #[error("checkpoint at size {size}: {problem}{}", pinned(*first_bad_entry))]
    Checkpoint {
        /// The checkpoint's size.
        size: u64,
        /// What is wrong.
        problem: CheckpointProblem,
        /// The entry the fault is pinned to, when it can be.
        first_bad_entry: Option<u64>,
    },
    /// An entry is missing, damaged, or not what the log says it is.
    #[error("entry {index}: {problem}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// The pinned key is not the key the file records.
    #[error(
        "the log records key {recorded}, but the pinned key is {pinned}: \
         this is not the log that key signs"
    )]
    KeyMismatch {
        /// Key given by the auditor, base64.
        pinned: String,
        /// Key recorded in the file, base64.
        recorded: String,
    },
    /// The file is not a fedlink audit log.
    #[error("{path} is not a fedlink audit log: {problem}")]
    NotAnAuditLog {
        /// The file.
        path: PathBuf,
        /// Why not.
        problem: String,
    },
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// An entry's erasable payload, or the subject index, is not what the entry commits to.
    #[error("entry {index}'s payload: {problem}")]
    Payload {
        /// The entry.
        index: u64,
        /// What is wrong.
        problem: PayloadProblem,
    },
    /// The budget balances the store recorded are not what the entries replay to.
    #[error("budget ledger: {0}")]
    Ledger(LedgerProblem),
    /// A stored perfect subtree (used to build receipts) disagrees with the entries.
    #[error("subtree at level {level}, index {index}: {problem}")]
    Subtree {
        /// Its level (0 = leaves).
        level: u32,
        /// Its index on that level.
        index: u64,
        /// What is wrong.
        problem: String,
    },
}

fn pinned(entry: Option<u64>) -> String {
    entry.map_or_else(String::new, |i| format!(" (entry {i} was changed after it was signed)"))
}

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    /// The stored bytes do not parse as a canonical entry.
    Decode(EntryError),
    /// The entry's own `index` field is not its position.
    IndexField {
        /// What the entry says.
        recorded: u64,
    },
    /// The stored leaf hash is not 32 bytes.
    LeafHashLength {
        /// Its length.
        len: usize,
    },
    /// The stored bytes hash to something other than the stored leaf hash.
    LeafHashMismatch {
        /// SHA-256(0x00 ‖ bytes).
        computed: Hash,
        /// The `leaf_hash` column.
        stored: Hash,
    },
    /// The entry is missing: the next stored entry has a later index.
    Missing {
        /// The index found in its place.
        found: u64,
    },
    /// No signed checkpoint covers the entry: it was added without the log's key.
    NotSigned {
        /// Size of the last signed checkpoint.
        signed_size: u64,
    },
    /// The entry's `origin` field names another log.
    OriginField {
        /// What the entry says.
        recorded: String,
    },
    /// The replay-index column is neither NULL nor 16 bytes.
    QueryIdLength {
        /// Its length.
        len: usize,
    },
    /// The `created_ms` column disagrees with the entry's signed `time_ms`.
    TimeColumn {
        /// The entry's `time_ms`.
        entry: i64,
        /// The `created_ms` column.
        column: i64,
    },
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "the stored bytes are not a valid entry: {e}"),
            Self::IndexField { recorded } => write!(f, "the entry says it is entry {recorded}"),
            Self::LeafHashLength { len } => write!(f, "the recorded leaf hash is {len} bytes"),
            Self::LeafHashMismatch { computed, stored } => {
                write!(f, "stored bytes hash to {computed}, but the log recorded {stored}")
            }
            Self::Missing { found } => write!(f, "missing (the next entry stored is {found})"),
            Self::NotSigned { signed_size } => write!(
                f,
                "no signed checkpoint covers it (the last one covers {signed_size} entries): \
                 it was added without the log's key"
            ),
            Self::OriginField { recorded } => {
                write!(f, "the entry belongs to log {recorded:?}")
            }
            Self::QueryIdLength { len } => write!(f, "the replay index holds {len} bytes, not 16"),
            Self::TimeColumn { entry, column } => {
                write!(f, "signed time {entry} ms differs from the stored time {column} ms")
            }
        }
    }
}

/// What is wrong with one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// It covers more entries than the log holds: entries were removed.
    BeyondLog {
        /// Entries in the log.
        log_size: u64,
    },
    /// It is not consistent with the previous checkpoint.
    Inconsistent {
        /// The previous checkpoint's size.
        previous: u64,
        /// Why.
        error: ProofError,
    },
    /// Its signed origin is not the log's.
    Origin {
        /// The origin it signs.
        signed: String,
    },
    /// The entries up to its size hash to another root: an entry changed after signing.
    RootMismatch {
        /// The root rebuilt from the entries.
        computed: Hash,
        /// The root it signs.
        signed: Hash,
        /// The size of the last checkpoint that did match (0 if none).
        last_good: u64,
    },
    /// The note does not open with the key.
    Signature(CheckpointError),
    /// Its signed size is not the size it is stored under.
    Size {
        /// The size it signs.
        signed: u64,
    },
    /// The `root` column is not the root it signs.
    StoredRoot {
        /// The `root` column.
        stored: String,
        /// The root it signs.
        signed: Hash,
    },
    /// The tree rebuilt from the entries cannot produce this checkpoint's root or proof.
    Unprovable(String),
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BeyondLog { log_size } => {
                write!(f, "it covers more entries than the {log_size} the log holds")
            }
            Self::Inconsistent { previous, error } => {
                write!(f, "it does not extend the checkpoint at size {previous}: {error}")
            }
            Self::Origin { signed } => write!(f, "it is signed for log {signed:?}"),
            Self::RootMismatch { computed, signed, last_good } => write!(
                f,
                "the entries hash to root {computed}, but the checkpoint signs {signed}; \
                 the last matching checkpoint covers {last_good} entries"
            ),
            Self::Signature(e) => write!(f, "{e}"),
            Self::Size { signed } => write!(f, "it signs size {signed}"),
            Self::StoredRoot { stored, signed } => {
                write!(f, "the stored root {stored} is not the signed root {signed}")
            }
            Self::Unprovable(e) => write!(f, "cannot rebuild it from the entries: {e}"),
        }
    }
}

/// A stored checkpoint row.
struct CheckpointRow {
    size: u64,
    root: Vec<u8>,
    note: String,
}

/// Verifies the log file at `path`. With `pinned_key`, checkpoints must be signed by that key
/// (and the file must record it); otherwise by the key the file records, which only shows the
/// file agrees with itself.
pub fn verify_log(
    path: &Path,
    pinned_key: Option<&PublicKey>,
) -> Result<VerifyReport, VerifyError> {
    let read = |source| VerifyError::Read { path: path.to_path_buf(), source };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(read)?;
    // One read transaction: a snapshot, even while the node keeps appending.
    let tx = conn.unchecked_transaction().map_err(read)?;
    let (origin, recorded) = read_meta(&tx, path)?;
    let (key, key_source) = match pinned_key {
        Some(pinned) if pinned != &recorded => {
            return Err(VerifyError::KeyMismatch {
                pinned: pinned.to_base64(),
                recorded: recorded.to_base64(),
            });
        }
        Some(pinned) => (*pinned, KeySource::Pinned),
        None => (recorded, KeySource::RecordedInLog),
    };
    let verifier = NoteVerifier::new(&origin, key);
    let checkpoints = read_checkpoints(&tx).map_err(read)?;
    let mut pending = checkpoints.iter().peekable();
    let mut tree = MemoryTree::new();
    let mut times: Option<(i64, i64)> = None;
    // The last checkpoint that verified: its size and root.
    let mut last = (0u64, empty_root());
    // The budget ledger, replayed entry by entry so the log is never held in memory.
    let mut replayed = BTreeMap::new();
    let mut charges = 0u64;

    let mut drain = |tree: &MemoryTree, last: &mut (u64, Hash)| -> Result<(), VerifyError> {
        while let Some(cp) = pending.next_if(|cp| cp.size <= tree.size()) {
            *last = check_checkpoint(cp, tree, &verifier, *last)?;
        }
        Ok(())
    };
    drain(&tree, &mut last)?;
    let mut stmt = tx
        .prepare("SELECT idx, entry, leaf_hash, created_ms, query_id FROM log_entry ORDER BY idx")
        .map_err(read)?;
    let mut rows = stmt.query([]).map_err(read)?;
    while let Some(row) = rows.next().map_err(read)? {
        let index = tree.size();
        let stored_idx: i64 = row.get(0).map_err(read)?;
        if u64::try_from(stored_idx).ok() != Some(index) {
            let found = u64::try_from(stored_idx).unwrap_or(u64::MAX);
            return Err(VerifyError::Entry { index, problem: EntryProblem::Missing { found } });
        }
        let bytes = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(read)?;
        let stored_leaf = row.get_ref(2).and_then(|v| Ok(v.as_blob()?)).map_err(read)?;
        let created_ms: i64 = row.get(3).map_err(read)?;
        let query_id: Option<Vec<u8>> = row.get(4).map_err(read)?;
        let bad = |problem| VerifyError::Entry { index, problem };

        let computed = leaf_hash(bytes);
        let stored = Hash::from_slice(stored_leaf)
            .ok_or(bad(EntryProblem::LeafHashLength { len: stored_leaf.len() }))?;
        if !computed.ct_eq(&stored) {
            return Err(bad(EntryProblem::LeafHashMismatch { computed, stored }));
        }
        let entry = decode_entry(bytes).map_err(|e| bad(EntryProblem::Decode(e)))?;
        if entry.index != index {
            return Err(bad(EntryProblem::IndexField { recorded: entry.index }));
        }
        if entry.origin != origin {
            return Err(bad(EntryProblem::OriginField { recorded: entry.origin }));
        }
        if entry.time_ms != created_ms {
            return Err(bad(EntryProblem::TimeColumn { entry: entry.time_ms, column: created_ms }));
        }
        if let Some(len) = query_id.as_ref().map(Vec::len).filter(|len| *len != 16) {
            return Err(bad(EntryProblem::QueryIdLength { len }));
        }
        times =
            Some(times.map_or((entry.time_ms, entry.time_ms), |(first, _)| (first, entry.time_ms)));
        if let Some(charge) = charge_of(&entry) {
            add_charge(&mut replayed, charge);
            charges += 1;
        }
        tree.push(computed);
        drain(&tree, &mut last)?;
    }
    let size = tree.size();
    if let Some(cp) = pending.next() {
        return Err(VerifyError::Checkpoint {
            size: cp.size,
            problem: CheckpointProblem::BeyondLog { log_size: size },
            first_bad_entry: None,
        });
    }
    if last.0 < size {
        return Err(VerifyError::Entry {
            index: last.0,
            problem: EntryProblem::NotSigned { signed_size: last.0 },
        });
    }
    drop(rows);
    drop(stmt);
    check_subtrees(&tx, &tree).map_err(|e| match e {
        SubtreeCheck::Read(source) => read(source),
        SubtreeCheck::Bad(err) => err,
    })?;
    let ledger = ledger::check_ledger(&tx, path, &replayed, charges)?;
    let payloads = payload::check_payloads(&tx, path)?;
    Ok(VerifyReport {
        origin,
        size,
        checkpoints: checkpoints.len() as u64,
        public_key: key,
        key_source,
        first_time_ms: times.map(|t| t.0),
        last_time_ms: times.map(|t| t.1),
        ledger,
        payloads,
    })
}

/// Checks one checkpoint against the tree rebuilt so far (which has at least `cp.size`
/// leaves) and against the previous good checkpoint; returns its size and root.
fn check_checkpoint(
    cp: &CheckpointRow,
    tree: &MemoryTree,
    verifier: &NoteVerifier,
    last: (u64, Hash),
) -> Result<(u64, Hash), VerifyError> {
    let fail = |problem, first_bad_entry| VerifyError::Checkpoint {
        size: cp.size,
        problem,
        first_bad_entry,
    };
    let signed = open_checkpoint(&cp.note, verifier)
        .map_err(|e| fail(CheckpointProblem::Signature(e), None))?;
    if signed.origin != verifier.name() {
        return Err(fail(CheckpointProblem::Origin { signed: signed.origin }, None));
    }
    if signed.size != cp.size {
        return Err(fail(CheckpointProblem::Size { signed: signed.size }, None));
    }
    if Hash::from_slice(&cp.root).is_none_or(|stored| !stored.ct_eq(&signed.root)) {
        let stored = hex::encode(&cp.root);
        return Err(fail(CheckpointProblem::StoredRoot { stored, signed: signed.root }, None));
    }
    let unprovable = |e: String| fail(CheckpointProblem::Unprovable(e), None);
    let computed = match cp.size {
        0 => empty_root(),
        n => tree.range_hash(0, n).map_err(|e| unprovable(e.to_string()))?,
    };
    if !computed.ct_eq(&signed.root) {
        // With one checkpoint per append, the previous checkpoint matching pins the change to
        // the one entry between them.
        let pinned = (last.0 + 1 == cp.size).then_some(last.0);
        let problem =
            CheckpointProblem::RootMismatch { computed, signed: signed.root, last_good: last.0 };
        return Err(fail(problem, pinned));
    }
    // Check (b): each checkpoint extends the one before, with a proof built from the entries.
    let proof = consistency_proof(tree, last.0, cp.size).map_err(|e| unprovable(e.to_string()))?;
    verify_consistency(last.0, cp.size, &last.1, &signed.root, &proof)
        .map_err(|error| fail(CheckpointProblem::Inconsistent { previous: last.0, error }, None))?;
    Ok((cp.size, signed.root))
}

fn read_meta(conn: &Connection, path: &Path) -> Result<(String, PublicKey), VerifyError> {
    let not_log =
        |problem: String| VerifyError::NotAnAuditLog { path: path.to_path_buf(), problem };
    let value = |key: &str| -> Result<Option<rusqlite::types::Value>, VerifyError> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| not_log(format!("no readable meta table ({e})")))
    };
    use rusqlite::types::Value;
    match value("format")? {
        Some(Value::Text(format)) if format == FILE_FORMAT => {}
        Some(other) => {
            return Err(not_log(format!("its format is {other:?}, not {FILE_FORMAT}")));
        }
        None => return Err(not_log("it records no format".into())),
    }
    let origin = match value("origin")? {
        Some(Value::Text(origin)) => origin,
        _ => return Err(not_log("it records no origin".into())),
    };
    let key = match value("public_key")? {
        Some(Value::Blob(bytes)) => <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| not_log(format!("its public key is {} bytes, not 32", bytes.len())))?,
        _ => return Err(not_log("it records no public key".into())),
    };
    Ok((origin, PublicKey::from_bytes(key)))
}

fn read_checkpoints(conn: &Connection) -> Result<Vec<CheckpointRow>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT size, root, note FROM checkpoint ORDER BY size")?;
    let rows = stmt.query_map([], |r| {
        let size: i64 = r.get(0)?;
        Ok(CheckpointRow {
            size: u64::try_from(size).unwrap_or(0),
            root: r.get(1)?,
            note: r.get(2)?,
        })
    })?;
    rows.collect()
}

enum SubtreeCheck {
    Read(rusqlite::Error),
    Bad(VerifyError),
}

impl From<rusqlite::Error> for SubtreeCheck {
    fn from(e: rusqlite::Error) -> Self {
        SubtreeCheck::Read(e)
    }
}

/// Every stored perfect subtree must equal the one rebuilt from the entries, and none may be
/// missing: receipts are built from them.
fn check_subtrees(conn: &Connection, tree: &MemoryTree) -> Result<(), SubtreeCheck> {
    let mut stmt = conn.prepare("SELECT level, idx, hash FROM subtree ORDER BY level, idx")?;
    let mut rows = stmt.query([])?;
    let mut expected = expected_subtrees(tree.size());
    while let Some(row) = rows.next()? {
        let (level, index): (i64, i64) = (row.get(0)?, row.get(1)?);
        let stored = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        let (level, index) =
            (u32::try_from(level).unwrap_or(u32::MAX), u64::try_from(index).unwrap_or(u64::MAX));
        let bad =
            |problem: String| SubtreeCheck::Bad(VerifyError::Subtree { level, index, problem });
        let want =
            tree.perfect(level, index).ok_or_else(|| bad("no such subtree in the log".into()))?;
        match expected.next() {
            Some((l, i)) if (l, i) == (level, index) => {}
            Some((l, i)) => {
                return Err(SubtreeCheck::Bad(VerifyError::Subtree {
                    level: l,
                    index: i,
                    problem: "missing".into(),
                }));
            }
            None => return Err(bad("no such subtree in the log".into())),
        }
        if Hash::from_slice(stored).is_none_or(|h| !h.ct_eq(&want)) {
            return Err(bad(format!(
                "stored {}, but the entries give {want}",
                hex::encode(stored)
            )));
        }
    }
    if let Some((level, index)) = expected.next() {
        return Err(SubtreeCheck::Bad(VerifyError::Subtree {
            level,
            index,
            problem: "missing".into(),
        }));
    }
    Ok(())
}

/// The (level, index) of every perfect subtree of a tree of `size` leaves, level by level.
fn expected_subtrees(size: u64) -> impl Iterator<Item = (u32, u64)> {
    (0..64u32).flat_map(move |level| (0..(size >> level)).map(move |index| (level, index)))
}
