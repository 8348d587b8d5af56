//! A log as reconcile reads it, whatever it was read from (a SQLite log file, an export
//! bundle): its origin and key, every entry as its exact bytes and, where they decode, the
//! entry; its signed checkpoints by size; the cosignatures it holds; and what verifying it on
//! its own found. Nothing here does I/O.

use std::collections::BTreeMap;

use fedlink_proto::audit::entry::decode_entry;
use fedlink_proto::audit::verify::{VerifyError, VerifyReport};
use fedlink_proto::identity::PublicKey;
use fedlink_proto::pb;

/// The prefix of every fedlink log origin: `fedlink.audit/<federation>/<member>`.
const ORIGIN_PREFIX: &str = "fedlink.audit/";

/// One entry of a loaded log.
#[derive(Debug, Clone)]
pub struct LoadedEntry {
    /// Its leaf index (its position in the log).
    pub index: u64,
    /// The bytes exactly as stored and hashed.
    pub bytes: Vec<u8>,
    /// The entry, when the bytes decode (a log that does not verify may hold some that do
    /// not).
    pub decoded: Option<pb::AuditEntry>,
}

impl LoadedEntry {
    /// An entry from its stored bytes.
    pub fn from_bytes(index: u64, bytes: Vec<u8>) -> Self {
        let decoded = decode_entry(&bytes).ok();
        Self { index, bytes, decoded }
    }
}

/// A cosignature the log holds of one of its own checkpoints (the `cosignature` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCosignature {
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The witness's name.
    pub witness: String,
    /// The cosignature line.
    pub line: String,
}

/// What verifying the log on its own found (`fedlink_proto::audit::verify`).
#[derive(Debug)]
pub enum SelfCheck {
    /// It verified: entries, tree, every checkpoint, the budget ledger.
    Verified(VerifyReport),
    /// It did not; the first problem found.
    Failed(SelfCheckFailure),
    /// The loader did not verify it.
    NotRun,
}

/// Why a log failed verification on its own, located where the verifier could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfCheckFailure {
    /// The verifier's message.
    pub problem: String,
    /// The entry the fault is pinned to, if any.
    pub entry: Option<u64>,
    /// The checkpoint (by size) the fault was found at, if any.
    pub checkpoint: Option<u64>,
    /// Whether it is the budget ledger that does not replay.
    pub ledger: bool,
}

impl From<&VerifyError> for SelfCheckFailure {
    fn from(e: &VerifyError) -> Self {
        let (entry, checkpoint, ledger) = match e {
            VerifyError::Entry { index, .. } => (Some(*index), None, false),
            VerifyError::Checkpoint { size, first_bad_entry, .. } => {
                (*first_bad_entry, Some(*size), false)
            }
            VerifyError::Ledger(_) => (None, None, true),
            _ => (None, None, false),
        };
        Self { problem: e.to_string(), entry, checkpoint, ledger }
    }
}

/// One party's audit log, loaded for reconciliation.
#[derive(Debug)]
pub struct LoadedLog {
    /// Where it was read from, for messages (a path).
    pub source: String,
    /// The log's origin, `fedlink.audit/<federation>/<member>`.
    pub origin: String,
    /// The key the log records.
    pub public_key: PublicKey,
    /// The key the auditor pinned (from the federation file), if any.
    pub pinned_key: Option<PublicKey>,
    /// Every entry, in index order.
    pub entries: Vec<LoadedEntry>,
    /// Every signed checkpoint note, by size.
    pub checkpoints: BTreeMap<u64, String>,
    /// The cosignatures it holds of its own checkpoints.
    pub cosignatures: Vec<HeldCosignature>,
    /// What verifying it on its own found.
    pub self_check: SelfCheck,
}

impl LoadedLog {
    /// The key its checkpoints must be signed with: the pinned one if any, else its own.
    pub fn trusted_key(&self) -> PublicKey {
        self.pinned_key.unwrap_or(self.public_key)
    }

    /// The federation and member its origin names, if it is a fedlink origin.
    pub fn federation_and_member(&self) -> Option<(&str, &str)> {
        federation_and_member(&self.origin)
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.entries.len() as u64
    }
}

/// Splits `fedlink.audit/<federation>/<member>` (see `fedlink_proto::federation::log_origin`).
pub fn federation_and_member(origin: &str) -> Option<(&str, &str)> {
    let rest = origin.strip_prefix(ORIGIN_PREFIX)?;
    let (federation, member) = rest.split_once('/')?;
    (!federation.is_empty() && !member.is_empty() && !member.contains('/'))
        .then_some((federation, member))
}
