//! `coordinator link`: one linked query — a linked count, a flag-back or an overlap — across
//! several nodes. The coordinator builds one envelope per participant and logs each before it
//! is sent, relays the nodes' sealed messages without reading them, verifies and stores every
//! node's receipt, and shows the computing node's protected table (or the cohort node's flags)
//! with each node's outcome.
//!
//! # Layout
//!
//! - [`query`]: the linked-query file, and the schedule (roles, order) it fixes.
//! - [`relay`]: the blind relay loop, and the transport it reaches nodes through.
//! - [`capture`]: the relay capture file (everything the relay carried).
//! - [`result`]: a node's outcome, parsed and checked against the query.
//! - [`render`]: text, CSV and JSON.

use std::io::Write;
use std::time::Duration;

use fedlink_proto::envelope::{NodeRole, QueryId};
use fedlink_proto::pb;

use crate::coordinator::{Coordinator, QueryOverrides};
use crate::receipts::VerifiedReceipt;
use crate::table::Provenance;

pub mod capture;
pub mod query;
pub mod relay;
pub mod render;
pub mod result;

#[cfg(test)]
mod tests;

use query::LinkQuery;
use relay::{LinkTransport, MAX_ROUNDS, NodeTransport, RelayError, relay};
use result::{FlagRow, LinkedRelease, PartAnswer, parse_result, result_hash};

/// How long one LinkStep may take by default: a step can wait at a node for an operator to
/// approve a flag-back.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(600);

/// How the relay runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkOptions {
    /// The deadline of each LinkOpen and LinkStep call.
    pub step_timeout: Duration,
    /// The most LinkStep rounds before the relay gives up.
    pub max_rounds: usize,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self { step_timeout: DEFAULT_STEP_TIMEOUT, max_rounds: MAX_ROUNDS }
    }
}

/// One linked query and what came of it.
#[derive(Debug)]
pub struct LinkRun {
    /// The query as its file states it.
    pub query: LinkQuery,
    /// The query's id, once its envelopes were built.
    pub query_id: Option<QueryId>,
    /// Each participant's part, in schedule order.
    pub parts: Vec<NodePart>,
    /// LinkStep rounds the relay made.
    pub rounds: usize,
    /// Hellos and sealed messages the relay carried.
    pub carried: (usize, usize),
    /// Why the query failed, when no one node's part says it: nothing sent, or the relay
    /// stopped (a misaddressed message, a loop, a stall, the capture).
    pub failure: Option<String>,
}

/// One participant's part.
#[derive(Debug)]
pub struct NodePart {
    /// The member.
    pub member: String,
    /// Its role.
    pub role: NodeRole,
    /// How its part ended.
    pub status: PartStatus,
}

/// How a node's part ended.
#[derive(Debug)]
pub enum PartStatus {
    /// It ended its part; its receipt verified, with the logged hash of its result.
    Done {
        /// What it gave.
        answer: PartAnswer,
        /// The receipt of its log entry.
        receipt: VerifiedReceipt,
    },
    /// It refused, naming its rule; the refusal's receipt verified if one came.
    Refused {
        /// The call it refused: `LinkOpen`, or `LinkStep` with its round.
        at: String,
        /// The rule.
        rule: String,
        /// The node's message.
        message: String,
        /// The gRPC code.
        code: tonic::Code,
        /// The receipt of the refusal's log entry, if it verified.
        receipt: Option<VerifiedReceipt>,
    },
    /// It could not be reached, or failed without a refusal.
    Down(String),
    /// It ended its part, but the outcome or its receipt did not check out.
    Untrusted(String),
    /// The query ended before its part was over.
    Unfinished,
}

impl LinkRun {
    /// Whether every node ended its part with a verified receipt, so the result stands.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
            && self.parts.iter().all(|p| matches!(p.status, PartStatus::Done { .. }))
    }

    /// The computing node's release (count, overlap), when it verified.
    pub fn release(&self) -> Option<&LinkedRelease> {
        self.parts.iter().find_map(|p| match &p.status {
            PartStatus::Done { answer: PartAnswer::Table(release), .. } => Some(release.as_ref()),
            _ => None,
        })
    }

    /// The cohort node's flags (flag-back), when they verified.
    pub fn flags(&self) -> Option<&[FlagRow]> {
        self.parts.iter().find_map(|p| match &p.status {
            PartStatus::Done { answer: PartAnswer::Flags(rows), .. } => Some(rows.as_slice()),
            _ => None,
        })
    }

    /// One line per cause of failure: the query's, then each node that refused, was down or
    /// was not trusted. Nodes left unfinished by another's failure are not causes.
    pub fn failures(&self) -> Vec<String> {
        let nodes = self.parts.iter().filter_map(|p| {
            let why = match &p.status {
                PartStatus::Done { .. } | PartStatus::Unfinished => return None,
                status => render::status_line(status),
            };
            Some(format!("node {}: {why}", p.member))
        });
        self.failure.iter().cloned().chain(nodes).collect()
    }

    fn part_mut(&mut self, member: &str) -> Option<&mut NodePart> {
        self.parts.iter_mut().find(|p| p.member == member)
    }
}

/// Runs `query` over mTLS: envelopes, issue log, relay, receipts. `capture`, when given,
/// receives everything the relay carries ([`capture`]).
pub async fn run_link(
    coordinator: &Coordinator,
    query: &LinkQuery,
    overrides: &QueryOverrides,
    options: &LinkOptions,
    capture: Option<&mut (dyn Write + Send)>,
) -> LinkRun {
    let mut transport = NodeTransport::new(
        &coordinator.settings().federation,
        coordinator.client_tls(),
        options.step_timeout,
    );
    link_with(coordinator, query, overrides, &mut transport, capture, options.max_rounds).await
}

/// Runs `query` through `transport`.
///
/// Every envelope is built and logged as issued before the first is sent, so no node hears of
/// a query the coordinator's log does not hold in full. Each node's outcome counts only once
/// its receipt verified against the node's key and the log size last seen, and the entry
/// logged the hash of exactly the result received ([`result_hash`]).
pub async fn link_with<T: LinkTransport>(
    coordinator: &Coordinator,
    query: &LinkQuery,
    overrides: &QueryOverrides,
    transport: &mut T,
    capture: Option<&mut (dyn Write + Send)>,
    max_rounds: usize,
) -> LinkRun {
    let mut run = LinkRun {
        query: query.clone(),
        query_id: None,
        parts: query
            .schedule
            .iter()
            .map(|(member, role)| NodePart {
                member: member.clone(),
                role: *role,
                status: PartStatus::Unfinished,
            })
            .collect(),
        rounds: 0,
        carried: (0, 0),
        failure: None,
    };
    let overrides = QueryOverrides {
        case_ref: query.case_ref.clone(),
        purpose: overrides.purpose.clone().or_else(|| query.purpose.clone()),
    };
    let envelopes =
        match coordinator.envelopes_for_link(&query.request, &query.schedule, &overrides) {
            Ok(envelopes) => envelopes,
            Err(e) => {
                run.failure = Some(format!("NOT SENT: {e}"));
                return run;
            }
        };
    let Some((query_id, session_id)) = envelopes.first().map(|e| (e.query_id, e.session_id)) else {
        run.failure = Some("NOT SENT: the query has no participants".into());
        return run;
    };
    run.query_id = Some(query_id);
    let opens = match coordinator.issue_all(&envelopes) {
        Ok(signed) => envelopes.iter().map(|e| e.audience.clone()).zip(signed).collect(),
        Err(e) => {
            run.failure = Some(format!("NOT SENT: {e}"));
            return run;
        }
    };

    let relayed = relay(transport, &query_id, &session_id, opens, capture, max_rounds).await;
    run.rounds = relayed.rounds;
    run.carried = (relayed.hellos, relayed.messages);
    for (member, outcome) in relayed.outcomes {
        let status = accept_part(coordinator, query, &query_id, &member, outcome);
        if let Some(part) = run.part_mut(&member) {
            part.status = status;
        }
    }
    match relayed.error {
        None => {}
        Some(RelayError::Refused { member, at, rule, message, code, receipt }) => {
            let node = coordinator.settings().federation.member(&member);
            let receipt = receipt.zip(node).and_then(|(receipt, node)| {
                coordinator.accept_receipt(node, &query_id, &receipt, None).ok()
            });
            if let Some(part) = run.part_mut(&member) {
                part.status = PartStatus::Refused { at, rule, message, code, receipt };
            }
        }
        Some(RelayError::Down { member, at, problem }) => {
            if let Some(part) = run.part_mut(&member) {
                part.status = PartStatus::Down(format!("at {at}: {problem}"));
            }
        }
        Some(other) => run.failure = Some(format!("RELAY STOPPED: {other}")),
    }
    run
}

/// Verifies and stores a node's receipt for its outcome, then parses the result for its role.
fn accept_part(
    coordinator: &Coordinator,
    query: &LinkQuery,
    query_id: &QueryId,
    member: &str,
    outcome: pb::LinkOutcome,
) -> PartStatus {
    let (Some(node), Some(role)) =
        (coordinator.settings().federation.member(member), query.role_of(member))
    else {
        return PartStatus::Untrusted(format!("{member:?} is not a participant"));
    };
    let (Some(result), Some(receipt)) = (outcome.result, outcome.receipt) else {
        return PartStatus::Untrusted("its outcome lacks its result or its receipt".into());
    };
    let receipt =
        match coordinator.accept_receipt(node, query_id, &receipt, Some(result_hash(&result))) {
            Ok(receipt) => receipt,
            Err(e) => return PartStatus::Untrusted(e.to_string()),
        };
    let provenance = Provenance::new(member, query_id, &receipt);
    match parse_result(result, role, query, provenance) {
        Ok(answer) => PartStatus::Done { answer, receipt },
        Err(problem) => PartStatus::Untrusted(problem),
    }
}
