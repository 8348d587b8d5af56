//! What every request handler shares: who this node is, its federation, its policy and its audit
//! gate. Immutable after start-up except the log, which guards itself.

use std::path::PathBuf;

use fedlink_proto::federation::{Federation, Member};

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
    /// The configured datasets' names, in config order.
    pub datasets: Vec<String>,
    /// The data folder (`datasets.db` and `audit.db`).
    pub data_dir: PathBuf,
}
