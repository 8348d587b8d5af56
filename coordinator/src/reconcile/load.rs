//! Loading one audit log for reconciliation, from a live log file or an export bundle alike
//! (`fedlink_proto::audit::source`): read in one snapshot, then verified on its own with
//! `fedlink_proto::audit::verify`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fedlink_proto::audit::source::open_source;
use fedlink_proto::audit::verify::{VerifyError, verify_source};
use fedlink_proto::federation::Federation;

use super::log::{HeldCosignature, LoadedEntry, LoadedLog, SelfCheck, SelfCheckFailure};

/// Why a log could not be loaded at all (a log that loads but does not verify is a finding,
/// not an error).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// It is not a fedlink audit log or bundle, or it cannot be read.
    #[error("{path} cannot be read as a fedlink audit log or export bundle: {problem}")]
    NotALog {
        /// The file or folder.
        path: PathBuf,
        /// Why not.
        problem: String,
    },
    /// Its origin names no member of the federation file it was to be pinned to.
    #[error("{path}: the log's origin {origin:?} names no member of federation {federation:?}")]
    NotAMember {
        /// The file or folder.
        path: PathBuf,
        /// The log's origin.
        origin: String,
        /// The federation file's federation.
        federation: String,
    },
}

/// Loads the log file or export bundle at `path`. With `federation`, the log's member (from
/// its origin) must be in it, and the log is verified against the key the federation file
/// lists for that member.
pub fn load_log(path: &Path, federation: Option<&Federation>) -> Result<LoadedLog, LoadError> {
    let unreadable =
        |e: VerifyError| LoadError::NotALog { path: path.to_path_buf(), problem: e.to_string() };
    if !path.exists() {
        return Err(LoadError::NotALog { path: path.to_path_buf(), problem: "not found".into() });
    }
    let mut source = open_source(path).map_err(unreadable)?;
    let meta = source.meta().map_err(unreadable)?;
    let pinned_key = match federation {
        None => None,
        Some(federation) => {
            let member = super::log::federation_and_member(&meta.origin)
                .filter(|(name, _)| *name == federation.name)
                .and_then(|(_, member)| federation.member(member));
            let member = member.ok_or_else(|| LoadError::NotAMember {
                path: path.to_path_buf(),
                origin: meta.origin.clone(),
                federation: federation.name.clone(),
            })?;
            Some(member.public_key)
        }
    };
    let mut entries = Vec::new();
    // A record that cannot be read as an entry is left out here; the self-check below names
    // it as the log's own verification failure.
    source
        .for_each_entry(&mut |record| {
            if let Ok(entry) = record {
                entries.push(LoadedEntry::from_bytes(entry.index, entry.bytes.to_vec()));
            }
            Ok(())
        })
        .map_err(unreadable)?;
    let checkpoints: BTreeMap<u64, String> =
        source.checkpoints().map_err(unreadable)?.into_iter().map(|c| (c.size, c.note)).collect();
    let cosignatures = source
        .cosignatures()
        .map_err(unreadable)?
        .into_iter()
        .map(|c| HeldCosignature { size: c.size, witness: c.witness, line: c.line })
        .collect();
    drop(source);

    let self_check = match open_source(path)
        .and_then(|mut fresh| verify_source(fresh.as_mut(), pinned_key.as_ref(), &mut []))
    {
        Ok(report) => SelfCheck::Verified(report),
        Err(e) => SelfCheck::Failed(SelfCheckFailure::from(&e)),
    };
    Ok(LoadedLog {
        source: path.display().to_string(),
        origin: meta.origin,
        public_key: meta.public_key,
        pinned_key,
        entries,
        checkpoints,
        cosignatures,
        self_check,
    })
}
