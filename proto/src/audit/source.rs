//! Where a log's stored parts are read from: a live SQLite log file ([`FileSource`]) or an
//! export bundle ([`BundleSource`](crate::audit::bundle::BundleSource)), behind one
//! [`LogSource`] trait, so that `verify`, `show` and `export` treat both alike. Reading only:
//! a file is opened read-only, inside one read transaction (a snapshot, even while its node
//! keeps appending).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::audit::budget::BudgetKey;
use crate::audit::bundle::BundleSource;
use crate::audit::merkle::{Hash, MemoryTree, TreeSource};
use crate::audit::store::{FILE_FORMAT, StoreError, ledger::read_balances};
use crate::audit::verify::{EntryProblem, LedgerProblem, PayloadReport, VerifyError};
use crate::identity::PublicKey;

/// What names a log: its origin and the key its checkpoints are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMeta {
    /// The origin line.
    pub origin: String,
    /// The key the source records (whoever rewrote the source could have rewritten it).
    pub public_key: PublicKey,
}

/// One signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The size it is stored under.
    pub size: u64,
    /// The root stored beside the note (a file's `root` column, a bundle's `root`), checked
    /// against the root the note signs.
    pub root: Vec<u8>,
    /// The signed note, exactly as stored.
    pub note: String,
}

/// A witness's cosignature of one checkpoint, as stored in a file's `cosignature` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    /// The checkpoint size it cosigns.
    pub size: u64,
    /// The witness's key name.
    pub witness: String,
    /// The cosignature line.
    pub line: String,
    /// When it was received (ms since the epoch).
    pub received_ms: i64,
}

/// One entry as stored: its exact bytes and whatever the source keeps beside them.
#[derive(Debug, Clone, Copy)]
pub struct StoredEntry<'a> {
    /// The index it is stored under.
    pub index: u64,
    /// The entry's exact bytes (the leaf).
    pub bytes: &'a [u8],
    /// The leaf hash stored beside it.
    pub leaf_hash: &'a [u8],
    /// What only this kind of source keeps, checked against the entry.
    pub beside: Beside<'a>,
}

/// What a source keeps beside an entry besides its bytes and leaf hash.
#[derive(Debug, Clone, Copy)]
pub enum Beside<'a> {
    /// A log file's index columns.
    Columns {
        /// The `created_ms` column.
        created_ms: i64,
        /// The `query_id` column (the replay index).
        query_id: Option<&'a [u8]>,
    },
    /// A bundle's convenience view (JSON), `None` when it is `null`.
    View(Option<&'a serde_json::Value>),
}

/// What a visitor of the entries is handed: an entry, or what is wrong with the record where
/// the next entry should be.
pub type EntryRecord<'a> = Result<StoredEntry<'a>, EntryProblem>;

/// A visitor of the entries, called in stored order; its error stops the walk.
pub type EntryVisitor<'v> = dyn FnMut(EntryRecord<'_>) -> Result<(), VerifyError> + 'v;

/// A log's stored parts, read in one consistent snapshot.
pub trait LogSource {
    /// The file or folder read, for messages.
    fn path(&self) -> &Path;
    /// The log's origin and recorded key.
    fn meta(&mut self) -> Result<LogMeta, VerifyError>;
    /// Every signed checkpoint, in stored order (a file's by size).
    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, VerifyError>;
    /// Calls `visit` with every entry in stored order, streaming (never the whole log in
    /// memory).
    fn for_each_entry(&mut self, visit: &mut EntryVisitor<'_>) -> Result<(), VerifyError>;
    /// After every entry verified: checks what the source derives from the entries (a file's
    /// stored subtrees, a bundle's manifest) against the tree rebuilt from them.
    fn check_derived(&mut self, tree: &MemoryTree) -> Result<(), VerifyError>;
    /// The budget balances recorded, or `None` when the source has none (a log older than
    /// the ledger).
    fn recorded_balances(&mut self) -> Result<Option<BTreeMap<BudgetKey, u64>>, VerifyError>;
    /// Every witness cosignature the source keeps, by size then witness (not checked here:
    /// they are checked against the witnesses' keys by whoever knows them).
    fn cosignatures(&mut self) -> Result<Vec<StoredCosignature>, VerifyError>;
    /// Checks the erasable payloads against the commitments of their entries and the subject
    /// index against the payloads. A bundle carries no payloads (they never leave the node):
    /// nothing to check.
    fn check_payloads(&mut self) -> Result<PayloadReport, VerifyError> {
        Ok(PayloadReport::default())
    }
}

/// Opens `path` as a log file, or as an export bundle if it is a folder.
pub fn open_source(path: &Path) -> Result<Box<dyn LogSource>, VerifyError> {
    if path.is_dir() {
        Ok(Box::new(BundleSource::open(path)?))
    } else {
        Ok(Box::new(FileSource::open(path)?))
    }
}

/// A log file opened read-only, inside one read transaction held until it is dropped.
pub struct FileSource {
    path: PathBuf,
    conn: Connection,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileSource({})", self.path.display())
    }
}

impl FileSource {
    /// Opens the file read-only and starts the snapshot.
    pub fn open(path: &Path) -> Result<Self, VerifyError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| VerifyError::Read { path: path.to_path_buf(), source })?;
        let source = Self { path: path.to_path_buf(), conn };
        // A deferred transaction takes its snapshot at the first read; `Drop` ends it.
        source.conn.execute_batch("BEGIN").map_err(|e| source.read(e))?;
        Ok(source)
    }

    fn read(&self, source: rusqlite::Error) -> VerifyError {
        VerifyError::Read { path: self.path.clone(), source }
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        // Read-only: nothing to keep or lose, and a failure leaves nothing behind.
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

impl LogSource for FileSource {
    fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&mut self) -> Result<LogMeta, VerifyError> {
        use rusqlite::types::Value;
        let not_log =
            |problem: String| VerifyError::NotAnAuditLog { path: self.path.clone(), problem };
        let value = |key: &str| -> Result<Option<Value>, VerifyError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| not_log(format!("no readable meta table ({e})")))
        };
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
        Ok(LogMeta { origin, public_key: PublicKey::from_bytes(key) })
    }

    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, VerifyError> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, root, note FROM checkpoint ORDER BY size")
            .map_err(|e| self.read(e))?;
        let rows = stmt
            .query_map([], |r| {
                let size: i64 = r.get(0)?;
                // Lossy: a note damaged into invalid UTF-8 then fails its signature check,
                // located at its size, instead of failing the read.
                let note = match r.get_ref(2)? {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    _ => String::new(),
                };
                Ok(StoredCheckpoint {
                    size: u64::try_from(size).unwrap_or(0),
                    root: r.get(1)?,
                    note,
                })
            })
            .and_then(Iterator::collect);
        rows.map_err(|e| VerifyError::Read { path: self.path.clone(), source: e })
    }

    fn for_each_entry(&mut self, visit: &mut EntryVisitor<'_>) -> Result<(), VerifyError> {
        let read = |source| VerifyError::Read { path: self.path.clone(), source };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT idx, entry, leaf_hash, created_ms, query_id FROM log_entry ORDER BY idx",
            )
            .map_err(read)?;
        let mut rows = stmt.query([]).map_err(read)?;
        while let Some(row) = rows.next().map_err(read)? {
            let blob = |i| row.get_ref(i).and_then(|v| Ok(v.as_blob()?)).map_err(read);
            let stored_idx: i64 = row.get(0).map_err(read)?;
            let query_id = match row.get_ref(4).map_err(read)? {
                rusqlite::types::ValueRef::Null => None,
                other => Some(other.as_blob().map_err(|e| read(e.into()))?),
            };
            visit(Ok(StoredEntry {
                index: u64::try_from(stored_idx).unwrap_or(u64::MAX),
                bytes: blob(1)?,
                leaf_hash: blob(2)?,
                beside: Beside::Columns { created_ms: row.get(3).map_err(read)?, query_id },
            }))?;
        }
        Ok(())
    }

    fn check_derived(&mut self, tree: &MemoryTree) -> Result<(), VerifyError> {
        check_subtrees(&self.conn, tree).map_err(|e| match e {
            SubtreeCheck::Read(source) => self.read(source),
            SubtreeCheck::Bad(err) => err,
        })
    }

    fn recorded_balances(&mut self) -> Result<Option<BTreeMap<BudgetKey, u64>>, VerifyError> {
        read_balances(&self.conn).map_err(|e| match e {
            StoreError::Sqlite(source) => self.read(source),
            StoreError::Corrupt(problem) => VerifyError::Ledger(LedgerProblem::BadRow(problem)),
            other => VerifyError::Ledger(LedgerProblem::BadRow(other.to_string())),
        })
    }

    /// A file from before witnessing has no `cosignature` table, and so none.
    fn cosignatures(&mut self) -> Result<Vec<StoredCosignature>, VerifyError> {
        let exists: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cosignature'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.read(e))?;
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT size, witness, line, received_ms FROM cosignature ORDER BY size, witness",
            )
            .map_err(|e| self.read(e))?;
        let rows = stmt
            .query_map([], |r| {
                let size: i64 = r.get(0)?;
                Ok(StoredCosignature {
                    size: u64::try_from(size).unwrap_or(0),
                    witness: r.get(1)?,
                    line: r.get(2)?,
                    received_ms: r.get(3)?,
                })
            })
            .and_then(Iterator::collect);
        rows.map_err(|e| VerifyError::Read { path: self.path.clone(), source: e })
    }

    fn check_payloads(&mut self) -> Result<PayloadReport, VerifyError> {
        crate::audit::verify::check_payloads(&self.conn, &self.path)
    }
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
    let missing = |(level, index): (u32, u64)| {
        SubtreeCheck::Bad(VerifyError::Subtree { level, index, problem: "missing".into() })
    };
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
            Some(at) if at == (level, index) => {}
            Some(at) => return Err(missing(at)),
            None => return Err(bad("no such subtree in the log".into())),
        }
        if Hash::from_slice(stored).is_none_or(|h| !h.ct_eq(&want)) {
            return Err(bad(format!(
                "stored {}, but the entries give {want}",
                hex::encode(stored)
            )));
        }
    }
    match expected.next() {
        Some(at) => Err(missing(at)),
        None => Ok(()),
    }
}

/// The (level, index) of every perfect subtree of a tree of `size` leaves, level by level.
fn expected_subtrees(size: u64) -> impl Iterator<Item = (u32, u64)> {
    (0..64u32).flat_map(move |level| (0..(size >> level)).map(move |index| (level, index)))
}
