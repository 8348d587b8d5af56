//! `fedlink synth`: generate the synthetic county (see the `fedlink-synth` crate).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use fedlink_synth::{SynthConfig, generate};

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
