//! F13, envelopes and sessions (design-review §6, §10 item 10): a coordinator replays, misroutes
//! and relabels signed envelopes, and steps sessions it does not own, hoping a node runs a step
//! of a mode it was not asked for (a b-oracle), answers an envelope meant for another node, or
//! runs a query twice.
//!
//! - an aggregate envelope at LinkOpen and a linked-count envelope at Aggregate are refused
//!   (`envelope.mode`); a count relabelled as another mode does not parse
//!   (`envelope.malformed`), or, relabelled by the relay, does not verify
//!   (`envelope.signature_invalid`); signed by the coordinator as a flag-back, it is a flag-back
//!   and the flag-back rule judges it (`policy.linkage.flag_back`);
//! - the ICB's envelope sent to the police is refused (`envelope.audience`);
//! - a LinkOpen envelope sent twice, and again after the node restarts, is refused
//!   (`envelope.replayed`: the audit log, not memory, remembers query ids);
//! - a signed envelope with a duplicated field is refused (`envelope.malformed`, F19);
//! - a second LinkOpen reusing an open session id under a new query id is refused and logged
//!   (`linkage.session`);
//! - a LinkStep from another federation identity, or for an unknown session, is refused
//!   (`linkage.session`), and the session stays its coordinator's.

use fedlink_coordinator::coordinator::QueryOverrides;
use fedlink_proto::aggregate::AggregateRequest;
use fedlink_proto::envelope::{Envelope, Mode, QueryBody, QueryId, SessionId};
use fedlink_proto::identity::SigningContext;
use fedlink_proto::pb;
use prost::Message as _;

use super::fixture::{LinkFed, Setup, count_query, fillers, rule_of};
use crate::util::{now, runtime};

fn setup() -> Setup {
    let police = fillers("P", 100, 5, "2025-06-15", "base");
    let icb = fillers("E", 100, 5, "2025-03-10", "assault");
    Setup::exact(police, icb)
}

/// Fresh envelopes for a linked count, police's then the ICB's (not logged, not sent).
fn envelopes(fed: &LinkFed) -> (Envelope, Envelope) {
    let query = count_query(&[], None);
    let overrides = QueryOverrides { purpose: query.purpose.clone(), ..Default::default() };
    let mut envs = fed
        .coordinator
        .envelopes_for_link(&query.request, &query.schedule, &overrides)
        .expect("envelopes");
    assert_eq!(envs.len(), 2);
    let icb = envs.pop().expect("icb");
    let police = envs.pop().expect("police");
    assert_eq!((police.audience.as_str(), icb.audience.as_str()), ("police", "icb"));
    (police, icb)
}

/// A node's LinkOpen as the coordinator (mTLS as `as_member`): Ok, or the refusal's rule and
/// message.
fn link_open(
    fed: &LinkFed,
    node: &str,
    as_member: &str,
    signed: pb::SignedEnvelope,
) -> Result<pb::LinkOpened, (String, String)> {
    runtime().block_on(async {
        let mut client = fed.fed.client(node, &fed.fed.client_tls(as_member)).await;
        client.link_open(signed).await.map(|r| r.into_inner()).map_err(|s| rule_of(&s))
    })
}

fn link_step(
    fed: &LinkFed,
    node: &str,
    as_member: &str,
    request: pb::LinkStepRequest,
) -> Result<pb::LinkStepResponse, (String, String)> {
    runtime().block_on(async {
        let mut client = fed.fed.client(node, &fed.fed.client_tls(as_member)).await;
        client.link_step(request).await.map(|r| r.into_inner()).map_err(|s| rule_of(&s))
    })
}

fn sign(fed: &LinkFed, env: &Envelope) -> pb::SignedEnvelope {
    env.sign(&fed.fed.identity("coordinator"))
}

/// Runs `call` and asserts it was refused under `rule` and that `node` logged exactly one
/// more DENIED entry under that rule; returns the refusal's message.
fn assert_refused<T: std::fmt::Debug>(
    fed: &LinkFed,
    node: &str,
    rule: &str,
    call: impl FnOnce() -> Result<T, (String, String)>,
) -> String {
    let before = fed.denials(node, rule).len();
    let (got, message) = call().expect_err("refused");
    assert_eq!(got, rule, "{message}");
    assert_eq!(fed.denials(node, rule).len(), before + 1, "{node} logs the {rule} refusal");
    message
}

#[test]
fn mode_confusion_wrong_audience_and_malformed_envelopes_are_refused() {
    let fed = LinkFed::start(&setup());
    let (police, icb) = envelopes(&fed);

    // A linked-count envelope relabelled as the aggregate mode: its mode and body disagree,
    // so it does not even parse as an envelope.
    let relabelled = Envelope { mode: Mode::Aggregate, ..police.clone() };
    assert_refused(&fed, "police", "envelope.malformed", || {
        link_open(&fed, "police", "coordinator", sign(&fed, &relabelled))
    });

    // A genuine aggregate envelope at LinkOpen.
    let aggregate = Envelope {
        query_id: QueryId::new_v7(now()),
        mode: Mode::Aggregate,
        body: QueryBody::Aggregate(AggregateRequest::Template {
            dataset: "ed".into(),
            name: "any".into(),
            period: "2025/26".into(),
        }),
        ..icb.clone()
    };
    assert_refused(&fed, "icb", "envelope.mode", || {
        link_open(&fed, "icb", "coordinator", sign(&fed, &aggregate))
    });

    // A linked-count envelope at Aggregate.
    assert_refused(&fed, "icb", "envelope.mode", || {
        runtime().block_on(async {
            let mut client = fed.fed.client("icb", &fed.fed.client_tls("coordinator")).await;
            client.aggregate(sign(&fed, &icb)).await.map(|_| ()).map_err(|s| rule_of(&s))
        })
    });

    // The mode is part of what the coordinator signs, and the kind of a linked query is read
    // from it: a relay that turns a signed count into a flag-back breaks the signature...
    let signed = sign(&fed, &Envelope { query_id: QueryId::new_v7(now()), ..icb.clone() });
    let mut wire = pb::Envelope::decode(signed.envelope.as_slice()).expect("decodes");
    wire.mode = pb::Mode::FlagBack as i32;
    let tampered = pb::SignedEnvelope { envelope: wire.encode_to_vec(), ..signed };
    assert_refused(&fed, "icb", "envelope.signature_invalid", || {
        link_open(&fed, "icb", "coordinator", tampered)
    });
    // ... and a coordinator that signs the flag-back mode over a count's body asks a flag-back,
    // judged as one: here without a case reference, on key types flag-back may not use.
    let flag_mode =
        Envelope { query_id: QueryId::new_v7(now()), mode: Mode::FlagBack, ..icb.clone() };
    assert_refused(&fed, "icb", "policy.linkage.flag_back", || {
        link_open(&fed, "icb", "coordinator", sign(&fed, &flag_mode))
    });

    // The ICB's envelope at the police node.
    assert_refused(&fed, "police", "envelope.audience", || {
        link_open(&fed, "police", "coordinator", sign(&fed, &icb))
    });

    // A duplicated purpose field (last one wins in protobuf): the signed bytes are not the
    // canonical encoding of what a node would read.
    let fresh = Envelope { query_id: QueryId::new_v7(now()), ..police.clone() };
    let mut bytes = fresh.encode();
    bytes.extend(pb::Envelope { purpose: "SVD-SNA".into(), ..Default::default() }.encode_to_vec());
    let signature =
        fed.fed.identity("coordinator").sign(SigningContext::ENVELOPE, &bytes).as_bytes().to_vec();
    assert_refused(&fed, "police", "envelope.malformed", || {
        link_open(&fed, "police", "coordinator", pb::SignedEnvelope { envelope: bytes, signature })
    });
}

#[test]
fn replayed_envelopes_reused_sessions_and_foreign_steps_are_refused() {
    let mut fed = LinkFed::start(&setup());
    let (police, icb) = envelopes(&fed);
    let signed_police = sign(&fed, &police);

    // The genuine LinkOpen, then the same bytes again.
    let opened = link_open(&fed, "police", "coordinator", signed_police.clone()).expect("opens");
    assert_eq!(opened.hellos.len(), 1);
    assert_refused(&fed, "police", "envelope.replayed", || {
        link_open(&fed, "police", "coordinator", signed_police.clone())
    });

    // After a restart the session table is empty, but the log remembers the query id.
    assert!(fed.police.stop(), "police stops cleanly");
    fed.police = fed.fed.start_node("police");
    assert_refused(&fed, "police", "envelope.replayed", || {
        link_open(&fed, "police", "coordinator", signed_police)
    });

    // Open the ICB's session, then a second query that reuses its session id.
    let signed_icb = sign(&fed, &icb);
    link_open(&fed, "icb", "coordinator", signed_icb).expect("opens");
    let reuse = Envelope { query_id: QueryId::new_v7(now()), ..icb.clone() };
    let message = assert_refused(&fed, "icb", "linkage.session", || {
        link_open(&fed, "icb", "coordinator", sign(&fed, &reuse))
    });
    assert!(message.contains("already open"), "{message}");

    // A LinkStep for the ICB's session from another member of the federation (mTLS as the
    // police node): the session is the coordinator's alone.
    let step = pb::LinkStepRequest {
        query_id: icb.query_id.as_bytes().to_vec(),
        session_id: icb.session_id.as_bytes().to_vec(),
        hellos: opened.hellos.clone(),
        messages: Vec::new(),
    };
    let (rule, message) =
        link_step(&fed, "icb", "police", step.clone()).expect_err("a foreign step is refused");
    assert_eq!(rule, "linkage.session", "{message}");
    assert!(message.contains("opened by \"coordinator\", not \"police\""), "{message}");

    // A LinkStep naming another query than the session's.
    let other_query = pb::LinkStepRequest {
        query_id: QueryId::new_v7(now()).as_bytes().to_vec(),
        ..step.clone()
    };
    let (_, message) =
        link_step(&fed, "icb", "coordinator", other_query).expect_err("another query is refused");
    assert!(message.contains("another query"), "{message}");

    // An unknown session.
    let unknown = pb::LinkStepRequest {
        session_id: SessionId::random().expect("rng").as_bytes().to_vec(),
        ..step.clone()
    };
    let (rule, message) =
        link_step(&fed, "icb", "coordinator", unknown).expect_err("an unknown session");
    assert_eq!(rule, "linkage.session", "{message}");
    assert!(message.contains("no such session"), "{message}");

    // Each of those refusals is in the ICB's log as a denial naming the peer and the rule,
    // though none names an admitted query.
    let denials: Vec<_> = crate::util::audit_entries(&fed.fed.audit_log("icb"))
        .into_iter()
        .filter(|e| e.rule == "linkage.session" && e.decision == pb::Decision::Denied as i32)
        .collect();
    assert!(denials.len() >= 3, "foreign, other-query and unknown steps: {denials:?}");
    assert!(
        denials.iter().any(|e| e.actor.as_ref().is_some_and(|a| a.member == "police")),
        "the foreign step names the police as the peer"
    );

    // None of that cost the coordinator its session: its first step (the police node's hello
    // from the LinkOpen above, of this very query and session) is taken.
    let stepped = link_step(&fed, "icb", "coordinator", step).expect("the session is intact");
    assert!(stepped.outgoing.is_empty() && stepped.outcome.is_none());
}
