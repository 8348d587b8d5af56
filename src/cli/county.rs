//! Loading a synthetic county into a federation's nodes: attach each node's dataset schemas
//! (the `node-datasets.toml` fragment `fedlink synth` writes) to its config, point it at the
//! county's public geography lookup, give it the demo's aggregate rules, then import every
//! dataset's extract, as a partner's IT team would with `fedlink node import`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use fedlink_node::config::NodeSettings;
use fedlink_node::dataset::collect::Collector;
use fedlink_node::dataset::import::ImportSummary;

/// Appends the node's synthetic datasets to its config; returns (dataset, CSV path) pairs.
pub fn attach(node_config: &Path, synth_node_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let fragment_path = synth_node_dir.join("node-datasets.toml");
    let fragment: toml::Table = toml::from_str(
        &std::fs::read_to_string(&fragment_path)
            .with_context(|| format!("reading {}", fragment_path.display()))?,
    )
    .with_context(|| format!("reading {}", fragment_path.display()))?;
    let entries = fragment.get("dataset").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    let mut config = std::fs::read_to_string(node_config)
        .with_context(|| format!("reading {}", node_config.display()))?;
    let mut datasets = Vec::new();
    for entry in entries {
        let relative = entry.get("schema").and_then(|s| s.as_str()).with_context(|| {
            format!("{}: a [[dataset]] without `schema`", fragment_path.display())
        })?;
        let schema = synth_node_dir.join(relative);
        let schema = std::path::absolute(&schema).unwrap_or(schema);
        let name = schema
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("dataset schema path {}", schema.display()))?
            .to_string();
        config.push_str(&format!("\n[[dataset]]\nschema = {:?}\n", schema.display().to_string()));
        datasets.push((name.clone(), synth_node_dir.join("data").join(format!("{name}.csv"))));
    }
    std::fs::write(node_config, config)
        .with_context(|| format!("writing {}", node_config.display()))?;
    Ok(datasets)
}

/// The demo's aggregate and linkage rules for each node (the councils answer no aggregates:
/// deny by default).
fn demo_rules(node: &str) -> Option<&'static str> {
    match node {
        "police" => Some(include_str!("demo_policies/police.toml")),
        "icb" => Some(include_str!("demo_policies/icb.toml")),
        "council-east" => Some(include_str!("demo_policies/council-east.toml")),
        "council-west" => Some(include_str!("demo_policies/council-west.toml")),
        _ => None,
    }
}

/// A starting policy with the demo's rules appended and the modes they need switched on: the
/// police take part in flag-back as the cohort, the ICB as the node that approves and flags.
fn with_demo_rules(policy: &str, node: &str, rules: &str) -> String {
    let mut enabled = policy.to_string();
    if rules.contains("[[aggregate]]") {
        enabled = enabled.replacen("aggregate = false", "aggregate = true", 1);
    }
    if rules.contains("[[linkage]]") {
        enabled = enabled.replacen("linked_count = false", "linked_count = true", 1);
    }
    if rules.contains("flag_back = {") || node == "police" {
        enabled = enabled.replacen("flag_back = false", "flag_back = true", 1);
    }
    if rules.contains("matcher = {") || node == "police" {
        enabled = enabled.replacen("calibrate = false", "calibrate = true", 1);
    }
    if rules.contains("\"blinder\"") || rules.contains("roles = [\"computing\"]") {
        enabled = enabled.replacen("overlap = false", "overlap = true", 1);
    }
    // The police's own death review (output class P, exact counts of police records for the
    // report's restricted annex) is a purpose of its own, accepted where a rule names it.
    if rules.contains("\"POLICE-DEATH-REVIEW\"") {
        enabled = enabled.replacen("purposes = [", "purposes = [\"POLICE-DEATH-REVIEW\", ", 1);
    }
    format!("{enabled}\n{rules}")
}

/// Points a node at the county's public geography lookup and, for the nodes that answer
/// aggregates, enables them with the demo's rules. The node checks the policy when it starts.
pub fn attach_analysis(node: &str, node_config: &Path, public_dir: &Path) -> Result<()> {
    let lookup = std::path::absolute(public_dir.join("geography.csv"))
        .with_context(|| format!("finding {}", public_dir.display()))?;
    let mut config = std::fs::read_to_string(node_config)
        .with_context(|| format!("reading {}", node_config.display()))?;
    // A top-level key must come before the first table.
    let line = format!(
        "# The public LSOA -> ward -> local authority lookup.\ngeography_lookup = {:?}\n\n[tls]",
        lookup.display().to_string()
    );
    config = config.replacen("[tls]", &line, 1);
    std::fs::write(node_config, config)
        .with_context(|| format!("writing {}", node_config.display()))?;

    let Some(rules) = demo_rules(node) else { return Ok(()) };
    let policy_path = node_config.with_file_name("policy.toml");
    let policy = std::fs::read_to_string(&policy_path)
        .with_context(|| format!("reading {}", policy_path.display()))?;
    let enabled = with_demo_rules(&policy, node, rules);
    std::fs::write(&policy_path, enabled)
        .with_context(|| format!("writing {}", policy_path.display()))?;
    Ok(())
}

/// Imports a node's datasets, in order, through the same path as `fedlink node import`.
pub fn import_all(
    node_config: &Path,
    datasets: &[(String, PathBuf)],
    operator: &str,
) -> Result<Vec<ImportSummary>> {
    let settings = NodeSettings::load(node_config)?;
    let clock: std::sync::Arc<dyn fedlink_proto::clock::Clock> =
        std::sync::Arc::new(fedlink_proto::clock::SystemClock::new());
    let mut collector = Collector::open(settings, clock)?;
    datasets
        .iter()
        .map(|(name, csv)| {
            collector
                .import(name, csv, operator, &|_| {})
                .with_context(|| format!("importing {} into {name}", csv.display()))
        })
        .collect()
}

/// One line per imported dataset, then every quarantine reason and every identifier set
/// aside, so the whole county's import fits on a screen.
pub fn render_table(imports: &[(String, ImportSummary)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<24} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9}",
        "NODE", "DATASET", "READ", "ACCEPTED", "UNCHANGED", "QUARANTINED", "SET ASIDE", "ROWS/S"
    );
    for (node, s) in imports {
        let c = &s.counts;
        let _ = writeln!(
            out,
            "{:<13} {:<24} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9.0}",
            node,
            s.dataset,
            c.rows_read,
            c.inserted + c.replaced,
            c.unchanged,
            c.quarantined,
            s.set_aside.values().sum::<u64>(),
            s.rows_per_second()
        );
    }
    let reasons: Vec<String> = imports
        .iter()
        .flat_map(|(node, s)| {
            s.quarantine.iter().map(move |(kind, (n, example))| {
                format!("  {n:>7}  {node}/{}: {kind}, e.g. {example}", s.dataset)
            })
        })
        .collect();
    if !reasons.is_empty() {
        let _ = writeln!(out, "quarantined, by reason:");
        for r in reasons {
            let _ = writeln!(out, "{r}");
        }
    }
    let mut set_aside: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for (_, s) in imports {
        for (kind, n) in &s.set_aside {
            *set_aside.entry(kind.describe()).or_default() += n;
        }
    }
    if !set_aside.is_empty() {
        let _ =
            writeln!(out, "kept, with an identifier set aside (no match key is built from it):");
        for (what, n) in set_aside {
            let _ = writeln!(out, "  {n:>7}  {what}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use fedlink_node::policy::Policy;

    use super::{demo_rules, with_demo_rules};
    use crate::cli::federation::starting_policy;

    /// The demo's rules load as a node would load them, with the modes they need enabled.
    #[test]
    fn the_demo_policies_load() {
        for (node, aggregate, linkage, flag_back, overlap) in [
            ("police", true, true, true, true),
            ("icb", true, true, true, true),
            ("council-east", false, true, false, true),
            ("council-west", false, true, false, false),
        ] {
            let base = starting_policy(node, "coordinator");
            let rules = demo_rules(node).expect("rules");
            let policy = Policy::from_toml(&with_demo_rules(&base, node, rules))
                .unwrap_or_else(|e| panic!("{node}: {e}"));
            assert_eq!(policy.modes.aggregate, aggregate, "{node}");
            assert_eq!(!policy.aggregate.is_empty(), aggregate, "{node}");
            assert_eq!(policy.modes.linked_count, linkage, "{node}");
            assert_eq!(!policy.linkage.is_empty(), linkage, "{node}");
            assert_eq!(policy.modes.flag_back, flag_back, "{node}");
            assert_eq!(policy.modes.overlap, overlap, "{node}: the S6 overlap");
            // Only the police accept their own death review's purpose (the restricted annex).
            assert_eq!(
                policy.accept.purposes.iter().any(|p| p == "POLICE-DEATH-REVIEW"),
                node == "police",
                "{node}"
            );
        }
    }
}
