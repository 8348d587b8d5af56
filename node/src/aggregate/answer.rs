//! The Aggregate RPC's own steps, around the common admission path in `service.rs`:
//!
//! 1. [`plan`] (before admission, so every refusal is an ordinary logged denial): find the
//!    policy rule for the dataset and purpose, resolve a template or check a shaped query
//!    against the rule's column uses, compile it, fix the table's levels from public
//!    vocabularies, and check the privacy budget.
//! 2. [`apply`] (from a `Logged` query only): run the SQL, fold into the fixed table, add
//!    discrete Laplace noise to every cell of a shaped query (scaled to the per-subject
//!    contribution bound), then suppress and round.
//! 3. [`respond`]: log the disclosure — with its budget charge, booked atomically — and attach
//!    the receipt.
//!
//! Pre-disclosure counts live only in a `CountTable`, which has no `Debug` and is dropped here.

use fedlink_proto::aggregate::text::{group_text, metric_text};
use fedlink_proto::aggregate::{ALL_DIMENSION, GroupBy, Metric};
use fedlink_proto::audit::budget::{BudgetKey, BudgetLimits, BudgetScope, keys_of};
use fedlink_proto::envelope::{QueryBody, sha256};
use fedlink_proto::pb;
use fedlink_proto::refusal::{BudgetShortfall, Refusal};

use crate::aggregate::compile::{CompiledQuery, compile};
use crate::aggregate::levels::{MISSING, levels};
use crate::aggregate::run::{RawCell, execute_parallel, open_read_only};
use crate::dataset::geography::lookup_present;
use crate::dataset::schema::{ColumnRole, DatasetSchema};
use crate::disclosure::{
    CountKind, CountTable, Dimension, ProtectedTable, ReleasedCell, SdcRules, protect,
};
use crate::error::NodeError;
use crate::gate::Logged;
use crate::policy::AuthorisedQuery;
use crate::policy::aggregate::ResolvedAggregate;
use crate::privacy::{DiscreteLaplace, OsRandom, Ratio};
use crate::state::NodeState;

/// Millionths: the unit of ε in the policy and the ledger.
const MICRO: u64 = 1_000_000;

/// An aggregate request checked against the policy and ready to run.
pub struct AggregatePlan {
    resolved: ResolvedAggregate,
    compiled: CompiledQuery,
    dimensions: Vec<Dimension>,
    /// The noise and its charge, for shaped queries.
    noise: Option<Noise>,
}

struct Noise {
    mechanism: DiscreteLaplace,
    sensitivity: u64,
    charge: pb::BudgetCharge,
    limits: BudgetLimits,
}

/// Checks an authorised aggregate request against the policy's aggregate rules, compiles it
/// and checks the budget; a refusal names the rule.
pub fn plan(state: &NodeState, query: &AuthorisedQuery) -> Result<AggregatePlan, Refusal> {
    let env = query.checked().envelope();
    let QueryBody::Aggregate(request) = &env.body else {
        return Err(Refusal::Malformed { problem: "the body is not an aggregate query".into() });
    };
    let dataset = request.dataset();
    let schema = state
        .schema(dataset)
        .ok_or_else(|| Refusal::UnknownDataset { dataset: dataset.to_string() })?;
    let rule = state.policy.aggregate_rule(dataset, &env.purpose)?;
    let today = state.audit.clock().now().date();
    let resolved = rule.resolve(request, today)?;
    let invalid = |problem: String| Refusal::QueryInvalid { problem };

    let conn = open_read_only(&state.datasets_db()).map_err(|e| invalid(e.to_string()))?;
    let has_lookup = lookup_present(&conn).map_err(|e| invalid(e.to_string()))?;
    let compiled =
        compile(schema, &resolved.query, has_lookup).map_err(|e| invalid(e.to_string()))?;
    let mut dimensions = Vec::new();
    for (group, levels) in resolved
        .query
        .group_by
        .iter()
        .zip(levels(schema, &resolved.query, &conn).map_err(|e| invalid(e.to_string()))?)
    {
        dimensions.push(
            Dimension::new(dimension_name(group), levels).map_err(|e| invalid(e.to_string()))?,
        );
    }
    if dimensions.is_empty() {
        dimensions
            .push(Dimension::new(ALL_DIMENSION, ["total"]).map_err(|e| invalid(e.to_string()))?);
    }
    let cells = dimensions.iter().try_fold(1usize, |n, d| n.checked_mul(d.levels().len()));
    match cells {
        Some(n) if n <= resolved.max_cells => {}
        _ => {
            return Err(invalid(format!(
                "the table would have more than {} cells, this dataset's limit",
                resolved.max_cells
            )));
        }
    }

    let noise = match resolved.epsilon_micro {
        None => None,
        Some(epsilon_micro) => {
            let budget = state.policy.budget.as_ref().ok_or_else(|| {
                invalid("the policy sets DP for this dataset but no [budget]".into())
            })?;
            let limits = budget.limits().map_err(invalid)?;
            let sensitivity = sensitivity(schema, &resolved)?;
            let epsilon = Ratio::new(epsilon_micro, MICRO).map_err(|e| invalid(e.to_string()))?;
            let mechanism =
                DiscreteLaplace::new(epsilon, sensitivity).map_err(|e| invalid(e.to_string()))?;
            let charge = pb::BudgetCharge {
                coordinator: env.coordinator.clone(),
                requester: format!("{}@{}", env.requester.officer_id, env.requester.organisation),
                dataset: dataset.to_string(),
                period: budget.period.label(today),
                epsilon_micro,
            };
            check_budget(state, &charge, &limits)?;
            Some(Noise { mechanism, sensitivity, charge, limits })
        }
    };
    Ok(AggregatePlan { resolved, compiled, dimensions, noise })
}

/// The L1 sensitivity of the table to one subject: it contributes at most `k` rows, each
/// adding 1 to one cell (rows, distinct subjects) or at most the column's largest magnitude
/// (sums).
fn sensitivity(schema: &DatasetSchema, resolved: &ResolvedAggregate) -> Result<u64, Refusal> {
    let k = u64::from(resolved.query.max_rows_per_subject.unwrap_or(1).max(1));
    let per_row = match &resolved.query.metric {
        Metric::Rows | Metric::DistinctSubjects => 1,
        Metric::Sum { column } => {
            let bound =
                schema.columns.iter().find(|c| &c.name == column).and_then(|c| match c.role {
                    ColumnRole::Numeric { min, max } => Some(min.abs().max(max.abs()).ceil()),
                    _ => None,
                });
            match bound {
                Some(b) if b.is_finite() && b <= 1e9 => (b as u64).max(1),
                Some(_) => {
                    return Err(Refusal::QueryInvalid {
                        problem: format!(
                            "column {column:?} has bounds too wide to sum with noise (at most 1e9)"
                        ),
                    });
                }
                None => {
                    return Err(Refusal::QueryInvalid {
                        problem: format!("column {column:?} has no declared bounds to sum within"),
                    });
                }
            }
        }
    };
    Ok(k * per_row)
}

pub(crate) fn check_budget(
    state: &NodeState,
    charge: &pb::BudgetCharge,
    limits: &BudgetLimits,
) -> Result<(), Refusal> {
    for key in keys_of(charge) {
        let limit = limits.for_scope(key.scope);
        let spent = state
            .audit
            .balance(&key)
            .map_err(|e| Refusal::AuditUnavailable { problem: e.to_string() })?;
        if spent.saturating_add(charge.epsilon_micro) > limit {
            return Err(Refusal::BudgetExhausted(Box::new(BudgetShortfall {
                scope: key.scope.as_str().to_string(),
                dataset: charge.dataset.clone(),
                period: charge.period.clone(),
                requested_micro: charge.epsilon_micro,
                remaining_micro: limit.saturating_sub(spent),
            })));
        }
    }
    Ok(())
}

fn dimension_name(group: &GroupBy) -> String {
    match group {
        GroupBy::Column(c) => c.clone(),
        other => group_text(other),
    }
}

/// A released table and what its audit entry records.
pub struct Released {
    table: pb::ProtectedTable,
    plan: AggregatePlan,
}

/// Runs a logged, planned query and protects the result. Taking a `Logged` query is the proof
/// that the request is in the log.
pub fn apply(
    state: &NodeState,
    _logged: &Logged<AuthorisedQuery>,
    plan: AggregatePlan,
) -> Result<Released, NodeError> {
    let internal = |e: &dyn std::fmt::Display| NodeError::Internal(format!("aggregate: {e}"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let raw = execute_parallel(&state.datasets_db(), &plan.compiled, threads)
        .map_err(|e| internal(&e))?;

    let rules = SdcRules {
        release_margins: plan.resolved.disclosure.release_margins && plan.dimensions.len() <= 2,
        ..plan.resolved.disclosure
    };
    let protected =
        release_table(&plan.dimensions, raw, plan.noise.as_ref().map(|n| &n.mechanism), &rules)?;
    let dims = &plan.dimensions;

    let mut applied: Vec<String> = Vec::new();
    if let Some(noise) = &plan.noise {
        applied.push(format!(
            "dp.discrete_laplace(eps={},sensitivity={})",
            fedlink_proto::audit::budget::micro_to_string(noise.charge.epsilon_micro),
            noise.sensitivity
        ));
    }
    applied.extend(protected.applied().iter().map(|r| r.code()));
    let mut legend =
        rules.legend(if plan.noise.is_some() { CountKind::Noised } else { CountKind::Exact });
    if let Some(noise) = &plan.noise {
        legend = format!(
            "counts carry random noise (differential privacy, epsilon {}, each person counted at \
             most {} times); {legend}",
            fedlink_proto::audit::budget::micro_to_string(noise.charge.epsilon_micro),
            plan.resolved.query.max_rows_per_subject.unwrap_or(1)
        );
    }
    let table = pb::ProtectedTable {
        dataset: plan.resolved.query.dataset.clone(),
        metric: metric_text(&plan.resolved.query.metric),
        applied_rules: applied,
        legend,
        privacy: plan.noise.as_ref().map(|n| pb::PrivacyApplied {
            mechanism: "discrete_laplace".into(),
            epsilon_micro: n.charge.epsilon_micro,
            max_rows_per_subject: plan.resolved.query.max_rows_per_subject.unwrap_or(1),
            requester_remaining_micro: 0,
            budget_period: n.charge.period.clone(),
        }),
        template: plan.resolved.template.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
        period: plan.resolved.template.as_ref().map(|t| t.1.clone()).unwrap_or_default(),
        ..table_body(dims, &protected)
    };
    Ok(Released { table, plan })
}

/// A released count on the wire: the value, or suppressed (never shown as zero).
pub fn released_count(c: ReleasedCell) -> pb::ReleasedCount {
    pb::ReleasedCount {
        value: Some(match c.value() {
            Some(n) => pb::released_count::Value::Count(n),
            None => pb::released_count::Value::Suppressed(true),
        }),
    }
}

/// The dimensions, cells, margins and total of a protected table on the wire; the caller
/// fills in what the table is about.
pub fn table_body(dims: &[Dimension], protected: &ProtectedTable) -> pb::ProtectedTable {
    let margins = protected.margins();
    pb::ProtectedTable {
        dimensions: dims
            .iter()
            .map(|d| pb::TableDimension { name: d.name().to_string(), levels: d.levels().to_vec() })
            .collect(),
        cells: protected.cells().iter().map(|c| released_count(*c)).collect(),
        margins: margins
            .map(|m| {
                (0..dims.len())
                    .filter(|&i| !m.by_dimension(i).is_empty())
                    .map(|i| pb::DimensionMargin {
                        dimension: i as u32,
                        values: m.by_dimension(i).iter().map(|c| released_count(*c)).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        total: margins.map(|m| released_count(m.total())),
        ..Default::default()
    }
}

/// Folds raw cells into the table's fixed levels (anything outside a dimension's vocabulary
/// counts as missing), adds noise to every cell when a mechanism is given, and protects the
/// result. Margins are released only for one- and two-way tables: a wider table goes without
/// them rather than with totals complementary suppression has not checked (callers set
/// `rules` accordingly).
pub fn release_table(
    dims: &[Dimension],
    raw: Vec<RawCell>,
    noise: Option<&DiscreteLaplace>,
    rules: &SdcRules,
) -> Result<ProtectedTable, NodeError> {
    let internal = |e: &dyn std::fmt::Display| NodeError::Internal(format!("aggregate: {e}"));
    let mut counts = vec![0i64; dims.iter().map(|d| d.levels().len()).product()];
    for cell in raw {
        let mut index = 0;
        for (d, value) in dims.iter().zip(cell.groups.iter().chain(std::iter::repeat(&None))) {
            // A value outside the vocabulary counts as missing; the one-level dimension of a
            // table without groupings takes every row.
            let position = value
                .as_deref()
                .and_then(|v| d.position(v))
                .or_else(|| d.position(MISSING))
                .or_else(|| (d.name() == ALL_DIMENSION && d.levels().len() == 1).then_some(0))
                .ok_or_else(|| internal(&format!("a value outside dimension {}", d.name())))?;
            index = index * d.levels().len() + position;
        }
        counts[index] = counts[index].saturating_add(cell.value);
    }
    let kind = match noise {
        None => CountKind::Exact,
        Some(mechanism) => {
            let mut rng = OsRandom::new();
            for count in &mut counts {
                let exact = u64::try_from(*count).unwrap_or(0);
                *count = mechanism.add_to(exact, &mut rng).map_err(|e| internal(&e))?;
            }
            CountKind::Noised
        }
    };
    let table = CountTable::new(kind, dims.to_vec(), counts).map_err(|e| internal(&e))?;
    protect(&table, rules).map_err(|e| internal(&e))
}

/// Logs the disclosure (booking the budget charge in the same transaction) and wraps the table
/// with its receipt.
pub fn respond(
    state: &NodeState,
    logged: &Logged<AuthorisedQuery>,
    released: Released,
) -> Result<pb::AggregateResponse, NodeError> {
    let Released { mut table, plan } = released;
    // The remaining budget is known before the charge is booked; state it as it will be after.
    if let (Some(privacy), Some(noise)) = (table.privacy.as_mut(), &plan.noise) {
        let key = BudgetKey { scope: BudgetScope::Requester, ..keys_of(&noise.charge)[1].clone() };
        let spent = state.audit.balance(&key)?;
        privacy.requester_remaining_micro = noise
            .limits
            .requester_micro
            .saturating_sub(spent.saturating_add(noise.charge.epsilon_micro));
    }
    let bytes = prost::Message::encode_to_vec(&table);
    let output = pb::OutputRecord {
        output_class: if plan.noise.is_some() { "AGGREGATE_DP" } else { "AGGREGATE_SDC" }.into(),
        result_hash: sha256(&bytes).to_vec(),
        records_released: table.cells.len() as u64,
        disclosure_rule: table.applied_rules.join(";"),
        ..Default::default()
    };
    let receipt = match plan.noise {
        Some(noise) => state.audit.disclose_charged(logged, output, noise.charge, &noise.limits)?,
        None => state.audit.disclose(logged, output)?,
    };
    Ok(pb::AggregateResponse { table: Some(table), receipt: Some(receipt) })
}
