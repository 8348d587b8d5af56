//! The end-to-end channel through the blind relay (design-review.md F1): a malicious-coordinator
//! harness that captures, flips, substitutes, replays, reorders, reflects and re-keys what it
//! carries, and checks each is refused with the error that names it.

use fedlink_proto::clock::UnixMillis;
use fedlink_proto::envelope::{
    Envelope, LawfulBasis, Mode, NodeRole, Participant, QueryBody, QueryId, Requester, SessionId,
    SignedEnvelope, role_to_pb,
};
use fedlink_proto::identity::{IdentityKey, SigningContext};
use fedlink_proto::pb;
use fedlink_proto::relay::encoding;
use fedlink_proto::relay::{
    ChannelContext, ChannelError, ContextError, Handshake, HandshakeError, SecureChannel,
};
use prost::Message as _;

const AT: UnixMillis = UnixMillis(1_780_000_000_000);

/// A federation member taking part in the query.
struct Member {
    name: &'static str,
    role: NodeRole,
    key: IdentityKey,
}

/// The shared-query digest both ends' envelopes agree on, in tests that build contexts by hand.
const DIGEST: [u8; 32] = [7; 32];

fn member(name: &'static str, role: NodeRole) -> Member {
    Member { name, role, key: IdentityKey::generate().expect("rng") }
}

/// The police cohort node (A) and the NHS computing node (B) of a linked count.
fn pair() -> (Member, Member) {
    (member("police", NodeRole::Cohort), member("nhs", NodeRole::Computing))
}

fn context(query: QueryId, session: SessionId, me: &Member, peer: &Member) -> ChannelContext {
    ChannelContext::new(query, session, DIGEST, me.name, me.role, peer.name, peer.role)
        .expect("context")
}

/// What the relay saw: every hello and message as it went over the wire.
#[derive(Default)]
struct Relay {
    captured: Vec<Vec<u8>>,
}

impl Relay {
    fn carry<M: prost::Message + Default>(&mut self, msg: &M) -> M {
        let bytes = msg.encode_to_vec();
        self.captured.push(bytes.clone());
        M::decode(bytes.as_slice()).expect("relay decodes what it carries")
    }
}

/// Runs the handshake between `a` and `b` through `relay`.
fn connect_via(
    relay: &mut Relay,
    query: QueryId,
    session: SessionId,
    a: &Member,
    b: &Member,
) -> (SecureChannel, SecureChannel) {
    let (hs_a, hello_a) = Handshake::start(context(query, session, a, b), &a.key).expect("start a");
    let (hs_b, hello_b) = Handshake::start(context(query, session, b, a), &b.key).expect("start b");
    let at_b = relay.carry(&hello_a);
    let at_a = relay.carry(&hello_b);
    let chan_a = hs_a.finish(&at_a, &b.key.public_key()).expect("a finishes");
    let chan_b = hs_b.finish(&at_b, &a.key.public_key()).expect("b finishes");
    (chan_a, chan_b)
}

fn connect(
    query: QueryId,
    session: SessionId,
    a: &Member,
    b: &Member,
) -> (SecureChannel, SecureChannel) {
    connect_via(&mut Relay::default(), query, session, a, b)
}

fn fresh_ids() -> (QueryId, SessionId) {
    (QueryId::new_v7(AT), SessionId::random().expect("rng"))
}

/// A session id with chosen bytes, made the only public way: parsed from an envelope.
fn session_from(bytes: [u8; 16]) -> SessionId {
    let mut wire = sample_envelope(QueryId::new_v7(AT), &[]).to_pb();
    wire.session_id = bytes.to_vec();
    Envelope::parse(&wire.encode_to_vec()).expect("envelope").session_id
}

fn sample_envelope(query: QueryId, participants: &[(&str, NodeRole)]) -> Envelope {
    let session = SessionId::random().expect("rng");
    Envelope {
        query_id: query,
        session_id: session,
        audience: participants.first().map_or("police", |p| p.0).into(),
        role: participants.first().map_or(NodeRole::Cohort, |p| p.1),
        mode: Mode::LinkedCount,
        participants: participants
            .iter()
            .map(|(member, role)| Participant { member: (*member).into(), role: *role })
            .collect(),
        issued_at: AT,
        expires_at: AT.plus_ms(60_000),
        coordinator: "coordinator".into(),
        requester: Requester {
            officer_id: "A1234".into(),
            role: "analyst".into(),
            organisation: "DEMO-POLICE".into(),
        },
        purpose: "HMICFRS-R2-DEATH-ANALYSIS".into(),
        lawful_basis: LawfulBasis {
            regime: "DPA-Part3".into(),
            article: "DPA s35".into(),
            gateway: "CDA s115".into(),
        },
        dsa_ref: "DSA-DEMO@1".into(),
        case_ref: None,
        justification: "linked count".into(),
        authorisation: None,
        known_log_size: 0,
        body: QueryBody::Describe,
    }
}

// ---------------------------------------------------------------------------------------------
// The happy path.

#[test]
fn both_directions_over_several_steps() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let mut relay = Relay::default();
    let (mut chan_a, mut chan_b) = connect_via(&mut relay, query, session, &a, &b);
    assert_eq!(chan_a.transcript_hash(), chan_b.transcript_hash());

    // M1 comes as two messages (descriptor, then tuples), then M2 back, M3 out, a result back.
    let script: [(bool, &[u8]); 5] = [
        (true, b"descriptor: dataset=deaths, subjects=15"),
        (true, b"tuples blinded with a"),
        (false, b"tuples blinded with b, labels h"),
        (true, b"reblinded, permuted, sorted"),
        (false, b""),
    ];
    for (a_sends, plaintext) in script {
        let (from, to) =
            if a_sends { (&mut chan_a, &mut chan_b) } else { (&mut chan_b, &mut chan_a) };
        // Each direction numbers its own messages from 1.
        let step = from.next_step().expect("steps left");
        let sealed = from.seal(step, plaintext).expect("seal");
        assert_eq!(sealed.ciphertext.len(), plaintext.len() + 16, "ciphertext ‖ 16-byte tag");
        let carried = relay.carry(&sealed);
        assert_eq!(to.open(&carried).expect("open"), plaintext);
    }
    // A sealed three messages and opened two; B the other way round.
    assert_eq!((chan_a.next_step(), chan_a.next_open_step()), (Some(4), Some(3)));
    assert_eq!((chan_b.next_step(), chan_b.next_open_step()), (Some(3), Some(4)));
}

#[test]
fn the_relay_never_sees_the_plaintext() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let mut relay = Relay::default();
    let (mut chan_a, mut chan_b) = connect_via(&mut relay, query, session, &a, &b);

    let mut plaintext = b"label=assault-ed;label=deaths-in-custody;n=15;".to_vec();
    plaintext.extend((0u8..=255).cycle().take(32 * 8)); // stand-ins for blinded points
    let m1 = relay.carry(&chan_a.seal(1, &plaintext).expect("seal"));
    chan_b.open(&m1).expect("open");
    let m2 = relay.carry(&chan_b.seal(1, &plaintext).expect("seal"));
    chan_a.open(&m2).expect("open");

    assert_eq!(relay.captured.len(), 4, "two hellos and two messages");
    for window in plaintext.windows(8) {
        for bytes in &relay.captured {
            assert!(
                !bytes.windows(8).any(|w| w == window),
                "captured bytes contain plaintext {window:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hellos: tampering, men in the middle, and hellos meant for another channel.

#[test]
fn flipping_any_byte_of_a_hello_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (_hs_a, hello_a) = Handshake::start(context(query, session, &a, &b), &a.key).expect("a");
    let wire = hello_a.encode_to_vec();
    for i in 0..wire.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut flipped = wire.clone();
            flipped[i] ^= mask;
            let Ok(hello) = pb::RelayHello::decode(flipped.as_slice()) else {
                continue; // the relay broke the framing: refused before it reaches the handshake
            };
            let (hs_b, _) =
                Handshake::start(context(query, session, &b, &a), &b.key).expect("b starts");
            assert!(
                hs_b.finish(&hello, &a.key.public_key()).is_err(),
                "hello with byte {i} ^ {mask:#04x} was accepted"
            );
        }
    }
}

#[test]
fn a_relay_swapping_in_its_own_ephemeral_key_is_refused() {
    let (a, b) = pair();
    let relay_key = IdentityKey::generate().expect("rng");
    let (query, session) = fresh_ids();
    let rng = ring::rand::SystemRandom::new();
    let mitm = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::X25519, &rng)
        .expect("rng")
        .compute_public_key()
        .expect("public");
    let (_hs_a, hello_a) = Handshake::start(context(query, session, &a, &b), &a.key).expect("a");

    // The relay's key in place of A's, A's signature kept.
    let start_b = || Handshake::start(context(query, session, &b, &a), &b.key).expect("b").0;
    let mut swapped = hello_a.clone();
    swapped.ephemeral_public = mitm.as_ref().to_vec();
    let err = start_b().finish(&swapped, &a.key.public_key()).err().expect("refused");
    assert_eq!(err, HandshakeError::BadSignature { sender: "police".into() });

    // The relay re-signs A's hello, with its key in it, under its own identity.
    let mut ephemeral = [0u8; 32];
    ephemeral.copy_from_slice(mitm.as_ref());
    let message =
        encoding::hello_message(&query, &session, &DIGEST, a.name, a.role, b.name, &ephemeral);
    swapped.signature = relay_key.sign(SigningContext::RELAY_HELLO, &message).as_bytes().to_vec();
    let err = start_b().finish(&swapped, &a.key.public_key()).err().expect("refused");
    assert_eq!(err, HandshakeError::BadSignature { sender: "police".into() });

    // The relay speaks for itself: a valid hello, but not from the peer the envelope names.
    let relay_member = Member { name: "coordinator", role: NodeRole::Cohort, key: relay_key };
    let (_, own) =
        Handshake::start(context(query, session, &relay_member, &b), &relay_member.key).expect("c");
    let err = start_b().finish(&own, &relay_member.key.public_key()).err().expect("refused");
    assert_eq!(
        err,
        HandshakeError::WrongSender { expected: "police".into(), got: "coordinator".into() }
    );
}

#[test]
fn a_hello_signed_by_another_member_is_refused() {
    let (a, b) = pair();
    let council = member("council", NodeRole::Cohort);
    let (query, session) = fresh_ids();
    let start_b = || Handshake::start(context(query, session, &b, &a), &b.key).expect("b").0;

    // The council's genuine hello to B, offered as A's.
    let (_, from_council) =
        Handshake::start(context(query, session, &council, &b), &council.key).expect("council");
    let err = start_b().finish(&from_council, &a.key.public_key()).err().expect("refused");
    assert_eq!(
        err,
        HandshakeError::WrongSender { expected: "police".into(), got: "council".into() }
    );

    // A hello that names A as sender but is signed with the council's key.
    let impostor = Member { name: "police", role: NodeRole::Cohort, key: council.key };
    let (_, forged) =
        Handshake::start(context(query, session, &impostor, &b), &impostor.key).expect("forged");
    let err = start_b().finish(&forged, &a.key.public_key()).err().expect("refused");
    assert_eq!(err, HandshakeError::BadSignature { sender: "police".into() });
}

#[test]
fn a_hello_for_another_query_session_role_or_receiver_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let start_b = || Handshake::start(context(query, session, &b, &a), &b.key).expect("b").0;
    let hello_from = |ctx: ChannelContext| Handshake::start(ctx, &a.key).expect("a").1;
    let a_pub = a.key.public_key();

    let other_query = QueryId::new_v7(AT.plus_ms(1));
    let hello = hello_from(context(other_query, session, &a, &b));
    assert_eq!(start_b().finish(&hello, &a_pub).err(), Some(HandshakeError::WrongQuery));

    let other_session = SessionId::random().expect("rng");
    let hello = hello_from(context(query, other_session, &a, &b));
    assert_eq!(start_b().finish(&hello, &a_pub).err(), Some(HandshakeError::WrongSession));

    // A claims to be the computing node: the envelope says it holds the cohort.
    let ctx =
        ChannelContext::new(query, session, DIGEST, a.name, NodeRole::Computing, b.name, b.role)
            .expect("context");
    let hello = hello_from(ctx);
    assert_eq!(
        start_b().finish(&hello, &a_pub).err(),
        Some(HandshakeError::WrongSenderRole {
            sender: "police".into(),
            expected: NodeRole::Cohort,
            got: "NODE_ROLE_COMPUTING".into(),
        })
    );

    // A's genuine hello to the council, redirected to B.
    let council = member("council", NodeRole::Computing);
    let hello = hello_from(context(query, session, &a, &council));
    assert_eq!(
        start_b().finish(&hello, &a_pub).err(),
        Some(HandshakeError::WrongReceiver { expected: "nhs".into(), got: "council".into() })
    );
}

#[test]
fn a_hello_reflected_to_its_sender_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (hs_a, hello_a) = Handshake::start(context(query, session, &a, &b), &a.key).expect("a");
    assert_eq!(hs_a.finish(&hello_a, &b.key.public_key()).err(), Some(HandshakeError::Reflected));
}

#[test]
fn a_small_order_ephemeral_key_is_refused() {
    // A peer that holds its identity key but sends the all-zero point, which would make the
    // shared secret zero whatever our key.
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let zero = [0u8; 32];
    let message = encoding::hello_message(&query, &session, &DIGEST, a.name, a.role, b.name, &zero);
    let hello = pb::RelayHello {
        query_id: query.as_bytes().to_vec(),
        session_id: session.as_bytes().to_vec(),
        sender: a.name.into(),
        sender_role: role_to_pb(a.role) as i32,
        receiver: b.name.into(),
        ephemeral_public: zero.to_vec(),
        signature: a.key.sign(SigningContext::RELAY_HELLO, &message).as_bytes().to_vec(),
    };
    let (hs_b, _) = Handshake::start(context(query, session, &b, &a), &b.key).expect("b");
    assert_eq!(hs_b.finish(&hello, &a.key.public_key()).err(), Some(HandshakeError::KeyAgreement));

    let (hs_b, _) = Handshake::start(context(query, session, &b, &a), &b.key).expect("b");
    let short = pb::RelayHello { ephemeral_public: vec![9; 31], ..hello };
    assert_eq!(
        hs_b.finish(&short, &a.key.public_key()).err(),
        Some(HandshakeError::BadEphemeralKey { len: 31 })
    );
}

// ---------------------------------------------------------------------------------------------
// Messages: tampering, splicing, replay, reordering, reflection.

#[test]
fn flipping_any_byte_of_a_message_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    for mask in [0x01u8, 0x80, 0xff] {
        let mut i = 0;
        loop {
            // Fresh channels each time: a refused message closes the channel.
            let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
            let wire = chan_a.seal(1, b"tuples blinded with a").expect("seal").encode_to_vec();
            if i == wire.len() {
                break;
            }
            let mut flipped = wire;
            flipped[i] ^= mask;
            if let Ok(msg) = pb::RelayMessage::decode(flipped.as_slice()) {
                assert!(chan_b.open(&msg).is_err(), "message with byte {i} ^ {mask:#04x} accepted");
            }
            i += 1;
        }
    }
}

#[test]
fn each_altered_field_is_refused_by_name() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let refusal = |alter: &dyn Fn(&mut pb::RelayMessage)| {
        let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
        let mut msg = chan_a.seal(1, b"tuples blinded with a").expect("seal");
        alter(&mut msg);
        chan_b.open(&msg).expect_err("refused")
    };

    assert_eq!(refusal(&|m| m.session_id[0] ^= 1), ChannelError::WrongSession);
    assert_eq!(refusal(&|m| m.step = 2), ChannelError::OutOfOrder { got: 2, expected: 1 });
    assert_eq!(
        refusal(&|m| m.sender = "council".into()),
        ChannelError::WrongSender { expected: "police".into(), got: "council".into() }
    );
    assert_eq!(
        refusal(&|m| m.receiver = "council".into()),
        ChannelError::WrongReceiver { expected: "nhs".into(), got: "council".into() }
    );
    let len = b"tuples blinded with a".len() + 16;
    for i in 0..len {
        assert_eq!(refusal(&|m| m.ciphertext[i] ^= 0x20), ChannelError::Tampered { step: 1 });
    }
    assert_eq!(refusal(&|m| m.ciphertext.truncate(len - 1)), ChannelError::Tampered { step: 1 });
    assert_eq!(refusal(&|m| m.ciphertext.clear()), ChannelError::Tampered { step: 1 });
    assert_eq!(refusal(&|m| m.ciphertext.push(0)), ChannelError::Tampered { step: 1 });
}

#[test]
fn a_message_from_another_session_is_refused() {
    let (a, b) = pair();
    let query = QueryId::new_v7(AT);
    let (s1, s2) = (SessionId::random().expect("rng"), SessionId::random().expect("rng"));
    let (_, mut b_in_s1) = connect(query, s1, &a, &b);
    let (mut a_in_s2, _) = connect(query, s2, &a, &b);
    let spliced = a_in_s2.seal(1, b"points for the other session").expect("seal");
    assert_eq!(b_in_s1.open(&spliced).err(), Some(ChannelError::WrongSession));

    // Relabelled as session 1, it still does not authenticate under session 1's keys.
    let (_, mut b_in_s1) = connect(query, s1, &a, &b);
    let relabelled = pb::RelayMessage { session_id: s1.as_bytes().to_vec(), ..spliced };
    assert_eq!(b_in_s1.open(&relabelled).err(), Some(ChannelError::Tampered { step: 1 }));
}

#[test]
fn a_message_for_another_member_of_the_session_is_refused() {
    // An overlap ring: A talks to B and to the council in one session. The relay redirects A's
    // message for the council to B.
    let (a, b) = pair();
    let council = member("council", NodeRole::Blinder);
    let (query, session) = fresh_ids();
    let (_, mut chan_b) = connect(query, session, &a, &b);
    let (mut a_to_council, _) = connect(query, session, &a, &council);
    let msg = a_to_council.seal(1, b"for the council").expect("seal");
    assert_eq!(
        chan_b.open(&msg).err(),
        Some(ChannelError::WrongReceiver { expected: "nhs".into(), got: "council".into() })
    );

    let (_, mut chan_b) = connect(query, session, &a, &b);
    let readdressed = pb::RelayMessage { receiver: "nhs".into(), ..msg };
    assert_eq!(chan_b.open(&readdressed).err(), Some(ChannelError::Tampered { step: 1 }));
}

#[test]
fn a_replayed_message_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    chan_b.open(&m1).expect("first delivery");
    assert_eq!(chan_b.open(&m1).err(), Some(ChannelError::Replayed { step: 1 }));

    // Also after the conversation has moved on.
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    chan_b.open(&m1).expect("open");
    let m2 = chan_b.seal(1, b"M2").expect("seal");
    chan_a.open(&m2).expect("open");
    assert_eq!(chan_b.open(&m1).err(), Some(ChannelError::Replayed { step: 1 }));
}

#[test]
fn reordered_steps_are_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"descriptor").expect("seal");
    let m2 = chan_a.seal(2, b"tuples").expect("seal");
    assert_eq!(chan_b.open(&m2).err(), Some(ChannelError::OutOfOrder { got: 2, expected: 1 }));
    // The held-back step 1 arrives too late: B has abandoned the session.
    assert!(matches!(chan_b.open(&m1), Err(ChannelError::Closed { .. })));

    // Dropped steps are noticed at the next one that arrives.
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    for (step, plaintext) in [(1, &b"descriptor"[..]), (2, b"tuples")] {
        chan_a.seal(step, plaintext).expect("sealed, then dropped by the relay");
    }
    let m3 = chan_a.seal(3, b"more").expect("seal");
    assert_eq!(chan_b.open(&m3).err(), Some(ChannelError::OutOfOrder { got: 3, expected: 1 }));
}

#[test]
fn a_message_reflected_to_its_sender_is_refused() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, _) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    assert_eq!(chan_a.open(&m1).err(), Some(ChannelError::Reflected { step: 1 }));

    // With sender and receiver swapped so the header looks like B's: the key and AD give it away.
    let (mut chan_a, _) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    let swapped =
        pb::RelayMessage { sender: m1.receiver.clone(), receiver: m1.sender.clone(), ..m1 };
    // A has opened nothing from B, so the step is the one A would accept next: only the key
    // and the AD can tell.
    assert_eq!(chan_a.open(&swapped).err(), Some(ChannelError::Tampered { step: 1 }));

    // Swapped and passed on to B, it looks like B's own message.
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    let swapped =
        pb::RelayMessage { sender: m1.receiver.clone(), receiver: m1.sender.clone(), ..m1 };
    assert_eq!(chan_b.open(&swapped).err(), Some(ChannelError::Reflected { step: 1 }));
}

#[test]
fn a_refusal_closes_the_channel() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    let mut forged = m1.clone();
    forged.ciphertext[0] ^= 1;
    assert_eq!(chan_b.open(&forged).err(), Some(ChannelError::Tampered { step: 1 }));
    let closed = ChannelError::Closed {
        cause: "step 1 does not authenticate (altered or substituted)".into(),
    };
    assert_eq!(chan_b.open(&m1).err(), Some(closed.clone()));
    assert_eq!(chan_b.seal(2, b"M2").err(), Some(closed));
}

#[test]
fn sealing_refuses_any_step_but_the_next() {
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    assert_eq!(chan_a.seal(0, b"x").err(), Some(ChannelError::StepNotNext { step: 0, next: 1 }));
    assert_eq!(chan_a.seal(2, b"x").err(), Some(ChannelError::StepNotNext { step: 2, next: 1 }));
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    // Sealing step 1 again would reuse its nonce.
    assert_eq!(chan_a.seal(1, b"x").err(), Some(ChannelError::StepNotNext { step: 1, next: 2 }));
    chan_b.open(&m1).expect("open");
    // B's own direction is numbered separately: its first message is step 1.
    assert_eq!(chan_b.seal(2, b"x").err(), Some(ChannelError::StepNotNext { step: 2, next: 1 }));
    assert!(chan_b.seal(1, b"x").is_ok());
}

#[test]
fn both_sides_may_send_at_once_each_in_its_own_sequence() {
    // The overlap ring's first round: each end sends its set to the other at the same time.
    // Each direction has its own key and its own step numbers, so both are accepted, and a
    // replay of either is still refused.
    let (a, b) = pair();
    let (query, session) = fresh_ids();
    let (mut chan_a, mut chan_b) = connect(query, session, &a, &b);
    let from_a = chan_a.seal(1, b"A's step 1").expect("seal");
    let from_b = chan_b.seal(1, b"B's step 1").expect("seal");
    assert_eq!(chan_a.open(&from_b).expect("open"), b"B's step 1");
    assert_eq!(chan_b.open(&from_a).expect("open"), b"A's step 1");
    assert_ne!(from_a.ciphertext, from_b.ciphertext);
    assert_eq!(chan_a.open(&from_b).err(), Some(ChannelError::Replayed { step: 1 }));
}

// ---------------------------------------------------------------------------------------------
// Keys are per session.

#[test]
fn two_sessions_of_the_same_pair_derive_different_keys() {
    let (a, b) = pair();
    let query = QueryId::new_v7(AT);
    let s1 = SessionId::random().expect("rng");
    let s2 = SessionId::random().expect("rng");
    let (mut a1, _) = connect(query, s1, &a, &b);
    let (mut a2, mut b2) = connect(query, s2, &a, &b);
    assert_ne!(a1.transcript_hash(), a2.transcript_hash());
    let m1 = a1.seal(1, b"the same plaintext").expect("seal");
    let m2 = a2.seal(1, b"the same plaintext").expect("seal");
    assert_ne!(m1.ciphertext, m2.ciphertext);
    let moved = pb::RelayMessage { session_id: s2.as_bytes().to_vec(), ..m1 };
    assert_eq!(b2.open(&moved).err(), Some(ChannelError::Tampered { step: 1 }));

    // Even a second handshake in the same session gives new keys (fresh ephemerals): the first
    // run's message does not open in the second.
    let (mut again_a, mut again_b) = connect(query, s2, &a, &b);
    assert_ne!(again_a.transcript_hash(), a2.transcript_hash());
    let m = again_a.seal(1, b"the same plaintext").expect("seal");
    assert_ne!(m.ciphertext, m2.ciphertext);
    assert_eq!(again_b.open(&m2).err(), Some(ChannelError::Tampered { step: 1 }));
}

// ---------------------------------------------------------------------------------------------
// Contexts come from the signed envelope.

#[test]
fn nodes_given_different_queries_under_one_id_cannot_pair() {
    // design-review F13: the coordinator sends A and B envelopes with the same query and
    // session ids but a different purpose; each passes its own policy, but their hellos sign
    // different shared-query digests, so neither accepts the other.
    let coordinator = IdentityKey::generate().expect("rng");
    let (a, b) = pair();
    let query = QueryId::new_v7(AT);
    let participants = [("police", NodeRole::Cohort), ("nhs", NodeRole::Computing)];
    let for_a = sample_envelope(query, &participants);
    let mut for_b = for_a.clone();
    for_b.audience = "nhs".into();
    for_b.role = NodeRole::Computing;
    assert_eq!(for_a.shared_digest(), for_b.shared_digest(), "audience and role are not shared");
    for_b.purpose = "SOMETHING-ELSE".into();
    assert_ne!(for_a.shared_digest(), for_b.shared_digest());

    let verify = |env: &Envelope| {
        SignedEnvelope::from(env.sign(&coordinator))
            .verify("coordinator", &coordinator.public_key())
            .expect("verifies")
    };
    let ctx_a = ChannelContext::from_envelope(&verify(&for_a), "nhs").expect("a's context");
    let ctx_b = ChannelContext::from_envelope(&verify(&for_b), "police").expect("b's context");
    let (hs_a, hello_a) = Handshake::start(ctx_a, &a.key).expect("a");
    let (hs_b, hello_b) = Handshake::start(ctx_b, &b.key).expect("b");
    assert_eq!(
        hs_b.finish(&hello_a, &a.key.public_key()).err(),
        Some(HandshakeError::BadSignature { sender: "police".into() })
    );
    assert_eq!(
        hs_a.finish(&hello_b, &b.key.public_key()).err(),
        Some(HandshakeError::BadSignature { sender: "nhs".into() })
    );
}

#[test]
fn contexts_from_the_envelope_mirror_each_other() {
    let coordinator = IdentityKey::generate().expect("rng");
    let (a, b) = pair();
    let query = QueryId::new_v7(AT);
    let participants = [("police", NodeRole::Cohort), ("nhs", NodeRole::Computing)];
    let mut for_a = sample_envelope(query, &participants);
    let mut for_b = for_a.clone();
    for_b.audience = "nhs".into();
    for_b.role = NodeRole::Computing;
    for_a.session_id = for_b.session_id;

    let verify = |env: &Envelope| {
        SignedEnvelope::from(env.sign(&coordinator))
            .verify("coordinator", &coordinator.public_key())
            .expect("verifies")
    };
    let ctx_a = ChannelContext::from_envelope(&verify(&for_a), "nhs").expect("a's context");
    let ctx_b = ChannelContext::from_envelope(&verify(&for_b), "police").expect("b's context");
    assert_eq!((ctx_a.me(), ctx_a.my_role()), (ctx_b.peer(), ctx_b.peer_role()));
    assert_eq!((ctx_a.peer(), ctx_a.peer_role()), (ctx_b.me(), ctx_b.my_role()));
    assert_eq!(ctx_a.query_id(), query);

    let (hs_a, hello_a) = Handshake::start(ctx_a, &a.key).expect("a");
    let (hs_b, hello_b) = Handshake::start(ctx_b, &b.key).expect("b");
    let mut chan_a = hs_a.finish(&hello_b, &b.key.public_key()).expect("a");
    let mut chan_b = hs_b.finish(&hello_a, &a.key.public_key()).expect("b");
    let m1 = chan_a.seal(1, b"M1").expect("seal");
    assert_eq!(chan_b.open(&m1).expect("open"), b"M1");

    let verified = verify(&for_a);
    assert_eq!(
        ChannelContext::from_envelope(&verified, "council").err(),
        Some(ContextError::NotAParticipant { member: "council".into() })
    );
    assert_eq!(
        ChannelContext::from_envelope(&verified, "police").err(),
        Some(ContextError::SelfChannel { member: "police".into() })
    );

    let twice = sample_envelope(
        query,
        &[("police", NodeRole::Cohort), ("nhs", NodeRole::Computing), ("nhs", NodeRole::Blinder)],
    );
    assert_eq!(
        ChannelContext::from_envelope(&verify(&twice), "nhs").err(),
        Some(ContextError::ListedTwice { member: "nhs".into(), times: 2 })
    );

    let mut disagrees = sample_envelope(query, &participants);
    disagrees.role = NodeRole::Blinder;
    assert_eq!(
        ChannelContext::from_envelope(&verify(&disagrees), "nhs").err(),
        Some(ContextError::RoleDisagrees {
            member: "police".into(),
            envelope: NodeRole::Blinder,
            participant: NodeRole::Cohort,
        })
    );
}

#[test]
fn a_context_needs_two_distinct_named_ends() {
    let (query, session) = fresh_ids();
    let new = |me: &str, peer: &str| {
        ChannelContext::new(query, session, DIGEST, me, NodeRole::Cohort, peer, NodeRole::Computing)
            .err()
    };
    assert_eq!(new("", "nhs"), Some(ContextError::EmptyName { which: "own" }));
    assert_eq!(new("police", ""), Some(ContextError::EmptyName { which: "peer" }));
    assert_eq!(new("nhs", "nhs"), Some(ContextError::SelfChannel { member: "nhs".into() }));
    let long = "x".repeat(257);
    assert_eq!(
        new("police", &long),
        Some(ContextError::NameTooLong { which: "peer", len: 257, max: 256 })
    );
}

// ---------------------------------------------------------------------------------------------
// The exact encodings, pinned field by field.

fn unhex(parts: &[&str]) -> Vec<u8> {
    hex::decode(parts.concat()).expect("hex")
}

#[test]
fn the_signed_hello_encoding_is_pinned() {
    let query = QueryId::from_slice(&unhex(&["01890a5dac96774bbcceb302099a8057"])).expect("v7");
    let session = session_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    let got = encoding::hello_message(
        &query,
        &session,
        &[0x07; 32],
        "police",
        NodeRole::Cohort,
        "nhs",
        &[0x42; 32],
    );
    let want = unhex(&[
        "00000010",
        "01890a5dac96774bbcceb302099a8057", // query id, 16 bytes
        "00000010",
        "000102030405060708090a0b0c0d0e0f", // session id, 16 bytes
        "00000020",
        &"07".repeat(32), // shared-query digest, 32 bytes
        "00000006",
        "706f6c696365", // sender "police"
        "00000004",
        "00000002", // sender role NODE_ROLE_COHORT = 2
        "00000003",
        "6e6873", // receiver "nhs"
        "00000020",
        &"42".repeat(32), // ephemeral public key, 32 bytes
    ]);
    assert_eq!(hex::encode(got), hex::encode(want));
}

#[test]
fn the_associated_data_and_nonce_are_pinned() {
    let session = session_from([0xaa; 16]);
    let got = encoding::message_ad(&session, 3, "nhs", "police", &[0x11; 32]);
    let want = unhex(&[
        "00000010",
        &"aa".repeat(16), // session id
        "00000004",
        "00000003", // step 3
        "00000003",
        "6e6873", // sender "nhs"
        "00000006",
        "706f6c696365", // receiver "police"
        "00000020",
        &"11".repeat(32), // transcript hash
    ]);
    assert_eq!(hex::encode(got), hex::encode(want));
    assert_eq!(hex::encode(encoding::nonce(3)), "000000000000000000000003");
    assert_eq!(
        hex::encode(encoding::key_direction("police", "nhs")),
        concat!("00000006", "706f6c696365", "00000003", "6e6873") // "police", then "nhs"
    );
}

#[test]
fn the_transcript_hash_orders_by_role_then_name() {
    let cohort = encoding::HelloSide { role: NodeRole::Cohort, member: "zeta", hello: b"one" };
    let computing =
        encoding::HelloSide { role: NodeRole::Computing, member: "alpha", hello: b"two" };
    // Either side computes the same hash: cohort (2) sorts before computing (3) whatever the names.
    let h = encoding::transcript_hash(cohort, computing);
    assert_eq!(h, encoding::transcript_hash(computing, cohort));
    let mut input = encoding::TRANSCRIPT_LABEL.to_vec();
    input.extend(unhex(&["00000003", "6f6e65", "00000003", "74776f"])); // "one", then "two"
    assert_eq!(&h[..], ring::digest::digest(&ring::digest::SHA256, &input).as_ref());

    // Same role: by name.
    let b1 = encoding::HelloSide { role: NodeRole::Blinder, member: "b", hello: b"from b" };
    let a1 = encoding::HelloSide { role: NodeRole::Blinder, member: "a", hello: b"from a" };
    let mut input = encoding::TRANSCRIPT_LABEL.to_vec();
    input.extend(unhex(&["00000006", &hex::encode("from a"), "00000006", &hex::encode("from b")]));
    assert_eq!(
        &encoding::transcript_hash(b1, a1)[..],
        ring::digest::digest(&ring::digest::SHA256, &input).as_ref()
    );
}
