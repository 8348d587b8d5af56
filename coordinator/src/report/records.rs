//! What the manifest and the header say about each query and partner: its receipts (node,
//! entry, checkpoint size and root, decision), the request as readable text, the disclosure
//! rules and noise applied, each partner's data and clock, and the distinct rule sets the
//! nodes applied to the report's body.

use fedlink_proto::aggregate::text::{group_text, metric_text};
use fedlink_proto::aggregate::{AggregateRequest, Filter};
use fedlink_proto::audit::budget::micro_to_string;
use fedlink_proto::civil::civil_from_days;
use fedlink_proto::pb;

use crate::link::PartStatus;
use crate::link::query::kind_name;
use crate::link::render::role_name;
use crate::outcome::Outcome;
use crate::receipts::VerifiedReceipt;
use crate::table::ReleasedTable;

use super::model::{DisclosureRule, Partner, QueryRecord, ReceiptRef};
use super::plan::PlannedQuery;
use super::run::{Executed, Execution, StepOutcome};

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

fn receipt_ref(node: &str, role: &str, receipt: &VerifiedReceipt) -> ReceiptRef {
    ReceiptRef {
        node: node.to_string(),
        role: role.to_string(),
        leaf_index: receipt.leaf_index,
        checkpoint_size: receipt.checkpoint.size,
        checkpoint_root: receipt.checkpoint.root.to_hex(),
        decision: pb::Decision::try_from(receipt.entry.decision)
            .map(|d| d.as_str_name().to_string())
            .unwrap_or_else(|_| "UNKNOWN".into()),
    }
}

fn filter_text(filter: &Filter) -> String {
    match filter {
        Filter::Equals { column, value } => format!("{column}={value}"),
        Filter::In { column, values } => format!("{column}={}", values.join("|")),
        Filter::NumberRange { column, min, max } => format!("{column}={min}..{max}"),
        Filter::EventDates { from, to } => format!("dates {from}..{to}"),
    }
}

fn request_text(query: &PlannedQuery) -> String {
    match query {
        PlannedQuery::Aggregate(q) => match &q.request {
            AggregateRequest::Template { dataset, name, period } => {
                format!("{}/{dataset}: published template {name} for {period}", q.node)
            }
            AggregateRequest::Shaped(s) => {
                let filters: Vec<String> = s.filters.iter().map(filter_text).collect();
                let groups: Vec<String> = s.group_by.iter().map(group_text).collect();
                format!(
                    "{}/{}: {} by [{}] where [{}]",
                    q.node,
                    s.dataset,
                    metric_text(&s.metric),
                    groups.join(", "),
                    filters.join("; ")
                )
            }
        },
        PlannedQuery::Link(q) => {
            let sides: Vec<String> = q
                .request
                .sides
                .iter()
                .map(|s| {
                    let role = q.role_of(&s.member).map_or("", role_name);
                    let filters: Vec<String> = s.filters.iter().map(filter_text).collect();
                    format!("{}/{} ({role}) where [{}]", s.member, s.dataset, filters.join("; "))
                })
                .collect();
            format!(
                "{} of {}s: {}; key types {}; window {}",
                kind_name(q.request.kind),
                q.request.unit.name(),
                sides.join(" x "),
                q.request.key_types.join(", "),
                q.request.window.as_deref().unwrap_or("none")
            )
        }
    }
}

pub(super) fn privacy_text(table: &ReleasedTable) -> Option<String> {
    table.privacy().map(|p| {
        format!(
            "{} noise, epsilon {} charged (budget period {})",
            p.mechanism,
            micro_to_string(p.epsilon_micro),
            p.budget_period
        )
    })
}

/// The manifest record of one step.
pub(super) fn record(step: &Executed) -> QueryRecord {
    let mut receipts = Vec::new();
    let (mut rules, mut legend, mut privacy, mut query_id) =
        (Vec::new(), String::new(), None, None);
    let kind = match &step.step.query {
        PlannedQuery::Aggregate(_) => "aggregate".to_string(),
        PlannedQuery::Link(q) => kind_name(q.request.kind).to_string(),
    };
    match &step.outcome {
        StepOutcome::Aggregate(outcome) => {
            let node = step.step.query.nodes().pop().unwrap_or_default();
            match outcome.as_ref() {
                Outcome::Answered { answer, receipt, query_id: id } => {
                    receipts.push(receipt_ref(&node, "answering", receipt));
                    rules = answer.applied_rules().to_vec();
                    legend = answer.legend().to_string();
                    privacy = privacy_text(answer);
                    query_id = Some(id.to_string());
                }
                Outcome::Refused { receipt: Some(receipt), .. } => {
                    receipts.push(receipt_ref(&node, "refusing", receipt));
                }
                _ => {}
            }
        }
        StepOutcome::Link(run) => {
            query_id = run.query_id.map(|id| id.to_string());
            for part in &run.parts {
                match &part.status {
                    PartStatus::Done { receipt, .. } => {
                        receipts.push(receipt_ref(&part.member, role_name(part.role), receipt));
                    }
                    PartStatus::Refused { receipt: Some(receipt), .. } => {
                        receipts.push(receipt_ref(&part.member, role_name(part.role), receipt));
                    }
                    _ => {}
                }
            }
            if let Some(release) = run.release() {
                rules = release.table.applied_rules().to_vec();
                legend = release.table.legend().to_string();
                privacy = privacy_text(&release.table);
            }
        }
        StepOutcome::Skipped(_) => {}
    }
    let nodes = match &step.step.query {
        PlannedQuery::Aggregate(q) => vec![q.node.clone()],
        PlannedQuery::Link(q) => {
            q.schedule.iter().map(|(m, r)| format!("{m} ({})", role_name(*r))).collect()
        }
    };
    QueryRecord {
        name: step.step.name.clone(),
        item: step.step.item.clone(),
        section: step.step.section.clone(),
        kind,
        period: step.step.period_label.clone(),
        nodes,
        query_id,
        status: step.outcome.status().to_string(),
        problems: step.outcome.problems(),
        receipts,
        rules,
        legend,
        privacy,
        request: request_text(&step.step.query),
        restricted: false,
        seconds: step.seconds,
        cells: Vec::new(),
    }
}

pub(super) fn partners(execution: &Execution) -> Vec<Partner> {
    execution
        .partners
        .iter()
        .map(|row| match &row.outcome {
            Outcome::Answered { answer, receipt, .. } => Partner {
                name: row.node.clone(),
                organisation: row.organisation.clone(),
                status: "up".into(),
                available: true,
                datasets: answer
                    .datasets
                    .iter()
                    .map(|d| {
                        let imported = (d.imported_at_ms > 0).then(|| iso_utc(d.imported_at_ms));
                        (d.name.clone(), d.rows, imported)
                    })
                    .collect(),
                policy: answer.policy.as_ref().map(|p| p.policy_id.clone()),
                as_at: Some(iso_utc(answer.node_time_ms)),
                receipt: Some(receipt_ref(&row.node, "describing", receipt)),
            },
            other => Partner {
                name: row.node.clone(),
                organisation: row.organisation.clone(),
                status: other.failure().unwrap_or_default(),
                available: false,
                datasets: Vec::new(),
                policy: None,
                as_at: None,
                receipt: None,
            },
        })
        .collect()
}

/// The distinct disclosure rule sets each node applied to what it released in this run for the
/// report's body (the restricted annex's police-only rules are not the body's).
pub(super) fn disclosure_rules(
    execution: &Execution,
    queries: &[QueryRecord],
) -> Vec<DisclosureRule> {
    let mut out: Vec<DisclosureRule> = Vec::new();
    let mut add = |table: &ReleasedTable| {
        let rule = DisclosureRule {
            node: table.provenance().node.clone(),
            rules: table.applied_rules().to_vec(),
            legend: table.legend().to_string(),
        };
        if !out.contains(&rule) {
            out.push(rule);
        }
    };
    for (step, record) in execution.steps.iter().zip(queries) {
        if record.restricted {
            continue;
        }
        match &step.outcome {
            StepOutcome::Aggregate(outcome) => {
                if let Outcome::Answered { answer, .. } = outcome.as_ref() {
                    add(answer);
                }
            }
            StepOutcome::Link(run) => {
                if let Some(release) = run.release() {
                    add(&release.table);
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.node.cmp(&b.node));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_767_225_599_000), "2025-12-31T23:59:59Z");
    }
}
