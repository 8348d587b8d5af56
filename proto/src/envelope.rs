//! Signed query envelopes: the coordinator signs the exact bytes of an [`Envelope`]; a node
//! verifies those bytes under the signer's key *before* parsing them, then parses strictly.
//!
//! Signing the bytes avoids any canonicalisation question (DESIGN.md "Identity and transport").
//! Parsing is strict in a way protobuf itself is not: the bytes must be exactly the canonical
//! encoding of the envelope they decode to, so unknown fields, duplicated fields, reordered
//! fields and trailing bytes are all refused (design-review.md F13, §10.10).

use prost::Message as _;
use ring::digest;

use crate::aggregate::AggregateRequest;
use crate::clock::UnixMillis;
use crate::identity::{IdentityKey, PublicKey, SigningContext};
use crate::link::LinkRequest;
use crate::pb;
use crate::refusal::Refusal;

/// The only envelope version this build speaks.
pub const ENVELOPE_VERSION: u32 = 1;

/// A query id: a UUIDv7, so it carries its own creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryId([u8; 16]);

impl QueryId {
    /// A fresh UUIDv7 for the given time.
    pub fn new_v7(at: UnixMillis) -> Self {
        let secs = u64::try_from(at.0.div_euclid(1000)).unwrap_or(0);
        let nanos = u32::try_from(at.0.rem_euclid(1000) * 1_000_000).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
        Self(*uuid::Uuid::new_v7(ts).as_bytes())
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 16 bytes that must be a UUID of version 7.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, String> {
        let raw: [u8; 16] = bytes
            .try_into()
            .map_err(|_| format!("query_id must be 16 bytes, got {}", bytes.len()))?;
        let id = uuid::Uuid::from_bytes(raw);
        if id.get_version_num() != 7 {
            return Err(format!("query_id must be a UUIDv7, got version {}", id.get_version_num()));
        }
        Ok(Self(raw))
    }

    /// The creation time embedded in the UUIDv7 (ms since epoch).
    pub fn timestamp_ms(&self) -> i64 {
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&self.0[..6]);
        i64::from_be_bytes(ms)
    }
}

impl std::fmt::Display for QueryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        uuid::Uuid::from_bytes(self.0).fmt(f)
    }
}

/// A session id: 16 random bytes shared by every envelope of one multi-node query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh random session id.
    pub fn random() -> Result<Self, Refusal> {
        let mut raw = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw).map_err(
            |_| Refusal::Malformed { problem: "the OS random number generator failed".into() },
        )?;
        Ok(Self(raw))
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// What a node does in a query (design-review.md F13: the role is signed, so a session cannot be
/// steered into another role's steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Blinds in an overlap ring without computing.
    Blinder,
    /// Holds the cohort of a linked query.
    Cohort,
    /// Computes and protects the linked statistic.
    Computing,
    /// Answers a query about itself alone.
    Responder,
}

/// The kind of query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Aggregate counts over one node's dataset.
    Aggregate,
    /// Identity, datasets, policy summary and log size of a node.
    Describe,
    /// Person-level match flags returned to the cohort holder.
    FlagBack,
    /// A linked count between a cohort and a partner.
    LinkedCount,
    /// Overlap across several agencies.
    Overlap,
    /// A calibration run: the computing node fits and stores its linkage model (F18).
    Calibrate,
}

impl Mode {
    /// The mode's name as logged and shown.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Aggregate => "aggregate",
            Mode::Describe => "describe",
            Mode::FlagBack => "flag-back",
            Mode::LinkedCount => "linked-count",
            Mode::Overlap => "overlap",
            Mode::Calibrate => "calibrate",
        }
    }
}

/// A node taking part, with its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Federation member name.
    pub member: String,
    /// Its role in the query.
    pub role: NodeRole,
}

/// The person who asked, as the coordinator asserts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// Collar or staff number.
    pub officer_id: String,
    /// Role or rank.
    pub role: String,
    /// Organisation code.
    pub organisation: String,
}

/// The lawful basis a query relies on (audit-privacy-legal.md §3.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LawfulBasis {
    /// "DPA-Part3" or "UK-GDPR".
    pub regime: String,
    /// The article or section, e.g. "DPA s35(5)+Sch8 para1".
    pub article: String,
    /// The information-sharing gateway, e.g. "CDA s115".
    pub gateway: String,
}

impl std::fmt::Display for LawfulBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} / {}", self.regime, self.article, self.gateway)
    }
}

/// The authoriser's own signature over the query, where policy asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    /// The authoriser's id.
    pub authoriser_id: String,
    /// Their role or rank.
    pub authoriser_role: String,
    /// Ed25519 signature over the query hash.
    pub signature: Vec<u8>,
}

/// What the query asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryBody {
    /// Describe the node.
    Describe,
    /// A protected count table over one dataset.
    Aggregate(AggregateRequest),
    /// A linked query: linked count, flag-back or overlap (the kind follows the mode).
    Link(LinkRequest),
}

impl QueryBody {
    /// The mode this body belongs to; the node refuses an envelope whose stated mode, body and
    /// RPC do not all agree (`envelope.mode`).
    pub fn mode(&self) -> Mode {
        match self {
            QueryBody::Describe => Mode::Describe,
            QueryBody::Aggregate(_) => Mode::Aggregate,
            QueryBody::Link(q) => q.kind.mode(),
        }
    }
}

/// A query envelope, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Unique, never reused.
    pub query_id: QueryId,
    /// The session this query belongs to.
    pub session_id: SessionId,
    /// The member this envelope is for.
    pub audience: String,
    /// The audience's role.
    pub role: NodeRole,
    /// The query's mode.
    pub mode: Mode,
    /// Every node taking part, in schedule order.
    pub participants: Vec<Participant>,
    /// When the coordinator issued it.
    pub issued_at: UnixMillis,
    /// When it stops being valid.
    pub expires_at: UnixMillis,
    /// The signing coordinator's member name.
    pub coordinator: String,
    /// Who asked.
    pub requester: Requester,
    /// Purpose code.
    pub purpose: String,
    /// Lawful basis.
    pub lawful_basis: LawfulBasis,
    /// Data-sharing agreement reference.
    pub dsa_ref: String,
    /// Case reference, if any.
    pub case_ref: Option<String>,
    /// Why the query is needed.
    pub justification: String,
    /// The authoriser's signature, if any.
    pub authorisation: Option<Authorisation>,
    /// The size of the audience's log the coordinator last verified.
    pub known_log_size: u64,
    /// What is asked.
    pub body: QueryBody,
}

impl Envelope {
    /// The wire form.
    pub fn to_pb(&self) -> pb::Envelope {
        pb::Envelope {
            version: ENVELOPE_VERSION,
            query_id: self.query_id.as_bytes().to_vec(),
            session_id: self.session_id.as_bytes().to_vec(),
            audience: self.audience.clone(),
            role: role_to_pb(self.role) as i32,
            mode: mode_to_pb(self.mode) as i32,
            participants: self
                .participants
                .iter()
                .map(|p| pb::Participant {
                    member: p.member.clone(),
                    role: role_to_pb(p.role) as i32,
                })
                .collect(),
            issued_at_ms: self.issued_at.0,
            expires_at_ms: self.expires_at.0,
            coordinator: self.coordinator.clone(),
            requester: Some(requester_to_pb(&self.requester)),
            purpose: self.purpose.clone(),
            lawful_basis: Some(lawful_basis_to_pb(&self.lawful_basis)),
            dsa_ref: self.dsa_ref.clone(),
            case_ref: self.case_ref.clone().unwrap_or_default(),
            justification: self.justification.clone(),
            authorisation: self.authorisation.as_ref().map(|a| pb::Authorisation {
                authoriser_id: a.authoriser_id.clone(),
                authoriser_role: a.authoriser_role.clone(),
                signature: a.signature.clone(),
            }),
            known_log_size: self.known_log_size,
            body: Some(match &self.body {
                QueryBody::Describe => pb::envelope::Body::Describe(pb::DescribeQuery {}),
                QueryBody::Aggregate(q) => pb::envelope::Body::Aggregate(q.to_pb()),
                QueryBody::Link(q) => pb::envelope::Body::Link(q.to_pb()),
            }),
        }
    }

    /// The canonical bytes that get signed.
    pub fn encode(&self) -> Vec<u8> {
        self.to_pb().encode_to_vec()
    }

    /// Signs the canonical bytes with the coordinator's identity key.
    pub fn sign(&self, key: &IdentityKey) -> pb::SignedEnvelope {
        let envelope = self.encode();
        let signature = key.sign(SigningContext::ENVELOPE, &envelope).as_bytes().to_vec();
        pb::SignedEnvelope { envelope, signature }
    }

    /// Parses envelope bytes strictly: they must decode, be the canonical encoding of what they
    /// decode to, and hold a complete, known envelope.
    pub fn parse(bytes: &[u8]) -> Result<Self, Refusal> {
        let malformed = |problem: String| Refusal::Malformed { problem };
        let wire = pb::Envelope::decode(bytes)
            .map_err(|e| malformed(format!("not a protobuf Envelope: {e}")))?;
        let canonical = wire.encode_to_vec();
        if canonical != bytes {
            let problem = if bytes.len() > canonical.len() && bytes.starts_with(&canonical) {
                format!("{} trailing bytes after the envelope", bytes.len() - canonical.len())
            } else {
                "not in canonical form (unknown, repeated or reordered fields)".to_string()
            };
            return Err(malformed(problem));
        }
        Self::try_from(wire)
    }

    /// SHA-256 of the canonical bytes: the query hash authorisers sign and logs record.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.encode())
    }

    /// SHA-256 of what every participant's envelope for one query shares: the whole envelope
    /// but its audience, the audience's role and the log size the coordinator last saw of that
    /// node. Nodes bind it into their relay handshake, so a coordinator that gave them
    /// different queries under one query id (another mode, body, window or participant list,
    /// design-review F13) cannot pair them.
    pub fn shared_digest(&self) -> [u8; 32] {
        let mut wire = self.to_pb();
        wire.audience.clear();
        wire.role = 0;
        wire.known_log_size = 0;
        let mut bytes = b"fedlink-query-shared/v1\n".to_vec();
        bytes.extend_from_slice(&wire.encode_to_vec());
        sha256(&bytes)
    }
}

impl Envelope {
    /// What an authoriser signs: the query every participant's envelope shares (as
    /// [`Envelope::shared_digest`]) without the authorisation itself, so one signature covers
    /// the case reference, purpose, requester, participants and body for every node.
    pub fn authorised_digest(&self) -> [u8; 32] {
        let mut wire = self.to_pb();
        wire.audience.clear();
        wire.role = 0;
        wire.known_log_size = 0;
        wire.authorisation = None;
        let mut bytes = b"fedlink-query-authorised/v1\n".to_vec();
        bytes.extend_from_slice(&wire.encode_to_vec());
        sha256(&bytes)
    }

    /// Checks the envelope's authorisation against the federation's registered authorisers:
    /// present, by a listed authoriser, and signed by their key over
    /// [`Envelope::authorised_digest`].
    pub fn check_authorisation<'f>(
        &self,
        federation: &'f crate::federation::Federation,
    ) -> Result<&'f crate::federation::Authoriser, Refusal> {
        let invalid = |problem: String| Refusal::AuthorisationInvalid { problem };
        let auth = self
            .authorisation
            .as_ref()
            .ok_or_else(|| invalid("the query carries no authoriser's signature".into()))?;
        let authoriser = federation.authoriser(&auth.authoriser_id).ok_or_else(|| {
            invalid(format!("{:?} is not an authoriser in the federation file", auth.authoriser_id))
        })?;
        authoriser
            .public_key
            .verify(SigningContext::AUTHORISATION, &self.authorised_digest(), &auth.signature)
            .map_err(|_| {
                invalid(format!(
                    "the signature of authoriser {:?} does not verify",
                    auth.authoriser_id
                ))
            })?;
        Ok(authoriser)
    }

    /// Signs this query as `authoriser_id` with their key, setting its authorisation.
    pub fn authorise(&mut self, authoriser_id: &str, role: &str, key: &IdentityKey) {
        self.authorisation = None;
        let signature =
            key.sign(SigningContext::AUTHORISATION, &self.authorised_digest()).as_bytes().to_vec();
        self.authorisation = Some(Authorisation {
            authoriser_id: authoriser_id.to_string(),
            authoriser_role: role.to_string(),
            signature,
        });
    }
}

impl TryFrom<pb::Envelope> for Envelope {
    type Error = Refusal;

    fn try_from(wire: pb::Envelope) -> Result<Self, Refusal> {
        let malformed = |problem: String| Refusal::Malformed { problem };
        if wire.version != ENVELOPE_VERSION {
            return Err(malformed(format!(
                "envelope version {} is not supported (this node speaks {ENVELOPE_VERSION})",
                wire.version
            )));
        }
        let query_id = QueryId::from_slice(&wire.query_id).map_err(malformed)?;
        let session_id = SessionId(
            wire.session_id
                .as_slice()
                .try_into()
                .map_err(|_| malformed("session_id must be 16 bytes".into()))?,
        );
        let role = role_from_pb(wire.role, "role")?;
        let mode = mode_from_pb(wire.mode)?;
        let participants = wire
            .participants
            .into_iter()
            .map(|p| {
                Ok(Participant {
                    member: required(p.member, "participants.member")?,
                    role: role_from_pb(p.role, "participants.role")?,
                })
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        let requester = wire.requester.ok_or_else(|| malformed("requester is missing".into()))?;
        let basis = wire.lawful_basis.ok_or_else(|| malformed("lawful_basis is missing".into()))?;
        let body = match wire.body {
            Some(pb::envelope::Body::Describe(pb::DescribeQuery {})) => QueryBody::Describe,
            Some(pb::envelope::Body::Aggregate(q)) => {
                QueryBody::Aggregate(AggregateRequest::try_from(q)?)
            }
            Some(pb::envelope::Body::Link(q)) => QueryBody::Link(LinkRequest::from_pb(q, mode)?),
            None => return Err(malformed("the query body is missing".into())),
        };
        if wire.expires_at_ms <= wire.issued_at_ms {
            return Err(malformed("expires_at_ms must be after issued_at_ms".into()));
        }
        Ok(Self {
            query_id,
            session_id,
            audience: required(wire.audience, "audience")?,
            role,
            mode,
            participants,
            issued_at: UnixMillis(wire.issued_at_ms),
            expires_at: UnixMillis(wire.expires_at_ms),
            coordinator: required(wire.coordinator, "coordinator")?,
            requester: Requester {
                officer_id: required(requester.officer_id, "requester.officer_id")?,
                role: required(requester.role, "requester.role")?,
                organisation: required(requester.organisation, "requester.organisation")?,
            },
            purpose: required(wire.purpose, "purpose")?,
            lawful_basis: LawfulBasis {
                regime: required(basis.regime, "lawful_basis.regime")?,
                article: required(basis.article, "lawful_basis.article")?,
                gateway: required(basis.gateway, "lawful_basis.gateway")?,
            },
            dsa_ref: required(wire.dsa_ref, "dsa_ref")?,
            case_ref: (!wire.case_ref.is_empty()).then_some(wire.case_ref),
            justification: required(wire.justification, "justification")?,
            authorisation: wire
                .authorisation
                .map(|a| {
                    Ok::<_, Refusal>(Authorisation {
                        authoriser_id: required(a.authoriser_id, "authorisation.authoriser_id")?,
                        authoriser_role: required(a.authoriser_role, "authorisation.role")?,
                        signature: a.signature,
                    })
                })
                .transpose()?,
            known_log_size: wire.known_log_size,
            body,
        })
    }
}

/// A signed envelope as received: bytes not yet trusted.
#[derive(Debug, Clone)]
pub struct SignedEnvelope {
    envelope: Vec<u8>,
    signature: Vec<u8>,
}

impl From<pb::SignedEnvelope> for SignedEnvelope {
    fn from(wire: pb::SignedEnvelope) -> Self {
        Self { envelope: wire.envelope, signature: wire.signature }
    }
}

impl SignedEnvelope {
    /// SHA-256 of the envelope bytes as received, for the audit log.
    pub fn envelope_hash(&self) -> [u8; 32] {
        sha256(&self.envelope)
    }

    /// Verifies the signature with the signer's key, then parses the bytes strictly and checks
    /// that the envelope names `signer` as its coordinator. This is the only way to make a
    /// [`VerifiedEnvelope`].
    pub fn verify(self, signer: &str, key: &PublicKey) -> Result<VerifiedEnvelope, Refusal> {
        if self.signature.is_empty() {
            return Err(Refusal::SignatureMissing);
        }
        key.verify(SigningContext::ENVELOPE, &self.envelope, &self.signature)
            .map_err(|_| Refusal::SignatureInvalid)?;
        let envelope = Envelope::parse(&self.envelope)?;
        if envelope.coordinator != signer {
            return Err(Refusal::CoordinatorMismatch {
                claimed: envelope.coordinator,
                peer: signer.to_string(),
            });
        }
        Ok(VerifiedEnvelope { hash: sha256(&self.envelope), envelope })
    }

    /// Best-effort look inside bytes that failed verification, so a denial can still be logged
    /// with whatever fields are readable. Nothing read this way is trusted.
    pub fn unverified_peek(&self) -> Option<pb::Envelope> {
        pb::Envelope::decode(self.envelope.as_slice()).ok()
    }
}

/// An envelope whose signature verified and whose bytes parsed strictly.
#[derive(Debug, Clone)]
pub struct VerifiedEnvelope {
    envelope: Envelope,
    hash: [u8; 32],
}

impl VerifiedEnvelope {
    /// The parsed envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// SHA-256 of the signed bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }
}

fn required(value: String, field: &str) -> Result<String, Refusal> {
    if value.trim().is_empty() {
        Err(Refusal::Malformed { problem: format!("{field} is missing") })
    } else {
        Ok(value)
    }
}

fn role_from_pb(value: i32, field: &str) -> Result<NodeRole, Refusal> {
    match pb::NodeRole::try_from(value) {
        Ok(pb::NodeRole::Responder) => Ok(NodeRole::Responder),
        Ok(pb::NodeRole::Cohort) => Ok(NodeRole::Cohort),
        Ok(pb::NodeRole::Computing) => Ok(NodeRole::Computing),
        Ok(pb::NodeRole::Blinder) => Ok(NodeRole::Blinder),
        Ok(pb::NodeRole::Unspecified) => {
            Err(Refusal::Malformed { problem: format!("{field} is missing") })
        }
        Err(_) => Err(Refusal::Malformed { problem: format!("{field} has unknown value {value}") }),
    }
}

/// The wire value of a role.
pub fn role_to_pb(role: NodeRole) -> pb::NodeRole {
    match role {
        NodeRole::Responder => pb::NodeRole::Responder,
        NodeRole::Cohort => pb::NodeRole::Cohort,
        NodeRole::Computing => pb::NodeRole::Computing,
        NodeRole::Blinder => pb::NodeRole::Blinder,
    }
}

fn mode_from_pb(value: i32) -> Result<Mode, Refusal> {
    match pb::Mode::try_from(value) {
        Ok(pb::Mode::Describe) => Ok(Mode::Describe),
        Ok(pb::Mode::Aggregate) => Ok(Mode::Aggregate),
        Ok(pb::Mode::LinkedCount) => Ok(Mode::LinkedCount),
        Ok(pb::Mode::FlagBack) => Ok(Mode::FlagBack),
        Ok(pb::Mode::Overlap) => Ok(Mode::Overlap),
        Ok(pb::Mode::Calibrate) => Ok(Mode::Calibrate),
        Ok(pb::Mode::Unspecified) => Err(Refusal::Malformed { problem: "mode is missing".into() }),
        Err(_) => Err(Refusal::Malformed { problem: format!("mode has unknown value {value}") }),
    }
}

/// The wire value of a mode.
pub fn mode_to_pb(mode: Mode) -> pb::Mode {
    match mode {
        Mode::Describe => pb::Mode::Describe,
        Mode::Aggregate => pb::Mode::Aggregate,
        Mode::LinkedCount => pb::Mode::LinkedCount,
        Mode::FlagBack => pb::Mode::FlagBack,
        Mode::Overlap => pb::Mode::Overlap,
        Mode::Calibrate => pb::Mode::Calibrate,
    }
}

/// The wire form of a requester.
pub fn requester_to_pb(r: &Requester) -> pb::Requester {
    pb::Requester {
        officer_id: r.officer_id.clone(),
        role: r.role.clone(),
        organisation: r.organisation.clone(),
    }
}

/// The wire form of a lawful basis.
pub fn lawful_basis_to_pb(b: &LawfulBasis) -> pb::LawfulBasis {
    pb::LawfulBasis {
        regime: b.regime.clone(),
        article: b.article.clone(),
        gateway: b.gateway.clone(),
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests;
