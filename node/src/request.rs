//! The request path up to the policy check, typed so that no step can be skipped
//! (STYLE.md practice 6): an [`AuthenticatedPeer`] comes only from [`authenticate_peer`], a
//! [`CheckedEnvelope`] only from [`check_envelope`], which needs one. The policy turns a
//! `CheckedEnvelope` into an `AuthorisedQuery` (`policy.rs`), and the audit gate turns that into
//! a `Logged` query (`gate.rs`), which is what every answer is built from.

use std::sync::Arc;

use fedlink_proto::clock::UnixMillis;
use fedlink_proto::envelope::{Envelope, Mode, SignedEnvelope, VerifiedEnvelope, sha256};
use fedlink_proto::federation::{Federation, Member, MemberRole};
use fedlink_proto::refusal::Refusal;
use tonic::transport::CertificateDer;

use crate::policy::EnvelopeLimits;

/// The mTLS peer, found in the federation file by its certificate fingerprint.
#[derive(Debug, Clone)]
pub struct AuthenticatedPeer {
    member: Member,
    fingerprint: String,
}

impl AuthenticatedPeer {
    /// The federation member behind the connection.
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// SHA-256 of its leaf certificate, hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// What is known of a peer that was refused before it could be matched to a member.
#[derive(Debug, Clone, Default)]
pub struct PeerEvidence {
    /// SHA-256 of the leaf certificate, hex, if one was presented.
    pub fingerprint: Option<String>,
    /// The member, if the fingerprint matched one.
    pub member: Option<String>,
}

/// SHA-256 of a certificate's DER, lowercase hex: how the federation file names certificates.
pub fn cert_fingerprint(der: &[u8]) -> String {
    hex_lower(&sha256(der))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Finds the TLS peer in the federation file. The TLS layer has already checked that the
/// certificate chains to the federation CA; this checks that it is a *listed* certificate.
pub fn authenticate_peer(
    certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    federation: &Federation,
) -> Result<AuthenticatedPeer, (Refusal, PeerEvidence)> {
    let leaf = certs.as_ref().and_then(|c| c.first().cloned());
    let Some(leaf) = leaf else {
        return Err((Refusal::NoClientCertificate, PeerEvidence::default()));
    };
    let fingerprint = cert_fingerprint(leaf.as_ref());
    match federation.member_by_fingerprint(&fingerprint) {
        Some(member) => Ok(AuthenticatedPeer { member: member.clone(), fingerprint }),
        None => Err((
            Refusal::NotAMember { fingerprint: fingerprint.clone() },
            PeerEvidence { fingerprint: Some(fingerprint), member: None },
        )),
    }
}

/// A signed envelope from a coordinator member, verified, strictly parsed, addressed to this
/// node, for the RPC it arrived on, fresh, and not seen before.
#[derive(Debug)]
pub struct CheckedEnvelope {
    verified: VerifiedEnvelope,
    peer: AuthenticatedPeer,
}

impl CheckedEnvelope {
    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        self.verified.envelope()
    }

    /// SHA-256 of its signed bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.verified.hash()
    }

    /// The verified envelope (a relay channel's context is built from it).
    pub fn verified(&self) -> &VerifiedEnvelope {
        &self.verified
    }

    /// Who sent it.
    pub fn peer(&self) -> &AuthenticatedPeer {
        &self.peer
    }

    /// The verified envelope, for logging a refusal.
    pub fn into_verified(self) -> VerifiedEnvelope {
        self.verified
    }
}

impl AuthenticatedPeer {
    /// What the audit log records of this peer.
    pub fn evidence(&self) -> PeerEvidence {
        PeerEvidence {
            fingerprint: Some(self.fingerprint.clone()),
            member: Some(self.member.name.clone()),
        }
    }
}

/// What the envelope checks need from the node.
pub struct EnvelopeContext<'a> {
    /// This node's member name.
    pub me: &'a str,
    /// The RPC's mode.
    pub rpc_mode: Mode,
    /// Time limits from the policy.
    pub limits: &'a EnvelopeLimits,
    /// The node's clock now.
    pub now: UnixMillis,
}

/// A refusal, with the envelope if it verified (so the log can record its fields). Boxed:
/// a verified envelope is large, and refusals are the rare path.
#[derive(Debug)]
pub struct Rejection {
    /// Why.
    pub refusal: Refusal,
    /// The envelope, if its signature verified.
    pub verified: Option<VerifiedEnvelope>,
}

/// A boxed [`Rejection`].
pub type Rejected = Box<Rejection>;

fn rejected(refusal: Refusal, verified: Option<VerifiedEnvelope>) -> Rejected {
    Box::new(Rejection { refusal, verified })
}

/// Runs every envelope check in order. `seen` answers whether a query id is already in the
/// audit log; it is asked before the time checks so that a replay is named as one even when
/// the node's clock has moved.
pub fn check_envelope(
    peer: AuthenticatedPeer,
    signed: SignedEnvelope,
    ctx: &EnvelopeContext<'_>,
    seen: impl FnOnce(&[u8; 16]) -> Result<Option<u64>, Refusal>,
) -> Result<CheckedEnvelope, Rejected> {
    if peer.member.role != MemberRole::Coordinator {
        return Err(rejected(Refusal::NotACoordinator { member: peer.member.name.clone() }, None));
    }
    let verified =
        signed.verify(&peer.member.name, &peer.member.public_key).map_err(|r| rejected(r, None))?;
    let refuse = |r: Refusal, v: &VerifiedEnvelope| Err(rejected(r, Some(v.clone())));
    let env = verified.envelope();

    if env.audience != ctx.me {
        return refuse(
            Refusal::WrongAudience { audience: env.audience.clone(), me: ctx.me.to_string() },
            &verified,
        );
    }
    // The stated mode, the body and the RPC must all agree.
    if env.mode != ctx.rpc_mode || env.body.mode() != ctx.rpc_mode {
        let mode = if env.mode != ctx.rpc_mode { env.mode } else { env.body.mode() };
        return refuse(
            Refusal::ModeMismatch { mode: mode.name().into(), rpc: ctx.rpc_mode.name().into() },
            &verified,
        );
    }
    match seen(env.query_id.as_bytes()) {
        Ok(Some(first_index)) => return refuse(Refusal::Replayed { first_index }, &verified),
        Ok(None) => {}
        Err(r) => return refuse(r, &verified),
    }

    let skew_ms = i64::from(ctx.limits.max_clock_skew_s) * 1000;
    let lifetime_ms = env.expires_at.0 - env.issued_at.0;
    if lifetime_ms > i64::from(ctx.limits.max_lifetime_s) * 1000 {
        return refuse(
            Refusal::LifetimeTooLong {
                requested_s: lifetime_ms / 1000,
                max_s: ctx.limits.max_lifetime_s,
            },
            &verified,
        );
    }
    if env.issued_at.0 > ctx.now.0 + skew_ms {
        return refuse(
            Refusal::IssuedInFuture { issued_at_ms: env.issued_at.0, now_ms: ctx.now.0 },
            &verified,
        );
    }
    if env.expires_at.0 + skew_ms <= ctx.now.0 {
        return refuse(
            Refusal::Expired { expires_at_ms: env.expires_at.0, now_ms: ctx.now.0 },
            &verified,
        );
    }
    // F13: the UUIDv7's own timestamp must agree with the signed issue time.
    if (env.query_id.timestamp_ms() - env.issued_at.0).abs() > skew_ms {
        return refuse(
            Refusal::Malformed {
                problem: "the query id's UUIDv7 time disagrees with issued_at_ms".into(),
            },
            &verified,
        );
    }
    Ok(CheckedEnvelope { verified, peer })
}
