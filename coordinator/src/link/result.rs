//! What a node's part of a linked query gave, parsed completely from its outcome and checked
//! against the query before anyone reads it: the computing node's protected table with its
//! quality figures and side sizes, the cohort node's flags, or a contributor's note that its
//! part is logged. Like a released table, a suppressed value here is never a number.

use std::collections::BTreeSet;

use fedlink_proto::envelope::{NodeRole, sha256};
use fedlink_proto::link::LinkKind;
use fedlink_proto::pb;
use fedlink_proto::pb::link_outcome::Result as WireResult;
use prost::Message as _;

use super::query::LinkQuery;
use crate::table::{Provenance, Released, ReleasedTable};

/// What one node's part gave.
#[derive(Debug, Clone, PartialEq)]
pub enum PartAnswer {
    /// The computing node's protected table (count, overlap).
    Table(Box<LinkedRelease>),
    /// The cohort node's flags (flag-back).
    Flags(Vec<FlagRow>),
    /// A contributor's part is over; it logged the digests of what it sent and received.
    Contributed {
        /// How many message digests it logged.
        digests: usize,
    },
    /// The computing node of a calibration run stored its model (only this leaves it).
    Calibrated(StoredCalibration),
}

/// What a calibration run's computing node says it stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCalibration {
    /// Its dataset.
    pub dataset: String,
    /// The version stored.
    pub version: u32,
    /// The key types the model covers.
    pub key_types: Vec<String>,
    /// SHA-256 of the stored model file, hex.
    pub sha256: String,
}

/// A computing node's release: the protected table, query-level linkage quality and the sizes
/// of what each side sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedRelease {
    /// Counts by (g, h), or by combination of agencies, DP-noised then suppressed and rounded.
    pub table: ReleasedTable,
    /// Links made by each key pass, protected like the table.
    pub quality: Vec<(String, Released)>,
    /// Tuples each side sent (padded), as the computing node saw them.
    pub sizes: Vec<(String, u64)>,
    /// The matcher that linked ("key-passes", or the calibrated model's version and digest).
    pub matcher: String,
    /// With a calibrated matcher, the model's expected true and missed links, protected like
    /// the table.
    pub expected: Option<(Released, Released)>,
}

/// One cohort row's flag, in the cohort node's own record order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRow {
    /// The cohort node's own record id (it never left that node before).
    pub record_id: String,
    /// Whether the partner linked the row.
    pub flag: bool,
    /// The partner's coarse label, for a flagged row.
    pub label: Option<String>,
}

/// SHA-256 of what a node logs as the result of its part: the encoding of the outcome's result
/// message (the `LinkedTable`, `FlagBackResult` or `LinkContribution`), as for the aggregate
/// table and the node description. The receipt's entry must carry exactly this hash.
pub fn result_hash(result: &WireResult) -> [u8; 32] {
    sha256(&match result {
        WireResult::Table(table) => table.encode_to_vec(),
        WireResult::Flags(flags) => flags.encode_to_vec(),
        WireResult::Contributed(contribution) => contribution.encode_to_vec(),
        WireResult::Calibrated(stored) => stored.encode_to_vec(),
    })
}

/// Parses a node's result and checks it is what its role in `query` gives: the computing node
/// of a count or overlap releases a table, the cohort node of a flag-back its flags, every other
/// node a contribution. Anything else is not to be believed.
pub fn parse_result(
    result: WireResult,
    role: NodeRole,
    query: &LinkQuery,
    provenance: Provenance,
) -> Result<PartAnswer, String> {
    let expected = match (query.request.kind, role) {
        (LinkKind::Count | LinkKind::Overlap, NodeRole::Computing) => Gives::Table,
        (LinkKind::FlagBack, NodeRole::Cohort) => Gives::Flags,
        (LinkKind::Calibrate, NodeRole::Computing) => Gives::Calibration,
        _ => Gives::Contribution,
    };
    let got = Gives::of(&result);
    if got != expected {
        return Err(format!("its part gives {}, but it sent {}", expected.name(), got.name()));
    }
    match result {
        WireResult::Table(wire) => LinkedRelease::from_wire(wire, query, provenance)
            .map(|r| PartAnswer::Table(Box::new(r))),
        WireResult::Flags(wire) => flags_from_wire(wire).map(PartAnswer::Flags),
        WireResult::Contributed(c) => Ok(PartAnswer::Contributed { digests: c.digests.len() }),
        WireResult::Calibrated(c) => calibration_from_wire(c, query).map(PartAnswer::Calibrated),
    }
}

/// Parses a calibration note: the computing side's dataset, a version from 1, the query's key
/// types, a 32-byte digest.
fn calibration_from_wire(
    wire: pb::CalibrationStored,
    query: &LinkQuery,
) -> Result<StoredCalibration, String> {
    let computing = query.computing();
    let dataset = query.request.side(computing).map(|s| s.dataset.as_str()).unwrap_or_default();
    if wire.dataset != dataset {
        return Err(format!("a calibration of {:?}, not of {dataset:?}", wire.dataset));
    }
    if wire.version == 0 {
        return Err("a calibration version 0".into());
    }
    if wire.key_types != query.request.key_types {
        return Err("a calibration over other key types than the query's".into());
    }
    let sha256: [u8; 32] =
        wire.sha256.as_slice().try_into().map_err(|_| "a calibration digest not of 32 bytes")?;
    Ok(StoredCalibration {
        dataset: wire.dataset,
        version: wire.version,
        key_types: wire.key_types,
        sha256: sha256.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// Which kind of result a part gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gives {
    Calibration,
    Contribution,
    Flags,
    Table,
}

impl Gives {
    fn of(result: &WireResult) -> Self {
        match result {
            WireResult::Table(_) => Gives::Table,
            WireResult::Flags(_) => Gives::Flags,
            WireResult::Contributed(_) => Gives::Contribution,
            WireResult::Calibrated(_) => Gives::Calibration,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Gives::Calibration => "a stored calibration",
            Gives::Contribution => "a contribution",
            Gives::Flags => "flags",
            Gives::Table => "a table",
        }
    }
}

impl LinkedRelease {
    /// Parses and checks a computing node's release: a well-formed table, one quality figure
    /// per key pass at most and only for key types the query named, one size per participant
    /// at most and only for participants.
    fn from_wire(
        wire: pb::LinkedTable,
        query: &LinkQuery,
        provenance: Provenance,
    ) -> Result<Self, String> {
        let table = wire.table.ok_or("the release has no table")?;
        let table = ReleasedTable::from_wire(table, provenance)
            .map_err(|e| format!("the released table is malformed: {e}"))?;
        let mut passes = BTreeSet::new();
        let quality = wire
            .quality
            .into_iter()
            .map(|q| {
                if !query.request.key_types.contains(&q.pass) {
                    return Err(format!(
                        "quality figure for {:?}, not a key type of the query",
                        q.pass
                    ));
                }
                if !passes.insert(q.pass.clone()) {
                    return Err(format!("two quality figures for {:?}", q.pass));
                }
                let links = Released::from_wire(q.links, &format!("links by {}", q.pass))
                    .map_err(|e| e.to_string())?;
                Ok((q.pass, links))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut members = BTreeSet::new();
        let sizes = wire
            .sizes
            .into_iter()
            .map(|s| {
                if query.role_of(&s.member).is_none() {
                    return Err(format!("a size for {:?}, not a participant", s.member));
                }
                if !members.insert(s.member.clone()) {
                    return Err(format!("two sizes for {:?}", s.member));
                }
                Ok((s.member, s.tuples))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let expected = match (wire.expected_true_links, wire.expected_missed_links) {
            (None, None) => None,
            (true_links, missed) => Some((
                Released::from_wire(true_links, "expected true links")
                    .map_err(|e| e.to_string())?,
                Released::from_wire(missed, "expected missed links").map_err(|e| e.to_string())?,
            )),
        };
        Ok(Self { table, quality, sizes, matcher: wire.matcher, expected })
    }
}

/// Parses flag rows: each names a record once, and only a flagged row has a label.
fn flags_from_wire(wire: pb::FlagBackResult) -> Result<Vec<FlagRow>, String> {
    let mut seen = BTreeSet::new();
    wire.rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            if row.record_id.trim().is_empty() {
                return Err(format!("flag row {} has no record id", i + 1));
            }
            if !seen.insert(row.record_id.clone()) {
                return Err(format!("record {:?} is flagged twice", row.record_id));
            }
            if !row.flag && !row.label.is_empty() {
                return Err(format!("record {:?} is not flagged but has a label", row.record_id));
            }
            Ok(FlagRow {
                record_id: row.record_id,
                flag: row.flag,
                label: (!row.label.is_empty()).then_some(row.label),
            })
        })
        .collect()
}
