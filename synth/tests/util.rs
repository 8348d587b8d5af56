//! The shared county and small CSV helpers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fedlink_synth::{SynthConfig, generate};

/// Scale of the shared county.
pub const SCALE: f64 = 0.04;

/// The shared county's folder, generated on first use.
pub fn county() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synth-county-0.04-seed-11");
        let _ = std::fs::remove_dir_all(&dir);
        // Without export glitches, so every row can be checked strictly; `glitches.rs` checks
        // the glitches on their own.
        let mut config = SynthConfig::new(SCALE, 11);
        config.errors.export_glitch = 0.0;
        generate(&config, &dir, &mut |_| {}).expect("generate");
        dir
    })
}

/// A CSV file as a header and rows of strings.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    index: HashMap<String, usize>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
        let rows =
            r.records().map(|rec| rec.expect("row").iter().map(String::from).collect()).collect();
        let index = header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
        Table { header, rows, index }
    }

    /// Reads `NODE/data/DATASET.csv` of the shared county.
    pub fn data(node: &str, dataset: &str) -> Table {
        Table::read(&county().join(node).join("data").join(format!("{dataset}.csv")))
    }

    /// Reads `truth/NAME.csv` of the shared county.
    pub fn truth(name: &str) -> Table {
        Table::read(&county().join("truth").join(format!("{name}.csv")))
    }

    /// The column index of a header.
    pub fn col(&self, name: &str) -> usize {
        *self.index.get(name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Values of a column.
    pub fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let c = self.col(name);
        self.rows.iter().map(move |r| r[c].as_str())
    }
}

/// The financial year (0, 1, 2) of an ISO date or date-time in the default period.
pub fn fy(date: &str) -> usize {
    let y: i32 = date[..4].parse().expect("year");
    let m: u32 = date[5..7].parse().expect("month");
    let fy = if m >= 4 { y - 2023 } else { y - 2024 };
    usize::try_from(fy).expect("inside the period")
}

/// Counts per financial year.
pub fn per_year<'a>(dates: impl Iterator<Item = &'a str>) -> [usize; 3] {
    let mut c = [0; 3];
    for d in dates {
        c[fy(d)] += 1;
    }
    c
}

/// Asserts `value` is within `tol` (relative) of `target`.
pub fn near(what: &str, value: f64, target: f64, tol: f64) {
    let rel = (value - target).abs() / target;
    assert!(rel <= tol, "{what}: {value:.1} vs target {target:.1} (off by {:.1}%)", rel * 100.0);
}
