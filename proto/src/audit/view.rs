//! A decoded, readable view of one audit entry, and ([`filter`]) the filter auditors select
//! entries with: one definition for `fedlink audit show`, the export bundle's convenience view
//! and the DPO report. Pure: works on decoded entries, no I/O.
//!
//! # The view's fields
//!
//! [`EntryView`] serialises (serde, so JSON) with these stable field names; absent messages are
//! `null`, absent strings `""`, absent lists `[]`:
//!
//! - `index`, `origin`, `time_ms`, `time` (RFC 3339 UTC), `event`, `decision`, `rule`,
//!   `reason`, `detail`, `recipients`, `request_index` (or `null`), `relay_digests`,
//!   `payload_commitment` (hex, `""` when none), `subject_count`, `leaf_hash` (hex of
//!   SHA-256(0x00 ‖ entry bytes)).
//! - `actor`: `member`, `cert_fingerprint`, `auth_method`, `requester` (`officer_id`, `role`,
//!   `organisation`, or `null`).
//! - `query`: `query_id` (UUID text when 16 bytes, else hex), `session_id`, `envelope_hash`
//!   (hex), `mode`, `role`, `audience`, `coordinator`, `purpose`, `lawful_basis` (`regime`,
//!   `article`, `gateway`, or `null`), `dsa_ref`, `case_ref`, `justification`,
//!   `authoriser_id`, `issued_at_ms`, `expires_at_ms`, `participants` (`member`, `role`).
//! - `output`: `output_class`, `result_hash` (hex), `records_released`, `disclosure_rule`,
//!   `node_log_size`, `node_log_root` (hex).
//! - `budget`: `coordinator`, `requester`, `dataset`, `period`, `epsilon_micro`, `epsilon`
//!   (decimal text).
//!
//! Enum values are written as lower-case kebab names (the proto name without its prefix):
//! events `collection`, `alteration`, `consultation`, `disclosure`, `combination`, `erasure`,
//! `query-issued`, `result-received`, `service-start`, `policy-loaded`, `log-export`;
//! decisions `allowed`, `denied`, `error`; modes `describe`, `aggregate`, `linked-count`,
//! `flag-back`, `overlap`, `calibrate`; roles `responder`, `cohort`, `computing`, `blinder`.
//! Zero is `unspecified`; a number the proto does not know is `unknown(N)`.

mod filter;

use serde::Serialize;

use crate::audit::budget::micro_to_string;
use crate::audit::entry::{EntryError, decode_entry};
use crate::audit::merkle::{Hash, leaf_hash};
use crate::audit::utc::format_utc_ms;
use crate::pb;

pub use filter::{EntryFilter, EntryKind, UnknownName, parse_decision, parse_query_id};

/// One entry, every field decoded for reading. Built from the signed entry; never the record
/// itself (the record is the entry's exact bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// Leaf index.
    pub index: u64,
    /// The log's origin.
    pub origin: String,
    /// Milliseconds since the epoch.
    pub time_ms: i64,
    /// `time_ms` as RFC 3339 UTC.
    pub time: String,
    /// The event type's name.
    pub event: String,
    /// The decision's name.
    pub decision: String,
    /// The rule or check that decided.
    pub rule: String,
    /// The readable account of the decision.
    pub reason: String,
    /// Who acted.
    pub actor: Option<ActorView>,
    /// The query the entry concerns.
    pub query: Option<QueryView>,
    /// What left.
    pub output: Option<OutputView>,
    /// Members the output went to.
    pub recipients: Vec<String>,
    /// The entry that logged the request this one answers.
    pub request_index: Option<u64>,
    /// Free-form detail.
    pub detail: String,
    /// The privacy-budget charge.
    pub budget: Option<BudgetView>,
    /// Digests of the node-to-node messages of the query.
    pub relay_digests: Vec<String>,
    /// The erasable payload's commitment, hex (`""` when none).
    pub payload_commitment: String,
    /// How many subject tokens the payload holds.
    pub subject_count: u64,
    /// SHA-256(0x00 ‖ entry bytes), hex.
    pub leaf_hash: String,
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActorView {
    /// Federation member name.
    pub member: String,
    /// SHA-256 of the peer's certificate, hex.
    pub cert_fingerprint: String,
    /// How the peer was authenticated.
    pub auth_method: String,
    /// The person behind the request.
    pub requester: Option<RequesterView>,
}

/// The person behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequesterView {
    /// Collar or staff number.
    pub officer_id: String,
    /// Role or rank.
    pub role: String,
    /// Organisation code.
    pub organisation: String,
}

/// The query an entry concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryView {
    /// UUID text (hex if not 16 bytes).
    pub query_id: String,
    /// Hex.
    pub session_id: String,
    /// SHA-256 of the signed envelope, hex.
    pub envelope_hash: String,
    /// The query mode's name.
    pub mode: String,
    /// This node's role's name.
    pub role: String,
    /// The node the envelope is for.
    pub audience: String,
    /// The coordinator that issued it.
    pub coordinator: String,
    /// The stated purpose.
    pub purpose: String,
    /// The lawful basis.
    pub lawful_basis: Option<LawfulBasisView>,
    /// Data-sharing agreement reference.
    pub dsa_ref: String,
    /// Case reference.
    pub case_ref: String,
    /// The requester's justification.
    pub justification: String,
    /// Who authorised it.
    pub authoriser_id: String,
    /// When it was issued (ms since the epoch).
    pub issued_at_ms: i64,
    /// When it expires (ms since the epoch).
    pub expires_at_ms: i64,
    /// Nodes taking part.
    pub participants: Vec<ParticipantView>,
}

/// A lawful basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LawfulBasisView {
    /// "DPA-Part3" or "UK-GDPR".
    pub regime: String,
    /// The article or section.
    pub article: String,
    /// The information-sharing gateway.
    pub gateway: String,
}

/// A node taking part in a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantView {
    /// Member name.
    pub member: String,
    /// Role's name.
    pub role: String,
}

/// What left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputView {
    /// Output class.
    pub output_class: String,
    /// SHA-256 of the response body, hex.
    pub result_hash: String,
    /// Records released.
    pub records_released: u64,
    /// The disclosure rule applied.
    pub disclosure_rule: String,
    /// The node checkpoint size a receipt was verified to.
    pub node_log_size: u64,
    /// Its root, hex.
    pub node_log_root: String,
}

/// A privacy-budget charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetView {
    /// The coordinator charged.
    pub coordinator: String,
    /// `officer@organisation`.
    pub requester: String,
    /// The dataset.
    pub dataset: String,
    /// The budget period.
    pub period: String,
    /// Millionths of epsilon.
    pub epsilon_micro: u64,
    /// Epsilon as decimal text.
    pub epsilon: String,
}

impl EntryView {
    /// The view of `entry`, whose exact bytes hash to `leaf`.
    pub fn new(entry: &pb::AuditEntry, leaf: &Hash) -> Self {
        Self {
            index: entry.index,
            origin: entry.origin.clone(),
            time_ms: entry.time_ms,
            time: format_utc_ms(entry.time_ms),
            event: event_name(entry.event_type),
            decision: decision_name(entry.decision),
            rule: entry.rule.clone(),
            reason: entry.reason.clone(),
            actor: entry.actor.as_ref().map(|a| ActorView {
                member: a.member.clone(),
                cert_fingerprint: a.cert_fingerprint.clone(),
                auth_method: a.auth_method.clone(),
                requester: a.requester.as_ref().map(|r| RequesterView {
                    officer_id: r.officer_id.clone(),
                    role: r.role.clone(),
                    organisation: r.organisation.clone(),
                }),
            }),
            query: entry.query.as_ref().map(query_view),
            output: entry.output.as_ref().map(|o| OutputView {
                output_class: o.output_class.clone(),
                result_hash: hex::encode(&o.result_hash),
                records_released: o.records_released,
                disclosure_rule: o.disclosure_rule.clone(),
                node_log_size: o.node_log_size,
                node_log_root: hex::encode(&o.node_log_root),
            }),
            recipients: entry.recipients.clone(),
            request_index: entry.request_index,
            detail: entry.detail.clone(),
            budget: entry.budget.as_ref().map(|b| BudgetView {
                coordinator: b.coordinator.clone(),
                requester: b.requester.clone(),
                dataset: b.dataset.clone(),
                period: b.period.clone(),
                epsilon_micro: b.epsilon_micro,
                epsilon: micro_to_string(b.epsilon_micro),
            }),
            relay_digests: entry.relay_digests.clone(),
            payload_commitment: hex::encode(&entry.payload_commitment),
            subject_count: entry.subject_count,
            leaf_hash: leaf.to_hex(),
        }
    }

    /// Decodes entry bytes strictly and views them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        Ok(Self::new(&decode_entry(bytes)?, &leaf_hash(bytes)))
    }

    /// The cells of [`SUMMARY_COLUMNS`], for tables and CSV.
    pub fn summary(&self) -> [String; 12] {
        let query = self.query.as_ref();
        let requester = self.actor.as_ref().map_or_else(String::new, |a| match &a.requester {
            Some(r) if !r.officer_id.is_empty() => format!("{}@{}", r.officer_id, r.organisation),
            _ => a.member.clone(),
        });
        let to = if self.recipients.is_empty() {
            query.map(|q| q.audience.clone()).unwrap_or_default()
        } else {
            self.recipients.join(",")
        };
        let output = self.output.as_ref();
        [
            self.index.to_string(),
            self.time.clone(),
            self.event.clone(),
            self.decision.clone(),
            self.rule.clone(),
            requester,
            query.map(|q| q.purpose.clone()).unwrap_or_default(),
            query.map(|q| q.mode.clone()).filter(|m| m != UNSPECIFIED).unwrap_or_default(),
            query.map(|q| q.query_id.clone()).unwrap_or_default(),
            to,
            output.map(|o| o.output_class.clone()).unwrap_or_default(),
            output.map(|o| o.records_released.to_string()).unwrap_or_default(),
        ]
    }
}

/// The columns of [`EntryView::summary`], as headers.
pub const SUMMARY_COLUMNS: [&str; 12] = [
    "index",
    "time",
    "event",
    "decision",
    "rule",
    "requester",
    "purpose",
    "mode",
    "query_id",
    "to",
    "output_class",
    "records_released",
];

const UNSPECIFIED: &str = "unspecified";

fn query_view(q: &pb::QueryRecord) -> QueryView {
    QueryView {
        query_id: query_id_text(&q.query_id),
        session_id: hex::encode(&q.session_id),
        envelope_hash: hex::encode(&q.envelope_hash),
        mode: mode_name(q.mode),
        role: role_name(q.role),
        audience: q.audience.clone(),
        coordinator: q.coordinator.clone(),
        purpose: q.purpose.clone(),
        lawful_basis: q.lawful_basis.as_ref().map(|l| LawfulBasisView {
            regime: l.regime.clone(),
            article: l.article.clone(),
            gateway: l.gateway.clone(),
        }),
        dsa_ref: q.dsa_ref.clone(),
        case_ref: q.case_ref.clone(),
        justification: q.justification.clone(),
        authoriser_id: q.authoriser_id.clone(),
        issued_at_ms: q.issued_at_ms,
        expires_at_ms: q.expires_at_ms,
        participants: q
            .participants
            .iter()
            .map(|p| ParticipantView { member: p.member.clone(), role: role_name(p.role) })
            .collect(),
    }
}

/// A query id as UUID text when it is 16 bytes, otherwise hex (an empty id is `""`).
pub fn query_id_text(bytes: &[u8]) -> String {
    match <[u8; 16]>::try_from(bytes) {
        Ok(id) => uuid::Uuid::from_bytes(id).hyphenated().to_string(),
        Err(_) => hex::encode(bytes),
    }
}

/// `EVENT_TYPE_QUERY_ISSUED` → `query-issued`.
fn kebab(proto_name: &str, prefix: &str) -> String {
    proto_name.strip_prefix(prefix).unwrap_or(proto_name).to_ascii_lowercase().replace('_', "-")
}

/// The kebab name of an event type value.
pub fn event_name(value: i32) -> String {
    pb::EventType::try_from(value)
        .map_or_else(|_| format!("unknown({value})"), |e| kebab(e.as_str_name(), "EVENT_TYPE_"))
}

/// The kebab name of a decision value.
pub fn decision_name(value: i32) -> String {
    pb::Decision::try_from(value)
        .map_or_else(|_| format!("unknown({value})"), |d| kebab(d.as_str_name(), "DECISION_"))
}

/// The kebab name of a mode value.
pub fn mode_name(value: i32) -> String {
    pb::Mode::try_from(value)
        .map_or_else(|_| format!("unknown({value})"), |m| kebab(m.as_str_name(), "MODE_"))
}

/// The kebab name of a node role value.
pub fn role_name(value: i32) -> String {
    pb::NodeRole::try_from(value)
        .map_or_else(|_| format!("unknown({value})"), |r| kebab(r.as_str_name(), "NODE_ROLE_"))
}

#[cfg(test)]
mod tests;
