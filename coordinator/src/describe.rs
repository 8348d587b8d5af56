//! `coordinator describe`: ask every node to describe itself with a signed request, verify each
//! receipt, and say plainly which nodes answered, which refused (and under which rule) and which
//! are down.

use fedlink_proto::envelope::{Mode, QueryBody, sha256};
use fedlink_proto::federation::Member;
use fedlink_proto::pb;
use fedlink_proto::refusal::RECEIPT_HEADER;
use prost::Message as _;

use crate::client::{CallFailure, connect};
use crate::coordinator::{Coordinator, QueryOverrides};
use crate::receipts::VerifiedReceipt;

/// What one node said.
#[derive(Debug)]
pub enum Outcome {
    /// It answered, and its receipt verified.
    Answered {
        /// The node's description.
        description: pb::NodeDescription,
        /// The verified receipt of the disclosure entry.
        receipt: VerifiedReceipt,
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

/// One row of the describe table.
#[derive(Debug)]
pub struct Row {
    /// The node's member name.
    pub node: String,
    /// Its organisation, from the federation file.
    pub organisation: String,
    /// What happened.
    pub outcome: Outcome,
}

impl Row {
    /// Whether the node answered with a verified receipt.
    pub fn ok(&self) -> bool {
        matches!(self.outcome, Outcome::Answered { .. })
    }
}

/// Asks every node in the federation, concurrently.
pub async fn describe_all(coordinator: &Coordinator, overrides: &QueryOverrides) -> Vec<Row> {
    let nodes: Vec<Member> = coordinator.settings().federation.nodes().cloned().collect();
    let asks = nodes.iter().map(|node| describe_one(coordinator, node, overrides));
    let outcomes = futures::future::join_all(asks).await;
    nodes
        .into_iter()
        .zip(outcomes)
        .map(|(node, outcome)| Row { node: node.name, organisation: node.organisation, outcome })
        .collect()
}

/// Asks one node.
pub async fn describe_one(
    coordinator: &Coordinator,
    node: &Member,
    overrides: &QueryOverrides,
) -> Outcome {
    let envelope =
        match coordinator.envelope_for(node, Mode::Describe, QueryBody::Describe, overrides) {
            Ok(e) => e,
            Err(e) => return Outcome::NotSent(e.to_string()),
        };
    let signed = match coordinator.issue(&envelope) {
        Ok(s) => s,
        Err(e) => return Outcome::NotSent(e.to_string()),
    };
    let mut client = match connect(node, &coordinator.client_tls()).await {
        Ok(c) => c,
        Err(e) => return Outcome::Down(e.to_string()),
    };
    match client.describe(signed).await {
        Ok(response) => {
            let response = response.into_inner();
            let (Some(description), Some(receipt)) = (response.description, response.receipt)
            else {
                return Outcome::Untrusted("the answer lacks a description or a receipt".into());
            };
            let hash = sha256(&description.encode_to_vec());
            match coordinator.accept_receipt(node, &envelope.query_id, &receipt, Some(hash)) {
                Ok(receipt) => Outcome::Answered { description, receipt },
                Err(e) => Outcome::Untrusted(e.to_string()),
            }
        }
        Err(status) => match CallFailure::from_status(&status) {
            CallFailure::Refused { rule, message, code } => {
                let receipt = status
                    .metadata()
                    .get_bin(RECEIPT_HEADER)
                    .and_then(|v| v.to_bytes().ok())
                    .and_then(|b| pb::Receipt::decode(b.as_ref()).ok())
                    .and_then(|r| {
                        coordinator.accept_receipt(node, &envelope.query_id, &r, None).ok()
                    });
                Outcome::Refused { rule, message, code, receipt }
            }
            CallFailure::Down(problem) => Outcome::Down(problem),
        },
    }
}

/// The table the CLI prints.
pub fn render(rows: &[Row]) -> String {
    let mut lines = vec![vec![
        "NODE".to_string(),
        "ORGANISATION".into(),
        "STATUS".into(),
        "DATASETS".into(),
        "POLICY".into(),
        "LOG SIZE".into(),
        "RECEIPT".into(),
    ]];
    let mut notes = Vec::new();
    for row in rows {
        let (status, datasets, policy, log_size, receipt) = match &row.outcome {
            Outcome::Answered { description, receipt } => (
                "up".to_string(),
                if description.datasets.is_empty() {
                    "none".to_string()
                } else {
                    notes.push(format!(
                        "{} datasets: {}",
                        row.node,
                        description
                            .datasets
                            .iter()
                            .map(|d| format!("{} ({} rows)", d.name, d.rows))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    format!(
                        "{} ({} rows)",
                        description.datasets.len(),
                        description.datasets.iter().map(|d| d.rows).sum::<u64>()
                    )
                },
                description.policy.as_ref().map_or(String::new(), |p| {
                    format!("{} ({} purposes)", p.policy_id, p.accepted_purposes.len())
                }),
                description.log_size.to_string(),
                format!("verified @{}", receipt.checkpoint.size),
            ),
            Outcome::Refused { rule, message, receipt, .. } => {
                notes.push(format!("{}: refused by rule {rule}: {message}", row.node));
                (
                    "REFUSED".into(),
                    "-".into(),
                    "-".into(),
                    receipt.as_ref().map_or("-".into(), |r| r.checkpoint.size.to_string()),
                    receipt
                        .as_ref()
                        .map_or("none".into(), |r| format!("verified @{}", r.checkpoint.size)),
                )
            }
            Outcome::Down(problem) => {
                notes.push(format!("{}: DOWN: {problem}", row.node));
                ("DOWN".into(), "-".into(), "-".into(), "-".into(), "-".into())
            }
            Outcome::NotSent(problem) => {
                notes.push(format!("{}: query NOT SENT: {problem}", row.node));
                ("NOT SENT".into(), "-".into(), "-".into(), "-".into(), "-".into())
            }
            Outcome::Untrusted(problem) => {
                notes.push(format!("{}: answer NOT TRUSTED: {problem}", row.node));
                ("UNTRUSTED".into(), "-".into(), "-".into(), "-".into(), "-".into())
            }
        };
        lines.push(vec![
            row.node.clone(),
            row.organisation.clone(),
            status,
            datasets,
            policy,
            log_size,
            receipt,
        ]);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> =
            line.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    for note in notes {
        out.push('\n');
        out.push_str(&note);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
