//! F1, the malicious relay (design-review §2.3, §10 item 1): the coordinator carries every
//! node-to-node message, so it tries to alter, substitute, replay, reflect and reorder them,
//! and to read them. Every node-to-node payload is sealed end to end (X25519 + Ed25519 hello,
//! ChaCha20-Poly1305 bound to session, step, sender, receiver and transcript), so:
//!
//! - a flipped byte, or M2 bytes from another session, is refused by the cohort node
//!   (`linkage.message`), logged as a DENIED entry, and the session is gone: the genuine
//!   message offered afterwards is refused too (`linkage.session`);
//! - M1 captured in session 1 and replayed into session 2 is refused by the computing node,
//!   verbatim or with its header rewritten; so is a session-1 hello (`linkage.handshake`);
//! - a message delivered back to its sender, with its step changed, twice in one step, or
//!   again later in the same session is refused (`linkage.message`);
//! - the relay capture of an honest run holds routing headers, signed ephemeral keys and
//!   ciphertext: no label, no dataset name, no vocabulary entry, and ciphertext in which
//!   32-byte windows decode as ristretto255 points no more often than in random bytes, where
//!   a plaintext tuple batch decodes at every point position.

use fedlink_coordinator::link::LinkRun;
use fedlink_coordinator::link::capture::{HELLO, MESSAGE, read_capture};
use fedlink_coordinator::link::relay::LinkTransport;
use fedlink_proto::blind::{BlindedPoint, POINT_LEN, random_point};
use fedlink_proto::pb;
use prost::Message as _;

use fedlink_coordinator::link::PartStatus;

use super::fixture::{
    Exchange, LinkFed, Mitm, Person, Row, Setup, Tamper, cell, count_query, describe, fillers,
    rule_of,
};
use crate::util::runtime;

/// The police cohort (12 people, labelled LABEL-ZEBRA, 4 of them known to the ICB) and the
/// ICB's attendances (those 4 and 6 others).
fn setup() -> Setup {
    let day = "2025-06-15";
    let police =
        fillers("P", 100, 12, day, "base").into_iter().map(|r| r.labelled("LABEL-ZEBRA")).collect();
    let mut icb: Vec<Row> = (100..104)
        .map(|i| Row::new(format!("E{i}"), Person::synthetic(i), "2025-03-10", "assault"))
        .collect();
    icb.extend(fillers("G", 2000, 6, "2025-02-01", "assault"));
    Setup::exact(police, icb)
}

/// Whether `m` is the message `sender` sealed as `step` (M1: police 1, M2: icb 1, M3: police 2: each direction numbers its own steps).
fn is(m: &pb::RelayMessage, sender: &str, step: u32) -> bool {
    m.sender == sender && m.step == step
}

/// One honest run, recorded: its outcome and every LinkStep exchange.
fn honest(fed: &LinkFed) -> (LinkRun, Vec<Exchange>) {
    let query = count_query(&[], Some("lbl"));
    let mut mitm = Mitm::honest(fed.transport());
    let run = runtime().block_on(fed.run_with(&query, &mut mitm, None));
    assert!(run.ok(), "the honest run: {}", describe(&run));
    (run, mitm.exchanges)
}

/// The message `sender` sealed as `step` in a recorded run, as the sender sealed it.
fn recorded(exchanges: &[Exchange], sender: &str, step: u32) -> pb::RelayMessage {
    exchanges
        .iter()
        .flat_map(|e| &e.original.messages)
        .find(|m| is(m, sender, step))
        .cloned()
        .unwrap_or_else(|| panic!("no step {step} from {sender} recorded"))
}

/// A run through a relay that applies `tamper` to every LinkStep.
fn attacked(fed: &LinkFed, tamper: Tamper) -> (LinkRun, Vec<Exchange>) {
    let query = count_query(&[], Some("lbl"));
    let mut mitm = Mitm::new(fed.transport(), tamper);
    let run = runtime().block_on(fed.run_with(&query, &mut mitm, None));
    (run, mitm.exchanges)
}

/// Checks that the step the relay last delivered, to `member`, was refused under `rule` with
/// a message containing `why`; that the run ended there with no release; that `member` logged
/// one DENIED entry under that rule for this query; and that it has forgotten the session: the
/// LinkStep `retry` (the genuine message, or anything) is refused as naming no open session.
fn assert_refused_and_ended(
    fed: &LinkFed,
    run: &LinkRun,
    exchanges: &[Exchange],
    member: &str,
    rule: &str,
    why: &str,
    retry: pb::LinkStepRequest,
) {
    let last = exchanges.last().expect("a step was made");
    assert_eq!(last.member, member, "the attacked step went to {member}");
    let (refused, message) = last
        .response
        .as_ref()
        .err()
        .cloned()
        .unwrap_or_else(|| panic!("{member} accepted the attacked step: {}", describe(run)));
    assert_eq!(refused, rule, "{message}");
    assert!(message.contains(why), "{member} refused for another reason: {message}");
    // The relay stops at the refusal (it reports it against the member it called).
    assert!(run.release().is_none() && !run.ok(), "{}", describe(run));
    assert!(
        run.parts
            .iter()
            .any(|p| matches!(&p.status, PartStatus::Refused { rule: r, .. } if r == rule)),
        "{}",
        describe(run)
    );
    let query_id = run.query_id.expect("query id").as_bytes().to_vec();
    let logged = fed
        .denials(member, rule)
        .into_iter()
        .filter(|e| e.query.as_ref().is_some_and(|q| q.query_id == query_id))
        .count();
    assert_eq!(logged, 1, "{member} logs the refusal once, as DENIED under {rule}");

    let mut transport = fed.transport();
    let retried = runtime().block_on(transport.step(member, retry));
    let (rule, message) = rule_of(&retried.expect_err("a refused session takes no more steps"));
    assert_eq!(rule, "linkage.session", "{message}");
    assert!(message.contains("no such session"), "{message}");
}

/// The LinkStep that would deliver `messages` to the session of `run`.
fn step_request(
    run: &LinkRun,
    exchanges: &[Exchange],
    messages: Vec<pb::RelayMessage>,
) -> pb::LinkStepRequest {
    let first = exchanges.first().expect("a step was made");
    assert_eq!(first.request.query_id, run.query_id.expect("id").as_bytes().to_vec());
    pb::LinkStepRequest {
        query_id: first.request.query_id.clone(),
        session_id: first.request.session_id.clone(),
        hellos: Vec::new(),
        messages,
    }
}

#[test]
fn an_altered_or_substituted_m2_is_refused_and_ends_the_session() {
    let fed = LinkFed::start(&setup());
    let (_, session1) = honest(&fed);
    let old_m2 = recorded(&session1, "icb", 1);

    // One flipped byte in the middle of M2's ciphertext.
    let (run, exchanges) = attacked(
        &fed,
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "icb", 1)) {
                let middle = m.ciphertext.len() / 2;
                m.ciphertext[middle] ^= 0x01;
            }
            member.to_string()
        }),
    );
    let genuine_m2 = recorded(&exchanges, "icb", 1);
    let retry = step_request(&run, &exchanges, vec![genuine_m2]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "police",
        "linkage.message",
        "does not authenticate",
        retry,
    );
    assert!(run.release().is_none(), "nothing is released");

    // Session 1's M2, verbatim: the wrong session.
    let substitute = old_m2.clone();
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "icb", 1)) {
                *m = substitute.clone();
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "police",
        "linkage.message",
        "another session",
        retry,
    );

    // Session 1's M2 ciphertext under this session's header: it does not authenticate here.
    let substitute = old_m2;
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "icb", 1)) {
                m.ciphertext = substitute.ciphertext.clone();
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "police",
        "linkage.message",
        "does not authenticate",
        retry,
    );
}

#[test]
fn m1_and_hellos_replayed_from_another_session_are_refused() {
    let fed = LinkFed::start(&setup());
    let (_, session1) = honest(&fed);
    let old_m1 = recorded(&session1, "police", 1);
    let old_hello = session1
        .iter()
        .flat_map(|e| &e.request.hellos)
        .find(|h| h.sender == "police")
        .cloned()
        .expect("police's hello");

    // M1 of session 1, verbatim, in place of session 2's.
    let replay = old_m1.clone();
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "police", 1)) {
                *m = replay.clone();
            }
            member.to_string()
        }),
    );
    let genuine = recorded(&exchanges, "police", 1);
    assert!(genuine.ciphertext != old_m1.ciphertext, "fresh keys give fresh ciphertext");
    let retry = step_request(&run, &exchanges, vec![genuine]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "icb",
        "linkage.message",
        "another session",
        retry,
    );

    // Session 1's M1 under session 2's header: the AEAD key and associated data differ.
    let replay = old_m1;
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "police", 1)) {
                m.ciphertext = replay.ciphertext.clone();
            }
            member.to_string()
        }),
    );
    let genuine = recorded(&exchanges, "police", 1);
    let retry = step_request(&run, &exchanges, vec![genuine]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "icb",
        "linkage.message",
        "does not authenticate",
        retry,
    );

    // Session 1's hello from police, handed to the ICB in session 2: a relay that kept an old
    // handshake cannot pair it with a new session.
    let replay = old_hello;
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for h in request.hellos.iter_mut().filter(|h| h.sender == "police") {
                *h = replay.clone();
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(&fed, &run, &exchanges, "icb", "linkage.handshake", "another", retry);
}

#[test]
fn spliced_reflected_reordered_and_repeated_messages_are_refused() {
    let fed = LinkFed::start(&setup());

    // M1 delivered back to its sender, the police, instead of the ICB.
    let (run, exchanges) = attacked(
        &fed,
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            if request.messages.iter().any(|m| is(m, "police", 1)) {
                return "police".into();
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "police",
        "linkage.message",
        "reflected",
        retry,
    );

    // M1 with its step changed from 1 to 2.
    let (run, exchanges) = attacked(
        &fed,
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "police", 1)) {
                m.step = 2;
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "icb",
        "linkage.message",
        "expected step 1",
        retry,
    );

    // M1 twice in one step.
    let (run, exchanges) = attacked(
        &fed,
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            if let Some(m1) = request.messages.iter().find(|m| is(m, "police", 1)).cloned() {
                request.messages.push(m1);
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "icb",
        "linkage.message",
        "exactly one message",
        retry,
    );

    // M1 again in place of M3: a replay inside the session.
    let mut m1: Option<pb::RelayMessage> = None;
    let (run, exchanges) = attacked(
        &fed,
        Box::new(move |member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut() {
                if is(m, "police", 1) {
                    m1 = Some(m.clone());
                } else if is(m, "police", 2)
                    && let Some(first) = &m1
                {
                    *m = first.clone();
                }
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(
        &fed,
        &run,
        &exchanges,
        "icb",
        "linkage.message",
        "already received",
        retry,
    );

    // M3 addressed to the police (header rewritten): the ICB is not its receiver.
    let (run, exchanges) = attacked(
        &fed,
        Box::new(|member: &str, request: &mut pb::LinkStepRequest| {
            for m in request.messages.iter_mut().filter(|m| is(m, "police", 2)) {
                m.receiver = "council-east".into();
            }
            member.to_string()
        }),
    );
    let retry = step_request(&run, &exchanges, vec![]);
    assert_refused_and_ended(&fed, &run, &exchanges, "icb", "linkage.message", "not for us", retry);
}

/// The largest share, over the 32 possible alignments, of 32-byte windows of `bytes` that
/// decode as valid ristretto255 points. Random bytes give about 1/8 or less at every alignment;
/// a packed run of points gives 1 at its alignment.
fn best_point_alignment(bytes: &[u8]) -> f64 {
    (0..POINT_LEN)
        .map(|offset| {
            let windows: Vec<&[u8]> =
                bytes.get(offset..).unwrap_or_default().chunks_exact(POINT_LEN).collect();
            let valid = windows
                .iter()
                .filter(|w| BlindedPoint::from_slice(w).is_ok_and(|p| p.decode().is_ok()))
                .count();
            valid as f64 / windows.len().max(1) as f64
        })
        .fold(0.0, f64::max)
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_relay_capture_holds_headers_keys_and_ciphertext_only() {
    let fed = LinkFed::start(&setup());
    let query = count_query(&[], Some("lbl"));
    let mut capture: Vec<u8> = Vec::new();
    let run = runtime().block_on(fed.run_with(&query, &mut fed.transport(), Some(&mut capture)));
    assert!(run.ok(), "{}", describe(&run));
    // The labels really travelled (sealed): the table is by the cohort's label.
    assert_eq!(cell(&run, "LABEL-ZEBRA", "all"), 4, "the 4 people the ICB knows");

    // Plaintext that M1, M2 and M3 carry, and none of which the relay may see.
    for needle in [
        &b"LABEL-ZEBRA"[..],
        b"\x12\x03all", // a TupleBatch vocabulary entry "all"
        b"\x12\x0bLABEL-ZEBRA",
        b"cohort", // the cohort descriptor's dataset
        b"fedlink/linkage",
    ] {
        assert!(
            !contains(&capture, needle),
            "the capture holds {:?}",
            String::from_utf8_lossy(needle)
        );
    }

    // Record by record: each is exactly a hello or a sealed message, nothing alongside.
    let records = read_capture(&capture).expect("capture reads");
    let mut offset = 0;
    let (mut hellos, mut messages) = (Vec::new(), Vec::new());
    for record in &records {
        let kind = capture[offset];
        let len =
            u32::from_be_bytes(capture[offset + 1..offset + 5].try_into().expect("4")) as usize;
        let body = &capture[offset + 5..offset + 5 + len];
        offset += 5 + len;
        match record {
            fedlink_coordinator::link::capture::Captured::Hello(h) => {
                assert_eq!(kind, HELLO);
                assert_eq!(h.encode_to_vec(), body, "a hello carries no other field");
                assert_eq!((h.ephemeral_public.len(), h.signature.len()), (32, 64));
                hellos.push(h.clone());
            }
            fedlink_coordinator::link::capture::Captured::Message(m) => {
                assert_eq!(kind, MESSAGE);
                assert_eq!(m.encode_to_vec(), body, "a message carries no other field");
                messages.push(m.clone());
            }
        }
    }
    assert_eq!(offset, capture.len());
    assert_eq!(hellos.len(), 2, "one hello each way");
    let route: Vec<(&str, &str, u32)> =
        messages.iter().map(|m| (m.sender.as_str(), m.receiver.as_str(), m.step)).collect();
    // Each direction numbers its own steps (the channel lets two messages cross).
    assert_eq!(route, [("police", "icb", 1), ("icb", "police", 1), ("police", "icb", 2)]);

    // The ciphertext looks random: no alignment at which 32-byte windows decode as points
    // more than random bytes would. A plaintext batch (the control) decodes everywhere.
    for m in &messages {
        let share = best_point_alignment(&m.ciphertext);
        assert!(share < 0.5, "step {}: {share} of the windows at one alignment are points", m.step);
    }
    let mut control = b"\x22\x80\x01".to_vec();
    for _ in 0..64 {
        control.extend_from_slice(random_point().expect("rng").as_bytes());
    }
    assert!(best_point_alignment(&control) > 0.99, "the detector finds packed points");

    // What the relay does learn: who talks to whom, in which order, and how long each message
    // is — M1's length is about the padded cohort size × the tuple length × 32 bytes.
    let release = run.release().expect("release");
    let m1_tuples = release.sizes.iter().find(|(m, _)| m == "police").expect("M1 size").1;
    let tuple_bytes = 4 * 24 * POINT_LEN as u64; // 4 key types × 2W slots × 32 bytes
    let m1_len = messages[0].ciphertext.len() as u64;
    assert!(
        (m1_tuples * tuple_bytes..m1_tuples * tuple_bytes + 2048).contains(&m1_len),
        "M1 is {m1_len} bytes for {m1_tuples} padded tuples"
    );
    eprintln!(
        "relay capture: {} bytes, {} hellos, messages {:?} bytes; M1 carried {m1_tuples} padded \
         tuples (12 real)",
        capture.len(),
        hellos.len(),
        messages.iter().map(|m| (m.step, m.ciphertext.len())).collect::<Vec<_>>()
    );
}
