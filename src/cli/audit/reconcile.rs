//! `fedlink audit reconcile`: the coordinator's log and receipt store against the nodes' logs
//! (see `fedlink_coordinator::reconcile`), as an auditor runs it on copies of the files.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use fedlink_coordinator::receipts::ReceiptStore;
use fedlink_coordinator::reconcile::{
    Inputs, Report, load_log, reconcile, render_jsonl, render_text,
};
use fedlink_proto::federation::Federation;

use super::export::RECEIPTS;
use crate::cli::Outcome;

/// Reconcile the coordinator's audit log and receipts with the nodes' logs, query by query
///
/// Checks that each log verifies on its own; that every query the coordinator issued is in
/// its node's log and every query a node logged from this coordinator is in the
/// coordinator's; that every receipt and checkpoint the coordinator holds of a node's log is
/// that log's own (split view, deleted tail, rewritten entries); that result hashes agree;
/// that every node-to-node message the sender logged is the one the receiver logged; and that
/// budget balances replay and charges match the receipts. Every finding names the entries
/// concerned, as MEMBER#INDEX.
///
/// Exit 0 when the logs agree; 1 when there are findings; 2 on an error such as an
/// unreadable file.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The coordinator's audit log, its export bundle, or its data folder (then audit.db and
    /// receipts.db in it; a receipts.db beside a log file or inside a bundle is read too)
    #[arg(long, value_name = "PATH")]
    pub coordinator: PathBuf,
    /// The coordinator's receipt store, when it is not beside its log
    #[arg(long, value_name = "FILE")]
    pub receipts: Option<PathBuf>,
    /// A node's audit log, its export bundle, or its data folder (then audit.db in it);
    /// repeat for each node
    #[arg(long = "node", value_name = "PATH", required = true)]
    pub nodes: Vec<PathBuf>,
    /// Federation file: pin each log's key to the one it lists for the log's member
    #[arg(long, value_name = "FILE")]
    pub federation: Option<PathBuf>,
    /// Output format: readable text, or JSON lines for machines
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReconcileFormat,
}

/// How to print the report.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReconcileFormat {
    /// Grouped by member, one line per check, then every finding
    Text,
    /// One JSON object per line: summary, checks, findings, notes
    Jsonl,
}

/// The log a PATH names: the file itself, an export bundle (a folder with a manifest.json),
/// or `audit.db` in a data folder (or in the `data` folder of a member's folder).
fn log_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() || path.join("manifest.json").is_file() {
        return Ok(path.to_path_buf());
    }
    anyhow::ensure!(path.is_dir(), "no audit log, bundle or data folder at {}", path.display());
    for candidate in [path.join("audit.db"), path.join("data").join("audit.db")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    anyhow::bail!("{} holds no audit.db (nor data/audit.db) and is not a bundle", path.display())
}

/// Runs `reconcile`: exit 0 when clean, 1 with findings.
pub fn run(args: &ReconcileArgs) -> Result<Outcome> {
    let report = reconcile_logs(
        &args.coordinator,
        args.receipts.as_deref(),
        &args.nodes,
        args.federation.as_deref(),
    )?;
    match args.format {
        ReconcileFormat::Text => print!("{}", render_text(&report)),
        ReconcileFormat::Jsonl => print!("{}", render_jsonl(&report)),
    }
    Ok(if report.is_clean() { Outcome::Success } else { Outcome::CheckFailed })
}

/// Loads the coordinator's log (with its receipt store, given or found beside it or in its
/// bundle) and every node's log, pinned to `federation`'s keys when given, and reconciles them.
pub fn reconcile_logs(
    coordinator: &Path,
    receipts: Option<&Path>,
    nodes: &[PathBuf],
    federation: Option<&Path>,
) -> Result<Report> {
    let federation = match federation {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(
                Federation::from_toml(&text)
                    .with_context(|| format!("reading {}", path.display()))?,
            )
        }
        None => None,
    };
    let coordinator_log = log_file(coordinator)?;
    let coordinator = load_log(&coordinator_log, federation.as_ref())?;
    let receipts_path = receipts.map(Path::to_path_buf).or_else(|| {
        let beside = if coordinator_log.is_dir() {
            coordinator_log.join(RECEIPTS)
        } else {
            coordinator_log.with_file_name(RECEIPTS)
        };
        beside.is_file().then_some(beside)
    });
    let receipts = match &receipts_path {
        Some(path) => {
            anyhow::ensure!(path.is_file(), "no receipt store at {}", path.display());
            let store = ReceiptStore::open_read_only(path)
                .with_context(|| format!("opening the receipt store {}", path.display()))?;
            Some(
                store
                    .snapshot()
                    .with_context(|| format!("reading the receipt store {}", path.display()))?,
            )
        }
        None => None,
    };
    let nodes = nodes
        .iter()
        .map(|path| Ok(load_log(&log_file(path)?, federation.as_ref())?))
        .collect::<Result<Vec<_>>>()?;
    Ok(reconcile(&Inputs { coordinator, receipts, nodes, federation })?)
}
