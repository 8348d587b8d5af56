//! The coordinator's error type.

use std::path::PathBuf;

/// Why a coordinator command failed.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// A file could not be read.
    #[error("cannot read {what} at {path}")]
    Read {
        /// What the file is for.
        what: &'static str,
        /// Where it was expected.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A config file's content is unusable.
    #[error("{path}: {problem}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The coordinator's own audit log or receipt store failed.
    #[error("coordinator store: {0}")]
    Store(String),
    /// A linked query's schedule does not fit its request or the federation.
    #[error("linked query: {0}")]
    Plan(String),
    /// A node's receipt does not check out.
    #[error("receipt from {node}: {problem}")]
    Receipt {
        /// The node.
        node: String,
        /// What failed.
        problem: String,
    },
}

impl From<fedlink_proto::audit::store::StoreError> for CoordinatorError {
    fn from(e: fedlink_proto::audit::store::StoreError) -> Self {
        CoordinatorError::Store(e.to_string())
    }
}

impl From<rusqlite::Error> for CoordinatorError {
    fn from(e: rusqlite::Error) -> Self {
        CoordinatorError::Store(e.to_string())
    }
}
