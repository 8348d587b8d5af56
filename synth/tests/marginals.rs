//! The shared county (scale 0.04) against the configured rates (scale 1.0 values × 0.04).

use std::collections::HashSet;

use fedlink_synth::Rates;
use fedlink_synth::codes::INTENT_ASSAULT;

use crate::util::{SCALE, Table, near, per_year};

fn rates() -> Rates {
    Rates::default()
}

#[test]
fn ed_assault_attendances_per_year_sex_ratio_and_share_unknown_to_police() {
    let ecds = Table::data("icb", "ecds");
    let intent = ecds.col("EC_Injury_Intent_SNOMED_CT");
    let assaults: Vec<&Vec<String>> =
        ecds.rows.iter().filter(|r| r[intent] == INTENT_ASSAULT).collect();
    let arrival = ecds.col("Der_EC_Arrival_Date_Time");
    let years = per_year(assaults.iter().map(|r| r[arrival].as_str()));
    for (y, n) in years.iter().enumerate() {
        near(
            &format!("ED assault attendances in year {y}"),
            *n as f64,
            rates().ed_violence * SCALE,
            0.10,
        );
    }
    let sex = ecds.col("Sex");
    let males = assaults.iter().filter(|r| r[sex] == "1").count() as f64;
    let females = assaults.iter().filter(|r| r[sex] == "2").count() as f64;
    near(
        "M:F ratio of ED assault attendances",
        males / females,
        rates().ed_violence_male_per_female,
        0.15,
    );

    // Known to police = the same true event has a police record (truth record map).
    let map = Table::truth("record_map");
    let (node, dataset, id, event) =
        (map.col("node"), map.col("dataset"), map.col("record_id"), map.col("event_id"));
    let police_events: HashSet<&str> = map
        .rows
        .iter()
        .filter(|r| r[node] == "police" && !r[event].is_empty())
        .map(|r| r[event].as_str())
        .collect();
    let assault_ids: HashSet<&str> = assaults.iter().map(|r| r[0].as_str()).collect();
    let ed_events: Vec<&str> = map
        .rows
        .iter()
        .filter(|r| r[dataset] == "ecds" && assault_ids.contains(r[id].as_str()))
        .map(|r| r[event].as_str())
        .collect();
    assert_eq!(ed_events.len(), assaults.len(), "every ED assault has a truth event");
    let unknown = ed_events.iter().filter(|e| !police_events.contains(*e)).count() as f64;
    let share = unknown / ed_events.len() as f64;
    assert!(
        (share - rates().ed_violence_unknown_to_police).abs() < 0.07,
        "share of ED assault attendances unknown to police: {share:.3}"
    );
}

#[test]
fn police_death_reports_homicides_da_incidents_and_knife_crime() {
    let deaths = Table::data("police", "death_reports");
    for (y, n) in per_year(deaths.values("reported_at")).iter().enumerate() {
        near(
            &format!("death reports in year {y}"),
            *n as f64,
            rates().police_death_reports * SCALE,
            0.10,
        );
    }
    let hi = Table::data("police", "homicide_index");
    let background: f64 = rates().homicides_per_year.iter().sum::<f64>() * SCALE;
    let years = per_year(hi.values("offence_date"));
    assert!(years[2] >= 2, "the two planted homicides are in the last year: {years:?}");
    let total = years.iter().sum::<usize>() as f64;
    assert!(total >= 2.0 && total <= 2.0 + background + 4.0, "homicides {years:?}");

    let da = Table::data("police", "da_incidents");
    let refs = da.col("incident_ref");
    let at = da.col("occurred_at");
    let mut seen = HashSet::new();
    let incidents =
        per_year(da.rows.iter().filter(|r| seen.insert(r[refs].clone())).map(|r| r[at].as_str()));
    for (y, n) in incidents.iter().enumerate() {
        near(&format!("DA incidents in year {y}"), *n as f64, rates().da_incidents * SCALE, 0.10);
    }
    let crimes = Table::data("police", "crimes");
    let (cref, knife) = (crimes.col("crime_ref"), crimes.col("knife_flag"));
    let knives: HashSet<&str> =
        crimes.rows.iter().filter(|r| r[knife] == "Y").map(|r| r[cref].as_str()).collect();
    near(
        "knife crimes over three years",
        knives.len() as f64,
        rates().knife_crimes * SCALE * 3.0,
        0.25,
    );
}

#[test]
fn health_volumes() {
    let ecds = Table::data("icb", "ecds");
    for (y, n) in per_year(ecds.values("Der_EC_Arrival_Date_Time")).iter().enumerate() {
        near(&format!("all ED attendances in year {y}"), *n as f64, rates().ed_all * SCALE, 0.06);
    }
    let apc = Table::data("icb", "apc");
    let violent = apc
        .values("Der_External_Cause_Code")
        .filter(|c| {
            let n: u32 = c.get(1..3).and_then(|n| n.parse().ok()).unwrap_or(0);
            (c.starts_with('X') && n >= 85) || (c.starts_with('Y') && n <= 9)
        })
        .count();
    near(
        "violence admissions over three years",
        violent as f64,
        rates().violence_admissions * SCALE * 3.0,
        0.25,
    );
}

#[test]
fn council_volumes_and_split() {
    let r = rates();
    let mut cin = [0usize; 3];
    let mut east_cin = 0;
    let (mut asc, mut s42) = ([0usize; 3], 0usize);
    let mut homeless = [0usize; 3];
    let (mut susp, mut perm) = (0usize, 0usize);
    for council in ["council-east", "council-west"] {
        let t = Table::data(council, "cin_referrals");
        let y = per_year(t.values("CINreferralDate"));
        if council == "council-east" {
            east_cin = y.iter().sum();
        }
        (0..3).for_each(|i| cin[i] += y[i]);
        let t = Table::data(council, "adult_safeguarding");
        let y = per_year(t.values("ConcernDate"));
        (0..3).for_each(|i| asc[i] += y[i]);
        s42 += t.values("Section42Enquiry").filter(|v| *v == "Y").count();
        let t = Table::data(council, "homelessness");
        let y = per_year(t.values("AssessmentDate"));
        (0..3).for_each(|i| homeless[i] += y[i]);
        let t = Table::data(council, "school_exclusions");
        susp += t.values("Category").filter(|v| *v == "SUSP").count();
        perm += t.values("Category").filter(|v| *v == "PERM").count();
    }
    for y in 0..3 {
        near(&format!("CIN referrals in year {y}"), cin[y] as f64, r.cin_referrals * SCALE, 0.10);
        near(
            &format!("adult safeguarding concerns in year {y}"),
            asc[y] as f64,
            r.asc_concerns * SCALE,
            0.10,
        );
        near(
            &format!("homelessness cases in year {y}"),
            homeless[y] as f64,
            r.homelessness * SCALE,
            0.10,
        );
    }
    let concerns: usize = asc.iter().sum();
    near(
        "share of concerns with a s42 enquiry",
        s42 as f64 / concerns as f64,
        r.asc_s42 / r.asc_concerns,
        0.15,
    );
    near("suspensions over three years", susp as f64, r.suspensions * SCALE * 3.0, 0.10);
    near(
        "permanent exclusions over three years",
        perm as f64,
        r.permanent_exclusions * SCALE * 3.0,
        0.35,
    );
    let east = east_cin as f64 / cin.iter().sum::<usize>() as f64;
    assert!((0.45..0.70).contains(&east), "East's share of CIN referrals {east:.2}");
}
