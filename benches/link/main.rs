//! End-to-end linked count (issue 5 item 2, issue 6 item 5): N × N subjects on one key type
//! (NHS number, untimed), over loopback, with real node processes. Run with `cargo bench
//! --bench link` (N = 100,000, 3 timed runs); `FEDLINK_BENCH_PEOPLE=1000000
//! FEDLINK_BENCH_RUNS=1 cargo bench --bench link` for a million a side.
//!
//! In one run it:
//! 1. creates a federation of two nodes (police, icb) with `fedlink federation init` in a
//!    temporary folder, with the coordinator's envelope lifetime raised to 900 s (a million a
//!    side outlasts the default 120 s on a busy machine);
//! 2. writes a police cohort of N people and an ICB dataset of N people, each row with a valid
//!    NHS number (the test range 999 …, then the unissued 998 block past its 909,091 numbers)
//!    and an event date, 30 % of the numbers in both; imports them with `fedlink node import`
//!    (timed apart); gives each node a `[[linkage]]` rule for key type `nhs`, labels `["all"]`
//!    with k = 5, no window; and sets `danger_exact_linked_counts` at the computing node (the
//!    ICB), so the released count can be checked against the planted overlap;
//! 3. measures, in this same run, the machine's variable-base scalar multiplication rate `k·P`
//!    on one core and on all cores at once (threads pinned and not): the faster all-core figure
//!    is the machine's limit L; and the blinding primitives the nodes use;
//! 4. starts both nodes as processes (`fedlink node serve`) and times `fedlink coordinator
//!    link` end to end (process start to exit, wall clock), each run a fresh query, sampling
//!    the coordinator's peak memory;
//! 5. runs the same query once more in this process through the coordinator library with a
//!    transport that times every LinkOpen/LinkStep call and weighs every request and response,
//!    so the time can be split by step and the messages sized; then reads each node's peak
//!    memory (VmHWM) before stopping it.
//!
//! Work per query, from the layouts (`fedlink_node::link::plan::layouts`): one key type, no
//! window, so 1 slot per tuple (an NHS number is one value per subject). A (police) blinds its
//! N keys (`k_a·H(m)`); B (icb) blinds its own N keys on a thread from LinkOpen on, while A
//! makes M1, then reblinds M1 (`k_b·P`); A reblinds M2 (M3); B compares M3 with b·M1 without
//! decoding it. So 4N variable-base scalar multiplications (2N of them after a hash-to-group),
//! 2N point decodings and a few random points for dummies per query.
//!
//! On the project's 2-core machine (AMD EPYC Zen 5 under KVM, IFMA build, 2026-11-27;
//! README "Benchmarks"):
//! - N = 100,000, other engineers' builds running (load 5–6): 16.2, 16.8 and 17.2 s wall
//!   (before issue 6's changes, at the same load: 45.3, 42.4 and 41.5 s; 18.2 s quiet).
//! - N = 1,000,000, load about 2: 61.0 s best (62.7 and 65.8 s in a two-run bench); L = 128–137
//!   k k·P/s (one core 68.8 k/s); 65.6 k k·P/s achieved = 48 % of L (`blind_all` alone 59 %,
//!   `reblind_received` 69 %). The nodes' phase timings: police M1 35.8 s (read and cluster
//!   4.5 s, tuples 1.8 s, blind and sort 28.3 s, sharing the cores with the ICB's own
//!   blinding), icb M1 → M2 12.2 s (reblind 11.4 s), police M2 → M3 11.6 s (reblind 10.5 s),
//!   icb M3 → table 2.4 s. Peaks: police 1,025 MiB, icb 1,579 MiB, coordinator 80 MiB. Import:
//!   2.0–2.3 s per million rows. The count is exactly the 300,000 planted.
//!
//! So the crypto dominates (85 %); the rest is reading, normalising and clustering rows,
//! building and sorting tuples, sealing 34 MB messages and logging.
//!
//! # Layout
//!
//! - this file: the federation, the data, the rules and the timed runs;
//! - [`cost`]: the work of one query and the machine's rates for it, measured in the same run;
//! - [`timed`]: the in-process run with every relay call timed and weighed;
//! - [`nodes`]: the `fedlink` binary as commands and as node processes.

mod cost;
mod memory;
mod nodes;
mod timed;

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use fedlink_node::link::plan::layouts;
use fedlink_node::matchkey::KeyType;
use fedlink_node::normalise::nhs::{test_range_len, test_range_number};
use fedlink_proto::blind::default_threads;

use cost::{Model, Work, machine_rates};
use nodes::{Nodes, fedlink, start_node, wait_ready};
use timed::instrumented_run;

type BoxError = Box<dyn std::error::Error>;

/// People on each side, unless `FEDLINK_BENCH_PEOPLE` says otherwise.
const DEFAULT_PEOPLE: usize = 100_000;
/// Timed end-to-end runs of `fedlink coordinator link`, unless `FEDLINK_BENCH_RUNS` says
/// otherwise.
const DEFAULT_RUNS: usize = 3;
/// Operations per micro-benchmark.
const MICRO: usize = 50_000;

/// The size of this run: people on each side, people on both (the planted answer, 30 %),
/// and timed runs.
#[derive(Clone, Copy)]
struct Size {
    n: usize,
    overlap: usize,
    runs: usize,
}

impl Size {
    fn from_env() -> Result<Size, BoxError> {
        let var = |name: &str, default: usize| -> Result<usize, BoxError> {
            match std::env::var(name) {
                Ok(text) => {
                    let v: usize =
                        text.replace('_', "").parse().map_err(|e| format!("{name}: {e}"))?;
                    if v == 0 { Err(format!("{name} must be at least 1").into()) } else { Ok(v) }
                }
                Err(_) => Ok(default),
            }
        };
        let n = var("FEDLINK_BENCH_PEOPLE", DEFAULT_PEOPLE)?;
        Ok(Size { n, overlap: n * 3 / 10, runs: var("FEDLINK_BENCH_RUNS", DEFAULT_RUNS)? })
    }
}

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
max_subjects_per_query = MAX_SUBJECTS
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
max_subjects_per_query = MAX_SUBJECTS
max_queries_per_day = 50
privacy = { epsilon = "1" }
disclosure = { min_cell = 8, rounding = { nearest = 5 } }
"#;

const QUERY: &str = r#"
title = "bench: single-key linked count"
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
    let size = Size::from_env()?;
    let Size { n, overlap, runs } = size;
    println!(
        "linked-count benchmark: {n} x {n} people, {overlap} shared NHS numbers, key type nhs, \
         untimed; {} core(s); {}",
        cores.get(),
        load()
    );
    let fed = tmp.join("fed");

    // 1. The federation, the datasets and the rules.
    fedlink(
        &exe,
        &["federation", "init", "--dir", s(&fed)?, "--nodes", "police,icb", "--base-port", "0"],
    )?;
    let cap = n.to_string();
    let (police_rules, icb_rules) =
        (POLICE_RULES.replace("MAX_SUBJECTS", &cap), ICB_RULES.replace("MAX_SUBJECTS", &cap));
    set_up_node(&fed, "police", "cohort", POLICE_SCHEMA, &police_rules, false)?;
    set_up_node(&fed, "icb", "attendances", ICB_SCHEMA, &icb_rules, true)?;
    let police_csv = tmp.join("cohort.csv");
    let icb_csv = tmp.join("attendances.csv");
    let numbers = nhs_numbers(2 * n - overlap)?;
    write_people(&police_csv, "ref,nhs_number,reported", "P", &numbers, 0, n)?;
    write_people(&icb_csv, "ident,nhs_number,arrival", "E", &numbers, n - overlap, n)?;
    for (node, dataset, csv) in
        [("police", "cohort", &police_csv), ("icb", "attendances", &icb_csv)]
    {
        let started = Instant::now();
        let config = fed.join(node).join("node.toml");
        let report = fedlink(
            &exe,
            &["node", "import", "--config", s(&config)?, "--dataset", dataset, s(csv)?],
        )?;
        println!(
            "imported {n} rows into {node}/{dataset} in {:.1} s: {}",
            started.elapsed().as_secs_f64(),
            report.trim().replace('\n', "; ")
        );
    }
    let query_file = tmp.join("q.toml");
    std::fs::write(&query_file, QUERY)?;
    let coordinator_config = fed.join("coordinator/coordinator.toml");
    // A query's sessions live as long as its envelope: the 120 s `federation init` writes is
    // too short for a million a side on a busy 2-core machine; 900 s is the nodes' default
    // maximum (`[envelope] max_lifetime_s`).
    let settings = std::fs::read_to_string(&coordinator_config)?;
    let longer = settings.replacen("envelope_lifetime_s = 120", "envelope_lifetime_s = 900", 1);
    if longer == settings {
        return Err("coordinator.toml: no `envelope_lifetime_s = 120` to lengthen".into());
    }
    std::fs::write(&coordinator_config, longer)?;

    // 2. The machine, in this run (nodes not started yet, so nothing else is computing).
    let rates = machine_rates()?;
    println!("\nthe machine in this run, best of 3 ({MICRO} operations each; {}):", load());
    for (what, rate) in [
        ("(a) variable-base k·P, 1 core".to_string(), rates.mul),
        (format!("k·P on {cores} cores at once, unpinned"), rates.mul_all),
        (format!("k·P on {cores} cores at once, pinned"), rates.mul_all_pinned),
        (format!("blind_all k·H(m), {cores} cores"), rates.blind),
        (format!("reblind_received (check + k·P), {cores} cores"), rates.reblind),
        (format!("PackedPoints::from_bytes (check), {cores} cores"), rates.check),
        ("random_points, all cores".to_string(), rates.random),
    ] {
        println!(
            "  {what:<46} {rate:>9.0} /s  {:>5.2}× (a)  {:>4.0} % of the limit",
            rate / rates.mul,
            100.0 * rate / rates.limit()
        );
    }
    println!(
        "  the machine's k·P limit in this run (L): {:.0} /s, raw k·P on all cores at once ({})",
        rates.limit(),
        if rates.mul_all_pinned > rates.mul_all { "pinned" } else { "unpinned" }
    );

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
    let mut coordinator_peak = 0u64;
    let mut mismatches: Vec<String> = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let child = Command::new(&exe)
            .args(["coordinator", "link", "--config", s(&coordinator_config)?])
            .args(["--query", s(&query_file)?, "--format", "json"])
            .env("FEDLINK_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (out, hwm) = memory::output_with_peak(child)?;
        let wall = started.elapsed().as_secs_f64();
        coordinator_peak = coordinator_peak.max(hwm);
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
        if result.count != overlap as u64 {
            // Reported, and the bench fails at the end, but the timings still print.
            eprintln!(
                "run {run}: MISMATCH: linked count {} but {overlap} were planted",
                result.count
            );
            mismatches.push(format!("run {run}: {} linked, {overlap} planted", result.count));
        }
        let w = Work::of(
            n as u64,
            result.cohort_tuples * cohort_layout.tuple_len() as u64,
            result.partner_tuples * partner_layout.tuple_len() as u64,
        );
        println!(
            "run {run}: {wall:>6.2} s wall; linked count {} (planted {overlap}); tuples sent: \
             police {}, icb {}; {:.0} subjects/s, {:.0} k·P/s = {:.0} % of L; {}",
            result.count,
            result.cohort_tuples,
            result.partner_tuples,
            (2 * n) as f64 / wall,
            w.mults as f64 / wall,
            100.0 * w.mults as f64 / wall / rates.limit(),
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
    let node_peaks: Vec<(String, Option<u64>)> =
        nodes.0.iter().map(|(name, child)| (name.clone(), memory::peak_kib(child.id()))).collect();
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
        "\neach node's own phase timings (its log's \"linkage step timings\" lines, every query):"
    );
    for node in ["police", "icb"] {
        let log = std::fs::read_to_string(fed.join(node).join("node.log")).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("linkage step timings")) {
            let fields = line.split_once("linkage step timings").map_or(line, |(_, rest)| rest);
            println!("  {node:<7}{}", fields.trim_end());
        }
    }

    println!("\npeak memory (VmHWM):");
    for (name, peak) in &node_peaks {
        let peak = peak.map_or("unknown".into(), |kib| format!("{:.0} MiB", kib as f64 / 1024.0));
        println!("  node {name:<8} {peak} (over every query it served in this bench)");
    }
    println!(
        "  coordinator    {:.0} MiB (`fedlink coordinator link`, largest run, sampled every 20 ms)",
        coordinator_peak as f64 / 1024.0
    );
    println!(
        "\nthe blinding primitives against L ({:.0} k·P/s): blind_all {:.0} % (each k·P follows a \
         hash-to-group), reblind_received {:.0} % (each follows a decode)",
        rates.limit(),
        100.0 * rates.blind / rates.limit(),
        100.0 * rates.reblind / rates.limit()
    );
    println!(
        "\nsummary: {n} x {n}, 1 key type: best {best:.2} s, mean {mean:.2} s over {runs} runs \
         (wall, whole `fedlink coordinator link` process); {:.0} k·P/s on the best run = {:.0} % of \
         the machine's limit L in this run ({:.0} k·P/s on {} cores); {}",
        work.mults as f64 / best,
        100.0 * work.mults as f64 / best / rates.limit(),
        rates.limit(),
        cores.get(),
        load()
    );
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(format!("the linked count is not the planted overlap: {}", mismatches.join("; "))
            .into())
    }
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

/// Writes `n` people with the NHS numbers `numbers[first .. first + n]` and an event date.
fn write_people(
    path: &Path,
    header: &str,
    prefix: &str,
    numbers: &[String],
    first: usize,
    n: usize,
) -> Result<(), BoxError> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{header}")?;
    for i in 0..n {
        let nhs = numbers.get(first + i).ok_or("too few NHS numbers")?;
        let (month, day) = (1 + i % 12, 1 + i % 28);
        writeln!(out, "{prefix}{i:06},{nhs},2025-{month:02}-{day:02}")?;
    }
    out.flush()?;
    Ok(())
}

/// `count` distinct valid NHS numbers: the test range (999 000 0000–999 999 9999, 909,091
/// numbers, which can never be real, less 9999999999, a placeholder) first, then, for runs that need more, valid numbers
/// (modulus 11) of the 998 block, outside the blocks issued in England and Wales (400–499,
/// 600–799) and in Scotland and Northern Ireland (010–311, 320–399). They are made and used in
/// a temporary folder and dropped with it.
fn nhs_numbers(count: usize) -> Result<Vec<String>, BoxError> {
    let mut numbers = Vec::with_capacity(count);
    for serial in 0..test_range_len() {
        if numbers.len() == count {
            return Ok(numbers);
        }
        let number = test_range_number(serial).ok_or("the test range")?.to_string();
        // 9999999999 passes Modulus 11 but is a system default: the node treats ten equal
        // digits as a placeholder, never a key, so the bench must not plant it.
        if !number.bytes().all(|b| b == b'9') {
            numbers.push(number);
        }
    }
    for body in 0..1_000_000u32 {
        if numbers.len() == count {
            return Ok(numbers);
        }
        let nine = format!("998{body:06}");
        let sum: u32 = nine.bytes().zip((2..=10).rev()).map(|(b, w)| u32::from(b - b'0') * w).sum();
        match 11 - sum % 11 {
            11 => numbers.push(format!("{nine}0")),
            10 => {}
            check => numbers.push(format!("{nine}{check}")),
        }
    }
    if numbers.len() == count { Ok(numbers) } else { Err("too many people for the bench".into()) }
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
