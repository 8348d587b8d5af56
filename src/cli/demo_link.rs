//! The demo's linked queries (issues 5 and 6; domain.md §6): a calibration run that stores the
//! ICB's linkage model (F18), then H2 (death-report subjects with an ED
//! assault attendance in the 12 months before, police × ICB), D3 (places of death with council
//! safeguarding concerns at the same building, police × east council), S6 (people known to two
//! or more of police, ICB and east council, by a ring of blinding) and a flag-back that an
//! operator at the ICB approves — here the demo plays that operator, approving through the same
//! approvals store `fedlink node approvals approve` uses, after the request is logged there.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::{LinkOptions, run_link};
use fedlink_coordinator::table::render::Format;
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

/// Runs every linked query, printing each result; true when all answered with verified
/// receipts.
pub async fn run_all(dir: &Path, coordinator: &Coordinator, icb_config: &Path) -> Result<bool> {
    let links_dir = dir.join("links");
    std::fs::create_dir_all(&links_dir)
        .with_context(|| format!("creating {}", links_dir.display()))?;
    let mut all_ok = true;
    for (name, text) in QUERIES {
        let path = links_dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        let query = LinkQuery::load(&path, None)?;
        let approver = query.case_ref.is_some().then(|| Approver::start(icb_config)).transpose()?;
        let started = std::time::Instant::now();
        let run = run_link(
            coordinator,
            &query,
            &QueryOverrides::default(),
            &LinkOptions::default(),
            None,
        )
        .await;
        if let Some(approver) = approver {
            approver.stop();
        }
        print!("{}", run.render(Format::Table));
        println!("({name}: {:.1} s)", started.elapsed().as_secs_f64());
        println!();
        all_ok &= run.ok();
    }
    println!("   the query files are in {}; rerun one with", links_dir.display());
    println!(
        "   fedlink coordinator link --config coordinator/coordinator.toml --query links/h2.toml"
    );
    Ok(all_ok)
}

/// The demo's stand-in for the ICB operator: approves each pending flag-back request as soon
/// as the node has recorded it, within the policy's caps.
struct Approver {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Approver {
    fn start(icb_config: &Path) -> Result<Self> {
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

    fn stop(self) {
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
