//! `fedlink audit report`: a DPO's readable summary of one audit log as a self-contained HTML
//! page (issue 7, item 6; audit-privacy-legal.md §1.4–§1.5). The log is read read-only,
//! verified with the same code as `fedlink audit verify` (a failure is the first thing the page
//! says, in red), aggregated into figures ([`model`]) and rendered with the [`crate::html`]
//! primitives ([`render`]).
//!
//! - [`read`]: the log file, read leniently (a damaged log still gets a report).
//! - [`time`]: UTC dates, `--since`/`--until`, day/week/month buckets.
//! - [`model`]: the figures, from decoded entries.
//! - `queries`: which entries are queries, how each ended, and the fields shown.
//! - [`render`]: the page.
//! - `review`: its refusal, person-level disclosure and budget sections.

pub mod model;
mod queries;
pub mod read;
pub mod render;
mod review;
pub mod time;

use std::path::{Path, PathBuf};

use fedlink_proto::audit::verify::{KeySource, verify_log};
use fedlink_proto::identity::PublicKey;

pub use model::{AuditSummary, LogKind, Verification, Window};

/// Why no report could be made (a log that fails verification still gets one).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file has no `log_entry` table.
    #[error("{path} is not a fedlink audit log (it has no log_entry table)")]
    NotAnAuditLog {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The key the log must be signed with (from the federation file); without it, the key the
    /// log records is used and the page says so.
    pub pinned_key: Option<PublicKey>,
    /// The time the activity figures cover.
    pub window: Window,
    /// When the report was made (ms), shown in its footer; `None` leaves it out, so the same
    /// log gives the same bytes.
    pub generated_at_ms: Option<i64>,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The figures.
    pub summary: AuditSummary,
    /// The page.
    pub html: String,
}

impl AuditReport {
    /// Whether the log verified.
    pub fn verified(&self) -> bool {
        matches!(self.summary.verification, Verification::Verified { .. })
    }
}

/// Reads, verifies, summarises and renders the log at `path`.
pub fn audit_report(path: &Path, options: &ReportOptions) -> Result<AuditReport, ReportError> {
    let log = read::read_log(path)?;
    let verification = match verify_log(path, options.pinned_key.as_ref()) {
        Ok(report) => Verification::Verified {
            size: report.size,
            checkpoints: report.checkpoints,
            key: report.public_key.to_base64(),
            pinned: report.key_source == KeySource::Pinned,
            ledger: report.ledger.to_string(),
        },
        Err(e) => Verification::Failed { problem: e.to_string() },
    };
    let summary = AuditSummary::build(&log, verification, options.window);
    let html = render::render(&summary, &path.display().to_string(), options.generated_at_ms);
    Ok(AuditReport { summary, html })
}

#[cfg(test)]
mod tests;
