//! Reading entries for the report: which entries are queries and how each ended (a node's
//! request and the entries pointing back to it; a coordinator's envelope and the receipts it
//! verified), and the entry fields the report shows, with a placeholder where an entry does not
//! state one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use fedlink_proto::pb;

use super::model::{Outcome, Query};

/// A node's queries: each request's first entry (an admission, or a refusal at the gate), with
/// the outcome its later entries (those pointing back to it) record.
pub(super) fn node_queries(entries: &[&pb::AuditEntry]) -> Vec<Query> {
    let mut followups: BTreeMap<u64, BTreeSet<Outcome>> = BTreeMap::new();
    for entry in entries {
        if let Some(request) = entry.request_index {
            followups.entry(request).or_default().insert(outcome_of(entry));
        }
    }
    entries
        .iter()
        .filter(|e| e.event_type == pb::EventType::Consultation as i32 && e.request_index.is_none())
        .filter(|e| e.query.is_some() || e.decision == pb::Decision::Denied as i32)
        .map(|e| {
            let outcome = if e.decision == pb::Decision::Allowed as i32 {
                followups.get(&e.index).map_or(Outcome::NoOutcome, worst)
            } else {
                outcome_of(e)
            };
            query_row(e, asking_member(e), outcome)
        })
        .collect()
}

/// A coordinator's queries: each envelope it issued, with the outcome of the receipts it
/// verified from that node for that query.
pub(super) fn coordinator_queries(entries: &[&pb::AuditEntry]) -> Vec<Query> {
    let mut received: BTreeMap<(Vec<u8>, String), BTreeSet<Outcome>> = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.event_type == pb::EventType::ResultReceived as i32) {
        let query = query_of(entry);
        let key = (query.query_id.clone(), query.audience.clone());
        received.entry(key).or_default().insert(outcome_of(entry));
    }
    entries
        .iter()
        .filter(|e| e.event_type == pb::EventType::QueryIssued as i32)
        .map(|e| {
            let query = query_of(e);
            let key = (query.query_id.clone(), query.audience.clone());
            let outcome = received.get(&key).map_or(Outcome::NoOutcome, worst);
            query_row(e, query.audience.clone(), outcome)
        })
        .collect()
}

/// The outcome an entry records by its decision.
pub(super) fn outcome_of(entry: &pb::AuditEntry) -> Outcome {
    match pb::Decision::try_from(entry.decision) {
        Ok(pb::Decision::Allowed) => Outcome::Answered,
        Ok(pb::Decision::Denied) => Outcome::Refused,
        Ok(pb::Decision::Error) => Outcome::Failed,
        _ => Outcome::NoOutcome,
    }
}

/// Of several entries for one query, a refusal or failure at any step decides; otherwise it was
/// answered.
pub(super) fn worst(outcomes: &BTreeSet<Outcome>) -> Outcome {
    [Outcome::Refused, Outcome::Failed, Outcome::Answered]
        .into_iter()
        .find(|o| outcomes.contains(o))
        .unwrap_or(Outcome::NoOutcome)
}

pub(super) fn query_row(entry: &pb::AuditEntry, counterpart: String, outcome: Outcome) -> Query {
    let query = query_of(entry);
    Query {
        index: entry.index,
        time_ms: entry.time_ms,
        purpose: purpose_of(query),
        requester: requester_of(entry),
        kind: kind_name(query.mode),
        lawful_basis: lawful_basis_of(query),
        counterpart,
        outcome,
    }
}

/// The entry's query record, or an empty one.
pub(super) fn query_of(entry: &pb::AuditEntry) -> &pb::QueryRecord {
    static EMPTY: LazyLock<pb::QueryRecord> = LazyLock::new(pb::QueryRecord::default);
    entry.query.as_ref().unwrap_or(&EMPTY)
}

/// Placeholder for a field the entry does not state.
const NOT_STATED: &str = "(not stated)";

pub(super) fn purpose_of(query: &pb::QueryRecord) -> String {
    if query.purpose.is_empty() { NOT_STATED.to_owned() } else { query.purpose.clone() }
}

/// "officer@organisation", as budget charges name requesters.
pub(super) fn requester_of(entry: &pb::AuditEntry) -> String {
    match entry.actor.as_ref().and_then(|a| a.requester.as_ref()) {
        Some(r) if !r.officer_id.is_empty() || !r.organisation.is_empty() => {
            format!("{}@{}", r.officer_id, r.organisation)
        }
        _ => NOT_STATED.to_owned(),
    }
}

/// The member that sent a request to a node.
pub(super) fn asking_member(entry: &pb::AuditEntry) -> String {
    match entry.actor.as_ref().map(|a| a.member.as_str()) {
        Some(member) if !member.is_empty() => member.to_owned(),
        _ => "(unauthenticated)".to_owned(),
    }
}

pub(super) fn lawful_basis_of(query: &pb::QueryRecord) -> String {
    match &query.lawful_basis {
        Some(b) => {
            let parts: Vec<&str> = [&b.regime, &b.article, &b.gateway]
                .into_iter()
                .map(String::as_str)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.is_empty() { NOT_STATED.to_owned() } else { parts.join(" · ") }
        }
        None => NOT_STATED.to_owned(),
    }
}

/// "aggregate", "flag back", … from the protocol's mode.
pub(super) fn kind_name(mode: i32) -> String {
    match pb::Mode::try_from(mode) {
        Ok(pb::Mode::Unspecified) | Err(_) => NOT_STATED.to_owned(),
        Ok(m) => humanise(m.as_str_name(), "MODE_"),
    }
}

/// "consultation", "log export", … from the protocol's event type.
pub(super) fn event_name(event_type: i32) -> String {
    match pb::EventType::try_from(event_type) {
        Ok(e) => humanise(e.as_str_name(), "EVENT_TYPE_"),
        Err(_) => format!("unknown event {event_type}"),
    }
}

pub(super) fn humanise(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase().replace('_', " ")
}

/// The operator a node's flag-back entry names: its detail reads "… approved by NAME; …".
pub(super) fn approver_in(detail: &str) -> Option<String> {
    let (_, rest) = detail.split_once("approved by ")?;
    let name = rest.split(';').next().unwrap_or(rest).trim();
    (!name.is_empty()).then(|| name.to_owned())
}
