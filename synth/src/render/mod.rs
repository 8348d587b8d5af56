//! Rendering: each agency's extract written from the true world, with its own field names,
//! codes, coverage and errors, plus the truth rows (record → person/address/event, scenario
//! membership) for every record written. One row is one record about one subject; person
//! identifiers are flattened into each event row, as agencies' extracts do.
//!
//! | node | datasets |
//! |---|---|
//! | `police` | `death_reports`, `death_report_persons`, `death_category_history`, `crimes`, `da_incidents`, `homicide_index`, `nominals` |
//! | `icb` | `ecds`, `apc` |
//! | `council-east`, `council-west` | `cin_referrals`, `adult_safeguarding`, `homelessness`, `school_exclusions`, `llpg` |
//!
//! # Layout
//!
//! - [`columns`]: building dataset schemas column by column.
//! - [`police`]: death reports, linked persons, category history, homicide index, nominals.
//! - [`police_crime`]: crimes and DA incidents.
//! - [`nhs`]: ECDS attendances and APC admissions.
//! - [`council`]: CIN referrals, adult safeguarding, homelessness, exclusions, gazetteer.

pub mod columns;
pub mod council;
pub mod nhs;
pub mod police;
pub mod police_crime;

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::SynthError;
use crate::events::Tag;
use crate::write::{DatasetWriter, csv_writer};

/// A scenario member record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// Scenario index.
    pub scenario: u16,
    /// Node (member name).
    pub node: &'static str,
    /// Dataset.
    pub dataset: &'static str,
    /// Record id.
    pub record_id: String,
    /// Role in the scenario.
    pub role: &'static str,
    /// The person the record is about.
    pub person: Option<u32>,
}

/// The truth rows one rendering thread writes: its part of `record_map.csv` and the scenario
/// members it met.
pub struct Truth {
    map: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    /// Scenario members.
    pub members: Vec<Member>,
    buf: String,
}

impl std::fmt::Debug for Truth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Truth").field("path", &self.path).finish()
    }
}

impl Truth {
    /// A truth part file at `path` (no header: parts are concatenated under one).
    pub fn new(path: &Path) -> Result<Truth, SynthError> {
        Ok(Truth {
            map: csv_writer(path)?,
            path: path.to_path_buf(),
            members: Vec::new(),
            buf: String::new(),
        })
    }

    /// One record_map row: node, dataset, record id, person, address, event.
    pub fn record(
        &mut self,
        node: &str,
        dataset: &str,
        record_id: &str,
        person: Option<u32>,
        address: Option<u32>,
        event: Option<u32>,
    ) -> Result<(), SynthError> {
        use std::fmt::Write as _;
        // One buffer holds the three numbers; the slices point into it.
        self.buf.clear();
        let mut ends = [0usize; 3];
        for (i, v) in [person, address, event].into_iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(self.buf, "{v}");
            }
            ends[i] = self.buf.len();
        }
        let (a, b, c) =
            (&self.buf[..ends[0]], &self.buf[ends[0]..ends[1]], &self.buf[ends[1]..ends[2]]);
        self.map
            .write_record([node, dataset, record_id, a, b, c])
            .map_err(|source| SynthError::Csv { path: self.path.clone(), source })
    }

    /// Notes a scenario member if the record has a tag.
    pub fn member(
        &mut self,
        tag: Option<Tag>,
        node: &'static str,
        dataset: &'static str,
        record_id: &str,
        person: Option<u32>,
    ) {
        if let Some(t) = tag {
            self.members.push(Member {
                scenario: t.scenario,
                node,
                dataset,
                record_id: record_id.to_string(),
                role: t.role,
                person,
            });
        }
    }

    /// Flushes the part file.
    pub fn finish(mut self) -> Result<Vec<Member>, SynthError> {
        self.map.flush().map_err(|e| SynthError::io(&self.path, e))?;
        Ok(self.members)
    }
}

/// Rows written per dataset, for the summary.
pub type Counts = Vec<(&'static str, &'static str, u64)>;

/// Local identifiers an agency gives people (nominal ids, MRNs, LAchildIDs): one per person
/// and registration (see `View::registration`), handed out in order of first appearance.
#[derive(Debug, Default)]
pub struct LocalIds {
    ids: HashMap<(u32, u32), u32>,
    next: u32,
}

impl LocalIds {
    /// Ids counting up from `start`.
    pub fn starting_at(start: u32) -> LocalIds {
        LocalIds { ids: HashMap::new(), next: start }
    }

    /// The id of a person's registration.
    pub fn of(&mut self, person: u32, registration: u32) -> u32 {
        self.register(person, registration).0
    }

    /// The id of a person's registration, and whether it was created now.
    pub fn register(&mut self, person: u32, registration: u32) -> (u32, bool) {
        let next = &mut self.next;
        let mut new = false;
        let id = *self.ids.entry((person, registration)).or_insert_with(|| {
            *next += 1;
            new = true;
            *next
        });
        (id, new)
    }
}

/// A node's datasets as written.
#[derive(Debug)]
pub struct NodeOut {
    /// The node's folder.
    pub dir: PathBuf,
    /// Member name.
    pub node: &'static str,
    /// (dataset, rows).
    pub datasets: Vec<(&'static str, u64)>,
}

impl NodeOut {
    /// A node folder under `out`.
    pub fn new(out: &Path, node: &'static str) -> NodeOut {
        NodeOut { dir: out.join(node), node, datasets: Vec::new() }
    }

    /// Finishes a dataset.
    pub fn done(&mut self, w: DatasetWriter) -> Result<(), SynthError> {
        let name = w.name;
        let rows = w.finish()?;
        self.datasets.push((name, rows));
        Ok(())
    }

    /// Writes the node config fragment and returns the counts.
    pub fn finish(self) -> Result<Counts, SynthError> {
        let names: Vec<&str> = self.datasets.iter().map(|(d, _)| *d).collect();
        crate::write::node_fragment(&self.dir, &names)?;
        Ok(self.datasets.iter().map(|(d, r)| (self.node, *d, *r)).collect())
    }
}
