//! One more run of the query inside the bench process, through the coordinator library, with a
//! transport that times every LinkOpen and LinkStep call, weighs its request and response, and
//! names the sealed messages in the order the nodes produce them (M1, M2, M3).

use std::path::Path;
use std::time::Instant;

use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::relay::{LinkTransport, MAX_ROUNDS, NodeTransport};
use fedlink_coordinator::link::{DEFAULT_STEP_TIMEOUT, link_with};
use fedlink_proto::pb;
use prost::Message as _;

use super::BoxError;

/// One timed call of the instrumented run.
pub struct Call {
    /// The node called.
    pub member: String,
    /// A LinkOpen rather than a LinkStep.
    pub open: bool,
    /// The call and what went in and out, for the report.
    pub what: String,
    /// Names of the sealed messages the call carried to the node (M1, M2, M3).
    pub received: Vec<String>,
    /// Wall time of the call, as the coordinator saw it.
    pub seconds: f64,
    /// The request, protobuf-encoded.
    pub request_bytes: usize,
    /// The response, protobuf-encoded.
    pub response_bytes: usize,
}

/// The real transport, every call timed and its messages weighed and named in the order the
/// nodes produce them (M1, M2, M3).
struct Timed<'a> {
    inner: NodeTransport<'a>,
    calls: Vec<Call>,
    /// Names of the messages produced and not yet delivered, in order.
    pending: Vec<String>,
    /// Messages produced so far.
    produced: usize,
}

impl LinkTransport for Timed<'_> {
    async fn open(
        &mut self,
        member: &str,
        envelope: pb::SignedEnvelope,
    ) -> Result<pb::LinkOpened, tonic::Status> {
        let request_bytes = envelope.encoded_len();
        let started = Instant::now();
        let opened = self.inner.open(member, envelope).await?;
        self.calls.push(Call {
            member: member.into(),
            open: true,
            what: "LinkOpen: envelope in, hello out".into(),
            received: Vec::new(),
            seconds: started.elapsed().as_secs_f64(),
            request_bytes,
            response_bytes: opened.encoded_len(),
        });
        Ok(opened)
    }

    async fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> Result<pb::LinkStepResponse, tonic::Status> {
        let take = request.messages.len().min(self.pending.len());
        let received: Vec<String> = self.pending.drain(..take).collect();
        let mut inbound = received.clone();
        if !request.hellos.is_empty() {
            inbound.insert(0, "hello".into());
        }
        let request_bytes = request.encoded_len();
        let started = Instant::now();
        let response = self.inner.step(member, request).await?;
        let seconds = started.elapsed().as_secs_f64();
        let mut outbound = Vec::new();
        for _ in &response.outgoing {
            self.produced += 1;
            let name = format!("M{}", self.produced);
            outbound.push(name.clone());
            self.pending.push(name);
        }
        if response.outcome.is_some() {
            outbound.push("outcome".into());
        }
        let what = format!(
            "LinkStep: {} in, {} out",
            inbound.join("+"),
            if outbound.is_empty() { "nothing".into() } else { outbound.join("+") }
        );
        self.calls.push(Call {
            member: member.into(),
            open: false,
            what,
            received,
            seconds,
            request_bytes,
            response_bytes: response.encoded_len(),
        });
        Ok(response)
    }
}

/// Runs the query once through [`Timed`] and returns its calls; a failed query is an error.
pub fn instrumented_run(config: &Path, query_file: &Path) -> Result<Vec<Call>, BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let coordinator = Coordinator::open(CoordinatorSettings::load(config)?)?;
    let query = LinkQuery::load(query_file, None)?;
    let mut transport = Timed {
        inner: NodeTransport::new(
            &coordinator.settings().federation,
            coordinator.client_tls(),
            DEFAULT_STEP_TIMEOUT,
        ),
        calls: Vec::new(),
        pending: Vec::new(),
        produced: 0,
    };
    let started = Instant::now();
    let run = runtime.block_on(link_with(
        &coordinator,
        &query,
        &QueryOverrides::default(),
        &mut transport,
        None,
        MAX_ROUNDS,
    ));
    let wall = started.elapsed().as_secs_f64();
    if !run.ok() {
        return Err(format!("instrumented run failed: {}", run.failures().join("; ")).into());
    }
    println!(
        "\ninstrumented run (in process, same query, no process start): {wall:.2} s; relay {} \
         rounds, {} sealed messages",
        run.rounds, run.carried.1
    );
    Ok(transport.calls)
}
