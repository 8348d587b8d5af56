//! Calibrated linkage end to end (issue 6; design-review F18), with real node processes and the
//! real `fedlink coordinator link` binary: the ICB's rule links with a stored model, so a count
//! is refused until a calibration run has stored one; a calibration run fits on two whole
//! datasets and returns only the model's version and digest; later counts name that digest,
//! release the model's noised quality estimates beside the table, and never change the stored
//! model whatever their cohort.
//!
//! The people: 48 in the police cohort, 36 of them also at the ICB. Every pair that shares a
//! key is the same person (no namesakes, no twins), so any sensible model links exactly the 36;
//! the data exercise the wiring, while the model's accuracy is measured on the synthetic
//! county (`fedlink linkage evaluate`, node/tests/linkage).

use std::path::Path;

use serde_json::Value as Json;

use crate::link::{entries_for, give_node, json_of, link, refusal};
use crate::util::{TestFederation, fedlink, text};

const PEOPLE: usize = 48;
const SHARED: usize = 36;

const SCHEMA: &str = r#"
name = "{NAME}"
description = "Calibration tests"
subject = "person"

[[column]]
name = "ref"
role = "record_id"

[[column]]
name = "nhs"
role = "nhs_number"

[[column]]
name = "forenames"
role = "forenames"

[[column]]
name = "surname"
role = "surname"

[[column]]
name = "dob"
role = "dob"

[[column]]
name = "postcode"
role = "postcode"

[[column]]
name = "seen"
role = "event_date"

[[column]]
name = "half"
role = "category"
codes = ["first", "second"]
"#;

const FORENAMES: [&str; 12] =
    ["Ann", "Beth", "Cara", "Dina", "Evan", "Finn", "Gail", "Hugo", "Iris", "Jack", "Kemi", "Liam"];
const SURNAMES: [&str; 8] =
    ["Abbott", "Booth", "Cross", "Doyle", "Ennis", "Frost", "Grant", "Hale"];

/// Person i's identifiers: distinct name and date-of-birth combinations.
fn person(i: usize) -> (String, String, String, String) {
    let forename = FORENAMES[i % FORENAMES.len()].to_string();
    let surname = SURNAMES[i / FORENAMES.len() % SURNAMES.len()].to_string();
    let dob = format!("19{:02}-{:02}-{:02}", 40 + i % 50, 1 + i % 12, 1 + i % 28);
    let postcode = format!("LS{} {}AB", 1 + i % 9, 1 + i % 9);
    (forename, surname, dob, postcode)
}

/// Police: one row per person, an NHS number for one in three, `half` splitting the cohort.
fn police_csv() -> String {
    let mut csv = "ref,nhs,forenames,surname,dob,postcode,seen,half\n".to_string();
    for i in 0..PEOPLE {
        let (f, s, dob, pc) = person(i);
        let nhs = if i % 3 == 0 { crate::link::nhs(100 + i) } else { String::new() };
        let half = if i % 2 == 0 { "first" } else { "second" };
        csv.push_str(&format!("P{i:03},{nhs},{f},{s},{dob},{pc},2025-06-01,{half}\n"));
    }
    csv
}

/// ICB: the first SHARED people, each with an NHS number; one in four has moved (another
/// postcode), so it agrees on name and date of birth but not on surname + DOB + postcode.
fn icb_csv() -> String {
    let mut csv = "ref,nhs,forenames,surname,dob,postcode,seen,half\n".to_string();
    for i in 0..SHARED {
        let (f, s, dob, pc) = person(i);
        let pc = if i % 4 == 1 { format!("M{} 9XY", 1 + i % 9) } else { pc };
        csv.push_str(&format!(
            "E{i:03},{},{f},{s},{dob},{pc},2025-05-01,first\n",
            crate::link::nhs(100 + i)
        ));
    }
    csv
}

const POLICE_RULES: &str = r#"
[[linkage]]
dataset = "people"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["cohort"]
key_types = ["nhs", "name_dob", "sur_dob_pcd"]
labels = { vocabulary = ["all"], k_min = 2 }
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }
"#;

const ICB_RULES: &str = r#"
[budget]
period = "financial_year"
coordinator_epsilon = "100"
requester_epsilon = "100"

[[linkage]]
dataset = "attendances"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["partner", "computing"]
key_types = ["nhs", "name_dob", "sur_dob_pcd"]
labels = { vocabulary = ["all"], k_min = 1 }
cohort_sources = ["police/people", "police/other"]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }
matcher = { calibrate_against = ["police/people"] }
"#;

fn setup() -> TestFederation {
    let fed = TestFederation::new();
    let people = SCHEMA.replace("{NAME}", "people");
    give_node(&fed, "police", "people", &people, &police_csv(), POLICE_RULES);
    // The same people as another dataset: an accepted cohort, but not a calibration partner.
    let other = SCHEMA.replace("{NAME}", "other");
    let other_rules = POLICE_RULES.replace("dataset = \"people\"", "dataset = \"other\"");
    give_node(&fed, "police", "other", &other, &police_csv(), &other_rules);
    let attendances = SCHEMA.replace("{NAME}", "attendances");
    give_node(&fed, "icb", "attendances", &attendances, &icb_csv(), ICB_RULES);
    for node in ["police", "icb"] {
        let path = fed.member_dir(node).join("policy.toml");
        let policy = std::fs::read_to_string(&path).expect("policy");
        let enabled = policy.replacen("calibrate = false", "calibrate = true", 1);
        assert!(enabled.contains("calibrate = true"), "{node}'s policy has a [modes] table");
        std::fs::write(&path, enabled).expect("write policy");
    }
    fed.append_to_node_config("icb", "danger_exact_linked_counts = true");
    fed
}

fn query(kind: &str, filter: &str, cohort: &str) -> String {
    format!(
        r#"title = "{kind}"
kind = "{kind}"
unit = "person"
key_types = ["nhs", "name_dob", "sur_dob_pcd"]
purpose = "HMICFRS-R2-DEATH-ANALYSIS"

[[side]]
member = "police"
dataset = "{cohort}"
role = "cohort"
{filter}

[[side]]
member = "icb"
dataset = "attendances"
"#
    )
}

/// The stored model files of the ICB's dataset, by name, with their bytes.
fn stored(fed: &TestFederation) -> Vec<(String, Vec<u8>)> {
    let dir = fed.member_dir("icb").join("data/calibrations/attendances");
    let mut files: Vec<(String, Vec<u8>)> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("entry").path())
            .map(|p| (file_name(&p), std::fs::read(&p).expect("read model")))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).expect("name").to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    fedlink_proto::envelope::sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A count's exact cell (the test seam) and its matcher and model estimates.
fn count_of(json: &Json) -> (u64, String, Json) {
    let cells = json["table"]["cells"].as_array().expect("cells");
    let count = cells[0]["count"].as_u64().expect("a count");
    (count, json["matcher"].as_str().expect("matcher").to_string(), json["model_estimates"].clone())
}

#[test]
fn counts_link_with_the_stored_model_that_only_a_whole_dataset_calibration_run_can_make() {
    let fed = setup();
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");

    // 1. No model stored yet: the ICB refuses the count before admitting it, naming the rule.
    let out = link(&fed, "count-before", &query("count", "", "people"));
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(refusal(&out, "icb").1, "policy.linkage.calibration", "{}", text(&out));

    // 2. A calibration run must use whole datasets, against a partner set the rule lists.
    let out = link(
        &fed,
        "calibrate-filtered",
        &query("calibrate", "filter = [\"half=first\"]", "people"),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(refusal(&out, "police").1, "policy.linkage.calibration", "{}", text(&out));
    assert!(stored(&fed).is_empty(), "a refused run stores nothing");

    // 3. The calibration run: only the version and the file's digest come back.
    let out = link(&fed, "calibrate", &query("calibrate", "", "people"));
    assert!(out.status.success(), "{}", text(&out));
    let json = json_of(&out);
    let files = stored(&fed);
    assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["v1.toml"]);
    let digest = sha256_hex(&files[0].1);
    let icb_part = json["nodes"].as_array().expect("nodes").iter().find(|p| p["member"] == "icb");
    let detail = icb_part.and_then(|p| p["detail"].as_str()).expect("icb detail");
    assert!(
        detail.contains("stored calibration v1 of attendances") && detail.contains(&digest),
        "{detail}"
    );
    assert!(json["table"].is_null(), "a calibration run releases no table: {json:#}");
    let calibration_id = json["query_id"].as_str().expect("id").to_string();
    let logged = entries_for(&fed, "icb", &calibration_id);
    assert!(
        logged.iter().any(|e| e.detail.contains(&format!("calibrated v1 sha256:{digest}"))),
        "the ICB's log names the stored model"
    );
    let model_text = String::from_utf8(files[0].1.clone()).expect("utf8");
    assert!(model_text.contains("cohort = \"police/people\""), "{model_text}");
    assert!(!model_text.contains("Abbott"), "no identifier is stored in a model");

    // The operator sees it.
    let out = fedlink()
        .args(["node", "calibrations", "--config"])
        .arg(fed.node_config("icb"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(listing.contains("attendances: 1 stored") && listing.contains(&digest), "{listing}");
    println!("{listing}");

    // 4. Counts link with it: every shared person is linked (every candidate pair is a true
    // one here), the table names the model, and its noised estimates travel beside it.
    let out = link(&fed, "count-all", &query("count", "", "people"));
    assert!(out.status.success(), "{}", text(&out));
    let (count, matcher, estimates) = count_of(&json_of(&out));
    println!("count over the whole cohort: {count}; matcher {matcher}; estimates {estimates}");
    assert_eq!(count, SHARED as u64);
    assert_eq!(matcher, format!("calibrated v1 sha256:{digest}"));
    for figure in ["expected_true_links", "expected_missed_links"] {
        assert!(estimates[figure].is_object(), "{figure} is released: {estimates:#}");
    }

    // 5. F18: a requester's cohort cannot steer the weights. Half the cohort, and a cohort of
    // the other half, link with the same stored model, and no query changes or adds a model.
    let out = link(&fed, "count-first", &query("count", "filter = [\"half=first\"]", "people"));
    assert!(out.status.success(), "{}", text(&out));
    let (first, first_matcher, _) = count_of(&json_of(&out));
    let out = link(&fed, "count-second", &query("count", "filter = [\"half=second\"]", "people"));
    assert!(out.status.success(), "{}", text(&out));
    let (second, second_matcher, _) = count_of(&json_of(&out));
    assert_eq!(
        (first_matcher.as_str(), second_matcher.as_str()),
        (matcher.as_str(), matcher.as_str())
    );
    assert_eq!(first + second, SHARED as u64);
    assert_eq!(stored(&fed), files, "queries read the stored model and never write it");

    // 6. A calibration against a source the matcher section does not list is refused, even
    // though the rule accepts that source as a cohort.
    let out = link(&fed, "calibrate-other", &query("calibrate", "", "other"));
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(refusal(&out, "icb").1, "policy.linkage.calibration", "{}", text(&out));
    assert_eq!(stored(&fed), files);

    // A second run stores a second version; the latest is then used.
    let out = link(&fed, "calibrate-again", &query("calibrate", "", "people"));
    assert!(out.status.success(), "{}", text(&out));
    let files = stored(&fed);
    assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["v1.toml", "v2.toml"]);
    let out = link(&fed, "count-latest", &query("count", "", "people"));
    let (_, latest, _) = count_of(&json_of(&out));
    assert_eq!(latest, format!("calibrated v2 sha256:{}", sha256_hex(&files[1].1)));

    for (name, node) in [("police", &mut police), ("icb", &mut icb)] {
        assert!(node.stop(), "{name} exits cleanly");
        let out = fed.verify_log(name);
        assert!(out.status.success(), "{name}'s log verifies: {}", text(&out));
    }
}
