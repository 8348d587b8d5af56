//! The node as a witness of its federation's coordinator logs (mutual cosigning, design-review
//! F14): which logs it witnesses (every coordinator of the federation file, at the origin its
//! log has), and its own audit log as the place where the coordinator's cosignatures of this
//! node's checkpoints are checked and kept, and where alarms are entered.

use std::sync::Arc;

use fedlink_proto::audit::checkpoint::{Checkpoint, NoteVerifier};
use fedlink_proto::audit::cosignature::{CosignatureVerifier, Cosigner};
use fedlink_proto::clock::Clock;
use fedlink_proto::federation::{Federation, MemberRole};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use fedlink_proto::witness::{WitnessRefusal, member_cosigner_name};

use crate::state::NodeState;
use crate::witness::service::{OwnLog, WitnessCore};
use crate::witness::state::{WitnessState, WitnessedLog, WitnessedLogs};

/// Every coordinator's log in the federation: its origin, its checkpoint key, and its cosigner
/// key (the same Ed25519 key; the cosignature type byte and header keep the uses apart).
pub fn coordinator_logs(federation: &Federation) -> WitnessedLogs {
    WitnessedLogs::new(federation.members().filter(|m| m.role == MemberRole::Coordinator).map(
        |m| {
            let origin = m.log_origin(&federation.name);
            WitnessedLog {
                verifier: NoteVerifier::new(&origin, m.public_key),
                origin,
                owner: m.name.clone(),
                owner_cosigner: Some(CosignatureVerifier::new(
                    &member_cosigner_name(&federation.name, &m.name),
                    m.public_key,
                )),
            }
        },
    ))
}

/// The node's witness: its state in `witness.db`, the coordinators' logs, cosigning as
/// `fedlink.witness/<federation>/<node>` with the node's identity key.
pub fn node_witness(
    state: WitnessState,
    federation: &Federation,
    me: &str,
    identity: IdentityKey,
    node: Arc<NodeState>,
    clock: Arc<dyn Clock>,
) -> Result<WitnessCore, WitnessRefusal> {
    let cosigner = Cosigner::new(&member_cosigner_name(&federation.name, me), identity)
        .map_err(|e| WitnessRefusal::Internal(e.to_string()))?;
    let own: Arc<dyn OwnLog> = Arc::new(NodeOwnLog { node });
    Ok(WitnessCore::new(state, coordinator_logs(federation), cosigner, clock, Some(own)))
}

/// The node's audit log, seen by its witness.
struct NodeOwnLog {
    /// The node's shared state, whose audit gate holds the log.
    node: Arc<NodeState>,
}

impl OwnLog for NodeOwnLog {
    fn accept_cosignatures(
        &self,
        from: &CosignatureVerifier,
        delivered: &[(u64, String)],
    ) -> Result<u32, WitnessRefusal> {
        let now = self.node.audit.now_ms();
        let stored = self.node.audit.with_log(|log| {
            // Check every one before storing any: one that does not verify over this log's
            // own checkpoint means its maker was shown a different log of this node.
            for (size, line) in delivered {
                let split = |problem: String| WitnessRefusal::SplitView {
                    cosigner: from.name().to_string(),
                    size: *size,
                    problem,
                };
                let Some((root, _)) = log.checkpoint_at(*size)? else {
                    return Ok(Err(split(format!(
                        "this log never signed a checkpoint of size {size} (it holds {})",
                        log.size()
                    ))));
                };
                let own = Checkpoint { origin: log.origin().to_string(), size: *size, root };
                if let Err(e) = from.verify(&own, line) {
                    return Ok(Err(split(e.to_string())));
                }
            }
            for (size, line) in delivered {
                log.add_cosignature(*size, from.name(), line, now)?;
            }
            Ok(Ok(u32::try_from(delivered.len()).unwrap_or(u32::MAX)))
        });
        stored.map_err(|e| WitnessRefusal::Internal(e.to_string()))?
    }

    fn record_alarm(&self, log: &WitnessedLog, refusal: &WitnessRefusal, note: &str) {
        let entry = pb::AuditEntry {
            event_type: pb::EventType::WitnessAlarm as i32,
            decision: pb::Decision::Denied as i32,
            rule: refusal.rule().into(),
            reason: refusal.to_string(),
            actor: Some(pb::Actor {
                member: log.owner.clone(),
                auth_method: "checkpoint signature".into(),
                ..Default::default()
            }),
            detail: format!("refused, from the log {}:\n{note}", log.origin),
            ..Default::default()
        };
        if let Err(e) = self.node.audit.with_log(|l| l.append(entry, None)) {
            tracing::error!(error = %e, "could not enter a witness alarm in the audit log");
        }
    }
}
