//! One signed query to one node, and what came of it: the steps every single-node RPC shares
//! (envelope, issue log, mTLS, call, receipt) and the [`Outcome`] the analyst is told about —
//! an answer with a verified receipt, a refusal naming its rule, a node down, a query not sent,
//! or an answer that did not check out.

use std::future::Future;

use fedlink_proto::envelope::{QueryBody, QueryId, sha256};
use fedlink_proto::federation::Member;
use fedlink_proto::pb;
use fedlink_proto::pb::node_client::NodeClient;
use prost::Message;
use tonic::transport::Channel;

use crate::client::{CallFailure, connect, refusal_receipt};
use crate::coordinator::{Coordinator, QueryOverrides};
use crate::receipts::VerifiedReceipt;

/// What one node said to one query. `T` is the answer: a node description, a released table.
#[derive(Debug)]
pub enum Outcome<T> {
    /// It answered, and its receipt verified (including the logged hash of the answer).
    Answered {
        /// The answer.
        answer: T,
        /// The verified receipt of the disclosure entry.
        receipt: VerifiedReceipt,
        /// The query's id, as the envelope named it.
        query_id: QueryId,
    },
    /// It refused; the refusal's receipt verified if one came.
    Refused {
        /// The rule that refused.
        rule: String,
        /// The node's message.
        message: String,
        /// The gRPC code.
        code: tonic::Code,
        /// The receipt of the denial entry, if it verified.
        receipt: Option<VerifiedReceipt>,
    },
    /// It could not be reached.
    Down(String),
    /// The coordinator could not prepare or log the query, so nothing was sent.
    NotSent(String),
    /// It answered, but the answer or its receipt did not check out.
    Untrusted(String),
}

impl<T> Outcome<T> {
    /// Whether the node answered with a verified receipt.
    pub fn is_answered(&self) -> bool {
        matches!(self, Outcome::Answered { .. })
    }

    /// The answer, if there is one.
    pub fn answer(&self) -> Option<&T> {
        match self {
            Outcome::Answered { answer, .. } => Some(answer),
            _ => None,
        }
    }

    /// Turns a verified answer into another type, or into [`Outcome::Untrusted`] when the
    /// conversion says it does not check out. The receipt is already stored and logged either
    /// way: it proves what the node released, whether or not the coordinator can use it.
    pub fn and_then<U>(
        self,
        convert: impl FnOnce(T, &VerifiedReceipt, &QueryId) -> Result<U, String>,
    ) -> Outcome<U> {
        match self {
            Outcome::Answered { answer, receipt, query_id } => {
                match convert(answer, &receipt, &query_id) {
                    Ok(answer) => Outcome::Answered { answer, receipt, query_id },
                    Err(problem) => Outcome::Untrusted(problem),
                }
            }
            Outcome::Refused { rule, message, code, receipt } => {
                Outcome::Refused { rule, message, code, receipt }
            }
            Outcome::Down(p) => Outcome::Down(p),
            Outcome::NotSent(p) => Outcome::NotSent(p),
            Outcome::Untrusted(p) => Outcome::Untrusted(p),
        }
    }

    /// One line for the analyst when the node did not answer: the status word and why.
    /// `None` for an answer.
    pub fn failure(&self) -> Option<String> {
        match self {
            Outcome::Answered { .. } => None,
            Outcome::Refused { rule, message, receipt, .. } => Some(format!(
                "REFUSED by rule {rule}: {message} ({})",
                receipt.as_ref().map_or("no verified receipt for the refusal".to_string(), |r| {
                    format!("refusal logged at entry {}, receipt verified", r.leaf_index)
                })
            )),
            Outcome::Down(problem) => Some(format!("DOWN: {problem}")),
            Outcome::NotSent(problem) => Some(format!("NOT SENT: {problem}")),
            Outcome::Untrusted(problem) => Some(format!("NOT TRUSTED: {problem}")),
        }
    }
}

/// Sends one signed query to one node and checks what comes back.
///
/// The steps: build the envelope, log it as issued (nothing is sent that is not in the
/// coordinator's log), connect over mTLS, make the call with `call`, then verify the receipt and
/// that the node logged the hash of exactly the answer received. A refusal is told apart from an
/// outage by the refusal header; its receipt (in the receipt header) is verified when present.
///
/// `call` makes the RPC and returns the answer and receipt fields of the response.
pub async fn ask<T, F, Fut>(
    coordinator: &Coordinator,
    node: &Member,
    body: QueryBody,
    overrides: &QueryOverrides,
    call: F,
) -> Outcome<T>
where
    T: Message,
    F: FnOnce(NodeClient<Channel>, pb::SignedEnvelope) -> Fut,
    Fut: Future<Output = Result<(Option<T>, Option<pb::Receipt>), tonic::Status>>,
{
    let envelope = match coordinator.envelope_for(node, body.mode(), body, overrides) {
        Ok(e) => e,
        Err(e) => return Outcome::NotSent(e.to_string()),
    };
    let signed = match coordinator.issue(&envelope) {
        Ok(s) => s,
        Err(e) => return Outcome::NotSent(e.to_string()),
    };
    let client = match connect(node, &coordinator.client_tls()).await {
        Ok(c) => c,
        Err(e) => return Outcome::Down(e.to_string()),
    };
    let query_id = envelope.query_id;
    match call(client, signed).await {
        Ok((Some(answer), Some(receipt))) => {
            let hash = sha256(&answer.encode_to_vec());
            match coordinator.accept_receipt(node, &query_id, &receipt, Some(hash)) {
                Ok(receipt) => Outcome::Answered { answer, receipt, query_id },
                Err(e) => Outcome::Untrusted(e.to_string()),
            }
        }
        Ok(_) => Outcome::Untrusted("the answer lacks its body or its receipt".into()),
        Err(status) => match CallFailure::from_status(&status) {
            CallFailure::Refused { rule, message, code } => {
                let receipt = refusal_receipt(&status)
                    .and_then(|r| coordinator.accept_receipt(node, &query_id, &r, None).ok());
                Outcome::Refused { rule, message, code, receipt }
            }
            CallFailure::Down(problem) => Outcome::Down(problem),
        },
    }
}
