//! Released tables as report tables: a node's table as a list or a cross-tab with its totals,
//! a period-on-period change, a month-by-month trend across periods, the rows of several linked
//! counts, a combine's ranked wards, and the linkage-quality figures. Every number is a value a
//! node released (or a difference, sum or rate of released values, never of a suppressed one),
//! and every cell names the query it came from.

use crate::combine::{Combined, CombinedTable};
use crate::link::result::LinkedRelease;
use crate::table::{Released, ReleasedTable};

use super::catalogue::Chart;
use super::model::{Cell, Column, ColumnKind, Table, Value};

/// A released value as a cell from query `q`.
pub fn cell(value: Released, q: usize) -> Cell {
    match value {
        Released::Count(n) => Cell::of(Value::Count(n), vec![q]),
        Released::Suppressed => Cell::of(Value::Suppressed, vec![q]),
    }
}

fn column(name: impl Into<String>, kind: ColumnKind) -> Column {
    Column { name: name.into(), kind }
}

/// How a table's levels read: the node's `(missing)` level stays as it is.
fn heading(name: &str) -> String {
    name.replace('_', " ")
}

/// A node's table: a list for one dimension, a cross-tab with totals for two, one row per cell
/// for more.
pub fn released_table(
    id: &str,
    title: &str,
    period_label: &str,
    table: &ReleasedTable,
    q: usize,
    chart: Chart,
) -> Table {
    let dims = table.dimensions();
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    match dims.len() {
        2 => {
            let (rows_dim, cols_dim) = (&dims[0], &dims[1]);
            columns.push(column(
                format!("{} \\ {}", heading(rows_dim.name()), heading(cols_dim.name())),
                ColumnKind::Label,
            ));
            for level in cols_dim.levels() {
                columns.push(column(level.clone(), ColumnKind::Count));
            }
            let row_margin = table.margin(0);
            let col_margin = table.margin(1);
            if row_margin.is_some() {
                columns.push(column("Total", ColumnKind::Count));
            }
            for (r, level) in rows_dim.levels().iter().enumerate() {
                let mut row = vec![Cell::label(level.clone())];
                for c in 0..cols_dim.levels().len() {
                    row.push(table.cell(&[r, c]).map_or(Cell::label(""), |v| cell(v, q)));
                }
                if let Some(m) = row_margin {
                    row.push(m.get(r).map_or(Cell::label(""), |v| cell(*v, q)));
                }
                rows.push(row);
            }
            if let Some(m) = col_margin {
                let mut row = vec![Cell::label("Total")];
                row.extend(m.iter().map(|v| cell(*v, q)));
                if row_margin.is_some() {
                    row.push(table.total().map_or(Cell::label(""), |v| cell(v, q)));
                }
                rows.push(row);
            }
        }
        1 => {
            let dim = &dims[0];
            columns.push(column(heading(dim.name()), ColumnKind::Label));
            columns.push(column("count", ColumnKind::Count));
            for (r, level) in dim.levels().iter().enumerate() {
                rows.push(vec![
                    Cell::label(level.clone()),
                    table.cell(&[r]).map_or(Cell::label(""), |v| cell(v, q)),
                ]);
            }
            if let Some(total) = table.total().filter(|_| dim.levels().len() > 1) {
                rows.push(vec![Cell::label("Total"), cell(total, q)]);
            }
        }
        _ => {
            for d in dims {
                columns.push(column(heading(d.name()), ColumnKind::Label));
            }
            columns.push(column("count", ColumnKind::Count));
            for (levels, value) in table.rows() {
                let mut row: Vec<Cell> = levels.into_iter().map(Cell::label).collect();
                row.push(cell(value, q));
                rows.push(row);
            }
        }
    }
    Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: period_label.to_string(),
        columns,
        rows,
        chart,
        notes: Vec::new(),
    }
}

/// The values of a table by level of its first dimension: the cells of a one-way table, the
/// released totals of a two-way one (never a sum of cells, which would meet suppressed ones).
fn by_first_level(table: &ReleasedTable) -> Option<(String, Vec<(String, Released)>)> {
    let dim = table.dimensions().first()?;
    // One-way, or two-way with one level across (a linked count's single partner class): the
    // cells are the values; otherwise the released totals by level.
    let values: Vec<Released> = match table.dimensions() {
        [_] => table.cells().to_vec(),
        [_, across] if across.levels().len() == 1 => table.cells().to_vec(),
        _ => table.margin(0)?.to_vec(),
    };
    Some((dim.name().to_string(), dim.levels().iter().cloned().zip(values).collect()))
}

/// The difference of two released values: unknown when either is suppressed.
fn change(current: Released, previous: Released, from: Vec<usize>) -> Cell {
    match (current, previous) {
        (Released::Count(a), Released::Count(b)) => {
            let d = i64::try_from(a).unwrap_or(i64::MAX) - i64::try_from(b).unwrap_or(i64::MAX);
            Cell::of(Value::Change(d), from)
        }
        _ => Cell::of(Value::Suppressed, from),
    }
}

/// This period against another, by level of the first dimension, with the change.
#[allow(clippy::too_many_arguments)]
pub fn change_table(
    id: &str,
    title: &str,
    current: (&str, &ReleasedTable, usize),
    previous: (&str, &ReleasedTable, usize),
) -> Option<Table> {
    let (cur_label, cur, qc) = current;
    let (prev_label, prev, qp) = previous;
    let (name, cur_values) = by_first_level(cur)?;
    let (_, prev_values) = by_first_level(prev)?;
    let columns = vec![
        column(heading(&name), ColumnKind::Label),
        column(cur_label, ColumnKind::Count),
        column(prev_label, ColumnKind::Count),
        column("change", ColumnKind::Change),
    ];
    let mut rows = Vec::new();
    for (level, value) in &cur_values {
        let before = prev_values.iter().find(|(l, _)| l == level).map(|(_, v)| *v);
        let mut row = vec![Cell::label(level.clone()), cell(*value, qc)];
        match before {
            Some(b) => {
                row.push(cell(b, qp));
                row.push(change(*value, b, vec![qc, qp]));
            }
            None => {
                row.push(Cell::label(""));
                row.push(Cell::label(""));
            }
        }
        rows.push(row);
    }
    if let (Some(a), Some(b)) = (cur.total(), prev.total()) {
        rows.push(vec![Cell::label("Total"), cell(a, qc), cell(b, qp), change(a, b, vec![qc, qp])]);
    }
    Some(Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: format!("{cur_label} against {prev_label}"),
        columns,
        rows,
        chart: Chart::None,
        notes: vec![
            "Change is the difference of the two released counts; where either is suppressed \
             the change is unknown and shown as [c]."
                .into(),
        ],
    })
}

/// Series by month across several periods (oldest first): one column per level of the other
/// dimension when it has few, else the released month totals.
pub fn trend_table(id: &str, title: &str, runs: &[(&str, &ReleasedTable, usize)]) -> Option<Table> {
    const MAX_SERIES: usize = 8;
    let first = runs.first()?.1;
    let month_at = first.dimensions().iter().position(|d| d.name() == "month")?;
    let other = match first.dimensions().len() {
        1 => None,
        2 => Some(1 - month_at),
        _ => return None,
    };
    let series: Vec<String> = match other {
        Some(o) if first.dimensions()[o].levels().len() <= MAX_SERIES => {
            first.dimensions()[o].levels().to_vec()
        }
        _ => vec!["count".to_string()],
    };
    let mut columns = vec![column("month", ColumnKind::Label)];
    columns.extend(series.iter().map(|s| column(s.clone(), ColumnKind::Count)));
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for &(label, table, q) in runs {
        labels.push(label.to_string());
        let (_, months) = table.dimension("month")?;
        for (m, month) in months.levels().iter().enumerate() {
            let mut row = vec![Cell::label(month.clone())];
            match other {
                None => row.push(table.cell(&[m]).map_or(Cell::label(""), |v| cell(v, q))),
                Some(o) if series.len() > 1 || series[0] != "count" => {
                    let (_, dim) = table.dimension(table.dimensions()[o].name())?;
                    for s in &series {
                        let value = dim.position(s).and_then(|p| {
                            let mut pos = [0usize; 2];
                            pos[o] = p;
                            pos[month_at] = m;
                            table.cell(&pos)
                        });
                        row.push(value.map_or(Cell::label(""), |v| cell(v, q)));
                    }
                }
                Some(_) => {
                    let value = table.margin(month_at).and_then(|mg| mg.get(m).copied());
                    row.push(value.map_or(Cell::label(""), |v| cell(v, q)));
                }
            }
            rows.push(row);
        }
    }
    Some(Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: labels.join(", "),
        columns,
        rows,
        chart: Chart::Line,
        notes: Vec::new(),
    })
}

/// One linked count as a row of a group table.
#[derive(Debug)]
pub struct LinkRow<'a> {
    /// The row's label.
    pub label: String,
    /// The released table and its query, when it answered.
    pub release: Option<(&'a ReleasedTable, usize)>,
    /// Whether the cohort was labelled by a column (e.g. role): then its classes are shown and
    /// the unused class `all` is not; otherwise the one class `all` is.
    pub labelled: bool,
    /// What the row counts over (its period), or why it has no numbers.
    pub status: String,
}

/// The cohort classes a row shows: its labels other than `all` when labelled, else `all`.
fn shown_labels(row: &LinkRow) -> Vec<String> {
    let Some((table, _)) = row.release else { return Vec::new() };
    let levels = table.dimensions().first().map(|d| d.levels().to_vec()).unwrap_or_default();
    if row.labelled {
        levels.into_iter().filter(|l| l != "all").collect()
    } else {
        vec!["all".to_string()]
    }
}

/// Several linked counts as one table: a row each, a column per cohort class shown.
pub fn link_group_table(id: &str, title: &str, period_label: &str, rows: &[LinkRow]) -> Table {
    let mut labels: Vec<String> = Vec::new();
    for row in rows {
        for level in shown_labels(row) {
            if !labels.contains(&level) {
                labels.push(level);
            }
        }
    }
    let single = labels.len() <= 1;
    let mut columns = vec![column("question", ColumnKind::Label)];
    if single {
        columns.push(column("linked subjects", ColumnKind::Count));
    } else {
        columns.extend(labels.iter().map(|l| column(l.clone(), ColumnKind::Count)));
        columns.push(column("Total", ColumnKind::Count));
    }
    columns.push(column("status", ColumnKind::Text));
    let mut out = Vec::new();
    for row in rows {
        let mut cells = vec![Cell::label(row.label.clone())];
        match row.release {
            Some((table, q)) => {
                let values = by_first_level(table).map(|(_, v)| v).unwrap_or_default();
                let value_of =
                    |label: &str| values.iter().find(|(l, _)| l == label).map(|(_, v)| *v);
                if single {
                    let value = if row.labelled {
                        table.total()
                    } else {
                        value_of("all").or_else(|| table.total())
                    };
                    cells.push(value.map_or(Cell::label(""), |v| cell(v, q)));
                } else {
                    let shown = shown_labels(row);
                    for label in &labels {
                        let value = shown.contains(label).then(|| value_of(label)).flatten();
                        cells.push(value.map_or(Cell::label(""), |v| cell(v, q)));
                    }
                    let total = if row.labelled { table.total() } else { value_of("all") };
                    cells.push(total.map_or(Cell::label(""), |v| cell(v, q)));
                }
            }
            None => {
                let blanks = if single { 1 } else { labels.len() + 1 };
                cells.extend((0..blanks).map(|_| Cell::label("")));
            }
        }
        cells.push(Cell::label(row.status.clone()));
        out.push(cells);
    }
    Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: period_label.to_string(),
        columns,
        rows: out,
        chart: Chart::None,
        notes: Vec::new(),
    }
}

/// A combine's table: one row per code, each source's value, the total, rate and rank.
pub fn combined_table(
    id: &str,
    title: &str,
    period_label: &str,
    combined: &CombinedTable,
    sources: &[usize],
    chart: Chart,
) -> Table {
    let mut columns = vec![column(heading(&combined.on), ColumnKind::Label)];
    if combined.has_names {
        columns.push(column("name", ColumnKind::Label));
    }
    for s in &combined.sources {
        columns.push(column(format!("{} ({})", s.provenance.node, s.dataset), ColumnKind::Count));
    }
    columns.push(column("combined", ColumnKind::Count));
    if let Some(per) = combined.rate_per {
        columns.push(column("population", ColumnKind::Text));
        columns.push(column(format!("rate per {per}"), ColumnKind::Rate));
    }
    if combined.ranked {
        columns.push(column("rank", ColumnKind::Rank));
    }
    let mut rows = Vec::new();
    for row in &combined.rows {
        let mut cells = vec![Cell::label(row.code.clone())];
        if combined.has_names {
            cells.push(Cell::label(row.name.clone().unwrap_or_default()));
        }
        for (value, &q) in row.values.iter().zip(sources) {
            cells.push(value.map_or(Cell::label(""), |v| cell(v, q)));
        }
        let all = sources.to_vec();
        cells.push(match row.combined {
            Combined::Count(n) => Cell::of(Value::Count(n), all.clone()),
            Combined::Suppressed => Cell::of(Value::Suppressed, all.clone()),
            Combined::Incomplete => Cell::label(""),
        });
        if combined.rate_per.is_some() {
            cells.push(Cell::label(row.population.map(|p| p.to_string()).unwrap_or_default()));
            cells.push(match (row.rate, row.combined) {
                (Some(r), _) => Cell::of(Value::Rate(r), all.clone()),
                (None, Combined::Suppressed) => Cell::of(Value::Suppressed, all.clone()),
                _ => Cell::label(""),
            });
        }
        if combined.ranked {
            cells.push(row.rank.map_or(Cell::label(""), |r| Cell::of(Value::Rank(r), all)));
        }
        rows.push(cells);
    }
    Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: period_label.to_string(),
        columns,
        rows,
        chart,
        notes: vec![
            "Combined from already-protected tables (post-processing: nothing new is released). \
             A total with a suppressed part is suppressed, and so are its rate and rank."
                .into(),
        ],
    }
}

/// The matcher as a short label: `key-passes`, or `calibrated v1` without the model's digest.
fn short_matcher(matcher: &str) -> String {
    matcher.split(" sha256:").next().unwrap_or(matcher).to_string()
}

/// Linkage quality of every linked count: the links each key pass made (one row per query and
/// pass), and for partners that link with a calibrated model its expected true and missed links
/// and the recall they imply (one row per query), as released: noised and protected like the
/// tables.
pub fn linkage_tables(rows: &[(String, &LinkedRelease, usize)]) -> Vec<Table> {
    let mut passes = Vec::new();
    let mut model = Vec::new();
    for (name, release, q) in rows {
        for (pass, links) in &release.quality {
            passes.push(vec![
                Cell::label(name.clone()),
                Cell::label(short_matcher(&release.matcher)),
                Cell::label(pass.clone()),
                cell(*links, *q),
            ]);
        }
        if let Some((found, missed)) = release.expected {
            let recall = match (found, missed) {
                (Released::Count(t), Released::Count(m)) if t + m > 0 => {
                    Cell::of(Value::Rate(100.0 * t as f64 / (t + m) as f64), vec![*q])
                }
                (Released::Count(_), Released::Count(_)) => Cell::label(""),
                _ => Cell::of(Value::Suppressed, vec![*q]),
            };
            model.push(vec![Cell::label(name.clone()), cell(found, *q), cell(missed, *q), recall]);
        }
    }
    let table =
        |id: &str, title: &str, columns: Vec<Column>, rows: Vec<Vec<Cell>>, note: &str| Table {
            id: id.to_string(),
            title: title.to_string(),
            period_label: "as each query".to_string(),
            columns,
            rows,
            chart: Chart::None,
            notes: vec![note.to_string()],
        };
    let mut out = vec![table(
        "s8_links_by_key_pass",
        "Links made by each key pass, per linked count",
        vec![
            column("query", ColumnKind::Label),
            column("matcher", ColumnKind::Text),
            column("key pass", ColumnKind::Label),
            column("links", ColumnKind::Count),
        ],
        passes,
        "key-passes: exact agreement of one key type after another, strongest first, each \
         subject linked once; calibrated: the partner's stored Fellegi-Sunter model (version \
         and digest in the manifest).",
    )];
    if !model.is_empty() {
        out.push(table(
            "s8_model_estimates",
            "The calibrated model's expected true and missed links, per linked count",
            vec![
                column("query", ColumnKind::Label),
                column("expected true links", ColumnKind::Count),
                column("expected missed links", ColumnKind::Count),
                column("estimated recall %", ColumnKind::Rate),
            ],
            model,
            "Recall is expected true links over true plus missed, from the released figures; \
             where either is suppressed so is the recall.",
        ));
    }
    out
}

/// A screening view of exact (police-only) tables of the same shape, one per period: their
/// counts summed over the periods, one row per combination of levels whose sum is at least
/// `least`, largest first. A suppressed cell (there should be none in an exact table) leaves
/// its combination out rather than being counted as anything.
pub fn screened_table(
    id: &str,
    title: &str,
    period_label: &str,
    runs: &[(&ReleasedTable, usize)],
    least: u64,
) -> Option<Table> {
    let first = runs.first()?.0;
    let mut columns: Vec<Column> =
        first.dimensions().iter().map(|d| column(heading(d.name()), ColumnKind::Label)).collect();
    columns.push(column("count", ColumnKind::Count));
    let mut sums: std::collections::BTreeMap<Vec<String>, Option<u64>> = Default::default();
    for (table, _) in runs {
        for (levels, value) in table.rows() {
            let key: Vec<String> = levels.into_iter().map(String::from).collect();
            let entry = sums.entry(key).or_insert(Some(0));
            *entry = match (*entry, value) {
                (Some(sum), Released::Count(n)) => Some(sum + n),
                _ => None,
            };
        }
    }
    let mut kept: Vec<(Vec<String>, u64)> = sums
        .into_iter()
        .filter_map(|(levels, sum)| sum.filter(|&n| n >= least).map(|n| (levels, n)))
        .collect();
    kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let from: Vec<usize> = runs.iter().map(|(_, q)| *q).collect();
    let rows = kept
        .into_iter()
        .map(|(levels, n)| {
            let mut row: Vec<Cell> = levels.into_iter().map(Cell::label).collect();
            row.push(Cell::of(Value::Count(n), from.clone()));
            row
        })
        .collect();
    Some(Table {
        id: id.to_string(),
        title: title.to_string(),
        period_label: period_label.to_string(),
        columns,
        rows,
        chart: Chart::None,
        notes: vec![format!(
            "Exact counts of police records (police only). Only combinations of {least} or more \
             over the periods shown are listed."
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::tests::{c, dim, n, provenance, wire};

    fn table(
        dims: Vec<fedlink_proto::pb::TableDimension>,
        cells: Vec<fedlink_proto::pb::ReleasedCount>,
    ) -> ReleasedTable {
        ReleasedTable::from_wire(wire("d", dims, cells), provenance("police")).expect("table")
    }

    fn values(t: &Table) -> Vec<Vec<String>> {
        t.rows.iter().map(|r| r.iter().map(|c| c.value.text()).collect()).collect()
    }

    #[test]
    fn a_change_is_unknown_when_either_period_is_suppressed() {
        let now = table(vec![dim("sex", &["F", "M"])], vec![n(20), c()]);
        let before = table(vec![dim("sex", &["F", "M"])], vec![n(15), n(10)]);
        let t = change_table("x_change", "X", ("2025/26", &now, 0), ("2024/25", &before, 1))
            .expect("one dimension");
        assert_eq!(values(&t), [["F", "20", "15", "+5"], ["M", "[c]", "10", "[c]"]]);
        assert_eq!(t.rows[0][3].from, [0, 1], "a change comes from both queries");
    }

    #[test]
    fn a_labelled_cohort_shows_its_classes_and_an_unlabelled_one_shows_all() {
        let dims = || {
            vec![dim("cohort_label", &["all", "suspect", "victim"]), dim("partner_label", &["all"])]
        };
        let labelled = table(dims(), vec![c(), n(20), n(95)]);
        let unlabelled = table(dims(), vec![n(40), n(0), c()]);
        let rows = [
            LinkRow {
                label: "by role".into(),
                release: Some((&labelled, 0)),
                labelled: true,
                status: "ok".into(),
            },
            LinkRow {
                label: "all".into(),
                release: Some((&unlabelled, 1)),
                labelled: false,
                status: "ok".into(),
            },
            LinkRow {
                label: "refused".into(),
                release: None,
                labelled: false,
                status: "REFUSED".into(),
            },
        ];
        let t = link_group_table("g", "G", "2025/26", &rows);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["question", "suspect", "victim", "all", "Total", "status"]);
        let v = values(&t);
        assert_eq!(v[0][1..3], ["20", "95"], "the labelled row's classes");
        assert_eq!(v[0][3], "", "the labelled row has no class all");
        assert_eq!(v[1][3], "40", "the unlabelled row's one class");
        assert_eq!(v[1][4], "40", "its total is its class all");
        assert_eq!(v[2][5], "REFUSED");
    }

    #[test]
    fn screening_sums_exact_periods_and_keeps_combinations_over_the_threshold() {
        let dims = || vec![dim("lsoa", &["E1", "E2", "E3"])];
        let now = table(dims(), vec![n(1), n(3), n(0)]);
        let before = table(dims(), vec![n(1), n(0), n(1)]);
        let t = screened_table("s", "S", "two years", &[(&now, 4), (&before, 5)], 2).expect("t");
        assert_eq!(values(&t), [["E2", "3"], ["E1", "2"]], "largest first; E3 (1) left out");
        assert_eq!(t.rows[0][1].from, [4, 5]);
        let suppressed = table(dims(), vec![c(), n(5), n(0)]);
        let t = screened_table("s", "S", "p", &[(&suppressed, 0), (&before, 1)], 2).expect("t");
        assert_eq!(values(&t), [["E2", "5"]], "a suppressed part is never counted as anything");
    }
}
