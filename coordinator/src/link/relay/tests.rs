//! The relay loop against in-memory nodes: what it hands to whom and in which order, what it
//! collects, and each way it stops (refusal, outage, misaddressed item, loop, stall, capture).

use fedlink_proto::clock::UnixMillis;
use fedlink_proto::refusal::{RECEIPT_HEADER, REFUSAL_HEADER};
use futures::executor::block_on;
use prost::Message as _;
use tonic::Status;

use super::*;
use crate::link::capture::{Captured, read_capture};

type OpenFn = Box<dyn FnMut(&str) -> Result<pb::LinkOpened, Status> + Send>;
type StepFn =
    Box<dyn FnMut(&str, &pb::LinkStepRequest) -> Result<pb::LinkStepResponse, Status> + Send>;

/// One call a fake node received: who, and the (sender, step) of each message it was handed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Open(String),
    Step { member: String, hellos_from: Vec<String>, messages: Vec<(String, u32)> },
}

fn open(member: &str) -> Call {
    Call::Open(member.into())
}

fn step(member: &str, hellos_from: &[&str], messages: &[(&str, u32)]) -> Call {
    Call::Step {
        member: member.into(),
        hellos_from: hellos_from.iter().map(|s| s.to_string()).collect(),
        messages: messages.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
    }
}

/// In-memory nodes: by default each opens with one hello to every other participant; each
/// step answers as its script says. Every call is logged.
struct FakeNodes {
    ids: (QueryId, SessionId),
    opens: OpenFn,
    steps: StepFn,
    calls: Vec<Call>,
}

impl FakeNodes {
    fn new(ids: (QueryId, SessionId), participants: &[&str], steps: StepFn) -> Self {
        let everyone: Vec<String> = participants.iter().map(|p| p.to_string()).collect();
        let opens: OpenFn = Box::new(move |member| {
            let hellos =
                everyone.iter().filter(|p| *p != member).map(|p| hello(member, p)).collect();
            Ok(pb::LinkOpened { hellos })
        });
        Self { ids, opens, steps, calls: Vec::new() }
    }
}

impl LinkTransport for FakeNodes {
    async fn open(
        &mut self,
        member: &str,
        envelope: pb::SignedEnvelope,
    ) -> Result<pb::LinkOpened, Status> {
        assert_eq!(envelope.envelope, member.as_bytes(), "each node gets its own envelope");
        self.calls.push(Call::Open(member.into()));
        (self.opens)(member)
    }

    async fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> Result<pb::LinkStepResponse, Status> {
        assert_eq!(request.query_id, self.ids.0.as_bytes());
        assert_eq!(request.session_id, self.ids.1.as_bytes());
        for hello in &request.hellos {
            assert_eq!(hello.receiver, member, "a hello reaches only its receiver");
        }
        for message in &request.messages {
            assert_eq!(message.receiver, member, "a message reaches only its receiver");
        }
        self.calls.push(Call::Step {
            member: member.into(),
            hellos_from: request.hellos.iter().map(|h| h.sender.clone()).collect(),
            messages: request.messages.iter().map(|m| (m.sender.clone(), m.step)).collect(),
        });
        (self.steps)(member, &request)
    }
}

fn ids() -> (QueryId, SessionId) {
    (QueryId::new_v7(UnixMillis(1_780_000_000_000)), SessionId::random().expect("random"))
}

fn hello(sender: &str, receiver: &str) -> pb::RelayHello {
    pb::RelayHello {
        sender: sender.into(),
        receiver: receiver.into(),
        ephemeral_public: vec![sender.len() as u8; 32],
        ..Default::default()
    }
}

fn msg(step: u32, sender: &str, receiver: &str) -> pb::RelayMessage {
    pb::RelayMessage {
        step,
        sender: sender.into(),
        receiver: receiver.into(),
        ciphertext: format!("sealed {step} {sender}->{receiver}").into_bytes(),
        ..Default::default()
    }
}

fn reply(outgoing: Vec<pb::RelayMessage>, done: bool) -> Result<pb::LinkStepResponse, Status> {
    let outcome = done.then(|| pb::LinkOutcome {
        result: Some(pb::link_outcome::Result::Contributed(pb::LinkContribution::default())),
        receipt: Some(pb::Receipt::default()),
    });
    Ok(pb::LinkStepResponse { outgoing, outcome })
}

/// Steps of the (sender, step) messages a request carries.
fn steps_of(request: &pb::LinkStepRequest) -> Vec<u32> {
    request.messages.iter().map(|m| m.step).collect()
}

/// The two-party flow of design-review §8: hellos, M1 police → icb, M2 icb → police, M3
/// police → icb; police is done after M3, icb after reading it.
fn count_flow() -> StepFn {
    Box::new(|member, request| match (member, steps_of(request).as_slice()) {
        ("police", []) => reply(vec![msg(1, "police", "icb")], false),
        ("icb", []) => reply(vec![], false),
        ("icb", [1]) => reply(vec![msg(2, "icb", "police")], false),
        ("police", [2]) => reply(vec![msg(3, "police", "icb")], true),
        ("icb", [3]) => reply(vec![], true),
        (member, steps) => Err(Status::internal(format!("{member} did not expect {steps:?}"))),
    })
}

fn opens(members: &[&str]) -> Vec<(String, pb::SignedEnvelope)> {
    members
        .iter()
        .map(|m| {
            let envelope = m.as_bytes().to_vec();
            (m.to_string(), pb::SignedEnvelope { envelope, signature: vec![1; 64] })
        })
        .collect()
}

fn run(
    nodes: &mut FakeNodes,
    members: &[&str],
    capture: Option<&mut (dyn Write + Send)>,
    max_rounds: usize,
) -> Relayed {
    let (query_id, session_id) = nodes.ids;
    block_on(relay(nodes, &query_id, &session_id, opens(members), capture, max_rounds))
}

#[test]
fn a_two_party_count_is_relayed_step_by_step_and_both_outcomes_collected() {
    let members = ["police", "icb"];
    let mut nodes = FakeNodes::new(ids(), &members, count_flow());
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    assert!(relayed.error.is_none(), "{:?}", relayed.error);
    assert_eq!(
        nodes.calls,
        [
            open("police"),
            open("icb"),
            step("police", &["icb"], &[]),
            step("icb", &["police"], &[]),
            step("icb", &[], &[("police", 1)]),
            step("police", &[], &[("icb", 2)]),
            step("icb", &[], &[("police", 3)]),
        ]
    );
    let finished: Vec<&str> = relayed.outcomes.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(finished, ["police", "icb"]);
    assert_eq!((relayed.rounds, relayed.hellos, relayed.messages), (4, 2, 3));
}

#[test]
fn each_receiver_gets_its_messages_in_the_order_they_were_produced() {
    let members = ["police", "council", "icb"];
    let script: StepFn = Box::new(|member, request| match (member, steps_of(request).as_slice()) {
        ("police", []) => reply(
            vec![msg(1, "police", "icb"), msg(1, "police", "council"), msg(2, "police", "icb")],
            true,
        ),
        ("council", []) => reply(vec![msg(1, "council", "icb")], false),
        ("icb", []) => reply(vec![], false),
        ("council", [1]) => reply(vec![], true),
        ("icb", [1, 2, 1]) => reply(vec![], true),
        (member, steps) => Err(Status::internal(format!("{member} did not expect {steps:?}"))),
    });
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    assert!(relayed.error.is_none(), "{:?}", relayed.error);
    assert_eq!(
        nodes.calls[3..],
        [
            step("police", &["council", "icb"], &[]),
            step("council", &["police", "icb"], &[]),
            step("icb", &["police", "council"], &[]),
            // Round 2, receivers in schedule order, each batch in production order.
            step("council", &[], &[("police", 1)]),
            step("icb", &[], &[("police", 1), ("police", 2), ("council", 1)]),
        ]
    );
    assert_eq!((relayed.rounds, relayed.messages), (2, 4));
}

fn refusal(rule: &str, receipt_index: u64) -> Status {
    let mut status = Status::permission_denied("the cohort source is not accepted");
    status.metadata_mut().insert(REFUSAL_HEADER, rule.parse().expect("ascii"));
    let receipt = pb::Receipt { leaf_index: receipt_index, ..Default::default() };
    status.metadata_mut().insert_bin(
        RECEIPT_HEADER,
        tonic::metadata::MetadataValue::from_bytes(&receipt.encode_to_vec()),
    );
    status
}

#[test]
fn a_refusal_stops_the_relay_with_the_nodes_rule_and_receipt() {
    let members = ["police", "icb"];
    let mut flow = count_flow();
    let script: StepFn =
        Box::new(move |member, request| match (member, steps_of(request).as_slice()) {
            ("icb", [1]) => Err(refusal("policy.linkage.cohort_source", 7)),
            _ => flow(member, request),
        });
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    match relayed.error {
        Some(RelayError::Refused { member, at, rule, message, code, receipt }) => {
            assert_eq!((member.as_str(), at.as_str()), ("icb", "LinkStep (round 2)"));
            assert_eq!(rule, "policy.linkage.cohort_source");
            assert_eq!(message, "the cohort source is not accepted");
            assert_eq!(code, tonic::Code::PermissionDenied);
            assert_eq!(receipt.map(|r| r.leaf_index), Some(7));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(nodes.calls.len(), 5, "nothing is sent after the refusal: {:?}", nodes.calls);
}

#[test]
fn a_refused_open_stops_before_anyone_else_is_asked() {
    let members = ["police", "icb"];
    let mut nodes = FakeNodes::new(ids(), &members, count_flow());
    nodes.opens = Box::new(|_| Err(refusal("policy.purposes", 3)));
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    match &relayed.error {
        Some(RelayError::Refused { member, at, .. }) => {
            assert_eq!((member.as_str(), at.as_str()), ("police", "LinkOpen"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(nodes.calls, [open("police")]);
}

#[test]
fn a_node_failing_without_a_refusal_is_down() {
    let members = ["police", "icb"];
    let script: StepFn = Box::new(|_, _| Err(Status::unimplemented("not yet")));
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    match relayed.error {
        Some(RelayError::Down { member, at, problem }) => {
            assert_eq!((member.as_str(), at.as_str()), ("police", "LinkStep (round 1)"));
            assert!(problem.contains("not yet"), "{problem}");
        }
        other => panic!("expected down, got {other:?}"),
    }
}

#[test]
fn nothing_addressed_outside_the_query_is_carried() {
    let members = ["police", "icb"];
    // A message to a member that is not a participant, one forged as from the peer, and one
    // a node addresses to itself.
    for bad in [msg(1, "police", "council"), msg(1, "icb", "icb"), msg(1, "police", "police")] {
        let (sender, receiver) = (bad.sender.clone(), bad.receiver.clone());
        let script: StepFn = Box::new(move |member, request| match member {
            "police" => reply(vec![bad.clone()], false),
            _ => count_flow()(member, request),
        });
        let mut nodes = FakeNodes::new(ids(), &members, script);
        let mut capture = Vec::new();
        let relayed = run(&mut nodes, &members, Some(&mut capture), MAX_ROUNDS);
        match &relayed.error {
            Some(RelayError::Misaddressed { carrier, what, sender: s, receiver: r }) => {
                assert_eq!((carrier.as_str(), *what), ("police", "message"));
                assert_eq!((s, r), (&sender, &receiver));
            }
            other => panic!("{sender}->{receiver}: expected misaddressed, got {other:?}"),
        }
        // Police's step was the last call, and only the hello handed to police was carried.
        assert_eq!(nodes.calls.last(), Some(&step("police", &["icb"], &[])));
        assert_eq!(read_capture(&capture).expect("capture").len(), 1);
    }

    // A hello to a non-participant is refused at LinkOpen, before anything is carried.
    let mut nodes = FakeNodes::new(ids(), &members, count_flow());
    nodes.opens = Box::new(|member| Ok(pb::LinkOpened { hellos: vec![hello(member, "council")] }));
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    match &relayed.error {
        Some(RelayError::Misaddressed { what, receiver, .. }) => {
            assert_eq!((*what, receiver.as_str()), ("hello", "council"))
        }
        other => panic!("expected a misaddressed hello, got {other:?}"),
    }
    assert_eq!(nodes.calls, [open("police")]);
}

#[test]
fn a_query_that_keeps_exchanging_messages_is_stopped_at_the_round_cap() {
    let members = ["police", "icb"];
    let script: StepFn = Box::new(|member, request| {
        let peer = if member == "police" { "icb" } else { "police" };
        let next = steps_of(request).last().map_or(1, |s| s + 1);
        match (member, next) {
            ("icb", 1) => reply(vec![], false),
            _ => reply(vec![msg(next, member, peer)], false),
        }
    });
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, 5);
    assert!(
        matches!(relayed.error, Some(RelayError::TooManyRounds { rounds: 5 })),
        "{:?}",
        relayed.error
    );
    // Two opens, two steps in round 1, then one per round for rounds 2 to 5.
    assert_eq!(nodes.calls.len(), 2 + 2 + 4, "{:?}", nodes.calls);
    assert_eq!(relayed.rounds, 5);
}

#[test]
fn nodes_that_fall_silent_without_an_outcome_stall_the_query() {
    let members = ["police", "icb"];
    let script: StepFn = Box::new(|member, _| reply(vec![], member == "police"));
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    match relayed.error {
        Some(RelayError::Stalled { waiting }) => assert_eq!(waiting, ["icb"]),
        other => panic!("expected a stall, got {other:?}"),
    }
    assert_eq!(relayed.outcomes.len(), 1, "police's outcome is still collected");
}

#[test]
fn a_second_outcome_from_one_node_stops_the_relay() {
    let members = ["police", "icb"];
    let script: StepFn = Box::new(|member, request| match (member, steps_of(request).as_slice()) {
        ("police", []) => reply(vec![msg(1, "police", "icb")], true),
        ("icb", []) => reply(vec![], false),
        ("icb", [1]) => reply(vec![msg(2, "icb", "police")], true),
        _ => reply(vec![], true),
    });
    let mut nodes = FakeNodes::new(ids(), &members, script);
    let relayed = run(&mut nodes, &members, None, MAX_ROUNDS);
    assert!(
        matches!(&relayed.error, Some(RelayError::SecondOutcome { member }) if member == "police"),
        "{:?}",
        relayed.error
    );
}

#[test]
fn the_capture_holds_exactly_what_was_carried_in_delivery_order() {
    let members = ["police", "icb"];
    let mut nodes = FakeNodes::new(ids(), &members, count_flow());
    let mut capture = Vec::new();
    let relayed = run(&mut nodes, &members, Some(&mut capture), MAX_ROUNDS);
    assert!(relayed.error.is_none(), "{:?}", relayed.error);
    assert_eq!(
        read_capture(&capture).expect("capture reads back"),
        [
            Captured::Hello(hello("icb", "police")),
            Captured::Hello(hello("police", "icb")),
            Captured::Message(msg(1, "police", "icb")),
            Captured::Message(msg(2, "icb", "police")),
            Captured::Message(msg(3, "police", "icb")),
        ]
    );
}

/// A capture that cannot be written.
struct BrokenCapture;

impl Write for BrokenCapture {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk full"))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn nothing_is_carried_that_could_not_be_captured() {
    let members = ["police", "icb"];
    let mut nodes = FakeNodes::new(ids(), &members, count_flow());
    let relayed = run(&mut nodes, &members, Some(&mut BrokenCapture), MAX_ROUNDS);
    assert!(matches!(relayed.error, Some(RelayError::Capture(_))), "{:?}", relayed.error);
    assert_eq!(nodes.calls, [open("police"), open("icb")], "no step without its capture");
}
