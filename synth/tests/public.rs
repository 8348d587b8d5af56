//! The public folder: the LSOA → ward → local authority lookup covers every area code the
//! extracts use, ward populations add up, and the population is the truth's residents on the
//! reference date.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::util::{Table, county};

fn public(name: &str) -> Table {
    Table::read(&county().join("public").join(format!("{name}.csv")))
}

fn summary() -> toml::Table {
    let text = std::fs::read_to_string(county().join("summary.toml")).expect("summary.toml");
    text.parse().expect("summary.toml parses")
}

/// Non-empty values of a column.
fn codes<'a>(t: &'a Table, column: &str) -> impl Iterator<Item = &'a str> + 'a {
    t.values(column).filter(|v| !v.is_empty())
}

#[test]
fn headers_are_exact_and_rows_sorted_unique_and_well_formed() {
    let geo = public("geography");
    assert_eq!(
        geo.header,
        [
            "lsoa",
            "lsoa_name",
            "ward",
            "ward_name",
            "local_authority",
            "local_authority_name",
            "population"
        ]
    );
    let lsoas: Vec<&str> = geo.values("lsoa").collect();
    assert!(lsoas.windows(2).all(|w| w[0] < w[1]), "LSOAs sorted and unique");
    for r in &geo.rows {
        assert!(r[0].starts_with("E0199") && r[0].len() == 9, "{r:?}");
        assert!(r[2].starts_with("E0599") && r[2].len() == 9, "{r:?}");
        assert!(["E06000991", "E06000992"].contains(&r[4].as_str()), "{r:?}");
        assert!(r.iter().all(|v| !v.is_empty()), "{r:?}");
        assert!(r[1].starts_with(&r[5]), "LSOA name starts with the LA name: {r:?}");
        r[6].parse::<u64>().expect("population is a count");
    }
    let names: HashSet<&str> = geo.values("lsoa_name").collect();
    assert_eq!(names.len(), geo.rows.len(), "LSOA names are unique");

    let wards = public("ward_population");
    assert_eq!(wards.header, ["ward", "ward_name", "local_authority", "population"]);
    let codes: Vec<&str> = wards.values("ward").collect();
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "wards sorted and unique");
    let in_geo: HashSet<&str> = geo.values("ward").collect();
    assert_eq!(in_geo, codes.iter().copied().collect(), "the same wards in both files");

    let readme = std::fs::read_to_string(county().join("public/README.md")).expect("README");
    assert!(readme.contains("ONS") && readme.contains("mid-year"), "{readme}");
    assert!(!readme.contains("{DATE}"));
}

#[test]
fn every_area_code_in_the_extracts_is_in_the_lookup() {
    let geo = public("geography");
    let lsoas: HashSet<&str> = geo.values("lsoa").collect();
    let wards: HashSet<&str> = geo.values("ward").collect();
    let las: HashSet<&str> = geo.values("local_authority").collect();
    let uses = [
        ("police", "crimes", "incident_lsoa", &lsoas),
        ("police", "crimes", "incident_ward", &wards),
        ("police", "crimes", "incident_la", &las),
        ("police", "death_reports", "lsoa_code", &lsoas),
        ("police", "death_reports", "ward_code", &wards),
        ("police", "death_reports", "la_code", &las),
        ("icb", "ecds", "Der_Postcode_LSOA_Code", &lsoas),
        ("icb", "apc", "Der_Postcode_LSOA_Code", &lsoas),
        ("council-east", "cin_referrals", "LSOA", &lsoas),
        ("council-east", "cin_referrals", "Ward", &wards),
        ("council-west", "llpg", "LSOA_CODE", &lsoas),
        ("council-west", "llpg", "WARD_CODE", &wards),
    ];
    for (node, dataset, column, known) in uses {
        let t = Table::data(node, dataset);
        let mut seen = 0;
        for code in codes(&t, column) {
            assert!(known.contains(code), "{node}/{dataset}.{column} = {code} not in geography");
            seen += 1;
        }
        assert!(seen > 0, "{node}/{dataset}.{column} has codes to check");
    }
    // Where a crime records all three, they agree with the lookup.
    let by_lsoa: HashMap<&str, (&str, &str)> =
        geo.rows.iter().map(|r| (r[0].as_str(), (r[2].as_str(), r[4].as_str()))).collect();
    let crimes = Table::data("police", "crimes");
    let (l, w, a) =
        (crimes.col("incident_lsoa"), crimes.col("incident_ward"), crimes.col("incident_la"));
    for r in crimes.rows.iter().filter(|r| !r[l].is_empty() && !r[w].is_empty()) {
        assert_eq!(by_lsoa[r[l].as_str()], (r[w].as_str(), r[a].as_str()), "{r:?}");
    }
    // Every address of the truth lies in its lookup row.
    let addresses = Table::truth("address");
    let (l, w, a) = (addresses.col("lsoa"), addresses.col("ward"), addresses.col("la"));
    for r in &addresses.rows {
        assert_eq!(by_lsoa[r[l].as_str()], (r[w].as_str(), r[a].as_str()), "{r:?}");
    }
}

#[test]
fn ward_populations_are_the_sums_of_their_lsoas() {
    let geo = public("geography");
    let mut sums: BTreeMap<&str, (u64, &str, &str)> = BTreeMap::new();
    for r in &geo.rows {
        let e = sums.entry(r[2].as_str()).or_insert((0, r[3].as_str(), r[4].as_str()));
        e.0 += r[6].parse::<u64>().expect("count");
        assert_eq!((e.1, e.2), (r[3].as_str(), r[4].as_str()), "a ward has one name and LA");
    }
    let wards = public("ward_population");
    assert_eq!(wards.rows.len(), sums.len());
    for r in &wards.rows {
        let (sum, name, la) = sums[r[0].as_str()];
        assert_eq!(r[3].parse::<u64>().expect("count"), sum, "{r:?}");
        assert_eq!((r[1].as_str(), r[2].as_str()), (name, la), "{r:?}");
    }
    assert!(wards.rows.iter().all(|r| r[3] != "0"), "every ward has residents");
}

#[test]
fn the_population_is_the_truths_residents_on_the_reference_date() {
    let summary = summary();
    let date = summary["population_date"].as_str().expect("population_date");
    assert_eq!(date, "2024-09-30");
    let residents = summary["residents"].as_integer().expect("residents");
    let people = summary["people"].as_integer().expect("people");
    assert!(residents > 0 && residents <= people, "{residents} of {people}");

    let geo = public("geography");
    let total: u64 = geo.values("population").map(|p| p.parse::<u64>().expect("count")).sum();
    assert_eq!(i64::try_from(total).expect("fits"), residents);

    // Recount from the truth: each person alive on the date at the address they moved to last.
    let address_lsoa: Vec<String> =
        Table::truth("address").values("lsoa").map(String::from).collect();
    let residence = Table::truth("residence");
    let mut at: HashMap<&str, (&str, &str)> = HashMap::new();
    for r in &residence.rows {
        let (person, address, from, to) = (&r[0], &r[1], r[2].as_str(), r[3].as_str());
        if from <= date && (to.is_empty() || date < to) {
            let e = at.entry(person.as_str()).or_insert((from, address.as_str()));
            if from >= e.0 {
                *e = (from, address.as_str());
            }
        }
    }
    let mut by_lsoa: HashMap<&str, u64> = HashMap::new();
    for (_, address) in at.values() {
        let i: usize = address.parse().expect("address id");
        *by_lsoa.entry(address_lsoa[i].as_str()).or_default() += 1;
    }
    assert_eq!(at.len() as u64, total);
    for r in &geo.rows {
        let expected = by_lsoa.get(r[0].as_str()).copied().unwrap_or(0);
        assert_eq!(r[6].parse::<u64>().expect("count"), expected, "{r:?}");
    }
}
