//! Why the approvals store refused or failed. A refusal's message is written for an operator
//! and names the policy key that refused, so that the operator knows which cap a case hit.

use std::path::PathBuf;

/// An approvals-store refusal or failure.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The database could not be opened, read or written.
    #[error("approvals database: {0}")]
    Store(#[from] rusqlite::Error),
    /// The file was written by another version of this store.
    #[error("{path} has approvals format {found}, but this fedlink reads format {expected}")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The format found.
        found: i64,
        /// The format this build reads and writes.
        expected: i64,
    },
    /// A stored row that this store could not have written.
    #[error("approvals database: request {id} is corrupt: {problem}")]
    Corrupt {
        /// The request.
        id: i64,
        /// What is wrong.
        problem: String,
    },
    /// No request has this id.
    #[error("there is no approval request {0}")]
    UnknownId(i64),
    /// A request or decision field that cannot be stored or shown as it is.
    #[error("{field} {problem}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The same query hash was recorded before with different metadata. The hash identifies
    /// the signed query, so an operator could otherwise approve a request whose details they
    /// were never shown.
    #[error(
        "query hash already recorded as request {id} with different details; refusing to \
         record it again"
    )]
    HashConflict {
        /// The request already recorded.
        id: i64,
    },
    /// The request was decided already.
    #[error("request {id} was already decided: {decision}")]
    AlreadyDecided {
        /// The request.
        id: i64,
        /// The decision, e.g. `approved by J. Smith`.
        decision: String,
    },
    /// Nobody decided the request before it expired, so nobody may decide it now.
    #[error(
        "request {id} has expired: it can no longer be approved or denied (the requester must \
         send it again)"
    )]
    Expired {
        /// The request.
        id: i64,
    },
    /// Approving would take the case reference past its cap over the case period.
    #[error(
        "approving request {id} would take case reference {case_ref:?} past its cap of {limit} \
         rows per {period_days} days (policy flag_back.max_rows_per_case): {approved} rows \
         approved in the period, this request asks for {asked}"
    )]
    CaseCapExceeded {
        /// The request.
        id: i64,
        /// The case reference.
        case_ref: String,
        /// `max_rows_per_case`.
        limit: u32,
        /// `case_period_days`.
        period_days: u32,
        /// Rows already approved in the period.
        approved: u64,
        /// Rows this request attests.
        asked: u32,
    },
    /// Approving would take the node past its daily cap.
    #[error(
        "approving request {id} would take this node past its cap of {limit} flag-back rows per \
         day (policy flag_back.max_rows_per_day): {approved} rows approved today (UTC), this \
         request asks for {asked}"
    )]
    DayCapExceeded {
        /// The request.
        id: i64,
        /// `max_rows_per_day`.
        limit: u32,
        /// Rows already approved today.
        approved: u64,
        /// Rows this request attests.
        asked: u32,
    },
    /// The policy has no flag-back rule for the dataset.
    #[error(
        "flag-back is not allowed for dataset {dataset:?}: no [[linkage]] rule for it has a \
         flag_back section"
    )]
    FlagBackNotAllowed {
        /// The dataset.
        dataset: String,
    },
    /// The policy allows flag-back for the dataset, but not for this purpose.
    #[error("flag-back is not allowed for dataset {dataset:?} under purpose {purpose:?}")]
    FlagBackPurposeNotAllowed {
        /// The dataset.
        dataset: String,
        /// The purpose.
        purpose: String,
    },
}

impl ApprovalError {
    /// Whether this is a refusal an operator can act on (an unknown or decided request, an
    /// expired one, a cap, a policy that does not allow it) rather than a failure of the store.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            ApprovalError::Store(_)
                | ApprovalError::UnknownFormat { .. }
                | ApprovalError::Corrupt { .. }
        )
    }

    /// The policy key that refused, for a cap or policy refusal.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            ApprovalError::CaseCapExceeded { .. } => Some("flag_back.max_rows_per_case"),
            ApprovalError::DayCapExceeded { .. } => Some("flag_back.max_rows_per_day"),
            ApprovalError::FlagBackNotAllowed { .. } => Some("linkage.flag_back"),
            ApprovalError::FlagBackPurposeNotAllowed { .. } => Some("flag_back.purposes"),
            _ => None,
        }
    }
}
