//! Connections to nodes: mTLS with the coordinator's client certificate, the federation CA, and
//! the node's listed TLS name. Also how a transport failure is told apart from a refusal.

use std::time::Duration;

use fedlink_proto::federation::Member;
use fedlink_proto::pb;
use fedlink_proto::pb::node_client::NodeClient;
use fedlink_proto::pb::witness_client::WitnessClient;
use fedlink_proto::refusal::{RECEIPT_HEADER, REFUSAL_HEADER};
use prost::Message as _;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// PEM text of the TLS material a client presents.
#[derive(Clone)]
pub struct ClientTls {
    /// The CA that signs node certificates.
    pub ca_pem: String,
    /// The client certificate.
    pub cert_pem: Option<String>,
    /// The client key.
    pub key_pem: Option<String>,
}

/// Why a node could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The member has no endpoint or it is not a URL.
    #[error("bad endpoint {endpoint:?}: {problem}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// What is wrong.
        problem: String,
    },
    /// TCP or TLS failed.
    #[error("unreachable at {endpoint}: {problem}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// The error chain.
        problem: String,
    },
}

/// How long a call may take and how large its messages may be, for every call on one
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// The deadline of each call on the connection.
    pub timeout: Duration,
    /// The largest message sent or accepted, in bytes.
    pub max_message_bytes: usize,
}

impl CallLimits {
    /// Describe and aggregate calls: answered at once, tables of a few thousand cells.
    pub const QUERY: CallLimits =
        CallLimits { timeout: Duration::from_secs(30), max_message_bytes: 16 * 1024 * 1024 };
}

/// Opens an mTLS connection to a node's `Node` service, with [`CallLimits::QUERY`].
pub async fn connect(node: &Member, tls: &ClientTls) -> Result<NodeClient<Channel>, ConnectError> {
    connect_with(node, tls, CallLimits::QUERY).await
}

/// Opens an mTLS connection to a node's `Node` service with the given limits.
pub async fn connect_with(
    node: &Member,
    tls: &ClientTls,
    limits: CallLimits,
) -> Result<NodeClient<Channel>, ConnectError> {
    Ok(NodeClient::new(open_channel(node, tls, limits.timeout).await?)
        .max_decoding_message_size(limits.max_message_bytes)
        .max_encoding_message_size(limits.max_message_bytes))
}

/// Opens an mTLS channel to a node (for any of its services: Node, health, reflection).
pub async fn connect_channel(node: &Member, tls: &ClientTls) -> Result<Channel, ConnectError> {
    open_channel(node, tls, CallLimits::QUERY.timeout).await
}

/// Opens an mTLS channel whose calls each time out after `timeout`.
async fn open_channel(
    node: &Member,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<Channel, ConnectError> {
    let endpoint = node.endpoint.clone().unwrap_or_default();
    open_endpoint(&endpoint, node.tls_name.as_deref(), tls, timeout).await
}

/// Opens an mTLS connection to a witness's `Witness` service (a node's, or an independent
/// witness's at `address`), with [`CallLimits::QUERY`].
pub async fn connect_witness(
    address: &str,
    tls_name: Option<&str>,
    tls: &ClientTls,
) -> Result<WitnessClient<Channel>, ConnectError> {
    Ok(WitnessClient::new(open_endpoint(address, tls_name, tls, CallLimits::QUERY.timeout).await?))
}

/// Opens an mTLS channel to `endpoint` (`https://HOST:PORT`), expecting `tls_name` (or the
/// host) in the server's certificate.
async fn open_endpoint(
    endpoint: &str,
    tls_name: Option<&str>,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<Channel, ConnectError> {
    let bad = |problem: String| ConnectError::Endpoint { endpoint: endpoint.to_string(), problem };
    let host = endpoint
        .split("://")
        .nth(1)
        .and_then(|rest| rest.rsplit_once(':').map(|(h, _)| h.to_string()))
        .ok_or_else(|| bad("expected https://HOST:PORT".into()))?;
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&tls.ca_pem))
        .domain_name(tls_name.map_or(host, str::to_string));
    if let (Some(cert), Some(key)) = (&tls.cert_pem, &tls.key_pem) {
        config = config.identity(Identity::from_pem(cert, key));
    }
    let channel = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| bad(e.to_string()))?
        .tls_config(config)
        .map_err(|e| bad(e.to_string()))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(3))
        .timeout(timeout)
        .connect()
        .await
        .map_err(|e| ConnectError::Unreachable {
            endpoint: endpoint.to_string(),
            problem: chain(&e),
        })?;
    Ok(channel)
}

/// An error and all its sources on one line. TLS rejections hide in the sources: tonic reports
/// them as "transport error" (rust-stack.md §4).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// What a failed call means to the analyst.
#[derive(Debug, Clone)]
pub enum CallFailure {
    /// The node answered with a refusal naming its rule.
    Refused {
        /// The rule name from the `fedlink-refusal` header.
        rule: String,
        /// The node's message.
        message: String,
        /// The gRPC code.
        code: tonic::Code,
    },
    /// The node could not be reached or the connection broke.
    Down(String),
}

impl CallFailure {
    /// Classifies a status from a node.
    pub fn from_status(status: &tonic::Status) -> Self {
        match status.metadata().get(REFUSAL_HEADER).and_then(|v| v.to_str().ok()) {
            Some(rule) => CallFailure::Refused {
                rule: rule.to_string(),
                message: status.message().to_string(),
                code: status.code(),
            },
            None => CallFailure::Down(format!("{}: {}", status.code(), chain(status))),
        }
    }
}

/// The receipt a node sends with a refusal (the audit entry that logged it), decoded but not
/// yet verified; `None` when there is none or it does not decode.
pub fn refusal_receipt(status: &tonic::Status) -> Option<pb::Receipt> {
    let bytes = status.metadata().get_bin(RECEIPT_HEADER)?.to_bytes().ok()?;
    pb::Receipt::decode(bytes.as_ref()).ok()
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Refused { rule, message, .. } => write!(f, "refused ({rule}): {message}"),
            CallFailure::Down(problem) => write!(f, "down: {problem}"),
        }
    }
}
