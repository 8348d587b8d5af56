//! `fedlink audit verify`: offline verification of a node's or the coordinator's audit log,
//! from the log file or from an export bundle.

use std::path::PathBuf;

use anyhow::Result;
use fedlink_proto::audit::verify::{KeySource, verify_log};

use crate::cli::Outcome;

/// Verify an audit log offline: every entry, checkpoint root, signature and consistency proof
///
/// Reads a log file or an export bundle folder (`fedlink audit export`) and makes the same
/// checks on both, naming the first fault found by entry index or checkpoint size. A log
/// file's stored subtrees and index columns are checked too; a bundle's manifest and decoded
/// views are checked against its entries. Then the budget ledger is replayed and compared with
/// the recorded balances.
///
/// Exit 0 when the log verifies; 1 when it does not; 2 on an error such as a missing file.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The log file (a member's data/audit.db) or an export bundle folder
    #[arg(long)]
    pub log: PathBuf,
    /// Federation file: pin the log's key to the one listed for `--member`
    #[arg(long, requires = "member")]
    pub federation: Option<PathBuf>,
    /// The member whose log this is (with --federation)
    #[arg(long, requires = "federation")]
    pub member: Option<String>,
}

/// Runs `verify`: exit 0 when the log verifies, 1 when it does not.
pub fn verify(args: &VerifyArgs) -> Result<Outcome> {
    anyhow::ensure!(args.log.exists(), "no audit log or bundle at {}", args.log.display());
    let pinned = super::pinned_key(args.federation.as_deref(), args.member.as_deref())?;
    match verify_log(&args.log, pinned.as_ref()) {
        Ok(report) => {
            println!(
                "{}: OK — {} entries, {} checkpoints verified, log {}",
                args.log.display(),
                report.size,
                report.checkpoints,
                report.origin
            );
            match report.key_source {
                KeySource::Pinned => {
                    println!("signatures checked against the federation file's key")
                }
                KeySource::RecordedInLog => println!(
                    "signatures checked against the key recorded in the log itself; pass \
                     --federation and --member to pin it to the federation file"
                ),
            }
            println!("{}", report.ledger);
            println!("{}", report.payloads);
            Ok(Outcome::Success)
        }
        Err(e) => {
            println!("{}: FAILED — {e}", args.log.display());
            Ok(Outcome::CheckFailed)
        }
    }
}
