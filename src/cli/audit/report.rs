//! `fedlink audit report`: writes a DPO's readable summary of one audit log as a single
//! self-contained HTML page (see `fedlink_coordinator::audit_report`).

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use fedlink_coordinator::audit_report::time::{parse_date, parse_date_end};
use fedlink_coordinator::audit_report::{ReportOptions, Window, audit_report};

use crate::cli::Outcome;

/// Write a DPO's summary of an audit log as one self-contained HTML page
///
/// The page shows, for a node's or the coordinator's log: whether the log verifies (a failure
/// is shown first, in red), queries per purpose and requester over time, refusals and the rules
/// that refused, person-level disclosures with their case, authoriser and approval, budget
/// consumption and balances, the queries a coordinator issued per node, and reads of the log.
/// It has no scripts and no external assets: it can be mailed, archived or printed as it is.
///
/// Exit 0 when the page is written and the log verifies; 1 when the page is written but the
/// log fails verification; 2 on an error such as an unreadable log or a bad date.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The log file (a member's data/audit.db); read only, never changed
    #[arg(long)]
    pub log: PathBuf,
    /// Where to write the HTML page
    #[arg(long)]
    pub out: PathBuf,
    /// Only activity from this UTC day on (YYYY-MM-DD); integrity and balances cover the
    /// whole log
    #[arg(long)]
    pub since: Option<String>,
    /// Only activity up to and including this UTC day (YYYY-MM-DD)
    #[arg(long)]
    pub until: Option<String>,
    /// Federation file: pin the log's key to the one listed for `--member`
    #[arg(long, requires = "member")]
    pub federation: Option<PathBuf>,
    /// The member whose log this is (with --federation)
    #[arg(long, requires = "federation")]
    pub member: Option<String>,
}

/// Runs `audit report`.
pub fn report(args: &ReportArgs) -> Result<Outcome> {
    anyhow::ensure!(args.log.is_file(), "no audit log at {}", args.log.display());
    let date = |flag: &str, text: &Option<String>, parse: fn(&str) -> Option<i64>| {
        text.as_deref()
            .map(|t| parse(t).with_context(|| format!("--{flag} {t:?} is not a date YYYY-MM-DD")))
            .transpose()
    };
    let window = Window {
        since_ms: date("since", &args.since, parse_date)?,
        until_ms: date("until", &args.until, parse_date_end)?,
    };
    if let (Some(since), Some(until)) = (window.since_ms, window.until_ms)
        && since >= until
    {
        bail!("--since must be on or before --until");
    }
    let pinned_key = super::pinned_key(args.federation.as_deref(), args.member.as_deref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .ok();
    let options = ReportOptions { pinned_key, window, generated_at_ms: now };
    let report = audit_report(&args.log, &options)?;
    std::fs::write(&args.out, &report.html)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let s = &report.summary;
    println!(
        "{}: {} queries, {} refused, {} person-level disclosures; report written to {}",
        args.log.display(),
        s.queries.len(),
        s.refusals.len(),
        s.person_level.len(),
        args.out.display()
    );
    if report.verified() {
        Ok(Outcome::Success)
    } else {
        println!(
            "{}: the log FAILS verification (the report says so at the top)",
            args.log.display()
        );
        Ok(Outcome::CheckFailed)
    }
}
