//! From a run to the report model: the header's partners and disclosure rules, each section's
//! tables built from the answers (with their change and trend tables), linked counts grouped
//! into tables, combines, the linkage-quality tables, "partner X unavailable" where a partner
//! could not answer (the manifest records and header facts are in [`super::records`]).
//! Flag-backs and police-only tables go to the restricted annex, never into a section.

use std::collections::BTreeMap;

use fedlink_proto::link::LinkKind;

use crate::combine::{CombineSpec, Population, combine};
use crate::config::CoordinatorSettings;
use crate::link::{LinkRun, PartStatus};
use crate::outcome::Outcome;
use crate::table::ReleasedTable;

use super::catalogue::{
    AggregateItem, Catalogue, Chart, CombineItem, Item, ItemBody, LinkItem, Section,
};
use super::model::{
    Block, CatalogueRef, QueryRecord, Report, RestrictedContent, RestrictedOut, SectionOut, Table,
};
use super::plan::{Plan, Variant};
use super::records::{disclosure_rules, iso_utc, partners, privacy_text, record};
use super::run::{Execution, StepOutcome};
use super::tables::{
    LinkRow, change_table, combined_table, link_group_table, linkage_tables, released_table,
    screened_table, trend_table,
};

/// Where the steps of each item are: (item, variant) → index.
type StepIndex = BTreeMap<(String, Variant), usize>;

/// A run's answers, looked up by catalogue item and run.
struct Answers<'a> {
    execution: &'a Execution,
    index: StepIndex,
}

impl<'a> Answers<'a> {
    fn new(execution: &'a Execution) -> Self {
        let index = execution
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.step.item.clone(), s.step.variant), i))
            .collect();
        Self { execution, index }
    }

    /// An aggregate item's answered table and its query's index.
    fn aggregate(&self, item: &str, variant: Variant) -> Option<(&'a ReleasedTable, usize)> {
        let &i = self.index.get(&(item.to_string(), variant))?;
        match &self.execution.steps[i].outcome {
            StepOutcome::Aggregate(outcome) => match outcome.as_ref() {
                Outcome::Answered { answer, .. } => Some((answer, i)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A linked item's run (answered or not) and its query's index.
    fn link(&self, item: &str) -> Option<(&'a LinkRun, usize)> {
        let &i = self.index.get(&(item.to_string(), Variant::Main))?;
        match &self.execution.steps[i].outcome {
            StepOutcome::Link(run) => Some((run.as_ref(), i)),
            _ => None,
        }
    }

    /// Why an item's run gave nothing.
    fn problems(&self, item: &str, variant: Variant) -> Vec<String> {
        self.index
            .get(&(item.to_string(), variant))
            .map(|&i| self.execution.steps[i].outcome.problems())
            .unwrap_or_else(|| vec!["not run".into()])
    }

    /// The period query `q` counted, as headings read it.
    fn period(&self, q: usize) -> String {
        self.execution.steps.get(q).map(|s| s.step.period_label.clone()).unwrap_or_default()
    }
}

/// What building gathers beside the sections.
struct Gathered {
    /// Every query's manifest record.
    queries: Vec<QueryRecord>,
    /// Results for the restricted annex.
    restricted: Vec<RestrictedOut>,
    /// Linked counts that released a table (item id, query), for the linkage quality.
    linked: Vec<(String, usize)>,
}

/// Builds the report from a run.
pub fn build(
    catalogue: &Catalogue,
    plan: &Plan,
    execution: &Execution,
    settings: &CoordinatorSettings,
    generated_ms: i64,
) -> Report {
    let answers = Answers::new(execution);
    let mut out = Gathered {
        queries: execution.steps.iter().map(record).collect(),
        restricted: Vec::new(),
        linked: Vec::new(),
    };
    let mut sections = Vec::new();
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
                    blocks.extend(aggregate_blocks(&answers, &mut out, item, agg, title));
                }
                ItemBody::Link(link) => {
                    if let Some(group) = &link.group {
                        if emitted_groups.contains(group) {
                            // Its row is in the group's table, made at the group's first item.
                            note_linked(&answers, &mut out, item);
                            continue;
                        }
                        emitted_groups.push(group.clone());
                    }
                    blocks.extend(link_blocks(&answers, &mut out, section, item, link, title));
                }
                ItemBody::Combine(c) => {
                    blocks.push(combine_block(&answers, catalogue, item, c, title));
                }
                ItemBody::LinkageQuality => {
                    // Filled in once every section is built (it covers the whole report).
                    blocks.push(Block::Note { text: LINKAGE_PLACEHOLDER.into() });
                }
            }
        }
        sections.push(SectionOut {
            id: section.id.clone(),
            title: section.title.clone(),
            analyses: section.analyses.clone(),
            summary: section.summary.clone(),
            unavailable: section_unavailable(&section.id, execution),
            blocks,
        });
    }
    fill_linkage_quality(&mut sections, &out.linked, execution);

    let partners = partners(execution);
    let disclosure = disclosure_rules(execution, &out.queries);
    let previous = plan.period.back(1);
    let mut report = Report {
        title: catalogue.title.clone(),
        organisation: catalogue
            .organisation
            .clone()
            .unwrap_or_else(|| settings.requester.organisation.clone()),
        period: plan.period.to_string(),
        period_label: plan.period.label(),
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
        queries: out.queries,
        restricted: out.restricted,
        elapsed_seconds: execution.seconds,
    };
    report.index_cells();
    report
}

/// An aggregate item's tables: its own, the change against the comparison period, the trend
/// across earlier periods; or, for police-only detail, the note that they went to the annex.
fn aggregate_blocks(
    answers: &Answers<'_>,
    out: &mut Gathered,
    item: &Item,
    agg: &AggregateItem,
    title: String,
) -> Vec<Block> {
    let Some((table, q)) = answers.aggregate(&item.id, Variant::Main) else {
        return vec![Block::Failed { title, problems: answers.problems(&item.id, Variant::Main) }];
    };
    let main_period = answers.period(q);
    let mut blocks = Vec::new();
    let mut made = Vec::new();
    // With a trend across periods, the chart is drawn from the trend.
    let chart = if agg.history > 0 { Chart::None } else { agg.chart };
    let mut main = released_table(&item.id, &title, &main_period, table, q, chart);
    main.notes.extend(item.note.clone());
    main.notes.push(footer(table));
    made.push(main);
    if agg.compare.is_some() {
        match answers.aggregate(&item.id, Variant::Compare) {
            Some((before, qp)) => {
                let before_label = answers.period(qp);
                made.extend(change_table(
                    &format!("{}_change", item.id),
                    &format!("{title}: change against {before_label}"),
                    (&main_period, table, q),
                    (&before_label, before, qp),
                ));
            }
            None => blocks.push(Block::Failed {
                title: format!("{title}: the comparison period"),
                problems: answers.problems(&item.id, Variant::Compare),
            }),
        }
    }
    // Earlier periods, oldest first, then this one.
    let mut earlier = Vec::new();
    for n in (1..=agg.history).rev() {
        if let Some((t, qh)) = answers.aggregate(&item.id, Variant::History(n)) {
            earlier.push((answers.period(qh), t, qh));
        }
    }
    if agg.history > 0 && !agg.restricted {
        let mut runs: Vec<(&str, &ReleasedTable, usize)> =
            earlier.iter().map(|(label, t, qh)| (label.as_str(), *t, *qh)).collect();
        runs.push((main_period.as_str(), table, q));
        if let Some(mut t) =
            trend_table(&format!("{}_trend", item.id), &format!("{title}: month by month"), &runs)
        {
            if runs.len() <= agg.history as usize {
                t.notes.push("Some earlier periods did not answer.".into());
            }
            made.push(t);
        }
    }
    if !agg.restricted {
        blocks.extend(made.into_iter().map(Block::Table));
        return blocks;
    }
    out.queries[q].restricted = true;
    if let Some(least) = agg.keep_at_least {
        let mut runs = vec![(table, q)];
        for (_, t, qh) in &earlier {
            runs.push((*t, *qh));
            out.queries[*qh].restricted = true;
        }
        let mut labels: Vec<String> = earlier.iter().map(|(label, _, _)| label.clone()).collect();
        labels.push(main_period.clone());
        made = screened_table(&item.id, &title, &labels.join(" + "), &runs, least)
            .into_iter()
            .collect();
    }
    for t in made {
        out.restricted.push(RestrictedOut {
            id: t.id.clone(),
            title: t.title.clone(),
            query: q,
            case_ref: None,
            content: RestrictedContent::Table(t),
        });
    }
    blocks.push(Block::Restricted {
        note: format!(
            "Police-only detail (exact counts of police records): in the restricted annex \
             (restricted/{}.csv), for authorised police users only.",
            item.id
        ),
        title,
    });
    blocks
}

/// Records a linked item that released a table, for the linkage-quality tables.
fn note_linked(answers: &Answers<'_>, out: &mut Gathered, item: &Item) {
    if let Some((run, q)) = answers.link(&item.id)
        && run.release().is_some()
    {
        out.linked.push((item.id.clone(), q));
    }
}

/// A linked item's table (or its group's), or the note that its flags went to the annex.
fn link_blocks(
    answers: &Answers<'_>,
    out: &mut Gathered,
    section: &Section,
    item: &Item,
    link: &LinkItem,
    title: String,
) -> Vec<Block> {
    if let Some(group) = &link.group {
        note_linked(answers, out, item);
        return vec![Block::Table(group_table(answers, section, item, group, &title))];
    }
    let Some((run, q)) = answers.link(&item.id) else {
        return vec![Block::Failed { title, problems: answers.problems(&item.id, Variant::Main) }];
    };
    if link.restricted {
        out.queries[q].restricted = true;
        return vec![restricted_flags(item, &title, run, q, &mut out.restricted)];
    }
    note_linked(answers, out, item);
    match run.release() {
        Some(release) => {
            let chart =
                if run.query.request.kind == LinkKind::Overlap { Chart::Upset } else { link.chart };
            let mut table =
                released_table(&item.id, &title, &answers.period(q), &release.table, q, chart);
            table.notes.extend(item.note.clone());
            table.notes.push(footer(&release.table));
            vec![Block::Table(table)]
        }
        None => vec![Block::Failed { title, problems: run.failures() }],
    }
}

/// The linked items of one group in a section as one table, a row each.
fn group_table(
    answers: &Answers<'_>,
    section: &Section,
    item: &Item,
    group: &str,
    title: &str,
) -> Table {
    let members: Vec<&Item> = section
        .items
        .iter()
        .filter(|i| matches!(&i.body, ItemBody::Link(l) if l.group.as_deref() == Some(group)))
        .collect();
    let mut rows = Vec::new();
    let mut periods: Vec<String> = Vec::new();
    for member in &members {
        let label = match &member.body {
            ItemBody::Link(l) => l.row.clone(),
            _ => None,
        }
        .or_else(|| member.title.clone())
        .unwrap_or_else(|| member.id.clone());
        match answers.link(&member.id) {
            Some((run, q)) => {
                let period = answers.period(q);
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
                status: answers.problems(&member.id, Variant::Main).join("; "),
            }),
        }
    }
    let mut table = link_group_table(group, title, &periods.join(", "), &rows);
    table.notes.extend(item.note.clone());
    if let Some(release) =
        members.iter().filter_map(|m| answers.link(&m.id)).find_map(|(r, _)| r.release())
    {
        let mut rules = format!("Rules: {}", release.table.applied_rules().join(", "));
        if let Some(privacy) = privacy_text(&release.table) {
            rules.push_str(&format!("; {privacy}"));
        }
        table.notes.push(format!(
            "{rules}. Each row is its own linked query, computed and protected by the partner \
             named; its query id and receipts are in manifest.json and under Queries and \
             receipts."
        ));
    }
    table
}

/// A combine item's table, from its aggregate items' answered tables.
fn combine_block(
    answers: &Answers<'_>,
    catalogue: &Catalogue,
    item: &Item,
    c: &CombineItem,
    title: String,
) -> Block {
    let mut tables = Vec::new();
    let mut sources = Vec::new();
    let mut missing = Vec::new();
    for name in &c.items {
        match answers.aggregate(name, Variant::Main) {
            Some((t, q)) => {
                tables.push((name.as_str(), t));
                sources.push(q);
            }
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Block::Failed {
            title,
            problems: vec![format!("not combined: {} gave no table", missing.join(", "))],
        };
    }
    let population = match &catalogue.population {
        Some(path) => match Population::load(path, &c.on) {
            Ok(p) => Some(p),
            Err(e) => return Block::Failed { title, problems: vec![e.to_string()] },
        },
        None => None,
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
            let period = sources.first().map(|&q| answers.period(q)).unwrap_or_default();
            let mut table = combined_table(&item.id, &title, &period, &combined, &sources, c.chart);
            table.notes.extend(item.note.clone());
            Block::Table(table)
        }
        Err(e) => Block::Failed { title, problems: vec![e.to_string()] },
    }
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
    item: &Item,
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
