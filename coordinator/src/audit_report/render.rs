//! The audit report's page: the verification result first (in red when the log fails), then
//! the activity of the window — queries over time, by purpose, requester, kind and lawful
//! basis; refusals and their rules; person-level disclosures and their approvals; budget
//! consumption; a coordinator's queries per node; system events and reads of the log.

use fedlink_proto::audit::budget::micro_to_string;

use super::model::{AuditSummary, Breakdown, Counts, LogKind, Verification};
use super::review;
use super::time::{format_date, format_time};
use crate::html::{
    Bar, BarChart, CalloutKind, Cell, Column, Html, LineChart, Page, Section, Series, StackedBar,
    StackedBarChart, Stat, Table, callout, code, format_count, key_facts, note, nowrap, paragraph,
    stat_tiles,
};

/// The most rows a list of entries shows; the rest are counted in a note.
pub(super) const MAX_LIST_ROWS: usize = 500;
/// The most lines a chart over time draws; the rest are summed into "other".
const MAX_SERIES: usize = 7;

/// The complete page for `summary` of the log at `log_path`.
pub fn render(summary: &AuditSummary, log_path: &str, generated_at_ms: Option<i64>) -> String {
    let kind = match summary.kind {
        LogKind::Coordinator => "coordinator",
        LogKind::Node => "node",
    };
    let mut page = Page::new(format!("Audit report: {}", display_origin(summary)));
    page.subtitle = Some(format!("{kind} log {log_path} · {}", window_text(summary)));
    page.alerts = verification_callout(summary);
    page.sections = vec![
        integrity(summary),
        overview(summary),
        over_time(summary),
        breakdown_section(
            "Queries by purpose",
            "Purpose",
            &summary.by_purpose,
            summary,
            "Every query states a purpose code the node's policy accepts or refuses.",
        ),
        breakdown_section(
            "Queries by requester",
            "Requester",
            &summary.by_requester,
            summary,
            "The officer and organisation each query was made for, as signed in its envelope.",
        ),
        kinds_and_bases(summary),
        review::refusals(summary),
        review::person_level(summary),
        review::budget(summary),
    ];
    if summary.kind == LogKind::Coordinator {
        page.sections.push(per_node(summary));
    }
    page.sections.push(events(summary));
    page.footer = Some(match generated_at_ms {
        Some(ms) => format!("Made by fedlink audit report on {}.", format_time(ms)),
        None => "Made by fedlink audit report.".to_owned(),
    });
    page.render()
}

fn display_origin(summary: &AuditSummary) -> &str {
    if summary.origin.is_empty() { "(no origin recorded)" } else { &summary.origin }
}

fn window_text(summary: &AuditSummary) -> String {
    let since = summary.window.since_ms.map(format_date);
    // `until_ms` is exclusive: the day shown is the last day included.
    let until = summary.window.until_ms.map(|ms| format_date(ms - 1));
    match (since, until) {
        (None, None) => "the whole log".to_owned(),
        (Some(s), None) => format!("from {s}"),
        (None, Some(u)) => format!("up to {u}"),
        (Some(s), Some(u)) => format!("{s} to {u}"),
    }
}

fn verification_callout(summary: &AuditSummary) -> Html {
    match &summary.verification {
        Verification::Failed { problem } => {
            let mut body = paragraph(problem);
            body.push(paragraph(
                "The log was changed after it was signed, or entries are missing. The figures \
                 below are read from the file as it stands and cannot be relied on; treat the \
                 log as evidence of tampering and compare it with the receipts and checkpoints \
                 other parties hold.",
            ));
            callout(CalloutKind::Danger, "This log FAILS verification", body)
        }
        Verification::Verified { size, checkpoints, pinned, .. } => {
            let key = if *pinned {
                "the key in the federation file"
            } else {
                "the key recorded in the log itself (not pinned to the federation file)"
            };
            callout(
                CalloutKind::Success,
                "This log verifies",
                paragraph(&format!(
                    "{} entries and {} signed checkpoints checked against {key}.",
                    format_count(*size),
                    format_count(*checkpoints)
                )),
            )
        }
    }
}

fn integrity(summary: &AuditSummary) -> Section {
    let mut facts: Vec<(&str, Html)> = Vec::new();
    let result = match &summary.verification {
        Verification::Verified { .. } => Html::text("verified"),
        Verification::Failed { problem } => Html::element(
            "strong",
            &[("class", "failed")],
            Html::text(&format!("FAILED: {problem}")),
        ),
    };
    facts.push(("Result", result));
    facts.push(("Origin", code(display_origin(summary))));
    facts.push(("Entries stored", Html::text(&format_count(summary.stored_entries))));
    if let Verification::Verified { size, checkpoints, key, pinned, ledger } = &summary.verification
    {
        facts.push(("Verified size", Html::text(&format_count(*size))));
        facts.push(("Checkpoints checked", Html::text(&format_count(*checkpoints))));
        let mut key_html = code(key);
        key_html.push_text(if *pinned {
            " (pinned from the federation file)"
        } else {
            " (as recorded in the log)"
        });
        facts.push(("Signing key", key_html));
        facts.push(("Budget ledger", Html::text(ledger)));
    } else if let Some(key) = &summary.recorded_key {
        let mut key_html = code(key);
        key_html.push_text(" (as recorded in the log; unverified)");
        facts.push(("Recorded key", key_html));
    }
    facts.push(("Checkpoints stored", Html::text(&format_count(summary.checkpoints.len() as u64))));
    if let Some((size, ms)) = summary.checkpoints.last() {
        facts.push((
            "Latest checkpoint",
            Html::text(&format!("size {} at {}", format_count(*size), format_time(*ms))),
        ));
    }
    facts.push(("Witness cosignatures", Html::text(&format_count(summary.cosignatures))));
    let mut body = key_facts(facts);
    if !summary.unreadable.is_empty() {
        let mut table = Table::new(vec![Column::number("Entry"), Column::text("Problem")])
            .with_caption("Entries that do not decode (left out of every figure below)");
        for (index, problem) in &summary.unreadable {
            table.push_row(vec![Cell::Count(*index), Cell::text(problem)]);
        }
        body.push(table.to_html());
    }
    body.push(note(
        "Verification re-hashes every entry, rebuilds the Merkle tree, checks every signed \
         checkpoint and the consistency between them, and replays the budget ledger against \
         the recorded balances: the same checks as fedlink audit verify.",
    ));
    Section::new("Log integrity", body).with_id("integrity")
}

fn overview(summary: &AuditSummary) -> Section {
    let total = totals(summary);
    let epsilon: u64 = summary.budget.charges.iter().map(|c| c.charge.epsilon_micro).sum();
    let query_label = match summary.kind {
        LogKind::Coordinator => "queries issued",
        LogKind::Node => "requests received",
    };
    let mut body = stat_tiles(&[
        Stat::new(query_label, format_count(total.queries))
            .with_detail(format!("{} answered", format_count(total.answered))),
        Stat::new("refused", format_count(total.refused))
            .with_detail(format!("{} failed", format_count(total.failed))),
        Stat::new("person-level disclosures", format_count(summary.person_level.len() as u64)),
        Stat::new("ε spent", micro_to_string(epsilon))
            .with_detail(format!("{} charges", format_count(summary.budget.charges.len() as u64))),
    ]);
    let span = match summary.span {
        Some((first, last)) => format!("{} to {}", format_time(first), format_time(last)),
        None => "no entries in the window".to_owned(),
    };
    body.push(key_facts([
        ("Log", code(display_origin(summary))),
        ("Window", Html::text(&window_text(summary))),
        ("Entries in window", Html::text(&format_count(summary.entries_in_window))),
        ("First and last entry", Html::text(&span)),
    ]));
    let what = match summary.kind {
        LogKind::Coordinator => {
            "A coordinator logs every envelope it issues (one per node asked) before sending it, \
             and every receipt it verifies. A query's outcome here is what the node's receipt says."
        }
        LogKind::Node => {
            "A node logs every request before it does any work (refused requests included), \
             then what it released, to whom and under which rule."
        }
    };
    body.push(paragraph(what));
    Section::new("Summary", body).with_id("summary")
}

fn totals(summary: &AuditSummary) -> Counts {
    let mut counts = Counts::default();
    for c in summary.by_kind.counts.values() {
        counts.queries += c.queries;
        counts.answered += c.answered;
        counts.refused += c.refused;
        counts.failed += c.failed;
        counts.no_outcome += c.no_outcome;
    }
    counts
}

fn over_time(summary: &AuditSummary) -> Section {
    let Some(buckets) = &summary.buckets else {
        return Section::new("Queries over time", paragraph("No entries in the window."))
            .with_id("over-time");
    };
    let labels = buckets.labels();
    let bars = labels
        .iter()
        .zip(&summary.outcomes_per_bucket)
        .map(|(label, counts)| {
            StackedBar::new(label.clone(), counts.iter().map(|c| Some(*c as f64)).collect())
        })
        .collect();
    let segments = ["answered", "refused", "failed", "no outcome"].map(String::from).to_vec();
    let chart = StackedBarChart::new(
        format!("Queries per {} by outcome", buckets.granularity.name()),
        segments,
        bars,
    );
    let mut body = chart.to_html();
    body.push(note(&format!(
        "Each column is one {} (UTC). The charts by purpose and requester below use the same \
         buckets.",
        buckets.granularity.name()
    )));
    Section::new("Queries over time", body).with_id("over-time")
}

fn counts_row(label: &str, c: &Counts) -> Vec<Cell> {
    vec![
        Cell::text(label),
        Cell::Count(c.queries),
        Cell::Count(c.answered),
        Cell::Count(c.refused),
        Cell::Count(c.failed),
        Cell::Count(c.no_outcome),
    ]
}

fn counts_table(first: &str, breakdown: &Breakdown) -> Table {
    let mut table = Table::new(vec![
        Column::text(first),
        Column::number("Queries"),
        Column::number("Answered"),
        Column::number("Refused"),
        Column::number("Failed"),
        Column::number("No outcome"),
    ])
    .with_empty_message("No queries in the window.");
    for (label, c) in ranked(breakdown) {
        table.push_row(counts_row(label, c));
    }
    table
}

/// Values by number of queries, most first (ties by name, so the order is stable).
fn ranked(breakdown: &Breakdown) -> Vec<(&String, &Counts)> {
    let mut rows: Vec<_> = breakdown.counts.iter().collect();
    rows.sort_by(|a, b| b.1.queries.cmp(&a.1.queries).then(a.0.cmp(b.0)));
    rows
}

fn breakdown_section(
    heading: &str,
    first: &str,
    breakdown: &Breakdown,
    summary: &AuditSummary,
    intro: &str,
) -> Section {
    let mut body = paragraph(intro);
    let bars: Vec<Bar> = ranked(breakdown)
        .into_iter()
        .map(|(k, c)| Bar::new(k.clone(), Some(c.queries as f64)))
        .collect();
    if !bars.is_empty() {
        body.push(BarChart::horizontal(format!("{heading} (all outcomes)"), bars).to_html());
    }
    if let Some(buckets) = summary.buckets.as_ref().filter(|b| b.len() > 1) {
        let chart = LineChart::new(
            format!("{heading} per {}", buckets.granularity.name()),
            buckets.labels(),
            top_series(breakdown, buckets.len()),
        );
        body.push(chart.to_html());
    }
    body.push(counts_table(first, breakdown).to_html());
    Section::new(heading, body)
}

/// One line per value, the busiest [`MAX_SERIES`] first and the rest summed as "other".
fn top_series(breakdown: &Breakdown, buckets: usize) -> Vec<Series> {
    let ranked = ranked(breakdown);
    let mut series = Vec::new();
    let mut other = vec![0u64; buckets];
    for (i, (label, _)) in ranked.iter().enumerate() {
        let Some(values) = breakdown.per_bucket.get(*label) else { continue };
        if i < MAX_SERIES {
            series.push(Series::new(
                label.as_str(),
                values.iter().map(|v| Some(*v as f64)).collect(),
            ));
        } else {
            for (sum, v) in other.iter_mut().zip(values) {
                *sum += v;
            }
        }
    }
    if ranked.len() > MAX_SERIES {
        series.push(Series::new("other", other.into_iter().map(|v| Some(v as f64)).collect()));
    }
    series
}

pub(super) fn truncation_note(total: usize) -> Html {
    if total > MAX_LIST_ROWS {
        note(&format!("The first {MAX_LIST_ROWS} of {} are listed.", format_count(total as u64)))
    } else {
        Html::new()
    }
}

fn kinds_and_bases(summary: &AuditSummary) -> Section {
    let mut body = counts_table("Kind of query", &summary.by_kind).to_html();
    body.push(counts_table("Lawful basis", &summary.by_lawful_basis).to_html());
    Section::new("Kinds of query and lawful bases", body).with_id("kinds")
}

fn per_node(summary: &AuditSummary) -> Section {
    let mut body = paragraph(
        "Every envelope the coordinator issued, by the node it was sent to, and what that node's \
         receipt said. “No outcome” means the coordinator holds no verified receipt for it \
         (the node was down, or the answer did not check out).",
    );
    let bars = summary
        .per_node
        .iter()
        .map(|(node, a)| Bar::new(node.as_str(), Some(a.counts.queries as f64)))
        .collect();
    body.push(BarChart::horizontal("Queries issued per node", bars).to_html());
    if let Some(buckets) = summary.buckets.as_ref().filter(|b| b.len() > 1) {
        let series = summary
            .per_node
            .iter()
            .map(|(node, a)| {
                Series::new(node.as_str(), a.per_bucket.iter().map(|v| Some(*v as f64)).collect())
            })
            .collect();
        let title = format!("Queries issued per node per {}", buckets.granularity.name());
        body.push(LineChart::new(title, buckets.labels(), series).to_html());
    }
    let mut table = Table::new(vec![
        Column::text("Node"),
        Column::number("Queries"),
        Column::number("Answered"),
        Column::number("Refused"),
        Column::number("Failed"),
        Column::number("No outcome"),
    ])
    .with_empty_message("No queries issued in the window.");
    for (node, a) in &summary.per_node {
        table.push_row(counts_row(node, &a.counts));
    }
    body.push(table.to_html());
    Section::new("Queries per node", body).with_id("per-node")
}

fn events(summary: &AuditSummary) -> Section {
    let mut table = Table::new(vec![Column::text("Event"), Column::number("Entries")])
        .with_caption("Entries by event type")
        .with_empty_message("No entries in the window.");
    for (event, n) in &summary.events {
        table.push_row(vec![Cell::text(event), Cell::Count(*n)]);
    }
    let mut body = table.to_html();
    let mut reads = Table::new(vec![Column::text("Time"), Column::text("Detail")])
        .with_caption("Reads, searches and exports of this log")
        .with_empty_message("No reads or exports of this log were logged in the window.");
    for (ms, detail) in summary.log_reads.iter().take(MAX_LIST_ROWS) {
        reads.push_row(vec![Cell::Markup(nowrap(&format_time(*ms))), Cell::text(detail)]);
    }
    body.push(reads.to_html());
    body.push(truncation_note(summary.log_reads.len()));
    Section::new("System events and reads of this log", body).with_id("events")
}
