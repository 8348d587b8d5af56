//! Scoring a linkage result against the truth bundle — for development only.
//!
//! A linkage run (probabilistic matching, a new blocking rule, a tuned threshold …) produces
//! pairs of records it believes are the same person. Whether it is any good can only be known
//! where the answers are known: here, from `truth/record_map.csv`, which maps every record to
//! its true `person_id`. This module reads the county folder directly and never goes through
//! the nodes: the truth bundle is never given to a node, and scoring must not depend on the
//! system under test.
//!
//! # Input
//!
//! A CSV of predicted links with the header
//! `left_node,left_dataset,left_record_id,right_node,right_dataset,right_record_id`, one row per
//! link, record ids as in the extracts (the values of each dataset's `record_id` column).
//! Duplicate rows count once; a row naming the same pair of datasets the other way round is
//! turned round. Every dataset must exist in the county and every record id must be in its
//! extract, or evaluation fails with an error naming the line.
//!
//! # What counts
//!
//! Only the dataset pairs that appear in the file are scored, each on its own. Two records
//! are a true pair when `record_map.csv` gives both the same `person_id` (records without a
//! person — gazetteer rows — are never in a true pair). Two levels:
//!
//! - **person** (record pairs): `actual` is the number of distinct (left record, right record)
//!   true pairs between the two datasets; `predicted` the distinct pairs in the file;
//!   `correct` those of them that are true.
//! - **subject** (did each left record find its person): links are reduced to distinct
//!   (left record, right person); `actual` is the number of left records whose person has at
//!   least one record on the right. A link to any of that person's records finds them, so a
//!   linker that finds one of a person's five ED attendances scores as well as one that
//!   finds all five. A right record without a person stands for itself.
//!
//! Each level is broken down by planted scenario (a pair counts for a scenario when either
//! record's person is a member of it per `scenario_member.csv`, so a pair may count for
//! several; `none` holds the pairs that count for no scenario), and by whether the left record
//! had an NHS number and a date of birth (the extract's columns with roles `nhs_number` and
//! `dob` in its schema; a breakdown is left out when the left dataset has no such column).
//! Rows other than `all` are shown only when something was predicted or expected in them.
//!
//! Precision is `correct / predicted`, recall `correct / actual`, F1
//! `2 × correct / (predicted + actual)`; each is absent (`-` in the table, empty in CSV) when
//! its denominator is zero.

mod load;
mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use fedlink_node::dataset::schema::SchemaError;

use load::{Link, Record, Side};
pub use render::{to_csv, to_table};

/// The links file's header.
pub const LINKS_HEADER: [&str; 6] = [
    "left_node",
    "left_dataset",
    "left_record_id",
    "right_node",
    "right_dataset",
    "right_record_id",
];

/// Why evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV file is malformed.
    #[error("cannot read {path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// A dataset schema does not parse.
    #[error("{path}: {source}")]
    Schema {
        /// The schema file.
        path: PathBuf,
        /// The cause.
        source: SchemaError,
    },
    /// The links file's header is not [`LINKS_HEADER`].
    #[error("{path}: header must be {expected:?}, found {found:?}", expected = LINKS_HEADER.join(","))]
    LinksHeader {
        /// The links file.
        path: PathBuf,
        /// The header found.
        found: String,
    },
    /// The links file has no links.
    #[error("{0}: no links to evaluate")]
    NoLinks(PathBuf),
    /// A link names a dataset the county does not have.
    #[error("links line {line}: no dataset {node}/{dataset} in the county (no {schema})")]
    UnknownDataset {
        /// Line in the links file.
        line: u64,
        /// Node.
        node: String,
        /// Dataset.
        dataset: String,
        /// The schema file looked for.
        schema: PathBuf,
    },
    /// A link names a record id that is not in the dataset's extract.
    #[error("links line {line}: record {record_id:?} is not in {node}/{dataset}'s extract")]
    UnknownRecord {
        /// Line in the links file.
        line: u64,
        /// Node.
        node: String,
        /// Dataset.
        dataset: String,
        /// The record id.
        record_id: String,
    },
    /// A link joins a dataset to itself (deduplication is not evaluated here).
    #[error(
        "links line {line}: both sides are {node}/{dataset}; only links between two datasets are evaluated"
    )]
    SameDataset {
        /// Line in the links file.
        line: u64,
        /// Node.
        node: String,
        /// Dataset.
        dataset: String,
    },
    /// The truth bundle or an extract is not as the generator writes it.
    #[error("{path}: {message}")]
    Truth {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Counts and scores for one group of pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Distinct predicted pairs.
    pub predicted: u64,
    /// Predicted pairs that are true.
    pub correct: u64,
    /// True pairs (what should have been found).
    pub actual: u64,
    /// `correct / predicted`, if anything was predicted.
    pub precision: Option<f64>,
    /// `correct / actual`, if anything was to be found.
    pub recall: Option<f64>,
    /// `2 × correct / (predicted + actual)`, if either is non-zero.
    pub f1: Option<f64>,
}

impl Evaluation {
    /// Scores from counts.
    pub fn new(predicted: u64, correct: u64, actual: u64) -> Evaluation {
        let ratio = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
        Evaluation {
            predicted,
            correct,
            actual,
            precision: ratio(correct, predicted),
            recall: ratio(correct, actual),
            f1: ratio(2 * correct, predicted + actual),
        }
    }
}

/// Record pairs or (record, person) pairs; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Distinct (left record, right record) pairs.
    Person,
    /// Distinct (left record, right person) pairs.
    Subject,
}

impl Level {
    /// The level's name in output.
    pub fn name(self) -> &'static str {
        match self {
            Level::Person => "person",
            Level::Subject => "subject",
        }
    }
}

/// A group of pairs in the breakdown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Every pair.
    All,
    /// Pairs where either record's person is a member of this planted scenario.
    Scenario(String),
    /// Pairs that count for no planted scenario.
    NoScenario,
    /// Pairs whose left record had (true) or lacked (false) an NHS number.
    NhsNumber(bool),
    /// Pairs whose left record had (true) or lacked (false) a date of birth.
    Dob(bool),
}

impl Group {
    /// The breakdown this group belongs to.
    pub fn breakdown(&self) -> &'static str {
        match self {
            Group::All => "all",
            Group::Scenario(_) | Group::NoScenario => "scenario",
            Group::NhsNumber(_) => "left_nhs_number",
            Group::Dob(_) => "left_dob",
        }
    }

    /// The group's name within its breakdown.
    pub fn value(&self) -> &str {
        let present = |p: bool| if p { "present" } else { "absent" };
        match self {
            Group::All => "all",
            Group::Scenario(id) => id,
            Group::NoScenario => "none",
            Group::NhsNumber(p) | Group::Dob(p) => present(*p),
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Left dataset, `node/dataset`.
    pub left: String,
    /// Right dataset, `node/dataset`.
    pub right: String,
    /// Level.
    pub level: Level,
    /// Group.
    pub group: Group,
    /// Counts and scores.
    pub evaluation: Evaluation,
}

/// Every dataset pair's evaluation, each pair's rows in order: person level, then subject;
/// within a level `all`, scenarios, `none`, NHS number, date of birth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The rows.
    pub rows: Vec<Row>,
}

impl Report {
    /// The first row (of any dataset pair) for this level and group.
    pub fn get(&self, level: Level, group: &Group) -> Option<&Evaluation> {
        self.rows.iter().find(|r| r.level == level && &r.group == group).map(|r| &r.evaluation)
    }
}

/// Scores the links in `links` against the truth bundle of the county in `county`.
pub fn evaluate(county: &Path, links: &Path) -> Result<Report, EvaluateError> {
    let loaded = load::links(county, links)?;
    let scenarios = load::scenario_persons(county)?;
    let mut rows = Vec::new();
    for (left, right, links) in &loaded.pairs {
        if let (Some(left), Some(right)) = (loaded.sides.get(left), loaded.sides.get(right)) {
            rows.extend(score(left, right, links, &scenarios));
        }
    }
    Ok(Report { rows })
}

/// Predicted, correct, actual.
type Tally = BTreeMap<(Level, Group), [u64; 3]>;

/// The groups a pair counts in: `all`, its scenarios (or `none`), the left record's identifiers.
fn groups(
    left: &Record,
    persons: [Option<u64>; 2],
    scenarios: &HashMap<u64, Vec<String>>,
) -> Vec<Group> {
    let mut out = vec![Group::All];
    let ids: BTreeSet<&String> =
        persons.iter().flatten().filter_map(|p| scenarios.get(p)).flatten().collect();
    if ids.is_empty() {
        out.push(Group::NoScenario);
    }
    out.extend(ids.into_iter().map(|id| Group::Scenario(id.clone())));
    out.extend(left.nhs.map(Group::NhsNumber));
    out.extend(left.dob.map(Group::Dob));
    out
}

fn add(tally: &mut Tally, level: Level, groups: &[Group], column: usize, n: u64) {
    for g in groups {
        tally.entry((level, g.clone())).or_default()[column] += n;
    }
}

/// Scores one dataset pair.
fn score(
    left: &Side,
    right: &Side,
    links: &BTreeSet<Link>,
    scenarios: &HashMap<u64, Vec<String>>,
) -> Vec<Row> {
    let mut tally = Tally::new();
    for l in [Level::Person, Level::Subject] {
        tally.insert((l, Group::All), [0; 3]);
    }
    // What should have been found.
    let mut right_per_person: HashMap<u64, u64> = HashMap::new();
    for r in right.records.values() {
        if let Some(p) = r.person {
            *right_per_person.entry(p).or_default() += 1;
        }
    }
    for l in left.records.values() {
        let Some(p) = l.person else { continue };
        let Some(&n) = right_per_person.get(&p) else { continue };
        let g = groups(l, [Some(p), None], scenarios);
        add(&mut tally, Level::Person, &g, 2, n);
        add(&mut tally, Level::Subject, &g, 2, 1);
    }
    // What was predicted: record pairs, and (left record, right person or record) pairs.
    let mut subjects: BTreeSet<(&str, Result<u64, &str>)> = BTreeSet::new();
    for (l_id, r_id) in links {
        let (Some(l), Some(r)) = (left.records.get(l_id), right.records.get(r_id)) else {
            continue; // checked when loading
        };
        let g = groups(l, [l.person, r.person], scenarios);
        add(&mut tally, Level::Person, &g, 0, 1);
        if l.person.is_some() && l.person == r.person {
            add(&mut tally, Level::Person, &g, 1, 1);
        }
        if subjects.insert((l_id.as_str(), r.person.ok_or(r_id.as_str()))) {
            add(&mut tally, Level::Subject, &g, 0, 1);
            if l.person.is_some() && l.person == r.person {
                add(&mut tally, Level::Subject, &g, 1, 1);
            }
        }
    }
    tally
        .into_iter()
        .filter(|((_, g), c)| *g == Group::All || c[0] > 0 || c[2] > 0)
        .map(|((level, group), [p, c, a])| Row {
            left: left.name.clone(),
            right: right.name.clone(),
            level,
            group,
            evaluation: Evaluation::new(p, c, a),
        })
        .collect()
}
