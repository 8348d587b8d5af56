//! The node's error type, and its one mapping to a gRPC status.

use fedlink_proto::audit::store::StoreError;

/// Why a request did not get its answer.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request was refused and the refusal is already in the audit log; the status names
    /// the rule and carries the receipt.
    #[error("refused: {}", .0.message())]
    Refused(tonic::Status),
    /// The audit log could not be read or written.
    #[error("audit log: {0}")]
    Audit(#[from] StoreError),
    /// Something that should not happen did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<NodeError> for tonic::Status {
    fn from(err: NodeError) -> Self {
        match err {
            NodeError::Refused(status) => status,
            NodeError::Audit(e) => {
                tracing::error!(error = %e, "audit log failure");
                tonic::Status::internal(
                    "the node could not write its audit log; nothing was answered",
                )
            }
            NodeError::Internal(msg) => {
                // The detail stays in the node's service log: an error message that depends on
                // the data would be an answer that skipped disclosure control.
                tracing::error!(error = %msg, "internal error");
                tonic::Status::internal(
                    "the node could not complete the answer; nothing was released (details are \
                     in the node's service log)",
                )
            }
        }
    }
}
