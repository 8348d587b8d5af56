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

/// Import CSV extracts into one of this node's datasets
///
/// Every row is validated and normalised; rows that cannot be accepted go to quarantine with
/// their line number and the reason. Re-importing the same file changes nothing; a changed row
/// replaces its earlier version. Each import is logged as a COLLECTION event.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The dataset to import into (a [[dataset]] of the node config)
    #[arg(long)]
    pub dataset: String,
    /// Who is importing, for the audit log (default: $USER)
    #[arg(long, env = "USER", default_value = "operator")]
    pub operator: String,
    /// CSV files to import, in order
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs `node import`: exit 0 when every file imported and reconciled.
pub fn import(args: &ImportArgs) -> Result<()> {
    use std::io::IsTerminal as _;

    let settings = NodeSettings::load(&args.config)?;
    let clock: std::sync::Arc<dyn fedlink_proto::clock::Clock> =
        std::sync::Arc::new(fedlink_proto::clock::SystemClock::new());
    let mut collector = fedlink_node::dataset::collect::Collector::open(settings, clock)?;
    for file in &args.files {
        let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(format!("importing {}", file.display()));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let summary = collector
            .import(&args.dataset, file, &args.operator, &|bytes| bar.set_position(bytes))
            .with_context(|| format!("importing {} into {}", file.display(), args.dataset))?;
        bar.finish_and_clear();
        print!("{}", render_summary(&summary));
    }
    Ok(())
}

/// The import summary as printed: the reconciliation, what was quarantined and why, what was
/// set aside, and the throughput.
pub fn render_summary(s: &fedlink_node::dataset::import::ImportSummary) -> String {
    use std::fmt::Write as _;
    let c = &s.counts;
    let mut out = String::new();
    let _ = writeln!(out, "{} <- {}", s.dataset, s.source);
    let _ = writeln!(out, "  rows read     {:>10}", c.rows_read);
    let _ = writeln!(
        out,
        "  accepted      {:>10}   ({} new, {} replaced)",
        c.inserted + c.replaced,
        c.inserted,
        c.replaced
    );
    let _ = writeln!(out, "  unchanged     {:>10}", c.unchanged);
    let _ = writeln!(out, "  quarantined   {:>10}", c.quarantined);
    for (kind, (n, example)) in &s.quarantine {
        let _ = writeln!(out, "    {n:>8}  {kind}: e.g. {example}");
    }
    if !s.set_aside.is_empty() {
        let _ = writeln!(out, "  kept, with an identifier set aside:");
        for (kind, n) in &s.set_aside {
            let _ = writeln!(out, "    {n:>8}  {}", kind.describe());
        }
    }
    let _ = writeln!(
        out,
        "  {} rows in {:.2} s ({:.0} rows/s, {:.1} MB/s); reconciled: {} = {} + {} + {} + {}",
        c.rows_read,
        s.seconds,
        s.rows_per_second(),
        s.bytes as f64 / 1e6 / s.seconds.max(1e-9),
        c.rows_read,
        c.inserted,
        c.replaced,
        c.unchanged,
        c.quarantined
    );
    out
}
