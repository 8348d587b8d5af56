//! Export glitches: a small share of background ED and crime rows are damaged the way real
//! exports are (an impossible date, a row cut short), so imports show quarantine at work; no
//! planted scenario record is ever damaged.

use std::collections::HashSet;

use fedlink_synth::{SynthConfig, generate};

/// (record id, damaged) for every row of a CSV file, read leniently.
fn rows(path: &std::path::Path, width: usize, date_column: usize) -> Vec<(String, bool)> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).expect("open");
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            let damaged = r.len() != width || r.get(date_column) == Some("2023-02-29");
            (r.get(0).unwrap_or("").to_string(), damaged)
        })
        .collect()
}

#[test]
fn a_few_background_rows_are_damaged_and_no_scenario_record_is() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synth-glitches");
    let _ = std::fs::remove_dir_all(&dir);
    let config = SynthConfig::new(0.02, 5);
    let rate = config.errors.export_glitch;
    generate(&config, &dir, &mut |_| {}).expect("generate");

    let members: HashSet<String> = csv::Reader::from_path(dir.join("truth/scenario_member.csv"))
        .expect("members")
        .records()
        .map(|r| r.expect("row").get(3).unwrap_or("").to_string())
        .collect();
    let mut damaged = 0usize;
    let mut total = 0usize;
    for (node, dataset) in [("icb", "ecds"), ("police", "crimes")] {
        let path = dir.join(node).join("data").join(format!("{dataset}.csv"));
        let header = csv::Reader::from_path(&path).expect("open").headers().expect("h").clone();
        let schema =
            std::fs::read_to_string(dir.join(node).join(format!("datasets/{dataset}.toml")))
                .expect("schema");
        let schema =
            fedlink_node::dataset::schema::DatasetSchema::from_toml(&schema).expect("schema");
        let date_column = schema
            .columns
            .iter()
            .position(|c| {
                use fedlink_node::dataset::schema::ColumnRole::*;
                matches!(c.role, Dob | EventDate | EventDatetime)
            })
            .expect("a date column");
        for (id, bad) in rows(&path, header.len(), date_column) {
            total += 1;
            if bad {
                damaged += 1;
                assert!(!members.contains(&id), "scenario record {id} was damaged");
            }
        }
    }
    let expected = rate * total as f64;
    assert!(damaged > 0, "no damaged rows among {total}");
    assert!(
        (damaged as f64) < 3.0 * expected + 5.0,
        "{damaged} damaged rows of {total}, expected about {expected:.0}"
    );
}
