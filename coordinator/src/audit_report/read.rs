//! Reads one audit log file for the report, read-only and leniently: every entry that decodes
//! is kept, every one that does not is listed with its problem, so a damaged log still gets a
//! report (whose verification section says what is wrong). Strictness is `verify_log`'s job;
//! this reader only gathers what the figures are made of.

use std::collections::BTreeMap;
use std::path::Path;

use fedlink_proto::audit::budget::{BudgetKey, BudgetScope};
use fedlink_proto::audit::entry::decode_entry;
use fedlink_proto::identity::PublicKey;
use fedlink_proto::pb;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::ReportError;

/// What the report reads from a log file.
#[derive(Debug, Clone, Default)]
pub struct LogFile {
    /// The log's origin line, as the file records it.
    pub origin: String,
    /// The public key the file records, base64, if it records a valid one.
    pub public_key: Option<String>,
    /// Every entry that decodes, in log order.
    pub entries: Vec<pb::AuditEntry>,
    /// Entries that do not decode: their index and why.
    pub unreadable: Vec<(u64, String)>,
    /// Every stored checkpoint: its size and when it was made (ms).
    pub checkpoints: Vec<(u64, i64)>,
    /// Witness cosignatures stored beside the checkpoints.
    pub cosignatures: u64,
    /// The budget balances the store recorded, if the file has a balance table.
    pub balances: Option<BTreeMap<BudgetKey, u64>>,
}

/// Reads `path` without changing it, in one read transaction (a snapshot, even while its node
/// keeps appending).
pub fn read_log(path: &Path) -> Result<LogFile, ReportError> {
    let fail = |source: rusqlite::Error| ReportError::Read { path: path.to_path_buf(), source };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    let tx = conn.unchecked_transaction().map_err(fail)?;
    if !has_table(&tx, "log_entry").map_err(fail)? {
        return Err(ReportError::NotAnAuditLog { path: path.to_path_buf() });
    }
    let meta = |key: &str| -> Result<Option<Value>, rusqlite::Error> {
        if !has_table(&tx, "meta")? {
            return Ok(None);
        }
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
    };
    let origin = match meta("origin").map_err(fail)? {
        Some(Value::Text(origin)) => origin,
        _ => String::new(),
    };
    let public_key = match meta("public_key").map_err(fail)? {
        Some(Value::Blob(bytes)) => <[u8; 32]>::try_from(bytes.as_slice())
            .ok()
            .map(|key| PublicKey::from_bytes(key).to_base64()),
        _ => None,
    };

    let mut log = LogFile { origin, public_key, ..LogFile::default() };
    let mut stmt = tx.prepare("SELECT idx, entry FROM log_entry ORDER BY idx").map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        let index: i64 = row.get(0).map_err(fail)?;
        let index = u64::try_from(index).unwrap_or(0);
        match row.get_ref(1).map_err(fail)?.as_blob() {
            Ok(bytes) => match decode_entry(bytes) {
                Ok(entry) => log.entries.push(entry),
                Err(e) => log.unreadable.push((index, e.to_string())),
            },
            Err(_) => log.unreadable.push((index, "the stored entry is not a blob".into())),
        }
    }
    drop(rows);
    drop(stmt);

    if has_table(&tx, "checkpoint").map_err(fail)? {
        let mut stmt =
            tx.prepare("SELECT size, created_ms FROM checkpoint ORDER BY size").map_err(fail)?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).map_err(fail)?;
        for row in rows {
            let (size, created) = row.map_err(fail)?;
            log.checkpoints.push((u64::try_from(size).unwrap_or(0), created));
        }
    }
    if has_table(&tx, "cosignature").map_err(fail)? {
        let count: i64 =
            tx.query_row("SELECT count(*) FROM cosignature", [], |r| r.get(0)).map_err(fail)?;
        log.cosignatures = u64::try_from(count).unwrap_or(0);
    }
    log.balances = read_balances(&tx).map_err(fail)?;
    Ok(log)
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |_| {
        Ok(())
    })
    .optional()
    .map(|found| found.is_some())
}

/// The `budget_balance` rows; a row whose scope or amount is not a balance is left out (the
/// verification section reports such a file as failing).
fn read_balances(conn: &Connection) -> Result<Option<BTreeMap<BudgetKey, u64>>, rusqlite::Error> {
    if !has_table(conn, "budget_balance")? {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT scope, coordinator, requester, dataset, period, spent_micro FROM budget_balance",
    )?;
    let mut rows = stmt.query([])?;
    let mut balances = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let scope: String = row.get(0)?;
        let spent: i64 = row.get(5)?;
        let (Some(scope), Ok(spent)) = (BudgetScope::from_name(&scope), u64::try_from(spent))
        else {
            continue;
        };
        let key = BudgetKey {
            scope,
            coordinator: row.get(1)?,
            requester: row.get(2)?,
            dataset: row.get(3)?,
            period: row.get(4)?,
        };
        balances.insert(key, spent);
    }
    Ok(Some(balances))
}
