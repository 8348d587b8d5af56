//! `fedlink coordinator …`: `describe` asks every node to describe itself; `aggregate` asks one
//! node for one protected count table; `run` runs a query file (every query, then every
//! combine); `link` runs one linked query across nodes, relaying blind. Each verifies every
//! receipt and says plainly which nodes refused, under which rule, or are down. At the end of
//! each, the nodes it talked to and the configured witnesses cosign the coordinator's log
//! (warnings on stderr; they never change the answer or the exit code).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use fedlink_coordinator::aggregate::aggregate_one;
use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::describe::{describe_all, render};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::{LinkOptions, run_link};
use fedlink_coordinator::outcome::Outcome as NodeOutcome;
use fedlink_coordinator::query_file::{QueryFile, QueryTerms};
use fedlink_coordinator::run::run_file;
use fedlink_coordinator::table::render::Format;
use fedlink_coordinator::witness::exchange_cosignatures;
use fedlink_proto::federation::MemberRole;

use crate::cli::Outcome;

/// Ask every node to describe itself with a signed request, and verify each receipt
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// Purpose code to state instead of the configured one
    #[arg(long)]
    pub purpose: Option<String>,
}

/// Runs `describe`. Exit 0 when every node answered with a verified receipt, 1 otherwise.
pub async fn describe(args: &DescribeArgs) -> Result<Outcome> {
    let settings = CoordinatorSettings::load(&args.config)?;
    let coordinator = Coordinator::open(settings)?;
    let overrides = QueryOverrides { purpose: args.purpose.clone(), ..Default::default() };
    let rows = describe_all(&coordinator, &overrides).await;
    print!("{}", render(&rows));
    let answered = rows.iter().filter(|r| r.ok()).count();
    println!("\n{answered} of {} nodes answered with a verified receipt", rows.len());
    witness(&coordinator).await;
    Ok(if answered == rows.len() { Outcome::Success } else { Outcome::CheckFailed })
}

/// How tables are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Aligned text: a cross-tab for two groupings, one row per cell otherwise; suppressed
    /// cells as [c]; a footer with the disclosure rules, ε charged and the receipt
    Table,
    /// Long-format CSV: one column per grouping, then value and suppressed (true/false);
    /// released totals follow with * in the columns they sum over
    Csv,
    /// JSON with provenance (node, query id, receipt)
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        }
    }
}

/// Ask one node for a protected count table, and verify its receipt (help text: the
/// `Aggregate` variant of `CoordinatorCommand`)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fedlink coordinator aggregate --config fed/coordinator/coordinator.toml --node icb \\
      --dataset ecds --filter EC_Injury_Intent_SNOMED_CT=1240651000000109 \\
      --group-by ward,month --period 2025-04-01..2026-03-31
  fedlink coordinator aggregate --config fed/coordinator/coordinator.toml --node police \\
      --dataset death_reports --template death-reports-by-category --template-period 2025/26 \\
      --format csv")]
pub struct AggregateArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The node to ask, by its name in the federation file, e.g. icb
    #[arg(long)]
    pub node: String,
    /// The dataset to count, e.g. ecds
    #[arg(long)]
    pub dataset: String,
    /// Keep only rows where COL=VALUE, COL=A|B|C (one of) or COL=MIN..MAX (numbers, inclusive);
    /// repeat for more (all must hold), e.g. --filter Sex=F --filter Age=18..24
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Group by, in order: a time bucket (day, week, month, quarter, financial_year,
    /// day_of_week, hour_band), age_band or age_band:WIDTH, a geography level (lsoa, ward,
    /// local_authority), or a column; column:NAME for a column named like one of those words;
    /// comma-separated or repeated, e.g. --group-by ward,month
    #[arg(long, value_name = "GROUP[,GROUP...]")]
    pub group_by: Vec<String>,
    /// What each cell counts: rows (default), distinct_subjects or sum:COLUMN
    #[arg(long)]
    pub metric: Option<String>,
    /// Keep only events dated FROM..TO (ISO dates, inclusive), e.g. 2025-04-01..2026-03-31;
    /// needed to group by time
    #[arg(long, value_name = "FROM..TO")]
    pub period: Option<String>,
    /// Run this published template of the node's policy instead of shaping a query
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// The template's period: 2025/26 (financial year), 2025-Q3, 2025-07 or 2025
    #[arg(long, value_name = "PERIOD")]
    pub template_period: Option<String>,
    /// Purpose code to state instead of the configured one
    #[arg(long)]
    pub purpose: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
}

/// Runs `aggregate`.
pub async fn aggregate(args: &AggregateArgs) -> Result<Outcome> {
    let terms = QueryTerms {
        dataset: Some(args.dataset.clone()),
        filter: args.filter.clone(),
        group_by: args.group_by.clone(),
        metric: args.metric.clone(),
        period: args.period.clone(),
        template: args.template.clone(),
        template_period: args.template_period.clone(),
    };
    let request =
        terms.resolve().map_err(|e| anyhow!("--{}: {}", e.key.replace('_', "-"), e.problem))?;
    let settings = CoordinatorSettings::load(&args.config)?;
    let coordinator = Coordinator::open(settings)?;
    let federation = &coordinator.settings().federation;
    let Some(node) = federation.member(&args.node).filter(|m| m.role == MemberRole::Node) else {
        let nodes: Vec<&str> = federation.nodes().map(|n| n.name.as_str()).collect();
        bail!(
            "--node: {:?} is not a node of federation {:?} (nodes: {})",
            args.node,
            federation.name,
            nodes.join(", ")
        );
    };
    let overrides = QueryOverrides { purpose: args.purpose.clone(), ..Default::default() };
    let outcome = aggregate_one(&coordinator, node, request, &overrides).await;
    let printed = match &outcome {
        NodeOutcome::Answered { answer, .. } => {
            print!("{}", answer.render(args.format.into()));
            Ok(Outcome::Success)
        }
        other => {
            eprintln!("node {}: {}", args.node, other.failure().unwrap_or_default());
            Ok(Outcome::CheckFailed)
        }
    };
    witness(&coordinator).await;
    printed
}

/// Has the coordinator's latest checkpoint cosigned by every node this command talked to
/// (delivering its cosignatures of theirs) and by every configured independent witness, after
/// the answer is out; says on stderr who cosigned and, plainly, who did not and why. Never
/// changes the command's outcome: the answer received stands.
async fn witness(coordinator: &Coordinator) {
    let report = exchange_cosignatures(coordinator).await;
    if let Some(summary) = report.summary() {
        eprintln!("{summary}");
    }
    for warning in report.warnings() {
        eprintln!("WARNING: {warning}");
    }
}

/// Run a query file: every query, then every combine (help text: the `Run` variant of
/// `CoordinatorCommand`)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  fedlink coordinator run --config fed/coordinator/coordinator.toml \\
      --queries reports/svd-2025-26.toml --out reports/2025-26")]
pub struct RunArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The query file (TOML: [defaults], [[query]] and [[combine]] entries), e.g. svd.toml
    #[arg(long, value_name = "FILE")]
    pub queries: PathBuf,
    /// Output format on stdout (csv: one block per table after a "# name: title" line; json:
    /// one document)
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Also write NAME.csv for every table and combined table into this folder (made if
    /// missing), e.g. --out reports/2025-26
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `run`.
pub async fn run(args: &RunArgs) -> Result<Outcome> {
    let file = QueryFile::load(&args.queries)?;
    let settings = CoordinatorSettings::load(&args.config)?;
    file.check_nodes(&settings.federation, &args.queries)?;
    let coordinator = Coordinator::open(settings)?;
    let results = run_file(&coordinator, &file, &QueryOverrides::default()).await;
    print!("{}", results.render(args.format.into()));
    if let Some(dir) = &args.out {
        let written = results
            .write_csvs(dir)
            .with_context(|| format!("writing tables into {}", dir.display()))?;
        eprintln!("wrote {} CSV files to {}", written.len(), dir.display());
    }
    witness(&coordinator).await;
    if results.all_ok() {
        return Ok(Outcome::Success);
    }
    // The table format already lists failures on stdout; say them on stderr for CSV and JSON,
    // whose stdout is for machines.
    if args.format != FormatArg::Table {
        for failure in results.failures() {
            eprintln!("FAILED {failure}");
        }
    }
    Ok(Outcome::CheckFailed)
}

/// Run one linked query across nodes, relaying blind (help text: the `Link` variant of
/// `CoordinatorCommand`)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fedlink coordinator link --config fed/coordinator/coordinator.toml --query h2.toml
  fedlink coordinator link --config fed/coordinator/coordinator.toml --query flag.toml \\
      --case-ref OP-HARBOUR-0042 --format csv --out flags.csv")]
pub struct LinkArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The linked-query file (TOML: kind, unit, key_types, [[side]] entries), e.g. h2.toml
    #[arg(long, value_name = "FILE")]
    pub query: PathBuf,
    /// Output format (csv: blocks after "# table", "# quality", "# sizes" or "# flags", and
    /// "# nodes" lines; json: one document)
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Write the output to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Append every hello and sealed message the relay carries to this file (records of kind
    /// byte, 4-byte big-endian length, protobuf bytes), for audit
    #[arg(long, value_name = "FILE")]
    pub relay_capture: Option<PathBuf>,
    /// The case reference of a flag-back (replaces the query file's case_ref)
    #[arg(long, value_name = "REF")]
    pub case_ref: Option<String>,
    /// Purpose code to state instead of the configured one
    #[arg(long)]
    pub purpose: Option<String>,
    /// How long each node call may take, in seconds; a step may wait at a node for an
    /// operator's approval
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub step_timeout: u64,
}

/// Runs `link`.
pub async fn link(args: &LinkArgs) -> Result<Outcome> {
    let query = LinkQuery::load(&args.query, args.case_ref.clone())?;
    let settings = CoordinatorSettings::load(&args.config)?;
    query.check_members(&settings.federation, &args.query)?;
    let coordinator = Coordinator::open(settings)?;
    let mut capture = match &args.relay_capture {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--relay-capture: cannot open {}", path.display()))?,
        ),
        None => None,
    };
    let overrides = QueryOverrides { purpose: args.purpose.clone(), ..Default::default() };
    let options = LinkOptions {
        step_timeout: Duration::from_secs(args.step_timeout),
        ..LinkOptions::default()
    };
    let capture_out = capture.as_mut().map(|f| f as &mut (dyn std::io::Write + Send));
    let run = run_link(&coordinator, &query, &overrides, &options, capture_out).await;
    let rendered = run.render(args.format.into());
    match &args.out {
        Some(path) => {
            std::fs::write(path, &rendered)
                .with_context(|| format!("--out: cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{rendered}"),
    }
    witness(&coordinator).await;
    if run.ok() {
        return Ok(Outcome::Success);
    }
    // The text format lists failures itself; say them on stderr when stdout is for machines
    // or the output went to a file.
    if args.format != FormatArg::Table || args.out.is_some() {
        for failure in run.failures() {
            eprintln!("FAILED {failure}");
        }
    }
    Ok(Outcome::CheckFailed)
}
