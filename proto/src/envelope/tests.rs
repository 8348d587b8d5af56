//! Envelope signing and strict parsing.

use prost::Message as _;

use super::*;

fn sample(at: UnixMillis) -> Envelope {
    Envelope {
        query_id: QueryId::new_v7(at),
        session_id: SessionId([7; 16]),
        audience: "icb".into(),
        role: NodeRole::Responder,
        mode: Mode::Describe,
        participants: vec![Participant { member: "icb".into(), role: NodeRole::Responder }],
        issued_at: at,
        expires_at: at.plus_ms(60_000),
        coordinator: "coordinator".into(),
        requester: Requester {
            officer_id: "A1234".into(),
            role: "analyst".into(),
            organisation: "DEMO-POLICE".into(),
        },
        purpose: "SERVICE-CHECK".into(),
        lawful_basis: LawfulBasis {
            regime: "DPA-Part3".into(),
            article: "DPA s35".into(),
            gateway: "CDA s115".into(),
        },
        dsa_ref: "DSA-DEMO@1".into(),
        case_ref: None,
        justification: "check the federation is up".into(),
        authorisation: None,
        known_log_size: 3,
        body: QueryBody::Describe,
    }
}

fn signed_bytes(key: &IdentityKey, bytes: Vec<u8>) -> SignedEnvelope {
    let signature = key.sign(SigningContext::ENVELOPE, &bytes).as_bytes().to_vec();
    SignedEnvelope::from(pb::SignedEnvelope { envelope: bytes, signature })
}

#[test]
fn sign_then_verify_gives_back_the_envelope() {
    let key = IdentityKey::generate().expect("rng");
    let env = sample(UnixMillis(1_780_000_000_000));
    let verified = SignedEnvelope::from(env.sign(&key))
        .verify("coordinator", &key.public_key())
        .expect("verifies");
    assert_eq!(verified.envelope(), &env);
    assert_eq!(verified.hash(), env.hash());
}

#[test]
fn query_id_carries_its_time() {
    let at = UnixMillis(1_780_000_000_123);
    assert_eq!(QueryId::new_v7(at).timestamp_ms(), at.0);
}

#[test]
fn trailing_bytes_are_refused_even_when_signed() {
    let key = IdentityKey::generate().expect("rng");
    let mut bytes = sample(UnixMillis(1_780_000_000_000)).encode();
    // A valid field (tag 1, varint 1) appended: protobuf would happily merge it.
    bytes.extend_from_slice(&[0x08, 0x01]);
    let err = signed_bytes(&key, bytes).verify("coordinator", &key.public_key()).unwrap_err();
    assert_eq!(err.rule(), "envelope.malformed");
    assert!(err.to_string().contains("trailing bytes"), "{err}");
}

#[test]
fn unknown_fields_are_refused() {
    let key = IdentityKey::generate().expect("rng");
    let mut bytes = sample(UnixMillis(1_780_000_000_000)).encode();
    // Field 99, varint: unknown to Envelope, so prost drops it and re-encoding differs.
    bytes.extend_from_slice(&[0x98, 0x06, 0x01]);
    let err = signed_bytes(&key, bytes).verify("coordinator", &key.public_key()).unwrap_err();
    assert_eq!(err.rule(), "envelope.malformed");
}

#[test]
fn a_duplicated_field_is_refused() {
    let key = IdentityKey::generate().expect("rng");
    let env = sample(UnixMillis(1_780_000_000_000));
    // Audience repeated: the last value wins in protobuf, so a node reading the first would be
    // fooled. Field 4, length-delimited.
    let mut bytes = env.encode();
    bytes.extend_from_slice(&[0x22, 0x03]);
    bytes.extend_from_slice(b"icb");
    let err = signed_bytes(&key, bytes).verify("coordinator", &key.public_key()).unwrap_err();
    assert_eq!(err.rule(), "envelope.malformed");
}

#[test]
fn unknown_enum_values_and_missing_fields_are_refused() {
    let key = IdentityKey::generate().expect("rng");
    let mut wire = sample(UnixMillis(1_780_000_000_000)).to_pb();
    wire.mode = 42;
    let err = signed_bytes(&key, wire.encode_to_vec())
        .verify("coordinator", &key.public_key())
        .unwrap_err();
    assert!(err.to_string().contains("mode has unknown value 42"), "{err}");

    let mut wire = sample(UnixMillis(1_780_000_000_000)).to_pb();
    wire.purpose.clear();
    let err = signed_bytes(&key, wire.encode_to_vec())
        .verify("coordinator", &key.public_key())
        .unwrap_err();
    assert!(err.to_string().contains("purpose is missing"), "{err}");
}

#[test]
fn signatures_are_checked_before_anything_else() {
    let key = IdentityKey::generate().expect("rng");
    let other = IdentityKey::generate().expect("rng");
    let env = sample(UnixMillis(1_780_000_000_000));
    let err = SignedEnvelope::from(env.sign(&other))
        .verify("coordinator", &key.public_key())
        .unwrap_err();
    assert_eq!(err, Refusal::SignatureInvalid);

    let mut wire = env.sign(&key);
    wire.signature.clear();
    let err = SignedEnvelope::from(wire).verify("coordinator", &key.public_key()).unwrap_err();
    assert_eq!(err, Refusal::SignatureMissing);
}

#[test]
fn the_signer_must_be_the_named_coordinator() {
    let key = IdentityKey::generate().expect("rng");
    let err = SignedEnvelope::from(sample(UnixMillis(1_780_000_000_000)).sign(&key))
        .verify("other-coordinator", &key.public_key())
        .unwrap_err();
    assert_eq!(err.rule(), "envelope.coordinator_mismatch");
}

/// The encoding of a minimal envelope, annotated field by field: a regression fixture for the
/// bytes every party signs.
#[test]
fn envelope_encoding_fixture() {
    let wire = pb::Envelope {
        version: 1,
        audience: "icb".into(),
        role: pb::NodeRole::Responder as i32,
        mode: pb::Mode::Describe as i32,
        issued_at_ms: 1,
        expires_at_ms: 2,
        body: Some(pb::envelope::Body::Describe(pb::DescribeQuery {})),
        ..Default::default()
    };
    let expected = concat!(
        "0801",       // field 1 version, varint 1
        "2203696362", // field 4 audience, length 3, "icb"
        "2801",       // field 5 role, varint 1 (RESPONDER)
        "3001",       // field 6 mode, varint 1 (DESCRIBE)
        "4001",       // field 8 issued_at_ms, varint 1
        "4802",       // field 9 expires_at_ms, varint 2
        "820200",     // field 32 describe, length 0
    );
    assert_eq!(hex::encode(wire.encode_to_vec()), expected);
}

#[test]
fn an_authorisation_verifies_only_for_the_query_and_key_it_was_made_for() {
    use crate::federation::Federation;
    let authoriser = IdentityKey::generate().expect("key");
    let stranger = IdentityKey::generate().expect("key");
    let federation = Federation::from_toml(&format!(
        "name = \"t\"\n[[authoriser]]\nid = \"DI-1\"\nrole = \"Detective Inspector\"\n\
         organisation = \"Police\"\npublic_key = \"{}\"\n",
        authoriser.public_key().to_base64()
    ))
    .expect("federation");
    let mut env = sample(UnixMillis(1_750_000_000_000));
    assert!(env.check_authorisation(&federation).is_err(), "none present");
    env.authorise("DI-1", "Detective Inspector", &authoriser);
    assert_eq!(env.check_authorisation(&federation).expect("verifies").id, "DI-1");
    // The same signature covers every participant's copy (audience and role differ).
    let mut other_copy = env.clone();
    other_copy.audience = "another-node".into();
    assert!(other_copy.check_authorisation(&federation).is_ok());
    // A changed case reference, a stranger's key or an unknown id is refused.
    let mut changed = env.clone();
    changed.case_ref = Some("OTHER-CASE".into());
    assert!(changed.check_authorisation(&federation).is_err());
    let mut forged = env.clone();
    forged.authorise("DI-1", "Detective Inspector", &stranger);
    assert!(forged.check_authorisation(&federation).is_err());
    let mut unknown = env;
    unknown.authorise("DI-9", "Detective Inspector", &authoriser);
    assert!(unknown.check_authorisation(&federation).is_err());
}
