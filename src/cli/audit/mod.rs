//! `fedlink audit …`: review a member's audit log, from the live file or from an export
//! bundle. One file per subcommand; [`access`] says which log is read and, when the reader
//! names the member's config, records the reading in that log.

pub mod access;
pub mod export;
pub mod reconcile;
pub mod report;
pub mod show;
pub mod verify;

pub use export::{ExportArgs, export};
pub use reconcile::{ReconcileArgs, run as reconcile};
pub use report::{ReportArgs, report};
pub use show::{ShowArgs, show};
pub use verify::{VerifyArgs, verify};
