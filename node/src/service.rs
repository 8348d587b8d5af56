//! The generated `Node` gRPC trait, implemented thinly: each RPC runs the common admission path
//! (peer → envelope → policy → audit log) and then its own module's apply and respond steps.
//! SQLite work runs under `spawn_blocking` so it never stalls the async runtime.

use std::sync::Arc;

use fedlink_proto::envelope::{Mode, SignedEnvelope};
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;
use tonic::transport::CertificateDer;
use tonic::{Request, Response, Status};

use crate::error::NodeError;
use crate::gate::{Denial, Logged};
use crate::policy::AuthorisedQuery;
use crate::request::{EnvelopeContext, authenticate_peer, check_envelope};
use crate::state::NodeState;
use crate::{aggregate, describe, link};

/// The gRPC service.
pub struct NodeService {
    state: Arc<NodeState>,
}

impl NodeService {
    /// A service over the node's shared state.
    pub fn new(state: Arc<NodeState>) -> Self {
        Self { state }
    }
}

/// Runs every check on a request and logs it; the only way to a `Logged` query.
fn admit(
    state: &NodeState,
    certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    wire: pb::SignedEnvelope,
    rpc_mode: Mode,
) -> Result<Logged<AuthorisedQuery>, NodeError> {
    admit_with(state, certs, wire, rpc_mode, |_| Ok(())).map(|(logged, ())| logged)
}

/// [`admit`], with a mode's own policy check run after the common ones and before logging, so
/// that its refusals are logged like any other and its result (a plan) travels with the query.
fn admit_with<P>(
    state: &NodeState,
    certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    wire: pb::SignedEnvelope,
    rpc_mode: Mode,
    check: impl FnOnce(&AuthorisedQuery) -> Result<P, Refusal>,
) -> Result<(Logged<AuthorisedQuery>, P), NodeError> {
    let signed = SignedEnvelope::from(wire);
    let envelope_hash = Some(signed.envelope_hash());
    let deny = |refusal, peer, verified| {
        NodeError::Refused(state.audit.deny(Denial { refusal, peer, verified, envelope_hash }))
    };

    let peer = authenticate_peer(certs, &state.federation)
        .map_err(|(refusal, evidence)| deny(refusal, evidence, None))?;
    let evidence = peer.evidence();
    let ctx = EnvelopeContext {
        me: &state.me.name,
        rpc_mode,
        limits: &state.policy.envelope,
        now: state.audit.clock().now(),
    };
    let seen = |id: &[u8; 16]| {
        state
            .audit
            .query_id_seen(id)
            .map_err(|e| Refusal::AuditUnavailable { problem: e.to_string() })
    };
    let checked = check_envelope(peer, signed, &ctx, seen)
        .map_err(|r| deny(r.refusal, evidence.clone(), r.verified))?;
    let authorised = state
        .policy
        .authorise(checked)
        .map_err(|r| deny(r.refusal, evidence.clone(), r.verified))?;
    let planned = match check(&authorised) {
        Ok(p) => p,
        Err(refusal) => {
            let verified = Some(authorised.into_verified());
            return Err(deny(refusal, evidence, verified));
        }
    };
    Ok((state.audit.admit(authorised)?, planned))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, Status> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Status::from),
        Err(e) => Err(Status::internal(format!("request task failed: {e}"))),
    }
}

#[tonic::async_trait]
impl pb::node_server::Node for NodeService {
    async fn describe(
        &self,
        request: Request<pb::SignedEnvelope>,
    ) -> Result<Response<pb::DescribeResponse>, Status> {
        let certs = request.peer_certs();
        let wire = request.into_inner();
        let state = Arc::clone(&self.state);
        let response = blocking(move || {
            let logged = admit(&state, certs, wire, Mode::Describe)?;
            let description = describe::apply(&state, &logged)?;
            describe::respond(&state, &logged, description)
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn aggregate(
        &self,
        request: Request<pb::SignedEnvelope>,
    ) -> Result<Response<pb::AggregateResponse>, Status> {
        let certs = request.peer_certs();
        let wire = request.into_inner();
        let state = Arc::clone(&self.state);
        let response = blocking(move || {
            let (logged, plan) = admit_with(&state, certs, wire, Mode::Aggregate, |authorised| {
                aggregate::answer::plan(&state, authorised)
            })?;
            let answered = aggregate::answer::apply(&state, &logged, plan)
                .and_then(|released| aggregate::answer::respond(&state, &logged, released));
            match answered {
                Err(e @ NodeError::Internal(_)) => {
                    Err(NodeError::Refused(state.audit.fail(&logged, &e)))
                }
                other => other,
            }
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn link_open(
        &self,
        request: Request<pb::SignedEnvelope>,
    ) -> Result<Response<pb::LinkOpened>, Status> {
        let certs = request.peer_certs();
        let wire = request.into_inner();
        let state = Arc::clone(&self.state);
        let response = blocking(move || {
            let mode = linked_mode(&wire);
            let (logged, plan) = admit_with(&state, certs, wire, mode, |authorised| {
                link::plan::plan(&state, authorised)
            })?;
            link::open(&state, logged, plan)
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn link_step(
        &self,
        request: Request<pb::LinkStepRequest>,
    ) -> Result<Response<pb::LinkStepResponse>, Status> {
        let certs = request.peer_certs();
        let wire = request.into_inner();
        let state = Arc::clone(&self.state);
        let response = blocking(move || {
            // Steps carry no envelope: the session was admitted and logged at LinkOpen, and
            // only the coordinator that opened it (same mTLS member) may step it.
            // A refused step is logged like any refused request (who, which rule), though it
            // names no admitted query.
            let deny = |refusal, peer| {
                NodeError::Refused(state.audit.deny(Denial {
                    refusal,
                    peer,
                    verified: None,
                    envelope_hash: None,
                }))
            };
            let peer = authenticate_peer(certs, &state.federation)
                .map_err(|(refusal, evidence)| deny(refusal, evidence))?;
            link::step(&state, &peer.member().name, wire).map_err(|e| match e {
                link::StepRefused::BeforeSession(refusal) => deny(refusal, peer.evidence()),
                link::StepRefused::Node(e) => e,
            })
        })
        .await?;
        Ok(Response::new(response))
    }
}

/// The linked mode an envelope claims (LinkOpen serves all four). Read before verification
/// only to pick which mode the common path checks the envelope against: an envelope claiming
/// any other mode is checked against linked-count and refused as a mode mismatch there, after
/// its signature.
fn linked_mode(wire: &pb::SignedEnvelope) -> Mode {
    let claimed = SignedEnvelope::from(wire.clone()).unverified_peek().map(|e| e.mode);
    match claimed.and_then(|m| pb::Mode::try_from(m).ok()) {
        Some(pb::Mode::FlagBack) => Mode::FlagBack,
        Some(pb::Mode::Overlap) => Mode::Overlap,
        Some(pb::Mode::Calibrate) => Mode::Calibrate,
        _ => Mode::LinkedCount,
    }
}
