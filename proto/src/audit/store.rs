//! The append-only audit log in SQLite (audit-privacy-legal.md §1.3): entries, the perfect
//! subtrees that make every proof O(log n) reads, and one signed checkpoint per append, all
//! written in one transaction. The only module of `audit` that does I/O. The budget ledger's
//! balances, charged in the same transaction as their entry, are in [`ledger`]; witnesses'
//! cosignatures of its checkpoints in [`cosignatures`].

pub mod cosignatures;
pub(crate) mod ledger;
pub mod payload;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

pub use crate::audit::entry::{ENTRY_PREFIX, EntryError, decode_entry, encode_entry};

use crate::audit::budget::{BudgetError, BudgetLimits, BudgetScope, micro_to_string};
use crate::audit::checkpoint::{Checkpoint, NoteVerifier, sign_checkpoint, valid_key_name};
use crate::audit::merkle::{Hash, TreeSource, hash_range_from_perfect, leaf_hash, node_hash};
use crate::audit::payload::Payload;
use crate::audit::proof::{ProveError, consistency_proof, hashes_to_bytes, inclusion_proof};
use crate::clock::Clock;
use crate::identity::{IdentityKey, PublicKey};
use crate::pb;

/// The schema. `meta` names the log (origin, key) so a file cannot be reopened as another log;
/// `subtree` holds every perfect subtree (level 0 = leaves), ~2n rows; `checkpoint` holds one
/// signed note per size. The triggers only stop accidents: whoever can drop them can rewrite
/// the file, and what stops that is checkpoints held by others (§1.3). The budget ledger's
/// table is [`ledger::SCHEMA`], created alongside. `cosignature` keeps witnesses' cosignatures
/// of this log's checkpoints (not part of the tree: they are checked against the checkpoint
/// they sign). `payload` keeps each entry's erasable detail, which the entry commits to by a
/// salted hash, and `payload_subject` indexes its subject tokens for subject search; both may
/// be deleted from when retention ends without breaking verification.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value ANY NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS log_entry (
    idx        INTEGER PRIMARY KEY CHECK (idx >= 0),
    entry      BLOB NOT NULL,
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    created_ms INTEGER NOT NULL,
    query_id   BLOB CHECK (query_id IS NULL OR length(query_id) = 16)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS log_entry_query_id
    ON log_entry (query_id) WHERE query_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS subtree (
    level INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
    size       INTEGER PRIMARY KEY CHECK (size > 0),
    root       BLOB NOT NULL CHECK (length(root) = 32),
    note       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
CREATE TRIGGER IF NOT EXISTS log_entry_no_update BEFORE UPDATE ON log_entry
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_entry_no_delete BEFORE DELETE ON log_entry
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS subtree_no_update BEFORE UPDATE ON subtree
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS subtree_no_delete BEFORE DELETE ON subtree
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoint_no_update BEFORE UPDATE ON checkpoint
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoint_no_delete BEFORE DELETE ON checkpoint
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_update BEFORE UPDATE ON meta
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_delete BEFORE DELETE ON meta
    BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TABLE IF NOT EXISTS cosignature (
    size        INTEGER NOT NULL CHECK (size > 0),
    witness     TEXT NOT NULL,
    line        TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
) STRICT;
CREATE TABLE IF NOT EXISTS payload (
    idx             INTEGER PRIMARY KEY CHECK (idx >= 0),
    nonce           BLOB NOT NULL CHECK (length(nonce) = 16),
    body            BLOB,
    delete_after_ms INTEGER,
    erased_ms       INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS payload_subject (
    token BLOB NOT NULL CHECK (length(token) = 16),
    idx   INTEGER NOT NULL,
    PRIMARY KEY (token, idx)
) STRICT, WITHOUT ROWID;
";

/// The `meta` value naming the file format, checked by `verify`.
pub const FILE_FORMAT: &str = "fedlink-audit/v1";

/// Why the log could not be opened, read or appended to.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A charge would take a balance past its limit. Nothing was appended or charged.
    #[error(
        "the {scope} privacy budget for this dataset and period is {} epsilon, {} is spent, \
         and this asks for {} more",
        micro_to_string(*limit_micro), micro_to_string(*spent_micro),
        micro_to_string(*requested_micro)
    )]
    BudgetExceeded {
        /// The balance that would be overspent (the coordinator's is checked first).
        scope: BudgetScope,
        /// What that balance has spent, in millionths of epsilon.
        spent_micro: u64,
        /// Its limit, in millionths of epsilon.
        limit_micro: u64,
        /// What the entry charges, in millionths of epsilon.
        requested_micro: u64,
    },
    /// `append_charged` was given an entry with no budget charge.
    #[error("a charged append needs an entry with a budget charge; this one has none")]
    ChargeMissing,
    /// `append` was given an entry with a budget charge, which only `append_charged` checks
    /// against the limits.
    #[error("an entry with a budget charge must be appended with its limits (append_charged)")]
    ChargeNeedsLimits,
    /// Stored data is inconsistent with itself; `fedlink audit verify` says where.
    #[error("the audit log is damaged or was altered: {0}")]
    Corrupt(String),
    /// No entry has that index.
    #[error("the audit log has no entry {index} (size {size})")]
    IndexOutOfRange {
        /// Index asked for.
        index: u64,
        /// Log size.
        size: u64,
    },
    /// The origin cannot be a signed-note key name.
    #[error("{0:?} cannot be a log origin: it must be non-empty, with no spaces and no '+'")]
    InvalidOrigin(String),
    /// The file was created for another signing key.
    #[error(
        "this audit log file was created for public key {recorded}, not {given}: \
         open it with the key that created it"
    )]
    KeyMismatch {
        /// Key recorded in the file, base64.
        recorded: String,
        /// Key given, base64.
        given: String,
    },
    /// The entry's budget charge does not name a whole balance or charges nothing.
    #[error("invalid budget charge: {0}")]
    InvalidCharge(#[from] BudgetError),
    /// The caller claims to have seen more of the log than there is: a fork or a rollback.
    #[error("the caller has seen {known} entries of this log, but it holds only {size}")]
    KnownSizeAhead {
        /// Size the caller knows.
        known: u64,
        /// Size of the log.
        size: u64,
    },
    /// The file was created for another log.
    #[error("this audit log file was created for origin {recorded:?}, not {given:?}")]
    OriginMismatch {
        /// Origin recorded in the file.
        recorded: String,
        /// Origin given.
        given: String,
    },
    /// The query id is already claimed by an entry: a replay. Nothing was appended.
    #[error("query id already logged at entry {first_index}")]
    QueryIdSeen {
        /// The entry that claimed it first.
        first_index: u64,
    },
    /// The OS random source failed (a payload's nonce). Nothing was appended.
    #[error("the OS random source failed")]
    Random,
    /// SQLite failed.
    #[error("audit log database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<ProveError<StoreError>> for StoreError {
    fn from(e: ProveError<StoreError>) -> Self {
        match e {
            ProveError::Source(e) => e,
            other => StoreError::Corrupt(format!("cannot build a proof: {other}")),
        }
    }
}

/// What one append produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The new entry's leaf index.
    pub index: u64,
    /// The log size after it (`index + 1`).
    pub size: u64,
    /// The root at that size.
    pub root: Hash,
    /// The signed checkpoint note for that size.
    pub checkpoint: String,
    /// The entry exactly as stored and hashed.
    pub entry_bytes: Vec<u8>,
}

/// One node's or coordinator's audit log, open for appending.
///
/// Single writer: `append` needs `&mut self`, and callers that share a log wrap it in a
/// `Mutex` (the node does, and only locks it inside `spawn_blocking`).
pub struct AuditLog {
    /// The one connection. Every append runs in its own `BEGIN IMMEDIATE` transaction, so a
    /// crash leaves either the whole append (entry, subtrees, checkpoint) or none of it.
    conn: Connection,
    /// The log's origin, the first line of its checkpoints and the name of its key.
    origin: String,
    /// The key that signs checkpoints.
    key: IdentityKey,
    /// Its public half, as recorded in `meta`.
    public_key: PublicKey,
    /// Where entry and checkpoint times come from (injected, STYLE.md practice 13).
    clock: Arc<dyn Clock>,
    /// Number of entries. A cache of `max(idx) + 1`, updated after each commit; appends read
    /// the next index inside their transaction, so a stale cache never makes a gap.
    size: u64,
}

impl AuditLog {
    /// Opens the log at `path`, creating it for `origin` and `key` if it is new. Refuses a file
    /// that records another origin or another key, and a file whose latest checkpoint does not
    /// cover exactly its entries.
    pub fn open(
        path: &Path,
        origin: &str,
        key: IdentityKey,
        clock: Arc<dyn Clock>,
    ) -> Result<AuditLog, StoreError> {
        if !valid_key_name(origin) {
            return Err(StoreError::InvalidOrigin(origin.to_string()));
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // WAL lets `fedlink audit verify` read while the node writes; FULL syncs every commit,
        // so nothing is answered that a power cut could take out of the log.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let public_key = key.public_key();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        // IF NOT EXISTS, so a log from before the ledger gains an empty one when reopened.
        tx.execute_batch(ledger::SCHEMA)?;
        tx.execute_batch(payload::SCHEMA)?;
        let recorded: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| r.get(0))
            .optional()?;
        match recorded {
            None => {
                tx.execute("INSERT INTO meta (key, value) VALUES ('format', ?1)", [FILE_FORMAT])?;
                tx.execute("INSERT INTO meta (key, value) VALUES ('origin', ?1)", [origin])?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('public_key', ?1)",
                    [public_key.as_bytes().as_slice()],
                )?;
            }
            Some(recorded) if recorded != origin => {
                return Err(StoreError::OriginMismatch { recorded, given: origin.to_string() });
            }
            Some(_) => {
                let stored: Vec<u8> =
                    tx.query_row("SELECT value FROM meta WHERE key = 'public_key'", [], |r| {
                        r.get(0)
                    })?;
                if stored.as_slice() != public_key.as_bytes().as_slice() {
                    return Err(StoreError::KeyMismatch {
                        recorded: base64_of(&stored),
                        given: public_key.to_base64(),
                    });
                }
            }
        }
        tx.commit()?;
        let size = next_index(&conn)?;
        let signed = latest_checkpoint_on(&conn)?.map_or(0, |(s, _, _)| s);
        if signed != size {
            return Err(StoreError::Corrupt(format!(
                "it holds {size} entries, but its latest checkpoint covers {signed}"
            )));
        }
        Ok(AuditLog { conn, origin: origin.to_string(), key, public_key, clock, size })
    }

    /// Appends `entry`, with its `origin`, `index` and `time_ms` set here, and signs a
    /// checkpoint for the new size, in one transaction.
    ///
    /// With `claim_query_id`, the entry claims that query id; if an entry already holds it,
    /// the append is refused with [`StoreError::QueryIdSeen`] and nothing is written. Checking
    /// and claiming in the same transaction is what makes replay refusal race-free.
    ///
    /// Refuses an entry with a budget charge ([`StoreError::ChargeNeedsLimits`]): those go
    /// through [`AuditLog::append_charged`], so no charge reaches the log unchecked.
    pub fn append(
        &mut self,
        entry: pb::AuditEntry,
        claim_query_id: Option<[u8; 16]>,
    ) -> Result<Appended, StoreError> {
        if entry.budget.is_some() {
            return Err(StoreError::ChargeNeedsLimits);
        }
        self.append_in_transaction(entry, claim_query_id, None, None)
    }

    /// The one append `append`, `append_charged` and `append_with_payload` run: claim the
    /// query id, charge the ledger when given limits, store the payload when given one, write
    /// the entry and its subtrees, sign a checkpoint, all in one `BEGIN IMMEDIATE`
    /// transaction. Any refusal returns before the commit, and dropping the transaction rolls
    /// back whatever was written.
    fn append_in_transaction(
        &mut self,
        entry: pb::AuditEntry,
        claim_query_id: Option<[u8; 16]>,
        limits: Option<&BudgetLimits>,
        payload: Option<(&Payload, i64)>,
    ) -> Result<Appended, StoreError> {
        let now = self.clock.now().0;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let appended = self.write_entry(&tx, entry, claim_query_id, limits, payload, now)?;
        tx.commit()?;
        self.size = appended.size;
        Ok(appended)
    }

    /// Writes one entry at time `now` inside the caller's `IMMEDIATE` transaction `tx` (the
    /// caller commits, then records the new size).
    fn write_entry(
        &self,
        tx: &Connection,
        mut entry: pb::AuditEntry,
        claim_query_id: Option<[u8; 16]>,
        limits: Option<&BudgetLimits>,
        payload: Option<(&Payload, i64)>,
        now: i64,
    ) -> Result<Appended, StoreError> {
        if let Some(id) = &claim_query_id
            && let Some(first_index) = query_id_on(tx, id)?
        {
            return Err(StoreError::QueryIdSeen { first_index });
        }
        if let Some(limits) = limits {
            // Reading the balances inside the IMMEDIATE transaction holds the write lock from
            // check to commit, so two appends can never both fit under the same headroom.
            ledger::charge(tx, &entry, limits)?;
        }
        let index = next_index(tx)?;
        entry.origin = self.origin.clone();
        entry.index = index;
        entry.time_ms = now;
        if let Some((payload, retain_for_ms)) = payload {
            let delete_after_ms = now.saturating_add(retain_for_ms.max(0));
            entry.payload_commitment =
                payload::insert(tx, index, payload, delete_after_ms)?.to_vec();
        }
        let entry_bytes = encode_entry(&entry);
        let leaf = leaf_hash(&entry_bytes);
        tx.prepare_cached(
            "INSERT INTO log_entry (idx, entry, leaf_hash, created_ms, query_id)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            to_sql(index)?,
            entry_bytes,
            leaf.0.as_slice(),
            now,
            claim_query_id.as_ref().map(|q| q.as_slice())
        ])?;
        add_subtrees(tx, index, leaf)?;
        let size = index + 1;
        let root = StoredTree { conn: tx, size }.range_hash(0, size)?;
        let cp = Checkpoint { origin: self.origin.clone(), size, root };
        let checkpoint = sign_checkpoint(&cp, &self.origin, &self.key);
        tx.prepare_cached(
            "INSERT INTO checkpoint (size, root, note, created_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![to_sql(size)?, root.0.as_slice(), checkpoint, now])?;
        Ok(Appended { index, size, root, checkpoint, entry_bytes })
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The key that signs its checkpoints.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The note verifier others need to check this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::new(&self.origin, self.public_key)
    }

    /// The latest checkpoint: size, root and signed note. `None` while the log is empty.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, Hash, String)>, StoreError> {
        latest_checkpoint_on(&self.conn)
    }

    /// The checkpoint signed for exactly `size`, if there is one: root and signed note.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<(Hash, String)>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT root, note FROM checkpoint WHERE size = ?1")?
            .query_row([to_sql(size)?], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))
            .optional()?;
        row.map(|(root, note)| Ok((hash_column(&root, "checkpoint root")?, note))).transpose()
    }

    /// The entry that claimed `id`, if any.
    pub fn query_id_seen(&self, id: &[u8; 16]) -> Result<Option<u64>, StoreError> {
        query_id_on(&self.conn, id)
    }

    /// Entry `index`, exactly as stored and hashed.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        entry_on(&self.conn, index, self.size)
    }

    /// Calls `f` with every entry in index order, without holding them all in memory.
    pub fn for_each_entry(
        &self,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT idx, entry FROM log_entry ORDER BY idx")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let index = from_sql(row.get(0)?)?;
            let bytes = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            f(index, bytes)?;
        }
        Ok(())
    }

    /// Every entry, in index order.
    pub fn entries(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        self.for_each_entry(|index, bytes| {
            out.push((index, bytes.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    /// A receipt for entry `index` (audit-privacy-legal.md §1.4): the entry, its inclusion
    /// proof in the latest checkpoint's tree, that checkpoint, and a consistency proof from
    /// `from_size`, the size the recipient last verified (0 if none).
    pub fn receipt(&self, index: u64, from_size: u64) -> Result<pb::Receipt, StoreError> {
        // One read transaction, so the checkpoint and the proofs describe the same tree.
        let tx = self.conn.unchecked_transaction()?;
        let (size, _, note) =
            latest_checkpoint_on(&tx)?.ok_or(StoreError::IndexOutOfRange { index, size: 0 })?;
        if index >= size {
            return Err(StoreError::IndexOutOfRange { index, size });
        }
        if from_size > size {
            return Err(StoreError::KnownSizeAhead { known: from_size, size });
        }
        let entry = entry_on(&tx, index, size)?;
        let tree = StoredTree { conn: &tx, size };
        let inclusion = inclusion_proof(&tree, index, size)?;
        let consistency = consistency_proof(&tree, from_size, size)?;
        Ok(pb::Receipt {
            entry,
            leaf_index: index,
            inclusion_proof: hashes_to_bytes(&inclusion),
            checkpoint: note,
            consistency_from: from_size,
            consistency_proof: hashes_to_bytes(&consistency),
        })
    }
}

/// Proofs over the stored log read perfect subtrees, O(log n) rows per range.
impl TreeSource for AuditLog {
    type Error = StoreError;

    fn size(&self) -> u64 {
        self.size
    }

    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, StoreError> {
        StoredTree { conn: &self.conn, size: self.size }.range_hash(start, end)
    }
}

/// The first `size` leaves of the stored tree, read through `conn` (which may be inside a
/// transaction).
struct StoredTree<'c> {
    /// Connection or transaction to read through.
    conn: &'c Connection,
    /// Leaves in view.
    size: u64,
}

impl TreeSource for StoredTree<'_> {
    type Error = StoreError;

    fn size(&self) -> u64 {
        self.size
    }

    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, StoreError> {
        if start >= end || end > self.size {
            return Err(StoreError::Corrupt(format!(
                "asked for leaves {start}..{end} of a tree of {}",
                self.size
            )));
        }
        hash_range_from_perfect(start, end, &mut |level, idx| subtree_on(self.conn, level, idx))
    }
}

/// Stores the new leaf and every perfect subtree it completes: one merge per trailing one bit
/// of its index (RFC 9162 §2.1.2).
fn add_subtrees(conn: &Connection, index: u64, leaf: Hash) -> Result<(), StoreError> {
    let mut insert =
        conn.prepare_cached("INSERT INTO subtree (level, idx, hash) VALUES (?1, ?2, ?3)")?;
    insert.execute(params![0, to_sql(index)?, leaf.0.as_slice()])?;
    let (mut level, mut i, mut hash) = (0u32, index, leaf);
    while i & 1 == 1 {
        let left = subtree_on(conn, level, i - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        i >>= 1;
        insert.execute(params![level, to_sql(i)?, hash.0.as_slice()])?;
    }
    Ok(())
}

fn subtree_on(conn: &Connection, level: u32, idx: u64) -> Result<Hash, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hash FROM subtree WHERE level = ?1 AND idx = ?2")?
        .query_row(params![level, to_sql(idx)?], |r| r.get(0))
        .optional()?;
    let bytes = bytes.ok_or_else(|| {
        StoreError::Corrupt(format!("the subtree at level {level}, index {idx} is missing"))
    })?;
    hash_column(&bytes, "subtree hash")
}

fn next_index(conn: &Connection) -> Result<u64, StoreError> {
    let next: i64 =
        conn.query_row("SELECT coalesce(max(idx) + 1, 0) FROM log_entry", [], |r| r.get(0))?;
    from_sql(next)
}

fn latest_checkpoint_on(conn: &Connection) -> Result<Option<(u64, Hash, String)>, StoreError> {
    let row = conn
        .prepare_cached("SELECT size, root, note FROM checkpoint ORDER BY size DESC LIMIT 1")?
        .query_row([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?))
        })
        .optional()?;
    row.map(|(size, root, note)| {
        Ok((from_sql(size)?, hash_column(&root, "checkpoint root")?, note))
    })
    .transpose()
}

fn query_id_on(conn: &Connection, id: &[u8; 16]) -> Result<Option<u64>, StoreError> {
    let idx: Option<i64> = conn
        .prepare_cached("SELECT idx FROM log_entry WHERE query_id = ?1 ORDER BY idx LIMIT 1")?
        .query_row([id.as_slice()], |r| r.get(0))
        .optional()?;
    idx.map(from_sql).transpose()
}

fn entry_on(conn: &Connection, index: u64, size: u64) -> Result<Vec<u8>, StoreError> {
    conn.prepare_cached("SELECT entry FROM log_entry WHERE idx = ?1")?
        .query_row([to_sql(index)?], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::IndexOutOfRange { index, size })
}

fn hash_column(bytes: &[u8], what: &str) -> Result<Hash, StoreError> {
    Hash::from_slice(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("a {what} is {} bytes, not 32", bytes.len())))
}

/// SQLite integers are signed 64-bit; log positions beyond 2^63 cannot be stored.
fn to_sql(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit in SQLite")))
}

fn from_sql(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative position {n}")))
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::{MemoryTree, root};
    use crate::clock::{MockClock, UnixMillis};

    fn log_in(dir: &Path) -> AuditLog {
        let key = IdentityKey::generate().expect("key");
        let clock = Arc::new(MockClock::new(UnixMillis(1_000)));
        AuditLog::open(&dir.join("audit.db"), "fedlink.audit/unit", key, clock).expect("open")
    }

    #[test]
    fn stored_subtrees_match_a_memory_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = log_in(dir.path());
        let mut tree = MemoryTree::new();
        let mut leaves = Vec::new();
        for _ in 0..21 {
            let a = log.append(pb::AuditEntry::default(), None).expect("append");
            let leaf = leaf_hash(&a.entry_bytes);
            tree.push(leaf);
            leaves.push(leaf);
            assert_eq!(a.root, root(&leaves));
        }
        for start in 0..21 {
            for end in start + 1..=21 {
                assert_eq!(
                    log.range_hash(start, end).expect("stored"),
                    tree.range_hash(start, end).expect("memory"),
                    "{start}..{end}"
                );
            }
        }
        let stored: i64 =
            log.conn.query_row("SELECT count(*) FROM subtree", [], |r| r.get(0)).expect("count");
        // 21 leaves + 10 + 5 + 2 + 1 perfect subtrees above them.
        assert_eq!(stored, 21 + 10 + 5 + 2 + 1);
    }
}
