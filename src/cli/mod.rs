//! The `fedlink` command line: one options struct per subcommand, each beside the code that runs
//! it. `main.rs` only dispatches here.
//!
//! Exit codes: 0 success; 1 the command ran but what it checked failed (a log that does not
//! verify, a node that is down, refused or untrusted); 2 an error (bad arguments, unreadable
//! files, a node that cannot start).

pub mod audit;
pub mod coordinator;
pub mod county;
pub mod demo;
pub mod federation;
pub mod node;
pub mod synth;

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
    /// Generate a synthetic county with known answers
    Synth(synth::SynthArgs),
    /// Run a whole federation on this machine, end to end
    Demo(demo::DemoArgs),
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
}

/// `fedlink coordinator …`
#[derive(Debug, Subcommand)]
pub enum CoordinatorCommand {
    /// Ask every node to describe itself, verify receipts, show which nodes are down
    Describe(coordinator::DescribeArgs),
}

/// `fedlink audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify a log offline: entries, checkpoint roots, signatures, consistency
    Verify(audit::VerifyArgs),
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
        Command::Coordinator(CoordinatorCommand::Describe(args)) => {
            coordinator::describe(&args).await
        }
        Command::Audit(AuditCommand::Verify(args)) => audit::verify(&args),
        Command::Synth(args) => {
            synth::run(&args)?;
            Ok(Outcome::Success)
        }
        Command::Demo(args) => demo::run(&args).await,
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
