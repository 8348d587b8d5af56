//! A subject search (`fedlink node audit subject`): every entry whose payload holds a token of
//! the person named, for a subject access request (DPA 2018 s45) or a misuse inquiry. The
//! search is itself logged, before its result is shown, as a LOG_EXPORT entry naming the
//! operator, their reason and how many entries were found; the searched person's token goes in
//! that entry's payload, never the identifier (audit-privacy-legal.md §3.3: access to the logs
//! is itself logged).

use fedlink_proto::audit::store::payload::SubjectSearch;
use fedlink_proto::envelope::QueryId;
use fedlink_proto::pb;
use serde::Serialize;

use super::{SubjectIdentifier, SubjectTokenKey};
use crate::error::NodeError;
use crate::gate::AuditGate;

/// One entry found, as the search lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundEntry {
    /// Leaf index.
    pub index: u64,
    /// Entry time, UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub time: String,
    /// Event type, e.g. `disclosure`.
    pub event: String,
    /// Who asked: officer id and organisation, or the member.
    pub requester: String,
    /// Purpose code.
    pub purpose: String,
    /// Query id (UUID), empty for entries of no query.
    pub query_id: String,
    /// Query mode, e.g. `linked_count`.
    pub mode: String,
    /// Decision, e.g. `allowed`.
    pub decision: String,
}

impl FoundEntry {
    /// The listing of `entry`.
    pub fn of(entry: &pb::AuditEntry) -> FoundEntry {
        let query = entry.query.as_ref();
        let requester = entry.actor.as_ref().map_or_else(String::new, |a| match &a.requester {
            Some(r) if !r.officer_id.is_empty() => {
                format!("{}@{}", r.officer_id, r.organisation)
            }
            _ => a.member.clone(),
        });
        let name = |s: &str, prefix: &str| s.trim_start_matches(prefix).to_ascii_lowercase();
        FoundEntry {
            index: entry.index,
            time: crate::link::calibrations::utc_time(entry.time_ms),
            event: pb::EventType::try_from(entry.event_type).map_or_else(
                |_| entry.event_type.to_string(),
                |e| name(e.as_str_name(), "EVENT_TYPE_"),
            ),
            requester,
            purpose: query.map(|q| q.purpose.clone()).unwrap_or_default(),
            query_id: query
                .and_then(|q| QueryId::from_slice(&q.query_id).ok())
                .map(|q| q.to_string())
                .unwrap_or_default(),
            mode: query
                .and_then(|q| pb::Mode::try_from(q.mode).ok())
                .filter(|m| *m != pb::Mode::Unspecified)
                .map(|m| name(m.as_str_name(), "MODE_"))
                .unwrap_or_default(),
            decision: pb::Decision::try_from(entry.decision).map_or_else(
                |_| entry.decision.to_string(),
                |d| name(d.as_str_name(), "DECISION_"),
            ),
        }
    }
}

/// What a search found and where it was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchReport {
    /// The LOG_EXPORT entry that logged the search.
    pub logged_as: u64,
    /// What the index gave: the entries searched, those found, those erased.
    pub search: SubjectSearch,
    /// The entries found, in index order.
    pub found: Vec<FoundEntry>,
}

/// Searches the log for `identifiers` (any of them) and logs the search as a LOG_EXPORT entry
/// by `actor` with `reason` before returning what it found.
pub fn search_subject(
    gate: &AuditGate,
    key: &SubjectTokenKey,
    actor: pb::Actor,
    identifiers: &[SubjectIdentifier],
    reason: &str,
) -> Result<SearchReport, NodeError> {
    let tokens: Vec<_> = identifiers.iter().map(|id| key.token(id)).collect();
    let search = gate.search_subjects(&tokens)?;
    let by: Vec<&str> = identifiers
        .iter()
        .map(|id| match id {
            SubjectIdentifier::NhsNumber(_) => "NHS number",
            SubjectIdentifier::NameDob(_) => "name and date of birth",
        })
        .collect();
    let entry = pb::AuditEntry {
        event_type: pb::EventType::LogExport as i32,
        decision: pb::Decision::Allowed as i32,
        rule: "node.audit.subject".into(),
        reason: reason.to_string(),
        actor: Some(actor),
        detail: format!(
            "subject search by {}: {} entries found among the {} entries before this one; {} of \
             those had their payload erased and could not be searched; the searched subject's \
             token is in this entry's payload",
            by.join(" or "),
            search.indices.len(),
            search.size,
            search.erased
        ),
        ..Default::default()
    };
    let logged_as = gate.system_event_concerning(entry, tokens)?;
    let found = search
        .indices
        .iter()
        .map(|&index| gate.entry(index).map(|e| FoundEntry::of(&e)))
        .collect::<Result<_, _>>()?;
    Ok(SearchReport { logged_as, search, found })
}
