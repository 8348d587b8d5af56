//! A catalogue resolved for one report period and federation: every query typed exactly as it
//! will be signed (aggregate requests, linked-query files), each named after its item and the
//! period it runs for. Resolving is the last check before anything is sent, so a catalogue
//! that names a node the federation lacks, or a template for an unnamed period, is refused
//! here, naming the section, item and key.

use std::path::{Path, PathBuf};

use fedlink_proto::federation::Federation;

use super::catalogue::{AggregateShape, Catalogue, ItemBody};
use super::period::{PeriodRef, ReportPeriod};
use crate::link::query::LinkQuery;
use crate::query_file::{NamedQuery, QueryTerms};

/// The queries of a report, in catalogue order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The report period.
    pub period: ReportPeriod,
    /// One step per query.
    pub steps: Vec<Step>,
}

/// Which run of an item a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Variant {
    /// The item's own period.
    Main,
    /// The comparison period (`compare`).
    Compare,
    /// `n` periods back (`history`).
    History(u32),
}

/// One query to send.
#[derive(Debug, Clone)]
pub struct Step {
    /// The item's id.
    pub item: String,
    /// The section's id.
    pub section: String,
    /// Which run.
    pub variant: Variant,
    /// A stable name for the manifest: the item id, with the period for extra runs.
    pub name: String,
    /// The period it counts, as a heading reads it (`2025/26`, or dates).
    pub period_label: String,
    /// The query.
    pub query: PlannedQuery,
}

/// A query as it will be signed.
#[derive(Debug, Clone)]
pub enum PlannedQuery {
    /// An aggregate query to one node.
    Aggregate(NamedQuery),
    /// A linked query.
    Link(Box<LinkQuery>),
}

impl PlannedQuery {
    /// Every node the query goes to.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            PlannedQuery::Aggregate(q) => vec![q.node.clone()],
            PlannedQuery::Link(q) => q.schedule.iter().map(|(m, _)| m.clone()).collect(),
        }
    }
}

/// Why a catalogue cannot be run for a period.
#[derive(Debug, thiserror::Error)]
#[error("{catalogue}: section {section:?}, item {item:?}: {problem}")]
pub struct PlanError {
    /// The catalogue file.
    pub catalogue: PathBuf,
    /// The section.
    pub section: String,
    /// The item.
    pub item: String,
    /// What is wrong, starting with the key.
    pub problem: String,
}

/// Resolves `catalogue` for `period` against `federation`.
pub fn plan(
    catalogue: &Catalogue,
    period: ReportPeriod,
    federation: &Federation,
) -> Result<Plan, PlanError> {
    let mut steps = Vec::new();
    for (section, item) in catalogue.items() {
        let fail = |problem: String| PlanError {
            catalogue: catalogue.path.clone(),
            section: section.id.clone(),
            item: item.id.clone(),
            problem,
        };
        let node_problem = |node: &str| -> Option<String> {
            federation.nodes().all(|n| n.name != node).then(|| {
                let nodes: Vec<&str> = federation.nodes().map(|n| n.name.as_str()).collect();
                format!(
                    "`node`: {node:?} is not a node of federation {:?} (nodes: {})",
                    federation.name,
                    nodes.join(", ")
                )
            })
        };
        match &item.body {
            ItemBody::Aggregate(agg) => {
                if let Some(p) = node_problem(&agg.node) {
                    return Err(fail(p));
                }
                let main = match &agg.shape {
                    AggregateShape::Template { period: p, .. } => *p,
                    AggregateShape::Shaped { period: p, .. } => *p,
                };
                let mut runs = vec![(Variant::Main, main)];
                if let Some(compare) = agg.compare {
                    runs.push((Variant::Compare, compare));
                }
                for n in 1..=agg.history {
                    runs.push((Variant::History(n), back_from(main, n)));
                }
                for (variant, which) in runs {
                    let terms = match &agg.shape {
                        AggregateShape::Template { name, .. } => QueryTerms {
                            dataset: Some(agg.dataset.clone()),
                            template: Some(name.clone()),
                            template_period: Some(
                                which
                                    .template_label(&period)
                                    .map_err(|e| fail(format!("`template_period`: {e}")))?,
                            ),
                            ..QueryTerms::default()
                        },
                        AggregateShape::Shaped { filter, group_by, metric, .. } => QueryTerms {
                            dataset: Some(agg.dataset.clone()),
                            filter: filter.clone(),
                            group_by: group_by.clone(),
                            metric: metric.clone(),
                            period: Some(which.resolve(&period).to_string()),
                            ..QueryTerms::default()
                        },
                    };
                    let request = terms.resolve().map_err(|e| fail(e.to_string()))?;
                    let period_label = which.describe(&period);
                    let name = step_name(&item.id, variant, &period_label);
                    steps.push(Step {
                        item: item.id.clone(),
                        section: section.id.clone(),
                        variant,
                        name: name.clone(),
                        period_label,
                        query: PlannedQuery::Aggregate(NamedQuery {
                            name,
                            title: item.title.clone(),
                            node: agg.node.clone(),
                            purpose: agg.purpose.clone().or_else(|| catalogue.purpose.clone()),
                            request,
                        }),
                    });
                }
            }
            ItemBody::Link(link) => {
                let mut query = link.query.clone();
                let mut labels = Vec::new();
                if let Some(sides) = query.get_mut("side").and_then(|s| s.as_array_mut()) {
                    for (i, side) in sides.iter_mut().enumerate() {
                        let Some(side) = side.as_table_mut() else { continue };
                        let Some(text) = side.get("period").and_then(|p| p.as_str()) else {
                            continue;
                        };
                        let which = PeriodRef::parse(text)
                            .map_err(|e| fail(format!("`query.side[{}].period`: {e}", i + 1)))?;
                        let label = which.describe(&period);
                        if !labels.contains(&label) {
                            labels.push(label);
                        }
                        side.insert(
                            "period".into(),
                            toml::Value::String(which.resolve(&period).to_string()),
                        );
                    }
                }
                if !query.contains_key("purpose")
                    && let Some(purpose) =
                        link.purpose.clone().or_else(|| catalogue.purpose.clone())
                {
                    query.insert("purpose".into(), toml::Value::String(purpose));
                }
                if !query.contains_key("title")
                    && let Some(title) = &item.title
                {
                    query.insert("title".into(), toml::Value::String(title.clone()));
                }
                let text = toml::to_string(&query)
                    .map_err(|e| fail(format!("`query`: cannot be written back as TOML: {e}")))?;
                let label = PathBuf::from(format!(
                    "{} [section {}, item {}, query]",
                    catalogue.path.display(),
                    section.id,
                    item.id
                ));
                let resolved = LinkQuery::from_toml(&text, &label, None)
                    .map_err(|e| fail(strip_label(&e.to_string(), &label)))?;
                resolved
                    .check_members(federation, &label)
                    .map_err(|e| fail(strip_label(&e.to_string(), &label)))?;
                let period_label =
                    if labels.is_empty() { "all dates".to_string() } else { labels.join(" / ") };
                steps.push(Step {
                    item: item.id.clone(),
                    section: section.id.clone(),
                    variant: Variant::Main,
                    name: item.id.clone(),
                    period_label,
                    query: PlannedQuery::Link(Box::new(resolved)),
                });
            }
            ItemBody::Combine(_)
            | ItemBody::Note { .. }
            | ItemBody::Unavailable { .. }
            | ItemBody::LinkageQuality => {}
        }
    }
    Ok(Plan { period, steps })
}

/// The period `n` before `main`, as a reference.
fn back_from(main: PeriodRef, n: u32) -> PeriodRef {
    match main {
        PeriodRef::Current => PeriodRef::Previous(n),
        PeriodRef::Previous(k) => PeriodRef::Previous(k + n),
        other => other,
    }
}

/// The manifest name of a run: the item id for its own period, else with the period.
fn step_name(item: &str, variant: Variant, period_label: &str) -> String {
    match variant {
        Variant::Main => item.to_string(),
        Variant::Compare | Variant::History(_) => {
            let period: String = period_label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("{item}@{period}")
        }
    }
}

/// A linked-query error without its synthetic file label (the plan error names the place).
fn strip_label(message: &str, label: &Path) -> String {
    let prefix = format!("{}: ", label.display());
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_named_after_their_item_and_extra_periods() {
        assert_eq!(step_name("d1", Variant::Main, "2025/26"), "d1");
        assert_eq!(step_name("d1", Variant::Compare, "2024/25"), "d1@2024-25");
        assert_eq!(back_from(PeriodRef::Current, 2), PeriodRef::Previous(2));
        assert_eq!(back_from(PeriodRef::Previous(1), 1), PeriodRef::Previous(2));
    }
}
