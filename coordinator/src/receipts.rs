//! Node receipts: verify each one against the node's key and the last checkpoint the coordinator
//! saw from that node (append-only, no fork), then keep it. A receipt proves that the node's own
//! log holds the entry that answered (or refused) the query (audit-privacy-legal.md §1.4).

use std::path::Path;

use fedlink_proto::audit::checkpoint::{Checkpoint, NoteVerifier, open_checkpoint};
use fedlink_proto::audit::entry::decode_entry;
use fedlink_proto::audit::merkle::{Hash, leaf_hash};
use fedlink_proto::audit::proof::{hashes_from_bytes, verify_consistency, verify_inclusion};
use fedlink_proto::federation::{Member, log_origin};
use fedlink_proto::pb;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::CoordinatorError;

/// The last checkpoint of a node's log that the coordinator verified.
#[derive(Debug, Clone)]
pub struct KnownCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// A receipt whose proofs verified.
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    /// The node's checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note text of that checkpoint.
    pub note: String,
    /// The decoded entry.
    pub entry: pb::AuditEntry,
    /// Its leaf index.
    pub leaf_index: u64,
    /// The raw receipt, as stored.
    pub raw: pb::Receipt,
}

/// Verifies a receipt from `node` in federation `federation`, given what was last seen.
pub fn verify_receipt(
    receipt: &pb::Receipt,
    node: &Member,
    federation: &str,
    known: Option<&KnownCheckpoint>,
) -> Result<VerifiedReceipt, CoordinatorError> {
    let fail = |problem: String| CoordinatorError::Receipt { node: node.name.clone(), problem };
    let origin = log_origin(federation, &node.name);
    let verifier = NoteVerifier::new(&origin, node.public_key);
    let checkpoint = open_checkpoint(&receipt.checkpoint, &verifier)
        .map_err(|e| fail(format!("checkpoint: {e}")))?;
    if checkpoint.origin != origin {
        return Err(fail(format!("checkpoint is for log {:?}, not {origin:?}", checkpoint.origin)));
    }
    let inclusion = hashes_from_bytes(&receipt.inclusion_proof)
        .map_err(|e| fail(format!("inclusion proof: {e}")))?;
    verify_inclusion(
        receipt.leaf_index,
        checkpoint.size,
        &leaf_hash(&receipt.entry),
        &inclusion,
        &checkpoint.root,
    )
    .map_err(|e| fail(format!("entry {} is not in the checkpoint: {e}", receipt.leaf_index)))?;
    if let Some(known) = known {
        if receipt.consistency_from != known.size {
            return Err(fail(format!(
                "consistency proof starts at size {}, but the last size seen is {}",
                receipt.consistency_from, known.size
            )));
        }
        let proof = hashes_from_bytes(&receipt.consistency_proof)
            .map_err(|e| fail(format!("consistency proof: {e}")))?;
        verify_consistency(known.size, checkpoint.size, &known.root, &checkpoint.root, &proof)
            .map_err(|e| {
                fail(format!(
                    "the log at size {} is not an extension of the log seen at size {}: {e}",
                    checkpoint.size, known.size
                ))
            })?;
    }
    let entry = decode_entry(&receipt.entry).map_err(|e| fail(format!("entry: {e}")))?;
    if entry.index != receipt.leaf_index {
        return Err(fail(format!(
            "entry says index {} but the receipt says {}",
            entry.index, receipt.leaf_index
        )));
    }
    Ok(VerifiedReceipt {
        checkpoint,
        note: receipt.checkpoint.clone(),
        entry,
        leaf_index: receipt.leaf_index,
        raw: receipt.clone(),
    })
}

/// One receipt as the store keeps it, for an auditor reconciling the coordinator with its
/// nodes (`fedlink audit reconcile`).
#[derive(Debug, Clone)]
pub struct StoredReceipt {
    /// The row id: receipts in the order they were stored.
    pub id: i64,
    /// The query the receipt answers (16 bytes as stored; not trusted to be well formed).
    pub query_id: Vec<u8>,
    /// The node that gave it.
    pub node: String,
    /// The leaf index the receipt proves.
    pub leaf_index: u64,
    /// The decision of the node's entry, as recorded when it was stored.
    pub decision: String,
    /// The receipt itself, decoded.
    pub receipt: pb::Receipt,
    /// When it was stored (coordinator clock, ms).
    pub received_ms: i64,
}

/// The last checkpoint of a node's log the coordinator verified, with its signed note.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// The node.
    pub node: String,
    /// Tree size.
    pub size: u64,
    /// Root hash, as stored (not trusted to be 32 bytes).
    pub root: Vec<u8>,
    /// The node's signed checkpoint note.
    pub note: String,
    /// When it was last advanced (coordinator clock, ms).
    pub updated_ms: i64,
}

/// Everything the store holds, read in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ReceiptSnapshot {
    /// Every receipt, in the order stored.
    pub receipts: Vec<StoredReceipt>,
    /// The last known checkpoint of each node, by node name.
    pub checkpoints: Vec<StoredCheckpoint>,
}

/// The coordinator's store of node checkpoints and receipts (`receipts.db` in its data folder).
pub struct ReceiptStore {
    /// One SQLite connection; the coordinator is a short-lived command, one writer.
    conn: Connection,
}

impl ReceiptStore {
    /// Opens or creates the store.
    pub fn open(path: &Path) -> Result<Self, CoordinatorError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS node_checkpoint (
                 node TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL,
                 note TEXT NOT NULL, updated_ms INTEGER NOT NULL) STRICT;
             CREATE TABLE IF NOT EXISTS receipt (
                 id INTEGER PRIMARY KEY, query_id BLOB NOT NULL, node TEXT NOT NULL,
                 leaf_index INTEGER NOT NULL, decision TEXT NOT NULL, receipt BLOB NOT NULL,
                 received_ms INTEGER NOT NULL) STRICT;
             CREATE INDEX IF NOT EXISTS receipt_query ON receipt(query_id);
             CREATE TABLE IF NOT EXISTS node_cosignature (
                 node TEXT NOT NULL, size INTEGER NOT NULL, line TEXT NOT NULL,
                 made_ms INTEGER NOT NULL, delivered_ms INTEGER,
                 PRIMARY KEY (node, size)) STRICT;",
        )?;
        Ok(Self { conn })
    }

    /// Opens an existing store read-only, creating and changing nothing: for auditing a copy.
    pub fn open_read_only(path: &Path) -> Result<Self, CoordinatorError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(Self { conn })
    }

    /// Writes a consistent copy of the whole store to `dest` (which must not exist), for an
    /// auditor's export bundle: written under a temporary name, then renamed, so a copy that
    /// exists is whole.
    pub fn copy_to(&self, dest: &Path) -> Result<(), CoordinatorError> {
        let partial = dest.with_extension("partial");
        let partial_text = partial
            .to_str()
            .ok_or_else(|| CoordinatorError::Store(format!("{} is not UTF-8", dest.display())))?;
        self.conn.execute("VACUUM INTO ?1", [partial_text])?;
        std::fs::rename(&partial, dest).map_err(|e| {
            CoordinatorError::Store(format!("renaming {} into place: {e}", partial.display()))
        })
    }

    /// Every stored receipt and node checkpoint, read in one transaction so the two agree.
    /// A receipt whose bytes do not decode is an error naming its row: the store is the
    /// coordinator's own record, and a damaged one cannot be audited.
    pub fn snapshot(&self) -> Result<ReceiptSnapshot, CoordinatorError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut receipts = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT id, query_id, node, leaf_index, decision, receipt, received_ms
                 FROM receipt ORDER BY id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let leaf_index: i64 = row.get(3)?;
                let bytes: Vec<u8> = row.get(5)?;
                let receipt = <pb::Receipt as prost::Message>::decode(bytes.as_slice())
                    .map_err(|e| CoordinatorError::Store(format!("receipt row {id}: {e}")))?;
                receipts.push(StoredReceipt {
                    id,
                    query_id: row.get(1)?,
                    node: row.get(2)?,
                    leaf_index: u64::try_from(leaf_index).map_err(|_| {
                        CoordinatorError::Store(format!("receipt row {id}: negative leaf index"))
                    })?,
                    decision: row.get(4)?,
                    receipt,
                    received_ms: row.get(6)?,
                });
            }
        }
        let mut checkpoints = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT node, size, root, note, updated_ms FROM node_checkpoint ORDER BY node",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let node: String = row.get(0)?;
                let size: i64 = row.get(1)?;
                checkpoints.push(StoredCheckpoint {
                    size: u64::try_from(size).map_err(|_| {
                        CoordinatorError::Store(format!("checkpoint of {node}: negative size"))
                    })?,
                    node,
                    root: row.get(2)?,
                    note: row.get(3)?,
                    updated_ms: row.get(4)?,
                });
            }
        }
        Ok(ReceiptSnapshot { receipts, checkpoints })
    }

    /// The last verified checkpoint of a node's log, if any.
    pub fn known(&self, node: &str) -> Result<Option<KnownCheckpoint>, CoordinatorError> {
        let row = self
            .conn
            .query_row(
                "SELECT size, root FROM node_checkpoint WHERE node = ?1",
                params![node],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((size, root)) => {
                let root = Hash::from_slice(&root).ok_or_else(|| {
                    CoordinatorError::Store(format!("bad root stored for {node}"))
                })?;
                Ok(Some(KnownCheckpoint { size: u64::try_from(size).unwrap_or(0), root }))
            }
        }
    }

    /// Stores a verified receipt, advances the node's known checkpoint and keeps the
    /// coordinator's cosignature of that checkpoint (delivered to the node later), atomically.
    pub fn record(
        &mut self,
        node: &str,
        query_id: &[u8],
        receipt: &VerifiedReceipt,
        cosignature: &str,
        now_ms: i64,
    ) -> Result<(), CoordinatorError> {
        let tx = self.conn.transaction()?;
        let size = i64::try_from(receipt.checkpoint.size)
            .map_err(|_| CoordinatorError::Store("log size out of range".into()))?;
        tx.execute(
            "INSERT INTO node_checkpoint (node, size, root, note, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(node) DO UPDATE SET size = ?2, root = ?3, note = ?4, updated_ms = ?5
             WHERE excluded.size >= node_checkpoint.size",
            params![node, size, receipt.checkpoint.root.0.to_vec(), receipt.note, now_ms],
        )?;
        let decision = match pb::Decision::try_from(receipt.entry.decision) {
            Ok(d) => d.as_str_name().to_string(),
            Err(_) => "UNKNOWN".to_string(),
        };
        tx.execute(
            "INSERT INTO receipt (query_id, node, leaf_index, decision, receipt, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                query_id,
                node,
                i64::try_from(receipt.leaf_index).unwrap_or(i64::MAX),
                decision,
                prost::Message::encode_to_vec(&receipt.raw),
                now_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO node_cosignature (node, size, line, made_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (node, size) DO NOTHING",
            params![node, size, cosignature, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The coordinator's cosignatures of `node`'s checkpoints not yet delivered to it:
    /// (size, line), by size.
    pub fn undelivered_cosignatures(
        &self,
        node: &str,
    ) -> Result<Vec<(u64, String)>, CoordinatorError> {
        let mut stmt = self.conn.prepare(
            "SELECT size, line FROM node_cosignature
             WHERE node = ?1 AND delivered_ms IS NULL ORDER BY size",
        )?;
        let rows = stmt.query_map([node], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (size, line) = row?;
            let size = u64::try_from(size)
                .map_err(|_| CoordinatorError::Store(format!("bad size stored for {node}")))?;
            Ok((size, line))
        })
        .collect()
    }

    /// Marks cosignatures of `node`'s checkpoints at `sizes` as delivered.
    pub fn mark_delivered(
        &mut self,
        node: &str,
        sizes: &[u64],
        now_ms: i64,
    ) -> Result<(), CoordinatorError> {
        let tx = self.conn.transaction()?;
        for size in sizes {
            let size = i64::try_from(*size)
                .map_err(|_| CoordinatorError::Store("log size out of range".into()))?;
            tx.execute(
                "UPDATE node_cosignature SET delivered_ms = ?3 WHERE node = ?1 AND size = ?2",
                params![node, size, now_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
