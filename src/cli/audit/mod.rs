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

/// The key the federation file lists for `member`, to pin a log's verification to (both given),
/// or `None` (neither given: clap's `requires` keeps them paired).
pub fn pinned_key(
    federation: Option<&std::path::Path>,
    member: Option<&str>,
) -> anyhow::Result<Option<fedlink_proto::identity::PublicKey>> {
    use anyhow::Context as _;
    let (Some(path), Some(member)) = (federation, member) else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let federation = fedlink_proto::federation::Federation::from_toml(&text)
        .with_context(|| format!("reading {}", path.display()))?;
    let m = federation
        .member(member)
        .with_context(|| format!("{member:?} is not a member in {}", path.display()))?;
    Ok(Some(m.public_key))
}
