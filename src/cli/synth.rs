//! `fedlink synth`: generate the synthetic county (see the `fedlink-synth` crate), and
//! `fedlink synth evaluate`: score a linkage result against its truth bundle.
//!
//! Generation stays the default (`fedlink synth --scale … --out …`) so existing scripts keep
//! working; `evaluate` is a subcommand beside it, and the two cannot be mixed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use fedlink_synth::evaluate::{evaluate, to_csv, to_table};
use fedlink_synth::{SynthConfig, generate};

/// `fedlink synth`: generation by default, or a subcommand.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SynthCommand {
    /// A subcommand; without one, generate a county
    #[command(subcommand)]
    pub command: Option<SynthSubcommand>,
    /// Generation options
    #[command(flatten)]
    pub generate: Option<SynthArgs>,
}

/// `fedlink synth …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SynthSubcommand {
    /// Score a linkage result against a synthetic county's truth bundle (development only)
    ///
    /// Reads the county folder directly, never through the nodes. LINKS is a CSV with the
    /// header left_node,left_dataset,left_record_id,right_node,right_dataset,right_record_id,
    /// one row per predicted link, record ids as in the extracts. Each dataset pair in the file
    /// is scored on its own: two records are a true pair when truth/record_map.csv gives them
    /// the same person_id. Two levels: "person" counts distinct (left record, right record)
    /// pairs; "subject" counts distinct (left record, right person), so finding any one of a
    /// person's records counts. Each level is broken down by planted scenario (either record's
    /// person a member) and by whether the left record had an NHS number and a date of birth.
    ///
    /// Exit 0 when scored; 2 when a file is missing or malformed, or a link names a dataset or
    /// record id the county does not have.
    Evaluate(EvaluateArgs),
}

/// Options of `fedlink synth evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The county folder written by `fedlink synth` (with truth/ and each node's folder)
    #[arg(long)]
    pub county: PathBuf,
    /// CSV of predicted links (header left_node,left_dataset,left_record_id,right_node,…)
    #[arg(long)]
    pub links: PathBuf,
    /// Output: an aligned table, or CSV with the same columns
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Output format of `evaluate`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns; scores that cannot be computed are "-"
    Table,
    /// CSV; scores that cannot be computed are empty
    Csv,
}

/// Runs `fedlink synth`: a subcommand, or generation.
pub fn dispatch(command: &SynthCommand) -> Result<()> {
    match (&command.command, &command.generate) {
        (Some(SynthSubcommand::Evaluate(args)), _) => run_evaluate(args),
        (None, Some(args)) => run(args),
        (None, None) => bail!("fedlink synth needs --out (see fedlink synth --help)"),
    }
}

/// Runs `synth evaluate`: the report on stdout.
pub fn run_evaluate(args: &EvaluateArgs) -> Result<()> {
    let report = evaluate(&args.county, &args.links).with_context(|| {
        format!(
            "evaluating {} against the truth in {}",
            args.links.display(),
            args.county.display()
        )
    })?;
    match args.format {
        Format::Table => print!("{}", to_table(&report)),
        Format::Csv => print!("{}", to_csv(&report)),
    }
    Ok(())
}

/// Generate a synthetic county: each agency's extract, schemas, and the truth bundle
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Size relative to a 1.1-million-person county (0.1 for the demo)
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Random seed: the same seed and scale give the same county, byte for byte
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write into (must be empty or not exist)
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `synth`: progress on stderr, a summary of rows per dataset on stdout.
pub fn run(args: &SynthArgs) -> Result<()> {
    let config = SynthConfig::new(args.scale, args.seed);
    let started = Instant::now();
    let mut progress = |stage: &str| {
        eprintln!("fedlink synth: [{:6.1}s] {stage}", started.elapsed().as_secs_f64());
    };
    let summary = generate(&config, &args.out, &mut progress)
        .with_context(|| format!("generating the synthetic county in {}", args.out.display()))?;
    println!(
        "Synthetic county: seed {}, scale {}, {} to {}, {} people, {} addresses",
        summary.seed,
        summary.scale,
        summary.period_start,
        summary.period_end,
        summary.people,
        summary.addresses
    );
    println!();
    println!("{:<14} {:<24} {:>10}", "node", "dataset", "rows");
    for d in &summary.datasets {
        println!("{:<14} {:<24} {:>10}", d.node, d.dataset, d.rows);
    }
    println!();
    println!("{:<28} {:<30} {:>8}", "planted scenario", "kind", "records");
    for s in &summary.scenarios {
        println!("{:<28} {:<30} {:>8}", s.id, s.kind, s.records);
    }
    println!();
    println!(
        "Written to {} in {:.1}s. Truth (never for nodes): {}",
        args.out.display(),
        summary.generation_seconds,
        args.out.join("truth").display()
    );
    Ok(())
}
