//! A released table as the coordinator holds it: a node's protected table, parsed completely
//! from the wire and checked for shape, with where it came from (node, query id, receipt).
//! Every value is a released count or marked suppressed; nothing here ever turns a suppressed
//! cell into a number. Rendering (text, CSV, JSON) is in [`render`](mod@render).

use fedlink_proto::aggregate::Metric;
use fedlink_proto::aggregate::text::{metric_text, parse_metric};
use fedlink_proto::envelope::QueryId;
use fedlink_proto::pb;
use fedlink_proto::pb::released_count::Value;

use crate::receipts::VerifiedReceipt;

pub mod render;

#[cfg(test)]
pub(crate) mod tests;

/// One released value: a protected count, or suppressed. A suppressed value is unknown, not 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// A protected count (noised, rounded, or both, as the table's rules say).
    Count(u64),
    /// Withheld by the node's disclosure control (a small cell, or to protect one).
    Suppressed,
}

impl Released {
    /// The count, or `None` when suppressed.
    pub fn count(self) -> Option<u64> {
        match self {
            Released::Count(n) => Some(n),
            Released::Suppressed => None,
        }
    }

    /// Whether the value is suppressed.
    pub fn is_suppressed(self) -> bool {
        self == Released::Suppressed
    }

    /// Parses a wire value; `place` says where it was, for the error.
    pub(crate) fn from_wire(
        wire: Option<pb::ReleasedCount>,
        place: &str,
    ) -> Result<Self, TableError> {
        match wire.and_then(|w| w.value) {
            Some(Value::Count(n)) => Ok(Released::Count(n)),
            Some(Value::Suppressed(true)) => Ok(Released::Suppressed),
            Some(Value::Suppressed(false)) => {
                Err(TableError::Value { place: place.to_string(), problem: "suppressed = false" })
            }
            None => Err(TableError::Value { place: place.to_string(), problem: "no value" }),
        }
    }
}

/// One dimension of a table: its name (the grouping, e.g. `ward` or `month`) and its levels in
/// the node's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    /// The grouping's name.
    name: String,
    /// Its levels, distinct.
    levels: Vec<String>,
}

impl Dimension {
    /// The grouping's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The levels, in the node's order.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The position of `level`.
    pub fn position(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == level)
    }
}

/// The differential privacy the node applied and charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privacy {
    /// `discrete_laplace` or `discrete_gaussian`.
    pub mechanism: String,
    /// Privacy loss charged for this table, millionths of ε.
    pub epsilon_micro: u64,
    /// Most rows one subject contributed.
    pub max_rows_per_subject: u32,
    /// What this requester has left on this dataset in the budget period, millionths of ε.
    pub remaining_micro: u64,
    /// The budget period charged, e.g. `2026-11`.
    pub budget_period: String,
}

/// A published template and the period it was run for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRun {
    /// The template's name in the node's policy.
    pub name: String,
    /// The period, e.g. `2025/26`.
    pub period: String,
}

/// Where a table came from: enough to find its entry in the node's log and the coordinator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The node's member name.
    pub node: String,
    /// The query's id (UUIDv7 text).
    pub query_id: String,
    /// The entry of the node's log that released the table.
    pub receipt_entry: u64,
    /// The size of the node's log at the checkpoint the receipt verified against.
    pub receipt_log_size: u64,
}

impl Provenance {
    /// The provenance of an answer from `node` to `query_id`, proven by `receipt`.
    pub fn new(node: &str, query_id: &QueryId, receipt: &VerifiedReceipt) -> Self {
        Self {
            node: node.to_string(),
            query_id: query_id.to_string(),
            receipt_entry: receipt.leaf_index,
            receipt_log_size: receipt.checkpoint.size,
        }
    }
}

/// Why a table from a node is not a well-formed released table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A required field is empty.
    #[error("the table has no {0}")]
    Missing(&'static str),
    /// The metric is not one of `rows`, `distinct_subjects`, `sum:COLUMN`.
    #[error("unknown metric {0:?}")]
    Metric(String),
    /// A dimension has no name.
    #[error("dimension {0} has no name")]
    DimensionName(usize),
    /// A dimension lists a level twice, so its cells cannot be told apart.
    #[error("dimension {dimension:?} lists level {level:?} twice")]
    DuplicateLevel {
        /// The dimension.
        dimension: String,
        /// The level.
        level: String,
    },
    /// The number of cells is not the product of the level counts.
    #[error("{got} cells, but the dimensions make {expected}")]
    CellCount {
        /// The product of the level counts.
        expected: usize,
        /// The cells sent.
        got: usize,
    },
    /// The dimensions make more cells than the coordinator can hold.
    #[error("the dimensions make too many cells")]
    TooManyCells,
    /// A value is missing or meaningless.
    #[error("{place}: {problem}")]
    Value {
        /// Which value.
        place: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A margin names a dimension the table does not have.
    #[error("a margin is for dimension {index}, but the table has {dimensions}")]
    MarginDimension {
        /// The index sent.
        index: u32,
        /// The number of dimensions.
        dimensions: usize,
    },
    /// Two margins for one dimension.
    #[error("two margins for dimension {0:?}")]
    DuplicateMargin(String),
    /// A margin's length is not its dimension's level count.
    #[error("the margin of {dimension:?} has {got} values for {expected} levels")]
    MarginLength {
        /// The dimension.
        dimension: String,
        /// Its level count.
        expected: usize,
        /// The values sent.
        got: usize,
    },
    /// A template without a period, or a period without a template.
    #[error("a template and its period come together")]
    TemplatePeriod,
}

/// A node's protected table, checked: every cell addressable by one level per dimension, every
/// value a count or suppressed, margins the length of their dimension. Only
/// [`ReleasedTable::from_wire`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedTable {
    /// Where it came from.
    provenance: Provenance,
    /// The dataset counted.
    dataset: String,
    /// What each cell counts.
    metric: Metric,
    /// The dimensions, outermost first.
    dimensions: Vec<Dimension>,
    /// One value per combination of levels, row-major (the last dimension varies fastest).
    cells: Vec<Released>,
    /// Per dimension, the released totals by level, when released.
    margins: Vec<Option<Vec<Released>>>,
    /// The released grand total, when released.
    total: Option<Released>,
    /// The disclosure rules applied, in order (e.g. `dp.laplace`, `suppress<8`, `round5`).
    applied_rules: Vec<String>,
    /// The node's readable legend of those rules.
    legend: String,
    /// The DP noise added and charged, if any (shaped queries).
    privacy: Option<Privacy>,
    /// The template and period, for a published template.
    template: Option<TemplateRun>,
}

impl ReleasedTable {
    /// Parses and checks a wire table.
    pub fn from_wire(wire: pb::ProtectedTable, provenance: Provenance) -> Result<Self, TableError> {
        if wire.dataset.trim().is_empty() {
            return Err(TableError::Missing("dataset"));
        }
        if wire.metric.trim().is_empty() {
            return Err(TableError::Missing("metric"));
        }
        let metric = parse_metric(&wire.metric).map_err(|_| TableError::Metric(wire.metric))?;
        let dimensions = wire
            .dimensions
            .into_iter()
            .enumerate()
            .map(|(i, d)| dimension_from_wire(i, d))
            .collect::<Result<Vec<_>, _>>()?;
        let expected = dimensions
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d.levels.len()))
            .ok_or(TableError::TooManyCells)?;
        if wire.cells.len() != expected {
            return Err(TableError::CellCount { expected, got: wire.cells.len() });
        }
        let cells = wire
            .cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| Released::from_wire(Some(c), &format!("cell {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut margins: Vec<Option<Vec<Released>>> = vec![None; dimensions.len()];
        for margin in wire.margins {
            let index = usize::try_from(margin.dimension).ok().filter(|&i| i < dimensions.len());
            let Some(index) = index else {
                return Err(TableError::MarginDimension {
                    index: margin.dimension,
                    dimensions: dimensions.len(),
                });
            };
            let dimension = &dimensions[index];
            if margins[index].is_some() {
                return Err(TableError::DuplicateMargin(dimension.name.clone()));
            }
            if margin.values.len() != dimension.levels.len() {
                return Err(TableError::MarginLength {
                    dimension: dimension.name.clone(),
                    expected: dimension.levels.len(),
                    got: margin.values.len(),
                });
            }
            let values = margin
                .values
                .into_iter()
                .zip(&dimension.levels)
                .map(|(v, level)| {
                    Released::from_wire(
                        Some(v),
                        &format!("the {} total of {level:?}", dimension.name),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            margins[index] = Some(values);
        }
        let total = wire.total.map(|t| Released::from_wire(Some(t), "the total")).transpose()?;
        let privacy = wire
            .privacy
            .map(|p| {
                if p.mechanism.trim().is_empty() {
                    return Err(TableError::Missing("privacy mechanism"));
                }
                Ok(Privacy {
                    mechanism: p.mechanism,
                    epsilon_micro: p.epsilon_micro,
                    max_rows_per_subject: p.max_rows_per_subject,
                    remaining_micro: p.requester_remaining_micro,
                    budget_period: p.budget_period,
                })
            })
            .transpose()?;
        let template = match (wire.template.is_empty(), wire.period.is_empty()) {
            (true, true) => None,
            (false, false) => Some(TemplateRun { name: wire.template, period: wire.period }),
            _ => return Err(TableError::TemplatePeriod),
        };
        Ok(Self {
            provenance,
            dataset: wire.dataset,
            metric,
            dimensions,
            cells,
            margins,
            total,
            applied_rules: wire.applied_rules,
            legend: wire.legend,
            privacy,
            template,
        })
    }

    /// Where it came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The dataset counted.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// What each cell counts.
    pub fn metric(&self) -> &Metric {
        &self.metric
    }

    /// The metric as text: `rows`, `distinct_subjects`, `sum:COLUMN`.
    pub fn metric_name(&self) -> String {
        metric_text(&self.metric)
    }

    /// The dimensions, outermost first.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The dimension named `name`, with its position.
    pub fn dimension(&self, name: &str) -> Option<(usize, &Dimension)> {
        self.dimensions.iter().enumerate().find(|(_, d)| d.name == name)
    }

    /// Every value, row-major.
    pub fn cells(&self) -> &[Released] {
        &self.cells
    }

    /// The value at one level position per dimension.
    pub fn cell(&self, positions: &[usize]) -> Option<Released> {
        if positions.len() != self.dimensions.len() {
            return None;
        }
        let mut index = 0usize;
        for (&p, d) in positions.iter().zip(&self.dimensions) {
            if p >= d.levels.len() {
                return None;
            }
            index = index * d.levels.len() + p;
        }
        self.cells.get(index).copied()
    }

    /// Every cell with its levels, row-major.
    pub fn rows(&self) -> impl Iterator<Item = (Vec<&str>, Released)> + '_ {
        self.cells.iter().enumerate().map(|(i, &value)| {
            let mut rest = i;
            let mut levels = vec![""; self.dimensions.len()];
            for (d, dim) in self.dimensions.iter().enumerate().rev() {
                let n = dim.levels.len().max(1);
                levels[d] = dim.levels.get(rest % n).map_or("", String::as_str);
                rest /= n;
            }
            (levels, value)
        })
    }

    /// The released totals by level of dimension `index`, when released.
    pub fn margin(&self, index: usize) -> Option<&[Released]> {
        self.margins.get(index).and_then(|m| m.as_deref())
    }

    /// The released grand total, when released.
    pub fn total(&self) -> Option<Released> {
        self.total
    }

    /// The disclosure rules applied, in order.
    pub fn applied_rules(&self) -> &[String] {
        &self.applied_rules
    }

    /// The node's legend of the rules.
    pub fn legend(&self) -> &str {
        &self.legend
    }

    /// The DP noise added and charged, if any.
    pub fn privacy(&self) -> Option<&Privacy> {
        self.privacy.as_ref()
    }

    /// The template and period, for a published template.
    pub fn template(&self) -> Option<&TemplateRun> {
        self.template.as_ref()
    }
}

fn dimension_from_wire(index: usize, wire: pb::TableDimension) -> Result<Dimension, TableError> {
    if wire.name.trim().is_empty() {
        return Err(TableError::DimensionName(index));
    }
    let mut seen = std::collections::HashSet::new();
    for level in &wire.levels {
        if !seen.insert(level.as_str()) {
            return Err(TableError::DuplicateLevel {
                dimension: wire.name.clone(),
                level: level.clone(),
            });
        }
    }
    Ok(Dimension { name: wire.name, levels: wire.levels })
}
