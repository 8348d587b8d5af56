//! The generator's error type: one variant per cause, each naming the file or setting at fault.

use std::path::PathBuf;

use fedlink_node::dataset::schema::SchemaError;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A setting is out of range (scale not positive, say).
    #[error("bad setting: {0}")]
    Config(String),
    /// Writing a CSV file failed.
    #[error("cannot write {path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// A file or folder could not be created, written or read.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The test range of NHS numbers (999 000 0000–999 999 9999, ~909,000 valid) is too small
    /// for the people who appear in the data at this scale.
    #[error(
        "{needed} people need an NHS number but the 999 test range has only {available} valid \
         numbers; use a smaller --scale"
    )]
    NhsNumbersExhausted {
        /// Numbers needed.
        needed: usize,
        /// Valid numbers in the test range.
        available: usize,
    },
    /// The output folder exists and is not empty.
    #[error("{0} is not empty; choose a new folder")]
    OutputNotEmpty(PathBuf),
    /// A dataset schema the generator built fails the node's own checks (a bug here).
    #[error("dataset {dataset}: {source}")]
    Schema {
        /// The dataset.
        dataset: String,
        /// The cause.
        source: SchemaError,
    },
    /// A row has a different number of fields than its schema has columns (a bug here).
    #[error("dataset {dataset}: row has {found} fields, schema has {expected} columns")]
    RowShape {
        /// The dataset.
        dataset: String,
        /// Columns in the schema.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// A worker thread panicked (a bug here).
    #[error("a generator thread failed: {0}")]
    Thread(String),
    /// Serialising a TOML file failed.
    #[error("cannot serialise {what}: {message}")]
    Toml {
        /// The file.
        what: String,
        /// The cause.
        message: String,
    },
}

impl SynthError {
    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SynthError {
        SynthError::Io { path: path.into(), source }
    }
}
