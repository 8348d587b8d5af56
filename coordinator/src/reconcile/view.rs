//! One loaded log indexed for the checks: whose it is, its Merkle tree rebuilt from the entry
//! bytes (so a root at any size can be compared with a checkpoint someone else holds), and its
//! entries by query id and by envelope hash.

use std::collections::BTreeMap;

use fedlink_proto::audit::merkle::{Hash, MemoryTree, TreeSource, empty_root, leaf_hash};
use fedlink_proto::pb;

use super::ReconcileError;
use super::log::{LoadedEntry, LoadedLog};

/// A loaded log with its indexes.
pub struct LogView<'a> {
    /// The log.
    pub log: &'a LoadedLog,
    /// The member whose log it is.
    pub member: String,
    /// The federation its origin names.
    pub federation: String,
    /// The tree of its entries as they are (leaf i = entry at position i).
    tree: MemoryTree,
    /// Positions of the entries that name each query id.
    by_query: BTreeMap<Vec<u8>, Vec<u64>>,
    /// Positions of the entries that name each envelope hash.
    by_envelope: BTreeMap<Vec<u8>, Vec<u64>>,
}

impl<'a> LogView<'a> {
    /// Indexes `log`.
    pub fn new(log: &'a LoadedLog) -> Result<Self, ReconcileError> {
        let (federation, member) =
            log.federation_and_member().ok_or_else(|| ReconcileError::NotAMemberLog {
                location: log.source.clone(),
                origin: log.origin.clone(),
            })?;
        let mut tree = MemoryTree::new();
        let mut by_query: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        let mut by_envelope: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        for (position, entry) in log.entries.iter().enumerate() {
            tree.push(leaf_hash(&entry.bytes));
            let Some(query) = entry.decoded.as_ref().and_then(|e| e.query.as_ref()) else {
                continue;
            };
            if !query.query_id.is_empty() {
                by_query.entry(query.query_id.clone()).or_default().push(position as u64);
            }
            if !query.envelope_hash.is_empty() {
                by_envelope.entry(query.envelope_hash.clone()).or_default().push(position as u64);
            }
        }
        Ok(Self {
            log,
            member: member.to_string(),
            federation: federation.to_string(),
            tree,
            by_query,
            by_envelope,
        })
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The root of the first `size` entries; `None` past the end of the log.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        match size {
            0 => Some(empty_root()),
            n if n <= self.tree.size() => self.tree.range_hash(0, n).ok(),
            _ => None,
        }
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Option<&'a LoadedEntry> {
        usize::try_from(index).ok().and_then(|i| self.log.entries.get(i))
    }

    /// The decoded entry at `index`.
    pub fn decoded(&self, index: u64) -> Option<&'a pb::AuditEntry> {
        self.entry(index).and_then(|e| e.decoded.as_ref())
    }

    /// The indices of the entries naming query `id`.
    pub fn entries_for_query(&self, id: &[u8]) -> &[u64] {
        self.by_query.get(id).map_or(&[], Vec::as_slice)
    }

    /// The indices of the entries naming envelope hash `hash`.
    pub fn entries_for_envelope(&self, hash: &[u8]) -> &[u64] {
        self.by_envelope.get(hash).map_or(&[], Vec::as_slice)
    }

    /// Every query id the log names, with its entries.
    pub fn queries(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u64>)> {
        self.by_query.iter()
    }

    /// Every decoded entry with its index.
    pub fn decoded_entries(&self) -> impl Iterator<Item = (u64, &'a pb::AuditEntry)> + 'a {
        self.log
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.decoded.as_ref().map(|d| (i as u64, d)))
    }

    /// The time of the last entry, if any decodes.
    pub fn last_time_ms(&self) -> Option<i64> {
        self.log.entries.iter().rev().find_map(|e| e.decoded.as_ref().map(|d| d.time_ms))
    }
}
