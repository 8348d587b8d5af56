//! Quality of the unique-key matcher on a small synthetic county, scored against its truth
//! bundle and printed in the test output.

use std::path::Path;

use super::*;

/// A dataset's rows through the node's own import path (schema → plan → normalise_record),
/// without the SQLite store, and how many rows it would quarantine (skipped here).
fn read_dataset(county: &Path, node: &str, dataset: &str) -> (Vec<NormalisedRow>, usize) {
    let schema_path = county.join(node).join("datasets").join(format!("{dataset}.toml"));
    let schema_text = std::fs::read_to_string(schema_path).expect("the schema file is readable");
    let schema = DatasetSchema::from_toml(&schema_text).expect("the synthetic schema is valid");
    let delimiter = u8::try_from(u32::from(schema.delimiter)).expect("an ASCII delimiter");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_path(county.join(node).join("data").join(format!("{dataset}.csv")))
        .expect("the data file opens");
    let mut records = reader.byte_records();
    let header = records.next().expect("a header row").expect("a readable header row");
    let header: Vec<String> =
        header.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let plan = ImportPlan::new(&schema, &header).expect("the header fits the schema");
    let (mut rows, mut quarantined) = (Vec::new(), 0);
    for record in records {
        match normalise_record(&plan, &record.expect("a readable CSV record")) {
            Ok(row) => rows.push(row),
            Err(_) => quarantined += 1,
        }
    }
    (rows, quarantined)
}

/// `(node, dataset, record id)` → true person id, from `truth/record_map.csv`.
fn true_persons(county: &Path) -> HashMap<(String, String, String), String> {
    let path = county.join("truth").join("record_map.csv");
    let mut reader = csv::Reader::from_path(path).expect("the record map opens");
    reader
        .records()
        .map(|r| r.expect("a readable record-map row"))
        .filter(|r| !r[3].is_empty())
        .map(|r| ((r[0].to_owned(), r[1].to_owned(), r[2].to_owned()), r[3].to_owned()))
        .collect()
}

/// (precision, recall) from the number predicted, the number of those that are right, and the
/// number that should have been found.
fn score(predicted: usize, correct: usize, actual: usize) -> (f64, f64) {
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(correct, predicted), ratio(correct, actual))
}

/// The partner's subjects: a stand-in for its own plaintext clustering (design-review F4 item
/// 1), here records joined when they share an NHS number or an exact forename, surname and DOB
/// (union-find). Without it, one patient seen once with and once without an NHS number is two
/// subjects sharing `name_dob`, and unique-or-random would drop that key from both.
fn cluster<'a>(rows: &'a [NormalisedRow], selection: &KeySelection) -> Vec<Vec<&'a NormalisedRow>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    let mut first_holder: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        for key in selection.record_keys(&row.ids) {
            if matches!(key.key_type(), KeyType::Nhs | KeyType::NameDob) {
                let j = *first_holder.entry(key.to_string()).or_insert(i);
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut clusters: BTreeMap<usize, Vec<&NormalisedRow>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        clusters.entry(root(&mut parent, i)).or_default().push(row);
    }
    clusters.into_values().collect()
}

#[test]
fn quality_on_a_synthetic_county() {
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county");
    fedlink_synth::generate(&fedlink_synth::SynthConfig::new(0.02, 7), &county, &mut |_| {})
        .unwrap();
    let truth = true_persons(&county);
    let person_of = |node: &str, dataset: &str, id: &str| {
        truth.get(&(node.to_owned(), dataset.to_owned(), id.to_owned())).cloned()
    };
    // Cohort: police death reports (the deceased), one subject per report; index date = date
    // reported. Partner: ECDS attendances clustered into subjects (see `cluster`).
    let (deaths, deaths_quarantined) = read_dataset(&county, "police", "death_reports");
    let (ed, ed_quarantined) = read_dataset(&county, "icb", "ecds");
    let key_types = person_key_types();
    let selection = KeySelection::new(key_types.clone()).unwrap();
    let ed_subjects: Vec<Vec<&NormalisedRow>> = cluster(&ed, &selection);
    let majority_person = |rows: &[&NormalisedRow]| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            if let Some(p) = person_of("icb", "ecds", &row.record_id) {
                *counts.entry(p).or_default() += 1;
            }
        }
        counts.into_iter().max_by_key(|(p, n)| (*n, std::cmp::Reverse(p.clone()))).map(|(p, _)| p)
    };
    let death_person: Vec<Option<String>> =
        deaths.iter().map(|r| person_of("police", "death_reports", &r.record_id)).collect();
    let subject_person: Vec<Option<String>> =
        ed_subjects.iter().map(|s| majority_person(s)).collect();

    // 1. Person-level linkage, untimed.
    let layout_c = TupleLayout::new(key_types.clone(), 4).unwrap();
    let layout_p = TupleLayout::new(key_types.clone(), 8).unwrap();
    let cohort: Vec<Subject> = deaths
        .iter()
        .map(|r| Subject {
            label: label("all"),
            messages: slot_messages(&selection.record_keys(&r.ids), &[SlotLabel::UNTIMED]).unwrap(),
        })
        .collect();
    let partner: Vec<Subject> = ed_subjects
        .iter()
        .map(|rows| Subject {
            label: label("all"),
            messages: rows
                .iter()
                .flat_map(|r| {
                    slot_messages(&selection.record_keys(&r.ids), &[SlotLabel::UNTIMED]).unwrap()
                })
                .collect(),
        })
        .collect();
    let c = build_tuples(&cohort, &layout_c, &mut Seeded(13)).unwrap();
    let p = build_tuples(&partner, &layout_p, &mut Seeded(14)).unwrap();
    let linkage = UniqueKeyPasses
        .link(
            Side { layout: &layout_c, tuples: &c.tuples },
            Side { layout: &layout_p, tuples: &p.tuples },
        )
        .unwrap();
    let correct = linkage
        .pairs()
        .iter()
        .filter(|pair| {
            death_person[pair.cohort].is_some()
                && death_person[pair.cohort] == subject_person[pair.partner]
        })
        .count();
    let in_ed: std::collections::HashSet<&String> = subject_person.iter().flatten().collect();
    let actual = death_person.iter().flatten().filter(|p| in_ed.contains(p)).count();
    let (precision, recall) = score(linkage.pairs().len(), correct, actual);
    println!(
        "synthetic county (scale 0.02, seed 7): {} death reports ({deaths_quarantined} \
         quarantined), {} ECDS rows ({ed_quarantined} quarantined) in {} subjects",
        deaths.len(),
        ed.len(),
        ed_subjects.len()
    );
    println!(
        "person linkage (untimed): {} linked, {correct} correct, {actual} cohort rows whose \
         person is in ECDS; precision {precision:.3}, recall {recall:.3}",
        linkage.pairs().len()
    );
    println!("  by pass: {:?}", linkage.by_pass());
    println!("  cohort build: {:?}", c.report);
    println!("  partner build: {:?}", p.report);
    assert!(precision > 0.9, "precision {precision}");
    assert!(recall > 0.5, "recall {recall}");

    // 1b. The same sides through the calibrated Fellegi–Sunter matcher (issue 6): u from
    // within-file statistics of the partner's own subjects (before unique-or-random), m by EM
    // with u fixed over all pairs, agreement read as per-family levels, the calibrated
    // threshold.
    let within = WithinFile::of_subjects(&partner, layout_p.key_types());
    let calibration = Calibration::fit(
        Side { layout: &layout_c, tuples: &c.tuples },
        Side { layout: &layout_p, tuples: &p.tuples },
        &within,
    )
    .unwrap();
    let fs_linkage = calibration
        .matcher()
        .unwrap()
        .link(
            Side { layout: &layout_c, tuples: &c.tuples },
            Side { layout: &layout_p, tuples: &p.tuples },
        )
        .unwrap();
    let fs_correct = fs_linkage
        .pairs()
        .iter()
        .filter(|pair| {
            death_person[pair.cohort].is_some()
                && death_person[pair.cohort] == subject_person[pair.partner]
        })
        .count();
    let (fs_precision, fs_recall) = score(fs_linkage.pairs().len(), fs_correct, actual);
    let f1 = |p: f64, r: f64| if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    println!(
        "  key passes:      precision {precision:.3}, recall {recall:.3}, F1 {:.3}",
        f1(precision, recall)
    );
    println!(
        "  Fellegi-Sunter:  {} linked, {fs_correct} correct; precision {fs_precision:.3}, recall \
         {fs_recall:.3}, F1 {:.3} (calibrated threshold, within-file u, EM m)",
        fs_linkage.pairs().len(),
        f1(fs_precision, fs_recall)
    );
    assert!(fs_precision > 0.9, "Fellegi-Sunter precision {fs_precision}");
    assert!(fs_recall >= recall - 0.05, "Fellegi-Sunter recall {fs_recall} vs passes {recall}");

    // 2. "An ED attendance in the 12 calendar months before the death report", month slots,
    // index month excluded: is each cohort row flagged correctly?
    let window = WindowTemplate::new("ed_12m_before", Granularity::Month, 12, false).unwrap();
    let layout_c = TupleLayout::new(key_types.clone(), window.slot_count() * 2).unwrap();
    let layout_p = TupleLayout::new(key_types.clone(), 48).unwrap();
    let index_dates: Vec<Option<Date>> = deaths.iter().map(|r| r.event_date).collect();
    let cohort: Vec<Subject> = deaths
        .iter()
        .map(|r| Subject {
            label: label("all"),
            messages: match r.event_date {
                Some(d) => {
                    slot_messages(&selection.record_keys(&r.ids), &window.cohort_slots(d).unwrap())
                        .unwrap()
                }
                None => Vec::new(),
            },
        })
        .collect();
    let partner: Vec<Subject> = ed_subjects
        .iter()
        .map(|rows| Subject {
            label: label("all"),
            messages: rows
                .iter()
                .filter_map(|r| r.event_date.map(|e| (r, e)))
                .flat_map(|(r, e)| {
                    slot_messages(
                        &selection.record_keys(&r.ids),
                        &[window.partner_slot(e).unwrap()],
                    )
                    .unwrap()
                })
                .collect(),
        })
        .collect();
    let c = build_tuples(&cohort, &layout_c, &mut Seeded(15)).unwrap();
    let p = build_tuples(&partner, &layout_p, &mut Seeded(16)).unwrap();
    let linkage = UniqueKeyPasses
        .link(
            Side { layout: &layout_c, tuples: &c.tuples },
            Side { layout: &layout_p, tuples: &p.tuples },
        )
        .unwrap();
    let mut flagged = vec![false; deaths.len()];
    for pair in linkage.pairs() {
        flagged[pair.cohort] = true;
    }
    let mut events_of: HashMap<String, Vec<Date>> = HashMap::new();
    for row in &ed {
        if let (Some(person), Some(event)) =
            (person_of("icb", "ecds", &row.record_id), row.event_date)
        {
            events_of.entry(person).or_default().push(event);
        }
    }
    let truly: Vec<bool> = death_person
        .iter()
        .zip(&index_dates)
        .map(|(person, index)| match (person, index) {
            (Some(person), Some(index)) => events_of
                .get(person)
                .is_some_and(|events| events.iter().any(|e| window.covers(*index, *e))),
            _ => false,
        })
        .collect();
    let predicted = flagged.iter().filter(|&&f| f).count();
    let correct = flagged.iter().zip(&truly).filter(|&(&f, &t)| f && t).count();
    let actual = truly.iter().filter(|&&t| t).count();
    let (precision, recall) = score(predicted, correct, actual);
    println!(
        "windowed flag (12 months before, month slots, index month excluded): {predicted} \
         flagged, {correct} correct, {actual} true; precision {precision:.3}, recall {recall:.3}"
    );
    println!("  by pass: {:?}", linkage.by_pass());
    println!("  cohort build: {:?}", c.report);
    println!("  partner build: {:?}", p.report);
    assert!(precision > 0.9, "precision {precision}");
    assert!(actual == 0 || recall > 0.5, "recall {recall}");
}
