//! The subject-token key file: 32 random bytes from the OS CSPRNG (ring), made on first use
//! as `subject-token.key` in the node's data folder with mode 0600, and never sent anywhere.
//! Whoever holds it can test a guessed identifier against the log's payloads, so it stays on
//! the node; losing it makes the tokens already logged unsearchable (deploy/README.md
//! "Subject search").
//!
//! Made atomically: written to a private temporary file, then hard-linked into place, so a
//! node and an operator's `fedlink node audit subject` starting together never read a half
//! written key or make two.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

use super::SubjectTokenKey;

/// The key file's name in the data folder.
pub const KEY_FILE: &str = "subject-token.key";

/// Length of the key.
pub const KEY_LEN: usize = 32;

/// Why the key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read, written or linked into place.
    #[error("subject-token key {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a key.
    #[error(
        "subject-token key {path} is {len} bytes, not {KEY_LEN}: it is damaged or not a key; \
         restore it from backup (a new key cannot search the tokens already logged)"
    )]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The OS random source failed.
    #[error("the OS random source failed while making the subject-token key")]
    Random,
}

impl SubjectTokenKey {
    /// The key in `data_dir`, made there (0600) if there is none yet.
    pub fn load_or_create(data_dir: &Path) -> Result<SubjectTokenKey, KeyFileError> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            create(data_dir, &path)?;
        }
        let io = |source| KeyFileError::Io { path: path.clone(), source };
        let bytes = std::fs::read(&path).map_err(io)?;
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice())
            .map_err(|_| KeyFileError::Length { path: path.clone(), len: bytes.len() })?;
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the subject-token key can be read by other users; make it 0600"
            );
        }
        Ok(SubjectTokenKey::from_bytes(&key))
    }
}

/// Writes a fresh key to a temporary file and links it into place; another process that got
/// there first wins, and its key is the one used.
fn create(data_dir: &Path, path: &Path) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    let mut key = [0u8; KEY_LEN];
    SystemRandom::new().fill(&mut key).map_err(|_| KeyFileError::Random)?;
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let temp = data_dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
    let written =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp).and_then(
            |mut file| {
                file.write_all(&key)?;
                file.sync_all()
            },
        );
    zeroize::Zeroize::zeroize(&mut key);
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}
