//! Every planted scenario is in the truth bundle, and its records are in the data as planted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::util::{Table, county};

/// Roles each scenario must have among its member records.
const ROLES: [(&str, &[&str]); 12] = [
    (
        "S01_port_series",
        &["series_death", "recurring_associate", "prior_allegation_suspect", "prior_overdose"],
    ),
    ("S02_care_home_cluster", &["cluster_death", "staff_present", "safeguarding_concern"]),
    ("S03_care_home_decoy", &["decoy_death"]),
    ("S04_hostel_hotspot", &["overdose_death", "overdose_attendance"]),
    (
        "S05_da_homicide",
        &[
            "victim",
            "perpetrator",
            "ed_assault",
            "ed_assault_no_nhs_number",
            "child_referral",
            "housing_da_relief",
            "homicide_victim",
            "homicide_suspect",
        ],
    ),
    ("S06_da_suicide", &["victim", "perpetrator", "ed_self_harm", "svsda_death"]),
    (
        "S07_youth_knife_network",
        &[
            "exclusion",
            "cin_referral",
            "unreported_stabbing",
            "stabbing_victim",
            "stabbing_suspect",
            "stabbing_admission",
            "knife_possession",
            "fatal_stabbing_victim",
            "fatal_stabbing_suspect",
        ],
    ),
    ("S08_twins", &["twin_a", "twin_b"]),
    ("S09_father_son", &["father", "son"]),
    ("S10_mothers_nhs_on_child", &["child_record_with_mothers_nhs_number", "mother", "child"]),
    (
        "S11_reissued_nhs_number",
        &["pre_adoption_referral", "pre_adoption_ed", "post_adoption_ed", "post_adoption_referral"],
    ),
    ("S12_birthday_collision", &["person_a", "person_b"]),
];

/// A member record: (scenario, node, dataset, record id, role, person).
type Member = (String, String, String, String, String, String);

fn members() -> Vec<Member> {
    let t = Table::truth("scenario_member");
    t.rows
        .iter()
        .map(|r| {
            (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone(), r[4].clone(), r[5].clone())
        })
        .collect()
}

/// The data row of a record, by node and dataset (record id = first column).
fn row(
    cache: &mut HashMap<(String, String), Table>,
    node: &str,
    dataset: &str,
    id: &str,
) -> Option<Vec<String>> {
    let t = cache
        .entry((node.to_string(), dataset.to_string()))
        .or_insert_with(|| Table::data(node, dataset));
    t.rows.iter().find(|r| r[0] == id).cloned()
}

#[test]
fn every_planted_scenario_is_in_the_truth_with_its_records_in_the_data() {
    let scenarios = Table::truth("scenario");
    let ids: BTreeSet<&str> = scenarios.values("scenario_id").collect();
    let expected: BTreeSet<&str> = ROLES.iter().map(|(s, _)| *s).collect();
    assert_eq!(ids, expected);
    let members = members();
    let map = Table::truth("record_map");
    let truth_person: HashMap<(&str, &str, &str), &str> = map
        .rows
        .iter()
        .map(|r| ((r[0].as_str(), r[1].as_str(), r[2].as_str()), r[3].as_str()))
        .collect();
    let mut cache = HashMap::new();
    let mut roles: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (s, node, dataset, id, role, person) in &members {
        assert!(row(&mut cache, node, dataset, id).is_some(), "{s}: {node}/{dataset}/{id} missing");
        assert_eq!(
            truth_person.get(&(node.as_str(), dataset.as_str(), id.as_str())),
            Some(&person.as_str()),
            "{s}: record map disagrees for {id}"
        );
        roles.entry(s).or_default().insert(role);
        *counts.entry(s).or_default() += 1;
    }
    for (s, want) in ROLES {
        for r in want {
            assert!(roles.get(s).is_some_and(|have| have.contains(r)), "{s} lacks role {r}");
        }
    }
    for (i, s) in scenarios.values("scenario_id").enumerate() {
        let listed: usize =
            scenarios.rows[i][scenarios.col("member_records")].parse().expect("count");
        assert_eq!(listed, counts[s], "{s}: member_records");
    }
}

#[test]
fn port_series_links_four_deaths_through_one_man_under_name_variants() {
    let m: Vec<Member> = members().into_iter().filter(|m| m.0 == "S01_port_series").collect();
    let deaths: Vec<&Member> = m.iter().filter(|x| x.2 == "death_reports").collect();
    assert_eq!(deaths.len(), 4);
    let persons = Table::data("police", "death_report_persons");
    let (dr, nominal, fore) =
        (persons.col("dr_id"), persons.col("nominal_id"), persons.col("forenames"));
    let assoc: Vec<&Vec<String>> = m
        .iter()
        .filter(|x| x.4 == "recurring_associate")
        .map(|x| persons.rows.iter().find(|r| r[0] == x.3).expect("row"))
        .collect();
    let reports: HashSet<&str> = assoc.iter().map(|r| r[dr].as_str()).collect();
    let nominals: HashSet<&str> = assoc.iter().map(|r| r[nominal].as_str()).collect();
    let forenames: HashSet<&str> = assoc.iter().map(|r| r[fore].as_str()).collect();
    assert_eq!(reports.len(), 4, "the associate is linked to all four deaths");
    assert!(nominals.len() >= 3, "under several police nominal records: {nominals:?}");
    assert!(forenames.len() >= 3, "under name variants: {forenames:?}");
    let people: HashSet<&str> =
        m.iter().filter(|x| x.4 == "recurring_associate").map(|x| x.5.as_str()).collect();
    assert_eq!(people.len(), 1, "one true person");
    // The deaths share places: a UPRN twice, and a parent UPRN joins the flat and its block.
    let dr_table = Table::data("police", "death_reports");
    let (uprn, parent) = (dr_table.col("location_uprn"), dr_table.col("location_parent_uprn"));
    let rows: Vec<&Vec<String>> =
        deaths.iter().map(|x| dr_table.rows.iter().find(|r| r[0] == x.3).expect("row")).collect();
    let uprns: Vec<&str> = rows.iter().map(|r| r[uprn].as_str()).collect();
    assert!(uprns.iter().all(|u| !u.is_empty()));
    let distinct: HashSet<&&str> = uprns.iter().collect();
    assert!(distinct.len() <= 3, "{uprns:?}");
    assert!(
        rows.iter().any(|r| uprns.contains(&r[parent].as_str())),
        "a flat's parent is another death's place"
    );
}

#[test]
fn decoys_look_alike_but_are_different_people() {
    let people = Table::truth("person");
    let (nhs, prev) = (people.col("nhs_number"), people.col("previous_nhs_number"));
    let person = |id: &str| &people.rows[id.parse::<usize>().expect("id")];
    let m = members();
    let ecds = Table::data("icb", "ecds");
    let nhs_col = ecds.col("NHS_Number");
    let ed = |id: &str| ecds.rows.iter().find(|r| r[0] == id).expect("ecds row");
    let find = |s: &str, role: &str| -> Vec<&Member> {
        m.iter().filter(|x| x.0 == s && x.4 == role).collect()
    };

    let child = find("S10_mothers_nhs_on_child", "child_record_with_mothers_nhs_number")[0];
    let mother = find("S10_mothers_nhs_on_child", "mother")[0];
    assert_eq!(ed(&child.3)[nhs_col], person(&mother.5)[nhs]);
    assert_ne!(ed(&child.3)[nhs_col], person(&child.5)[nhs]);

    let before = find("S11_reissued_nhs_number", "pre_adoption_ed")[0];
    let after = find("S11_reissued_nhs_number", "post_adoption_ed")[0];
    assert_eq!(before.5, after.5, "one person");
    assert_eq!(ed(&before.3)[nhs_col], person(&before.5)[prev]);
    assert_eq!(ed(&after.3)[nhs_col], person(&after.5)[nhs]);
    assert_ne!(person(&before.5)[prev], person(&before.5)[nhs]);

    for (s, a, b) in [
        ("S08_twins", "twin_a", "twin_b"),
        ("S09_father_son", "father", "son"),
        ("S12_birthday_collision", "person_a", "person_b"),
    ] {
        let (pa, pb) = (&find(s, a)[0].5, &find(s, b)[0].5);
        assert_ne!(pa, pb, "{s}: two people");
        let fam = people.col("family_name");
        assert_eq!(person(pa)[fam], person(pb)[fam], "{s}: same surname");
    }
    let dob = people.col("dob");
    let twins = (&find("S08_twins", "twin_a")[0].5, &find("S08_twins", "twin_b")[0].5);
    assert_eq!(person(twins.0)[dob], person(twins.1)[dob]);
}

#[test]
fn da_homicide_and_knife_network_records_are_as_planted() {
    let m = members();
    let ecds = Table::data("icb", "ecds");
    let nhs = ecds.col("NHS_Number");
    let no_nhs = m.iter().find(|x| x.4 == "ed_assault_no_nhs_number").expect("member");
    let row = ecds.rows.iter().find(|r| r[0] == no_nhs.3).expect("row");
    assert!(row[nhs].is_empty());
    let hi = Table::data("police", "homicide_index");
    let sub = hi.col("ho_subtype");
    for (role, subtype) in [("homicide_victim", "1"), ("fatal_stabbing_victim", "3")] {
        let id = &m.iter().find(|x| x.4 == role && x.2 == "homicide_index").expect(role).3;
        let r = hi.rows.iter().find(|r| &r[0] == id).expect("hi row");
        assert_eq!(r[sub], subtype, "{role}");
    }
    // The unreported stabbing has no police record of its event.
    let map = Table::truth("record_map");
    let unreported = m.iter().find(|x| x.4 == "unreported_stabbing").expect("member");
    let event =
        map.rows.iter().find(|r| r[2] == unreported.3 && r[1] == "ecds").expect("map")[5].clone();
    assert!(!map.rows.iter().any(|r| r[0] == "police" && r[5] == event));
    assert!(county().join("truth/README.md").exists());
}
