//! `fedlink node serve`: run an agency node until SIGTERM or Ctrl-C.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use fedlink_node::config::NodeSettings;
use fedlink_node::server::BoundNode;

/// Serve this node's gRPC service over mTLS
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The node's config file (written by `fedlink federation init`, or your own)
    #[arg(long)]
    pub config: PathBuf,
}

/// Loads the config, opens the log, binds, and serves until a shutdown signal.
pub async fn serve(args: &ServeArgs) -> Result<()> {
    let settings = NodeSettings::load(&args.config)?;
    let member = settings.me.name.clone();
    let node = BoundNode::bind(settings).await?;
    // Handlers are registered before the node says it is ready, so a SIGTERM sent the moment
    // it is up still stops it gracefully rather than killing it.
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    // The one line tests and scripts wait for; everything else goes to the tracing log.
    println!("fedlink node {member} listening on {}", node.local_addr());
    node.serve(shutdown).await.context("serving")?;
    Ok(())
}

/// Registers SIGTERM and SIGINT (Ctrl-C) handlers now; the future resolves on either.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = interrupt.recv() => tracing::info!("Ctrl-C: shutting down"),
        }
    })
}
