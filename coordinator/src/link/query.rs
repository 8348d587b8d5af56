//! Linked-query files: one linked count, flag-back or overlap, written in TOML and checked
//! completely before anything is signed. Filters use the aggregate term syntax
//! ([`fedlink_proto::aggregate::text`]), so a side reads like an aggregate query. The file
//! also fixes the schedule: who holds the cohort, who computes, and the order of the ring.
//!
//! ```toml
//! title = "H2: homicide victims with ED assault attendances in the 12 months before"
//! kind = "count"                 # count | flag_back | overlap
//! unit = "person"                # person | address
//! key_types = ["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]
//! window = "12m-before"          # optional: a template of the computing node's catalogue
//! computing = "icb"              # optional; count/flag_back: the non-cohort side (default);
//!                                # overlap: any side (default: the last)
//! case_ref = "OP-HARBOUR-0042"   # flag_back only (or --case-ref, which wins)
//! purpose = "HMICFRS-R2-DEATH-ANALYSIS"  # optional (or --purpose, which wins)
//!
//! [[side]]
//! member = "police"
//! dataset = "death_reports"
//! role = "cohort"                # count/flag_back: exactly one side is the cohort
//! filter = ["category=homicide"] # COL=VALUE, COL=A|B|C, COL=MIN..MAX
//! period = "2025-04-01..2026-03-31"  # optional: event dates FROM..TO; with a window, the
//!                                    # cohort's period (its index dates) tells the partner
//!                                    # which months of its data can match
//! label = "category"             # optional label column; default: the single label "all"
//!
//! [[side]]
//! member = "icb"
//! dataset = "ecds"
//! filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
//! ```
//!
//! Every mistake is refused naming its key, and for a side its number (from 1, in file
//! order) and member.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fedlink_proto::aggregate::text::{parse_filter, parse_period};
use fedlink_proto::aggregate::{Filter, MAX_TERMS};
use fedlink_proto::envelope::NodeRole;
use fedlink_proto::federation::Federation;
use fedlink_proto::link::{LinkKind, LinkRequest, LinkSide, LinkUnit, MAX_KEY_TYPES, MAX_SIDES};
use serde::Deserialize;

/// A linked-query file, resolved: the typed request, its schedule and its case reference.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkQuery {
    /// A heading for the output.
    pub title: Option<String>,
    /// What is asked, as the envelopes will carry it.
    pub request: LinkRequest,
    /// Every participant with its role, in schedule order: the computing node last.
    pub schedule: Vec<(String, NodeRole)>,
    /// The case reference (flag-back only).
    pub case_ref: Option<String>,
    /// The purpose code, if the file states one (`--purpose` wins).
    pub purpose: Option<String>,
}

/// Why a linked-query file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkQueryError {
    /// The file cannot be read.
    #[error("cannot read query file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape (the parser's message names the key, the
    /// line and the column).
    #[error("{path}: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        problem: String,
    },
    /// A key's value is wrong.
    #[error("{path}: {}`{key}`: {problem}", side_prefix(side))]
    Key {
        /// The file.
        path: PathBuf,
        /// For a side's key: the side's number (from 1) and member.
        side: Option<(usize, String)>,
        /// The key, as the file (or, for `--case-ref`, the command line) spells it.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: Option<String>,
    kind: RawKind,
    unit: RawUnit,
    key_types: Vec<String>,
    window: Option<String>,
    computing: Option<String>,
    case_ref: Option<String>,
    purpose: Option<String>,
    #[serde(default)]
    side: Vec<RawSide>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Count,
    FlagBack,
    Overlap,
    Calibrate,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawUnit {
    Person,
    Address,
}

/// The only role a side states; the computing node is named by the top-level `computing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawRole {
    Cohort,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    member: String,
    dataset: String,
    role: Option<RawRole>,
    #[serde(default)]
    filter: Vec<String>,
    period: Option<String>,
    label: Option<String>,
}

impl LinkQuery {
    /// Reads and resolves a linked-query file; `case_ref_flag` is `--case-ref`, which replaces
    /// the file's `case_ref`.
    pub fn load(path: &Path, case_ref_flag: Option<String>) -> Result<Self, LinkQueryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LinkQueryError::Read { path: path.to_path_buf(), source })?;
        Self::from_toml(&text, path, case_ref_flag)
    }

    /// Resolves a linked-query file's text; `path` names it in errors.
    pub fn from_toml(
        text: &str,
        path: &Path,
        case_ref_flag: Option<String>,
    ) -> Result<Self, LinkQueryError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| LinkQueryError::Parse {
            path: path.to_path_buf(),
            problem: e.to_string().trim_end().replace('\n', " "),
        })?;
        let fail = |key: &'static str, problem: String| LinkQueryError::Key {
            path: path.to_path_buf(),
            side: None,
            key,
            problem,
        };
        let kind = match raw.kind {
            RawKind::Count => LinkKind::Count,
            RawKind::FlagBack => LinkKind::FlagBack,
            RawKind::Overlap => LinkKind::Overlap,
            RawKind::Calibrate => LinkKind::Calibrate,
        };
        let unit = match raw.unit {
            RawUnit::Person => LinkUnit::Person,
            RawUnit::Address => LinkUnit::Address,
        };
        if raw.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(fail("title", "empty; leave it out for no title".into()));
        }
        let key_types = key_types(raw.key_types).map_err(|p| fail("key_types", p))?;
        if raw.window.as_deref().is_some_and(|w| w.trim().is_empty()) {
            return Err(fail("window", "empty; leave it out for no time window".into()));
        }
        let (min, max) = match kind {
            LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate => (2, 2),
            LinkKind::Overlap => (3, MAX_SIDES),
        };
        if !(min..=max).contains(&raw.side.len()) {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(fail(
                "side",
                format!(
                    "a {} query has {want} [[side]] entries, not {}",
                    kind_name(kind),
                    raw.side.len()
                ),
            ));
        }

        let mut sides = Vec::with_capacity(raw.side.len());
        let mut cohort: Option<usize> = None;
        for (i, side) in raw.side.into_iter().enumerate() {
            let fail = |key: &'static str, problem: String| LinkQueryError::Key {
                path: path.to_path_buf(),
                side: Some((i + 1, side.member.clone())),
                key,
                problem,
            };
            if side.member.trim().is_empty() {
                return Err(fail("member", "empty: name a node of the federation".into()));
            }
            if sides.iter().any(|s: &LinkSide| s.member == side.member) {
                return Err(fail("member", "a second side of the same member".into()));
            }
            if side.dataset.trim().is_empty() {
                return Err(fail("dataset", "empty: name the member's dataset".into()));
            }
            if side.role == Some(RawRole::Cohort) {
                match (kind, cohort) {
                    (LinkKind::Overlap, _) => {
                        return Err(fail(
                            "role",
                            "an overlap query has no cohort: every side is counted alike".into(),
                        ));
                    }
                    (_, Some(first)) => {
                        return Err(fail(
                            "role",
                            format!("a second cohort (side {} is the cohort already)", first + 1),
                        ));
                    }
                    (_, None) => cohort = Some(i),
                }
            }
            let mut filters = side
                .filter
                .iter()
                .map(|f| parse_filter(f).map_err(|e| fail("filter", e.to_string())))
                .collect::<Result<Vec<Filter>, _>>()?;
            if let Some(period) = &side.period {
                let (from, to) = parse_period(period).map_err(|e| fail("period", e.to_string()))?;
                filters.push(Filter::EventDates { from, to });
            }
            if filters.len() > MAX_TERMS {
                return Err(fail("filter", format!("at most {MAX_TERMS} filters per side")));
            }
            if side.label.as_deref().is_some_and(|l| l.trim().is_empty()) {
                return Err(fail(
                    "label",
                    "empty; leave it out for the single label \"all\"".into(),
                ));
            }
            sides.push(LinkSide {
                member: side.member,
                dataset: side.dataset,
                filters,
                label_column: side.label,
            });
        }

        let members: Vec<&str> = sides.iter().map(|s| s.member.as_str()).collect();
        let schedule = match (kind, cohort) {
            (LinkKind::Overlap, _) => {
                let computing = match &raw.computing {
                    Some(c) if members.contains(&c.as_str()) => c.clone(),
                    Some(c) => {
                        return Err(fail("computing", not_a_side(c, &members)));
                    }
                    // An overlap has at least 3 sides (checked above), so there is a last.
                    None => members.last().map_or_else(String::new, |m| m.to_string()),
                };
                let mut schedule: Vec<(String, NodeRole)> = members
                    .iter()
                    .filter(|m| **m != computing)
                    .map(|m| (m.to_string(), NodeRole::Blinder))
                    .collect();
                schedule.push((computing, NodeRole::Computing));
                schedule
            }
            (_, None) => {
                return Err(fail(
                    "side",
                    format!(
                        "a {} query needs role = \"cohort\" on exactly one side",
                        kind_name(kind)
                    ),
                ));
            }
            (_, Some(c)) => {
                let cohort = members[c].to_string();
                let partner = members[1 - c].to_string();
                match &raw.computing {
                    Some(m) if *m == partner => {}
                    Some(m) if *m == cohort => {
                        return Err(fail(
                            "computing",
                            format!(
                                "{m:?} holds the cohort; the other side ({partner:?}) computes \
                                 and applies its disclosure control"
                            ),
                        ));
                    }
                    Some(m) => return Err(fail("computing", not_a_side(m, &members))),
                    None => {}
                }
                vec![(cohort, NodeRole::Cohort), (partner, NodeRole::Computing)]
            }
        };

        let case_ref = match (kind, case_ref_flag, raw.case_ref) {
            (LinkKind::FlagBack, Some(flag), _) => Some(flag),
            (LinkKind::FlagBack, None, Some(file)) => Some(file),
            (LinkKind::FlagBack, None, None) => {
                return Err(fail(
                    "case_ref",
                    "missing: a flag-back is person-level and needs a case reference (here or \
                     --case-ref)"
                        .into(),
                ));
            }
            (_, Some(_), _) => {
                return Err(fail(
                    "--case-ref",
                    "only a flag_back query carries a case reference".into(),
                ));
            }
            (_, None, Some(_)) => {
                return Err(fail(
                    "case_ref",
                    "only a flag_back query carries a case reference".into(),
                ));
            }
            (_, None, None) => None,
        };
        if case_ref.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(fail("case_ref", "empty".into()));
        }

        let request = LinkRequest { kind, unit, key_types, window: raw.window, sides };
        if raw.purpose.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(fail("purpose", "empty".into()));
        }
        Ok(Self { title: raw.title, request, schedule, case_ref, purpose: raw.purpose })
    }

    /// Checks every side's member is a node of `federation`.
    pub fn check_members(
        &self,
        federation: &Federation,
        path: &Path,
    ) -> Result<(), LinkQueryError> {
        for (i, side) in self.request.sides.iter().enumerate() {
            if federation.nodes().all(|n| n.name != side.member) {
                let nodes: Vec<&str> = federation.nodes().map(|n| n.name.as_str()).collect();
                return Err(LinkQueryError::Key {
                    path: path.to_path_buf(),
                    side: Some((i + 1, side.member.clone())),
                    key: "member",
                    problem: format!(
                        "not a node of federation {:?} (nodes: {})",
                        federation.name,
                        nodes.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The role `member` has in this query.
    pub fn role_of(&self, member: &str) -> Option<NodeRole> {
        self.schedule.iter().find(|(m, _)| m == member).map(|(_, role)| *role)
    }

    /// The computing node.
    pub fn computing(&self) -> &str {
        self.schedule
            .iter()
            .find(|(_, role)| *role == NodeRole::Computing)
            .map_or("", |(m, _)| m.as_str())
    }
}

/// The query kind as a query file spells it.
pub fn kind_name(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Count => "count",
        LinkKind::FlagBack => "flag_back",
        LinkKind::Overlap => "overlap",
        LinkKind::Calibrate => "calibrate",
    }
}

/// How an error names a side: `side 2 ("icb"): `, or nothing for a top-level key.
fn side_prefix(side: &Option<(usize, String)>) -> String {
    side.as_ref().map_or(String::new(), |(n, member)| format!("side {n} ({member:?}): "))
}

fn key_types(tags: Vec<String>) -> Result<Vec<String>, String> {
    if tags.is_empty() {
        return Err("empty: name at least one key type, strongest first, e.g. \"nhs\"".into());
    }
    if tags.len() > MAX_KEY_TYPES {
        return Err(format!("at most {MAX_KEY_TYPES} key types, not {}", tags.len()));
    }
    let mut seen = BTreeSet::new();
    for tag in &tags {
        if tag.trim().is_empty() {
            return Err("an empty key type".into());
        }
        if !seen.insert(tag.as_str()) {
            return Err(format!("{tag:?} is listed twice"));
        }
    }
    Ok(tags)
}

fn not_a_side(member: &str, members: &[&str]) -> String {
    format!("{member:?} is not a side of this query (sides: {})", members.join(", "))
}

#[cfg(test)]
mod tests;
