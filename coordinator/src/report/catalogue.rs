//! The report catalogue: a TOML file naming, section by section, the queries of the analytical
//! report (aggregate and linked) with their parameters, the tables combined from them, and
//! what the report says where no node holds the data. Periods are named relative to the
//! report's (`current`, `previous`, `pooled:3`, `lookback:24m`; [`super::period`]) so one
//! catalogue serves every period. Reading it checks everything that does not depend on the
//! period, and refuses each mistake naming the section, the item and the key.
//!
//! ```toml
//! title = "Homicide prevention analytical report"
//! organisation = "Demo County Police"
//! purpose = "HMICFRS-R2-DEATH-ANALYSIS"     # default purpose code of every query
//! population = "county/public/ward_population.csv"  # for rates; relative to this file
//! notes = ["Shown in the header."]
//!
//! [[section]]
//! id = "deaths"
//! title = "Death reports overview"
//! analyses = ["D1"]                         # domain.md §6.2 references
//! summary = "What the section shows."
//!
//! [[section.item]]
//! id = "d1_category_location"               # names the CSV file; unique in the catalogue
//! kind = "aggregate"                        # aggregate | link | combine | note | unavailable
//!                                           # | linkage_quality
//! title = "Death reports by category and location type"
//! node = "police"
//! dataset = "death_reports"
//! template = "death-reports-by-category-location"  # or filter/group_by/metric/period
//! template_period = "current"               # default current
//! compare = "previous"                      # also run for this period; show the change
//! chart = "stacked"                         # none | bar | stacked | line | ranked | upset
//!
//! [[section.item]]
//! id = "h2_victims_ed"
//! kind = "link"
//! title = "Homicide victims with an ED assault attendance in the 12 months before"
//! group = "h2_prior_contact"                # items of one group make one table, a row each
//! query = { kind = "count", unit = "person", key_types = ["name_dob"], window = "12m-before",
//!           side = [{ member = "police", dataset = "homicide_index", role = "cohort",
//!                     period = "pooled:3" }, { member = "icb", dataset = "ecds" }] }
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::period::PeriodRef;

/// A catalogue, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of its bytes, hex: which catalogue made a report.
    pub sha256: String,
    /// The report's title.
    pub title: String,
    /// The organisation producing it (default: the coordinator's requester organisation).
    pub organisation: Option<String>,
    /// The purpose code every query states unless an item says otherwise.
    pub purpose: Option<String>,
    /// The public population file for rates (resolved against the catalogue's folder).
    pub population: Option<PathBuf>,
    /// Notes for the header.
    pub notes: Vec<String>,
    /// The version of the code lists, for the header.
    pub code_lists: Option<String>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// One section of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Its id (letters, digits, `_`, `-`).
    pub id: String,
    /// Its heading.
    pub title: String,
    /// The analyses it answers (domain.md §6.2: D1, H2, S6, …).
    pub analyses: Vec<String>,
    /// A paragraph under the heading.
    pub summary: Option<String>,
    /// Its items, in order.
    pub items: Vec<Item>,
}

/// One item of a section.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its id, unique in the catalogue; it names the item's CSV file.
    pub id: String,
    /// Its heading.
    pub title: Option<String>,
    /// Shown under its table.
    pub note: Option<String>,
    /// What it is.
    pub body: ItemBody,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemBody {
    /// An aggregate query to one node.
    Aggregate(AggregateItem),
    /// A linked query across nodes.
    Link(LinkItem),
    /// Aggregate items' tables joined on a public code, with rates and ranks.
    Combine(CombineItem),
    /// Text only.
    Note {
        /// The text.
        text: String,
    },
    /// Something the report cannot compute from what the nodes hold, and why.
    Unavailable {
        /// Why.
        reason: String,
    },
    /// The linkage-quality figures of every linked item of the report, in one table.
    LinkageQuality,
}

/// An aggregate item.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateItem {
    /// The node.
    pub node: String,
    /// A purpose code instead of the catalogue's.
    pub purpose: Option<String>,
    /// The dataset.
    pub dataset: String,
    /// A published template, or the shaped query's terms.
    pub shape: AggregateShape,
    /// Also run for this period, and show the change.
    pub compare: Option<PeriodRef>,
    /// Also run for the `n` periods before (a month-by-month trend across them).
    pub history: u32,
    /// The chart drawn from its table.
    pub chart: Chart,
    /// Whether it is police-only detail: it goes to the restricted annex, not the body.
    pub restricted: bool,
    /// For a restricted screening table: keep only cells of at least this count, one row each.
    pub keep_at_least: Option<u64>,
}

/// A template, or a shaped query.
#[derive(Debug, Clone, PartialEq)]
pub enum AggregateShape {
    /// A published template of the node's policy, run for a named period.
    Template {
        /// Its name.
        name: String,
        /// Which period.
        period: PeriodRef,
    },
    /// A query the analyst shaped (the node adds DP noise and charges the budget).
    Shaped {
        /// Filters, as in query files.
        filter: Vec<String>,
        /// Groupings.
        group_by: Vec<String>,
        /// The metric (`rows` by default).
        metric: Option<String>,
        /// The event dates.
        period: PeriodRef,
    },
}

/// A linked item: the linked-query file's keys, inline; a side's `period` may name a period
/// relative to the report's.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkItem {
    /// The linked query as written (checked by [`crate::link::query::LinkQuery`] once the
    /// periods are resolved).
    pub query: toml::Table,
    /// A purpose code instead of the catalogue's (the query's own `purpose` wins).
    pub purpose: Option<String>,
    /// Items of one group make one table, a row each.
    pub group: Option<String>,
    /// The row's label in its group's table (default: the title).
    pub row: Option<String>,
    /// The chart drawn from its table.
    pub chart: Chart,
    /// Person-level results (flag-back) go only to the restricted annex.
    pub restricted: bool,
}

/// A combine item.
#[derive(Debug, Clone, PartialEq)]
pub struct CombineItem {
    /// The aggregate items combined (their current-period tables).
    pub items: Vec<String>,
    /// The shared public code, e.g. `ward`.
    pub on: String,
    /// Rates per this many residents (needs the catalogue's population file).
    pub rate_per: Option<u64>,
    /// Rank by rate.
    pub rank: bool,
    /// The chart.
    pub chart: Chart,
}

/// The chart drawn from an item's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// No chart.
    None,
    /// Bars, one per row.
    Bar,
    /// Stacked bars of a two-way table.
    Stacked,
    /// Lines over months.
    Line,
    /// A ranked bar list (a combine's rates).
    Ranked,
    /// An UpSet-style chart of an overlap matrix.
    Upset,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file cannot be read.
    #[error("cannot read catalogue {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not TOML of the expected shape (the parser names the key, line and column).
    #[error("{path}: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        problem: String,
    },
    /// A key is wrong: where (section, item) and what.
    #[error("{path}: {place}`{key}`: {problem}")]
    Key {
        /// The file.
        path: PathBuf,
        /// `section "x", item "y": ` or empty for a top-level key.
        place: String,
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    title: String,
    organisation: Option<String>,
    purpose: Option<String>,
    population: Option<PathBuf>,
    #[serde(default)]
    notes: Vec<String>,
    code_lists: Option<String>,
    #[serde(default)]
    section: Vec<RawSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: String,
    title: String,
    #[serde(default)]
    analyses: Vec<String>,
    summary: Option<String>,
    #[serde(default)]
    item: Vec<item::RawItem>,
}

/// Whether `id` can name a section or a CSV file: letters, digits, `_` and `-`, starting with a
/// letter or digit.
pub(super) fn id_problem(id: &str) -> Option<String> {
    let ok = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        format!(
            "{id:?}: use letters, digits, _ and -, starting with a letter or digit (it names files)"
        )
    })
}

impl Catalogue {
    /// Reads and checks a catalogue file.
    pub fn load(path: &Path) -> Result<Self, CatalogueError> {
        let bytes = std::fs::read(path)
            .map_err(|source| CatalogueError::Read { path: path.to_path_buf(), source })?;
        let text = String::from_utf8(bytes).map_err(|_| CatalogueError::Parse {
            path: path.to_path_buf(),
            problem: "not UTF-8 text".into(),
        })?;
        Self::from_toml(&text, path)
    }

    /// Reads and checks a catalogue's text; `path` names it in errors, and relative paths in
    /// it start from its folder.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, CatalogueError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| CatalogueError::Parse {
            path: path.to_path_buf(),
            problem: e.to_string().trim_end().replace('\n', " "),
        })?;
        let top = |key: &str, problem: String| CatalogueError::Key {
            path: path.to_path_buf(),
            place: String::new(),
            key: key.to_string(),
            problem,
        };
        if raw.title.trim().is_empty() {
            return Err(top("title", "empty".into()));
        }
        if raw.section.is_empty() {
            return Err(top("section", "no [[section]] entries".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut section_ids = BTreeSet::new();
        let mut item_ids = BTreeSet::new();
        let mut sections = Vec::new();
        for (s, raw_section) in raw.section.into_iter().enumerate() {
            let place = format!("section {:?}: ", raw_section.id);
            let fail = |key: &str, problem: String| CatalogueError::Key {
                path: path.to_path_buf(),
                place: place.clone(),
                key: key.to_string(),
                problem,
            };
            if let Some(p) = id_problem(&raw_section.id) {
                return Err(CatalogueError::Key {
                    path: path.to_path_buf(),
                    place: format!("section #{}: ", s + 1),
                    key: "id".into(),
                    problem: p,
                });
            }
            if !section_ids.insert(raw_section.id.clone()) {
                return Err(fail("id", "a second section with this id".into()));
            }
            if raw_section.title.trim().is_empty() {
                return Err(fail("title", "empty".into()));
            }
            let mut items = Vec::new();
            for raw_item in raw_section.item {
                let item = item::item(raw_item, &raw_section.id, path, &mut item_ids)?;
                items.push(item);
            }
            sections.push(Section {
                id: raw_section.id,
                title: raw_section.title,
                analyses: raw_section.analyses,
                summary: raw_section.summary,
                items,
            });
        }
        // Combines name aggregate items anywhere in the catalogue; check they exist.
        let aggregates: BTreeSet<&str> = sections
            .iter()
            .flat_map(|s| &s.items)
            .filter(|i| matches!(i.body, ItemBody::Aggregate(_)))
            .map(|i| i.id.as_str())
            .collect();
        for section in &sections {
            for item in &section.items {
                if let ItemBody::Combine(c) = &item.body {
                    for name in &c.items {
                        if !aggregates.contains(name.as_str()) {
                            return Err(CatalogueError::Key {
                                path: path.to_path_buf(),
                                place: format!("section {:?}, item {:?}: ", section.id, item.id),
                                key: "items".into(),
                                problem: format!("{name:?} is not an aggregate item"),
                            });
                        }
                    }
                    if c.rate_per.is_some() && raw.population.is_none() {
                        return Err(CatalogueError::Key {
                            path: path.to_path_buf(),
                            place: format!("section {:?}, item {:?}: ", section.id, item.id),
                            key: "rate_per".into(),
                            problem: "rates need the catalogue's `population` file".into(),
                        });
                    }
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            sha256: hex_sha256(text.as_bytes()),
            title: raw.title,
            organisation: raw.organisation,
            purpose: raw.purpose,
            population: raw.population.map(|p| base.join(p)),
            notes: raw.notes,
            code_lists: raw.code_lists,
            sections,
        })
    }

    /// Every item, with its section.
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections.iter().flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().map(|(_, i)| i).find(|i| i.id == id)
    }
}

/// SHA-256 of `bytes`, hex.
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    fedlink_proto::envelope::sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

mod item;

#[cfg(test)]
mod tests;
