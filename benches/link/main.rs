//! End-to-end linked count (issue 5, item 2): 100,000 × 100,000 subjects on one key type (NHS
//! number, untimed), over loopback, with real node processes. Run with
//! `cargo bench --bench link`.
//!
//! In one run it:
//! 1. creates a federation of two nodes (police, icb) with `fedlink federation init` in a
//!    temporary folder;
//! 2. writes a police cohort of 100,000 people and an ICB dataset of 100,000 people, each row
//!    with a valid NHS number from the test range (999 …) and an event date, 30,000 numbers in
//!    both; imports them with `fedlink node import`; gives each node a `[[linkage]]` rule for
//!    key type `nhs`, labels `["all"]` with k = 5, no window; and sets
//!    `danger_exact_linked_counts` at the computing node (the ICB), so the released count can
//!    be checked against the planted overlap;
//! 3. measures the machine's single-core variable-base scalar multiplication rate `k·P`, and
//!    the blinding primitives the nodes use, in this same run;
//! 4. starts both nodes as processes (`fedlink node serve`) and times `fedlink coordinator
//!    link` end to end (process start to exit, wall clock) three times, each a fresh query;
//! 5. runs the same query once more in this process through the coordinator library with a
//!    transport that times every LinkOpen/LinkStep call and weighs every request and response,
//!    so the time can be split by step and the messages sized.
//!
//! Work per query, from the layouts (`fedlink_node::link::plan::layouts`): one key type, no
//! window, so 4 slots per tuple on each side. A (police) blinds its 100,000 NHS keys
//! (`k_a·H(m)`) and fills the other 3 slots of every tuple, and every dummy tuple's slots, with
//! fresh random points: M1 is (100,000 + dummies) × 4 points. B (icb) reblinds M1 (`k_b·P`),
//! blinds its own 100,000 keys and fills the rest with random points: M2. A reblinds M2 (M3).
//! So about 1,000,000 variable-base scalar multiplications (200,000 of them after a
//! hash-to-group) and 600,000 random points per query; 1.6 M points are made under a key.
//!
//! On the project's 2-core machine (AMD EPYC Zen 5 under KVM, IFMA build, 2026-11-27, load
//! about 2; README "Benchmarks"): (a) = 68.8 k k·P/s on one core; `blind_all` 79 k/s,
//! `reblind_received` 101 k/s and `random_points` 142 k/s on both cores. The query took 18.4,
//! 18.2 and 19.5 s wall (about 11,000 subjects/s): 27.6 k k·P/s per core on the best run,
//! 0.40× (a). The in-process run (17.6 s), split by call:
//! - police builds M1: 4.0 s (its crypto, priced at the rates above: 3.4 s);
//! - icb reblinds M1 and builds M2: 8.0 s (7.4 s);
//! - police reblinds M2 into M3: 4.2 s (4.0 s);
//! - icb checks M3, matches and releases: 1.3 s (checking M3's points: 1.0 s).
//!
//! So the crypto is 90 % of the time; the rest is reading and normalising rows, building and
//! sorting tuples, sealing 13 MB messages and logging. The 600,000 random points for empty slots
//! (3 of every 4 slots with one key type) take 4.2 s on both cores. M1, M2 and M3 are 13.0 MB
//! each.
//!
//! # Layout
//!
//! - this file: the federation, the data, the rules and the timed runs;
//! - [`cost`]: the work of one query and the machine's rates for it, measured in the same run;
//! - [`timed`]: the in-process run with every relay call timed and weighed;
//! - [`nodes`]: the `fedlink` binary as commands and as node processes.

mod cost;
mod nodes;
mod timed;

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use fedlink_node::link::plan::layouts;
use fedlink_node::matchkey::KeyType;
use fedlink_node::normalise::nhs::test_range_number;
use fedlink_proto::blind::default_threads;

use cost::{Model, Work, machine_rates};
use nodes::{Nodes, fedlink, start_node, wait_ready};
use timed::instrumented_run;

type BoxError = Box<dyn std::error::Error>;

/// People on each side.
const N: usize = 100_000;
/// People on both sides (the planted answer).
const OVERLAP: usize = 30_000;
/// Timed end-to-end runs of `fedlink coordinator link`.
const RUNS: usize = 3;
/// Operations per micro-benchmark.
const MICRO: usize = 50_000;

const POLICE_SCHEMA: &str = r#"
name = "cohort"
description = "Benchmark cohort: one row per person"
subject = "person"

[[column]]
name = "ref"
role = "record_id"

[[column]]
name = "nhs_number"
role = "nhs_number"
required = true

[[column]]
name = "reported"
role = "event_date"
required = true
"#;

const ICB_SCHEMA: &str = r#"
name = "attendances"
description = "Benchmark partner dataset: one row per person"
subject = "person"

[[column]]
name = "ident"
role = "record_id"

[[column]]
name = "nhs_number"
role = "nhs_number"
required = true

[[column]]
name = "arrival"
role = "event_date"
required = true
"#;

const POLICE_RULES: &str = r#"
[[linkage]]
dataset = "cohort"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["cohort"]
key_types = ["nhs"]
labels = { vocabulary = ["all"], k_min = 5 }
max_subjects_per_query = 200000
max_queries_per_day = 50
privacy = { epsilon = "1" }
"#;

const ICB_RULES: &str = r#"
[budget]
period = "financial_year"
coordinator_epsilon = "100"
requester_epsilon = "100"

[[linkage]]
dataset = "attendances"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["partner", "computing"]
key_types = ["nhs"]
labels = { vocabulary = ["all"], k_min = 5 }
cohort_sources = ["police/cohort"]
max_subjects_per_query = 200000
max_queries_per_day = 50
privacy = { epsilon = "1" }
disclosure = { min_cell = 8, rounding = { nearest = 5 } }
"#;

const QUERY: &str = r#"
title = "bench: 100k x 100k single-key linked count"
kind = "count"
unit = "person"
key_types = ["nhs"]
purpose = "HMICFRS-R2-DEATH-ANALYSIS"

[[side]]
member = "police"
dataset = "cohort"
role = "cohort"

[[side]]
member = "icb"
dataset = "attendances"
"#;

fn main() -> Result<(), BoxError> {
    let tmp = tempfile::Builder::new().prefix("fedlink-bench-link-").tempdir()?;
    let result = bench(tmp.path());
    if result.is_err() {
        for node in ["police", "icb"] {
            let log = tmp.path().join("fed").join(node).join("node.log");
            if let Ok(text) = std::fs::read_to_string(&log) {
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                eprintln!("--- {node}'s node.log (last lines)");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
    result
}

fn bench(tmp: &Path) -> Result<(), BoxError> {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_fedlink"));
    let cores = default_threads();
    println!(
        "linked-count benchmark: {N} x {N} people, {OVERLAP} shared NHS numbers, key type nhs, \
         untimed; {} core(s)",
        cores.get()
    );
    let fed = tmp.join("fed");

    // 1. The federation, the datasets and the rules.
    fedlink(
        &exe,
        &["federation", "init", "--dir", s(&fed)?, "--nodes", "police,icb", "--base-port", "0"],
    )?;
    set_up_node(&fed, "police", "cohort", POLICE_SCHEMA, POLICE_RULES, false)?;
    set_up_node(&fed, "icb", "attendances", ICB_SCHEMA, ICB_RULES, true)?;
    let police_csv = tmp.join("cohort.csv");
    let icb_csv = tmp.join("attendances.csv");
    write_people(&police_csv, "ref,nhs_number,reported", "P", 0)?;
    write_people(&icb_csv, "ident,nhs_number,arrival", "E", N - OVERLAP)?;
    for (node, dataset, csv) in
        [("police", "cohort", &police_csv), ("icb", "attendances", &icb_csv)]
    {
        let started = Instant::now();
        let config = fed.join(node).join("node.toml");
        fedlink(&exe, &["node", "import", "--config", s(&config)?, "--dataset", dataset, s(csv)?])?;
        println!(
            "imported {N} rows into {node}/{dataset} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let query_file = tmp.join("q.toml");
    std::fs::write(&query_file, QUERY)?;
    let coordinator_config = fed.join("coordinator/coordinator.toml");

    // 2. The machine, in this run (nodes not started yet, so nothing else is computing).
    let rates = machine_rates()?;
    println!("\nthe machine in this run, best of 3 ({MICRO} operations each; {}):", load());
    for (what, rate) in [
        ("(a) variable-base k·P, 1 core".to_string(), rates.mul),
        (format!("blind_all k·H(m), {cores} cores"), rates.blind),
        (format!("reblind_received (check + k·P), {cores} cores"), rates.reblind),
        (format!("PackedPoints::from_bytes (check), {cores} cores"), rates.check),
        ("random_points, all cores".to_string(), rates.random),
    ] {
        println!("  {what:<46} {rate:>9.0} /s  {:>5.2}× (a)", rate / rates.mul);
    }

    // 3. The nodes, as processes.
    let mut nodes = Nodes(Vec::new());
    for node in ["police", "icb"] {
        nodes
            .0
            .push((node.to_string(), start_node(&exe, node, &fed.join(node).join("node.toml"))?));
    }
    for (name, child) in &mut nodes.0 {
        println!("{}", wait_ready(name, child)?);
    }

    // 4. The timed runs: the whole `fedlink coordinator link` process, wall clock.
    let (cohort_layout, partner_layout) = layouts(&[KeyType::Nhs], None, None)?;
    println!(
        "\ntuple layouts: cohort {} slots, partner {} slots (1 key type, untimed)",
        cohort_layout.tuple_len(),
        partner_layout.tuple_len()
    );
    let mut walls = Vec::new();
    let mut work = None;
    for run in 1..=RUNS {
        let started = Instant::now();
        let out = Command::new(&exe)
            .args(["coordinator", "link", "--config", s(&coordinator_config)?])
            .args(["--query", s(&query_file)?, "--format", "json"])
            .env("FEDLINK_LOG", "warn")
            .stdin(Stdio::null())
            .output()?;
        let wall = started.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!(
                "run {run}: coordinator link failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let result = LinkResult::parse(&out.stdout)?;
        if result.count != OVERLAP as u64 {
            return Err(format!(
                "run {run}: linked count {} but {OVERLAP} were planted",
                result.count
            )
            .into());
        }
        let w = Work::of(
            N as u64,
            result.cohort_tuples * cohort_layout.tuple_len() as u64,
            result.partner_tuples * partner_layout.tuple_len() as u64,
        );
        println!(
            "run {run}: {wall:>6.2} s wall; linked count {} (planted {OVERLAP}); tuples sent: \
             police {}, icb {}; {:.0} subjects/s, {:.0} points/s under a key, {:.0} k·P/s per \
             core = {:.2}× (a); {}",
            result.count,
            result.cohort_tuples,
            result.partner_tuples,
            (2 * N) as f64 / wall,
            w.points as f64 / wall,
            w.mults as f64 / wall / cores.get() as f64,
            w.mults as f64 / wall / cores.get() as f64 / rates.mul,
            load()
        );
        walls.push(wall);
        work = Some(w);
    }
    let work = work.ok_or("no run")?;
    let best = walls.iter().copied().fold(f64::MAX, f64::min);
    let mean = walls.iter().sum::<f64>() / walls.len() as f64;

    // 5. One more run in this process, every call timed and weighed.
    let calls = instrumented_run(&coordinator_config, &query_file)?;
    for (name, graceful) in nodes.stop() {
        if !graceful {
            eprintln!("node {name} did not stop cleanly");
        }
    }

    println!("\nwork per query (from the layouts and the side sizes):");
    println!(
        "  points on the wire: M1 {} + M2 {} + M3 {} = {} ({:.1} MB)",
        work.m1_points,
        work.m2_points,
        work.m2_points,
        work.m1_points + 2 * work.m2_points,
        (work.m1_points + 2 * work.m2_points) as f64 * 32.0 / 1e6
    );
    println!(
        "  points made under a key: {} = {} scalar multiplications ({} after hash-to-group, {} \
         reblinds) + {} random points",
        work.points, work.mults, work.hashed, work.reblinds, work.random
    );

    println!(
        "\nthe instrumented run, call by call, against its crypto priced at the rates above \
         (bytes as encoded protobuf):"
    );
    println!(
        "  {:<7} {:<36} {:>8} {:>9} {:>12} {:>12}",
        "node", "call", "wall s", "crypto s", "request B", "response B"
    );
    let model = Model::new(&work, &rates);
    let (mut total, mut total_crypto) = (0.0, 0.0);
    for c in &calls {
        let crypto = model.price(c);
        total += c.seconds;
        total_crypto += crypto.unwrap_or(0.0);
        println!(
            "  {:<7} {:<36} {:>8.2} {:>9} {:>12} {:>12}",
            c.member,
            c.what,
            c.seconds,
            crypto.map_or(String::new(), |s| format!("{s:.2}")),
            c.request_bytes,
            c.response_bytes
        );
    }
    println!("  {:<44} {total:>8.2} {total_crypto:>9.2}", "total");
    for line in model.notes() {
        println!("  {line}");
    }

    println!(
        "\nsummary: {N} x {N}, 1 key type: best {best:.2} s, mean {mean:.2} s over {RUNS} runs \
         (wall, whole `fedlink coordinator link` process); {:.0} k·P/s per core on the best run = \
         {:.2}× the machine's single-core k·P rate ({:.0}/s)",
        work.mults as f64 / best / cores.get() as f64,
        work.mults as f64 / best / cores.get() as f64 / rates.mul,
        rates.mul
    );
    Ok(())
}

/// The load averages, to show how busy the machine was.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let v: Vec<&str> = l.split_whitespace().take(3).collect();
            (v.len() == 3).then(|| format!("load average {} {} {}", v[0], v[1], v[2]))
        })
        .unwrap_or_else(|| "load average unknown".into())
}

fn s(path: &Path) -> Result<&str, BoxError> {
    path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()).into())
}

/// Gives a node its dataset schema, its `[[linkage]]` rule (and budget) with linked counts
/// switched on, and, at the computing node, exact linked tables.
fn set_up_node(
    fed: &Path,
    node: &str,
    dataset: &str,
    schema: &str,
    rules: &str,
    exact: bool,
) -> Result<(), BoxError> {
    let dir = fed.join(node);
    let schema_file = dir.join(format!("{dataset}.toml"));
    std::fs::write(&schema_file, schema)?;
    let config_path = dir.join("node.toml");
    let mut config = std::fs::read_to_string(&config_path)?;
    if exact {
        // A top-level key must come before the first table.
        config = config.replacen("[tls]", "danger_exact_linked_counts = true\n\n[tls]", 1);
    }
    config.push_str(&format!("\n[[dataset]]\nschema = {:?}\n", format!("{dataset}.toml")));
    std::fs::write(&config_path, config)?;
    let policy_path = dir.join("policy.toml");
    let policy = std::fs::read_to_string(&policy_path)?;
    let enabled = policy.replacen("linked_count = false", "linked_count = true", 1);
    if enabled == policy {
        return Err(
            format!("{}: no `linked_count = false` to switch on", policy_path.display()).into()
        );
    }
    std::fs::write(&policy_path, format!("{enabled}\n{rules}"))?;
    Ok(())
}

/// Writes `N` people with the test-range NHS numbers `first .. first + N` and an event date.
fn write_people(path: &Path, header: &str, prefix: &str, first: usize) -> Result<(), BoxError> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{header}")?;
    for i in 0..N {
        let serial = u32::try_from(first + i)?;
        let nhs = test_range_number(serial).ok_or("the NHS test range is too small")?;
        let (month, day) = (1 + i % 12, 1 + i % 28);
        writeln!(out, "{prefix}{i:06},{nhs},2025-{month:02}-{day:02}")?;
    }
    out.flush()?;
    Ok(())
}

/// What the computing node released, from `coordinator link --format json`.
struct LinkResult {
    count: u64,
    cohort_tuples: u64,
    partner_tuples: u64,
}

impl LinkResult {
    fn parse(stdout: &[u8]) -> Result<Self, BoxError> {
        let doc: serde_json::Value = serde_json::from_slice(stdout)?;
        if doc["ok"] != serde_json::Value::Bool(true) {
            return Err(format!("the query did not succeed: {doc:#}").into());
        }
        let cells = doc["table"]["cells"].as_array().ok_or("no table cells")?;
        let count = cells
            .iter()
            .map(|c| c["count"].as_u64().ok_or("a cell without a count"))
            .sum::<Result<u64, _>>()?;
        let size = |member: &str| {
            doc["sizes"]
                .as_array()
                .and_then(|sizes| sizes.iter().find(|s| s["member"] == member))
                .and_then(|s| s["tuples"].as_u64())
                .ok_or_else(|| format!("no side size for {member}"))
        };
        Ok(Self { count, cohort_tuples: size("police")?, partner_tuples: size("icb")? })
    }
}
