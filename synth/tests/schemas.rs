//! Every schema the generator writes passes the node's checks, is listed in its node's config
//! fragment and matches its CSV header; every row honours its schema; every record is in the
//! truth record map; every NHS number is from the 999 test range.

use std::collections::{HashMap, HashSet};

use fedlink_node::dataset::schema::{ColumnRole, DatasetSchema};
use fedlink_node::normalise::nhs::check_digit;

use crate::util::{Table, county};

const NODES: [&str; 4] = ["police", "icb", "council-east", "council-west"];

fn schemas(node: &str) -> Vec<DatasetSchema> {
    let dir = county().join(node);
    let fragment = std::fs::read_to_string(dir.join("node-datasets.toml")).expect("fragment");
    let value: toml::Value = toml::from_str(&fragment).expect("fragment parses");
    let listed: Vec<String> = value["dataset"]
        .as_array()
        .expect("[[dataset]]")
        .iter()
        .map(|d| d["schema"].as_str().expect("schema path").to_string())
        .collect();
    let on_disk = std::fs::read_dir(dir.join("datasets")).expect("datasets").count();
    assert_eq!(listed.len(), on_disk, "{node}: every schema file is listed");
    listed
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(dir.join(p)).expect("schema file");
            DatasetSchema::from_toml(&text).unwrap_or_else(|e| panic!("{node}/{p}: {e}"))
        })
        .collect()
}

fn date_ok(s: &str) -> bool {
    let (y, m, d) = if s.len() == 10 && s.as_bytes()[4] == b'-' {
        (&s[..4], &s[5..7], &s[8..10])
    } else if s.len() == 10 && s.as_bytes()[2] == b'/' {
        (&s[6..10], &s[3..5], &s[..2])
    } else {
        return false;
    };
    match (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
        (Ok(y), Ok(m), Ok(d)) => fedlink_synth::date::Date::is_valid(y, m, d),
        _ => false,
    }
}

fn nhs_valid(n: &str) -> bool {
    let d: Vec<u8> = n.bytes().map(|b| b - b'0').collect();
    let nine: [u8; 9] = d[..9].try_into().expect("nine digits");
    check_digit(&nine) == Some(d[9])
}

#[test]
fn every_schema_checks_and_every_row_honours_it() {
    let mut counted: HashMap<(String, String), usize> = HashMap::new();
    let (mut numbers, mut valid) = (0usize, 0usize);
    for node in NODES {
        for schema in schemas(node) {
            let t = Table::data(node, &schema.name);
            let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(t.header, names, "{node}/{}: header", schema.name);
            let mut ids = HashSet::new();
            for (line, row) in t.rows.iter().enumerate() {
                let at = format!("{node}/{} line {}", schema.name, line + 2);
                assert_eq!(row.len(), names.len(), "{at}");
                for (c, v) in schema.columns.iter().zip(row) {
                    if v.is_empty() {
                        assert!(!c.required, "{at}: {} is required", c.name);
                        continue;
                    }
                    match &c.role {
                        ColumnRole::RecordId => {
                            assert!(ids.insert(v.clone()), "{at}: duplicate id {v}")
                        }
                        ColumnRole::Category { codes: Some(codes) }
                        | ColumnRole::SubjectRole { codes: Some(codes) } => {
                            assert!(
                                codes.contains(v),
                                "{at}: {} = {v:?} not in its code list",
                                c.name
                            )
                        }
                        ColumnRole::Numeric { min, max } => {
                            let x: f64 =
                                v.parse().unwrap_or_else(|_| panic!("{at}: {} = {v}", c.name));
                            assert!(min <= &x && &x <= max, "{at}: {} = {v} out of bounds", c.name);
                        }
                        ColumnRole::Dob | ColumnRole::EventDate => {
                            assert!(date_ok(v), "{at}: {} = {v}", c.name)
                        }
                        ColumnRole::EventDatetime => {
                            assert!(
                                v.len() == 16 && date_ok(&v[..10]) && &v[10..11] == " ",
                                "{at}: {} = {v}",
                                c.name
                            )
                        }
                        ColumnRole::NhsNumber => {
                            assert!(
                                v.len() == 10
                                    && v.starts_with("999")
                                    && v.bytes().all(|b| b.is_ascii_digit()),
                                "{at}: NHS number {v} outside the 999 test range"
                            );
                            numbers += 1;
                            valid += usize::from(nhs_valid(v));
                        }
                        ColumnRole::Uprn | ColumnRole::ParentUprn => {
                            assert!(v.len() == 12 && v.starts_with("9901"), "{at}: UPRN {v}")
                        }
                        _ => {}
                    }
                }
            }
            counted.insert((node.to_string(), schema.name.clone()), t.rows.len());
        }
    }
    // Keying errors fail Modulus 11 but stay in the range; they are rare (domain.md §9e: 0.2%).
    let invalid = (numbers - valid) as f64 / numbers as f64;
    assert!(numbers > 10_000 && invalid < 0.01, "{numbers} NHS numbers, {invalid:.4} invalid");
    // Every row of every data file is in the record map exactly once.
    let map = Table::truth("record_map");
    let mut in_map: HashMap<(String, String), usize> = HashMap::new();
    let mut keys = HashSet::new();
    for r in &map.rows {
        *in_map.entry((r[0].clone(), r[1].clone())).or_default() += 1;
        assert!(keys.insert((r[0].clone(), r[1].clone(), r[2].clone())), "duplicate map row {r:?}");
    }
    assert_eq!(in_map, counted);
}

#[test]
fn truth_nhs_numbers_are_valid_unique_and_from_the_test_range() {
    let people = Table::truth("person");
    let mut seen = HashSet::new();
    let mut with = 0;
    for col in ["nhs_number", "previous_nhs_number"] {
        for n in people.values(col).filter(|n| !n.is_empty()) {
            assert!(n.starts_with("999") && n.len() == 10 && nhs_valid(n), "{n}");
            assert!(seen.insert(n.to_string()), "{n} given twice");
            with += 1;
        }
    }
    // At this scale the range covers everyone.
    assert!(with >= people.rows.len(), "{with} numbers for {} people", people.rows.len());
}
