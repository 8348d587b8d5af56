//! Shared bench fixtures: the scale-1.0 synthetic county and a 1 M-row ECDS extract, generated
//! once and cached under `target/bench-data/`.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use fedlink_node::dataset::schema::DatasetSchema;

/// Rows in the benchmark extract.
pub const ROWS: usize = 1_000_000;

/// The cached scale-1.0 county's folder, generated on first use.
pub fn county() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let county = data_dir().join("county-s1.0-seed1");
    if !county.join("summary.toml").exists() || !county.join("public/geography.csv").exists() {
        let _ = std::fs::remove_dir_all(&county);
        eprintln!("generating the synthetic county (scale 1.0) in {} …", county.display());
        let config = fedlink_synth::config::SynthConfig::new(1.0, 1);
        let summary = fedlink_synth::generate(&config, &county, &mut |s| eprintln!("  {s}"))?;
        eprintln!("  generated in {:.1} s", summary.generation_seconds);
        // The extract cut from an older county is stale.
        let _ = std::fs::remove_file(data_dir().join("ecds-1m.csv"));
    }
    Ok(county)
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

/// The 1 M-row ECDS extract with its schema.
pub fn ecds_1m() -> Result<(PathBuf, DatasetSchema), Box<dyn std::error::Error>> {
    let county = county()?;
    let data = data_dir();
    let schema =
        DatasetSchema::from_toml(&std::fs::read_to_string(county.join("icb/datasets/ecds.toml"))?)?;
    let extract = data.join("ecds-1m.csv");
    if !extract.exists() {
        head(&county.join("icb/data/ecds.csv"), &extract, ROWS)?;
    }
    Ok((extract, schema))
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
