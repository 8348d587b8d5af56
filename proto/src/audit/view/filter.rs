//! Which entries an auditor asked for: [`EntryFilter`] (every criterion must hold) and the
//! names its flags take ([`EntryKind`], decisions, query ids). Pure.

use std::fmt;
use std::str::FromStr;

use super::{decision_name, event_name, mode_name, query_id_text};
use crate::audit::utc::format_utc_ms;
use crate::pb;

/// What `--kind` selects: a query mode (entries whose query has that mode) or an event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Entries about a query of this mode.
    Mode(pb::Mode),
    /// Entries of this event type.
    Event(pb::EventType),
}

/// A `--kind` or `--decision` name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a {what}; expected one of: {}", expected.join(", "))]
pub struct UnknownName {
    /// What was given.
    pub given: String,
    /// What it should have named.
    pub what: &'static str,
    /// The names accepted.
    pub expected: Vec<String>,
}

impl EntryKind {
    /// Every kind's name: modes, then event types.
    pub fn names() -> Vec<String> {
        let modes = (1..).map_while(|v| pb::Mode::try_from(v).ok()).map(|m| mode_name(m as i32));
        let events =
            (1..64).filter_map(|v| pb::EventType::try_from(v).ok()).map(|e| event_name(e as i32));
        modes.chain(events).collect()
    }

    /// The kind's kebab name.
    pub fn name(self) -> String {
        match self {
            EntryKind::Mode(m) => mode_name(m as i32),
            EntryKind::Event(e) => event_name(e as i32),
        }
    }
}

impl FromStr for EntryKind {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        let name = text.trim().to_ascii_lowercase().replace('_', "-");
        let mode =
            (1..).map_while(|v| pb::Mode::try_from(v).ok()).find(|m| mode_name(*m as i32) == name);
        if let Some(mode) = mode {
            return Ok(EntryKind::Mode(mode));
        }
        (1..64)
            .filter_map(|v| pb::EventType::try_from(v).ok())
            .find(|e| event_name(*e as i32) == name)
            .map(EntryKind::Event)
            .ok_or_else(|| UnknownName {
                given: text.to_string(),
                what: "query mode or event type",
                expected: EntryKind::names(),
            })
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Parses a decision name: `allowed`, `denied` or `error`.
pub fn parse_decision(text: &str) -> Result<pb::Decision, UnknownName> {
    let name = text.trim().to_ascii_lowercase();
    [pb::Decision::Allowed, pb::Decision::Denied, pb::Decision::Error]
        .into_iter()
        .find(|d| decision_name(*d as i32) == name)
        .ok_or_else(|| UnknownName {
            given: text.to_string(),
            what: "decision",
            expected: vec!["allowed".into(), "denied".into(), "error".into()],
        })
}

/// Which entries to select. Every criterion given must hold (AND); an empty filter selects
/// every entry. Text criteria compare ignoring ASCII case. What each one matches:
///
/// - `since_ms` / `until_ms`: the entry's signed `time_ms`, both bounds inclusive.
/// - `requester`: with an `@`, `officer_id@organisation` of the actor's requester or of the
///   budget charge's requester; without, the actor's requester's `officer_id`.
/// - `organisation`: the actor's requester's `organisation`.
/// - `purpose`: the query's `purpose`.
/// - `lawful_basis`: a substring of the query's lawful basis `regime`, `article` or `gateway`
///   (so `CDA s115`, `Part3` and `s35` all select).
/// - `kind`: a mode selects entries whose query has that mode (the coordinator's QUERY_ISSUED,
///   the node's CONSULTATION and DISCLOSURE); an event type selects entries of that type.
/// - `decision`: the entry's decision.
/// - `query_id`: the query's 16-byte id.
/// - `dataset`: an entry names a dataset only where it carries it: the budget charge's
///   `dataset`, or a reason that says `dataset NAME` or `dataset "NAME"` (imports, and
///   refusals about a dataset). The datasets of a template or linked query are in the signed
///   envelope, which the entry binds by `envelope_hash` but does not carry, so those entries
///   are not selected by dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Earliest time, inclusive (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Latest time, inclusive.
    pub until_ms: Option<i64>,
    /// Officer id, or `officer@organisation`.
    pub requester: Option<String>,
    /// Organisation code.
    pub organisation: Option<String>,
    /// Purpose.
    pub purpose: Option<String>,
    /// Text within the lawful basis.
    pub lawful_basis: Option<String>,
    /// Query mode or event type.
    pub kind: Option<EntryKind>,
    /// Decision.
    pub decision: Option<pb::Decision>,
    /// Query id.
    pub query_id: Option<[u8; 16]>,
    /// Dataset name.
    pub dataset: Option<String>,
}

impl EntryFilter {
    /// Whether `entry` meets every criterion.
    pub fn matches(&self, entry: &pb::AuditEntry) -> bool {
        let requester = entry.actor.as_ref().and_then(|a| a.requester.as_ref());
        let query = entry.query.as_ref();
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        self.since_ms.is_none_or(|t| entry.time_ms >= t)
            && self.until_ms.is_none_or(|t| entry.time_ms <= t)
            && self.requester.as_deref().is_none_or(|want| match want.split_once('@') {
                Some(_) => {
                    requester
                        .is_some_and(|r| eq(&format!("{}@{}", r.officer_id, r.organisation), want))
                        || entry.budget.as_ref().is_some_and(|b| eq(&b.requester, want))
                }
                None => requester.is_some_and(|r| eq(&r.officer_id, want)),
            })
            && self
                .organisation
                .as_deref()
                .is_none_or(|want| requester.is_some_and(|r| eq(&r.organisation, want)))
            && self
                .purpose
                .as_deref()
                .is_none_or(|want| query.is_some_and(|q| eq(&q.purpose, want)))
            && self.lawful_basis.as_deref().is_none_or(|want| {
                let want = want.to_ascii_lowercase();
                query.and_then(|q| q.lawful_basis.as_ref()).is_some_and(|l| {
                    [&l.regime, &l.article, &l.gateway]
                        .iter()
                        .any(|field| field.to_ascii_lowercase().contains(&want))
                })
            })
            && self.kind.is_none_or(|kind| match kind {
                EntryKind::Mode(m) => query.is_some_and(|q| q.mode == m as i32),
                EntryKind::Event(e) => entry.event_type == e as i32,
            })
            && self.decision.is_none_or(|d| entry.decision == d as i32)
            && self.query_id.is_none_or(|id| query.is_some_and(|q| q.query_id == id))
            && self.dataset.as_deref().is_none_or(|want| names_dataset(entry, want))
    }

    /// The criteria given, as `--flag value` words (for the LOG_EXPORT entry's detail).
    pub fn describe(&self) -> String {
        let time = |ms: Option<i64>| ms.map(format_utc_ms);
        let given = [
            ("--since", time(self.since_ms)),
            ("--until", time(self.until_ms)),
            ("--requester", self.requester.clone()),
            ("--organisation", self.organisation.clone()),
            ("--purpose", self.purpose.clone()),
            ("--lawful-basis", self.lawful_basis.clone()),
            ("--kind", self.kind.map(EntryKind::name)),
            ("--decision", self.decision.map(|d| decision_name(d as i32))),
            ("--query-id", self.query_id.map(|id| query_id_text(&id))),
            ("--dataset", self.dataset.clone()),
        ];
        let words: Vec<String> = given
            .into_iter()
            .filter_map(|(flag, value)| value.map(|v| format!("{flag} {v:?}")))
            .collect();
        if words.is_empty() { "(none)".into() } else { words.join(" ") }
    }
}

/// Whether the entry names dataset `want` (see [`EntryFilter`]).
fn names_dataset(entry: &pb::AuditEntry, want: &str) -> bool {
    if entry.budget.as_ref().is_some_and(|b| b.dataset.eq_ignore_ascii_case(want)) {
        return true;
    }
    let reason = entry.reason.to_ascii_lowercase();
    let want = want.to_ascii_lowercase();
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    reason.match_indices("dataset ").any(|(at, word)| {
        let after = &reason[at + word.len()..];
        let quoted = after.strip_prefix('"').and_then(|s| s.strip_prefix(want.as_str()));
        if quoted.is_some_and(|rest| rest.starts_with('"')) {
            return true;
        }
        // A bare name ends at a character a dataset name cannot hold, or at a dot that ends
        // the sentence (one not followed by more of a name).
        after.strip_prefix(want.as_str()).is_some_and(|rest| {
            let mut next = rest.chars();
            match next.next() {
                None => true,
                Some('.') => next.next().is_none_or(|c| !is_name_char(c)),
                Some(c) => !is_name_char(c),
            }
        })
    })
}

/// Parses a query id typed as UUID text (hyphenated or 32 hex digits) into its 16 bytes.
pub fn parse_query_id(text: &str) -> Result<[u8; 16], UnknownName> {
    uuid::Uuid::try_parse(text.trim()).map(|id| *id.as_bytes()).map_err(|_| UnknownName {
        given: text.to_string(),
        what: "query id",
        expected: vec!["UUID text such as 0190c2a4-7b1e-7cc0-8a53-2d1f0e9b6a11".into()],
    })
}
