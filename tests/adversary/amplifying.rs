//! F4, amplifying cohort (design-review §2.2 (b), §10 item 3): the coordinator, who also runs
//! the police node, fills the cohort with copies of one person y, hoping each copy links to
//! y's ED record and multiplies y's contribution to the count — 20× for 20 copies, which DP
//! noise calibrated to one subject would then not hide.
//!
//! The defences under test: the cohort node groups rows into one subject per person (windows
//! unioned), unique-or-random drops a key two cohort subjects share, and at the computing node
//! each partner subject credits at most one cohort tuple. Whatever the copies, the released
//! cell moves by at most 1 from the cohort without y.
//!
//! With the exact test seam at the ICB, so each run's cell is the count before noise.

use fedlink_coordinator::link::query::LinkQuery;

use super::fixture::{LinkFed, Person, Row, Setup, cell, count_query, describe, fillers};
use crate::util::runtime;

/// y, the person the attacker wants to count many times.
fn y() -> Person {
    Person::synthetic(1000)
}

/// y's index dates for copies with non-overlapping 12-month windows: the 15th of June of
/// 2014, …, 2025. Each window is the 12 whole months before its index month, so window k
/// covers June of year k − 1 to May of year k and no two share a month.
fn yearly_index_dates() -> Vec<String> {
    (2014..2026).map(|year| format!("{year}-06-15")).collect()
}

/// The police cohort: 10 fillers the ICB never saw (group `base`), and groups of copies of y.
fn police_rows() -> Vec<Row> {
    let y = y();
    let day = "2025-06-15";
    let mut rows = fillers("F", 100, 10, day, "base");
    rows.push(Row::new("Y1", y.clone(), day, "single"));
    // 20 identical copies: same identifiers, 20 record ids.
    rows.extend((0..20).map(|i| Row::new(format!("C{i}"), y.clone(), day, "copies")));
    // Keys sur_dob_pcd only (no NHS number, no forenames): the import cannot tell the copies
    // are one person, so each is its own cohort subject.
    let thin = y.only(&["family", "dob", "postcode"]);
    rows.push(Row::new("T1", thin.clone(), day, "thin_single"));
    rows.extend((0..20).map(|i| Row::new(format!("T{}", i + 2), thin.clone(), day, "thin_copies")));
    // 3 split copies: disjoint key types (nhs; name_dob + init_sur_dob; sur_dob_pcd), so
    // three cohort subjects with nothing in common.
    rows.push(Row::new("S1", y.only(&["nhs"]), day, "split"));
    rows.push(Row::new("S2", y.only(&["given", "family", "dob"]), day, "split"));
    rows.push(Row::new("S3", thin.clone(), day, "split"));
    // 12 copies with non-overlapping windows: the same person (one subject, windows unioned),
    // and the thin kind (12 subjects sharing their one key).
    for (i, index) in yearly_index_dates().iter().enumerate() {
        rows.push(Row::new(format!("W{i}"), y.clone(), index, "windows"));
        rows.push(Row::new(format!("V{i}"), thin.clone(), index, "thin_windows"));
    }
    rows
}

/// The ICB: y attended once in each of the 12 windows (March of each year), and 5 other
/// people attended too.
fn icb_rows() -> Vec<Row> {
    let mut rows: Vec<Row> = (2014..2026)
        .map(|year| Row::new(format!("E{year}"), y(), &format!("{year}-03-10"), "assault"))
        .collect();
    rows.extend(fillers("G", 2000, 5, "2025-02-01", "assault"));
    rows
}

/// The exact (all, all) cell of the count over the cohort `grp = base | group`.
fn count(fed: &LinkFed, group: &str) -> i64 {
    let filter =
        if group.is_empty() { "grp=base".to_string() } else { format!("grp=base|{group}") };
    let query: LinkQuery = count_query(&[&filter], None);
    let run = runtime().block_on(fed.run_with(&query, &mut fed.transport(), None));
    assert!(run.ok(), "{group}: {}", describe(&run));
    let released = fed_rules(&run);
    assert!(
        released.first().is_some_and(|r| r.starts_with("test-seam:exact")),
        "the seam makes counts exact: {released:?}"
    );
    cell(&run, "all", "all")
}

fn fed_rules(run: &fedlink_coordinator::link::LinkRun) -> Vec<String> {
    run.release().map(|r| r.table.applied_rules().to_vec()).unwrap_or_default()
}

#[test]
fn copies_of_one_person_move_a_cell_by_at_most_one() {
    let fed = LinkFed::start(&Setup::exact(police_rows(), icb_rows()));

    // Without y the cell is 0; with y once, 1: the fixture links, so an amplified count would
    // show.
    let without = count(&fed, "");
    assert_eq!(without, 0, "the fillers are not at the ICB");
    assert_eq!(count(&fed, "single"), 1, "y once links once");
    assert_eq!(count(&fed, "thin_single"), 1, "y on sur_dob_pcd alone links once");

    // 20 identical copies: one subject at the cohort node, so one tuple.
    let identical = count(&fed, "copies");
    // 20 copies the import cannot group: unique-or-random drops their shared key from all 20.
    let thin = count(&fed, "thin_copies");
    // 3 split copies: 3 cohort tuples, but y's one ICB subject credits only one of them.
    let split = count(&fed, "split");
    // 12 copies whose windows each hold one of y's attendances.
    let windows = count(&fed, "windows");
    let thin_windows = count(&fed, "thin_windows");

    eprintln!(
        "amplifying cohort, exact counts (without y: {without}): 20 identical copies {identical}, \
         20 ungroupable copies {thin}, 3 split copies {split}, 12 windowed copies {windows}, \
         12 ungroupable windowed copies {thin_windows}"
    );
    for (attack, value) in [
        ("20 identical copies", identical),
        ("20 ungroupable copies", thin),
        ("3 split copies", split),
        ("12 windowed copies", windows),
        ("12 ungroupable windowed copies", thin_windows),
    ] {
        assert!(
            (value - without).abs() <= 1,
            "{attack} moved the cell from {without} to {value}: y was counted more than once"
        );
    }
    // How each defence shows: grouping keeps y once; unique-or-random drops shared keys.
    assert_eq!(identical, 1, "identical copies are one subject");
    assert_eq!(windows, 1, "one subject, windows unioned");
    assert_eq!(thin, 0, "a key 20 subjects share links nobody");
    assert_eq!(thin_windows, 0, "a key 12 subjects share links nobody, whatever the slots");
    assert_eq!(split, 1, "one partner subject credits one cohort tuple");
}
