//! `fedlink audit export`: write a log file out as an export bundle an auditor takes away and
//! verifies offline (`fedlink_proto::audit::bundle`).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use fedlink_proto::audit::bundle::write_bundle;
use fedlink_proto::clock::{Clock as _, SystemClock};

use fedlink_coordinator::receipts::ReceiptStore;

use super::access::{LogAccess, LogArgs};

/// The coordinator's receipt store, beside its log and in its export bundle.
pub const RECEIPTS: &str = "receipts.db";
use crate::cli::Outcome;

/// Export a log as a bundle an auditor can verify offline
///
/// Writes into --out (new, or an empty folder; never overwritten): entries.jsonl (the exact
/// entry bytes, base64, with their leaf hashes and a decoded view that is a convenience, not
/// evidence), checkpoints.jsonl (every signed checkpoint note), cosignatures.jsonl,
/// budget_balances.jsonl (so the budget replay can be checked offline), log.vkey (the log's
/// key as a C2SP verifier key), README.md (the format, precisely enough to verify it with
/// other tools) and manifest.json, written last: a folder without it is an unfinished export.
/// The log's payload and subject-token tables are not exported; entries keep their
/// payload_commitment. A coordinator's export also carries its receipt store (receipts.db,
/// found beside its log), which `fedlink audit reconcile` reads from the bundle. Check a bundle with `fedlink audit verify --log DIR`.
///
/// With --config the export is first recorded in the member's log as a LOG_EXPORT entry
/// (which the bundle then includes); with --log (a copy, no key) it cannot be, and a note on
/// stderr says so.
///
/// Exit 0 when the bundle was written; 2 on an error (an unreadable log, a non-empty --out).
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Which log, and who exports it (the log must be a file, not a bundle)
    #[command(flatten)]
    pub source: LogArgs,
    /// The bundle folder to create (or an empty folder)
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `export`.
pub fn export(args: &ExportArgs) -> Result<Outcome> {
    let access = LogAccess::resolve(&args.source)?;
    anyhow::ensure!(
        access.path.is_file(),
        "{} is not a log file: export reads a member's audit.db (a bundle is already an export)",
        access.path.display()
    );
    // Refuse before recording: an export that cannot be written is not logged as made.
    let occupied = std::fs::read_dir(&args.out).map(|mut d| d.next().is_some()).unwrap_or(false);
    anyhow::ensure!(
        !occupied,
        "{} is not empty: choose a new or empty folder for the bundle",
        args.out.display()
    );
    let recorded = access.record(
        "audit.export",
        &format!("audit export to {}", args.out.display()),
        &format!("command=export out={}", args.out.display()),
    )?;
    let now = SystemClock::new().now().0;
    let manifest = write_bundle(&access.path, &args.out, now).with_context(|| {
        format!("exporting {} to {}", access.path.display(), args.out.display())
    })?;
    let receipts = access.path.with_file_name(RECEIPTS);
    if receipts.is_file() {
        ReceiptStore::open_read_only(&receipts)
            .and_then(|store| store.copy_to(&args.out.join(RECEIPTS)))
            .with_context(|| format!("copying the receipt store {}", receipts.display()))?;
        println!("the coordinator's receipt store is in the bundle as {RECEIPTS}");
    }
    let c = &manifest.counts;
    println!(
        "exported log {} ({} entries, root {}) to {}",
        manifest.origin,
        manifest.size,
        manifest.root,
        args.out.display()
    );
    println!(
        "{} checkpoints, {} cosignatures, {} budget balances; key {}",
        c.checkpoints,
        c.cosignatures,
        c.budget_balances.map_or_else(|| "no".into(), |n| n.to_string()),
        manifest.vkey
    );
    if let Some(index) = recorded {
        println!("this export is recorded as entry {index} of the log (included in the bundle)");
    }
    Ok(Outcome::Success)
}
