//! The blind relay of a linked query (DESIGN.md "Linkage", design-review.md F1 and §8): open
//! every participant, hand each the hellos addressed to it, then carry sealed messages to their
//! receivers until none is pending. The coordinator reads only the routing header (sender,
//! receiver) of what it carries; the nodes' channel makes the rest ciphertext to it.
//!
//! It refuses to carry anything that is not from the node that handed it over to another
//! participant of the query, stops at the first refusal or outage, and gives up after
//! [`MAX_ROUNDS`] rounds. The loop talks to nodes through [`LinkTransport`], so it runs against
//! in-memory nodes in tests; [`NodeTransport`] is the real one, over mTLS.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use fedlink_proto::envelope::{QueryId, SessionId};
use fedlink_proto::federation::Federation;
use fedlink_proto::pb;
use fedlink_proto::pb::node_client::NodeClient;
use tonic::transport::Channel;

use super::capture::{write_hello, write_message};
use crate::client::{CallFailure, CallLimits, ClientTls, chain, connect_with, refusal_receipt};

/// Most LinkStep rounds one query may take. The two-party flow takes four (hellos, M1, M2, M3)
/// and an overlap ring of six about a dozen; a query still exchanging messages after this many
/// is looping, and the relay stops it.
pub const MAX_ROUNDS: usize = 64;

/// Largest message on a link connection. M2 carries one tuple per partner subject: K key types
/// × T month slots × 32 bytes, about 31 MB for 5,000 subjects at K = 8, T = 24
/// (design-review.md §8), so the 16 MiB of a query connection is too small.
pub const LINK_MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// How the relay reaches nodes: the two RPCs of a linked query, by member name.
pub trait LinkTransport {
    /// `LinkOpen` at `member`.
    fn open(
        &mut self,
        member: &str,
        envelope: pb::SignedEnvelope,
    ) -> impl Future<Output = Result<pb::LinkOpened, tonic::Status>> + Send;

    /// `LinkStep` at `member`.
    fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> impl Future<Output = Result<pb::LinkStepResponse, tonic::Status>> + Send;
}

/// What the relay carried and collected, and why it stopped early, if it did.
#[derive(Debug, Default)]
pub struct Relayed {
    /// Each node's outcome, in the order they came.
    pub outcomes: Vec<(String, pb::LinkOutcome)>,
    /// LinkStep rounds made (the first hands over the hellos).
    pub rounds: usize,
    /// Hellos carried.
    pub hellos: usize,
    /// Sealed messages carried.
    pub messages: usize,
    /// Why the relay stopped before every node's part was over; `None` when it finished.
    pub error: Option<RelayError>,
}

/// Why the relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A node refused, naming its rule.
    #[error("node {member} refused at {at} under rule {rule}: {message}")]
    Refused {
        /// The node.
        member: String,
        /// The call: `LinkOpen`, or `LinkStep` with its round.
        at: String,
        /// The refusal's rule.
        rule: String,
        /// The node's message.
        message: String,
        /// The gRPC code.
        code: tonic::Code,
        /// The receipt of the refusal's log entry, as sent (not yet verified).
        receipt: Option<Box<pb::Receipt>>,
    },
    /// A node could not be reached, or failed without a refusal.
    #[error("node {member} is down at {at}: {problem}")]
    Down {
        /// The node.
        member: String,
        /// The call.
        at: String,
        /// What failed.
        problem: String,
    },
    /// A node handed over a hello or message from someone else, or to no other participant.
    #[error(
        "{carrier} handed the relay a {what} from {sender:?} to {receiver:?}; the coordinator \
         carries only what a node sends to another participant of the query"
    )]
    Misaddressed {
        /// The node that handed it over.
        carrier: String,
        /// `hello` or `message`.
        what: &'static str,
        /// The sender it names.
        sender: String,
        /// The receiver it names.
        receiver: String,
    },
    /// A node ended its part twice.
    #[error("node {member} sent a second outcome")]
    SecondOutcome {
        /// The node.
        member: String,
    },
    /// Messages were still pending after the last allowed round.
    #[error("messages still pending after {rounds} rounds; the relay stops a query that loops")]
    TooManyRounds {
        /// The rounds made.
        rounds: usize,
    },
    /// Nothing is pending, but some nodes have not ended their part.
    #[error("no message is pending, but {} sent no outcome", waiting.join(", "))]
    Stalled {
        /// The nodes without an outcome.
        waiting: Vec<String>,
    },
    /// The relay capture could not be written; nothing more is carried uncaptured.
    #[error("cannot write the relay capture: {0}")]
    Capture(std::io::Error),
}

impl RelayError {
    /// A failed call to `member`, told apart into a refusal or an outage.
    fn from_status(member: &str, at: String, status: &tonic::Status) -> Self {
        match CallFailure::from_status(status) {
            CallFailure::Refused { rule, message, code } => RelayError::Refused {
                member: member.to_string(),
                at,
                rule,
                message,
                code,
                receipt: refusal_receipt(status).map(Box::new),
            },
            // Not `CallFailure`'s text: tonic's `Display` of a status repeats its code and
            // message, which reads badly on one line; the code, message and causes suffice.
            CallFailure::Down(_) => {
                let mut problem = format!("{:?}: {}", status.code(), status.message());
                if let Some(source) = std::error::Error::source(status) {
                    problem = format!("{problem}: {}", chain(source));
                }
                RelayError::Down { member: member.to_string(), at, problem }
            }
        }
    }
}

/// Runs the relay for one query.
///
/// `opens` holds each participant's signed envelope, in schedule order; every call goes out in
/// that order. Each round hands every receiver the messages addressed to it, in the order they
/// were produced; what a round produces waits for the next. `capture`, when given, receives
/// every hello and message just before it is handed to its receiver, so it holds exactly what
/// the relay carried.
pub async fn relay<T: LinkTransport>(
    transport: &mut T,
    query_id: &QueryId,
    session_id: &SessionId,
    opens: Vec<(String, pb::SignedEnvelope)>,
    capture: Option<&mut (dyn Write + Send)>,
    max_rounds: usize,
) -> Relayed {
    let participants = opens.iter().map(|(member, _)| member.clone()).collect();
    let mut relay = Relay {
        transport,
        participants,
        query_id: query_id.as_bytes().to_vec(),
        session_id: session_id.as_bytes().to_vec(),
        capture,
        relayed: Relayed::default(),
    };
    let error = relay.run(opens, max_rounds).await.err();
    Relayed { error, ..relay.relayed }
}

/// One run of the relay: where it sends, what it carried so far.
struct Relay<'t, 'c, T> {
    /// How nodes are reached.
    transport: &'t mut T,
    /// The participants, in schedule order.
    participants: Vec<String>,
    /// The query's id, as every LinkStep names it.
    query_id: Vec<u8>,
    /// The session's id, likewise.
    session_id: Vec<u8>,
    /// Where carried items are written first, if anywhere.
    capture: Option<&'c mut (dyn Write + Send)>,
    /// What has been carried and collected.
    relayed: Relayed,
}

impl<T: LinkTransport> Relay<'_, '_, T> {
    async fn run(
        &mut self,
        opens: Vec<(String, pb::SignedEnvelope)>,
        max_rounds: usize,
    ) -> Result<(), RelayError> {
        let mut hellos = Vec::new();
        for (member, envelope) in opens {
            let opened = self
                .transport
                .open(&member, envelope)
                .await
                .map_err(|s| RelayError::from_status(&member, "LinkOpen".into(), &s))?;
            for hello in &opened.hellos {
                self.check_route(&member, "hello", &hello.sender, &hello.receiver)?;
            }
            hellos.extend(opened.hellos);
        }

        // Round 1: every participant gets the hellos addressed to it (and no messages yet).
        self.relayed.rounds = 1;
        let mut pending = Vec::new();
        for member in self.participants.clone() {
            let (mine, rest): (Vec<_>, Vec<_>) =
                hellos.into_iter().partition(|h| h.receiver == member);
            hellos = rest;
            pending.extend(self.step(&member, mine, Vec::new()).await?);
        }

        while !pending.is_empty() {
            if self.relayed.rounds >= max_rounds {
                return Err(RelayError::TooManyRounds { rounds: self.relayed.rounds });
            }
            self.relayed.rounds += 1;
            let mut batch: Vec<pb::RelayMessage> = std::mem::take(&mut pending);
            for member in self.participants.clone() {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    batch.into_iter().partition(|m| m.receiver == member);
                batch = rest;
                if !mine.is_empty() {
                    pending.extend(self.step(&member, Vec::new(), mine).await?);
                }
            }
        }

        let waiting: Vec<String> = self
            .participants
            .iter()
            .filter(|p| !self.relayed.outcomes.iter().any(|(m, _)| m == *p))
            .cloned()
            .collect();
        if waiting.is_empty() { Ok(()) } else { Err(RelayError::Stalled { waiting }) }
    }

    /// One LinkStep at `member`, carrying `hellos` and `messages` to it (captured first);
    /// returns the messages it sends next, their routes checked.
    async fn step(
        &mut self,
        member: &str,
        hellos: Vec<pb::RelayHello>,
        messages: Vec<pb::RelayMessage>,
    ) -> Result<Vec<pb::RelayMessage>, RelayError> {
        for hello in &hellos {
            self.capture(|out| write_hello(out, hello))?;
        }
        for message in &messages {
            self.capture(|out| write_message(out, message))?;
        }
        self.relayed.hellos += hellos.len();
        self.relayed.messages += messages.len();
        let request = pb::LinkStepRequest {
            query_id: self.query_id.clone(),
            session_id: self.session_id.clone(),
            hellos,
            messages,
        };
        let at = format!("LinkStep (round {})", self.relayed.rounds);
        let response = self
            .transport
            .step(member, request)
            .await
            .map_err(|s| RelayError::from_status(member, at, &s))?;
        // The outcome is kept even if what comes with it is refused: its receipt still proves
        // what the node logged, and is verified and stored like any other.
        if let Some(outcome) = response.outcome {
            if self.relayed.outcomes.iter().any(|(m, _)| m == member) {
                return Err(RelayError::SecondOutcome { member: member.to_string() });
            }
            self.relayed.outcomes.push((member.to_string(), outcome));
        }
        for message in &response.outgoing {
            self.check_route(member, "message", &message.sender, &message.receiver)?;
        }
        Ok(response.outgoing)
    }

    /// Whether the relay may carry an item `carrier` handed over: it must name `carrier` as
    /// its sender and another participant as its receiver. The receiving node checks far more
    /// (signature, session, step, role); this only keeps the coordinator from delivering
    /// anything outside the query the nodes signed up for.
    fn check_route(
        &self,
        carrier: &str,
        what: &'static str,
        sender: &str,
        receiver: &str,
    ) -> Result<(), RelayError> {
        let to_participant = self.participants.iter().any(|p| p == receiver);
        if sender == carrier && receiver != carrier && to_participant {
            return Ok(());
        }
        Err(RelayError::Misaddressed {
            carrier: carrier.to_string(),
            what,
            sender: sender.to_string(),
            receiver: receiver.to_string(),
        })
    }

    fn capture(
        &mut self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), RelayError> {
        match self.capture.as_deref_mut() {
            Some(out) => write(out).map_err(RelayError::Capture),
            None => Ok(()),
        }
    }
}

/// The real transport: mTLS to each node as the federation file lists it, one connection per
/// node made on first use, every call with the same deadline.
pub struct NodeTransport<'a> {
    /// Where the nodes are.
    federation: &'a Federation,
    /// The coordinator's TLS material.
    tls: ClientTls,
    /// The per-call deadline and message size.
    limits: CallLimits,
    /// Connections made so far, by member.
    clients: BTreeMap<String, NodeClient<Channel>>,
}

impl<'a> NodeTransport<'a> {
    /// A transport whose every call may take up to `step_timeout`: a LinkStep can wait at a
    /// node for a human (an operator approving a flag-back), so this is minutes, not seconds.
    pub fn new(federation: &'a Federation, tls: ClientTls, step_timeout: Duration) -> Self {
        let limits =
            CallLimits { timeout: step_timeout, max_message_bytes: LINK_MAX_MESSAGE_BYTES };
        Self { federation, tls, limits, clients: BTreeMap::new() }
    }

    /// The connection to `member`, made if needed. A failure is an `UNAVAILABLE` status
    /// without a refusal header, which the relay reports as the node being down.
    async fn client(&mut self, member: &str) -> Result<NodeClient<Channel>, tonic::Status> {
        if let Some(client) = self.clients.get(member) {
            return Ok(client.clone());
        }
        let node = self.federation.member(member).ok_or_else(|| {
            tonic::Status::unavailable(format!("{member:?} is not in the federation file"))
        })?;
        let client = connect_with(node, &self.tls, self.limits)
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        self.clients.insert(member.to_string(), client.clone());
        Ok(client)
    }

    /// A request carrying the deadline, so the node knows how long the relay will wait.
    fn request<M>(&self, message: M) -> tonic::Request<M> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.limits.timeout);
        request
    }
}

impl LinkTransport for NodeTransport<'_> {
    async fn open(
        &mut self,
        member: &str,
        envelope: pb::SignedEnvelope,
    ) -> Result<pb::LinkOpened, tonic::Status> {
        let mut client = self.client(member).await?;
        Ok(client.link_open(self.request(envelope)).await?.into_inner())
    }

    async fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> Result<pb::LinkStepResponse, tonic::Status> {
        let mut client = self.client(member).await?;
        Ok(client.link_step(self.request(request)).await?.into_inner())
    }
}

#[cfg(test)]
mod tests;
