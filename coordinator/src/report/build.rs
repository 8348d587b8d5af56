//! From a run to the report model: the header's partners and disclosure rules, each section's
//! tables built from the answers (with their change and trend tables), linked counts grouped
//! into tables, combines, the linkage-quality tables, "partner X unavailable" where a partner
//! could not answer, and every query as a manifest record. Flag-backs and police-only tables go
//! to the restricted annex, never into a section.

use std::collections::BTreeMap;

use fedlink_proto::aggregate::text::{group_text, metric_text};
use fedlink_proto::aggregate::{AggregateRequest, Filter};
use fedlink_proto::audit::budget::micro_to_string;
use fedlink_proto::civil::civil_from_days;
use fedlink_proto::link::LinkKind;
use fedlink_proto::pb;

use crate::combine::{CombineSpec, Population, combine};
use crate::config::CoordinatorSettings;
use crate::link::query::kind_name;
use crate::link::render::role_name;
use crate::link::{LinkRun, PartStatus};
use crate::outcome::Outcome;
use crate::receipts::VerifiedReceipt;
use crate::table::ReleasedTable;

use super::catalogue::{Catalogue, Chart, ItemBody};
use super::model::{
    Block, CatalogueRef, DisclosureRule, Partner, QueryRecord, ReceiptRef, Report,
    RestrictedContent, RestrictedOut, SectionOut,
};
use super::plan::{Plan, PlannedQuery, Variant};
use super::run::{Execution, StepOutcome};
use super::tables::{
    LinkRow, change_table, combined_table, link_group_table, linkage_tables, released_table,
    screened_table, trend_table,
};

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

fn privacy_text(table: &ReleasedTable) -> Option<String> {
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
fn record(step: &super::run::Executed) -> QueryRecord {
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

/// Where the steps of each item are: (item, variant) → index.
type StepIndex = BTreeMap<(String, Variant), usize>;

/// Builds the report from a run.
pub fn build(
    catalogue: &Catalogue,
    plan: &Plan,
    execution: &Execution,
    settings: &CoordinatorSettings,
    generated_ms: i64,
) -> Report {
    let mut queries: Vec<QueryRecord> = execution.steps.iter().map(record).collect();
    let index: StepIndex = execution
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.step.item.clone(), s.step.variant), i))
        .collect();
    let aggregate_answer = |item: &str, variant: Variant| -> Option<(&ReleasedTable, usize)> {
        let &i = index.get(&(item.to_string(), variant))?;
        match &execution.steps[i].outcome {
            StepOutcome::Aggregate(outcome) => match outcome.as_ref() {
                Outcome::Answered { answer, .. } => Some((answer, i)),
                _ => None,
            },
            _ => None,
        }
    };
    let link_run = |item: &str| -> Option<(&LinkRun, usize)> {
        let &i = index.get(&(item.to_string(), Variant::Main))?;
        match &execution.steps[i].outcome {
            StepOutcome::Link(run) => Some((run.as_ref(), i)),
            _ => None,
        }
    };
    let problems_of = |item: &str, variant: Variant| -> Vec<String> {
        index
            .get(&(item.to_string(), variant))
            .map(|&i| execution.steps[i].outcome.problems())
            .unwrap_or_else(|| vec!["not run".into()])
    };

    let mut restricted = Vec::new();
    let mut sections = Vec::new();
    let mut linked_for_quality: Vec<(String, usize)> = Vec::new();
    for section in &catalogue.sections {
        let mut blocks = Vec::new();
        let mut emitted_groups: Vec<String> = Vec::new();
        for item in &section.items {
            let title = item.title.clone().unwrap_or_else(|| item.id.clone());
            match &item.body {
                ItemBody::Note { text } => blocks.push(Block::Note { text: text.clone() }),
                ItemBody::Unavailable { reason } => {
                    blocks.push(Block::Unavailable { title, reason: reason.clone() });
                }
                ItemBody::Aggregate(agg) => {
                    let main_period = index
                        .get(&(item.id.clone(), Variant::Main))
                        .map(|&i| execution.steps[i].step.period_label.clone())
                        .unwrap_or_default();
                    let Some((table, q)) = aggregate_answer(&item.id, Variant::Main) else {
                        blocks.push(Block::Failed {
                            title,
                            problems: problems_of(&item.id, Variant::Main),
                        });
                        continue;
                    };
                    let mut made = Vec::new();
                    // With a trend across periods, the chart is drawn from the trend.
                    let chart = if agg.history > 0 { Chart::None } else { agg.chart };
                    let mut main = released_table(&item.id, &title, &main_period, table, q, chart);
                    main.notes.extend(item.note.clone());
                    main.notes.push(footer(table));
                    made.push(main);
                    if agg.compare.is_some() {
                        match aggregate_answer(&item.id, Variant::Compare) {
                            Some((before, qp)) => {
                                let before_label = execution.steps[qp].step.period_label.clone();
                                if let Some(t) = change_table(
                                    &format!("{}_change", item.id),
                                    &format!("{title}: change against {before_label}"),
                                    (&main_period, table, q),
                                    (&before_label, before, qp),
                                ) {
                                    made.push(t);
                                }
                            }
                            None => blocks.push(Block::Failed {
                                title: format!("{title}: the comparison period"),
                                problems: problems_of(&item.id, Variant::Compare),
                            }),
                        }
                    }
                    if agg.history > 0 {
                        let mut runs = Vec::new();
                        for n in (1..=agg.history).rev() {
                            if let Some((t, qh)) = aggregate_answer(&item.id, Variant::History(n)) {
                                runs.push((execution.steps[qh].step.period_label.as_str(), t, qh));
                            }
                        }
                        runs.push((main_period.as_str(), table, q));
                        if let Some(mut t) = trend_table(
                            &format!("{}_trend", item.id),
                            &format!("{title}: month by month"),
                            &runs,
                        ) {
                            if runs.len() <= agg.history as usize {
                                t.notes.push("Some earlier periods did not answer.".into());
                            }
                            made.push(t);
                        }
                    }
                    if agg.restricted {
                        queries[q].restricted = true;
                        if let Some(least) = agg.keep_at_least {
                            let mut runs = vec![(table, q)];
                            let mut labels = vec![main_period.clone()];
                            for n in 1..=agg.history {
                                if let Some((t, qh)) =
                                    aggregate_answer(&item.id, Variant::History(n))
                                {
                                    runs.push((t, qh));
                                    labels.push(execution.steps[qh].step.period_label.clone());
                                    queries[qh].restricted = true;
                                }
                            }
                            labels.reverse();
                            made =
                                screened_table(&item.id, &title, &labels.join(" + "), &runs, least)
                                    .into_iter()
                                    .collect();
                        }
                        for t in made {
                            restricted.push(RestrictedOut {
                                id: t.id.clone(),
                                title: t.title.clone(),
                                query: q,
                                case_ref: None,
                                content: RestrictedContent::Table(t),
                            });
                        }
                        blocks.push(Block::Restricted {
                            note: format!(
                                "Police-only detail (exact counts of police records): in the \
                                 restricted annex (restricted/{}.csv), for authorised police \
                                 users only.",
                                item.id
                            ),
                            title,
                        });
                    } else {
                        blocks.extend(made.into_iter().map(Block::Table));
                    }
                }
                ItemBody::Link(link) => {
                    let Some((run, q)) = link_run(&item.id) else {
                        blocks.push(Block::Failed {
                            title,
                            problems: problems_of(&item.id, Variant::Main),
                        });
                        continue;
                    };
                    if link.restricted {
                        queries[q].restricted = true;
                        blocks.push(restricted_flags(item, &title, run, q, &mut restricted));
                        continue;
                    }
                    if run.release().is_some() {
                        linked_for_quality.push((item.id.clone(), q));
                    }
                    if let Some(group) = &link.group {
                        if emitted_groups.contains(group) {
                            continue;
                        }
                        emitted_groups.push(group.clone());
                        let members: Vec<_> = section
                            .items
                            .iter()
                            .filter(|i| matches!(&i.body, ItemBody::Link(l) if l.group.as_ref() == Some(group)))
                            .collect();
                        let mut rows = Vec::new();
                        let mut periods = Vec::new();
                        for member in &members {
                            let label = match &member.body {
                                ItemBody::Link(l) => l.row.clone(),
                                _ => None,
                            }
                            .or_else(|| member.title.clone())
                            .unwrap_or_else(|| member.id.clone());
                            match link_run(&member.id) {
                                Some((run, q)) => {
                                    let period = execution.steps[q].step.period_label.clone();
                                    if !periods.contains(&period) {
                                        periods.push(period.clone());
                                    }
                                    rows.push(LinkRow {
                                        label,
                                        labelled: cohort_labelled(&run.query),
                                        release: run.release().map(|r| (&r.table, q)),
                                        status: match run.release() {
                                            Some(_) => format!("counted over {period}"),
                                            None => run.failures().join("; "),
                                        },
                                    });
                                }
                                None => rows.push(LinkRow {
                                    label,
                                    labelled: false,
                                    release: None,
                                    status: problems_of(&member.id, Variant::Main).join("; "),
                                }),
                            }
                        }
                        let mut table = link_group_table(group, &title, &periods.join(", "), &rows);
                        table.notes.extend(item.note.clone());
                        if let Some(release) = members
                            .iter()
                            .filter_map(|m| link_run(&m.id))
                            .find_map(|(r, _)| r.release())
                        {
                            let mut rules =
                                format!("Rules: {}", release.table.applied_rules().join(", "));
                            if let Some(privacy) = privacy_text(&release.table) {
                                rules.push_str(&format!("; {privacy}"));
                            }
                            table.notes.push(format!(
                                "{rules}. Each row is its own linked query, computed and \
                                 protected by the partner named; its query id and receipts \
                                 are in manifest.json and under Queries and receipts."
                            ));
                        }
                        blocks.push(Block::Table(table));
                        continue;
                    }
                    match run.release() {
                        Some(release) => {
                            let period = execution.steps[q].step.period_label.clone();
                            let chart = if run.query.request.kind == LinkKind::Overlap {
                                Chart::Upset
                            } else {
                                link.chart
                            };
                            let mut table =
                                released_table(&item.id, &title, &period, &release.table, q, chart);
                            table.notes.extend(item.note.clone());
                            table.notes.push(footer(&release.table));
                            blocks.push(Block::Table(table));
                        }
                        None => blocks.push(Block::Failed { title, problems: run.failures() }),
                    }
                }
                ItemBody::Combine(c) => {
                    let mut tables = Vec::new();
                    let mut sources = Vec::new();
                    let mut missing = Vec::new();
                    for name in &c.items {
                        match aggregate_answer(name, Variant::Main) {
                            Some((t, q)) => {
                                tables.push((name.as_str(), t));
                                sources.push(q);
                            }
                            None => missing.push(name.clone()),
                        }
                    }
                    if !missing.is_empty() {
                        blocks.push(Block::Failed {
                            title,
                            problems: vec![format!(
                                "not combined: {} gave no table",
                                missing.join(", ")
                            )],
                        });
                        continue;
                    }
                    let population = match (&catalogue.population, c.rate_per) {
                        (Some(path), _) => match Population::load(path, &c.on) {
                            Ok(p) => Some(p),
                            Err(e) => {
                                blocks.push(Block::Failed { title, problems: vec![e.to_string()] });
                                continue;
                            }
                        },
                        (None, _) => None,
                    };
                    let spec = CombineSpec {
                        name: item.id.clone(),
                        title: item.title.clone(),
                        queries: c.items.clone(),
                        on: c.on.clone(),
                        rate_per: c.rate_per.unwrap_or(1000),
                        population,
                        rank: c.rank,
                    };
                    match combine(&spec, &tables) {
                        Ok(combined) => {
                            let period = sources
                                .first()
                                .map(|&q| execution.steps[q].step.period_label.clone())
                                .unwrap_or_default();
                            let mut table = combined_table(
                                &item.id, &title, &period, &combined, &sources, c.chart,
                            );
                            table.notes.extend(item.note.clone());
                            blocks.push(Block::Table(table));
                        }
                        Err(e) => {
                            blocks.push(Block::Failed { title, problems: vec![e.to_string()] })
                        }
                    }
                }
                ItemBody::LinkageQuality => {
                    // Filled in once every section is built (it covers the whole report).
                    blocks.push(Block::Note { text: LINKAGE_PLACEHOLDER.into() });
                }
            }
        }
        let unavailable = section_unavailable(&section.id, execution);
        sections.push(SectionOut {
            id: section.id.clone(),
            title: section.title.clone(),
            analyses: section.analyses.clone(),
            summary: section.summary.clone(),
            unavailable,
            blocks,
        });
    }
    fill_linkage_quality(&mut sections, &linked_for_quality, execution);

    let partners = partners(execution);
    let disclosure = disclosure_rules(execution, &queries);
    let period_label = plan.period.label();
    let previous = plan.period.back(1);
    let mut report = Report {
        title: catalogue.title.clone(),
        organisation: catalogue
            .organisation
            .clone()
            .unwrap_or_else(|| settings.requester.organisation.clone()),
        period: plan.period.to_string(),
        period_label,
        previous_label: previous.label().unwrap_or_else(|| previous.to_string()),
        generated_at: iso_utc(generated_ms),
        coordinator: settings.me.name.clone(),
        requester: format!("{} ({})", settings.requester.officer_id, settings.requester.role),
        catalogue: CatalogueRef {
            path: catalogue.path.display().to_string(),
            sha256: catalogue.sha256.clone(),
        },
        partners,
        disclosure,
        notes: catalogue.notes.clone(),
        code_lists: catalogue.code_lists.clone(),
        sections,
        queries: std::mem::take(&mut queries),
        restricted,
        elapsed_seconds: execution.seconds,
    };
    report.index_cells();
    report
}

const LINKAGE_PLACEHOLDER: &str = "\u{0}linkage-quality";

/// Replaces the linkage-quality placeholder with the tables of every linked count.
fn fill_linkage_quality(
    sections: &mut [SectionOut],
    linked: &[(String, usize)],
    execution: &Execution,
) {
    let rows: Vec<(String, &crate::link::result::LinkedRelease, usize)> = linked
        .iter()
        .filter_map(|(title, q)| match &execution.steps[*q].outcome {
            StepOutcome::Link(run) => run.release().map(|r| (title.clone(), r, *q)),
            _ => None,
        })
        .collect();
    for section in sections {
        let Some(at) = section
            .blocks
            .iter()
            .position(|b| matches!(b, Block::Note { text } if text == LINKAGE_PLACEHOLDER))
        else {
            continue;
        };
        let replacement = if rows.is_empty() {
            vec![Block::Unavailable {
                title: "Linkage quality".into(),
                reason: "no linked count answered in this run".into(),
            }]
        } else {
            linkage_tables(&rows).into_iter().map(Block::Table).collect()
        };
        section.blocks.splice(at..=at, replacement);
    }
}

/// Whether a linked query's cohort is labelled by a column (rather than the one class `all`).
fn cohort_labelled(query: &crate::link::query::LinkQuery) -> bool {
    query
        .schedule
        .iter()
        .find(|(_, role)| *role == fedlink_proto::envelope::NodeRole::Cohort)
        .and_then(|(member, _)| query.request.sides.iter().find(|s| &s.member == member))
        .is_some_and(|side| side.label_column.is_some())
}

/// A flag-back's flags into the restricted annex; the body says only that they went there.
fn restricted_flags(
    item: &super::catalogue::Item,
    title: &str,
    run: &LinkRun,
    q: usize,
    restricted: &mut Vec<RestrictedOut>,
) -> Block {
    match run.flags() {
        Some(flags) => {
            restricted.push(RestrictedOut {
                id: item.id.clone(),
                title: title.to_string(),
                query: q,
                case_ref: run.query.case_ref.clone(),
                content: RestrictedContent::Flags(
                    flags.iter().map(|f| (f.record_id.clone(), f.flag, f.label.clone())).collect(),
                ),
            });
            Block::Restricted {
                title: title.to_string(),
                note: format!(
                    "Person-level flags (case {}), approved at the partner: in the restricted \
                     annex only (restricted/{}.csv), for authorised police users. No count of \
                     them is shown here.",
                    run.query.case_ref.as_deref().unwrap_or("-"),
                    item.id
                ),
            }
        }
        None => Block::Failed { title: title.to_string(), problems: run.failures() },
    }
}

/// The footer of a released table: rules, noise, source and receipt.
fn footer(table: &ReleasedTable) -> String {
    let p = table.provenance();
    let mut parts = vec![format!("Rules: {}", table.applied_rules().join(", "))];
    if let Some(privacy) = privacy_text(table) {
        parts.push(privacy);
    }
    parts.push(format!(
        "source: node {}, dataset {}, query {}, receipt entry {} at log size {}",
        p.node,
        table.dataset(),
        p.query_id,
        p.receipt_entry,
        p.receipt_log_size
    ));
    parts.join("; ")
}

/// `partner X unavailable: <reason>` for each partner that was down (or skipped) in a section.
fn section_unavailable(section: &str, execution: &Execution) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for step in execution.steps.iter().filter(|s| s.step.section == section) {
        let found: Vec<String> = match &step.outcome {
            StepOutcome::Skipped(reason) => vec![reason.clone()],
            StepOutcome::Aggregate(outcome) => match outcome.as_ref() {
                Outcome::Down(why) => step
                    .step
                    .query
                    .nodes()
                    .into_iter()
                    .map(|n| format!("partner {n} unavailable: {why}"))
                    .collect(),
                _ => Vec::new(),
            },
            StepOutcome::Link(run) => run
                .parts
                .iter()
                .filter_map(|p| match &p.status {
                    PartStatus::Down(why) => {
                        Some(format!("partner {} unavailable: {why}", p.member))
                    }
                    _ => None,
                })
                .collect(),
        };
        for line in found {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    lines
}

fn partners(execution: &Execution) -> Vec<Partner> {
    execution
        .partners
        .iter()
        .map(|row| match &row.outcome {
            Outcome::Answered { answer, receipt, .. } => Partner {
                name: row.node.clone(),
                organisation: row.organisation.clone(),
                status: "up".into(),
                available: true,
                datasets: answer.datasets.iter().map(|d| (d.name.clone(), d.rows)).collect(),
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
fn disclosure_rules(execution: &Execution, queries: &[QueryRecord]) -> Vec<DisclosureRule> {
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
