//! `fedlink demo`: a whole federation on this machine. Creates it, generates a synthetic county
//! and imports each agency's extracts, starts every node as its own process on loopback, runs
//! `describe` and the ICB's calibration run, then produces the homicide-prevention analytical
//! report (deploy/catalogue/homicide-prevention.toml) for the synthetic county; stops the
//! nodes, verifies and reconciles every audit log, and says where the report is.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::describe::{describe_all, render};
use fedlink_coordinator::report::catalogue::Catalogue;
use fedlink_proto::audit::verify::verify_log;
use fedlink_proto::federation::{Federation, MemberRole};

use crate::cli::federation::{InitArgs, init};
use crate::cli::report::{Produced, parse_report_period, produce};
use crate::cli::{Outcome, county};

/// The report period of the demo: the synthetic county's last financial year.
const DEMO_PERIOD: &str = "2025-04-01..2026-03-31";

/// The default report catalogue, shipped in `deploy/catalogue/` and written into the demo folder.
const CATALOGUE: &str = include_str!("../../deploy/catalogue/homicide-prevention.toml");

/// Run the demo: a synthetic county federation on loopback, end to end
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder for the demo federation (default: a new folder under the system temp dir)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Size of the synthetic county relative to 1.1 million people
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Seed of the synthetic county
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Node processes, stopped (SIGTERM, then kill) when dropped, so a failing demo leaves none.
struct Nodes(Vec<(String, Child)>);

impl Nodes {
    /// Stops every node; returns each name with whether it stopped gracefully.
    fn stop(&mut self) -> Vec<(String, bool)> {
        let mut stopped = Vec::new();
        for (_, child) in &mut self.0 {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, child) in &mut self.0 {
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        stopped.push((name.clone(), status.success()));
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        eprintln!("fedlink: node {name} did not stop on SIGTERM; killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        stopped.push((name.clone(), false));
                        break;
                    }
                }
            }
        }
        self.0.clear();
        stopped
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> Result<Outcome> {
    let started = Instant::now();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => tempfile::Builder::new()
            .prefix("fedlink-demo-")
            .tempdir()
            .context("creating a temporary folder")?
            .keep(),
    };
    println!("== 1. Creating the federation in {}", dir.display());
    let init_args = InitArgs {
        dir: dir.clone(),
        name: "demo-county".into(),
        nodes: vec!["police".into(), "icb".into(), "council-east".into(), "council-west".into()],
        coordinator: "coordinator".into(),
        host: "127.0.0.1".into(),
        base_port: 0,
    };
    let created = init(&init_args)?;

    let synth_dir = dir.join("county");
    println!(
        "\n== 2. Generating the synthetic county (scale {}, seed {}) in {}",
        args.scale,
        args.seed,
        synth_dir.display()
    );
    let config = fedlink_synth::config::SynthConfig::new(args.scale, args.seed);
    let summary = fedlink_synth::generate(&config, &synth_dir, &mut |step| {
        eprintln!("   {step}");
    })
    .context("generating the synthetic county")?;
    println!(
        "   {} people, {} records in {} datasets, in {:.1} s (the truth bundle is in {})",
        summary.people,
        summary.datasets.iter().map(|d| d.rows).sum::<u64>(),
        summary.datasets.len(),
        summary.generation_seconds,
        synth_dir.join("truth").display()
    );

    println!("\n== 3. Importing each agency's extracts into its own node\n");
    let mut imports = Vec::new();
    for (name, config) in &created.node_configs {
        let datasets = county::attach(config, &synth_dir.join(name))?;
        county::attach_analysis(name, config, &synth_dir.join("public"))?;
        for s in county::import_all(config, &datasets, "demo")? {
            imports.push((name.clone(), s));
        }
    }
    print!("{}", county::render_table(&imports));

    println!("\n== 4. Starting {} nodes as separate processes", created.node_configs.len());
    let exe = std::env::current_exe().context("finding the fedlink executable")?;
    let mut nodes = Nodes(Vec::new());
    for (name, config) in &created.node_configs {
        let child = start_node(&exe, name, config)?;
        nodes.0.push((name.clone(), child));
    }
    for (name, child) in &mut nodes.0 {
        let line = wait_ready(name, child)?;
        println!("   {line}");
    }

    println!("\n== 5. coordinator describe (signed requests, verified receipts)\n");
    let settings = CoordinatorSettings::load(&created.coordinator_config)?;
    let coordinator = Coordinator::open(settings)?;
    let rows = describe_all(&coordinator, &QueryOverrides::default()).await;
    print!("{}", render(&rows));
    let all_up = rows.iter().all(|r| r.ok());

    println!(
        "\n== 6. Calibration run: the ICB fits its linkage model on all death reports (only its \
         version and digest leave the ICB)"
    );
    let icb_config = created
        .node_configs
        .iter()
        .find(|(name, _)| name == "icb")
        .map(|(_, config)| config.clone())
        .context("the demo federation has no icb node")?;
    let calibrated = super::demo_link::calibrate(&dir, &coordinator).await?;

    let report_dir = dir.join("report");
    println!(
        "\n== 7. The homicide-prevention analytical report for {DEMO_PERIOD} (every query signed, \
         protected at the node it asks, receipts verified; a line per query)\n"
    );
    let report_started = Instant::now();
    let produced = demo_report(&dir, &coordinator, &icb_config, &report_dir).await?;
    println!(
        "\n   {} of {} queries answered in {:.1} s{}",
        produced.answered,
        produced.queries,
        report_started.elapsed().as_secs_f64(),
        if produced.complete() {
            ""
        } else {
            " (the report names the others, with the rule that refused them)"
        }
    );
    // Mutual cosigning (F14): every node the report asked cosigns the coordinator's log, and
    // takes the coordinator's cosignatures of its own checkpoints.
    let witnessed = fedlink_coordinator::witness::exchange_cosignatures(&coordinator).await;
    if let Some(summary) = witnessed.summary() {
        println!("   {summary}");
    }
    for warning in witnessed.warnings() {
        println!("   WARNING: {warning}");
    }
    drop(coordinator);

    println!("\n== 8. Stopping the nodes (SIGTERM)");
    let mut all_graceful = true;
    for (name, graceful) in nodes.stop() {
        all_graceful &= graceful;
        println!("   {name:<13} {}", if graceful { "stopped" } else { "did NOT stop cleanly" });
    }

    println!("\n== 9. Verifying every audit log offline, then reconciling them");
    let federation = Federation::from_toml(
        &std::fs::read_to_string(&created.federation_file)
            .context("reading the federation file")?,
    )?;
    let mut all_verified = true;
    for member in federation.members() {
        let log = dir.join(&member.name).join("data/audit.db");
        match verify_log(&log, Some(&member.public_key)) {
            Ok(r) => println!(
                "   {:<13} OK  {:>3} entries, {:>3} checkpoints  {}",
                member.name,
                r.size,
                r.checkpoints,
                log.display()
            ),
            Err(e) => {
                all_verified = false;
                println!("   {:<13} FAILED  {e}", member.name);
            }
        }
    }

    let reconciled = reconcile_audit_logs(&dir, &federation)?;

    println!(
        "\n== Done in {:.1} s. Everything is in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    println!("\n   Open the report:  {}", report_dir.join("report.html").display());
    println!(
        "   its tables (CSV): {}\n   its manifest:     {} (every number -> query -> receipt)",
        report_dir.join("tables").display(),
        report_dir.join("manifest.json").display()
    );
    if produced.restricted {
        println!(
            "   restricted annex (police only, not part of the report): {}",
            report_dir.join("restricted").display()
        );
    }
    print_next_steps(&dir, &created.coordinator_config, &created.node_configs);
    if !all_up || !calibrated || !all_verified || !all_graceful || !reconciled {
        bail!("the demo did not complete cleanly (see above)");
    }
    Ok(Outcome::Success)
}

/// Writes the default catalogue next to the county (its population path is relative to it) and
/// produces the report into `out`, playing the ICB's operator for the catalogue's flag-back.
async fn demo_report(
    dir: &Path,
    coordinator: &Coordinator,
    icb_config: &Path,
    out: &Path,
) -> Result<Produced> {
    let path = dir.join("catalogue.toml");
    std::fs::write(&path, CATALOGUE).with_context(|| format!("writing {}", path.display()))?;
    let catalogue = Catalogue::load(&path)?;
    let period = parse_report_period(DEMO_PERIOD)?;
    let approver = super::demo_link::Approver::start(icb_config)?;
    let produced = produce(coordinator, &catalogue, period, out, Duration::from_secs(120)).await;
    approver.stop();
    produced
}

/// Reconciles the coordinator's log and receipt store with every node's log, query by query,
/// each log pinned to its key in the federation file (`fedlink audit reconcile`): prints one
/// line per member and any findings; returns whether the logs agree.
fn reconcile_audit_logs(dir: &Path, federation: &Federation) -> Result<bool> {
    let coordinator = federation
        .members()
        .find(|m| m.role == MemberRole::Coordinator)
        .context("the demo federation has no coordinator")?;
    let nodes: Vec<PathBuf> = federation.nodes().map(|m| dir.join(&m.name)).collect();
    let report = crate::cli::audit::reconcile::reconcile_logs(
        &dir.join(&coordinator.name),
        None,
        &nodes,
        Some(&dir.join("federation.toml")),
    )?;
    for (member, size, _) in &report.logs {
        let checked: u64 =
            report.checked.iter().filter(|((m, _), _)| m == member).map(|(_, n)| n).sum();
        let findings = report.findings.iter().filter(|f| &f.member == member).count();
        println!(
            "   {member:<13} {}  {size:>3} entries, {checked:>3} checks",
            if findings == 0 { "agrees" } else { "FINDINGS" }
        );
    }
    if report.is_clean() {
        println!("   reconcile: CLEAN: every query, receipt, result hash and relay digest agrees");
    } else {
        print!("{}", fedlink_coordinator::reconcile::render_text(&report));
    }
    Ok(report.is_clean())
}

fn start_node(exe: &Path, name: &str, config: &Path) -> Result<Child> {
    let log_path = config.with_file_name("node.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    Command::new(exe)
        .args(["node", "serve", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting node {name}"))
}

/// Waits for the node's "listening on" line; a node that exits first has its log shown.
fn wait_ready(name: &str, child: &mut Child) -> Result<String> {
    let stdout = child.stdout.take().context("node stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("listening on") => return Ok(line),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!("node {name} exited during start-up ({status}); see its node.log");
                }
            }
            Err(_) => bail!("node {name} did not start within 30 s; see its node.log"),
        }
    }
}

fn print_next_steps(dir: &Path, coordinator: &Path, nodes: &[(String, PathBuf)]) {
    println!(
        "\n   federation file   {}\n   dev CA            {}\n   node logs         {}/<node>/node.log\n   audit logs        {}/<member>/data/audit.db",
        dir.join("federation.toml").display(),
        dir.join("ca/ca.pem").display(),
        dir.display(),
        dir.display()
    );
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    println!("\nTry next (fedlink is {exe}):");
    if let Some((name, config)) = nodes.first() {
        println!("   fedlink node serve --config {}        # start {name} again", config.display());
    }
    println!("   fedlink coordinator describe --config {}", coordinator.display());
    println!(
        "   fedlink coordinator report --config {} --catalogue {} --period {DEMO_PERIOD} --out {}",
        coordinator.display(),
        dir.join("catalogue.toml").display(),
        dir.join("report-again").display()
    );
    println!(
        "   fedlink audit verify --log {} --federation {} --member police",
        dir.join("police/data/audit.db").display(),
        dir.join("federation.toml").display()
    );
    let nodes: String = ["police", "icb", "council-east", "council-west"]
        .iter()
        .map(|n| format!(" --node {}", dir.join(n).display()))
        .collect();
    println!(
        "   fedlink audit reconcile --federation {} --coordinator {}{nodes}",
        dir.join("federation.toml").display(),
        dir.join("coordinator").display()
    );
    println!(
        "   fedlink audit report --log {} --out {}   # a DPO's summary of the ICB's log",
        dir.join("icb/data/audit.db").display(),
        dir.join("icb-audit.html").display()
    );
}
