//! Everything verification can report: what a log that verified holds ([`VerifyReport`]) and
//! why one did not ([`VerifyError`]), located wherever possible at an entry index or a
//! checkpoint size. Shared by log files and export bundles, so both say the same thing about
//! the same fault.

use std::fmt;
use std::path::PathBuf;

use crate::audit::bundle::BundleError;
use crate::audit::checkpoint::CheckpointError;
use crate::audit::entry::EntryError;
use crate::audit::merkle::Hash;
use crate::audit::proof::ProofError;
use crate::identity::PublicKey;

use super::ledger::{LedgerProblem, LedgerReport};

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
    /// What the payload check found (a bundle carries no payloads: all zero).
    pub payloads: crate::audit::verify::PayloadReport,
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
    /// The file (or folder) is not a fedlink audit log (or export bundle).
    #[error("{path} is not a fedlink audit log: {problem}")]
    NotAnAuditLog {
        /// The file or folder.
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
        problem: crate::audit::verify::PayloadProblem,
    },
    /// An export bundle is incomplete or one of its files cannot be read; faults in an entry
    /// or a checkpoint of a bundle are reported as `Entry` and `Checkpoint`, like a file's.
    #[error(transparent)]
    Bundle(#[from] BundleError),
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
    /// A bundle's record of the entry is not well formed (not JSON, bad base64, a missing
    /// field): the bundle file was changed.
    Malformed(String),
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
    /// A bundle's convenience view is not the view of the entry's bytes: whoever reads the
    /// view would be misled, so it is reported although the bytes are what was signed.
    ViewMismatch {
        /// The first field that differs (a JSON pointer).
        field: String,
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
            Self::Malformed(problem) => write!(f, "its bundle record is malformed: {problem}"),
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
            Self::ViewMismatch { field } => write!(
                f,
                "the bundle's decoded view differs from the entry's bytes at {field}: the view \
                 was edited"
            ),
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
    /// A bundle's record of the checkpoint is not well formed.
    Malformed(String),
    /// A bundle lists it after a checkpoint of the same or a larger size.
    OutOfOrder {
        /// The size listed before it.
        previous: u64,
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
            Self::Malformed(problem) => write!(f, "its bundle record is malformed: {problem}"),
            Self::OutOfOrder { previous } => {
                write!(f, "it is listed after the checkpoint at size {previous}")
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
