//! `coordinator aggregate`: send one aggregate query (shaped, or a published template) to one
//! node, verify the receipt, and check that the protected table that came back is well formed
//! and answers the question asked, before anyone reads a number from it.

use fedlink_proto::aggregate::text::{group_text, metric_text};
use fedlink_proto::aggregate::{ALL_DIMENSION, AggregateRequest, GroupBy};
use fedlink_proto::envelope::QueryBody;
use fedlink_proto::federation::Member;

use crate::coordinator::{Coordinator, QueryOverrides};
use crate::outcome::{Outcome, ask};
use crate::table::{Provenance, ReleasedTable};

/// What one node said to one aggregate query: a checked table, or why not.
pub type AggregateOutcome = Outcome<ReleasedTable>;

/// Asks `node` one aggregate query.
///
/// The answer is `Answered` only if the receipt verified (the node logged the hash of exactly
/// this table), the table is well formed ([`ReleasedTable::from_wire`]) and it answers `request`
/// (see [`check_answers`]); otherwise `Untrusted`, saying why.
pub async fn aggregate_one(
    coordinator: &Coordinator,
    node: &Member,
    request: AggregateRequest,
    overrides: &QueryOverrides,
) -> AggregateOutcome {
    let body = QueryBody::Aggregate(request.clone());
    let outcome = ask(coordinator, node, body, overrides, |mut client, signed| async move {
        let response = client.aggregate(signed).await?.into_inner();
        Ok((response.table, response.receipt))
    })
    .await;
    outcome.and_then(|wire, receipt, query_id| {
        let provenance = Provenance::new(&node.name, query_id, receipt);
        let table = ReleasedTable::from_wire(wire, provenance)
            .map_err(|e| format!("the released table is malformed: {e}"))?;
        check_answers(&table, &request).map_err(|problem| {
            format!("the released table does not answer the query: {problem}")
        })?;
        Ok(table)
    })
}

/// Whether `table` answers `request`: the same dataset; for a template, the same template and
/// period; for a shaped query, no template, the same metric and one dimension per grouping,
/// in order and named alike.
/// A node that answers another question than the one asked is not to be believed.
pub fn check_answers(table: &ReleasedTable, request: &AggregateRequest) -> Result<(), String> {
    if table.dataset() != request.dataset() {
        return Err(format!(
            "it is about dataset {:?}, not {:?}",
            table.dataset(),
            request.dataset()
        ));
    }
    match request {
        AggregateRequest::Template { name, period, .. } => match table.template() {
            Some(t) if &t.name == name && &t.period == period => Ok(()),
            Some(t) => Err(format!(
                "it is template {:?} for {:?}, not {name:?} for {period:?}",
                t.name, t.period
            )),
            None => Err(format!("it names no template; template {name:?} was asked for")),
        },
        AggregateRequest::Shaped(query) => {
            if let Some(t) = table.template() {
                return Err(format!("it is template {:?}; a shaped query was asked", t.name));
            }
            if table.metric() != &query.metric {
                return Err(format!(
                    "it counts {}, not {}",
                    table.metric_name(),
                    metric_text(&query.metric)
                ));
            }
            // A table without groupings has the one dimension `all`; otherwise one dimension
            // per grouping, named as the node names it (column name, or the grouping's text).
            let expected: Vec<String> = if query.group_by.is_empty() {
                vec![ALL_DIMENSION.to_string()]
            } else {
                query
                    .group_by
                    .iter()
                    .map(|g| match g {
                        GroupBy::Column(c) => c.clone(),
                        other => group_text(other),
                    })
                    .collect()
            };
            let found: Vec<&str> = table.dimensions().iter().map(|d| d.name()).collect();
            if found != expected {
                return Err(format!(
                    "its dimensions are {} but the query grouped by {}",
                    found.join(", "),
                    expected.join(", ")
                ));
            }
            Ok(())
        }
    }
}
