//! The `fedlink` command line: one options struct per subcommand, each beside the code that runs
//! it. `main.rs` only dispatches here.
//!
//! Exit codes: 0 success; 1 the command ran but what it checked failed (a log that does not
//! verify, a node that is down, refused or untrusted); 2 an error (bad arguments, unreadable
//! files, a node that cannot start).

pub mod approvals;
pub mod audit;
pub mod calibrations;
pub mod coordinator;
pub mod county;
pub mod demo;
mod demo_link;
pub mod federation;
pub mod linkage;
pub mod node;
pub mod node_audit;
pub mod report;
pub mod synth;
pub mod witness;

use clap::{Parser, Subcommand, ValueEnum};

/// How a command that ran to the end turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked out (exit 0).
    Success,
    /// The command ran, but a check failed (exit 1).
    CheckFailed,
}

/// fedlink: find and count linkages between partner agencies' records without any record or
/// identifier leaving its own node
#[derive(Debug, Parser)]
#[command(name = "fedlink", version, propagate_version = true)]
pub struct Cli {
    /// Log format for diagnostics on stderr
    #[arg(long, global = true, value_enum, default_value = "text", env = "FEDLINK_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// Diagnostic log format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Readable lines
    Text,
    /// One JSON object per line
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a federation
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Run an agency node
    #[command(subcommand)]
    Node(NodeCommand),
    /// The analyst's side: query the federation
    #[command(subcommand)]
    Coordinator(CoordinatorCommand),
    /// Review audit logs
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Generate a synthetic county with known answers, or score a linkage against its truth
    ///
    /// `fedlink synth --scale S --seed N --out DIR` generates a county; `fedlink synth evaluate
    /// --county DIR --links FILE` scores predicted links against its truth bundle.
    Synth(synth::SynthCommand),
    /// Measure person-linkage accuracy on a fresh synthetic county
    #[command(subcommand)]
    Linkage(linkage::LinkageCommand),
    /// Run a whole federation on this machine, end to end
    Demo(demo::DemoArgs),
    /// Run an independent witness of the coordinator's and nodes' audit logs
    ///
    /// A witness (a partner's DPO, an auditor) keeps the last checkpoint it cosigned of each
    /// log it witnesses and cosigns a new one only if it extends that one, so a log that is
    /// rewritten, truncated or forked (shown differently to different parties) is refused
    /// and reported. `init` creates one; `serve` runs it.
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
}

/// `fedlink federation …`
#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Create a local federation: dev CA, member certificates and keys, configs, policies
    Init(federation::InitArgs),
    /// Print a member's federation-file entry (certificate fingerprint, identity key)
    Member(federation::MemberArgs),
}

/// `fedlink node …`
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Serve this node's gRPC service over mTLS until SIGTERM or Ctrl-C
    Serve(node::ServeArgs),
    /// Import CSV extracts into a dataset, with validation and quarantine
    Import(node::ImportArgs),
    /// Review and decide flag-back requests waiting for an operator's approval
    ///
    /// Flag-back returns person-level flags to the requesting node, so each request waits
    /// until an operator here approves or denies it, or it expires. `list` shows what waits;
    /// `show ID` shows what to check before deciding (the attested row count, purpose, lawful
    /// basis, requester, authoriser, the case reference's earlier requests and the caps left);
    /// `approve ID` and `deny ID` decide. Approval is refused past the policy's flag-back caps
    /// (`max_rows_per_case` over `case_period_days`, and `max_rows_per_day`).
    ///
    /// Exit 0 on success; 1 when a request is unknown, expired or already decided, or a cap or
    /// the policy refuses the approval; 2 on an error such as an unreadable config.
    #[command(subcommand)]
    Approvals(approvals::ApprovalsCommand),
    /// List the linkage models this node stored after calibration runs (versions, digests,
    /// m, u and weights per key type)
    Calibrations(calibrations::CalibrationsArgs),
    /// The node's own audit log: search it for one person (logged), erase expired payloads
    #[command(subcommand)]
    Audit(node_audit::NodeAuditCommand),
}

/// `fedlink coordinator …`
#[derive(Debug, Subcommand)]
pub enum CoordinatorCommand {
    /// Ask every node to describe itself, verify receipts, show which nodes are down
    Describe(coordinator::DescribeArgs),
    /// Ask one node for a protected count table (a shaped query or a published template)
    ///
    /// Either shape the query (--filter, --group-by, --metric, --period: the node adds
    /// differential-privacy noise and charges your budget, then suppresses and rounds), or run
    /// one of the node's published templates (--template, --template-period: suppression and
    /// rounding alone). Terms are written as in query files and node policies. Suppressed cells
    /// are shown as [c], never as 0.
    ///
    /// Exit 0 when the node answered with a verified receipt and a well-formed table; 1 when it
    /// refused (the rule and message go to stderr), was down, or its answer did not check out;
    /// 2 on an error such as a bad flag.
    Aggregate(coordinator::AggregateArgs),
    /// Run a query file: every query, then every combine; print and save the tables
    ///
    /// Nodes are asked concurrently (one node's queries one at a time, in file order). Each
    /// table is printed under its title, then each combined table; with --out, NAME.csv is
    /// also written for each. A query that is refused, a node that is down, or an answer that
    /// does not check out is reported by name, with the refusal rule and message, while the
    /// others are still printed. A query file looks like this
    /// (paths are relative to the file):
    ///
    ///   [defaults]                         # optional
    ///   period = "2025-04-01..2026-03-31"  # event dates, for queries that give none
    ///   template_period = "2025/26"        # for template queries that give none
    ///
    ///   [[query]]
    ///   name = "ed_assault_by_ward"        # names the CSV file
    ///   title = "ED assault attendances by ward"
    ///   node = "icb"
    ///   dataset = "ecds"
    ///   filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
    ///   group_by = ["ward"]
    ///   metric = "rows"                    # rows | distinct_subjects | sum:COLUMN
    ///
    ///   [[query]]
    ///   name = "deaths_by_category"
    ///   node = "police"
    ///   dataset = "death_reports"
    ///   template = "death-reports-by-category"
    ///
    ///   [[combine]]
    ///   name = "s3_by_ward"
    ///   queries = ["police_violence_by_ward", "ed_assault_by_ward"]
    ///   on = "ward"
    ///   population = "public/ward_population.csv"  # columns ward, population
    ///   rate_per = 1000
    ///   rank = true
    ///
    /// Exit 0 when every query answered and every combine was made; 1 otherwise; 2 on an error
    /// such as an unreadable or invalid query file.
    #[command(verbatim_doc_comment)]
    Run(coordinator::RunArgs),
    /// Run one linked query (linked count, flag-back, overlap) across nodes, relaying blind
    ///
    /// The coordinator signs one envelope per participant (each logged before it is sent),
    /// then relays the nodes' sealed messages between them without being able to read them,
    /// and verifies every node's receipt. It prints the computing node's protected table
    /// (suppressed cells as [c], never 0) with the linkage-quality figures and side sizes, or,
    /// for a flag-back, one flag per cohort record; then each node's outcome and receipt.
    /// With --relay-capture, everything the relay carried is appended to a file. A query file
    /// looks like this (filters as in `run` query files):
    ///
    ///   title = "H2: homicide victims with ED assault attendances in the 12 months before"
    ///   kind = "count"                 # count | flag_back | overlap | calibrate
    ///   unit = "person"                # person | address
    ///   key_types = ["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]
    ///   window = "12m-before"          # optional: a template of the computing node
    ///   computing = "icb"              # optional: count/flag_back: the non-cohort side;
    ///                                  # overlap: any side (default the last)
    ///   case_ref = "OP-HARBOUR-0042"   # flag_back only (or --case-ref)
    ///
    ///   [[side]]
    ///   member = "police"
    ///   dataset = "death_reports"
    ///   role = "cohort"                # count/flag_back: exactly one side
    ///   filter = ["category=homicide"] # COL=VALUE, COL=A|B|C, COL=MIN..MAX
    ///   period = "2025-04-01..2026-03-31"  # optional: event dates
    ///   label = "category"             # optional label column (default: one label, all)
    ///
    ///   [[side]]
    ///   member = "icb"
    ///   dataset = "ecds"
    ///   filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
    ///
    /// Exit 0 when every node ended its part with a verified receipt; 1 when a node refused
    /// (its rule and message are shown), was down, or its answer did not check out, or the
    /// relay stopped; 2 on an error such as an unreadable or invalid query file.
    #[command(verbatim_doc_comment)]
    Link(coordinator::LinkArgs),
    /// Produce the analytical report for a period: every query of a catalogue, one HTML page
    ///
    /// Runs the catalogue's aggregate and linked queries for the period (a progress line per
    /// query on stderr) and writes report.html (self-contained: inline charts, no external
    /// assets), one CSV per table under tables/, and manifest.json, which traces every number
    /// to its query, node and receipt. Suppressed cells read as suppressed, never 0. A partner
    /// that is down is named in the sections that needed it, and the rest is still produced.
    /// Flag-back results and police-only detail go only to restricted/, and only when the
    /// catalogue asks. --dated puts each run in its own dated folder with changes.txt against
    /// the previous run; --every repeats that on a schedule.
    ///
    /// Exit 0 when every query answered; 1 when the report was written but a query was refused,
    /// a partner was down or an answer did not check out; 2 on an error such as an invalid
    /// catalogue or period.
    Report(report::ReportArgs),
}

/// `fedlink audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    // No doc comments here: each Args struct's own doc is its (long) help.
    Verify(audit::VerifyArgs),
    Show(audit::ShowArgs),
    Export(audit::ExportArgs),
    Report(audit::ReportArgs),
    Reconcile(audit::ReconcileArgs),
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Federation(FederationCommand::Init(args)) => {
            federation::run(&args)?;
            Ok(Outcome::Success)
        }
        Command::Federation(FederationCommand::Member(args)) => {
            federation::member(&args)?;
            Ok(Outcome::Success)
        }
        Command::Node(NodeCommand::Serve(args)) => {
            node::serve(&args).await?;
            Ok(Outcome::Success)
        }
        Command::Node(NodeCommand::Import(args)) => {
            node::import(&args)?;
            Ok(Outcome::Success)
        }
        Command::Node(NodeCommand::Approvals(command)) => approvals::run(&command),
        Command::Node(NodeCommand::Calibrations(args)) => calibrations::run(&args),
        Command::Node(NodeCommand::Audit(command)) => node_audit::run(&command),
        Command::Coordinator(CoordinatorCommand::Describe(args)) => {
            coordinator::describe(&args).await
        }
        Command::Coordinator(CoordinatorCommand::Aggregate(args)) => {
            coordinator::aggregate(&args).await
        }
        Command::Coordinator(CoordinatorCommand::Run(args)) => coordinator::run(&args).await,
        Command::Coordinator(CoordinatorCommand::Link(args)) => coordinator::link(&args).await,
        Command::Coordinator(CoordinatorCommand::Report(args)) => report::run(&args).await,
        Command::Audit(AuditCommand::Verify(args)) => audit::verify(&args),
        Command::Audit(AuditCommand::Show(args)) => audit::show(&args),
        Command::Audit(AuditCommand::Export(args)) => audit::export(&args),
        Command::Audit(AuditCommand::Report(args)) => audit::report(&args),
        Command::Audit(AuditCommand::Reconcile(args)) => audit::reconcile(&args),
        Command::Synth(command) => {
            synth::dispatch(&command)?;
            Ok(Outcome::Success)
        }
        Command::Linkage(linkage::LinkageCommand::Evaluate(args)) => {
            linkage::evaluate(&args)?;
            Ok(Outcome::Success)
        }
        Command::Demo(args) => demo::run(&args).await,
        Command::Witness(command) => witness::run(&command).await,
    }
}

/// Sets up tracing on stderr: readable by default, JSON on request; `FEDLINK_LOG` or
/// `RUST_LOG` set the filter (default `info`).
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FEDLINK_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
