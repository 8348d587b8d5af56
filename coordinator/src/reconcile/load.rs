//! Loading a SQLite audit log file for reconciliation: opened read-only, read in one
//! transaction (a snapshot, even while its owner keeps appending), then verified on its own
//! with `fedlink_proto::audit::verify`. The only module of `reconcile` that touches SQLite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fedlink_proto::audit::verify::verify_log;
use fedlink_proto::federation::Federation;
use fedlink_proto::identity::PublicKey;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::log::{HeldCosignature, LoadedEntry, LoadedLog, SelfCheck, SelfCheckFailure};

/// Why a log file could not be loaded at all (a log that loads but does not verify is a
/// finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// SQLite could not open or read it.
    #[error("cannot read the audit log {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// It is not a fedlink audit log.
    #[error("{path} is not a fedlink audit log: {problem}")]
    NotALog {
        /// The file.
        path: PathBuf,
        /// Why not.
        problem: String,
    },
    /// Its origin names no member of the federation file it was to be pinned to.
    #[error("{path}: the log's origin {origin:?} names no member of federation {federation:?}")]
    NotAMember {
        /// The file.
        path: PathBuf,
        /// The log's origin.
        origin: String,
        /// The federation file's federation.
        federation: String,
    },
}

/// Loads the log at `path`. With `federation`, the log's member (from its origin) must be in
/// it, and the log is verified against the key the federation file lists for that member.
pub fn load_log(path: &Path, federation: Option<&Federation>) -> Result<LoadedLog, LoadError> {
    let read = |source| LoadError::Read { path: path.to_path_buf(), source };
    let not_log = |problem: &str| LoadError::NotALog {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    };
    if !path.is_file() {
        return Err(not_log("no such file"));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(read)?;
    let tx = conn.unchecked_transaction().map_err(read)?;
    let meta = |key: &str| -> Result<Option<Value>, LoadError> {
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|_| not_log("it has no readable meta table"))
    };
    let Some(Value::Text(origin)) = meta("origin")? else {
        return Err(not_log("it records no origin"));
    };
    let public_key = match meta("public_key")? {
        Some(Value::Blob(bytes)) => <[u8; 32]>::try_from(bytes.as_slice())
            .map(PublicKey::from_bytes)
            .map_err(|_| not_log("its public key is not 32 bytes"))?,
        _ => return Err(not_log("it records no public key")),
    };
    let pinned_key = match federation {
        None => None,
        Some(federation) => {
            let member = super::log::federation_and_member(&origin)
                .filter(|(name, _)| *name == federation.name)
                .and_then(|(_, member)| federation.member(member));
            let member = member.ok_or_else(|| LoadError::NotAMember {
                path: path.to_path_buf(),
                origin: origin.clone(),
                federation: federation.name.clone(),
            })?;
            Some(member.public_key)
        }
    };

    let mut entries = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT idx, entry FROM log_entry ORDER BY idx").map_err(read)?;
        let mut rows = stmt.query([]).map_err(read)?;
        while let Some(row) = rows.next().map_err(read)? {
            let index: i64 = row.get(0).map_err(read)?;
            let bytes: Vec<u8> = row.get(1).map_err(read)?;
            let index =
                u64::try_from(index).map_err(|_| not_log("an entry has a negative index"))?;
            entries.push(LoadedEntry::from_bytes(index, bytes));
        }
    }
    let mut checkpoints = BTreeMap::new();
    {
        let mut stmt =
            tx.prepare("SELECT size, note FROM checkpoint ORDER BY size").map_err(read)?;
        let mut rows = stmt.query([]).map_err(read)?;
        while let Some(row) = rows.next().map_err(read)? {
            let size: i64 = row.get(0).map_err(read)?;
            let size =
                u64::try_from(size).map_err(|_| not_log("a checkpoint has a negative size"))?;
            checkpoints.insert(size, row.get::<_, String>(1).map_err(read)?);
        }
    }
    let cosignatures = read_cosignatures(&tx).map_err(read)?;
    drop(tx);
    drop(conn);

    let self_check = match verify_log(path, pinned_key.as_ref()) {
        Ok(report) => SelfCheck::Verified(report),
        Err(e) => SelfCheck::Failed(SelfCheckFailure::from(&e)),
    };
    Ok(LoadedLog {
        source: path.display().to_string(),
        origin,
        public_key,
        pinned_key,
        entries,
        checkpoints,
        cosignatures,
        self_check,
    })
}

/// The `cosignature` table, which logs written before witnessing may lack.
fn read_cosignatures(conn: &Connection) -> Result<Vec<HeldCosignature>, rusqlite::Error> {
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'cosignature'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT size, witness, line FROM cosignature ORDER BY size")?;
    let rows = stmt.query_map([], |r| {
        let size: i64 = r.get(0)?;
        Ok(HeldCosignature {
            size: u64::try_from(size).unwrap_or(0),
            witness: r.get(1)?,
            line: r.get(2)?,
        })
    })?;
    rows.collect()
}
