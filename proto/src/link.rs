//! The typed linked query (issue 5): which kind (linked count, flag-back, overlap, from the
//! envelope's mode), persons or addresses, the key types strongest first, the window template
//! and what each participant contributes. Parsed strictly from the wire so that a node's
//! linkage code only ever sees a well-formed request; whether a node *allows* it is its
//! policy's business (`node/src/policy/linkage.rs`).

use std::collections::BTreeSet;

use crate::aggregate::{Filter, MAX_TERMS, filter_from_pb, filter_to_pb};
use crate::envelope::Mode;
use crate::pb;
use crate::refusal::Refusal;

/// Most sides a linked query may have (an overlap of this many agencies).
pub const MAX_SIDES: usize = 6;

/// Most key types a query may name.
pub const MAX_KEY_TYPES: usize = 16;

/// Which linked query this is; the envelope's mode decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Counts by (g, h) of cohort subjects linked to partner subjects.
    Count,
    /// One flag per cohort row, computed at the partner and returned to the cohort node.
    FlagBack,
    /// Counts of subjects known to each combination of three or more agencies.
    Overlap,
    /// A calibration run over two whole datasets: the computing node fits its model and
    /// stores it; nothing is released (design-review F18).
    Calibrate,
}

impl LinkKind {
    /// The envelope mode of this kind.
    pub fn mode(self) -> Mode {
        match self {
            LinkKind::Count => Mode::LinkedCount,
            LinkKind::FlagBack => Mode::FlagBack,
            LinkKind::Overlap => Mode::Overlap,
            LinkKind::Calibrate => Mode::Calibrate,
        }
    }

    /// The kind a linked mode asks for, or `None` for a mode that is not a linked one.
    pub fn from_mode(mode: Mode) -> Option<Self> {
        match mode {
            Mode::LinkedCount => Some(LinkKind::Count),
            Mode::FlagBack => Some(LinkKind::FlagBack),
            Mode::Overlap => Some(LinkKind::Overlap),
            Mode::Calibrate => Some(LinkKind::Calibrate),
            Mode::Describe | Mode::Aggregate => None,
        }
    }
}

/// What is linked: persons or addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUnit {
    /// Person keys (NHS number, name and date-of-birth composites).
    Person,
    /// Address keys (UPRN, parent UPRN, postcode and house number).
    Address,
}

impl LinkUnit {
    /// The unit's name in query files and reports.
    pub fn name(self) -> &'static str {
        match self {
            LinkUnit::Person => "person",
            LinkUnit::Address => "address",
        }
    }
}

/// One participant's contribution: its dataset, which rows qualify and how its subjects are
/// labelled.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSide {
    /// Federation member name.
    pub member: String,
    /// The member's dataset.
    pub dataset: String,
    /// Which rows qualify.
    pub filters: Vec<Filter>,
    /// The column labelling each subject, or `None` for the single label "all".
    pub label_column: Option<String>,
}

/// A linked query, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRequest {
    /// From the envelope's mode.
    pub kind: LinkKind,
    /// Persons or addresses.
    pub unit: LinkUnit,
    /// Key type tags, strongest first, distinct.
    pub key_types: Vec<String>,
    /// The window template's name, if the query has a window.
    pub window: Option<String>,
    /// One per participant, each member once.
    pub sides: Vec<LinkSide>,
}

impl LinkRequest {
    /// The side a member contributes.
    pub fn side(&self, member: &str) -> Option<&LinkSide> {
        self.sides.iter().find(|s| s.member == member)
    }

    /// The wire form (the kind travels as the envelope's mode).
    pub fn to_pb(&self) -> pb::LinkQuery {
        pb::LinkQuery {
            unit: match self.unit {
                LinkUnit::Person => pb::LinkUnit::Person,
                LinkUnit::Address => pb::LinkUnit::Address,
            } as i32,
            key_types: self.key_types.clone(),
            window: self.window.clone().unwrap_or_default(),
            sides: self
                .sides
                .iter()
                .map(|s| pb::LinkSide {
                    member: s.member.clone(),
                    dataset: s.dataset.clone(),
                    filters: s.filters.iter().map(filter_to_pb).collect(),
                    label_column: s.label_column.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Parses the wire form for an envelope of `mode`.
    pub fn from_pb(wire: pb::LinkQuery, mode: Mode) -> Result<Self, Refusal> {
        let kind = LinkKind::from_mode(mode)
            .ok_or_else(|| malformed(format!("a link body needs a linked mode, not {mode:?}")))?;
        let unit = match pb::LinkUnit::try_from(wire.unit) {
            Ok(pb::LinkUnit::Person) => LinkUnit::Person,
            Ok(pb::LinkUnit::Address) => LinkUnit::Address,
            _ => return Err(malformed(format!("unknown unit {}", wire.unit))),
        };
        if wire.key_types.is_empty() || wire.key_types.len() > MAX_KEY_TYPES {
            return Err(malformed(format!("between 1 and {MAX_KEY_TYPES} key types")));
        }
        let mut seen = BTreeSet::new();
        for tag in &wire.key_types {
            if tag.trim().is_empty() || !seen.insert(tag.as_str()) {
                return Err(malformed(format!("key type {tag:?} is empty or repeated")));
            }
        }
        let (min_sides, max_sides) = match kind {
            LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate => (2, 2),
            LinkKind::Overlap => (3, MAX_SIDES),
        };
        if !(min_sides..=max_sides).contains(&wire.sides.len()) {
            return Err(malformed(format!(
                "a {} query has {min_sides}..={max_sides} sides, not {}",
                mode.name(),
                wire.sides.len()
            )));
        }
        let mut members = BTreeSet::new();
        let mut sides = Vec::with_capacity(wire.sides.len());
        for side in wire.sides {
            if side.member.trim().is_empty() || !members.insert(side.member.clone()) {
                return Err(malformed(format!(
                    "side member {:?} is empty or repeated",
                    side.member
                )));
            }
            if side.dataset.trim().is_empty() {
                return Err(malformed(format!("side {:?} names no dataset", side.member)));
            }
            if side.filters.len() > MAX_TERMS {
                return Err(malformed(format!("at most {MAX_TERMS} filters per side")));
            }
            let filters =
                side.filters.into_iter().map(filter_from_pb).collect::<Result<Vec<_>, _>>()?;
            sides.push(LinkSide {
                member: side.member,
                dataset: side.dataset,
                filters,
                label_column: (!side.label_column.is_empty()).then_some(side.label_column),
            });
        }
        Ok(Self {
            kind,
            unit,
            key_types: wire.key_types,
            window: (!wire.window.is_empty()).then_some(wire.window),
            sides,
        })
    }
}

fn malformed(problem: impl Into<String>) -> Refusal {
    Refusal::Malformed { problem: format!("link query: {}", problem.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> LinkRequest {
        LinkRequest {
            kind: LinkKind::Count,
            unit: LinkUnit::Person,
            key_types: vec!["nhs".into(), "name_dob".into()],
            window: Some("12m-before".into()),
            sides: vec![
                LinkSide {
                    member: "police".into(),
                    dataset: "death_reports".into(),
                    filters: vec![Filter::Equals {
                        column: "category".into(),
                        value: "homicide".into(),
                    }],
                    label_column: None,
                },
                LinkSide {
                    member: "icb".into(),
                    dataset: "ecds".into(),
                    filters: vec![],
                    label_column: Some("attendance_category".into()),
                },
            ],
        }
    }

    #[test]
    fn a_request_round_trips_through_the_wire() {
        let r = request();
        assert_eq!(LinkRequest::from_pb(r.to_pb(), Mode::LinkedCount).expect("parses"), r);
    }

    #[test]
    fn malformed_requests_are_refused() {
        type Change = Box<dyn Fn(&mut pb::LinkQuery)>;
        let cases: Vec<(Change, Mode)> = vec![
            (Box::new(|w| w.key_types.clear()), Mode::LinkedCount),
            (Box::new(|w| w.key_types.push("nhs".into())), Mode::LinkedCount),
            (Box::new(|w| w.unit = 9), Mode::LinkedCount),
            (Box::new(|w| w.sides[1].member = "police".into()), Mode::LinkedCount),
            (Box::new(|w| w.sides[0].dataset.clear()), Mode::LinkedCount),
            (Box::new(|_| {}), Mode::Overlap),
            (Box::new(|_| {}), Mode::Aggregate),
        ];
        for (i, (change, mode)) in cases.into_iter().enumerate() {
            let mut wire = request().to_pb();
            change(&mut wire);
            assert!(LinkRequest::from_pb(wire, mode).is_err(), "case {i} must be refused");
        }
    }
}
