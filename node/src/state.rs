//! What every request handler shares: who this node is, its federation, its policy and its audit
//! gate. Immutable after start-up except the log, which guards itself.

use std::path::PathBuf;

use fedlink_proto::federation::{Federation, Member};

use crate::dataset::schema::DatasetSchema;
use crate::gate::AuditGate;
use crate::policy::Policy;

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
    /// The data folder (`datasets.db` and `audit.db`).
    pub data_dir: PathBuf,
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
