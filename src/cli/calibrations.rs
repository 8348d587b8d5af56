//! `fedlink node calibrations`: the operator's view of the linkage models this node stored
//! after calibration runs (issue 6, design-review F18) — which versions exist for each dataset,
//! what each was fitted against and when, its digest (the one released tables and log entries
//! name), and per key family and agreement level the m, u and weight that later queries use
//! unchanged.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use fedlink_node::config::NodeSettings;
use fedlink_node::link::calibrations::{self, LoadedModel};

use crate::cli::Outcome;

/// List the stored linkage models
#[derive(Debug, clap::Args)]
#[command(after_help = "\
A model is stored by a calibration run (a query file with kind = \"calibrate\") at the
computing node, whose [[linkage]] rule has a [linkage.matcher] section naming the whole
partner sets it may be fitted against. Queries then link with the version the section pins,
or with the latest one stored for their key types.

Example:
  fedlink node calibrations --config fed/icb/node.toml --dataset ecds")]
pub struct CalibrationsArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// Only this dataset (default: every dataset with a [linkage.matcher] section)
    #[arg(long)]
    pub dataset: Option<String>,
}

/// Prints every stored version, newest last.
pub fn run(args: &CalibrationsArgs) -> Result<Outcome> {
    let settings = NodeSettings::load(&args.config)?;
    let datasets: Vec<(String, Option<u32>)> = match &args.dataset {
        Some(d) => vec![(d.clone(), pinned(&settings, d))],
        None => settings
            .policy
            .linkage
            .iter()
            .filter_map(|r| r.matcher.as_ref().map(|m| (r.dataset.clone(), m.version)))
            .collect(),
    };
    if datasets.is_empty() {
        println!("no [[linkage]] rule of this node has a [linkage.matcher] section");
    }
    for (dataset, pin) in datasets {
        let models = calibrations::list(&settings.data_dir, &dataset)
            .with_context(|| format!("reading the stored models of {dataset:?}"))?;
        let used = match pin {
            Some(v) => format!("queries use v{v} (pinned)"),
            None => "queries use the latest version stored for their key types".into(),
        };
        println!("{dataset}: {} stored; {used}", models.len());
        for model in &models {
            print!("{}", describe(model));
        }
    }
    Ok(Outcome::Success)
}

fn pinned(settings: &NodeSettings, dataset: &str) -> Option<u32> {
    settings
        .policy
        .linkage
        .iter()
        .find(|r| r.dataset == dataset)
        .and_then(|r| r.matcher.as_ref())
        .and_then(|m| m.version)
}

/// One version: its provenance, then m, u and the weight of each key type.
fn describe(model: &LoadedModel) -> String {
    let s = &model.stored;
    let c = &s.model;
    let mut out = format!(
        "  v{} fitted {} against {} (query {}); threshold {}; sha256 {}\n",
        s.version,
        s.fitted_at,
        s.cohort,
        s.query_id,
        c.threshold,
        calibrations::hex(&model.sha256)
    );
    out.push_str(&format!(
        "    estimated precision at the threshold {:.4}; prior {:.3e}; {}\n",
        c.estimated_precision,
        c.lambda,
        if c.converged { "EM converged" } else { "EM did NOT converge" }
    ));
    out.push_str(&format!(
        "    {:<14} {:<22} {:>9} {:>12} {:>8}\n",
        "family", "agreement level", "m", "u", "weight"
    ));
    for comparison in &c.comparisons {
        for ((level, m), u) in comparison.levels.iter().zip(&comparison.m).zip(&comparison.u) {
            out.push_str(&format!(
                "    {:<14} {level:<22} {m:>9.4} {u:>12.3e} {:>8.2}\n",
                comparison.family,
                (m / u).log2()
            ));
        }
    }
    out
}
