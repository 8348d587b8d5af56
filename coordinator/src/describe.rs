//! `coordinator describe`: ask every node to describe itself with a signed request, verify each
//! receipt, and say plainly which nodes answered, which refused (and under which rule) and which
//! are down.

use fedlink_proto::envelope::QueryBody;
use fedlink_proto::federation::Member;
use fedlink_proto::pb;

use crate::coordinator::{Coordinator, QueryOverrides};
use crate::outcome::{self, ask};

/// What one node said: its description, or why not.
pub type Outcome = outcome::Outcome<pb::NodeDescription>;

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
        self.outcome.is_answered()
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
    ask(coordinator, node, QueryBody::Describe, overrides, |mut client, signed| async move {
        let response = client.describe(signed).await?.into_inner();
        Ok((response.description, response.receipt))
    })
    .await
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
            Outcome::Answered { answer: description, receipt, .. } => (
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
