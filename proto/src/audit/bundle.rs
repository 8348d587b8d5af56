//! The export bundle: a folder an auditor takes away and verifies offline, with no SQLite and,
//! if they like, no fedlink (its `README.md`, [`BUNDLE_README`], says how). Written from a log
//! file by [`write_bundle`]; read back as a [`LogSource`] by [`BundleSource`], so
//! `fedlink audit verify` checks a bundle exactly as it checks the file it came from.
//!
//! Files: `entries.jsonl` (the exact entry bytes, one per line, with a decoded view that is a
//! convenience only), `checkpoints.jsonl` (every signed note), `cosignatures.jsonl`,
//! `budget_balances.jsonl`, `log.vkey`, `README.md`, and `manifest.json`, written last: a
//! folder without a manifest is an export that did not finish. The `payload` and
//! `payload_subject` tables are never exported (they hold subject tokens); each entry carries
//! its `payload_commitment`, so a payload shown later can still be checked against it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::audit::budget::{BudgetKey, BudgetScope};
use crate::audit::checkpoint::NoteVerifier;
use crate::audit::merkle::{MemoryTree, TreeSource, leaf_hash};
use crate::audit::source::{
    Beside, EntryVisitor, FileSource, LogMeta, LogSource, StoredCheckpoint, StoredCosignature,
    StoredEntry,
};
use crate::audit::store::FILE_FORMAT;
use crate::audit::utc::format_utc_ms;
use crate::audit::verify::{CheckpointProblem, EntryProblem, VerifyError};
use crate::audit::view::EntryView;
use crate::identity::PublicKey;

/// The bundle format, `format` in the manifest.
pub const BUNDLE_FORMAT: &str = "fedlink-audit-bundle/v1";

/// The README written into every bundle: the format, precisely enough to verify it without
/// fedlink.
pub const BUNDLE_README: &str = include_str!("bundle/README.md");

const MANIFEST: &str = "manifest.json";
const ENTRIES: &str = "entries.jsonl";
const CHECKPOINTS: &str = "checkpoints.jsonl";
const COSIGNATURES: &str = "cosignatures.jsonl";
const BALANCES: &str = "budget_balances.jsonl";
const VKEY: &str = "log.vkey";
const README: &str = "README.md";

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The output folder exists and holds something: an export never overwrites.
    #[error("{dir} is not empty: choose a new or empty folder for the bundle")]
    NotEmpty {
        /// The folder.
        dir: PathBuf,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line of a bundle file that belongs to no entry or checkpoint is malformed.
    #[error("{path} line {line}: {problem}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// The manifest is malformed or disagrees with the bundle's contents.
    #[error("{path}: {problem}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The log being exported could not be read.
    #[error(transparent)]
    Read(Box<VerifyError>),
}

impl From<VerifyError> for BundleError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Bundle(inner) => inner,
            other => BundleError::Read(Box::new(other)),
        }
    }
}

/// `manifest.json`: what the bundle holds and what it was exported from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The log's entry format, `fedlink-audit/v1`.
    pub log_format: String,
    /// The log's origin.
    pub origin: String,
    /// Entries exported.
    pub size: u64,
    /// RFC 9162 root of the exported entries, hex (computed from them at export).
    pub root: String,
    /// The log's Ed25519 public key as the file records it, base64.
    pub public_key: String,
    /// The same key as a C2SP signed-note verifier key.
    pub vkey: String,
    /// When the export was made, RFC 3339 UTC.
    pub exported_at: String,
    /// The same, in ms since the epoch.
    pub exported_at_ms: i64,
    /// How many records each file holds.
    pub counts: BundleCounts,
}

/// How many records each bundle file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCounts {
    /// Lines of `entries.jsonl`.
    pub entries: u64,
    /// Lines of `checkpoints.jsonl`.
    pub checkpoints: u64,
    /// Lines of `cosignatures.jsonl`.
    pub cosignatures: u64,
    /// Lines of `budget_balances.jsonl`; `null` when the log has no balance table (and the
    /// bundle no such file).
    pub budget_balances: Option<u64>,
}

/// One line of `entries.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryLine {
    index: u64,
    /// Base64 of the exact stored bytes.
    bytes: String,
    /// The leaf hash the log stored beside them, hex.
    leaf_hash: String,
    /// The decoded view (not signed; `null` if the bytes do not decode).
    view: Option<serde_json::Value>,
}

/// One line of `checkpoints.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    size: u64,
    /// The root stored beside the note, hex.
    root: String,
    note: String,
}

/// One line of `cosignatures.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignatureLine {
    size: u64,
    witness: String,
    line: String,
    received_ms: i64,
}

/// One line of `budget_balances.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BalanceLine {
    scope: String,
    coordinator: String,
    requester: String,
    dataset: String,
    period: String,
    spent_micro: u64,
}

/// Exports the log file at `log` into the new or empty folder `out`, as of one snapshot;
/// `exported_at_ms` is recorded in the manifest. Returns the manifest.
pub fn write_bundle(
    log: &Path,
    out: &Path,
    exported_at_ms: i64,
) -> Result<BundleManifest, BundleError> {
    prepare_dir(out)?;
    let mut source = FileSource::open(log)?;
    let meta = source.meta()?;
    let checkpoints = source.checkpoints()?;
    let cosignatures = source.cosignatures()?;
    let balances = source.recorded_balances()?;

    let mut tree = MemoryTree::new();
    let mut entries = Writer::create(&out.join(ENTRIES))?;
    source.for_each_entry(&mut |record| {
        // A file's records are never malformed; only a bundle's can be.
        let stored =
            record.map_err(|problem| VerifyError::Entry { index: tree.size(), problem })?;
        let line = EntryLine {
            index: stored.index,
            bytes: BASE64.encode(stored.bytes),
            leaf_hash: hex::encode(stored.leaf_hash),
            view: EntryView::from_bytes(stored.bytes)
                .ok()
                .and_then(|v| serde_json::to_value(v).ok()),
        };
        entries.line(&line)?;
        tree.push(leaf_hash(stored.bytes));
        Ok(())
    })?;
    entries.finish()?;

    let mut file = Writer::create(&out.join(CHECKPOINTS))?;
    for cp in &checkpoints {
        let root = hex::encode(&cp.root);
        file.line(&CheckpointLine { size: cp.size, root, note: cp.note.clone() })?;
    }
    file.finish()?;
    let mut file = Writer::create(&out.join(COSIGNATURES))?;
    for c in &cosignatures {
        file.line(&CosignatureLine {
            size: c.size,
            witness: c.witness.clone(),
            line: c.line.clone(),
            received_ms: c.received_ms,
        })?;
    }
    file.finish()?;
    if let Some(balances) = &balances {
        let mut file = Writer::create(&out.join(BALANCES))?;
        for (key, spent) in balances {
            file.line(&BalanceLine {
                scope: key.scope.as_str().into(),
                coordinator: key.coordinator.clone(),
                requester: key.requester.clone(),
                dataset: key.dataset.clone(),
                period: key.period.clone(),
                spent_micro: *spent,
            })?;
        }
        file.finish()?;
    }
    let vkey = NoteVerifier::new(&meta.origin, meta.public_key).to_vkey();
    write_file(&out.join(VKEY), format!("{vkey}\n").as_bytes())?;
    write_file(&out.join(README), BUNDLE_README.as_bytes())?;

    let manifest = BundleManifest {
        format: BUNDLE_FORMAT.into(),
        log_format: FILE_FORMAT.into(),
        origin: meta.origin,
        size: tree.size(),
        root: tree.root().to_hex(),
        public_key: meta.public_key.to_base64(),
        vkey,
        exported_at: format_utc_ms(exported_at_ms),
        exported_at_ms,
        counts: BundleCounts {
            entries: tree.size(),
            checkpoints: checkpoints.len() as u64,
            cosignatures: cosignatures.len() as u64,
            budget_balances: balances.map(|b| b.len() as u64),
        },
    };
    let mut text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BundleError::Manifest { path: out.join(MANIFEST), problem: e.to_string() })?;
    text.push(b'\n');
    // Last, and by rename: a folder with a manifest holds a whole bundle.
    let partial = out.join(format!("{MANIFEST}.partial"));
    write_file(&partial, &text)?;
    std::fs::rename(&partial, out.join(MANIFEST)).map_err(io(&out.join(MANIFEST)))?;
    File::open(out).and_then(|d| d.sync_all()).map_err(io(out))?;
    Ok(manifest)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io { path: path.to_path_buf(), source }
}

/// Creates `dir`, or accepts it if it is an empty folder.
fn prepare_dir(dir: &Path) -> Result<(), BundleError> {
    match std::fs::read_dir(dir) {
        Ok(mut listing) => match listing.next() {
            None => Ok(()),
            Some(_) => Err(BundleError::NotEmpty { dir: dir.to_path_buf() }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io(dir))
        }
        Err(e) => Err(io(dir)(e)),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let mut file = File::create_new(path).map_err(io(path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io(path))
}

/// A JSON-lines file being written.
struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Writer {
    fn create(path: &Path) -> Result<Self, BundleError> {
        let file = File::create_new(path).map_err(io(path))?;
        Ok(Self { path: path.to_path_buf(), out: BufWriter::new(file) })
    }

    fn line(&mut self, record: &impl Serialize) -> Result<(), BundleError> {
        let fail = |e: std::io::Error| BundleError::Io { path: self.path.clone(), source: e };
        serde_json::to_writer(&mut self.out, record).map_err(|e| fail(e.into()))?;
        self.out.write_all(b"\n").map_err(fail)
    }

    fn finish(self) -> Result<(), BundleError> {
        let path = self.path;
        let file = self
            .out
            .into_inner()
            .map_err(|e| BundleError::Io { path: path.clone(), source: e.into_error() })?;
        file.sync_all().map_err(io(&path))
    }
}

/// An export bundle, read as a log source. Opening reads the manifest only; the files are
/// streamed when asked for.
#[derive(Debug)]
pub struct BundleSource {
    dir: PathBuf,
    manifest: BundleManifest,
    /// Checkpoints read, for the manifest's count.
    checkpoints_read: Option<u64>,
}

impl BundleSource {
    /// Opens the bundle in `dir`: it must hold a manifest of this format.
    pub fn open(dir: &Path) -> Result<Self, VerifyError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VerifyError::NotAnAuditLog {
                    path: dir.to_path_buf(),
                    problem: "it has no manifest.json: it is not an export bundle, or its \
                              export did not finish"
                        .into(),
                });
            }
            Err(source) => return Err(BundleError::Io { path, source }.into()),
        };
        let manifest: BundleManifest = serde_json::from_str(&text)
            .map_err(|e| BundleError::Manifest { path: path.clone(), problem: e.to_string() })?;
        if manifest.format != BUNDLE_FORMAT || manifest.log_format != FILE_FORMAT {
            return Err(VerifyError::NotAnAuditLog {
                path: dir.to_path_buf(),
                problem: format!(
                    "its manifest says format {:?} for log format {:?}, not {BUNDLE_FORMAT} for \
                     {FILE_FORMAT}",
                    manifest.format, manifest.log_format
                ),
            });
        }
        Ok(Self { dir: dir.to_path_buf(), manifest, checkpoints_read: None })
    }

    /// The manifest.
    pub fn manifest(&self) -> &BundleManifest {
        &self.manifest
    }

    fn manifest_problem(&self, problem: String) -> VerifyError {
        BundleError::Manifest { path: self.dir.join(MANIFEST), problem }.into()
    }

    /// Calls `each` with every line of `name` (bytes that are not UTF-8 replaced by U+FFFD) and
    /// its 1-based number.
    fn lines(
        &self,
        name: &str,
        each: &mut dyn FnMut(u64, &str) -> Result<(), VerifyError>,
    ) -> Result<u64, VerifyError> {
        let path = self.dir.join(name);
        let file =
            File::open(&path).map_err(|source| BundleError::Io { path: path.clone(), source })?;
        let mut count = 0;
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(|source| BundleError::Io { path: path.clone(), source })?;
            count += 1;
            // Lossy: a damaged byte stays in its line, where the record's checks name it,
            // rather than failing the whole file.
            each(count, &String::from_utf8_lossy(&line))?;
        }
        Ok(count)
    }

    fn bad_line(&self, name: &str, line: u64, problem: impl ToString) -> VerifyError {
        BundleError::Line { path: self.dir.join(name), line, problem: problem.to_string() }.into()
    }
}

impl LogSource for BundleSource {
    fn path(&self) -> &Path {
        &self.dir
    }

    fn meta(&mut self) -> Result<LogMeta, VerifyError> {
        let m = &self.manifest;
        let public_key = PublicKey::from_base64(&m.public_key)
            .map_err(|e| self.manifest_problem(format!("public_key: {e}")))?;
        let vkey = NoteVerifier::from_vkey(&m.vkey)
            .map_err(|e| self.manifest_problem(format!("vkey: {e}")))?;
        if vkey.name() != m.origin || vkey.key() != &public_key {
            return Err(self.manifest_problem(format!(
                "its vkey {} is not the origin {:?} and public key {}",
                m.vkey, m.origin, m.public_key
            )));
        }
        Ok(LogMeta { origin: m.origin.clone(), public_key })
    }

    fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, VerifyError> {
        let mut all = Vec::new();
        let count = self.lines(CHECKPOINTS, &mut |n, text| {
            let line: CheckpointLine = serde_json::from_str(text).map_err(|e| {
                let problem = CheckpointProblem::Malformed(format!("{CHECKPOINTS} line {n}: {e}"));
                match leading_size(text) {
                    Some(size) => VerifyError::Checkpoint { size, problem, first_bad_entry: None },
                    None => self.bad_line(CHECKPOINTS, n, e),
                }
            })?;
            let malformed = |problem: String| VerifyError::Checkpoint {
                size: line.size,
                problem: CheckpointProblem::Malformed(format!("{CHECKPOINTS} line {n}: {problem}")),
                first_bad_entry: None,
            };
            let root = hex::decode(&line.root).map_err(|e| malformed(format!("root: {e}")))?;
            all.push(StoredCheckpoint { size: line.size, root, note: line.note });
            Ok(())
        })?;
        self.checkpoints_read = Some(count);
        Ok(all)
    }

    fn for_each_entry(&mut self, visit: &mut EntryVisitor<'_>) -> Result<(), VerifyError> {
        self.lines(ENTRIES, &mut |n, text| {
            let malformed =
                |what: String| EntryProblem::Malformed(format!("{ENTRIES} line {n}: {what}"));
            let line: EntryLine = match serde_json::from_str(text) {
                Ok(line) => line,
                Err(e) => return visit(Err(malformed(e.to_string()))),
            };
            let bytes = match BASE64.decode(&line.bytes) {
                Ok(bytes) => bytes,
                Err(e) => return visit(Err(malformed(format!("bytes: {e}")))),
            };
            let leaf = match hex::decode(&line.leaf_hash) {
                Ok(leaf) => leaf,
                Err(e) => return visit(Err(malformed(format!("leaf_hash: {e}")))),
            };
            visit(Ok(StoredEntry {
                index: line.index,
                bytes: &bytes,
                leaf_hash: &leaf,
                beside: Beside::View(line.view.as_ref()),
            }))
        })?;
        Ok(())
    }

    fn check_derived(&mut self, tree: &MemoryTree) -> Result<(), VerifyError> {
        let m = &self.manifest;
        let counts = &m.counts;
        if m.size != tree.size() || counts.entries != tree.size() {
            return Err(self.manifest_problem(format!(
                "it says {} entries (counts.entries {}), but {ENTRIES} holds {}",
                m.size,
                counts.entries,
                tree.size()
            )));
        }
        let root = tree.root().to_hex();
        if m.root != root {
            return Err(self.manifest_problem(format!(
                "it says root {}, but the entries hash to {root}",
                m.root
            )));
        }
        if let Some(read) = self.checkpoints_read.filter(|read| *read != counts.checkpoints) {
            return Err(self.manifest_problem(format!(
                "it counts {} checkpoints, but {CHECKPOINTS} holds {read}",
                counts.checkpoints
            )));
        }
        // Cosignatures are read (each line must parse) and counted here; checking them
        // against their witnesses' keys is the witnessing checks' job.
        let counted = counts.cosignatures;
        let cosignatures = self.cosignatures()?.len() as u64;
        if cosignatures != counted {
            return Err(self.manifest_problem(format!(
                "it counts {counted} cosignatures, but {COSIGNATURES} holds {cosignatures}"
            )));
        }
        Ok(())
    }

    fn recorded_balances(&mut self) -> Result<Option<BTreeMap<BudgetKey, u64>>, VerifyError> {
        let Some(expected) = self.manifest.counts.budget_balances else {
            return Ok(None);
        };
        let mut balances = BTreeMap::new();
        let count = self.lines(BALANCES, &mut |n, text| {
            let line: BalanceLine =
                serde_json::from_str(text).map_err(|e| self.bad_line(BALANCES, n, e))?;
            let scope = BudgetScope::from_name(&line.scope).ok_or_else(|| {
                self.bad_line(BALANCES, n, format!("unknown scope {:?}", line.scope))
            })?;
            let key = BudgetKey {
                scope,
                coordinator: line.coordinator,
                requester: line.requester,
                dataset: line.dataset,
                period: line.period,
            };
            if balances.insert(key, line.spent_micro).is_some() {
                return Err(self.bad_line(BALANCES, n, "a balance listed twice"));
            }
            Ok(())
        })?;
        if count != expected {
            return Err(self.manifest_problem(format!(
                "it counts {expected} budget balances, but {BALANCES} holds {count}"
            )));
        }
        Ok(Some(balances))
    }

    /// Every cosignature in `cosignatures.jsonl` (not checked here: witnessing checks them).
    fn cosignatures(&mut self) -> Result<Vec<StoredCosignature>, VerifyError> {
        let mut all = Vec::new();
        self.lines(COSIGNATURES, &mut |n, text| {
            let c: CosignatureLine =
                serde_json::from_str(text).map_err(|e| self.bad_line(COSIGNATURES, n, e))?;
            all.push(StoredCosignature {
                size: c.size,
                witness: c.witness,
                line: c.line,
                received_ms: c.received_ms,
            });
            Ok(())
        })?;
        Ok(all)
    }
}

/// The `size` of a checkpoint line too damaged to parse, if its `"size":N,` survives.
fn leading_size(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("\"size\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[end..].starts_with(',').then(|| rest[..end].parse().ok()).flatten()
}

#[cfg(test)]
mod tests;
