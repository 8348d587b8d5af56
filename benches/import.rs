//! Import throughput on a 1 M-row ED-attendance extract (issue 3: at least 200 k rows/s on the
//! project's 2-core machine). Run with `cargo bench --bench import`.
//!
//! It generates the synthetic county once (scale 1.0, seed 1; cached under
//! `target/bench-data/`), takes the first 1,000,000 rows of the ICB's `ecds` extract, and
//! imports them into a fresh dataset store three times, reporting each run and the best.
//! A fourth run re-imports into the filled store (every row unchanged).

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use fedlink_node::dataset::import::import_csv;
use fedlink_node::dataset::schema::DatasetSchema;
use fedlink_node::dataset::store::DatasetStore;

const ROWS: usize = 1_000_000;
const TARGET_ROWS_PER_S: f64 = 200_000.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let county = data.join("county-s1.0-seed1");
    if !county.join("summary.toml").exists() {
        let _ = std::fs::remove_dir_all(&county);
        eprintln!("generating the synthetic county (scale 1.0) in {} …", county.display());
        let config = fedlink_synth::config::SynthConfig::new(1.0, 1);
        let summary = fedlink_synth::generate(&config, &county, &mut |s| eprintln!("  {s}"))?;
        eprintln!("  generated in {:.1} s", summary.generation_seconds);
    }
    let schema =
        DatasetSchema::from_toml(&std::fs::read_to_string(county.join("icb/datasets/ecds.toml"))?)?;
    let extract = data.join("ecds-1m.csv");
    if !extract.exists() {
        head(&county.join("icb/data/ecds.csv"), &extract, ROWS)?;
    }

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

/// Copies the header and the first `rows` records of a CSV file (one record per line).
fn head(from: &Path, to: &Path, rows: usize) -> std::io::Result<()> {
    let reader = BufReader::new(std::fs::File::open(from)?);
    let mut writer = BufWriter::new(std::fs::File::create(to)?);
    for line in reader.lines().take(rows + 1) {
        writeln!(writer, "{}", line?)?;
    }
    writer.flush()
}
