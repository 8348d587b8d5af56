//! The node's part in linked queries (issue 5; design-review.md §8): `LinkOpen` admits the
//! envelope, plans the node's part against its `[[linkage]]` rules and answers with signed relay
//! hellos; each `LinkStep` hands the node the peer's hellos and sealed messages, and the node
//! answers with what it seals next, and finally with its outcome and receipt.
//!
//! # Layout
//!
//! - [`plan`]: the policy check before admission and the node's plan (side, rule, key types,
//!   window, labels, tuple layouts, DP).
//! - [`session`]: open sessions in memory, one step at a time, dropped (and their scalars
//!   zeroised) when they end or expire.
//! - [`cohort`]: the cohort node A — M1 (signed descriptor and blinded cohort tuples), then M3
//!   (B's tuples reblinded), then for a flag-back the flags mapped back to its rows.
//! - [`computing`]: the partner and computing node B — checks M1, sends M2, checks M3, matches,
//!   counts, adds noise, protects and releases (or computes flags after an operator approves).
//! - [`overlap`]: a participant in an overlap matrix: the ring schedule (each set blinded by
//!   every participant, the computing node last, F7), and at the computing node the matrix of
//!   people by combination of agencies.
//! - [`release`]: the linked table: counts by (g, h) and links by key pass, DP noise, then
//!   suppression and rounding.
//! - [`wire`]: the sealed payloads, encoded and checked.
//! - [`usage`]: the per-day cap on linked queries per dataset.
//!
//! Every message a node seals is in its audit log (digest, recipient) before it is returned,
//! and every received message's digest is logged with the node's next entry — its refusal
//! too, when the message is refused — in the entry's `relay_digests`, so auditors can match
//! the two logs message by message (F14, `fedlink audit reconcile`).

pub mod calibrations;
pub mod cohort;
pub mod computing;
pub mod inputs;
pub mod overlap;
pub mod plan;
pub mod release;
pub mod session;
pub mod usage;
pub mod wire;

use fedlink_proto::blind::BlindingKey;
use fedlink_proto::envelope::{NodeRole, sha256};
use fedlink_proto::federation::Member;
use fedlink_proto::identity::PublicKey;
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;
use fedlink_proto::relay::{ChannelContext, Handshake, SecureChannel};
use prost::Message;

use crate::error::NodeError;
use crate::gate::Logged;
use crate::linkage::LinkageError;
use crate::policy::AuthorisedQuery;
use crate::state::NodeState;
use plan::LinkPlan;
use session::SessionState;

/// Why a step ended a session: a refusal to log, or a failure (already logged, or internal).
pub enum StepError {
    /// The peer or the relay broke the protocol, or the policy refuses what arrived.
    Refused(Refusal),
    /// Something failed inside the node, or a refusal was already logged (budget).
    Failed(NodeError),
}

impl From<Refusal> for StepError {
    fn from(r: Refusal) -> Self {
        StepError::Refused(r)
    }
}

impl From<NodeError> for StepError {
    fn from(e: NodeError) -> Self {
        StepError::Failed(e)
    }
}

impl From<LinkageError> for StepError {
    /// A label the node's `[[linkage]]` label rules refuse — a class with fewer than k_min
    /// real subjects, a label outside the vocabulary, a subject without a label — is a policy
    /// refusal named `policy.linkage.labels`, whether the labels are the node's own or a
    /// peer's. Its message never repeats the label: a label is a category value of some
    /// partner's data, and the refusal goes to the coordinator, past disclosure control.
    /// Anything else wrong with the linkage input is a protocol refusal of the message.
    fn from(e: LinkageError) -> Self {
        let labels = |problem: String| {
            StepError::Refused(Refusal::LinkageNotAllowed {
                rule: "policy.linkage.labels",
                problem,
            })
        };
        match e {
            LinkageError::LabelClassTooSmall { k_min, .. } => labels(format!(
                "a label class holds fewer than {k_min} real subjects; coarsen or merge it"
            )),
            LinkageError::LabelNotInVocabulary(_) | LinkageError::InvalidLabel(_) => labels(
                "a label is not in this node's label vocabulary (the value is not repeated here)"
                    .into(),
            ),
            LinkageError::MissingLabel => labels(e.to_string()),
            e => StepError::Refused(Refusal::LinkageProtocol {
                rule: "linkage.message",
                problem: e.to_string(),
            }),
        }
    }
}

/// What one step produced.
pub struct Stepped {
    /// Sealed messages for peers.
    pub outgoing: Vec<pb::RelayMessage>,
    /// The node's outcome, when its part is over.
    pub outcome: Option<pb::LinkOutcome>,
}

/// Opens this node's part: makes its scalar and one handshake per peer, keeps the session and
/// answers with the hellos.
pub fn open(
    state: &std::sync::Arc<NodeState>,
    logged: Logged<AuthorisedQuery>,
    plan: LinkPlan,
) -> Result<pb::LinkOpened, NodeError> {
    let verified = logged.query().checked().verified();
    let env = verified.envelope();
    let coordinator = logged.query().checked().peer().member().name.clone();
    let session_id = *env.session_id.as_bytes();
    let expires_at_ms = env.expires_at.0;
    let mut handshakes = Vec::new();
    let mut hellos = Vec::new();
    for peer in &plan.peers {
        let ctx = ChannelContext::from_envelope(verified, peer)
            .map_err(|e| refuse_open(state, &logged, "linkage.session", e.to_string()))?;
        let (handshake, hello) = Handshake::start(ctx, &state.identity).map_err(|e| {
            let e = NodeError::Internal(format!("relay handshake: {e}"));
            NodeError::Refused(state.audit.fail(&logged, &e))
        })?;
        handshakes.push(handshake);
        hellos.push(hello);
    }
    if plan.request.kind == fedlink_proto::link::LinkKind::Overlap
        && let Err(problem) = overlap::schedule_for(env)
    {
        return Err(refuse_open(state, &logged, "linkage.overlap", problem));
    }
    let session = match plan.role {
        _ if plan.request.kind == fedlink_proto::link::LinkKind::Overlap => {
            SessionState::Overlap(Box::new(
                overlap::OverlapSession::open(logged, plan, handshakes, &state.me.name)
                    .map_err(|e| NodeError::Internal(format!("overlap session: {e}")))?,
            ))
        }
        NodeRole::Cohort => SessionState::Cohort(Box::new(
            cohort::CohortSession::open(logged, plan, handshakes)
                .map_err(|e| NodeError::Internal(format!("cohort session: {e}")))?,
        )),
        _ => SessionState::Computing(Box::new(
            computing::ComputingSession::open(state, logged, plan, handshakes)
                .map_err(|e| NodeError::Internal(format!("computing session: {e}")))?,
        )),
    };
    let now = state.audit.now_ms();
    if let Err(refused) =
        state.sessions.insert(session_id, &coordinator, expires_at_ms, session, now)
    {
        // A new query reusing the id of a session still open here: refused and logged against
        // the query just admitted, naming the rule (it must not end as an unlogged failure).
        let (refusal, session) = *refused;
        return Err(NodeError::Refused(state.audit.refuse(session.logged(), &refusal)));
    }
    Ok(pb::LinkOpened { hellos })
}

fn refuse_open(
    state: &NodeState,
    logged: &Logged<AuthorisedQuery>,
    rule: &'static str,
    problem: String,
) -> NodeError {
    NodeError::Refused(state.audit.refuse(logged, &Refusal::LinkageProtocol { rule, problem }))
}

/// Why a step was refused: before any session was found (the caller logs it as a denial of
/// the peer), or by the node with the session's own log entry already written.
pub enum StepRefused {
    /// No session to log against: a malformed session id, an unknown or expired session, or
    /// one another coordinator opened.
    BeforeSession(Refusal),
    /// Refused or failed within the session, already logged.
    Node(NodeError),
}

impl From<NodeError> for StepRefused {
    fn from(e: NodeError) -> Self {
        StepRefused::Node(e)
    }
}

/// Runs one relay step for the coordinator `from` (the mTLS peer's member name).
pub fn step(
    state: &NodeState,
    from: &str,
    request: pb::LinkStepRequest,
) -> Result<pb::LinkStepResponse, StepRefused> {
    let session_id: [u8; 16] = request.session_id.as_slice().try_into().map_err(|_| {
        StepRefused::BeforeSession(Refusal::LinkageProtocol {
            rule: "linkage.session",
            problem: "session_id must be 16 bytes".into(),
        })
    })?;
    let now = state.audit.now_ms();
    let session =
        state.sessions.take(&session_id, from, now).map_err(StepRefused::BeforeSession)?;
    let mut session = session;
    if request.query_id.as_slice()
        != session.logged().query().checked().envelope().query_id.as_bytes()
    {
        state.sessions.put_back(&session_id, session);
        return Err(StepRefused::BeforeSession(Refusal::LinkageProtocol {
            rule: "linkage.session",
            problem: "the step names another query than the session's".into(),
        }));
    }
    // A session ends with its outcome or its first refusal (a relay that sends one bad
    // message gets no second try); a refusal or an internal failure is logged against the
    // session's admitted query.
    let (result, ended) = match session.step(state, request.hellos, request.messages) {
        Ok(Stepped { outgoing, outcome }) => {
            let ended = outcome.is_some();
            (Ok(pb::LinkStepResponse { outgoing, outcome }), ended)
        }
        Err(StepError::Refused(refusal)) => {
            let status = state.audit.refuse_relayed(session.logged(), &refusal, session.digests());
            (Err(NodeError::Refused(status)), true)
        }
        Err(StepError::Failed(e @ NodeError::Internal(_))) => {
            let status = state.audit.fail_relayed(session.logged(), &e, session.digests());
            (Err(NodeError::Refused(status)), true)
        }
        Err(StepError::Failed(e)) => (Err(e), true),
    };
    if ended {
        state.sessions.end(&session_id);
    } else {
        state.sessions.put_back(&session_id, session);
    }
    Ok(result?)
}

/// The peer's federation key, for its hello and its signatures.
pub fn peer_key(state: &NodeState, peer: &str) -> Result<PublicKey, Refusal> {
    state.federation.member(peer).map(|m: &Member| m.public_key).ok_or_else(|| {
        Refusal::LinkageProtocol {
            rule: "linkage.session",
            problem: format!("{peer:?} is not in this node's federation file"),
        }
    })
}

/// The start of a two-sided session: its one handshake (with the other side) and a fresh
/// scalar from the OS CSPRNG.
pub fn two_sided_start(mut handshakes: Vec<Handshake>) -> Result<(Handshake, BlindingKey), String> {
    if handshakes.len() != 1 {
        return Err(format!("a two-sided query has one peer, not {}", handshakes.len()));
    }
    let handshake = handshakes.remove(0);
    let key = BlindingKey::generate().map_err(|e| e.to_string())?;
    Ok((handshake, key))
}

/// Finishes the handshake with the one hello from `peer` among `hellos`.
pub fn finish_handshake(
    state: &NodeState,
    handshake: Handshake,
    hellos: &mut Vec<pb::RelayHello>,
) -> Result<SecureChannel, StepError> {
    let peer = handshake.context().peer().to_string();
    let position =
        hellos.iter().position(|h| h.sender == peer).ok_or_else(|| Refusal::LinkageProtocol {
            rule: "linkage.session",
            problem: format!("the step carries no hello from {peer:?}"),
        })?;
    let hello = hellos.remove(position);
    let key = peer_key(state, &peer)?;
    handshake.finish(&hello, &key).map_err(|e| {
        StepError::Refused(Refusal::LinkageProtocol {
            rule: "linkage.handshake",
            problem: format!("the hello from {peer:?} is refused: {e}"),
        })
    })
}

/// Opens the one message a step must carry, from the channel's peer, at the channel's next
/// step, and returns its plaintext. The [`digest_line`] of every message that arrived is added
/// to `received` first, whether or not it is then accepted: a refused message is in the
/// refusal's entry, so the sender's and the receiver's logs still agree on what passed.
pub fn open_one(
    channel: &mut SecureChannel,
    messages: &mut Vec<pb::RelayMessage>,
    received: &mut Vec<String>,
) -> Result<Vec<u8>, StepError> {
    received.extend(messages.iter().map(received_line));
    if messages.len() != 1 {
        return Err(StepError::Refused(Refusal::LinkageProtocol {
            rule: "linkage.message",
            problem: format!(
                "exactly one message was expected at this step, not {}",
                messages.len()
            ),
        }));
    }
    let message = messages.remove(0);
    channel.open(&message).map_err(|e| {
        StepError::Refused(Refusal::LinkageProtocol {
            rule: "linkage.message",
            problem: format!("a relayed message is refused: {e}"),
        })
    })
}

/// The [`digest_line`] of a message as it arrived.
pub fn received_line(message: &pb::RelayMessage) -> String {
    digest_line(message, &sha256(&message.encode_to_vec()))
}

/// Seals a payload as the channel's next step; returns the message and its digest.
pub fn seal(
    channel: &mut SecureChannel,
    plaintext: &[u8],
) -> Result<(pb::RelayMessage, [u8; 32]), StepError> {
    let step = channel.next_step().ok_or_else(|| {
        StepError::Failed(NodeError::Internal("the relay channel has no steps left".into()))
    })?;
    let message = channel
        .seal(step, plaintext)
        .map_err(|e| StepError::Failed(NodeError::Internal(format!("sealing: {e}"))))?;
    let digest = sha256(&message.encode_to_vec());
    Ok((message, digest))
}

/// `sender>receiver#step:hex` for the log and the contribution record: the sender's and the
/// receiver's logs hold the same line for each message, so an auditor can match them.
pub fn digest_line(message: &pb::RelayMessage, digest: &[u8; 32]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}>{}#{}:{hex}", message.sender, message.receiver, message.step)
}

/// Logs what a node's part releases to the query's own coordinator — `output` with `detail`
/// and the digest lines of every relay message of the session — and returns `result` as the
/// outcome with the entry's receipt.
pub fn release_to_coordinator(
    state: &NodeState,
    logged: &Logged<AuthorisedQuery>,
    output: pb::OutputRecord,
    detail: String,
    relay_digests: &[String],
    result: pb::link_outcome::Result,
) -> Result<pb::LinkOutcome, NodeError> {
    let coordinator = logged.query().checked().envelope().coordinator.clone();
    let receipt = state.audit.disclose_linked(
        logged,
        output,
        vec![coordinator],
        detail,
        relay_digests,
        None,
    )?;
    Ok(pb::LinkOutcome { result: Some(result), receipt: Some(receipt) })
}

/// How long each phase of a node's linkage step took, logged at info level when the step
/// ends, so an operator can see where a long query spends its time (no counts, only times).
pub struct StepTimer {
    step: &'static str,
    started: std::time::Instant,
    last: std::time::Instant,
    phases: Vec<(&'static str, f64)>,
}

impl StepTimer {
    /// Starts timing `step`.
    pub fn start(step: &'static str) -> Self {
        let now = std::time::Instant::now();
        StepTimer { step, started: now, last: now, phases: Vec::new() }
    }

    /// Ends the current phase, naming it.
    pub fn phase(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.phases.push((name, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }
}

impl Drop for StepTimer {
    fn drop(&mut self) {
        let phases: Vec<String> =
            self.phases.iter().map(|(name, s)| format!("{name} {s:.2}s")).collect();
        tracing::info!(
            step = self.step,
            total_s = format!("{:.2}", self.started.elapsed().as_secs_f64()),
            phases = phases.join(", "),
            "linkage step timings"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::Label;

    fn rule_of(e: LinkageError) -> &'static str {
        match StepError::from(e) {
            StepError::Refused(r) => r.rule(),
            StepError::Failed(_) => "failed",
        }
    }

    #[test]
    fn label_refusals_name_the_labels_rule_and_the_rest_the_message() {
        let label = Label::new("M").expect("label");
        assert_eq!(
            rule_of(LinkageError::LabelClassTooSmall { label: label.clone(), k_min: 2 }),
            "policy.linkage.labels"
        );
        assert_eq!(rule_of(LinkageError::LabelNotInVocabulary(label)), "policy.linkage.labels");
        assert_eq!(rule_of(LinkageError::MissingLabel), "policy.linkage.labels");
        assert_eq!(rule_of(LinkageError::NotSorted { index: 1 }), "linkage.message");
        assert_eq!(rule_of(LinkageError::RepeatedValue { first: 0, second: 1 }), "linkage.message");
    }

    /// A refusal goes to the coordinator: it never repeats a label, a partner's category value.
    #[test]
    fn label_refusals_never_repeat_the_label() {
        let value = "WARD-E05000123";
        let label = Label::new(value).expect("label");
        for e in [
            LinkageError::LabelClassTooSmall { label: label.clone(), k_min: 5 },
            LinkageError::LabelNotInVocabulary(label),
            LinkageError::InvalidLabel(value.into()),
        ] {
            let StepError::Refused(r) = StepError::from(e) else { panic!("a refusal") };
            assert!(!r.to_string().contains(value), "{r}");
        }
    }
}
