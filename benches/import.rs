//! Import throughput on a 1 M-row ED-attendance extract (issue 3: at least 200 k rows/s on the
//! project's 2-core machine). Run with `cargo bench --bench import`.
//!
//! It generates the synthetic county once (scale 1.0, seed 1; cached under
//! `target/bench-data/`), takes the first 1,000,000 rows of the ICB's `ecds` extract, and
//! imports them into a fresh dataset store three times, reporting each run and the best.
//! A fourth run re-imports into the filled store (every row unchanged).

mod common;

use std::time::Instant;

use fedlink_node::dataset::import::import_csv;
use fedlink_node::dataset::store::DatasetStore;

const TARGET_ROWS_PER_S: f64 = 200_000.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (extract, schema) = common::ecds_1m()?;
    let mut best = 0.0f64;
    for run in 1..=3 {
        let dir = tempfile::tempdir()?;
        let mut store = DatasetStore::open(&dir.path().join("datasets.db"))?;
        let started = Instant::now();
        let summary = import_csv(&mut store, &schema, &extract, || 0, &|_| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let rate = summary.counts.rows_read as f64 / seconds;
        best = best.max(rate);
        println!(
            "run {run}: {} rows ({} accepted, {} quarantined) in {seconds:.2} s = {rate:.0} rows/s",
            summary.counts.rows_read, summary.counts.inserted, summary.counts.quarantined
        );
        if run == 3 {
            let started = Instant::now();
            let again = import_csv(&mut store, &schema, &extract, || 0, &|_| {})?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "re-import: {} rows ({} unchanged) in {seconds:.2} s = {:.0} rows/s",
                again.counts.rows_read,
                again.counts.unchanged,
                again.counts.rows_read as f64 / seconds
            );
        }
    }
    println!(
        "best: {best:.0} rows/s on {} core(s); target {TARGET_ROWS_PER_S:.0} rows/s: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if best >= TARGET_ROWS_PER_S { "met" } else { "NOT met" }
    );
    Ok(())
}
