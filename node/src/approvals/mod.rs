//! Operator approval of flag-back requests (design-review F6 and F12; issue 5, "flag-back").
//!
//! Flag-back returns one flag and one coarse label per cohort row to the cohort node. That is
//! person-level output, so the node holding the partner data (B) computes it only after an
//! operator at B has approved the request. This module keeps those requests and decisions in
//! `approvals.db` in the node's data folder. Two processes share the file: the node records a
//! request and polls it, and an operator decides it with `fedlink node approvals`. SQLite in
//! WAL mode with a busy timeout makes that safe.
//!
//! The cohort is blinded, so the approver cannot check that the rows belong to the case
//! (design-review F12). Without the following rules an approval would only rubber-stamp
//! metadata:
//!
//! - **The approver sees what the request claims, and the case's record.** A request holds the
//!   attested row count, purpose, lawful basis, requester, authoriser, dataset and case
//!   reference. [`ApprovalStore::history`] gives the case reference's earlier requests, their
//!   decisions and counts, and the caps still left.
//! - **Caps are enforced, not just displayed.** [`ApprovalStore::approve`] refuses if the
//!   approval would take the case reference past `max_rows_per_case` over the last
//!   `case_period_days`, or the node past `max_rows_per_day` in the current UTC day (every case
//!   and dataset counts toward that). The refusal names the policy key. The caps come from the
//!   `flag_back` section of the dataset's `[[linkage]]` rule ([`caps_for`]).
//! - **An approval is bound to one query hash.** [`ApprovalStore::approved_for`] answers only
//!   for the exact hash approved, and only until the request expires. An approval for hash X
//!   never authorises hash Y, even for the same case reference.
//! - **A decision is made once.** Approving or denying is one `UPDATE … WHERE state =
//!   'pending'` inside an immediate (write-locked) transaction that also re-counts the caps.
//!   Two operators cannot both decide a request, and two approvals cannot together go past a
//!   cap.
//! - **A request that waits too long expires.** A pending request read at or after its
//!   `expires_at_ms` reads as [`ApprovalState::Expired`] and can no longer be decided. The
//!   node's wait then ends with a clear timeout instead of hanging.
//! - **No identifiers of people.** Only the request's metadata is stored, never a cohort row.
//!
//! Recording a decision in the node's signed audit log is the node's job when it reads the
//! decision. This store is the rendezvous between the two processes, not the audit record.

mod error;
mod store;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use error::ApprovalError;
pub use store::ApprovalStore;

use crate::policy::Policy;
use crate::policy::linkage::FlagBackRules;

/// The file name of the approvals database in the node's data folder.
pub const FILE_NAME: &str = "approvals.db";

/// Milliseconds in a day. Caps count whole UTC days, as the audit log's dates do.
pub const DAY_MS: i64 = 86_400_000;

/// Where a node with data folder `data_dir` keeps its approvals.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// A flag-back request waiting for an operator: the envelope's metadata only, never a cohort
/// row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// Hash of the signed query. An approval authorises this hash and no other.
    pub query_hash: [u8; 32],
    /// The query id (UUID text).
    pub query_id: String,
    /// The case reference, as the police authoriser signed it.
    pub case_ref: String,
    /// The purpose code.
    pub purpose: String,
    /// The lawful basis, as display text.
    pub lawful_basis: String,
    /// Who asks: officer id and organisation, as display text.
    pub requester: String,
    /// Who authorised it at the requesting organisation, as display text.
    pub authoriser: String,
    /// The dataset at this node the cohort is flagged against.
    pub dataset: String,
    /// The number of cohort rows, as the cohort node's signed descriptor states it.
    pub attested_rows: u32,
    /// When this node received the request.
    pub requested_at_ms: i64,
    /// When the request stops waiting: read at or after this time, a pending request is
    /// expired.
    pub expires_at_ms: i64,
}

/// Longest text a request field may hold. The fields come from the network and are shown on
/// an operator's terminal, so they are kept short.
pub const MAX_FIELD_LEN: usize = 512;

impl ApprovalRequest {
    /// Refuses a request that could not be shown to an operator as it is: an empty or overlong
    /// field, control characters (which could rewrite the operator's terminal), or an expiry
    /// that is not after receipt.
    pub fn validate(&self) -> Result<(), ApprovalError> {
        for (field, value) in [
            ("query_id", &self.query_id),
            ("case_ref", &self.case_ref),
            ("purpose", &self.purpose),
            ("lawful_basis", &self.lawful_basis),
            ("requester", &self.requester),
            ("authoriser", &self.authoriser),
            ("dataset", &self.dataset),
        ] {
            check_text(field, value)?;
        }
        if self.attested_rows == 0 {
            return Err(ApprovalError::InvalidRequest {
                field: "attested_rows",
                problem: "a flag-back request must attest at least one row".into(),
            });
        }
        if self.expires_at_ms <= self.requested_at_ms {
            return Err(ApprovalError::InvalidRequest {
                field: "expires_at_ms",
                problem: "must be after requested_at_ms".into(),
            });
        }
        Ok(())
    }

    /// Whether `other` asks the same thing. The receipt and expiry times are left out: a node
    /// that receives the same signed query twice records it at two different times.
    pub fn same_query(&self, other: &ApprovalRequest) -> bool {
        self.query_hash == other.query_hash
            && self.query_id == other.query_id
            && self.case_ref == other.case_ref
            && self.purpose == other.purpose
            && self.lawful_basis == other.lawful_basis
            && self.requester == other.requester
            && self.authoriser == other.authoriser
            && self.dataset == other.dataset
            && self.attested_rows == other.attested_rows
    }
}

/// Refuses empty, overlong or control-character text, naming the field.
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), ApprovalError> {
    let problem = if value.trim().is_empty() {
        "is empty"
    } else if value.len() > MAX_FIELD_LEN {
        "is too long"
    } else if value.chars().any(char::is_control) {
        "holds control characters"
    } else {
        return Ok(());
    };
    Err(ApprovalError::InvalidRequest { field, problem: problem.into() })
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalState {
    /// Waiting for an operator.
    Pending,
    /// Approved: flag-back may run for this query hash.
    Approved {
        /// Who approved it.
        approver: String,
        /// When.
        at_ms: i64,
    },
    /// Denied: flag-back must not run.
    Denied {
        /// Who denied it.
        approver: String,
        /// Why, in the approver's words.
        reason: String,
        /// When.
        at_ms: i64,
    },
    /// Nobody decided before the request expired: flag-back must not run.
    Expired,
}

impl ApprovalState {
    /// One word: pending, approved, denied or expired.
    pub fn name(&self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved { .. } => "approved",
            ApprovalState::Denied { .. } => "denied",
            ApprovalState::Expired => "expired",
        }
    }

    /// Whether the request still waits for a decision.
    pub fn is_pending(&self) -> bool {
        matches!(self, ApprovalState::Pending)
    }

    /// The decision in a few words, e.g. `approved by J. Smith`.
    pub fn describe(&self) -> String {
        match self {
            ApprovalState::Pending => "pending".into(),
            ApprovalState::Approved { approver, .. } => format!("approved by {approver}"),
            ApprovalState::Denied { approver, reason, .. } => {
                format!("denied by {approver} ({reason})")
            }
            ApprovalState::Expired => "expired undecided".into(),
        }
    }
}

/// A stored request and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// The request's number at this node, which operators use.
    pub id: i64,
    /// What was asked.
    pub request: ApprovalRequest,
    /// Where it stands at the time it was read.
    pub state: ApprovalState,
}

/// The flag-back caps that apply to a request (design-review F12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCaps {
    /// Most rows one case reference may have approved over `case_period_days`.
    pub max_rows_per_case: u32,
    /// The length of the case period, in days, ending now.
    pub case_period_days: u32,
    /// Most rows this node may approve in one UTC day, across every case.
    pub max_rows_per_day: u32,
}

impl CaseCaps {
    /// The start of the case period ending at `now_ms`. Approvals decided after it count.
    pub fn period_start_ms(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(i64::from(self.case_period_days).saturating_mul(DAY_MS))
    }

    /// Midnight UTC at the start of `now_ms`'s day. Approvals decided at or after it count.
    pub fn day_start_ms(now_ms: i64) -> i64 {
        now_ms.div_euclid(DAY_MS) * DAY_MS
    }
}

impl From<&FlagBackRules> for CaseCaps {
    fn from(rules: &FlagBackRules) -> Self {
        Self {
            max_rows_per_case: rules.max_rows_per_case,
            case_period_days: rules.case_period_days,
            max_rows_per_day: rules.max_rows_per_day,
        }
    }
}

/// The caps for a request on `dataset` under `purpose`. They come from the `flag_back` section
/// of the first `[[linkage]]` rule for the dataset whose flag-back purposes include `purpose`.
/// With no such rule, flag-back is not allowed and nothing may be approved (deny by default).
pub fn caps_for(policy: &Policy, dataset: &str, purpose: &str) -> Result<CaseCaps, ApprovalError> {
    let mut any_flag_back = false;
    for rule in policy.linkage.iter().filter(|r| r.dataset == dataset) {
        if let Some(flag_back) = &rule.flag_back {
            any_flag_back = true;
            if flag_back.purposes.iter().any(|p| p == purpose) {
                return Ok(CaseCaps::from(flag_back));
            }
        }
    }
    Err(if any_flag_back {
        ApprovalError::FlagBackPurposeNotAllowed {
            dataset: dataset.to_string(),
            purpose: purpose.to_string(),
        }
    } else {
        ApprovalError::FlagBackNotAllowed { dataset: dataset.to_string() }
    })
}

/// What an approver must see of a case reference before deciding (design-review F12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseHistory {
    /// The case reference.
    pub case_ref: String,
    /// Every request under this case reference, newest first, whatever its state. A pending
    /// request being shown appears here too.
    pub previous: Vec<ApprovalRecord>,
    /// Rows approved for this case reference in the case period ending now.
    pub rows_approved_in_period: u64,
    /// Rows this case reference may still have approved in that period.
    pub rows_remaining_for_case: u64,
    /// Rows approved at this node today (UTC), across every case.
    pub rows_approved_today: u64,
    /// Rows this node may still approve today.
    pub rows_remaining_today: u64,
}
