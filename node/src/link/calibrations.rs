//! The computing node's stored linkage models (issue 6; design-review F18): one TOML file per
//! version under `<data dir>/calibrations/<dataset>/v<N>.toml`, written once by a calibration
//! run and only read afterwards. A `[[linkage]]` rule's `matcher` section either pins a version
//! or takes the latest one stored for the query's key types; every query that uses one names
//! its version and digest in its log entry and its released table.
//!
//! A file is written to a temporary name, synced and renamed, so a crash never leaves half a
//! model; versions are never overwritten (a new fit is a new version).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use fedlink_proto::envelope::sha256;
use serde::{Deserialize, Serialize};

use crate::linkage::calibration::Calibration;
use crate::matchkey::KeyType;

/// Why a stored model could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationStoreError {
    /// A dataset name that cannot be a folder name.
    #[error("dataset name {0:?} cannot name a calibration folder")]
    BadDataset(String),
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A stored file does not parse.
    #[error("{path}: not a calibration file: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// One stored version: the model and what it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredModel {
    /// The computing node's dataset.
    pub dataset: String,
    /// The version (1, 2, ...): the file's name says the same.
    pub version: u32,
    /// When the calibration run ended (RFC 3339, UTC).
    pub fitted_at: String,
    /// The calibration run's query id, to find it in the audit log.
    pub query_id: String,
    /// The partner set it was fitted against, `member/dataset`.
    pub cohort: String,
    /// The fitted model.
    pub model: Calibration,
}

/// A stored version as read: the model and the digest of its file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedModel {
    /// The stored record.
    pub stored: StoredModel,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

impl LoadedModel {
    /// `calibrated v3 sha256:<hex>`: how released tables and log entries name the model.
    pub fn describe(&self) -> String {
        format!("calibrated v{} sha256:{}", self.stored.version, hex(&self.sha256))
    }
}

/// The folder of a dataset's stored models.
pub fn folder(data_dir: &Path, dataset: &str) -> Result<PathBuf, CalibrationStoreError> {
    let safe = !dataset.is_empty()
        && dataset.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !safe {
        return Err(CalibrationStoreError::BadDataset(dataset.to_string()));
    }
    Ok(data_dir.join("calibrations").join(dataset))
}

/// Every stored version of `dataset`, oldest first.
pub fn list(data_dir: &Path, dataset: &str) -> Result<Vec<LoadedModel>, CalibrationStoreError> {
    let dir = folder(data_dir, dataset)?;
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(CalibrationStoreError::Io { path: dir, source }),
    };
    let mut versions = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|source| CalibrationStoreError::Io { path: dir.clone(), source })?;
        let name = entry.file_name();
        let Some(version) = name
            .to_str()
            .and_then(|n| n.strip_prefix('v'))
            .and_then(|n| n.strip_suffix(".toml"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        versions.push((version, entry.path()));
    }
    versions.sort_unstable_by_key(|(v, _)| *v);
    versions.into_iter().map(|(version, path)| read(&path, dataset, version)).collect()
}

fn read(path: &Path, dataset: &str, version: u32) -> Result<LoadedModel, CalibrationStoreError> {
    let bytes = fs::read(path)
        .map_err(|source| CalibrationStoreError::Io { path: path.to_path_buf(), source })?;
    let parse =
        |problem: String| CalibrationStoreError::Parse { path: path.to_path_buf(), problem };
    let text = std::str::from_utf8(&bytes).map_err(|e| parse(e.to_string()))?;
    let stored: StoredModel = toml::from_str(text).map_err(|e| parse(e.to_string()))?;
    if stored.dataset != dataset || stored.version != version {
        return Err(parse(format!(
            "it says dataset {:?} version {}, but is filed as {dataset:?} version {version}",
            stored.dataset, stored.version
        )));
    }
    stored.model.matcher().map_err(|e| parse(e.to_string()))?;
    Ok(LoadedModel { stored, sha256: sha256(&bytes) })
}

/// The model a query uses: the pinned version, or else the latest one stored whose key types
/// are exactly the query's. `Ok(None)` when there is none.
pub fn find(
    data_dir: &Path,
    dataset: &str,
    pinned: Option<u32>,
    key_types: &[KeyType],
) -> Result<Option<LoadedModel>, CalibrationStoreError> {
    let tags: Vec<&str> = key_types.iter().map(|k| k.tag()).collect();
    let fits = |m: &LoadedModel| m.stored.model.key_types == tags;
    let all = list(data_dir, dataset)?;
    Ok(match pinned {
        Some(version) => all.into_iter().find(|m| m.stored.version == version && fits(m)),
        None => all.into_iter().rev().find(fits),
    })
}

/// Stores a new version (one more than the latest) and returns it as read back.
pub fn save(
    data_dir: &Path,
    dataset: &str,
    fitted_at: String,
    query_id: String,
    cohort: String,
    model: Calibration,
) -> Result<LoadedModel, CalibrationStoreError> {
    let dir = folder(data_dir, dataset)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CalibrationStoreError::Io { path, source }
    };
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let version = list(data_dir, dataset)?.last().map_or(1, |m| m.stored.version + 1);
    let stored =
        StoredModel { dataset: dataset.to_string(), version, fitted_at, query_id, cohort, model };
    let text = toml::to_string(&stored)
        .map_err(|e| CalibrationStoreError::Parse { path: dir.clone(), problem: e.to_string() })?;
    let path = dir.join(format!("v{version}.toml"));
    let partial = dir.join(format!(".v{version}.toml.partial"));
    {
        let mut file = fs::File::create(&partial).map_err(io(&partial))?;
        file.write_all(b"# A linkage model fitted by a calibration run (fedlink issue 6, F18).\n# Written once; a new fit is a new version. Do not edit: queries name its digest.\n")
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(io(&partial))?;
    }
    if path.exists() {
        return Err(CalibrationStoreError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "version exists"),
        });
    }
    fs::rename(&partial, &path).map_err(io(&path))?;
    read(&path, dataset, version)
}

/// `2026-11-27T03:45:12Z` for milliseconds since the epoch.
pub fn utc_time(ms: i64) -> String {
    let at = fedlink_proto::clock::UnixMillis(ms);
    let seconds = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", at.date(), seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-set model over `tags`: one comparison per key family, exact level first.
    fn model(tags: &[&str]) -> Calibration {
        use crate::linkage::calibration::{ComparisonCalibration, MODEL_FORMAT};
        let key_types: Vec<KeyType> =
            tags.iter().map(|t| KeyType::from_tag(t).expect("a key type")).collect();
        let mut families: Vec<(crate::matchkey::KeyFamily, Vec<KeyType>)> = Vec::new();
        for &k in &key_types {
            match families.iter_mut().find(|(f, _)| *f == k.family()) {
                Some((_, list)) => list.push(k),
                None => families.push((k.family(), vec![k])),
            }
        }
        families.sort_by_key(|(f, _)| *f);
        let comparisons = families
            .into_iter()
            .map(|(family, list)| {
                let n = list.len() as f64;
                let mut m: Vec<f64> = list.iter().map(|_| 0.9 / n).collect();
                m.push(0.1);
                let mut u: Vec<f64> = list.iter().map(|_| 1e-6).collect();
                u.push(1.0 - 1e-6 * n);
                ComparisonCalibration {
                    family: family.name().into(),
                    levels: list
                        .iter()
                        .map(|k| k.tag().to_string())
                        .chain(["none".into()])
                        .collect(),
                    m,
                    u,
                }
            })
            .collect();
        Calibration {
            format: MODEL_FORMAT.into(),
            key_types: tags.iter().map(|t| t.to_string()).collect(),
            comparisons,
            lambda: 0.01,
            threshold: 0.5,
            estimated_precision: 1.0,
            candidate_pairs: 100,
            all_pairs: 1e4,
            iterations: 3,
            converged: true,
        }
    }

    #[test]
    fn versions_count_up_and_queries_find_the_right_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let save_one = |tags: &[&str]| {
            save(dir.path(), "ecds", "t".into(), "q".into(), "police/p".into(), model(tags))
                .expect("saved")
        };
        let v1 = save_one(&["nhs", "name_dob"]);
        let v2 = save_one(&["name_dob"]);
        let v3 = save_one(&["nhs", "name_dob"]);
        assert_eq!([v1.stored.version, v2.stored.version, v3.stored.version], [1, 2, 3]);
        let both = [KeyType::Nhs, KeyType::NameDob];
        let latest = find(dir.path(), "ecds", None, &both).expect("find").expect("some");
        assert_eq!(latest.stored.version, 3);
        let pinned = find(dir.path(), "ecds", Some(1), &both).expect("find").expect("some");
        assert_eq!(pinned, v1);
        assert!(pinned.describe().starts_with("calibrated v1 sha256:"));
        // A pinned version over other key types is no model for this query.
        assert_eq!(find(dir.path(), "ecds", Some(2), &both).expect("find"), None);
        assert_eq!(find(dir.path(), "other", None, &both).expect("find"), None);
    }

    #[test]
    fn a_tampered_or_misfiled_model_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v1 = save(dir.path(), "ecds", "t".into(), "q".into(), "p/d".into(), model(&["nhs"]))
            .expect("saved");
        let path = folder(dir.path(), "ecds").expect("folder").join("v1.toml");
        let text = fs::read_to_string(&path).expect("read");
        fs::write(&path, text.replace("version = 1", "version = 2")).expect("write");
        assert!(matches!(list(dir.path(), "ecds"), Err(CalibrationStoreError::Parse { .. })));
        fs::write(&path, text.replace("threshold = 0.5", "threshold = 1.5")).expect("write");
        assert!(matches!(list(dir.path(), "ecds"), Err(CalibrationStoreError::Parse { .. })));
        fs::write(&path, text).expect("write");
        assert_eq!(list(dir.path(), "ecds").expect("list"), vec![v1]);
        assert!(matches!(folder(dir.path(), "../x"), Err(CalibrationStoreError::BadDataset(_))));
    }
}
