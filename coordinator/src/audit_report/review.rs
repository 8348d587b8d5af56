//! The sections of the audit report a DPO reviews line by line: refusals and the rules that
//! refused, person-level disclosures with their case, authoriser and approval, and budget
//! consumption with the balances replayed and recorded.

use fedlink_proto::audit::budget::{BudgetScope, micro_to_string};

use super::model::{AuditSummary, LogKind, PERSON_LEVEL_CLASSES};
use super::render::{MAX_LIST_ROWS, truncation_note};
use super::time::format_time;
use crate::html::{
    Bar, BarChart, Cell, Column, Section, Table, code, format_count, note, nowrap, paragraph,
};

pub(super) fn refusals(summary: &AuditSummary) -> Section {
    let mut body = paragraph(match summary.kind {
        LogKind::Node => {
            "Every refused request, with the rule of the node's policy or protocol that refused it."
        }
        LogKind::Coordinator => {
            "Queries the nodes refused, as their receipts say. The coordinator's log records \
             that a node refused; the rule that refused is named in that node's own log."
        }
    });
    let mut by_rule: Vec<(&String, &u64)> = summary.refusals_by_rule.iter().collect();
    by_rule.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if !by_rule.is_empty() {
        let bars =
            by_rule.iter().map(|(rule, n)| Bar::new(rule.as_str(), Some(**n as f64))).collect();
        body.push(BarChart::horizontal("Refusals by rule", bars).to_html());
    }
    let mut table = Table::new(vec![Column::text("Rule"), Column::number("Refusals")])
        .with_caption("Rules that refused")
        .with_empty_message("No refusals in the window.");
    for (rule, n) in &by_rule {
        table.push_row(vec![Cell::Markup(code(rule)), Cell::Count(**n)]);
    }
    body.push(table.to_html());
    let mut list = Table::new(vec![
        Column::number("Entry"),
        Column::text("Time"),
        Column::text("Rule"),
        Column::text(match summary.kind {
            LogKind::Node => "From",
            LogKind::Coordinator => "Node",
        }),
        Column::text("Requester"),
        Column::text("Purpose"),
        Column::text("Reason"),
    ])
    .with_caption("Each refusal")
    .with_empty_message("No refusals in the window.");
    for r in summary.refusals.iter().take(MAX_LIST_ROWS) {
        list.push_row(vec![
            Cell::Count(r.index),
            Cell::Markup(nowrap(&format_time(r.time_ms))),
            Cell::Markup(code(&r.rule)),
            Cell::text(&r.counterpart),
            Cell::text(&r.requester),
            Cell::text(&r.purpose),
            Cell::text(&r.reason),
        ]);
    }
    body.push(list.to_html());
    body.push(truncation_note(summary.refusals.len()));
    Section::new("Refusals", body).with_id("refusals")
}

pub(super) fn person_level(summary: &AuditSummary) -> Section {
    let mut body = paragraph(&format!(
        "Person-level output (output classes {}) releases a flag or record per person. Each is \
         listed with the case it was for, who asked, who authorised it at the requesting \
         organisation, and the operator here who approved it, where this log records one.",
        PERSON_LEVEL_CLASSES.join(", ")
    ));
    let mut table = Table::new(vec![
        Column::number("Entry"),
        Column::text("Time"),
        Column::text("Class"),
        Column::text("Case ref"),
        Column::text("Purpose"),
        Column::text("Requester"),
        Column::text("Authoriser"),
        Column::text("Approved by"),
        Column::number("Records"),
        Column::text("Sent to"),
    ])
    .with_caption("Person-level disclosures")
    .with_empty_message("No person-level disclosures in the window.");
    for d in summary.person_level.iter().take(MAX_LIST_ROWS) {
        table.push_row(vec![
            Cell::Count(d.index),
            Cell::Markup(nowrap(&format_time(d.time_ms))),
            Cell::Markup(code(&d.output_class)),
            Cell::text(or_dash(&d.case_ref)),
            Cell::text(&d.purpose),
            Cell::text(&d.requester),
            Cell::text(or_dash(&d.authoriser)),
            d.approver.as_ref().map_or(Cell::text("not recorded in this log"), Cell::text),
            Cell::Count(d.records),
            Cell::text(d.recipients.join(", ")),
        ]);
    }
    body.push(table.to_html());
    body.push(truncation_note(summary.person_level.len()));

    let mut approvals = Table::new(vec![
        Column::number("Entry"),
        Column::text("Time"),
        Column::text("Case ref"),
        Column::text("Requester"),
        Column::text("Decision"),
    ])
    .with_caption("Flag-back approval decisions")
    .with_empty_message("No flag-back approvals or refusals for want of one in the window.");
    for a in summary.approvals.iter().take(MAX_LIST_ROWS) {
        let decision = match &a.decision {
            Ok(approver) => format!("approved by {approver}"),
            Err(reason) => format!("not approved: {reason}"),
        };
        approvals.push_row(vec![
            Cell::Count(a.index),
            Cell::Markup(nowrap(&format_time(a.time_ms))),
            Cell::text(or_dash(&a.case_ref)),
            Cell::text(&a.requester),
            Cell::text(decision),
        ]);
    }
    body.push(approvals.to_html());

    let mut classes = Table::new(vec![
        Column::text("Output class"),
        Column::number("Disclosures"),
        Column::number("Records released"),
    ])
    .with_caption("Everything released, by output class")
    .with_empty_message("Nothing released in the window.");
    for (class, (entries, records)) in &summary.disclosures_by_class {
        classes.push_row(vec![
            Cell::Markup(code(class)),
            Cell::Count(*entries),
            Cell::Count(*records),
        ]);
    }
    body.push(classes.to_html());
    Section::new("Person-level disclosures and approvals", body).with_id("person-level")
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "—" } else { text }
}

fn epsilon(micro: u64) -> f64 {
    micro as f64 / 1_000_000.0
}

pub(super) fn budget(summary: &AuditSummary) -> Section {
    let budget = &summary.budget;
    let mut body = paragraph(
        "Differentially private answers charge a privacy budget (ε) per requester and per \
         coordinator, each per dataset and budget period. Charges are those of the window; \
         balances are the whole log's.",
    );
    if summary.kind == LogKind::Coordinator {
        body.push(note(
            "A coordinator's log records no charges: each node logs the charges of its own \
             answers, so run this report on the nodes' logs for their budgets.",
        ));
    }
    if !budget.by_requester.is_empty() {
        let bars = budget
            .by_requester
            .iter()
            .map(|((requester, dataset, period), micro)| {
                Bar::new(format!("{requester} · {dataset} · {period}"), Some(epsilon(*micro)))
            })
            .collect();
        body.push(
            BarChart::horizontal("ε spent per requester, dataset and period", bars).to_html(),
        );
    }
    let mut spent = Table::new(vec![
        Column::text("Requester"),
        Column::text("Dataset"),
        Column::text("Period"),
        Column::number("Charges"),
        Column::number("ε spent"),
    ])
    .with_caption("Charges in the window")
    .with_empty_message("No budget charges in the window.");
    for ((requester, dataset, period), micro) in &budget.by_requester {
        let charges = budget
            .charges
            .iter()
            .filter(|c| {
                &c.charge.requester == requester
                    && &c.charge.dataset == dataset
                    && &c.charge.period == period
            })
            .count();
        spent.push_row(vec![
            Cell::text(requester),
            Cell::text(dataset),
            Cell::text(period),
            Cell::Count(charges as u64),
            Cell::text(micro_to_string(*micro)),
        ]);
    }
    body.push(spent.to_html());
    if !budget.refused.is_empty() {
        body.push(note(&format!(
            "{} refused requests asked for budget they did not get (they spent nothing).",
            format_count(budget.refused.len() as u64)
        )));
    }

    let mut balances = Table::new(vec![
        Column::text("Balance"),
        Column::text("Dataset"),
        Column::text("Period"),
        Column::number("Replayed ε"),
        Column::number("Recorded ε"),
        Column::text("Check"),
    ])
    .with_caption("Balances: replayed from the entries and recorded by the store")
    .with_empty_message("No budget balances in this log.");
    let mut keys: Vec<_> = budget.replayed.keys().collect();
    if let Some(recorded) = &budget.recorded {
        keys.extend(recorded.keys());
    }
    keys.sort();
    keys.dedup();
    for key in keys {
        let replayed = budget.replayed.get(key).copied();
        let recorded = budget.recorded.as_ref().and_then(|r| r.get(key).copied());
        let whose = match key.scope {
            BudgetScope::Coordinator => format!("coordinator {}", key.coordinator),
            BudgetScope::Requester => {
                format!("requester {} (via {})", key.requester, key.coordinator)
            }
        };
        let shown = |m: Option<u64>| m.map_or(Cell::Missing, |m| Cell::text(micro_to_string(m)));
        let check = if replayed == recorded { "matches" } else { "DIFFERS" };
        balances.push_row(vec![
            Cell::text(whose),
            Cell::text(&key.dataset),
            Cell::text(&key.period),
            shown(replayed),
            shown(recorded),
            Cell::text(check),
        ]);
    }
    body.push(balances.to_html());
    if budget.recorded.is_none() {
        body.push(note("The file has no balance table (a log written before the budget ledger)."));
    }
    Section::new("Budget consumption", body).with_id("budget")
}
