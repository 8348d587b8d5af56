//! The independent witness (`fedlink witness serve`; design-review F14): a partner's DPO, an
//! auditor or the PCC runs the Witness service alone, over the federation's mTLS, for the logs
//! its config names (the coordinator's and the police node's, whose only other holder is the
//! police coordinator). It holds no data and no log of its own: only the last checkpoint it
//! cosigned of each log, and the alarms.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fedlink_proto::audit::checkpoint::{NoteVerifier, valid_key_name};
use fedlink_proto::audit::cosignature::Cosigner;
use fedlink_proto::clock::SystemClock;
use fedlink_proto::federation::{Federation, TlsFiles};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::config::ConfigError;
use crate::server::{MemberCheck, ServeError};
use crate::witness::service::{WitnessCore, WitnessService};
use crate::witness::state::{WitnessState, WitnessedLog, WitnessedLogs};

/// The witness's config file as written (`witness.toml`). Paths are relative to its folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfigFile {
    /// The name its cosignatures carry, e.g. "fedlink.witness/demo-county/dpo".
    pub name: String,
    /// Path of the federation file: the witnessed logs' keys, and who may connect.
    pub federation: PathBuf,
    /// Address and port to serve on, e.g. "0.0.0.0:7600".
    pub listen: String,
    /// Folder for `witness.db`.
    pub data_dir: PathBuf,
    /// PEM of the Ed25519 key it cosigns with (PKCS#8).
    pub identity_key: PathBuf,
    /// The federation members whose logs it witnesses, e.g. ["coordinator", "police"].
    pub logs: Vec<String>,
    /// Its TLS certificate and key, and the federation CA.
    pub tls: TlsFiles,
}

/// Everything the witness needs, read and checked.
pub struct WitnessSettings {
    /// The name its cosignatures carry.
    pub name: String,
    /// The federation.
    pub federation: Federation,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Folder for its state.
    pub data_dir: PathBuf,
    /// Its cosigning key.
    pub identity: IdentityKey,
    /// The logs it witnesses.
    pub logs: WitnessedLogs,
    /// PEM text of the federation CA.
    pub ca_pem: String,
    /// PEM text of its certificate.
    pub cert_pem: String,
    /// PEM text of its TLS key.
    pub key_pem: String,
}

impl WitnessSettings {
    /// Reads the config file and everything it names.
    pub fn load(config_path: &Path) -> Result<Self, ConfigError> {
        let invalid = |path: &Path, problem: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            problem,
        };
        let text = read(config_path, "the witness config")?;
        let file: WitnessConfigFile =
            toml::from_str(&text).map_err(|e| invalid(config_path, e.to_string()))?;
        let base = config_path.parent().unwrap_or(Path::new("."));
        let at = |p: &Path| base.join(p);
        let fed_path = at(&file.federation);
        let federation = Federation::from_toml(&read(&fed_path, "the federation file")?)
            .map_err(|e| invalid(&fed_path, e.to_string()))?;
        if !valid_key_name(&file.name) {
            return Err(invalid(
                config_path,
                format!("key `name`: {:?} cannot name a cosigner (no spaces, no '+')", file.name),
            ));
        }
        if file.logs.is_empty() {
            return Err(invalid(config_path, "key `logs`: name at least one member".into()));
        }
        let mut logs = Vec::new();
        for member in &file.logs {
            let m = federation.member(member).ok_or_else(|| {
                invalid(
                    config_path,
                    format!("key `logs`: {member:?} is not a member of {}", fed_path.display()),
                )
            })?;
            let origin = m.log_origin(&federation.name);
            logs.push(WitnessedLog {
                verifier: NoteVerifier::new(&origin, m.public_key),
                origin,
                owner: m.name.clone(),
                owner_cosigner: None,
            });
        }
        let key_path = at(&file.identity_key);
        let identity = IdentityKey::from_pkcs8_pem(&read(&key_path, "the identity key")?)
            .map_err(|e| invalid(&key_path, e.to_string()))?;
        let listen = file.listen.parse().map_err(|e| {
            invalid(
                config_path,
                format!("key `listen`: {:?} is not an address:port ({e})", file.listen),
            )
        })?;
        Ok(Self {
            name: file.name,
            federation,
            listen,
            data_dir: at(&file.data_dir),
            identity,
            logs: WitnessedLogs::new(logs),
            ca_pem: read(&at(&file.tls.ca_cert), "the CA certificate (key `tls.ca_cert`)")?,
            cert_pem: read(&at(&file.tls.cert), "the witness certificate (key `tls.cert`)")?,
            key_pem: read(&at(&file.tls.key), "the witness TLS key (key `tls.key`)")?,
        })
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// A witness that has opened its state and bound its port.
pub struct BoundWitness {
    core: Arc<WitnessCore>,
    federation: Arc<Federation>,
    listener: TcpListener,
    tls: ServerTlsConfig,
    addr: SocketAddr,
}

impl BoundWitness {
    /// Opens the state and binds the port.
    pub async fn bind(settings: WitnessSettings) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| ServeError::DataDir { path: settings.data_dir.clone(), source })?;
        let path = settings.data_dir.join("witness.db");
        let state = WitnessState::open(&path)
            .map_err(|e| ServeError::WitnessState { path: path.clone(), problem: e.to_string() })?;
        let cosigner = Cosigner::new(&settings.name, settings.identity)
            .map_err(|e| ServeError::WitnessState { path, problem: e.to_string() })?;
        let core = Arc::new(WitnessCore::new(
            state,
            settings.logs,
            cosigner,
            Arc::new(SystemClock::new()),
            None,
        ));
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(&settings.cert_pem, &settings.key_pem))
            .client_ca_root(Certificate::from_pem(&settings.ca_pem));
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| ServeError::Bind { addr: settings.listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr: settings.listen, source })?;
        Ok(Self { core, federation: Arc::new(settings.federation), listener, tls, addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The origins witnessed.
    pub fn origins(&self) -> Vec<String> {
        self.core.logs().iter().map(|l| l.origin.clone()).collect()
    }

    /// Serves until `shutdown` completes. Only federation members may connect (their
    /// certificates are listed); the checkpoint's signature is what the witness trusts.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let transport = |e: &dyn std::fmt::Display| ServeError::Transport(e.to_string());
        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<pb::witness_server::WitnessServer<WitnessService>>().await;
        let members = MemberCheck(Arc::clone(&self.federation));
        let witness = pb::witness_server::WitnessServer::new(WitnessService::new(self.core));
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        Server::builder()
            .tls_config(self.tls)
            .map_err(|e| transport(&e))?
            .add_service(InterceptedService::new(health, members.clone()))
            .add_service(InterceptedService::new(witness, members))
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(|e| transport(&e))?;
        Ok(())
    }
}
