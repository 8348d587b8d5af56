//! The report as one self-contained HTML page (the `html` module's page shell, tables and
//! inline SVG charts): a header with the period, the partners and their data, the disclosure
//! rules and how to read the numbers; then each section with its charts and tables, what could
//! not be computed and why, and which partner was unavailable; then the queries and receipts.
//! Suppressed cells read "suppressed", never 0. Restricted results are only mentioned.

use crate::html::markup::{
    CalloutKind, Html, bullet_list, callout, code, key_facts, note, paragraph,
};
use crate::html::ranked::{RankedRow, RankedTable};
use crate::html::table::{Cell as HtmlCell, Column as HtmlColumn, Table as HtmlTable};
use crate::html::upset::UpsetChart;
use crate::html::{Bar, BarChart, LineChart, Page, Section, Series, StackedBar, StackedBarChart};

use super::catalogue::Chart;
use super::model::{Block, ColumnKind, Report, RestrictedContent, SectionOut, Table, Value};

/// The most bars or stacks a chart draws before the table alone must do.
const MAX_BARS: usize = 40;

/// Tables longer than this are folded (an HTML `<details>`, no script): the chart and the CSV
/// carry them, and the reader opens the rows when wanted.
const FOLD_ROWS: usize = 25;

/// Ranked rows shown before the rest are folded.
const RANKED_SHOWN: usize = 20;

/// `content` folded under a summary line.
fn folded(summary: &str, content: Html) -> Html {
    let mut inner = Html::element("summary", &[], Html::text(summary));
    inner.push(content);
    Html::element("details", &[], inner)
}

/// The page.
pub fn render(report: &Report) -> String {
    let mut page = Page::new(&report.title);
    let period = match &report.period_label {
        Some(label) => format!("{label} ({})", report.period),
        None => report.period.clone(),
    };
    page.subtitle = Some(format!(
        "{} · period {period} · produced {} by {} for {}",
        report.organisation, report.generated_at, report.coordinator, report.requester
    ));
    page.alerts = alerts(report);
    page.sections.push(header(report, &period));
    for section in &report.sections {
        page.sections.push(section_html(section));
    }
    page.sections.push(queries(report));
    page.footer = Some(format!(
        "Produced by fedlink {} from catalogue {} (sha256 {}). manifest.json beside this file \
         traces every number to the query, node and receipt it came from; tables/ holds one CSV \
         per table.",
        env!("CARGO_PKG_VERSION"),
        report.catalogue.path,
        report.catalogue.sha256
    ));
    page.render()
}

fn alerts(report: &Report) -> Html {
    let mut out = Html::new();
    let down: Vec<Html> = report
        .partners
        .iter()
        .filter(|p| !p.available)
        .map(|p| Html::text(&format!("partner {} unavailable: {}", p.name, p.status)))
        .collect();
    if !down.is_empty() {
        out.push(callout(CalloutKind::Warning, "Not every partner could be asked", {
            let mut body = bullet_list(down);
            body.push(paragraph(
                "The sections that needed them say so; everything else in the report \
                     was computed from the partners that answered.",
            ));
            body
        }));
    }
    if !report.restricted.is_empty() {
        out.push(callout(
            CalloutKind::Info,
            "A restricted annex was produced separately",
            paragraph(&format!(
                "{} result(s) for authorised police users only (person-level flags approved at \
                 the partner, police-only detail) are in the restricted/ folder beside this \
                 file. They are not part of this report and none of their content is shown \
                 here.",
                report.restricted.len()
            )),
        ));
    }
    out
}

fn header(report: &Report, period: &str) -> Section {
    let mut body = key_facts([
        ("Force", Html::text(&report.organisation)),
        ("Period", Html::text(period)),
        ("Compared with", Html::text(&report.previous_label)),
        ("Produced", Html::text(&report.generated_at)),
        ("Coordinator", Html::text(&format!("{} for {}", report.coordinator, report.requester))),
        ("Catalogue", code(&report.catalogue.path)),
        (
            "Code lists",
            Html::text(report.code_lists.as_deref().unwrap_or("as each node's dataset schemas")),
        ),
    ]);
    let mut partners = HtmlTable::new(vec![
        HtmlColumn::text("partner"),
        HtmlColumn::text("organisation"),
        HtmlColumn::text("status"),
        HtmlColumn::text("data held (rows, extract date)"),
        HtmlColumn::text("data as at (node clock)"),
        HtmlColumn::text("receipt"),
    ])
    .with_caption("Partners contributing");
    for p in &report.partners {
        let datasets: Vec<String> = p
            .datasets
            .iter()
            .map(|(d, rows, imported)| match imported {
                Some(at) => format!("{d} ({rows}, extract imported {at})"),
                None => format!("{d} ({rows}, never imported)"),
            })
            .collect();
        partners.push_row(vec![
            HtmlCell::text(&p.name),
            HtmlCell::text(&p.organisation),
            HtmlCell::text(&p.status),
            if datasets.is_empty() {
                HtmlCell::Missing
            } else {
                HtmlCell::text(datasets.join(", "))
            },
            p.as_at.as_ref().map_or(HtmlCell::Missing, HtmlCell::text),
            p.receipt.as_ref().map_or(HtmlCell::Missing, |r| {
                HtmlCell::text(format!("entry {} of {}", r.leaf_index, r.checkpoint_size))
            }),
        ]);
    }
    body.push(partners.to_html());
    body.push(note(
        "Extract dates: when each dataset's last import finished at its node, by the node's \
         clock; the data are as held at the node when it answered (its clock above).",
    ));
    let mut rules = HtmlTable::new(vec![
        HtmlColumn::text("node"),
        HtmlColumn::text("rules applied"),
        HtmlColumn::text("what they mean (the node's legend)"),
    ])
    .with_caption("Disclosure rules applied")
    .with_empty_message("No node released a table in this run.");
    for rule in &report.disclosure {
        rules.push_row(vec![
            HtmlCell::text(&rule.node),
            HtmlCell::text(rule.rules.join(", ")),
            HtmlCell::text(&rule.legend),
        ]);
    }
    body.push(rules.to_html());
    body.push(callout(
        CalloutKind::Info,
        "How to read the numbers",
        bullet_list([
            Html::text(
                "Every number was computed and protected by the partner whose data it \
                 describes, before it left that partner: small counts are suppressed, the rest \
                 rounded, and queries the analyst shaped carry random noise (differential \
                 privacy).",
            ),
            Html::text(
                "“suppressed” marks a withheld value: a small count (or one hidden to protect \
                 another), never zero. A total, change or rate that needs a suppressed value \
                 is suppressed too.",
            ),
            Html::text(
                "Linked counts are of people (or places) found in both partners' records by \
                 blinded matching: no identifier left any partner.",
            ),
        ]),
    ));
    for n in &report.notes {
        body.push(paragraph(n));
    }
    Section::new("Header: period, partners and disclosure rules", body).with_id("header")
}

fn section_html(section: &SectionOut) -> Section {
    let mut body = Html::new();
    if !section.analyses.is_empty() {
        body.push(note(&format!("Analyses: {}", section.analyses.join(", "))));
    }
    if let Some(summary) = &section.summary {
        body.push(paragraph(summary));
    }
    for line in &section.unavailable {
        body.push(callout(
            CalloutKind::Warning,
            line,
            paragraph("What needed this partner is not in this section; the rest is."),
        ));
    }
    for block in &section.blocks {
        match block {
            Block::Table(table) => body.push(table_html(table, "tables/")),
            Block::Note { text } => body.push(paragraph(text)),
            Block::Unavailable { title, reason } => body.push(callout(
                CalloutKind::Info,
                &format!("Not computed: {title}"),
                paragraph(reason),
            )),
            Block::Failed { title, problems } => body.push(callout(
                CalloutKind::Warning,
                &format!("No result: {title}"),
                bullet_list(problems.iter().map(|p| Html::text(p))),
            )),
            Block::Restricted { title, note: text } => body.push(callout(
                CalloutKind::Info,
                &format!("Restricted: {title}"),
                paragraph(text),
            )),
        }
    }
    Section::new(&section.title, body).with_id(section.id.clone())
}

fn count_of(value: &Value) -> Option<Option<f64>> {
    match value {
        Value::Count(n) => Some(Some(*n as f64)),
        Value::Rate(r) => Some(Some(*r)),
        Value::Suppressed => Some(None),
        _ => None,
    }
}

fn label_of(row: &[super::model::Cell]) -> String {
    row.first().map(|c| c.value.text()).unwrap_or_default()
}

/// The body rows (no `Total` row).
fn body_rows(table: &Table) -> Vec<&Vec<super::model::Cell>> {
    table.rows.iter().filter(|r| label_of(r) != "Total").collect()
}

fn chart_html(table: &Table) -> Option<Html> {
    let rows = body_rows(table);
    if rows.is_empty() || rows.len() > MAX_BARS {
        return None;
    }
    let count_cols: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ColumnKind::Count && c.name != "Total")
        .map(|(i, _)| i)
        .collect();
    let title = format!("{} ({})", table.title, table.period_label);
    match table.chart {
        Chart::None => None,
        Chart::Bar => {
            let col = *count_cols.first()?;
            let bars: Vec<Bar> = rows
                .iter()
                .filter_map(|r| Some(Bar::new(label_of(r), count_of(&r.get(col)?.value)?)))
                .collect();
            let long = bars.iter().any(|b| b.label.chars().count() > 10) || bars.len() > 12;
            Some(if long {
                BarChart::horizontal(title, bars).to_html()
            } else {
                BarChart::vertical(title, bars).to_html()
            })
        }
        Chart::Stacked => {
            let segments: Vec<String> =
                count_cols.iter().map(|&i| table.columns[i].name.clone()).collect();
            let bars: Vec<StackedBar> = rows
                .iter()
                .map(|r| {
                    let values = count_cols
                        .iter()
                        .map(|&i| r.get(i).and_then(|c| count_of(&c.value)).flatten())
                        .collect();
                    StackedBar::new(label_of(r), values)
                })
                .collect();
            Some(StackedBarChart::new(title, segments, bars).to_html())
        }
        Chart::Line => {
            let x: Vec<String> = rows.iter().map(|r| label_of(r)).collect();
            let series: Vec<Series> = count_cols
                .iter()
                .map(|&i| {
                    Series::new(
                        table.columns[i].name.clone(),
                        rows.iter()
                            .map(|r| r.get(i).and_then(|c| count_of(&c.value)).flatten())
                            .collect(),
                    )
                })
                .collect();
            Some(LineChart::new(title, x, series).to_html())
        }
        Chart::Ranked => {
            let rate = table.columns.iter().position(|c| c.kind == ColumnKind::Rate)?;
            let rank = table.columns.iter().position(|c| c.kind == ColumnKind::Rank);
            let name = table.columns.iter().position(|c| c.name == "name");
            let mut ranked: Vec<(usize, String, Option<f64>)> = rows
                .iter()
                .filter_map(|r| {
                    let position = match rank.and_then(|k| r.get(k)).map(|c| &c.value) {
                        Some(Value::Rank(n)) => *n,
                        _ => return None,
                    };
                    let label = name
                        .and_then(|n| r.get(n))
                        .map(|c| c.value.text())
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| label_of(r));
                    Some((position, label, count_of(&r.get(rate)?.value)?))
                })
                .collect();
            ranked.sort_by_key(|(p, _, _)| *p);
            let bars =
                ranked.into_iter().take(15).map(|(_, l, v)| Bar::new(l, v)).collect::<Vec<_>>();
            Some(BarChart::horizontal(format!("{title}: highest rates"), bars).to_html())
        }
        Chart::Upset => {
            let col = *count_cols.first()?;
            let combos: Vec<(String, Option<f64>)> = rows
                .iter()
                .filter_map(|r| Some((label_of(r), count_of(&r.get(col)?.value)?)))
                .collect();
            Some(UpsetChart::from_named(&title, &combos).to_html())
        }
    }
}

fn html_cell(value: &Value) -> HtmlCell {
    match value {
        Value::Text(t) => HtmlCell::text(t),
        Value::Count(n) => HtmlCell::Count(*n),
        Value::Suppressed => HtmlCell::Suppressed { at_most: None },
        Value::Rate(r) => HtmlCell::Fixed { value: *r, decimals: 2 },
        Value::Change(d) => HtmlCell::text(value_sign(*d)),
        Value::Rank(r) => HtmlCell::Count(*r as u64),
        Value::Blank => HtmlCell::Missing,
    }
}

fn value_sign(d: i64) -> String {
    if d > 0 { format!("+{d}") } else { d.to_string() }
}

fn table_html(table: &Table, csv_dir: &str) -> Html {
    let mut out = Html::new();
    if let Some(chart) = chart_html(table) {
        out.push(chart);
    }
    let caption = format!("{} ({})", table.title, table.period_label);
    if table.chart == Chart::Ranked {
        out.push(ranked_html(table, &caption));
    } else {
        let columns = table
            .columns
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Label | ColumnKind::Text => HtmlColumn::text(c.name.clone()),
                _ => HtmlColumn::number(c.name.clone()),
            })
            .collect();
        let mut html = HtmlTable::new(columns).with_caption(caption.clone());
        for row in &table.rows {
            html.push_row(
                row.iter()
                    .map(|c| match (&c.value, c.from.is_empty()) {
                        (Value::Text(t), true) if t.is_empty() => HtmlCell::Missing,
                        (v, _) => html_cell(v),
                    })
                    .collect(),
            );
        }
        if table.rows.len() > FOLD_ROWS {
            out.push(folded(
                &format!(
                    "{caption}: all {} rows (CSV: {csv_dir}{}.csv)",
                    table.rows.len(),
                    table.id
                ),
                html.to_html(),
            ));
        } else {
            out.push(html.to_html());
        }
    }
    for n in &table.notes {
        out.push(note(n));
    }
    out.push(note(&format!("CSV: {csv_dir}{}.csv", table.id)));
    out
}

fn ranked_html(table: &Table, caption: &str) -> Html {
    let find = |kind: ColumnKind| table.columns.iter().position(|c| c.kind == kind);
    let (rate, rank) = (find(ColumnKind::Rate), find(ColumnKind::Rank));
    let name = table.columns.iter().position(|c| c.name == "name");
    let value_cols: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ColumnKind::Count || c.kind == ColumnKind::Text)
        .map(|(i, _)| i)
        .collect();
    let rows: Vec<RankedRow> = table
        .rows
        .iter()
        .map(|r| {
            let value = |i: Option<usize>| i.and_then(|i| r.get(i)).map(|c| &c.value);
            RankedRow {
                rank: match value(rank) {
                    Some(Value::Rank(n)) => Some(*n),
                    _ => None,
                },
                code: label_of(r),
                name: value(name).map(Value::text).filter(|t| !t.is_empty()),
                values: value_cols
                    .iter()
                    .map(|&i| r.get(i).map_or(HtmlCell::Missing, |c| html_cell(&c.value)))
                    .collect(),
                rate: match value(rate) {
                    Some(Value::Rate(x)) => Some(*x),
                    _ => None,
                },
                rate_suppressed: matches!(value(rate), Some(Value::Suppressed)),
            }
        })
        .collect();
    let ranked = |caption: String, rows: Vec<RankedRow>| {
        RankedTable {
            caption,
            value_headings: value_cols.iter().map(|&i| table.columns[i].name.clone()).collect(),
            rate_heading: rate.map_or("rate".into(), |i| table.columns[i].name.clone()),
            rows,
        }
        .to_html()
    };
    if rows.len() <= RANKED_SHOWN + 5 {
        return ranked(caption.to_string(), rows);
    }
    let mut top: Vec<RankedRow> = rows.iter().filter(|r| r.rank.is_some()).cloned().collect();
    top.sort_by_key(|r| r.rank.unwrap_or(usize::MAX));
    top.truncate(RANKED_SHOWN);
    let mut out = ranked(format!("{caption}: the {RANKED_SHOWN} highest"), top);
    out.push(folded(
        &format!("All {} areas, ranked (CSV: tables/{}.csv)", rows.len(), table.id),
        ranked(caption.to_string(), rows),
    ));
    out
}

fn queries(report: &Report) -> Section {
    let mut table = HtmlTable::new(vec![
        HtmlColumn::text("query"),
        HtmlColumn::text("what"),
        HtmlColumn::text("nodes"),
        HtmlColumn::text("status"),
        HtmlColumn::text("query id"),
        HtmlColumn::text("receipts (node: entry of log size)"),
    ])
    .with_caption("Every query of this report");
    for q in &report.queries {
        let receipts: Vec<String> = q
            .receipts
            .iter()
            .map(|r| format!("{}: {} of {}", r.node, r.leaf_index, r.checkpoint_size))
            .collect();
        let status = if q.problems.is_empty() {
            q.status.clone()
        } else {
            format!("{}: {}", q.status, q.problems.join("; "))
        };
        table.push_row(vec![
            HtmlCell::text(&q.name),
            HtmlCell::text(&q.request),
            HtmlCell::text(q.nodes.join(", ")),
            HtmlCell::text(status),
            q.query_id.as_ref().map_or(HtmlCell::Missing, |id| HtmlCell::Markup(code(id))),
            HtmlCell::text(receipts.join("; ")),
        ]);
    }
    let mut body = paragraph(
        "Each query was signed by the coordinator and logged before it was sent; each node \
         logged it before answering and returned a receipt (its log entry, proven included in \
         a signed checkpoint) that the coordinator verified and stored. An auditor can find \
         every entry below in that node's audit log.",
    );
    body.push(table.to_html());
    Section::new("Queries and receipts", body).with_id("queries")
}

/// The restricted annex as its own page (`restricted/annex.html`): police only, never part of
/// the report. Each result under its heading, with the query that produced it.
pub fn render_annex(report: &Report) -> String {
    let mut page = Page::new(format!("RESTRICTED - police only: annex to the {}", report.title));
    page.subtitle = Some(format!(
        "{} · period {} · produced {} by {} for {}",
        report.organisation,
        report.period,
        report.generated_at,
        report.coordinator,
        report.requester
    ));
    page.alerts = callout(
        CalloutKind::Danger,
        "Restricted: police only. Not part of the report. Do not circulate.",
        paragraph(
            "Person-level flag-back results (one flag per police record, computed by a partner \
             and released only after an operator there approved the request under the case \
             reference named) and police-only screening (exact counts of police records). Use \
             them only under the agreed process, for the review named; record a reviewer and a \
             status (reviewed, no concern, referred) for each place or record followed up.",
        ),
    );
    for item in &report.restricted {
        let query = report.queries.get(item.query);
        let mut body = Html::new();
        if let Some(q) = query {
            body.push(note(&format!(
                "Query {} ({}); {}; receipts: {}",
                q.name,
                q.query_id.as_deref().unwrap_or("-"),
                q.request,
                q.receipts
                    .iter()
                    .map(|r| format!("{} entry {} of {}", r.node, r.leaf_index, r.checkpoint_size))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        match &item.content {
            RestrictedContent::Flags(flags) => {
                let flagged = flags.iter().filter(|(_, f, _)| *f).count();
                body.push(paragraph(&format!(
                    "Case {}: {flagged} of {} police records flagged.",
                    item.case_ref.as_deref().unwrap_or("-"),
                    flags.len()
                )));
                let mut table = HtmlTable::new(vec![
                    HtmlColumn::text("police record"),
                    HtmlColumn::text("flag"),
                    HtmlColumn::text("partner's label"),
                ]);
                for (record, flag, label) in flags {
                    table.push_row(vec![
                        HtmlCell::text(record),
                        HtmlCell::text(if *flag { "yes" } else { "no" }),
                        label.as_ref().map_or(HtmlCell::Missing, HtmlCell::text),
                    ]);
                }
                body.push(table.to_html());
            }
            RestrictedContent::Table(table) => {
                if table.rows.is_empty() {
                    body.push(paragraph("Nothing reached the screening threshold."));
                } else {
                    body.push(table_html(table, ""));
                }
            }
        }
        if matches!(item.content, RestrictedContent::Flags(_)) {
            body.push(note(&format!("CSV: {}.csv", item.id)));
        }
        page.sections.push(Section::new(&item.title, body).with_id(item.id.clone()));
    }
    page.footer = Some(
        "Produced by fedlink with the report; its manifest names this annex's \
                        files and the queries behind them, but holds none of their content."
            .to_string(),
    );
    page.render()
}
