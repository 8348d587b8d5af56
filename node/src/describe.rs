//! The Describe RPC: who this node is, what data it holds, a summary of its policy and the size
//! of its audit log. Three steps, as in mini-redis's commands: admit (checks and logging, in
//! `service.rs`), apply (build the description from a logged query), respond (log the
//! disclosure and attach its receipt).

use fedlink_proto::envelope::{lawful_basis_to_pb, sha256};
use fedlink_proto::pb;

use crate::dataset::store::DatasetStore;
use crate::error::NodeError;
use crate::gate::Logged;
use crate::policy::AuthorisedQuery;
use crate::state::NodeState;

/// Builds the description. Taking a `Logged` query is the proof that the request is in the log.
pub fn apply(
    state: &NodeState,
    logged: &Logged<AuthorisedQuery>,
) -> Result<pb::NodeDescription, NodeError> {
    let _ = logged.query();
    let policy = &state.policy;
    Ok(pb::NodeDescription {
        member: state.me.name.clone(),
        organisation: state.me.organisation.clone(),
        federation: state.federation.name.clone(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        datasets: dataset_summaries(state)?,
        policy: Some(pb::PolicySummary {
            policy_id: policy.policy_id.clone(),
            accepted_coordinators: policy.accept.coordinators.clone(),
            accepted_purposes: policy.accept.purposes.clone(),
            accepted_lawful_bases: policy
                .accept
                .lawful_bases
                .iter()
                .map(lawful_basis_to_pb)
                .collect(),
            max_envelope_lifetime_s: policy.envelope.max_lifetime_s,
            max_clock_skew_s: policy.envelope.max_clock_skew_s,
        }),
        log_size: state.audit.size()?,
        node_time_ms: state.audit.now_ms(),
    })
}

/// Each configured dataset with its row count (0 until imported).
fn dataset_summaries(state: &NodeState) -> Result<Vec<pb::DatasetSummary>, NodeError> {
    let path = state.datasets_db();
    let (counts, imports) = if path.exists() {
        DatasetStore::open(&path)
            .and_then(|store| Ok((store.row_counts()?, store.last_imports()?)))
            .map_err(|e| NodeError::Internal(e.to_string()))?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(state
        .datasets
        .iter()
        .map(|schema| pb::DatasetSummary {
            name: schema.name.clone(),
            rows: counts.iter().find(|(n, _)| n == &schema.name).map_or(0, |(_, rows)| *rows),
            imported_at_ms: imports.iter().find(|(n, _)| n == &schema.name).map_or(0, |(_, t)| *t),
        })
        .collect())
}

/// Logs the disclosure of `description` and wraps it with the receipt.
pub fn respond(
    state: &NodeState,
    logged: &Logged<AuthorisedQuery>,
    description: pb::NodeDescription,
) -> Result<pb::DescribeResponse, NodeError> {
    let bytes = prost::Message::encode_to_vec(&description);
    let output = pb::OutputRecord {
        output_class: "METADATA".into(),
        result_hash: sha256(&bytes).to_vec(),
        records_released: 0,
        disclosure_rule: "describe.metadata_only".into(),
        ..Default::default()
    };
    let receipt = state.audit.disclose(logged, output)?;
    Ok(pb::DescribeResponse { description: Some(description), receipt: Some(receipt) })
}
