//! Scoring links against the truth: a links file built from the truth, with some true links
//! dropped and some false ones added, scores exactly as counted by hand; bad links files are
//! clear errors.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use fedlink_synth::evaluate::{
    EvaluateError, Group, LINKS_HEADER, Level, evaluate, to_csv, to_table,
};

use crate::util::{Table, county};

const LEFT: (&str, &str) = ("police", "death_reports");
const RIGHT: (&str, &str) = ("icb", "ecds");

/// Record id → person id for one dataset, from the truth.
fn persons(node: &str, dataset: &str) -> BTreeMap<String, String> {
    let map = Table::truth("record_map");
    let (n, d, r, p) =
        (map.col("node"), map.col("dataset"), map.col("record_id"), map.col("person_id"));
    map.rows
        .iter()
        .filter(|row| row[n] == node && row[d] == dataset && !row[p].is_empty())
        .map(|row| (row[r].clone(), row[p].clone()))
        .collect()
}

/// Writes a links file of (left id, right id) rows between LEFT and RIGHT.
fn write_links(dir: &Path, links: &[(String, String)]) -> PathBuf {
    let mut text = LINKS_HEADER.join(",") + "\n";
    for (l, r) in links {
        text += &format!("{},{},{l},{},{},{r}\n", LEFT.0, LEFT.1, RIGHT.0, RIGHT.1);
    }
    let path = dir.join("links.csv");
    std::fs::write(&path, text).expect("write links");
    path
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    Some(n as f64 / d as f64)
}

#[test]
fn dropped_and_false_links_score_exactly() {
    let left = persons(LEFT.0, LEFT.1);
    let right = persons(RIGHT.0, RIGHT.1);
    let truth: Vec<(String, String)> = left
        .iter()
        .flat_map(|(l, p)| {
            right.iter().filter(move |(_, q)| *q == p).map(move |(r, _)| (l.clone(), r.clone()))
        })
        .collect();
    assert!(truth.len() >= 20, "only {} true pairs", truth.len());

    // Drop every fifth true link; add a false link from each of the first four left records;
    // repeat one link (counted once).
    let mut links: Vec<(String, String)> =
        truth.iter().enumerate().filter(|(i, _)| i % 5 != 0).map(|(_, l)| l.clone()).collect();
    let dropped = truth.len() - links.len();
    let mut false_links = 0;
    for (l, p) in left.iter().take(4) {
        let (r, _) = right.iter().find(|(_, q)| *q != p).expect("another person's record");
        links.push((l.clone(), r.clone()));
        false_links += 1;
    }
    links.push(links[0].clone());

    let tmp = tempfile::tempdir().expect("tempdir");
    let report = evaluate(county(), &write_links(tmp.path(), &links)).expect("evaluate");

    let (n, d, f) = (truth.len() as u64, dropped as u64, false_links as u64);
    let person = report.get(Level::Person, &Group::All).expect("person/all");
    assert_eq!((person.predicted, person.correct, person.actual), (n - d + f, n - d, n));
    assert_eq!(person.precision, ratio(n - d, n - d + f));
    assert_eq!(person.recall, ratio(n - d, n));
    assert_eq!(person.f1, ratio(2 * (n - d), (n - d + f) + n));

    // Subject level, counted independently: distinct (left record, right person).
    let predicted: HashSet<(&str, &str)> =
        links.iter().map(|(l, r)| (l.as_str(), right[r].as_str())).collect();
    let correct = predicted.iter().filter(|(l, p)| left[*l] == *p).count() as u64;
    let actual = truth.iter().map(|(l, _)| l).collect::<HashSet<_>>().len() as u64;
    let subject = report.get(Level::Subject, &Group::All).expect("subject/all");
    let predicted = predicted.len() as u64;
    assert_eq!((subject.predicted, subject.correct, subject.actual), (predicted, correct, actual));
    assert_eq!(subject.recall, ratio(correct, actual));

    // Each identifier breakdown splits `all` in two; scenario rows are labelled.
    for group in [Group::NhsNumber, Group::Dob] {
        let [a, b] = [false, true].map(|p| report.get(Level::Person, &group(p)).copied());
        let sum = |f: fn(&fedlink_synth::evaluate::Evaluation) -> u64| {
            a.as_ref().map_or(0, f) + b.as_ref().map_or(0, f)
        };
        assert_eq!(sum(|e| e.predicted), person.predicted);
        assert_eq!(sum(|e| e.actual), person.actual);
    }
    assert!(report.rows.iter().all(|r| r.left == "police/death_reports" && r.right == "icb/ecds"));
    let table = to_table(&report);
    assert!(table.starts_with("left "), "{table}");
    let csv = to_csv(&report);
    assert_eq!(csv.lines().count(), report.rows.len() + 1);
    assert!(csv.starts_with("left,right,level,breakdown,group,predicted,correct,actual,"));
}

#[test]
fn unknown_datasets_records_and_headers_are_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let id = persons(LEFT.0, LEFT.1).into_keys().next().expect("a record");
    let ecds = persons(RIGHT.0, RIGHT.1).into_keys().next().expect("a record");
    let header = LINKS_HEADER.join(",");
    let write = |body: &str| {
        let path = tmp.path().join("links.csv");
        std::fs::write(&path, body).expect("write");
        path
    };

    let path = write(&format!("{header}\npolice,nope,{id},icb,ecds,{ecds}\n"));
    let err = evaluate(county(), &path).expect_err("unknown dataset");
    assert!(matches!(err, EvaluateError::UnknownDataset { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("police/nope"), "{err}");

    let path = write(&format!(
        "{header}\npolice,death_reports,{id},icb,ecds,{ecds}\n\
                               police,death_reports,NOT-A-RECORD,icb,ecds,{ecds}\n"
    ));
    let err = evaluate(county(), &path).expect_err("unknown record");
    assert!(matches!(err, EvaluateError::UnknownRecord { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("NOT-A-RECORD"), "{err}");

    let path = write(&format!("a,b,c\n{id},{ecds},x\n"));
    let err = evaluate(county(), &path).expect_err("bad header");
    assert!(matches!(err, EvaluateError::LinksHeader { .. }), "{err}");

    let path = write(&format!("{header}\n"));
    assert!(matches!(evaluate(county(), &path), Err(EvaluateError::NoLinks(_))));
}
