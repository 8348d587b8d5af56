//! `fedlink coordinator report`: the analytical report for a period, from the live federation,
//! in one command: the catalogue's queries with a progress line each, then `report.html`, one
//! CSV per table, `manifest.json` and (only when the catalogue asks) the restricted annex.
//! `--dated` writes each run into its own dated folder and says what changed since the last;
//! `--every` repeats that on a schedule until stopped.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::Coordinator;
use fedlink_coordinator::link::LinkOptions;
use fedlink_coordinator::report::build::build;
use fedlink_coordinator::report::catalogue::Catalogue;
use fedlink_coordinator::report::compare::{compare_runs, previous_run};
use fedlink_coordinator::report::period::ReportPeriod;
use fedlink_coordinator::report::plan::{PlannedQuery, plan};
use fedlink_coordinator::report::run::{Progress, execute};
use fedlink_coordinator::report::write::write_report;
use fedlink_proto::aggregate::text::PeriodKind;
use fedlink_proto::link::LinkKind;

use crate::cli::Outcome;

/// Produce the homicide-prevention analytical report for a period (help text: the `Report`
/// variant of `CoordinatorCommand`)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fedlink coordinator report --config fed/coordinator/coordinator.toml \\
      --catalogue deploy/catalogue/homicide-prevention.toml \\
      --period 2025-04-01..2026-03-31 --out reports/2025-26
  fedlink coordinator report --config fed/coordinator/coordinator.toml \\
      --catalogue deploy/catalogue/homicide-prevention.toml --period 2025/26 \\
      --out /var/lib/fedlink/reports --every 1d")]
pub struct ReportArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The report catalogue (TOML: sections of aggregate and linked queries), e.g.
    /// deploy/catalogue/homicide-prevention.toml
    #[arg(long, value_name = "FILE")]
    pub catalogue: PathBuf,
    /// The report period: FROM..TO (ISO dates, inclusive), or a named period: 2025/26
    /// (financial year), 2025-Q3, 2025-07 or 2025. Published templates need a named period.
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    /// Folder to write the report into (made if missing): report.html, tables/*.csv,
    /// manifest.json, and restricted/ only when the catalogue asks for restricted results
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write this run into its own folder DIR/<date-time>/ and compare it with the previous
    /// run there (changes.txt)
    #[arg(long)]
    pub dated: bool,
    /// Run again every so often (30m, 12h, 1d, 7d) until stopped, each run dated and compared
    /// with the one before; implies --dated
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    pub every: Option<Duration>,
    /// How long each node call of a linked query may take, in seconds (a flag-back waits at
    /// the partner for an operator's approval)
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub step_timeout: u64,
}

/// Reads `30m`, `12h`, `1d`, `7d`.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let (number, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?}: a number then m, h or d"))?;
    let seconds = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is m (minutes), h (hours) or d (days)")),
    };
    if n == 0 {
        return Err(format!("{text:?}: must be at least 1"));
    }
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

/// Reads `FROM..TO` or a named period.
pub fn parse_report_period(text: &str) -> Result<ReportPeriod> {
    if text.contains("..") {
        return ReportPeriod::parse(text).map_err(|e| anyhow!("--period: {e}"));
    }
    [PeriodKind::FinancialYear, PeriodKind::Quarter, PeriodKind::Month, PeriodKind::Year]
        .into_iter()
        .find_map(|k| k.range(text))
        .map(|(from, to)| ReportPeriod { from, to })
        .ok_or_else(|| {
            anyhow!(
                "--period: {text:?} is not a period: give FROM..TO (e.g. 2025-04-01..2026-03-31) \
                 or a financial year like 2025/26, a quarter like 2025-Q3, a month like 2025-07 \
                 or a year like 2025"
            )
        })
}

/// What one run produced.
#[derive(Debug)]
pub struct Produced {
    /// The report's folder.
    pub dir: PathBuf,
    /// How many queries were sent, and how many answered.
    pub queries: usize,
    /// How many answered.
    pub answered: usize,
    /// Partners that could not be asked.
    pub unavailable: Vec<String>,
    /// Whether a restricted annex was written.
    pub restricted: bool,
    /// Seconds the queries took.
    pub seconds: f64,
}

impl Produced {
    /// Whether every query answered.
    pub fn complete(&self) -> bool {
        self.answered == self.queries
    }
}

/// Runs the catalogue for `period` and writes the report into `dir`, printing a progress line
/// per query on stderr.
pub async fn produce(
    coordinator: &Coordinator,
    catalogue: &Catalogue,
    period: ReportPeriod,
    dir: &Path,
    step_timeout: Duration,
) -> Result<Produced> {
    let plan = plan(catalogue, period, &coordinator.settings().federation)?;
    let options = LinkOptions { step_timeout, ..LinkOptions::default() };
    let mut progress = |event: Progress<'_>| {
        if let Progress::Start { index, total, step } = &event
            && let PlannedQuery::Link(query) = &step.query
            && query.request.kind == LinkKind::FlagBack
        {
            eprintln!(
                "   [{index}/{total}] {}: a flag-back waits for an operator at {} to approve it \
                 (fedlink node approvals list there)",
                step.name,
                query.computing()
            );
        }
        if let Some(line) = event.line() {
            eprintln!("   {line}");
        }
    };
    let execution = execute(coordinator, &plan, &options, &mut progress).await;
    let report = build(catalogue, &plan, &execution, coordinator.settings(), now_ms());
    let html = fedlink_coordinator::report::html::render(&report);
    write_report(&report, dir, Some(&html))
        .with_context(|| format!("writing the report into {}", dir.display()))?;
    Ok(Produced {
        dir: dir.to_path_buf(),
        queries: report.queries.len(),
        answered: report.queries.iter().filter(|q| q.status == "answered").count(),
        unavailable: report
            .partners
            .iter()
            .filter(|p| !p.available)
            .map(|p| format!("{}: {}", p.name, p.status))
            .collect(),
        restricted: !report.restricted.is_empty(),
        seconds: execution.seconds,
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A run folder's name: the UTC time, sortable (`2026-01-05T06-00-00Z`).
fn run_name() -> String {
    fedlink_coordinator::report::records::iso_utc(now_ms()).replace(':', "-")
}

/// Runs `report`.
pub async fn run(args: &ReportArgs) -> Result<Outcome> {
    let period = parse_report_period(&args.period)?;
    let catalogue = Catalogue::load(&args.catalogue)?;
    let settings = CoordinatorSettings::load(&args.config)?;
    // Resolve once before anything is sent, so a catalogue mistake stops here.
    plan(&catalogue, period, &settings.federation)?;
    let coordinator = Coordinator::open(settings)?;
    let step_timeout = Duration::from_secs(args.step_timeout);
    let Some(every) = args.every else {
        return once(&coordinator, &catalogue, period, args, step_timeout).await;
    };
    loop {
        once(&coordinator, &catalogue, period, args, step_timeout).await?;
        eprintln!("next run in {}", humanise(every));
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                return Ok(Outcome::Success);
            }
        }
    }
}

fn humanise(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{} d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else {
        format!("{} min", s / 60)
    }
}

/// One run: into `--out`, or a dated folder in it compared with the previous run.
async fn once(
    coordinator: &Coordinator,
    catalogue: &Catalogue,
    period: ReportPeriod,
    args: &ReportArgs,
    step_timeout: Duration,
) -> Result<Outcome> {
    let dated = args.dated || args.every.is_some();
    let dir = if dated { args.out.join(run_name()) } else { args.out.clone() };
    if dated && dir.exists() {
        bail!("{} exists already (two runs in the same second?)", dir.display());
    }
    eprintln!("report {} for {period} into {}", catalogue.title, dir.display());
    let produced = produce(coordinator, catalogue, period, &dir, step_timeout).await?;
    println!(
        "{} of {} queries answered in {:.1} s; open {}",
        produced.answered,
        produced.queries,
        produced.seconds,
        dir.join("report.html").display()
    );
    for partner in &produced.unavailable {
        println!("partner {partner}: its sections say so");
    }
    if produced.restricted {
        println!(
            "restricted annex (police only, not part of the report): {}",
            dir.join("restricted").display()
        );
    }
    if dated && let Some(previous) = previous_run(&args.out, &dir) {
        let changes = compare_runs(&previous, &dir)?;
        let path = dir.join("changes.txt");
        std::fs::write(&path, changes.render())
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "{} changes since {} ({} cells): {}",
            changes.lines.len(),
            previous.display(),
            changes.changed_cells,
            path.display()
        );
    }
    Ok(if produced.complete() { Outcome::Success } else { Outcome::CheckFailed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_periods_read_as_documented() {
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_interval("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_interval("1w").is_err());
        assert!(parse_interval("0h").is_err());
        let fy = parse_report_period("2025/26").expect("fy");
        assert_eq!(fy.to_string(), "2025-04-01..2026-03-31");
        assert!(parse_report_period("last year").is_err());
    }
}
