//! Importing a partner's CSV extract into a dataset: stream the file (bounded memory, any
//! size), validate and normalise every row, store accepted rows, quarantine the rest with line
//! and reason, and reconcile: rows read = inserted + replaced + unchanged + quarantined.
//!
//! The whole file is one transaction (all or nothing; re-running is idempotent because rows are
//! keyed on the source's record id). Reading and normalising run on one thread while SQLite
//! writes on another, so both cores work.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use csv::ByteRecord;
use ring::digest;

use crate::dataset::batch::{RefusedRow, RowBatch, write_raw};
use crate::dataset::plan::{FileError, ImportPlan};
use crate::dataset::row::{Rejection, SetAside, normalise_record};
use crate::dataset::schema::DatasetSchema;
use crate::dataset::store::{DatasetStore, DatasetStoreError, ImportCounts, PutOutcome};

/// Why an import could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file itself is unusable.
    #[error("{path}: {problem}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        problem: FileError,
    },
    /// The CSV could not be parsed at all.
    #[error("{path}: not readable as CSV: {problem}")]
    Csv {
        /// The file.
        path: String,
        /// The parser's message.
        problem: String,
    },
    /// Storing failed; nothing of this import was kept.
    #[error(transparent)]
    Store(#[from] DatasetStoreError),
    /// The counts do not reconcile (a bug: refuse to commit rather than lose rows silently).
    #[error("the import does not reconcile: {0:?}")]
    Unreconciled(ImportCounts),
    /// The reader thread stopped unexpectedly.
    #[error("the reader thread failed")]
    Reader,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The dataset.
    pub dataset: String,
    /// The file.
    pub source: String,
    /// SHA-256 of the file's bytes.
    pub source_sha256: [u8; 32],
    /// Bytes read.
    pub bytes: u64,
    /// The reconciled counts.
    pub counts: ImportCounts,
    /// Quarantined rows by kind: count and one example reason.
    pub quarantine: BTreeMap<&'static str, (u64, String)>,
    /// Identifiers set aside (rows kept without them), by kind.
    pub set_aside: BTreeMap<SetAside, u64>,
    /// The import run's id in the store.
    pub import_id: i64,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl ImportSummary {
    /// Rows per second.
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.counts.rows_read as f64 / self.seconds } else { 0.0 }
    }
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    ctx: digest::Context,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ctx.update(&buf[..n]);
        self.bytes.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Rows per batch sent from the reading thread to the writing thread.
const BATCH: usize = 2048;

/// Imports one CSV file. `progress` is called now and then with the bytes read so far.
pub fn import_csv(
    store: &mut DatasetStore,
    schema: &DatasetSchema,
    path: &Path,
    now_ms: impl Fn() -> i64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let shown = path.display().to_string();
    let file =
        File::open(path).map_err(|source| ImportError::Io { path: shown.clone(), source })?;
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let hashing = Hashing {
        inner: BufReader::with_capacity(1 << 20, file),
        ctx: digest::Context::new(&digest::SHA256),
        bytes: std::sync::Arc::clone(&bytes),
    };
    let delimiter = u8::try_from(u32::from(schema.delimiter)).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(hashing);

    let mut header = ByteRecord::new();
    let got = reader
        .read_byte_record(&mut header)
        .map_err(|e| ImportError::Csv { path: shown.clone(), problem: e.to_string() })?;
    if !got {
        return Err(ImportError::File { path: shown, problem: FileError::NoHeader });
    }
    if header.as_slice().starts_with(&[0xff, 0xfe]) || header.as_slice().starts_with(&[0xfe, 0xff])
    {
        return Err(ImportError::File { path: shown, problem: FileError::HeaderEncoding });
    }
    let header: Vec<String> =
        header.iter().map(|h| String::from_utf8(h.to_vec())).collect::<Result<_, _>>().map_err(
            |_| ImportError::File { path: shown.clone(), problem: FileError::HeaderEncoding },
        )?;
    let plan = ImportPlan::new(schema, &header)
        .map_err(|problem| ImportError::File { path: shown.clone(), problem })?;

    store.prepare(&plan, now_ms())?;
    let mut tx = store.begin_import(&plan, &shown, now_ms())?;
    let import_id = tx.import_id();
    let mut counts = ImportCounts::default();
    let mut quarantine: BTreeMap<&'static str, (u64, String)> = BTreeMap::new();
    let mut set_aside: BTreeMap<SetAside, u64> = BTreeMap::new();

    let (sender, receiver) = mpsc::sync_channel::<RowBatch>(8);
    let cells_per_row = 16 + plan.attributes.len();
    let result = std::thread::scope(|scope| {
        let plan_ref = &plan;
        let bytes_ref = &bytes;
        let reader_thread = scope.spawn(move || -> Result<[u8; 32], String> {
            let mut record = ByteRecord::new();
            let mut batch = RowBatch::with_capacity(BATCH, cells_per_row);
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(e.to_string()),
                }
                let line = record.position().map_or(0, |p| p.line());
                // Blank lines are not records.
                if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
                    continue;
                }
                match normalise_record(plan_ref, &record) {
                    Ok(row) => batch.push_row(line, &row, &record, delimiter),
                    Err(rejection) => {
                        let record_id = plan_ref
                            .roles
                            .record_id
                            .and_then(|f| record.get(f.position))
                            .and_then(|b| std::str::from_utf8(b).ok())
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty());
                        batch.refused.push(RefusedRow {
                            line,
                            record_id,
                            rejection,
                            raw: {
                                let mut raw = Vec::new();
                                write_raw(&mut raw, &record, delimiter);
                                raw
                            },
                        });
                    }
                }
                if batch.len() == BATCH {
                    progress(bytes_ref.load(std::sync::atomic::Ordering::Relaxed));
                    let full = std::mem::replace(
                        &mut batch,
                        RowBatch::with_capacity(BATCH, cells_per_row),
                    );
                    if sender.send(full).is_err() {
                        return Err("the writer stopped".into());
                    }
                }
            }
            if !batch.is_empty() && sender.send(batch).is_err() {
                return Err("the writer stopped".into());
            }
            drop(sender);
            let hashing = reader.into_inner();
            let mut out = [0u8; 32];
            out.copy_from_slice(hashing.ctx.finish().as_ref());
            Ok(out)
        });

        for batch in receiver {
            counts.rows_read += batch.len() as u64;
            for (kind, n) in &batch.set_aside {
                *set_aside.entry(*kind).or_default() += n;
            }
            for row in &batch.rows {
                match tx.put(&batch, row)? {
                    PutOutcome::Inserted => counts.inserted += 1,
                    PutOutcome::Replaced => counts.replaced += 1,
                    PutOutcome::Unchanged => counts.unchanged += 1,
                    PutOutcome::Duplicate { first_line, same_content } => {
                        let record_id = batch.record_id(row);
                        let rejection = Rejection {
                            kind: "duplicate_record_id",
                            detail: format!(
                                "record id {record_id:?} already appeared at line {first_line} \
                                 of this file ({} content)",
                                if same_content { "same" } else { "different" }
                            ),
                        };
                        tx.quarantine(row.line, Some(record_id), &rejection, batch.raw(row))?;
                        tally(&mut quarantine, &rejection);
                        counts.quarantined += 1;
                    }
                }
            }
            for refused in &batch.refused {
                tx.quarantine(
                    refused.line,
                    refused.record_id.as_deref(),
                    &refused.rejection,
                    &refused.raw,
                )?;
                tally(&mut quarantine, &refused.rejection);
                counts.quarantined += 1;
            }
        }
        match reader_thread.join() {
            Ok(Ok(hash)) => Ok(hash),
            Ok(Err(problem)) => Err(ImportError::Csv { path: shown.clone(), problem }),
            Err(_) => Err(ImportError::Reader),
        }
    });
    let source_sha256 = result?;
    if !counts.reconciles() {
        return Err(ImportError::Unreconciled(counts));
    }
    tx.commit(&counts, &source_sha256, now_ms())?;
    Ok(ImportSummary {
        dataset: schema.name.clone(),
        source: shown,
        source_sha256,
        bytes: bytes.load(std::sync::atomic::Ordering::Relaxed),
        counts,
        quarantine,
        set_aside,
        import_id,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn tally(map: &mut BTreeMap<&'static str, (u64, String)>, rejection: &Rejection) {
    let entry = map.entry(rejection.kind).or_insert_with(|| (0, rejection.detail.clone()));
    entry.0 += 1;
}
