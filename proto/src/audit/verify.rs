//! Offline verification of a whole audit log, as an auditor runs it: every entry is re-hashed
//! and re-parsed, the tree is rebuilt, and every signed checkpoint is checked against it
//! (audit-privacy-legal.md §1.4 checks (a) and (b)); then what the source derives from the
//! entries is checked (a file's stored subtrees, a bundle's manifest), and the budget ledger is
//! replayed from the entries and compared with the balances recorded ([`ledger`]). One core,
//! [`verify_source`], for every [`LogSource`]: a live log file and an export bundle are checked
//! alike and their faults reported alike. Reads only, never writes.
//!
//! Per-entry checks that need more than the entry (a payload's commitment, say) plug in as
//! [`EntryCheck`]s, run on every entry after the core's own checks.

mod ledger;
mod payload;
pub(crate) use payload::check_payloads;
mod problems;

use std::collections::BTreeMap;
use std::path::Path;

use crate::audit::budget::{add_charge, charge_of};
use crate::audit::checkpoint::{NoteVerifier, open_checkpoint};
use crate::audit::entry::decode_entry;
use crate::audit::merkle::{Hash, MemoryTree, TreeSource, empty_root, leaf_hash};
use crate::audit::proof::{consistency_proof, verify_consistency};
use crate::audit::source::{Beside, LogSource, StoredCheckpoint, StoredEntry, open_source};
use crate::audit::view::EntryView;
use crate::identity::PublicKey;
use crate::pb;

pub use ledger::{LedgerProblem, LedgerReport};
pub use payload::{PayloadProblem, PayloadReport};
pub use problems::{CheckpointProblem, EntryProblem, KeySource, VerifyError, VerifyReport};

/// A check run on every entry after the core's own (hash, decoding, index, origin, and the
/// source's columns or view): the seam for checks that need what the core does not read.
pub trait EntryCheck {
    /// Checks entry `index`, whose exact bytes are `bytes` and which decodes to `entry`.
    fn check(
        &mut self,
        index: u64,
        bytes: &[u8],
        entry: &pb::AuditEntry,
    ) -> Result<(), EntryProblem>;
}

/// Verifies the log file or export bundle at `path`. With `pinned_key`, checkpoints must be
/// signed by that key (and the source must record it); otherwise by the key the source
/// records, which only shows the log agrees with itself.
pub fn verify_log(
    path: &Path,
    pinned_key: Option<&PublicKey>,
) -> Result<VerifyReport, VerifyError> {
    verify_source(open_source(path)?.as_mut(), pinned_key, &mut [])
}

/// The one verification core: `source`'s entries, checkpoints, derived data and ledger, with
/// `extra` checks run on every entry.
pub fn verify_source(
    source: &mut dyn LogSource,
    pinned_key: Option<&PublicKey>,
    extra: &mut [&mut dyn EntryCheck],
) -> Result<VerifyReport, VerifyError> {
    let meta = source.meta()?;
    let (key, key_source) = match pinned_key {
        Some(pinned) if pinned != &meta.public_key => {
            return Err(VerifyError::KeyMismatch {
                pinned: pinned.to_base64(),
                recorded: meta.public_key.to_base64(),
            });
        }
        Some(pinned) => (*pinned, KeySource::Pinned),
        None => (meta.public_key, KeySource::RecordedInLog),
    };
    let checkpoints = source.checkpoints()?;
    check_order(&checkpoints)?;
    let mut replay = Replay {
        verifier: NoteVerifier::new(&meta.origin, key),
        origin: meta.origin,
        pending: checkpoints.iter().peekable(),
        tree: MemoryTree::new(),
        last: (0, empty_root()),
        times: None,
        replayed: BTreeMap::new(),
        charges: 0,
    };
    replay.drain()?;
    source.for_each_entry(&mut |record| {
        let index = replay.tree.size();
        let stored = record.map_err(|problem| VerifyError::Entry { index, problem })?;
        replay.entry(stored, extra)
    })?;
    let size = replay.tree.size();
    if let Some(cp) = replay.pending.next() {
        return Err(VerifyError::Checkpoint {
            size: cp.size,
            problem: CheckpointProblem::BeyondLog { log_size: size },
            first_bad_entry: None,
        });
    }
    let signed = replay.last.0;
    if signed < size {
        let problem = EntryProblem::NotSigned { signed_size: signed };
        return Err(VerifyError::Entry { index: signed, problem });
    }
    source.check_derived(&replay.tree)?;
    let recorded = source.recorded_balances()?;
    let ledger = ledger::check_ledger(recorded.as_ref(), &replay.replayed, replay.charges)?;
    let payloads = source.check_payloads()?;
    Ok(VerifyReport {
        origin: replay.origin,
        size,
        checkpoints: checkpoints.len() as u64,
        public_key: key,
        key_source,
        first_time_ms: replay.times.map(|t| t.0),
        last_time_ms: replay.times.map(|t| t.1),
        ledger,
        payloads,
    })
}

/// Checkpoints must come in increasing size (a file's are sorted by the query; a bundle's
/// could have been reordered).
fn check_order(checkpoints: &[StoredCheckpoint]) -> Result<(), VerifyError> {
    for pair in checkpoints.windows(2) {
        if let [previous, cp] = pair
            && cp.size <= previous.size
        {
            return Err(VerifyError::Checkpoint {
                size: cp.size,
                problem: CheckpointProblem::OutOfOrder { previous: previous.size },
                first_bad_entry: None,
            });
        }
    }
    Ok(())
}

/// The state of one verification, advanced entry by entry.
struct Replay<'c> {
    /// The log's origin.
    origin: String,
    /// The trusted key, under the origin's name.
    verifier: NoteVerifier,
    /// Checkpoints not yet reached by the tree.
    pending: std::iter::Peekable<std::slice::Iter<'c, StoredCheckpoint>>,
    /// The tree rebuilt so far.
    tree: MemoryTree,
    /// The last checkpoint that verified: its size and root.
    last: (u64, Hash),
    /// Times of the first and the latest entry.
    times: Option<(i64, i64)>,
    /// The budget ledger, replayed entry by entry so the log is never held in memory.
    replayed: BTreeMap<crate::audit::budget::BudgetKey, u64>,
    /// Entries that charge the budget.
    charges: u64,
}

impl Replay<'_> {
    /// Checks every pending checkpoint the tree now covers.
    fn drain(&mut self) -> Result<(), VerifyError> {
        while let Some(cp) = self.pending.next_if(|cp| cp.size <= self.tree.size()) {
            self.last = check_checkpoint(cp, &self.tree, &self.verifier, self.last)?;
        }
        Ok(())
    }

    /// Checks one stored entry, adds it to the tree and checks the checkpoints it completes.
    fn entry(
        &mut self,
        stored: StoredEntry<'_>,
        extra: &mut [&mut dyn EntryCheck],
    ) -> Result<(), VerifyError> {
        let index = self.tree.size();
        let bad = |problem| VerifyError::Entry { index, problem };
        if stored.index != index {
            return Err(bad(EntryProblem::Missing { found: stored.index }));
        }
        let computed = leaf_hash(stored.bytes);
        let recorded = Hash::from_slice(stored.leaf_hash)
            .ok_or(bad(EntryProblem::LeafHashLength { len: stored.leaf_hash.len() }))?;
        if !computed.ct_eq(&recorded) {
            return Err(bad(EntryProblem::LeafHashMismatch { computed, stored: recorded }));
        }
        let entry = decode_entry(stored.bytes).map_err(|e| bad(EntryProblem::Decode(e)))?;
        if entry.index != index {
            return Err(bad(EntryProblem::IndexField { recorded: entry.index }));
        }
        if entry.origin != self.origin {
            return Err(bad(EntryProblem::OriginField { recorded: entry.origin }));
        }
        check_beside(&stored.beside, &entry, &computed).map_err(bad)?;
        for check in extra.iter_mut() {
            check.check(index, stored.bytes, &entry).map_err(bad)?;
        }
        self.times = Some(
            self.times.map_or((entry.time_ms, entry.time_ms), |(first, _)| (first, entry.time_ms)),
        );
        if let Some(charge) = charge_of(&entry) {
            add_charge(&mut self.replayed, charge);
            self.charges += 1;
        }
        self.tree.push(computed);
        self.drain()
    }
}

/// Checks what the source keeps beside the entry: a file's columns, a bundle's view.
fn check_beside(
    beside: &Beside<'_>,
    entry: &pb::AuditEntry,
    leaf: &Hash,
) -> Result<(), EntryProblem> {
    match beside {
        Beside::Columns { created_ms, query_id } => {
            if entry.time_ms != *created_ms {
                return Err(EntryProblem::TimeColumn { entry: entry.time_ms, column: *created_ms });
            }
            match query_id.map(<[u8]>::len) {
                Some(len) if len != 16 => Err(EntryProblem::QueryIdLength { len }),
                _ => Ok(()),
            }
        }
        Beside::View(view) => {
            let expected = serde_json::to_value(EntryView::new(entry, leaf))
                .map_err(|e| EntryProblem::Malformed(e.to_string()))?;
            let given = view.cloned().unwrap_or(serde_json::Value::Null);
            match first_difference(&expected, &given, String::new()) {
                Some(field) => Err(EntryProblem::ViewMismatch { field }),
                None => Ok(()),
            }
        }
    }
}

/// The JSON pointer of the first place `given` differs from `expected`, if any.
fn first_difference(
    expected: &serde_json::Value,
    given: &serde_json::Value,
    at: String,
) -> Option<String> {
    use serde_json::Value;
    match (expected, given) {
        (Value::Object(e), Value::Object(g)) => {
            if let Some(extra) = g.keys().find(|k| !e.contains_key(*k)) {
                return Some(format!("{at}/{extra}"));
            }
            e.iter().find_map(|(k, v)| match g.get(k) {
                Some(gv) => first_difference(v, gv, format!("{at}/{k}")),
                None => Some(format!("{at}/{k}")),
            })
        }
        (Value::Array(e), Value::Array(g)) if e.len() == g.len() => e
            .iter()
            .zip(g)
            .enumerate()
            .find_map(|(i, (ev, gv))| first_difference(ev, gv, format!("{at}/{i}"))),
        _ if expected == given => None,
        _ => Some(if at.is_empty() { "/".into() } else { at }),
    }
}

/// Checks one checkpoint against the tree rebuilt so far (which has at least `cp.size`
/// leaves) and against the previous good checkpoint; returns its size and root.
fn check_checkpoint(
    cp: &StoredCheckpoint,
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
