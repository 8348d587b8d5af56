//! A node's own checkpoints, sent to the independent witnesses its config lists (`[[witness]]`;
//! design-review F14: the police node's log has an independent holder besides the police
//! coordinator).
//!
//! When: on a timer (`witness_push_every_s` in the node config, 5 s by default), and only when
//! the log has grown since the witness last cosigned. A timer, not a push after each answer, so
//! that witnessing never touches the request path and can never delay an answer, and every
//! answer of an interval is covered by one submission of the latest checkpoint. A witness that
//! is down or refuses is tried again at the next tick; the problem is logged when it starts or
//! changes, never silently dropped.

use std::sync::Arc;
use std::time::Duration;

use fedlink_proto::audit::checkpoint::{Checkpoint, open_checkpoint};
use fedlink_proto::audit::store::StoreError;
use fedlink_proto::audit::store::cosignatures::WitnessSubmission;
use fedlink_proto::pb::witness_client::WitnessClient;
use fedlink_proto::witness::{ConfiguredWitness, Submission, WitnessAnswer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::error::NodeError;
use crate::state::NodeState;

/// The node's TLS material as a client of its witnesses.
#[derive(Clone)]
pub struct ClientPem {
    /// The federation CA, which signs the witness's certificate.
    pub ca: String,
    /// The node's certificate (it serves for client authentication too).
    pub cert: String,
    /// The node's TLS key.
    pub key: String,
}

/// Sends the node's checkpoints to each configured witness every `every`, until dropped.
pub async fn run(
    node: Arc<NodeState>,
    witnesses: Vec<ConfiguredWitness>,
    tls: ClientPem,
    every: Duration,
) {
    let mut problems: Vec<Option<String>> = vec![None; witnesses.len()];
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (witness, last_problem) in witnesses.iter().zip(problems.iter_mut()) {
            match push(&node, witness, &tls).await {
                Ok(cosigned) => {
                    if last_problem.take().is_some() {
                        tracing::info!(witness = %witness.name, "witness reachable again");
                    }
                    if let Some(size) = cosigned {
                        tracing::info!(witness = %witness.name, size, "checkpoint cosigned");
                    }
                }
                Err(problem) => {
                    if last_problem.as_deref() != Some(problem.as_str()) {
                        tracing::warn!(witness = %witness.name, "witnessing failed: {problem}");
                        *last_problem = Some(problem);
                    }
                }
            }
        }
    }
}

/// Submits the latest checkpoint to one witness if it has not cosigned it yet, retrying once
/// from the size a 409 names; stores the cosignature in the node's log. Returns the size
/// cosigned, or `None` when there was nothing new.
pub async fn push(
    node: &Arc<NodeState>,
    witness: &ConfiguredWitness,
    tls: &ClientPem,
) -> Result<Option<u64>, String> {
    let name = witness.verifier.name().to_string();
    let (latest, cosigned) = {
        let name = name.clone();
        with_log(node, move |log| {
            let latest = log.latest_checkpoint()?.map_or(0, |(size, _, _)| size);
            Ok((latest, log.last_cosigned_size(&name)?))
        })
        .await
        .map_err(|e| e.to_string())?
    };
    if let Some(c) = cosigned
        && c > latest
    {
        return Err(format!(
            "witness {} has cosigned size {c} of this node's log, which holds only {latest}: \
             this log was rolled back, or the witness was shown another log of this node",
            witness.name
        ));
    }
    if cosigned == Some(latest) || latest == 0 {
        return Ok(None);
    }
    let mut client = connect(witness, tls).await?;
    let mut old = cosigned.unwrap_or(0);
    for attempt in 0..2 {
        let (submission, checkpoint) = with_log(node, move |log| {
            let Some(s) = log.witness_submission(old)? else {
                return Err(StoreError::Corrupt("the log is empty".into()));
            };
            let cp = open_checkpoint(&s.note, &log.verifier())
                .map_err(|e| StoreError::Corrupt(format!("its own latest checkpoint: {e}")))?;
            Ok((s, cp))
        })
        .await
        .map_err(|e| match e {
            NodeError::Audit(StoreError::KnownSizeAhead { known, size }) => format!(
                "witness {} has cosigned size {known} of this node's log, which holds only \
                 {size}: it was shown a different log of this node",
                witness.name
            ),
            other => other.to_string(),
        })?;
        let reply = client.add_checkpoint(request(&submission)).await.map(|r| r.into_inner());
        match WitnessAnswer::read(reply, &witness.verifier, &checkpoint) {
            WitnessAnswer::Cosigned { line, .. } => {
                store(node, checkpoint, name, line).await?;
                return Ok(Some(submission.size));
            }
            WitnessAnswer::Conflict { witness_size, .. } if attempt == 0 => old = witness_size,
            WitnessAnswer::Conflict { message, .. } => return Err(message),
            WitnessAnswer::Refused { rule, message } => {
                return Err(format!("refused by rule {rule}: {message}"));
            }
            WitnessAnswer::Failed(problem) => return Err(problem),
        }
    }
    Err("the witness named a new size twice".into())
}

fn request(s: &WitnessSubmission) -> fedlink_proto::pb::AddCheckpointRequest {
    Submission {
        old_size: s.old_size,
        proof: s.proof.clone(),
        note: s.note.clone(),
        delivered: Vec::new(),
    }
    .to_pb()
}

async fn store(
    node: &Arc<NodeState>,
    checkpoint: Checkpoint,
    name: String,
    line: String,
) -> Result<(), String> {
    let now = node.audit.now_ms();
    with_log(node, move |log| log.add_cosignature(checkpoint.size, &name, &line, now).map(|_| ()))
        .await
        .map_err(|e| e.to_string())
}

async fn with_log<T: Send + 'static>(
    node: &Arc<NodeState>,
    f: impl FnOnce(&mut fedlink_proto::audit::store::AuditLog) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, NodeError> {
    let node = Arc::clone(node);
    match tokio::task::spawn_blocking(move || node.audit.with_log(f)).await {
        Ok(result) => result,
        Err(e) => Err(NodeError::Internal(format!("task failed: {e}"))),
    }
}

async fn connect(
    witness: &ConfiguredWitness,
    tls: &ClientPem,
) -> Result<WitnessClient<Channel>, String> {
    let host = witness
        .address
        .split("://")
        .nth(1)
        .and_then(|rest| rest.rsplit_once(':').map(|(h, _)| h.to_string()))
        .ok_or_else(|| format!("address {:?}: expected https://HOST:PORT", witness.address))?;
    let config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&tls.ca))
        .identity(Identity::from_pem(&tls.cert, &tls.key))
        .domain_name(witness.tls_name.clone().unwrap_or(host));
    let channel = Endpoint::from_shared(witness.address.clone())
        .map_err(|e| format!("address {:?}: {e}", witness.address))?
        .tls_config(config)
        .map_err(|e| format!("TLS: {e}"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| format!("unreachable at {}: {}", witness.address, chain(&e)))?;
    Ok(WitnessClient::new(channel))
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
