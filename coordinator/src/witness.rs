//! Mutual cosigning and independent witnesses, at the end of a command (design-review F14;
//! audit-privacy-legal.md §1.4 step 5). Every node whose receipt the command verified is sent
//! the coordinator's latest checkpoint, with a consistency proof from the size that node last
//! cosigned, and the coordinator's cosignatures of that node's checkpoints; each configured
//! independent witness is sent the checkpoint alone. The cosignatures that come back go into
//! the coordinator's own log's `cosignature` table.
//!
//! Witnessing runs after the answer is printed and never changes it: a witness that is down,
//! refuses, or reports a fork or split view is a warning for the analyst, said plainly.

use fedlink_proto::audit::checkpoint::open_checkpoint;
use fedlink_proto::audit::cosignature::CosignatureVerifier;
use fedlink_proto::audit::store::StoreError;
use fedlink_proto::witness::{Submission, WitnessAnswer, member_cosigner_name};

use crate::client::connect_witness;
use crate::coordinator::Coordinator;
use crate::error::CoordinatorError;

/// Someone asked to cosign the coordinator's checkpoint.
#[derive(Debug, Clone)]
struct Target {
    /// For messages: "node police", "witness dpo".
    label: String,
    /// Where its Witness service listens.
    address: String,
    /// The TLS name to expect.
    tls_name: Option<String>,
    /// Its cosigner key.
    verifier: CosignatureVerifier,
    /// The node whose checkpoints the coordinator cosigned and delivers here, if a node.
    node: Option<String>,
}

/// What one witness did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Who: "node police", "witness dpo".
    pub witness: String,
    /// The size it cosigned and how many of the coordinator's cosignatures it took, or why
    /// not.
    pub result: Result<Cosigned, String>,
}

/// A successful exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cosigned {
    /// The coordinator log size cosigned.
    pub size: u64,
    /// Coordinator cosignatures of the node's checkpoints it verified and kept.
    pub delivered: u32,
}

/// Every exchange of one command.
#[derive(Debug, Clone, Default)]
pub struct WitnessReport {
    /// One per node contacted and per configured witness.
    pub exchanges: Vec<Exchange>,
}

impl WitnessReport {
    /// One warning line per witness that did not cosign.
    pub fn warnings(&self) -> Vec<String> {
        self.exchanges
            .iter()
            .filter_map(|e| {
                e.result.as_ref().err().map(|problem| {
                    format!("{} did not cosign the coordinator's log: {problem}", e.witness)
                })
            })
            .collect()
    }

    /// One line saying who cosigned what, or `None` when nobody was asked.
    pub fn summary(&self) -> Option<String> {
        let cosigned: Vec<String> = self
            .exchanges
            .iter()
            .filter_map(|e| {
                e.result.as_ref().ok().map(|c| format!("{} at size {}", e.witness, c.size))
            })
            .collect();
        let delivered: u32 =
            self.exchanges.iter().filter_map(|e| e.result.as_ref().ok()).map(|c| c.delivered).sum();
        (!self.exchanges.is_empty()).then(|| {
            format!(
                "witnessing: the coordinator's log was cosigned by {} of {} ({}); {delivered} \
                 coordinator cosignatures of node checkpoints delivered",
                cosigned.len(),
                self.exchanges.len(),
                if cosigned.is_empty() { "none".to_string() } else { cosigned.join(", ") }
            )
        })
    }
}

/// Sends the coordinator's checkpoint to every node contacted in this command and to every
/// configured independent witness, concurrently, and keeps what comes back.
pub async fn exchange_cosignatures(coordinator: &Coordinator) -> WitnessReport {
    let settings = coordinator.settings();
    let federation = &settings.federation;
    let nodes = coordinator
        .contacted_nodes()
        .into_iter()
        .filter_map(|name| federation.member(&name).cloned())
        .map(|node| Target {
            label: format!("node {}", node.name),
            address: node.endpoint.clone().unwrap_or_default(),
            tls_name: node.tls_name.clone(),
            verifier: CosignatureVerifier::new(
                &member_cosigner_name(&federation.name, &node.name),
                node.public_key,
            ),
            node: Some(node.name.clone()),
        });
    let independents = settings.witnesses.iter().map(|w| Target {
        label: format!("witness {}", w.name),
        address: w.address.clone(),
        tls_name: w.tls_name.clone(),
        verifier: w.verifier.clone(),
        node: None,
    });
    let targets: Vec<Target> = nodes.chain(independents).collect();
    let exchanges = futures::future::join_all(targets.into_iter().map(|target| async move {
        let result = exchange(coordinator, &target).await;
        Exchange { witness: target.label, result }
    }))
    .await;
    WitnessReport { exchanges }
}

/// One witness: submit from the size it last cosigned (0 if none), retry once from the size a
/// 409 names, verify and store its cosignature.
async fn exchange(coordinator: &Coordinator, target: &Target) -> Result<Cosigned, String> {
    let store = |e: CoordinatorError| e.to_string();
    let name = target.verifier.name();
    let mut old =
        coordinator.log().map_err(store)?.last_cosigned_size(name).map_err(|e| e.to_string())?;
    let delivered = match &target.node {
        Some(node) => {
            coordinator.receipts().map_err(store)?.undelivered_cosignatures(node).map_err(store)?
        }
        None => Vec::new(),
    };
    let latest =
        coordinator.log().map_err(store)?.latest_checkpoint().map_err(|e| e.to_string())?;
    let Some((size, _, _)) = latest else {
        return Err("the coordinator's log is empty".into());
    };
    if old == Some(size) && delivered.is_empty() {
        return Ok(Cosigned { size, delivered: 0 });
    }
    let tls = coordinator.client_tls();
    let mut client = connect_witness(&target.address, target.tls_name.as_deref(), &tls)
        .await
        .map_err(|e| e.to_string())?;
    for attempt in 0..2 {
        let from = old.unwrap_or(0);
        let (submission, checkpoint) = {
            let log = coordinator.log().map_err(store)?;
            let s = match log.witness_submission(from) {
                Ok(Some(s)) => s,
                Ok(None) => return Err("the coordinator's log is empty".into()),
                Err(StoreError::KnownSizeAhead { known, size }) => {
                    return Err(format!(
                        "it has cosigned size {known} of the coordinator's log, which holds only \
                         {size}: it was shown a different log under the coordinator's key (a \
                         fork), or this log was rolled back"
                    ));
                }
                Err(e) => return Err(e.to_string()),
            };
            let cp = open_checkpoint(&s.note, &log.verifier()).map_err(|e| e.to_string())?;
            (s, cp)
        };
        let request = Submission {
            old_size: submission.old_size,
            proof: submission.proof,
            note: submission.note,
            delivered: delivered.clone(),
        };
        let reply = client.add_checkpoint(request.to_pb()).await.map(|r| r.into_inner());
        match WitnessAnswer::read(reply, &target.verifier, &checkpoint) {
            WitnessAnswer::Cosigned { line, stored, .. } => {
                let now = coordinator.now_ms();
                coordinator
                    .log()
                    .map_err(store)?
                    .add_cosignature(checkpoint.size, name, &line, now)
                    .map_err(|e| e.to_string())?;
                if let Some(node) = &target.node {
                    let sizes: Vec<u64> = delivered.iter().map(|(s, _)| *s).collect();
                    coordinator
                        .receipts()
                        .map_err(store)?
                        .mark_delivered(node, &sizes, now)
                        .map_err(store)?;
                }
                return Ok(Cosigned { size: checkpoint.size, delivered: stored });
            }
            WitnessAnswer::Conflict { witness_size, .. } if attempt == 0 => {
                old = Some(witness_size);
            }
            WitnessAnswer::Conflict { message, .. } => return Err(message),
            WitnessAnswer::Refused { rule, message } => {
                return Err(format!("refused by rule {rule}: {message}"));
            }
            WitnessAnswer::Failed(problem) => return Err(problem),
        }
    }
    Err("it named a different size twice".into())
}
