//! The demo's linked-query support (issues 5 and 6): a calibration run that stores the ICB's
//! linkage model (F18) before the report's linked counts use it, and the demo's stand-in for
//! the ICB operator who approves a flag-back — approving through the same approvals store
//! `fedlink node approvals approve` uses, after the request is logged there. The linked-query
//! files are also written into the demo folder, for rerunning one by hand.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::{LinkOptions, run_link};
use fedlink_node::approvals::{ApprovalStore, caps_for};
use fedlink_node::config::NodeSettings;

/// The demo's linked-query files, written into the demo folder so they can be rerun.
const QUERIES: &[(&str, &str)] = &[
    ("calibrate.toml", include_str!("demo_links/calibrate.toml")),
    ("h2.toml", include_str!("demo_links/h2.toml")),
    ("d3.toml", include_str!("demo_links/d3.toml")),
    ("flagback.toml", include_str!("demo_links/flagback.toml")),
    ("s6.toml", include_str!("demo_links/s6.toml")),
];

/// Who approves the demo's flag-back at the ICB.
const DEMO_APPROVER: &str = "ICB information governance lead (played by fedlink demo)";

/// Writes the linked-query files and runs the calibration run; true when the ICB stored its
/// model with a verified receipt.
pub async fn calibrate(dir: &Path, coordinator: &Coordinator) -> Result<bool> {
    let links_dir = dir.join("links");
    std::fs::create_dir_all(&links_dir)
        .with_context(|| format!("creating {}", links_dir.display()))?;
    for (name, text) in QUERIES {
        let path = links_dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let query = LinkQuery::load(&links_dir.join("calibrate.toml"), None)?;
    let started = std::time::Instant::now();
    let run =
        run_link(coordinator, &query, &QueryOverrides::default(), &LinkOptions::default(), None)
            .await;
    let stored = run.parts.iter().find_map(|p| match &p.status {
        fedlink_coordinator::link::PartStatus::Done {
            answer: fedlink_coordinator::link::result::PartAnswer::Calibrated(c),
            receipt,
        } => Some((c.version, c.sha256.clone(), receipt.leaf_index)),
        _ => None,
    });
    match stored {
        Some((version, sha256, entry)) => println!(
            "   icb stored calibration v{version} (sha256 {}…), receipt entry {entry} verified, \
             in {:.1} s",
            &sha256[..sha256.len().min(16)],
            started.elapsed().as_secs_f64()
        ),
        None => println!("   calibration failed: {}", run.failures().join("; ")),
    }
    println!(
        "   linked-query files in {}; rerun one with\n   fedlink coordinator link --config \
         coordinator/coordinator.toml --query links/h2.toml",
        links_dir.display()
    );
    Ok(run.ok())
}

/// The demo's stand-in for the ICB operator: approves each pending flag-back request as soon
/// as the node has recorded it, within the policy's caps.
pub struct Approver {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Approver {
    /// Starts approving, as the ICB's operator would, every request its caps allow.
    pub fn start(icb_config: &Path) -> Result<Self> {
        let settings = NodeSettings::load(icb_config)?;
        // The same store the node records requests in (cross-process safe), opened once.
        let store = ApprovalStore::open(&fedlink_node::approvals::path_in(&settings.data_dir))
            .context("opening the ICB's approvals store")?;
        let policy = settings.policy;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                approve_pending(&store, &policy);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Ok(Self { stop, thread })
    }

    /// Stops approving.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

fn approve_pending(store: &ApprovalStore, policy: &fedlink_node::policy::Policy) {
    let now = fedlink_proto::clock::Clock::now(&fedlink_proto::clock::SystemClock::new()).0;
    let Ok(pending) = store.list(true, now) else { return };
    for record in pending {
        let request = &record.request;
        let decision = caps_for(policy, &request.dataset, &request.purpose)
            .and_then(|caps| store.approve(record.id, DEMO_APPROVER, &caps, now));
        match decision {
            Ok(_) => println!(
                "   ICB operator approved flag-back request {} (case {}, {} rows)",
                record.id, request.case_ref, request.attested_rows
            ),
            Err(e) => println!("   ICB operator could not approve request {}: {e}", record.id),
        }
    }
}
