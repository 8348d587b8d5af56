//! The report as data: sections of tables, charts and notes, each number carrying the queries
//! it came from, and every query with its node(s), receipts and disclosure rules. Renderers
//! (HTML, CSV, the manifest) read only this; nothing here holds a value a node did not
//! release, and a suppressed value is [`Value::Suppressed`], never a number.

use serde::Serialize;

use super::catalogue::Chart;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Its title.
    pub title: String,
    /// Who produced it.
    pub organisation: String,
    /// The period, `FROM..TO`.
    pub period: String,
    /// The period's name (`2025/26`), when it has one.
    pub period_label: Option<String>,
    /// The previous period, as the comparisons name it.
    pub previous_label: String,
    /// When it was produced (UTC, ISO 8601).
    pub generated_at: String,
    /// The coordinator (federation member) that ran it, and for whom.
    pub coordinator: String,
    /// The analyst on whose behalf the queries were issued.
    pub requester: String,
    /// The catalogue that defined it.
    pub catalogue: CatalogueRef,
    /// Each partner node: what it holds, or why it could not be asked.
    pub partners: Vec<Partner>,
    /// The disclosure rules the nodes applied, once per distinct rule set.
    pub disclosure: Vec<DisclosureRule>,
    /// Notes for the header (from the catalogue).
    pub notes: Vec<String>,
    /// The code lists' version (from the catalogue).
    pub code_lists: Option<String>,
    /// The sections.
    pub sections: Vec<SectionOut>,
    /// Every query sent, in order (the manifest's entries).
    pub queries: Vec<QueryRecord>,
    /// Person-level and police-only results for the restricted annex (never in the body).
    #[serde(skip)]
    pub restricted: Vec<RestrictedOut>,
    /// Seconds the run took.
    pub elapsed_seconds: f64,
}

/// Which catalogue made the report.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueRef {
    /// The file.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// A partner node in the header.
#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    /// Its member name.
    pub name: String,
    /// Its organisation.
    pub organisation: String,
    /// `up`, or why it could not be asked.
    pub status: String,
    /// Whether it answered `describe`.
    pub available: bool,
    /// Its datasets, row counts and when each was last imported (its extract's date, UTC,
    /// ISO 8601; `None` if never), as it describes them.
    pub datasets: Vec<(String, u64, Option<String>)>,
    /// Its policy's id.
    pub policy: Option<String>,
    /// Its clock when it answered (UTC, ISO 8601): the data are as held then.
    pub as_at: Option<String>,
    /// The receipt of its `describe` answer.
    pub receipt: Option<ReceiptRef>,
}

/// A set of disclosure rules one node applied, and its legend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosureRule {
    /// The node.
    pub node: String,
    /// The rules, in order (`suppress<8`, `round5`, …).
    pub rules: Vec<String>,
    /// The node's readable legend.
    pub legend: String,
}

/// One section as rendered.
#[derive(Debug, Clone, Serialize)]
pub struct SectionOut {
    /// Its id.
    pub id: String,
    /// Its heading.
    pub title: String,
    /// The analyses it answers.
    pub analyses: Vec<String>,
    /// Its paragraph.
    pub summary: Option<String>,
    /// `partner X unavailable: <reason>`, once per partner that could not answer here.
    pub unavailable: Vec<String>,
    /// Its content, in order.
    pub blocks: Vec<Block>,
}

/// One piece of a section.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// A table (and its chart).
    Table(Table),
    /// A paragraph.
    Note {
        /// The text.
        text: String,
    },
    /// Something the report cannot compute, and why.
    Unavailable {
        /// What.
        title: String,
        /// Why.
        reason: String,
    },
    /// A query that gave no table: refused, down, or not trusted.
    Failed {
        /// What.
        title: String,
        /// Each cause, one line each.
        problems: Vec<String>,
    },
    /// A result that went to the restricted annex instead.
    Restricted {
        /// What.
        title: String,
        /// Where it went, and under which approval.
        note: String,
    },
}

/// A table of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Its id: the CSV file's name without `.csv`.
    pub id: String,
    /// Its heading.
    pub title: String,
    /// The period its counts cover.
    pub period_label: String,
    /// Its columns.
    pub columns: Vec<Column>,
    /// Its rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// The chart drawn from it.
    pub chart: Chart,
    /// Notes shown under it.
    pub notes: Vec<String>,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Its heading.
    pub name: String,
    /// What its cells hold.
    pub kind: ColumnKind,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Row labels (a code, a category, a question).
    Label,
    /// Released counts (or suppressed).
    Count,
    /// Rates derived from released counts.
    Rate,
    /// Differences of released counts.
    Change,
    /// Ranks by rate.
    Rank,
    /// Other text.
    Text,
}

/// One cell: its value and the queries (indices into [`Report::queries`]) it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The value.
    pub value: Value,
    /// The queries it came from; empty for labels.
    pub from: Vec<usize>,
}

impl Cell {
    /// A label.
    pub fn label(text: impl Into<String>) -> Self {
        Self { value: Value::Text(text.into()), from: Vec::new() }
    }

    /// A value from the queries `from`.
    pub fn of(value: Value, from: Vec<usize>) -> Self {
        Self { value, from }
    }
}

/// A value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// Text.
    Text(String),
    /// A released count.
    Count(u64),
    /// Withheld by a node's disclosure control: unknown, not zero.
    Suppressed,
    /// A rate.
    Rate(f64),
    /// A difference of two released counts.
    Change(i64),
    /// A rank.
    Rank(usize),
    /// Nothing (not in that source, or not applicable).
    Blank,
}

impl Value {
    /// The value as a CSV field and table cell: suppressed as `[c]`.
    pub fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Count(n) => n.to_string(),
            Value::Suppressed => SUPPRESSED.to_string(),
            Value::Rate(r) => format!("{r:.2}"),
            Value::Change(d) if *d > 0 => format!("+{d}"),
            Value::Change(d) => d.to_string(),
            Value::Rank(r) => r.to_string(),
            Value::Blank => String::new(),
        }
    }
}

/// How a suppressed value is written everywhere.
pub const SUPPRESSED: &str = "[c]";

/// One query of the report, for the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct QueryRecord {
    /// Its name: the item id, with the period for extra runs.
    pub name: String,
    /// The catalogue item.
    pub item: String,
    /// The section.
    pub section: String,
    /// `aggregate`, `linked count`, `flag-back`, `overlap`.
    pub kind: String,
    /// The period counted.
    pub period: String,
    /// The nodes asked (for a linked query, in schedule order with their roles).
    pub nodes: Vec<String>,
    /// The query's id (UUIDv7), once its envelopes were built.
    pub query_id: Option<String>,
    /// `answered`, `refused`, `down`, `not_sent`, `untrusted`, `skipped`.
    pub status: String,
    /// Why it did not answer.
    pub problems: Vec<String>,
    /// Every receipt, node by node.
    pub receipts: Vec<ReceiptRef>,
    /// The disclosure rules applied to what it released.
    pub rules: Vec<String>,
    /// The node's legend of those rules.
    pub legend: String,
    /// The DP noise added and charged, if any.
    pub privacy: Option<String>,
    /// What was asked, readably.
    pub request: String,
    /// Whether its result went to the restricted annex.
    pub restricted: bool,
    /// Seconds it took.
    pub seconds: f64,
    /// The table cells it gave: `table`, row and column (from 0, header excluded).
    pub cells: Vec<CellRef>,
}

/// A receipt, as the manifest names it: enough to find the entry in the node's log and check
/// its inclusion against a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptRef {
    /// The node whose log holds the entry.
    pub node: String,
    /// The node's role in the query.
    pub role: String,
    /// The entry's index in the node's log.
    pub leaf_index: u64,
    /// The checkpoint's size.
    pub checkpoint_size: u64,
    /// The checkpoint's root, hex.
    pub checkpoint_root: String,
    /// The entry's decision.
    pub decision: String,
}

/// A table cell a query gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellRef {
    /// The table's id.
    pub table: String,
    /// Row, from 0.
    pub row: usize,
    /// Column, from 0.
    pub column: usize,
}

/// A result for the restricted annex.
#[derive(Debug, Clone)]
pub struct RestrictedOut {
    /// The item's id (names the file).
    pub id: String,
    /// Its heading.
    pub title: String,
    /// The query's index in [`Report::queries`].
    pub query: usize,
    /// The case reference, for a flag-back.
    pub case_ref: Option<String>,
    /// The content.
    pub content: RestrictedContent,
}

/// What a restricted result holds.
#[derive(Debug, Clone)]
pub enum RestrictedContent {
    /// One flag per cohort record (record id, flag, label).
    Flags(Vec<(String, bool, Option<String>)>),
    /// A police-only table.
    Table(Table),
}

impl Report {
    /// Every table of the body, with its section.
    pub fn tables(&self) -> impl Iterator<Item = (&SectionOut, &Table)> {
        self.sections.iter().flat_map(|s| {
            s.blocks.iter().filter_map(move |b| match b {
                Block::Table(t) => Some((s, t)),
                _ => None,
            })
        })
    }

    /// Records, in each query, the body cells it gave (for the manifest).
    pub fn index_cells(&mut self) {
        let mut refs: Vec<(usize, CellRef)> = Vec::new();
        for (_, table) in self.tables() {
            for (r, row) in table.rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    for &q in &cell.from {
                        refs.push((q, CellRef { table: table.id.clone(), row: r, column: c }));
                    }
                }
            }
        }
        for query in &mut self.queries {
            query.cells.clear();
        }
        for (q, cell) in refs {
            if let Some(query) = self.queries.get_mut(q) {
                query.cells.push(cell);
            }
        }
    }
}
