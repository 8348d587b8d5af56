//! What every request handler shares: who this node is, its federation, its policy and its audit
//! gate. Immutable after start-up except the log, which guards itself.

use std::path::PathBuf;
use std::sync::Arc;

use fedlink_proto::federation::{Federation, Member};
use fedlink_proto::identity::IdentityKey;

use crate::dataset::schema::DatasetSchema;
use crate::gate::AuditGate;
use crate::link::session::Sessions;
use crate::policy::Policy;
use crate::subject_tokens::SubjectTokenKey;

/// The node's shared state.
pub struct NodeState {
    /// This node as the federation file lists it.
    pub me: Member,
    /// The federation.
    pub federation: Federation,
    /// The policy loaded at start-up.
    pub policy: Policy,
    /// The audit log, behind the gate that makes answers wait for it.
    pub audit: AuditGate,
    /// The configured datasets' schemas, in config order.
    pub datasets: Vec<DatasetSchema>,
    /// The data folder (`datasets.db`, `audit.db`, `approvals.db`, `subject-token.key`).
    pub data_dir: PathBuf,
    /// The node's federation signing key: relay hellos and cohort descriptors.
    pub identity: IdentityKey,
    /// Open linked-query sessions (memory only).
    pub sessions: Sessions,
    /// The node-local key of the subject tokens its audit payloads hold (never sent).
    pub subject_tokens: Arc<SubjectTokenKey>,
    /// Tests only: release linked tables exact (config `danger_exact_linked_counts`).
    pub danger_exact_linked_counts: bool,
}

impl NodeState {
    /// The dataset store's file.
    pub fn datasets_db(&self) -> PathBuf {
        self.data_dir.join("datasets.db")
    }

    /// The schema of a configured dataset.
    pub fn schema(&self, name: &str) -> Option<&DatasetSchema> {
        self.datasets.iter().find(|d| d.name == name)
    }
}
