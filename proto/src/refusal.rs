//! The refusal vocabulary: every reason a node turns a request away, named once here so that the
//! node's gRPC status, the audit entry and the coordinator's printout all say the same thing.
//!
//! Each refusal has a stable `rule` (a dotted name written into the audit log and sent in the
//! `fedlink-refusal` response header) and a gRPC code.

use std::fmt;

use tonic::Code;

/// Header that carries a refusal's rule name, so clients need not parse the message.
pub const REFUSAL_HEADER: &str = "fedlink-refusal";
/// Binary header that carries the receipt of the audit entry that logged a refusal.
pub const RECEIPT_HEADER: &str = "fedlink-receipt-bin";

/// A privacy budget too small for a query: whose, for what, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetShortfall {
    /// Whose balance: "requester" or "coordinator".
    pub scope: String,
    /// The dataset.
    pub dataset: String,
    /// The budget period.
    pub period: String,
    /// What this query would charge, in millionths of epsilon.
    pub requested_micro: u64,
    /// What is left, in millionths of epsilon.
    pub remaining_micro: u64,
}

/// Why a node refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The node cannot consult its own audit log, so it cannot rule out a replay: it fails
    /// closed.
    AuditUnavailable {
        /// What went wrong.
        problem: String,
    },
    /// The signer named in the envelope is not the authenticated mTLS peer.
    CoordinatorMismatch {
        /// Who the envelope says signed it.
        claimed: String,
        /// Who the mTLS peer is.
        peer: String,
    },
    /// The policy does not accept queries from this coordinator.
    CoordinatorNotAccepted {
        /// The coordinator's member name.
        coordinator: String,
    },
    /// The envelope is past its expiry time.
    Expired {
        /// When it expired (ms since epoch).
        expires_at_ms: i64,
        /// The node's clock (ms since epoch).
        now_ms: i64,
    },
    /// The envelope's issue time is further in the future than the allowed clock skew.
    IssuedInFuture {
        /// Issue time (ms since epoch).
        issued_at_ms: i64,
        /// The node's clock (ms since epoch).
        now_ms: i64,
    },
    /// The envelope asks to live longer than the policy's maximum lifetime.
    LifetimeTooLong {
        /// Requested lifetime in seconds.
        requested_s: i64,
        /// Policy maximum in seconds.
        max_s: u32,
    },
    /// The lawful basis is not one the policy accepts.
    LawfulBasisNotAccepted {
        /// The basis as `regime / article / gateway`.
        basis: String,
    },
    /// The envelope is not a well-formed, canonically encoded `Envelope`.
    Malformed {
        /// What was wrong.
        problem: String,
    },
    /// The envelope's mode does not match the RPC it was sent to.
    ModeMismatch {
        /// The envelope's mode.
        mode: String,
        /// The RPC's mode.
        rpc: String,
    },
    /// The policy does not enable this kind of query at all.
    ModeNotEnabled {
        /// The mode's name.
        mode: String,
    },
    /// The peer presented no client certificate.
    NoClientCertificate,
    /// The peer's certificate is not listed in the federation file.
    NotAMember {
        /// SHA-256 of the peer's certificate, hex.
        fingerprint: String,
    },
    /// The peer is a member, but not a coordinator, so it cannot sign queries.
    NotACoordinator {
        /// The peer's member name.
        member: String,
    },
    /// The purpose code is not one the policy accepts.
    PurposeNotAccepted {
        /// The purpose code.
        purpose: String,
    },
    /// The query id has been seen before (checked against the audit log).
    Replayed {
        /// Leaf index of the entry that first logged this query id.
        first_index: u64,
    },
    /// The envelope's signature does not verify under the coordinator's key.
    SignatureInvalid,
    /// The request carries no signature.
    SignatureMissing,
    /// The node holds no dataset of that name.
    UnknownDataset {
        /// The dataset asked for.
        dataset: String,
    },
    /// No aggregate rule of the policy covers this dataset for this purpose.
    DatasetNotPermitted {
        /// The dataset.
        dataset: String,
        /// The envelope's purpose.
        purpose: String,
    },
    /// The policy does not allow this use of a column (filter, group by, sum).
    ColumnUseNotAllowed {
        /// The column.
        column: String,
        /// The use asked for.
        usage: String,
    },
    /// The policy does not allow this grouping (a time bucket, age bands, a geography level).
    GroupingNotAllowed {
        /// The grouping.
        grouping: String,
    },
    /// The policy does not allow this metric on this dataset.
    MetricNotAllowed {
        /// The metric.
        metric: String,
    },
    /// The policy answers only its published templates for this dataset: no DP settings for
    /// queries the requester shapes.
    ShapedQueriesNotAllowed {
        /// The dataset.
        dataset: String,
    },
    /// The policy publishes no template of that name for this dataset.
    UnknownTemplate {
        /// The template asked for.
        template: String,
    },
    /// The template period is not one of the template's periods.
    BadTemplatePeriod {
        /// The period given.
        period: String,
        /// What the template expects, e.g. "a financial year like 2025/26".
        expected: String,
    },
    /// The query cannot be answered as asked (a column of the wrong kind, no period for a time
    /// grouping, too many cells …).
    QueryInvalid {
        /// What was wrong.
        problem: String,
    },
    /// Answering would overspend the privacy budget.
    BudgetExhausted(Box<BudgetShortfall>),
    /// The node's `[[linkage]]` rules do not allow this linked query; `rule` names the part
    /// at fault (`policy.linkage.dataset`, `.roles`, `.key_types`, `.labels`, `.windows`,
    /// `.cohort_sources`, `.caps`, `.flag_back`).
    LinkageNotAllowed {
        /// The rule name.
        rule: &'static str,
        /// What was not allowed, and why.
        problem: String,
    },
    /// A linked query's session or a peer's message broke the protocol: an unknown or expired
    /// session, a step out of order, a message that does not open, a bad tuple batch.
    LinkageProtocol {
        /// The rule name (`linkage.session`, `linkage.message`, `linkage.tuples`, …).
        rule: &'static str,
        /// What was wrong.
        problem: String,
    },
    /// The envelope's authoriser's signature is missing, by someone not registered, or does
    /// not verify.
    AuthorisationInvalid {
        /// What was wrong.
        problem: String,
    },
    /// The envelope is addressed to another node.
    WrongAudience {
        /// The envelope's audience.
        audience: String,
        /// This node.
        me: String,
    },
}

impl Refusal {
    /// The stable rule name written to the audit log and the `fedlink-refusal` header.
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::AuditUnavailable { .. } => "node.audit_unavailable",
            Refusal::CoordinatorMismatch { .. } => "envelope.coordinator_mismatch",
            Refusal::CoordinatorNotAccepted { .. } => "policy.coordinators",
            Refusal::Expired { .. } => "envelope.expired",
            Refusal::IssuedInFuture { .. } => "envelope.issued_in_future",
            Refusal::LifetimeTooLong { .. } => "envelope.lifetime",
            Refusal::LawfulBasisNotAccepted { .. } => "policy.lawful_bases",
            Refusal::Malformed { .. } => "envelope.malformed",
            Refusal::ModeMismatch { .. } => "envelope.mode",
            Refusal::ModeNotEnabled { .. } => "policy.modes",
            Refusal::NoClientCertificate => "peer.no_certificate",
            Refusal::NotAMember { .. } => "peer.not_a_member",
            Refusal::NotACoordinator { .. } => "peer.not_a_coordinator",
            Refusal::PurposeNotAccepted { .. } => "policy.purposes",
            Refusal::Replayed { .. } => "envelope.replayed",
            Refusal::SignatureInvalid => "envelope.signature_invalid",
            Refusal::SignatureMissing => "envelope.signature_missing",
            Refusal::WrongAudience { .. } => "envelope.audience",
            Refusal::UnknownDataset { .. } => "aggregate.dataset_unknown",
            Refusal::DatasetNotPermitted { .. } => "policy.aggregate.dataset",
            Refusal::ColumnUseNotAllowed { .. } => "policy.aggregate.columns",
            Refusal::GroupingNotAllowed { .. } => "policy.aggregate.groupings",
            Refusal::MetricNotAllowed { .. } => "policy.aggregate.metrics",
            Refusal::ShapedQueriesNotAllowed { .. } => "policy.aggregate.privacy",
            Refusal::UnknownTemplate { .. } => "policy.aggregate.templates",
            Refusal::BadTemplatePeriod { .. } => "policy.aggregate.template_period",
            Refusal::QueryInvalid { .. } => "aggregate.invalid",
            Refusal::BudgetExhausted(_) => "policy.budget",
            Refusal::AuthorisationInvalid { .. } => "envelope.authorisation",
            Refusal::LinkageNotAllowed { rule, .. } | Refusal::LinkageProtocol { rule, .. } => rule,
        }
    }

    /// The gRPC status code that carries this refusal.
    pub fn code(&self) -> Code {
        match self {
            Refusal::NoClientCertificate
            | Refusal::SignatureMissing
            | Refusal::SignatureInvalid
            | Refusal::Expired { .. }
            | Refusal::IssuedInFuture { .. } => Code::Unauthenticated,
            Refusal::NotAMember { .. }
            | Refusal::NotACoordinator { .. }
            | Refusal::CoordinatorMismatch { .. }
            | Refusal::CoordinatorNotAccepted { .. }
            | Refusal::WrongAudience { .. }
            | Refusal::PurposeNotAccepted { .. }
            | Refusal::ModeNotEnabled { .. }
            | Refusal::LawfulBasisNotAccepted { .. }
            | Refusal::DatasetNotPermitted { .. }
            | Refusal::ColumnUseNotAllowed { .. }
            | Refusal::GroupingNotAllowed { .. }
            | Refusal::MetricNotAllowed { .. }
            | Refusal::ShapedQueriesNotAllowed { .. }
            | Refusal::UnknownTemplate { .. }
            | Refusal::LinkageNotAllowed { .. } => Code::PermissionDenied,
            Refusal::LinkageProtocol { .. } => Code::FailedPrecondition,
            Refusal::AuthorisationInvalid { .. } => Code::Unauthenticated,
            Refusal::UnknownDataset { .. } => Code::NotFound,
            Refusal::BudgetExhausted(_) => Code::ResourceExhausted,
            Refusal::BadTemplatePeriod { .. } | Refusal::QueryInvalid { .. } => {
                Code::InvalidArgument
            }
            Refusal::Malformed { .. }
            | Refusal::ModeMismatch { .. }
            | Refusal::LifetimeTooLong { .. } => Code::InvalidArgument,
            Refusal::Replayed { .. } => Code::AlreadyExists,
            Refusal::AuditUnavailable { .. } => Code::Unavailable,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AuditUnavailable { problem } => {
                write!(f, "the node cannot consult its audit log, so it answers nothing: {problem}")
            }
            Refusal::CoordinatorMismatch { claimed, peer } => write!(
                f,
                "the envelope claims coordinator {claimed:?} but the TLS peer is {peer:?}"
            ),
            Refusal::CoordinatorNotAccepted { coordinator } => {
                write!(f, "this node's policy does not accept queries from {coordinator:?}")
            }
            Refusal::Expired { expires_at_ms, now_ms } => write!(
                f,
                "the envelope expired {} s ago (expires_at_ms {expires_at_ms}, node clock {now_ms})",
                (now_ms - expires_at_ms) / 1000
            ),
            Refusal::IssuedInFuture { issued_at_ms, now_ms } => write!(
                f,
                "the envelope was issued {} s in the future of this node's clock, beyond the \
                 allowed skew",
                (issued_at_ms - now_ms) / 1000
            ),
            Refusal::LifetimeTooLong { requested_s, max_s } => write!(
                f,
                "the envelope asks to live {requested_s} s; this node's policy allows at most \
                 {max_s} s"
            ),
            Refusal::LawfulBasisNotAccepted { basis } => {
                write!(f, "this node's policy does not accept the lawful basis {basis}")
            }
            Refusal::Malformed { problem } => write!(f, "malformed envelope: {problem}"),
            Refusal::AuthorisationInvalid { problem } => {
                write!(f, "the query's authorisation is refused: {problem}")
            }
            Refusal::LinkageNotAllowed { problem, .. } => {
                write!(f, "this node's linkage policy refuses: {problem}")
            }
            Refusal::LinkageProtocol { problem, .. } => {
                write!(f, "linked query refused: {problem}")
            }
            Refusal::ModeMismatch { mode, rpc } => {
                write!(f, "an envelope for mode {mode} was sent to the {rpc} RPC")
            }
            Refusal::ModeNotEnabled { mode } => {
                write!(f, "this node's policy does not enable {mode} queries")
            }
            Refusal::NoClientCertificate => write!(f, "no client certificate was presented"),
            Refusal::NotAMember { fingerprint } => write!(
                f,
                "the client certificate (SHA-256 {fingerprint}) is not listed in this node's \
                 federation file"
            ),
            Refusal::NotACoordinator { member } => {
                write!(f, "member {member:?} is not a coordinator and cannot sign queries")
            }
            Refusal::PurposeNotAccepted { purpose } => {
                write!(f, "this node's policy does not accept the purpose {purpose:?}")
            }
            Refusal::Replayed { first_index } => write!(
                f,
                "this query id was already used (first logged at entry {first_index}); \
                 every query needs a fresh id"
            ),
            Refusal::SignatureInvalid => {
                write!(f, "the envelope signature does not verify under the coordinator's key")
            }
            Refusal::SignatureMissing => write!(f, "the request carries no envelope signature"),
            Refusal::WrongAudience { audience, me } => {
                write!(f, "the envelope is addressed to {audience:?}, not to this node ({me:?})")
            }
            Refusal::UnknownDataset { dataset } => {
                write!(f, "this node holds no dataset {dataset:?}")
            }
            Refusal::DatasetNotPermitted { dataset, purpose } => write!(
                f,
                "this node's policy has no aggregate rule for dataset {dataset:?} under purpose \
                 {purpose:?}"
            ),
            Refusal::ColumnUseNotAllowed { column, usage } => write!(
                f,
                "this node's policy does not allow column {column:?} to be {usage} (the rule \
                 lists the uses each column allows; unlisted columns allow none)"
            ),
            Refusal::GroupingNotAllowed { grouping } => {
                write!(f, "this node's policy does not allow grouping by {grouping}")
            }
            Refusal::MetricNotAllowed { metric } => {
                write!(f, "this node's policy does not allow the metric {metric}")
            }
            Refusal::ShapedQueriesNotAllowed { dataset } => write!(
                f,
                "this node answers only its published templates for {dataset:?}: its policy \
                 sets no differential-privacy budget for queries a requester shapes"
            ),
            Refusal::UnknownTemplate { template } => {
                write!(f, "this node's policy publishes no template {template:?}")
            }
            Refusal::BadTemplatePeriod { period, expected } => {
                write!(f, "template period {period:?} is not {expected}")
            }
            Refusal::QueryInvalid { problem } => {
                write!(f, "the query cannot be answered: {problem}")
            }
            Refusal::BudgetExhausted(short) => write!(
                f,
                "the {} privacy budget for {:?} in {} has epsilon {} left; \
                 this query needs {}",
                short.scope,
                short.dataset,
                short.period,
                crate::audit::budget::micro_to_string(short.remaining_micro),
                crate::audit::budget::micro_to_string(short.requested_micro)
            ),
        }
    }
}
