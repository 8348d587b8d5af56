//! Start-up and serving: open the audit log, bind the port, serve the Node service, the Witness
//! service (the node witnesses the coordinator's log), health and reflection over mTLS only,
//! send the node's checkpoints to its independent witnesses, and stop gracefully when asked.
//!
//! The TLS layer (rustls via tonic) requires a client certificate from the federation CA; the
//! request path then requires that certificate to be *listed* in the federation file. Health and
//! reflection check the listing too, through an interceptor, but are not audited: they touch no
//! data.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{Clock, SystemClock};
use fedlink_proto::federation::Federation;
use fedlink_proto::pb;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Status};

use crate::config::NodeSettings;
use crate::gate::AuditGate;
use crate::request::cert_fingerprint;
use crate::service::NodeService;
use crate::state::NodeState;
use crate::witness::member::node_witness;
use crate::witness::push::{self, ClientPem};
use crate::witness::service::{WitnessCore, WitnessService};
use crate::witness::state::WitnessState;

/// Largest message the node accepts: a linkage step carries a whole side's packed tuples (a
/// 100,000-subject side of 24 points each is 77 MB); the policy caps keep real ones below this.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// How often expired linkage sessions are dropped.
const SESSION_REAP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the node stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data folder or the audit log could not be opened.
    #[error("cannot open the audit log at {path}")]
    AuditLog {
        /// Where the log lives.
        path: std::path::PathBuf,
        /// The store error.
        source: fedlink_proto::audit::store::StoreError,
    },
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}")]
    DataDir {
        /// The folder.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The port could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS or gRPC setup or serving failed.
    #[error("gRPC server: {0}")]
    Transport(String),
    /// The start-up audit entry could not be written.
    #[error("cannot write the start-up audit entry: {0}")]
    StartEntry(String),
    /// The witness state could not be opened.
    #[error("cannot open the witness state at {path}: {problem}")]
    WitnessState {
        /// Where it lives.
        path: std::path::PathBuf,
        /// What failed.
        problem: String,
    },
    /// The subject-token key could not be read or made.
    #[error("cannot open the subject-token key")]
    SubjectTokenKey(#[from] crate::subject_tokens::KeyFileError),
    /// The public geography lookup could not be loaded.
    #[error("cannot load the geography lookup")]
    GeographyLookup(#[from] crate::dataset::geography::LookupError),
}

/// A node that has opened its log and bound its port, ready to serve.
pub struct BoundNode {
    state: Arc<NodeState>,
    listener: TcpListener,
    tls: ServerTlsConfig,
    addr: SocketAddr,
    /// The node's witness of the coordinator's log.
    witness: Arc<WitnessCore>,
    /// Independent witnesses of this node's log, how often to send them checkpoints, and the
    /// TLS material to reach them.
    witnesses: (Vec<fedlink_proto::witness::ConfiguredWitness>, std::time::Duration, ClientPem),
}

impl BoundNode {
    /// Opens the log, writes the start-up entry and binds the port.
    pub async fn bind(settings: NodeSettings) -> Result<Self, ServeError> {
        let clock: Arc<dyn Clock> = if settings.danger_clock_offset_s != 0 {
            tracing::warn!(
                offset_s = settings.danger_clock_offset_s,
                "danger_clock_offset_s is set: this node's clock is deliberately wrong"
            );
            Arc::new(SystemClock::danger_with_offset_s(settings.danger_clock_offset_s))
        } else {
            Arc::new(SystemClock::new())
        };
        if settings.danger_exact_linked_counts {
            tracing::warn!(
                "danger_exact_linked_counts is set: linked tables leave this node without noise \
                 or disclosure control; for tests only"
            );
        }
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| ServeError::DataDir { path: settings.data_dir.clone(), source })?;
        let log_path = settings.data_dir.join("audit.db");
        let origin = settings.me.log_origin(&settings.federation.name);
        let identity = settings
            .identity
            .try_clone()
            .map_err(|e| ServeError::StartEntry(format!("identity key: {e}")))?;
        let witness_identity = settings
            .identity
            .try_clone()
            .map_err(|e| ServeError::StartEntry(format!("identity key: {e}")))?;
        let log = AuditLog::open(&log_path, &origin, settings.identity, Arc::clone(&clock))
            .map_err(|source| ServeError::AuditLog { path: log_path.clone(), source })?;
        let audit =
            AuditGate::new(log, Arc::clone(&clock), settings.policy.audit.payload_retention_days);
        audit
            .system_event(
                pb::EventType::ServiceStart,
                format!(
                    "node {} started, version {}, policy {}",
                    settings.me.name,
                    env!("CARGO_PKG_VERSION"),
                    settings.policy.policy_id
                ),
            )
            .map_err(|e| ServeError::StartEntry(e.to_string()))?;
        let subject_tokens =
            Arc::new(crate::subject_tokens::SubjectTokenKey::load_or_create(&settings.data_dir)?);
        // The retention sweep: payloads whose retention ended while the node was down go now.
        let node = crate::gate::local_actor(&settings.me.name, &settings.me.organisation, None);
        if let Some((erasure, index)) = audit
            .erase_expired_payloads(node)
            .map_err(|e| ServeError::StartEntry(format!("payload retention sweep: {e}")))?
        {
            tracing::info!(
                payloads = erasure.count,
                first = erasure.first_index,
                last = erasure.last_index,
                entry = index,
                "erased audit payloads whose retention ended"
            );
        }

        if let Some(path) = &settings.geography_lookup {
            load_geography_lookup(path, &settings.data_dir.join("datasets.db"))?;
        }

        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(&settings.cert_pem, &settings.key_pem))
            .client_ca_root(Certificate::from_pem(&settings.ca_pem));
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| ServeError::Bind { addr: settings.listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr: settings.listen, source })?;
        let client_pem = ClientPem {
            ca: settings.ca_pem.clone(),
            cert: settings.cert_pem.clone(),
            key: settings.key_pem.clone(),
        };
        let witness_path = settings.data_dir.join("witness.db");
        let witness_state = WitnessState::open(&witness_path).map_err(|e| {
            ServeError::WitnessState { path: witness_path.clone(), problem: e.to_string() }
        })?;
        let state = Arc::new(NodeState {
            datasets: settings.datasets,
            data_dir: settings.data_dir.clone(),
            me: settings.me,
            federation: settings.federation,
            policy: settings.policy,
            audit,
            identity,
            sessions: Default::default(),
            subject_tokens,
            danger_exact_linked_counts: settings.danger_exact_linked_counts,
        });
        let witness = node_witness(
            witness_state,
            &state.federation,
            &state.me.name,
            witness_identity,
            Arc::clone(&state),
            clock,
        )
        .map(Arc::new)
        .map_err(|e| ServeError::WitnessState { path: witness_path, problem: e.to_string() })?;
        let witnesses = (settings.witnesses, settings.witness_push_every, client_pem);
        Ok(Self { state, listener, tls, addr, witness, witnesses })
    }

    /// The address actually bound (useful when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and returns.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let transport = |e: &dyn std::fmt::Display| ServeError::Transport(e.to_string());
        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<pb::node_server::NodeServer<NodeService>>().await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| transport(&e))?;
        let reflection_alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| transport(&e))?;

        let members = MemberCheck(Arc::new(self.state.federation.clone()));
        let node = pb::node_server::NodeServer::new(NodeService::new(Arc::clone(&self.state)))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let witness =
            pb::witness_server::WitnessServer::new(WitnessService::new(Arc::clone(&self.witness)));
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        // Expired linkage sessions are dropped (and their scalars zeroised) within seconds, not
        // only when the next linked query touches the session table.
        let reaper_state = Arc::clone(&self.state);
        let reaper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SESSION_REAP_EVERY);
            loop {
                tick.tick().await;
                reaper_state.sessions.reap(reaper_state.audit.now_ms());
            }
        });
        let (witnesses, every, client_pem) = self.witnesses;
        let pusher = (!witnesses.is_empty()).then(|| {
            tokio::spawn(push::run(Arc::clone(&self.state), witnesses, client_pem, every))
        });
        tracing::info!(member = %self.state.me.name, addr = %self.addr, "serving over mTLS");
        Server::builder()
            .tls_config(self.tls)
            .map_err(|e| transport(&e))?
            .add_service(InterceptedService::new(health, members.clone()))
            .add_service(InterceptedService::new(reflection, members.clone()))
            .add_service(InterceptedService::new(reflection_alpha, members.clone()))
            .add_service(InterceptedService::new(witness, members))
            .add_service(node)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(|e| transport(&e))?;
        reaper.abort();
        if let Some(pusher) = pusher {
            pusher.abort();
        }
        tracing::info!(member = %self.state.me.name, "stopped");
        Ok(())
    }
}

/// Lets through only peers whose certificate is listed in the federation file.
#[derive(Clone)]
pub(crate) struct MemberCheck(pub(crate) Arc<Federation>);

impl tonic::service::Interceptor for MemberCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let listed = request
            .peer_certs()
            .and_then(|certs| certs.first().map(|leaf| cert_fingerprint(leaf.as_ref())))
            .is_some_and(|fp| self.0.member_by_fingerprint(&fp).is_some());
        if listed {
            Ok(request)
        } else {
            Err(Status::permission_denied(
                "client certificate is not listed in the federation file",
            ))
        }
    }
}

/// Loads the public geography lookup into the dataset store, replacing what was there.
fn load_geography_lookup(
    path: &std::path::Path,
    datasets_db: &std::path::Path,
) -> Result<(), ServeError> {
    use crate::dataset::geography::{LookupError, read_lookup, store_lookup};
    let lookup = read_lookup(path)?;
    let mut conn = rusqlite::Connection::open(datasets_db).map_err(LookupError::Store)?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(LookupError::Store)?;
    store_lookup(&mut conn, &lookup)?;
    tracing::info!(lsoas = lookup.len(), file = %path.display(), "geography lookup loaded");
    Ok(())
}
