//! `fedlink synth`: generate the synthetic county (see the `fedlink-synth` crate).

use std::path::PathBuf;

use anyhow::Result;

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

/// Runs `synth`.
pub fn run(args: &SynthArgs) -> Result<()> {
    anyhow::bail!(
        "fedlink synth is not built yet (scale {}, seed {}, out {})",
        args.scale,
        args.seed,
        args.out.display()
    )
}
