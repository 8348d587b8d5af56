//! Dataset storage in SQLite (`datasets.db` in the node's data folder): one table per dataset
//! holding the normalised rows, a quarantine table holding every refused row with its line and
//! reason, and an import-run table that reconciles every import.
//!
//! Table and column names in SQL text come only from validated dataset names and generated
//! attribute names (`plan::sql_names`); every value is a bound parameter.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::dataset::batch::{Cell, RenderedRow, RowBatch};
use crate::dataset::plan::ImportPlan;
use crate::dataset::row::Rejection;
use crate::dataset::schema::{ColumnRole, DatasetSchema, valid_dataset_name};

/// Why the dataset store failed.
#[derive(Debug, thiserror::Error)]
pub enum DatasetStoreError {
    /// SQLite failed.
    #[error("dataset store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The dataset was imported before under a different schema.
    #[error(
        "dataset {0:?} was imported before with a different schema; importing under a changed \
         schema would mix incompatible rows (move the old data folder aside or use a new dataset \
         name)"
    )]
    SchemaChanged(String),
    /// A dataset name that is not a safe identifier reached the store.
    #[error("invalid dataset name {0:?}")]
    BadName(String),
}

/// What storing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new record.
    Inserted,
    /// A record seen before, with changed content: replaced.
    Replaced,
    /// A record seen before, unchanged.
    Unchanged,
    /// The record id already appeared earlier in this same import.
    Duplicate {
        /// The line it first appeared on.
        first_line: u64,
        /// Whether the content was the same.
        same_content: bool,
    },
}

/// The node's dataset database.
pub struct DatasetStore {
    /// One connection; imports run in one transaction each.
    conn: Connection,
}

const META: &str = "
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA cache_size=-65536;
CREATE TABLE IF NOT EXISTS dataset (
    name TEXT PRIMARY KEY,
    schema_toml TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS import_run (
    import_id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    source TEXT NOT NULL,
    source_sha256 BLOB,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    rows_read INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    replaced INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES import_run(import_id),
    dataset TEXT NOT NULL,
    line INTEGER NOT NULL,
    record_id TEXT,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS quarantine_import ON quarantine(import_id);
";

/// The fixed columns of every dataset table, before its attribute columns.
const FIXED_COLUMNS: &[(&str, &str)] = &[
    ("nhs_number", "TEXT"),
    ("nhs_status", "TEXT"),
    ("forenames", "TEXT"),
    ("surname", "TEXT"),
    // "SURNAME, FORENAMES; SURNAME, FORENAMES" (`batch::RowBatch::push_row`).
    ("aliases", "TEXT"),
    ("dob", "TEXT"),
    ("sex", "TEXT"),
    ("postcode", "TEXT"),
    ("uprn", "INTEGER"),
    ("parent_uprn", "INTEGER"),
    ("house_number", "TEXT"),
    ("event_date", "TEXT"),
    ("event_time", "TEXT"),
    ("subject_role", "TEXT"),
    ("set_aside", "TEXT"),
    // Who the row is about, as a stable 63-bit hash (see `row::subject_key`): what distinct
    // counts and per-subject contribution bounds key on, decided once at import.
    ("subject", "INTEGER"),
];

/// The table holding a dataset's rows.
pub fn table_name(dataset: &str) -> Result<String, DatasetStoreError> {
    if valid_dataset_name(dataset) {
        Ok(format!("ds_{dataset}"))
    } else {
        Err(DatasetStoreError::BadName(dataset.to_string()))
    }
}

impl DatasetStore {
    /// Opens or creates the store.
    pub fn open(path: &Path) -> Result<Self, DatasetStoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(META)?;
        Ok(Self { conn })
    }

    /// Creates the dataset's table on first import; refuses a changed schema later.
    pub fn prepare(&mut self, plan: &ImportPlan, now_ms: i64) -> Result<(), DatasetStoreError> {
        let schema = &plan.schema;
        let table = table_name(&schema.name)?;
        let text = canonical_schema(schema);
        let known: Option<String> = self
            .conn
            .query_row("SELECT schema_toml FROM dataset WHERE name = ?1", [&schema.name], |r| {
                r.get(0)
            })
            .optional()?;
        match known {
            Some(k) if k == text => return Ok(()),
            Some(_) => return Err(DatasetStoreError::SchemaChanged(schema.name.clone())),
            None => {}
        }
        let mut columns = vec![
            "record_id TEXT PRIMARY KEY".to_string(),
            "row_hash BLOB NOT NULL".to_string(),
            "import_id INTEGER NOT NULL".to_string(),
            "line INTEGER NOT NULL".to_string(),
        ];
        columns.extend(FIXED_COLUMNS.iter().map(|(n, t)| format!("{n} {t}")));
        for a in &plan.attributes {
            let ty = if matches!(a.role, ColumnRole::Numeric { .. }) { "REAL" } else { "TEXT" };
            columns.push(format!("{} {ty}", a.sql));
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(&format!("CREATE TABLE {table} ({}) STRICT;", columns.join(", ")))?;
        tx.execute(
            "INSERT INTO dataset (name, schema_toml, created_ms) VALUES (?1, ?2, ?3)",
            params![schema.name, text, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Starts an import: one transaction for the whole file, so a crash loses nothing that was
    /// there before and leaves nothing half-imported.
    pub fn begin_import(
        &mut self,
        plan: &ImportPlan,
        source: &str,
        now_ms: i64,
    ) -> Result<ImportTx<'_>, DatasetStoreError> {
        let table = table_name(&plan.schema.name)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO import_run (dataset, source, started_ms) VALUES (?1, ?2, ?3)",
            params![plan.schema.name, source, now_ms],
        )?;
        let import_id = tx.last_insert_rowid();
        let mut names = vec!["record_id", "row_hash", "import_id", "line"];
        names.extend(FIXED_COLUMNS.iter().map(|(n, _)| *n));
        names.extend(plan.attributes.iter().map(|a| a.sql.as_str()));
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let columns = names.join(", ");
        let values = placeholders.join(", ");
        let insert_new = format!(
            "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT(record_id) DO NOTHING"
        );
        let replace = format!("INSERT OR REPLACE INTO {table} ({columns}) VALUES ({values})");
        let lookup = format!("SELECT import_id, row_hash, line FROM {table} WHERE record_id = ?1");
        let touch = format!("UPDATE {table} SET import_id = ?2, line = ?3 WHERE record_id = ?1");
        Ok(ImportTx {
            tx,
            import_id,
            dataset: plan.schema.name.clone(),
            insert_new,
            replace,
            lookup,
            touch,
        })
    }

    /// When the last finished import into each dataset ended (ms since the epoch), by name.
    pub fn last_imports(&self) -> Result<Vec<(String, i64)>, DatasetStoreError> {
        Ok(self
            .conn
            .prepare(
                "SELECT dataset, max(finished_ms) FROM import_run
                 WHERE finished_ms IS NOT NULL GROUP BY dataset ORDER BY dataset",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?)
    }

    /// Row counts of every dataset, by name.
    pub fn row_counts(&self) -> Result<Vec<(String, u64)>, DatasetStoreError> {
        let names: Vec<String> = self
            .conn
            .prepare("SELECT name FROM dataset ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        names
            .into_iter()
            .map(|name| {
                let table = table_name(&name)?;
                let n: i64 =
                    self.conn
                        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
                Ok((name, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// The connection, for read-only queries by other modules.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The schema as stored: its canonical TOML, so cosmetic edits to the file do not count as a
/// change.
fn canonical_schema(schema: &DatasetSchema) -> String {
    schema.to_toml().unwrap_or_else(|_| format!("{schema:?}"))
}

/// One import in progress.
pub struct ImportTx<'a> {
    tx: Transaction<'a>,
    import_id: i64,
    dataset: String,
    insert_new: String,
    replace: String,
    lookup: String,
    touch: String,
}

/// Counts an import reconciles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records that replaced their earlier version.
    pub replaced: u64,
    /// Records already stored unchanged.
    pub unchanged: u64,
    /// Rows quarantined.
    pub quarantined: u64,
}

impl ImportCounts {
    /// Whether every row read is accounted for.
    pub fn reconciles(&self) -> bool {
        self.rows_read == self.inserted + self.replaced + self.unchanged + self.quarantined
    }
}

impl ImportTx<'_> {
    /// This import's id.
    pub fn import_id(&self) -> i64 {
        self.import_id
    }

    /// Stores a row, or reports it as a duplicate within this import (the caller quarantines).
    ///
    /// A new record costs one insert: the common case of a first import never looks anything
    /// up. Only a conflict on the record id leads to the lookup that tells a duplicate in this
    /// file from an unchanged or a changed record of an earlier import.
    pub fn put(
        &mut self,
        batch: &RowBatch,
        row: &RenderedRow,
    ) -> Result<PutOutcome, DatasetStoreError> {
        let line = i64::try_from(row.line).unwrap_or(i64::MAX);
        if self.write(&self.insert_new, batch, row)? == 1 {
            return Ok(PutOutcome::Inserted);
        }
        let record_id = batch.record_id(row);
        let existing: Option<(i64, Vec<u8>, i64)> = self
            .tx
            .prepare_cached(&self.lookup)?
            .query_row([record_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match existing {
            Some((import, hash, first)) if import == self.import_id => Ok(PutOutcome::Duplicate {
                first_line: u64::try_from(first).unwrap_or(0),
                same_content: hash == row.row_hash,
            }),
            Some((_, hash, _)) if hash == row.row_hash => {
                self.tx.prepare_cached(&self.touch)?.execute(params![
                    record_id,
                    self.import_id,
                    line
                ])?;
                Ok(PutOutcome::Unchanged)
            }
            _ => {
                self.write(&self.replace, batch, row)?;
                Ok(PutOutcome::Replaced)
            }
        }
    }

    /// Binds a rendered row to `sql` (an insert over every column) and runs it; returns rows
    /// changed. Only slices of the batch are bound: nothing is allocated per row.
    fn write(
        &self,
        sql: &str,
        batch: &RowBatch,
        row: &RenderedRow,
    ) -> Result<usize, DatasetStoreError> {
        let mut stmt = self.tx.prepare_cached(sql)?;
        stmt.raw_bind_parameter(1, batch.record_id(row))?;
        stmt.raw_bind_parameter(2, row.row_hash.as_slice())?;
        stmt.raw_bind_parameter(3, self.import_id)?;
        stmt.raw_bind_parameter(4, i64::try_from(row.line).unwrap_or(i64::MAX))?;
        for (i, cell) in batch.cells(row).iter().enumerate() {
            let index = 5 + i;
            match *cell {
                Cell::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null)?,
                Cell::Int(n) => stmt.raw_bind_parameter(index, n)?,
                Cell::Real(n) => stmt.raw_bind_parameter(index, n)?,
                Cell::Text(start, end) => stmt.raw_bind_parameter(index, batch.text(start, end))?,
            }
        }
        Ok(stmt.raw_execute()?)
    }

    /// Puts a refused row in quarantine with its line, reason and raw bytes.
    pub fn quarantine(
        &mut self,
        line: u64,
        record_id: Option<&str>,
        rejection: &Rejection,
        raw: &[u8],
    ) -> Result<(), DatasetStoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO quarantine (import_id, dataset, line, record_id, kind, reason, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                self.import_id,
                self.dataset,
                i64::try_from(line).unwrap_or(i64::MAX),
                record_id,
                rejection.kind,
                rejection.detail,
                raw
            ])?;
        Ok(())
    }

    /// Records the counts and commits the whole import.
    pub fn commit(
        self,
        counts: &ImportCounts,
        source_sha256: &[u8; 32],
        now_ms: i64,
    ) -> Result<(), DatasetStoreError> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.tx.execute(
            "UPDATE import_run SET source_sha256 = ?2, finished_ms = ?3, rows_read = ?4,
                 inserted = ?5, replaced = ?6, unchanged = ?7, quarantined = ?8
             WHERE import_id = ?1",
            params![
                self.import_id,
                source_sha256.to_vec(),
                now_ms,
                n(counts.rows_read),
                n(counts.inserted),
                n(counts.replaced),
                n(counts.unchanged),
                n(counts.quarantined)
            ],
        )?;
        self.tx.commit()?;
        Ok(())
    }
}
