//! Every way a node refuses a request. Each refusal comes back with its own gRPC code and rule
//! header, and (once TLS has let the peer in) is in the node's audit log as a denied entry; the
//! logs still verify afterwards.

use fedlink_coordinator::client::{ClientTls, chain};
use fedlink_proto::envelope::{Envelope, Mode};
use fedlink_proto::identity::SigningContext;
use fedlink_proto::pb;
use fedlink_proto::refusal::REFUSAL_HEADER;
use tonic::Code;

use crate::util::{NodeProcess, TestFederation, audit_entries, last_entry, run, runtime, text};

/// Sends a signed envelope to `node` as `tls` and returns the status of the refusal.
fn send(
    fed: &TestFederation,
    node: &str,
    tls: &ClientTls,
    signed: pb::SignedEnvelope,
) -> tonic::Status {
    runtime().block_on(async {
        let mut client = fed.client(node, tls).await;
        match client.describe(signed).await {
            Ok(_) => panic!("the node answered a request it should have refused"),
            Err(status) => status,
        }
    })
}

/// Asserts a refusal's code, rule header, and the denied audit entry naming the same rule.
fn assert_refused(
    fed: &TestFederation,
    node: &str,
    status: &tonic::Status,
    code: Code,
    rule: &str,
) {
    assert_eq!(status.code(), code, "{status:?}");
    let header = status.metadata().get(REFUSAL_HEADER).and_then(|v| v.to_str().ok());
    assert_eq!(header, Some(rule), "{status:?}");
    let entry = last_entry(&fed.audit_log(node));
    assert_eq!(entry.decision, pb::Decision::Denied as i32, "{entry:?}");
    assert_eq!(entry.rule, rule, "{entry:?}");
    assert_eq!(entry.reason, status.message());
}

fn assert_logs_verify(fed: &TestFederation, node: &mut NodeProcess) {
    assert!(node.stop());
    let out = fed.verify_log(&node.name);
    assert!(out.status.success(), "{}", text(&out));
}

fn sign(fed: &TestFederation, env: &Envelope) -> pb::SignedEnvelope {
    env.sign(&fed.identity("coordinator"))
}

/// A refusal by the TLS layer: a transport error with no refusal header. Under TLS 1.3 the
/// client learns of it on its first request, as the server's alert or as the connection
/// closing under it (rust-stack.md §4), depending on timing.
fn assert_tls_refusal(status: &tonic::Status) {
    assert!(
        matches!(status.code(), Code::Unknown | Code::Cancelled | Code::Unavailable),
        "{status:?}"
    );
    assert!(status.metadata().get(REFUSAL_HEADER).is_none(), "{status:?}");
    let why = chain(status);
    assert!(
        ["CertificateRequired", "UnknownCA", "BadCertificate", "broken pipe", "connection closed"]
            .iter()
            .any(|s| why.contains(s)),
        "{why}"
    );
}

#[test]
fn tls_refuses_clients_without_a_certificate_or_from_another_ca() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let before = audit_entries(&fed.audit_log("icb")).len();
    let coordinator = fed.client_tls("coordinator");

    let no_cert = ClientTls { cert_pem: None, key_pem: None, ..coordinator.clone() };
    let status = send(&fed, "icb", &no_cert, sign(&fed, &fed.envelope("icb")));
    assert_tls_refusal(&status);

    let rogue_ca = fedlink::devca::DevCa::generate("rogue CA").expect("ca");
    let rogue = rogue_ca.issue("coordinator", &["coordinator.fedlink.test".into()]).expect("cert");
    let foreign =
        ClientTls { cert_pem: Some(rogue.cert_pem), key_pem: Some(rogue.key_pem), ..coordinator };
    let status = send(&fed, "icb", &foreign, sign(&fed, &fed.envelope("icb")));
    assert_tls_refusal(&status);

    // No TLS session, no request: nothing reached the audit gate, and nothing
    // unauthenticated can grow the log.
    assert_eq!(audit_entries(&fed.audit_log("icb")).len(), before);
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn a_certificate_of_the_right_ca_but_not_in_the_federation_file_is_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let ca = fedlink::devca::DevCa::load(
        &fedlink::cli::federation::ca_common_name("demo-county"),
        &crate::util::read(&fed.dir.join("ca/ca.pem")),
        &crate::util::read(&fed.dir.join("ca/ca.key.pem")),
    )
    .expect("load CA");
    let intruder = ca.issue("intruder", &["intruder.fedlink.test".into()]).expect("cert");
    let tls = ClientTls {
        cert_pem: Some(intruder.cert_pem),
        key_pem: Some(intruder.key_pem),
        ..fed.client_tls("coordinator")
    };
    let status = send(&fed, "icb", &tls, sign(&fed, &fed.envelope("icb")));
    assert_refused(&fed, "icb", &status, Code::PermissionDenied, "peer.not_a_member");
    let entry = last_entry(&fed.audit_log("icb"));
    let fingerprint = fedlink::devca::fingerprint(&intruder.cert_der);
    assert_eq!(entry.actor.expect("actor").cert_fingerprint, fingerprint);

    // Health and reflection refuse it too.
    runtime().block_on(async {
        let channel = fed.channel("icb", &tls).await;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let status = health
            .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied);
    });
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn a_node_cannot_sign_queries() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    // The police node's own certificate and key: a member, but not a coordinator.
    let mut env = fed.envelope("icb");
    env.coordinator = "police".into();
    let status = send(&fed, "icb", &fed.client_tls("police"), env.sign(&fed.identity("police")));
    assert_refused(&fed, "icb", &status, Code::PermissionDenied, "peer.not_a_coordinator");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn unsigned_and_badly_signed_envelopes_are_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let tls = fed.client_tls("coordinator");

    let mut unsigned = sign(&fed, &fed.envelope("icb"));
    unsigned.signature.clear();
    let status = send(&fed, "icb", &tls, unsigned);
    assert_refused(&fed, "icb", &status, Code::Unauthenticated, "envelope.signature_missing");

    let mut tampered = sign(&fed, &fed.envelope("icb"));
    let last = tampered.envelope.len() - 1;
    tampered.envelope[last] ^= 0x01;
    let status = send(&fed, "icb", &tls, tampered);
    assert_refused(&fed, "icb", &status, Code::Unauthenticated, "envelope.signature_invalid");

    // Signed by another key than the one the federation file lists for the coordinator.
    let other = fedlink_proto::identity::IdentityKey::generate().expect("rng");
    let status = send(&fed, "icb", &tls, fed.envelope("icb").sign(&other));
    assert_refused(&fed, "icb", &status, Code::Unauthenticated, "envelope.signature_invalid");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn expired_and_future_envelopes_are_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let tls = fed.client_tls("coordinator");

    let mut expired = fed.envelope("icb");
    let hour_ago = crate::util::now().plus_ms(-3_600_000);
    expired.query_id = fedlink_proto::envelope::QueryId::new_v7(hour_ago);
    expired.issued_at = hour_ago;
    expired.expires_at = hour_ago.plus_ms(60_000);
    let status = send(&fed, "icb", &tls, sign(&fed, &expired));
    assert_refused(&fed, "icb", &status, Code::Unauthenticated, "envelope.expired");

    let mut future = fed.envelope("icb");
    let later = crate::util::now().plus_ms(3_600_000);
    future.query_id = fedlink_proto::envelope::QueryId::new_v7(later);
    future.issued_at = later;
    future.expires_at = later.plus_ms(60_000);
    let status = send(&fed, "icb", &tls, sign(&fed, &future));
    assert_refused(&fed, "icb", &status, Code::Unauthenticated, "envelope.issued_in_future");

    let mut long = fed.envelope("icb");
    long.expires_at = long.issued_at.plus_ms(24 * 3_600_000);
    let status = send(&fed, "icb", &tls, sign(&fed, &long));
    assert_refused(&fed, "icb", &status, Code::InvalidArgument, "envelope.lifetime");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn an_envelope_for_another_node_is_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let status =
        send(&fed, "icb", &fed.client_tls("coordinator"), sign(&fed, &fed.envelope("police")));
    assert_refused(&fed, "icb", &status, Code::PermissionDenied, "envelope.audience");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn an_envelope_for_another_mode_is_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let mut env = fed.envelope("icb");
    env.mode = Mode::FlagBack;
    let status = send(&fed, "icb", &fed.client_tls("coordinator"), sign(&fed, &env));
    assert_refused(&fed, "icb", &status, Code::InvalidArgument, "envelope.mode");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn a_replayed_query_id_is_refused_even_after_a_restart_and_a_clock_rollback() {
    let fed = TestFederation::new();
    let tls = fed.client_tls("coordinator");
    let signed = sign(&fed, &fed.envelope("icb"));

    let mut node = fed.start_node("icb");
    runtime().block_on(async {
        let mut client = fed.client("icb", &tls).await;
        client.describe(signed.clone()).await.expect("first use is answered");
    });
    let status = send(&fed, "icb", &tls, signed.clone());
    assert_refused(&fed, "icb", &status, Code::AlreadyExists, "envelope.replayed");
    assert!(node.stop());

    // After a restart the log still remembers.
    let mut node = fed.start_node("icb");
    let status = send(&fed, "icb", &tls, signed.clone());
    assert_refused(&fed, "icb", &status, Code::AlreadyExists, "envelope.replayed");
    assert!(node.stop());

    // With the node's clock a day behind, the envelope looks fresh again: still a replay.
    fed.append_to_node_config("icb", "danger_clock_offset_s = -86400");
    let mut node = fed.start_node("icb");
    let status = send(&fed, "icb", &tls, signed);
    assert_refused(&fed, "icb", &status, Code::AlreadyExists, "envelope.replayed");
    assert_logs_verify(&fed, &mut node);
}

#[test]
fn a_purpose_the_policy_does_not_accept_is_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let out = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
        "--purpose",
        "MARKETING",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("icb: refused by rule policy.purposes"), "{shown}");
    assert!(shown.contains("MARKETING"), "{shown}");
    let entry = last_entry(&fed.audit_log("icb"));
    assert_eq!(entry.decision, pb::Decision::Denied as i32);
    assert_eq!(entry.rule, "policy.purposes");
    assert_eq!(entry.query.expect("query").purpose, "MARKETING");
    assert_logs_verify(&fed, &mut node);

    // The coordinator verified and kept the refusal's receipt too.
    let coordinator = audit_entries(&fed.audit_log("coordinator"));
    assert!(coordinator.iter().any(|e| e.event_type == pb::EventType::ResultReceived as i32
        && e.decision == pb::Decision::Denied as i32));
}

#[test]
fn an_envelope_with_trailing_bytes_is_refused() {
    let fed = TestFederation::new();
    let mut node = fed.start_node("icb");
    let mut bytes = fed.envelope("icb").encode();
    bytes.extend_from_slice(&[0x08, 0x01]);
    // Properly signed by the coordinator: the bytes themselves are the problem.
    let signature =
        fed.identity("coordinator").sign(SigningContext::ENVELOPE, &bytes).as_bytes().to_vec();
    let signed = pb::SignedEnvelope { envelope: bytes, signature };
    let status = send(&fed, "icb", &fed.client_tls("coordinator"), signed);
    assert_refused(&fed, "icb", &status, Code::InvalidArgument, "envelope.malformed");
    assert!(status.message().contains("trailing bytes"), "{status:?}");

    // A duplicated field, also signed.
    let mut bytes = fed.envelope("icb").encode();
    bytes.extend_from_slice(&[0x22, 0x03]);
    bytes.extend_from_slice(b"icb");
    let signature =
        fed.identity("coordinator").sign(SigningContext::ENVELOPE, &bytes).as_bytes().to_vec();
    let status = send(
        &fed,
        "icb",
        &fed.client_tls("coordinator"),
        pb::SignedEnvelope { envelope: bytes, signature },
    );
    assert_refused(&fed, "icb", &status, Code::InvalidArgument, "envelope.malformed");
    assert_logs_verify(&fed, &mut node);
}
