//! Linked queries end to end, against answers worked out by hand: two real node processes
//! (police holds a small cohort of death reports, the ICB a small set of ED attendances) and
//! the real `fedlink coordinator link` binary relaying between them.
//!
//! The ICB computes, and its node config sets the test-only seam `danger_exact_linked_counts`,
//! so its linked tables leave exact (no noise, no suppression, no rounding; the table's
//! applied rules start with "test-seam:exact") and can be compared with the hand counts.
//! Everything else is as in production: blinding, unique-or-random, dummies, the relay, the
//! receipts and both audit logs.
//!
//! The data below are built so that every case has one person (or one building) that shows
//! it; the comments beside each row say what is expected of it and why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use fedlink_proto::pb;
use serde_json::Value as Json;

use crate::util::{TestFederation, audit_entries, fedlink, run, text};

// --- The data ------------------------------------------------------------------------------

/// Police death reports: the cohort. `reported` is the index date; `study` picks which test
/// a row belongs to (a side filter), so one dataset serves every query.
const DEATHS_SCHEMA: &str = r#"
name = "deaths"
description = "Death reports (linked-query tests)"
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
name = "sex"
role = "sex"

[[column]]
name = "postcode"
role = "postcode"

[[column]]
name = "uprn"
role = "uprn"

[[column]]
name = "parent_uprn"
role = "parent_uprn"

[[column]]
name = "reported"
role = "event_date"

[[column]]
name = "study"
role = "category"
codes = ["untimed", "window", "address"]
"#;

/// ICB ED attendances: the partner. `arrival` is the event date.
const ED_SCHEMA: &str = r#"
name = "ed"
description = "ED attendances (linked-query tests)"
subject = "person"

[[column]]
name = "attendance"
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
name = "uprn"
role = "uprn"

[[column]]
name = "parent_uprn"
role = "parent_uprn"

[[column]]
name = "arrival"
role = "event_date"

[[column]]
name = "intent"
role = "category"
codes = ["assault", "self_harm"]
"#;

/// The n-th valid NHS number (Modulus 11) from a fixed base: distinct n, distinct numbers.
pub(crate) fn nhs(n: usize) -> String {
    let mut found = 0;
    let mut candidate: u64 = 943_476_500;
    loop {
        candidate += 1;
        let digits: Vec<u64> = candidate.to_string().bytes().map(|b| u64::from(b - b'0')).collect();
        let sum: u64 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        if found == n {
            return format!("{candidate}{check}");
        }
        found += 1;
    }
}

/// NHS numbers by name, so the CSVs below read as the people they describe.
mod n {
    pub const ALICE: usize = 1;
    pub const BOB: usize = 2;
    pub const CAROL_TWIN_1: usize = 3;
    pub const CAROL_TWIN_2: usize = 4;
    pub const DORA: usize = 5;
    pub const ERIN: usize = 6;
    pub const FAY_1: usize = 7;
    pub const FAY_2: usize = 8;
    pub const GINA: usize = 9;
    /// W1 … W11: the window cases.
    pub const W: usize = 20;
}

/// Police death reports. Columns: ref, nhs, forenames, surname, dob, sex, postcode, uprn,
/// parent_uprn, reported (index date), study.
fn deaths_csv() -> String {
    let w = |i: usize| nhs(n::W + i);
    let rows = [
        // --- study = untimed: linked count without a window, keys nhs then name_dob --------
        // (a) Linked by NHS number (the partner has two attendances: still one subject).
        format!("D01,{},Alice,Archer,1970-01-01,F,AB1 2CD,,,2025-06-15,untimed", nhs(n::ALICE)),
        // (b) No NHS number here; the partner's record has one. Linked only by name_dob.
        "D02,,Bob,Baker,1971-02-02,M,,,,2025-06-16,untimed".to_string(),
        // (c) No NHS number; on the partner side two subjects (different NHS numbers) share
        //     this name and date of birth, so unique-or-random drops the key there: not linked.
        "D03,,Carol,Cole,1972-03-03,F,,,,2025-06-17,untimed".to_string(),
        // (d) No partner record at all: not linked.
        format!("D04,{},Dora,Dale,1973-04-04,F,,,,2025-06-18,untimed", nhs(n::DORA)),
        // Linked by NHS number although the partner knows her by another surname.
        format!("D05,{},Erin,Ellis,1974-05-05,F,,,,2025-06-19,untimed", nhs(n::ERIN)),
        // Two cohort subjects (different NHS numbers, neither known to the partner) share a
        // name and date of birth: the cohort side drops that key, so the partner's one
        // record under that name links to neither.
        format!("D06,{},Fay,Ford,1975-06-06,F,,,,2025-06-20,untimed", nhs(n::FAY_1)),
        format!("D07,{},Fay,Ford,1975-06-06,F,,,,2025-06-21,untimed", nhs(n::FAY_2)),
        // NHS number here, none at the partner: linked by name_dob.
        format!("D08,{},Gina,Gray,1976-07-07,F,,,,2025-06-22,untimed", nhs(n::GINA)),
        // --- study = window: each person's partner events lie at chosen distances ---------
        // Index date 2025-06-15 (index month June) for W1-W8 and W11; the table of what each
        // window should match is in the linked-count test below.
        format!("W01,{},Hana,Hill,1980-01-01,F,,,,2025-06-15,window", w(1)),
        format!("W02,{},Ivy,Irwin,1980-01-02,F,,,,2025-06-15,window", w(2)),
        format!("W03,{},Jade,Jones,1980-01-03,F,,,,2025-06-15,window", w(3)),
        format!("W04,{},Kate,King,1980-01-04,F,,,,2025-06-15,window", w(4)),
        format!("W05,{},Lily,Long,1980-01-05,F,,,,2025-06-15,window", w(5)),
        format!("W06,{},Mia,Moss,1980-01-06,F,,,,2025-06-15,window", w(6)),
        format!("W07,{},Nora,Nash,1980-01-07,F,,,,2025-06-15,window", w(7)),
        format!("W08,{},Olga,Owen,1980-01-08,F,,,,2025-06-15,window", w(8)),
        // Index date 2025-02-10: the window reaches back over the year end.
        format!("W09,{},Pia,Park,1980-01-09,F,,,,2025-02-10,window", w(9)),
        format!("W10,{},Rita,Reed,1980-01-10,F,,,,2025-02-10,window", w(10)),
        // A frequent attender: seven months with attendances, the last inside the window.
        format!("W11,{},Sue,Sale,1980-01-11,F,,,,2025-06-15,window", w(11)),
        // --- study = address: where each death happened (UPRN, and parent UPRN for flats) --
        // A house; an attendance from the same UPRN: linked by uprn.
        "A01,,Sam,Stone,1960-01-01,M,,100000000100,,2025-06-01,address".to_string(),
        // A flat; an attendance from another flat of the same block: linked by parent_uprn.
        "A02,,Tom,Tate,1960-01-02,M,,100000000201,100000000200,2025-06-02,address".to_string(),
        // A house; the only nearby attendance is next door (another UPRN): not linked.
        "A03,,Uma,Upton,1960-01-03,F,,100000000300,,2025-06-03,address".to_string(),
        // A flat; three attendances in its block, two from this very flat: one building,
        // linked once, by uprn.
        "A04,,Val,Vane,1960-01-04,F,,100000000401,100000000400,2025-06-04,address".to_string(),
        // Two deaths in two flats of one block: one building on the cohort side; an
        // attendance from a third flat of the block links it once, by parent_uprn.
        "A05,,Wes,Ward,1960-01-05,M,,100000000501,100000000500,2025-06-05,address".to_string(),
        "A06,,Xia,Xu,1960-01-06,F,,100000000502,100000000500,2025-06-06,address".to_string(),
    ];
    let mut csv =
        "ref,nhs,forenames,surname,dob,sex,postcode,uprn,parent_uprn,reported,study\n".to_string();
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}

/// ICB attendances. Columns: attendance, nhs, forenames, surname, dob, postcode, uprn,
/// parent_uprn, arrival (event date), intent.
fn ed_csv() -> String {
    let w = |i: usize| nhs(n::W + i);
    let rows = [
        // Alice: two attendances, earliest an assault (her label in a flag-back).
        format!("P01a,{},Alice,Archer,1970-01-01,AB1 2CD,,,2025-01-10,assault", nhs(n::ALICE)),
        format!("P01b,{},Alice,Archer,1970-01-01,AB1 2CD,,,2025-05-02,self_harm", nhs(n::ALICE)),
        format!("P02,{},Bob,Baker,1971-02-02,,,,2025-03-03,self_harm", nhs(n::BOB)),
        format!("P03a,{},Carol,Cole,1972-03-03,,,,2025-02-02,assault", nhs(n::CAROL_TWIN_1)),
        format!("P03b,{},Carol,Cole,1972-03-03,,,,2025-02-03,assault", nhs(n::CAROL_TWIN_2)),
        format!("P05,{},Erin,Fox,1974-05-05,,,,2025-04-04,assault", nhs(n::ERIN)),
        "P06,,Fay,Ford,1975-06-06,,,,2025-04-05,assault".to_string(),
        "P08,,Gina,Gray,1976-07-07,,,,2025-04-06,self_harm".to_string(),
        // The window cases (index month June 2025 unless said otherwise).
        // W1: 2025-03-01, the first day of index month − 3: the window's lower bound.
        format!("E01,{},Hana,Hill,1980-01-01,,,,2025-03-01,assault", w(1)),
        // W2: 2025-02-28, the last day of index month − 4: one day outside the window.
        format!("E02,{},Ivy,Irwin,1980-01-02,,,,2025-02-28,assault", w(2)),
        // W3: 2025-06-01, in the index month before the index date.
        format!("E03,{},Jade,Jones,1980-01-03,,,,2025-06-01,assault", w(3)),
        // W4: 2025-07-01, the month after the index month.
        format!("E04,{},Kate,King,1980-01-04,,,,2025-07-01,assault", w(4)),
        // W5: 2025-06-20, in the index month after the index date.
        format!("E05,{},Lily,Long,1980-01-05,,,,2025-06-20,assault", w(5)),
        // W6: 2025-05-31, the last day of index month − 1: the window's upper bound.
        format!("E06,{},Mia,Moss,1980-01-06,,,,2025-05-31,assault", w(6)),
        // W7: 2025-06-15, the index date itself (the index event).
        format!("E07,{},Nora,Nash,1980-01-07,,,,2025-06-15,assault", w(7)),
        // W8: one event outside (February) and one inside (April): one link.
        format!("E08a,{},Olga,Owen,1980-01-08,,,,2025-02-10,assault", w(8)),
        format!("E08b,{},Olga,Owen,1980-01-08,,,,2025-04-10,assault", w(8)),
        // W9 (index 2025-02-10): 2024-11-05, index month − 3 in the previous year.
        format!("E09,{},Pia,Park,1980-01-09,,,,2024-11-05,assault", w(9)),
        // W10 (index 2025-02-10): 2024-10-31, index month − 4 in the previous year.
        format!("E10,{},Rita,Reed,1980-01-10,,,,2024-10-31,assault", w(10)),
        // W11: six months of attendances from August 2024 to January 2025, before the window,
        // then one on 2025-04-10, inside it.
        format!("E11a,{},Sue,Sale,1980-01-11,,,,2024-08-01,assault", w(11)),
        format!("E11b,{},Sue,Sale,1980-01-11,,,,2024-09-01,assault", w(11)),
        format!("E11c,{},Sue,Sale,1980-01-11,,,,2024-10-01,assault", w(11)),
        format!("E11d,{},Sue,Sale,1980-01-11,,,,2024-11-01,assault", w(11)),
        format!("E11e,{},Sue,Sale,1980-01-11,,,,2024-12-01,assault", w(11)),
        format!("E11f,{},Sue,Sale,1980-01-11,,,,2025-01-01,assault", w(11)),
        format!("E11g,{},Sue,Sale,1980-01-11,,,,2025-04-10,assault", w(11)),
        // The address cases: attendances with an address and no person identifiers.
        "R01,,,,,,100000000100,,2025-05-01,assault".to_string(),
        "R02,,,,,,100000000202,100000000200,2025-05-02,assault".to_string(),
        "R03,,,,,,100000000301,,2025-05-03,assault".to_string(),
        "R04a,,,,,,100000000401,100000000400,2025-05-04,assault".to_string(),
        "R04b,,,,,,100000000401,100000000400,2025-05-05,self_harm".to_string(),
        "R04c,,,,,,100000000402,100000000400,2025-05-06,assault".to_string(),
        "R05,,,,,,100000000503,100000000500,2025-05-07,assault".to_string(),
    ];
    let mut csv = "attendance,nhs,forenames,surname,dob,postcode,uprn,parent_uprn,arrival,intent\n"
        .to_string();
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}

// --- The policies --------------------------------------------------------------------------

/// The purpose of the flag-back and label tests, added to both nodes' accepted purposes.
const CASE_REVIEW: &str = "SAFEGUARDING-CASE-REVIEW";

/// Police: a cohort only. Under the death-analysis purposes (and SVD-SNA, for the cohort-source
/// refusal) the single label "all"; under the case-review purpose labels by sex and the ICB's
/// intent labels (flag-back). k_min = 2, so a class of one is refused.
const POLICE_RULES: &str = r#"
[[linkage]]
dataset = "deaths"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS", "SVD-SNA"]
roles = ["cohort"]
key_types = ["nhs", "name_dob", "sur_dob_pcd", "uprn", "parent_uprn"]
labels = { vocabulary = ["all"], k_min = 2 }
windows = [
  { name = "3m-before", granularity = "month", units_before = 3 },
  { name = "3m-incl-index", granularity = "month", units_before = 3, include_index_unit = true },
  { name = "6m-before", granularity = "month", units_before = 6 },
]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }

[[linkage]]
dataset = "deaths"
purposes = ["SAFEGUARDING-CASE-REVIEW"]
roles = ["cohort"]
key_types = ["nhs", "name_dob"]
labels = { vocabulary = ["all", "F", "M", "assault", "self_harm"], k_min = 2 }
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }
"#;

/// ICB: partner and computing node. Its death-analysis catalogue lacks the police's
/// "6m-before" window and the "sur_dob_pcd" key type; under SVD-SNA it accepts only another
/// police dataset; under the case-review purpose it allows flag-back.
const ICB_RULES: &str = r#"
[budget]
period = "financial_year"
coordinator_epsilon = "100"
requester_epsilon = "100"

[[linkage]]
dataset = "ed"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["partner", "computing"]
key_types = ["nhs", "name_dob", "uprn", "parent_uprn"]
labels = { vocabulary = ["all"], k_min = 1 }
windows = [
  { name = "3m-before", granularity = "month", units_before = 3 },
  { name = "3m-incl-index", granularity = "month", units_before = 3, include_index_unit = true },
]
cohort_sources = ["police/deaths"]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }

[[linkage]]
dataset = "ed"
purposes = ["SVD-SNA"]
roles = ["partner", "computing"]
key_types = ["nhs", "name_dob"]
labels = { vocabulary = ["all"], k_min = 1 }
cohort_sources = ["police/custody"]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }

[[linkage]]
dataset = "ed"
purposes = ["SAFEGUARDING-CASE-REVIEW"]
roles = ["partner", "computing"]
key_types = ["nhs", "name_dob"]
labels = { vocabulary = ["all", "F", "M", "assault", "self_harm"], k_min = 1 }
cohort_sources = ["police/deaths"]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = { epsilon = "1" }
flag_back = { purposes = ["SAFEGUARDING-CASE-REVIEW"], max_rows_per_case = 25 }
"#;

// --- Setting up ----------------------------------------------------------------------------

/// Gives `node` a dataset (schema + CSV, imported with `fedlink node import`), switches on
/// linked counts and flag-back, adds the case-review purpose and appends `rules`.
pub(crate) fn give_node(
    fed: &TestFederation,
    node: &str,
    dataset: &str,
    schema: &str,
    csv: &str,
    rules: &str,
) {
    let dir = fed.member_dir(node);
    std::fs::create_dir_all(dir.join("datasets")).expect("mkdir");
    std::fs::write(dir.join(format!("datasets/{dataset}.toml")), schema).expect("schema");
    let csv_path = dir.join(format!("{dataset}.csv"));
    std::fs::write(&csv_path, csv).expect("csv");
    let config = fed.node_config(node);
    let mut config_text = std::fs::read_to_string(&config).expect("read config");
    config_text.push_str(&format!("\n[[dataset]]\nschema = \"datasets/{dataset}.toml\"\n"));
    std::fs::write(&config, config_text).expect("write config");

    let policy_path = dir.join("policy.toml");
    let policy = std::fs::read_to_string(&policy_path).expect("policy");
    let enabled = policy
        .replacen("linked_count = false", "linked_count = true", 1)
        .replacen("flag_back = false", "flag_back = true", 1)
        .replacen("\"SVD-SNA\"]", &format!("\"SVD-SNA\", \"{CASE_REVIEW}\"]"), 1);
    assert!(enabled.contains("linked_count = true") && enabled.contains(CASE_REVIEW));
    std::fs::write(&policy_path, format!("{enabled}\n{rules}")).expect("write policy");

    let out = run(&[
        "node",
        "import",
        "--config",
        config.to_str().expect("utf8"),
        "--dataset",
        dataset,
        "--operator",
        "tester",
        csv_path.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "import {dataset} at {node}: {}", text(&out));
}

/// A federation whose police node holds `deaths` and whose ICB holds `ed`, with the rules
/// above; the ICB releases linked tables exact (the test seam).
pub(crate) fn setup() -> TestFederation {
    let fed = TestFederation::new();
    give_node(&fed, "police", "deaths", DEATHS_SCHEMA, &deaths_csv(), POLICE_RULES);
    give_node(&fed, "icb", "ed", ED_SCHEMA, &ed_csv(), ICB_RULES);
    fed.append_to_node_config("icb", "danger_exact_linked_counts = true");
    fed
}

// --- Running the coordinator ---------------------------------------------------------------

/// Writes a query file into the coordinator's folder and returns its path.
pub(crate) fn query_file(fed: &TestFederation, name: &str, toml: &str) -> PathBuf {
    let path = fed.member_dir("coordinator").join(format!("{name}.toml"));
    std::fs::write(&path, toml).expect("query file");
    path
}

/// `fedlink coordinator link --config … --query FILE --format json`, as a command.
pub(crate) fn link_command(fed: &TestFederation, query: &Path) -> std::process::Command {
    let mut cmd = fedlink();
    cmd.args(["coordinator", "link", "--config"])
        .arg(fed.coordinator_config())
        .arg("--query")
        .arg(query)
        .args(["--format", "json", "--step-timeout", "60"]);
    cmd
}

/// Runs a query file to completion.
pub(crate) fn link(fed: &TestFederation, name: &str, toml: &str) -> Output {
    let path = query_file(fed, name, toml);
    link_command(fed, &path).stdin(Stdio::null()).output().expect("coordinator runs")
}

/// The JSON document the coordinator printed.
pub(crate) fn json_of(out: &Output) -> Json {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the coordinator's output is not JSON ({e}): {}", text(out)))
}

/// A linked count's released figures, as the coordinator shows them.
#[derive(Debug, PartialEq, Eq)]
struct Released {
    /// The table's one cell (all × all).
    count: u64,
    /// Links by key pass, in the order released.
    by_pass: Vec<(String, u64)>,
}

/// Runs a linked count that must succeed, checks its table is the exact seam's single cell,
/// and returns the count and the quality figures, with the query id.
fn linked_count(fed: &TestFederation, name: &str, toml: &str) -> (Released, String) {
    let out = link(fed, name, toml);
    assert!(out.status.success(), "{name}: {}", text(&out));
    let json = json_of(&out);
    assert_eq!(json["ok"], true, "{name}: {json:#}");
    let table = &json["table"];
    let rules: Vec<&str> =
        table["applied_rules"].as_array().expect("rules").iter().filter_map(Json::as_str).collect();
    assert_eq!(rules.first(), Some(&"test-seam:exact"), "{name}: {rules:?}");
    let cells = table["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 1, "{name}: one label on each side gives one cell: {table:#}");
    assert_eq!(cells[0]["levels"], serde_json::json!(["all", "all"]), "{name}");
    assert_eq!(cells[0]["suppressed"], false, "{name}");
    let count = cells[0]["count"].as_u64().expect("a count");
    let by_pass = json["quality"]
        .as_array()
        .expect("quality")
        .iter()
        .map(|q| {
            assert_eq!(q["links"]["suppressed"], false, "{name}: {q}");
            (
                q["pass"].as_str().expect("pass").to_string(),
                q["links"]["count"].as_u64().expect("n"),
            )
        })
        .collect();
    let query_id = json["query_id"].as_str().expect("query id").to_string();
    (Released { count, by_pass }, query_id)
}

/// The rule a node refused with, from the coordinator's JSON: its node entry says
/// "REFUSED at CALL by rule RULE: …".
pub(crate) fn refusal(out: &Output, node: &str) -> (String, String) {
    let json = json_of(out);
    let part = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|p| p["member"] == node)
        .unwrap_or_else(|| panic!("no node {node}: {json:#}"));
    assert_eq!(part["status"], "refused", "{node}: {json:#}");
    let detail = part["detail"].as_str().expect("detail");
    let rest = detail.strip_prefix("REFUSED at ").expect("refusal line");
    let (at, rest) = rest.split_once(" by rule ").expect("by rule");
    let rule = rest.split_once(':').map_or(rest, |(r, _)| r);
    (at.to_string(), rule.to_string())
}

/// The 16 bytes of a query id as the coordinator prints it (a UUID).
pub(crate) fn query_id_bytes(id: &str) -> Vec<u8> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A node's audit entries for one query.
pub(crate) fn entries_for(fed: &TestFederation, node: &str, query_id: &str) -> Vec<pb::AuditEntry> {
    let id = query_id_bytes(query_id);
    audit_entries(&fed.audit_log(node))
        .into_iter()
        .filter(|e| e.query.as_ref().is_some_and(|q| q.query_id == id))
        .collect()
}

/// Every `sender>receiver#step:hex` message digest a node's entries for one query list.
pub(crate) fn digests(entries: &[pb::AuditEntry]) -> BTreeSet<String> {
    entries
        .iter()
        .flat_map(|e| e.relay_digests.iter())
        .map(|d| {
            let (head, hex) = d.split_once(':').expect("sender>receiver#step:hex");
            let (route, step) = head.split_once('#').expect("sender>receiver#step");
            assert!(route.contains('>'), "{d}");
            assert!(step.parse::<u32>().is_ok(), "{d}");
            assert_eq!(hex.len(), 64, "{d}");
            d.to_string()
        })
        .collect()
}

/// A count query over both nodes' datasets, person unit unless `extra` says otherwise.
pub(crate) fn count_query(title: &str, extra: &str, study: &str) -> String {
    format!(
        r#"title = "{title}"
kind = "count"
purpose = "HMICFRS-R2-DEATH-ANALYSIS"
{extra}

[[side]]
member = "police"
dataset = "deaths"
role = "cohort"
filter = ["study={study}"]

[[side]]
member = "icb"
dataset = "ed"
"#
    )
}

fn pass(name: &str, n: u64) -> (String, u64) {
    (name.to_string(), n)
}

// --- The tests -----------------------------------------------------------------------------

#[test]
fn linked_counts_and_windows_match_the_hand_counts_and_both_logs_agree() {
    let fed = setup();
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");

    // 2. Untimed, keys nhs then name_dob, cohort = the eight `untimed` rows (D01-D08):
    //   D01 Alice   nhs      -> linked (nhs pass; her two attendances are one subject)
    //   D02 Bob     name_dob -> linked (name_dob pass; no NHS number on the cohort side)
    //   D03 Carol   -        -> not linked: two partner subjects share her name_dob key
    //   D04 Dora    -        -> not linked: no partner record
    //   D05 Erin    nhs      -> linked (nhs pass; another surname at the partner)
    //   D06/D07 Fay -        -> not linked: the cohort's own shared name_dob key is dropped
    //   D08 Gina    name_dob -> linked (name_dob pass; no NHS number on the partner side)
    // Hand count 4: 2 by nhs, 2 by name_dob.
    let untimed =
        count_query("untimed", "unit = \"person\"\nkey_types = [\"nhs\", \"name_dob\"]", "untimed");
    let (released, untimed_id) = linked_count(&fed, "untimed", &untimed);
    println!("linked count, untimed (nhs, name_dob): {released:?} (hand: 4; nhs 2, name_dob 2)");
    assert_eq!(released, Released { count: 4, by_pass: vec![pass("nhs", 2), pass("name_dob", 2)] });

    // 3. Windows at month granularity. What window.rs documents and this relies on: with
    // index date d, N units before and u(x) the calendar month of x, a partner event e matches
    // when u(d) − N ≤ u(e) ≤ u(d) − 1, i.e. from the 1st of month(d) − N to the last day of
    // month(d) − 1, both bounds inclusive; with include_index_unit the upper bound is u(d):
    // the whole index month, including the index event and any event later that month. An
    // event after the index month never matches. Buckets are calendar months, so the window
    // crosses a year end like any other month boundary.
    //
    //   person  index       event                          3m-before   3m-incl-index
    //   W1      2025-06-15  2025-03-01 (1st of d−3)        yes         yes
    //   W2      2025-06-15  2025-02-28 (last of d−4)       no          no
    //   W3      2025-06-15  2025-06-01 (index month, <d)   no          yes
    //   W4      2025-06-15  2025-07-01 (month after)       no          no
    //   W5      2025-06-15  2025-06-20 (index month, >d)   no          yes
    //   W6      2025-06-15  2025-05-31 (last of d−1)       yes         yes
    //   W7      2025-06-15  2025-06-15 (the index event)   no          yes
    //   W8      2025-06-15  2025-02-10 and 2025-04-10      yes (once)  yes (once)
    //   W9      2025-02-10  2024-11-05 (d−3, last year)    yes         yes
    //   W10     2025-02-10  2024-10-31 (d−4, last year)    no          no
    //   W11     2025-06-15  one each month 2024-08..2025-01,
    //                       and 2025-04-10                 yes         yes
    // Hand counts: 3m-before 5 (W1, W6, W8, W9, W11); 3m-incl-index 8 (and W3, W5, W7).
    // Every link is made by the nhs pass; name_dob links none.
    //
    // The cohort side states its period (the index dates, January to June 2025), so the ICB
    // knows which months of its data can match: October 2024 to May 2025 (June too with the
    // index month), and its tuples have a slot for each. W11 is the frequent attender whose
    // in-window attendance must not be crowded out of its tuple by the six older months.
    let keys = "unit = \"person\"\nkey_types = [\"nhs\", \"name_dob\"]";
    let windowed = |title: &str, window: &str| {
        count_query(title, &format!("{keys}\nwindow = \"{window}\""), "window").replace(
            "filter = [\"study=window\"]",
            "filter = [\"study=window\"]\nperiod = \"2025-01-01..2025-06-30\"",
        )
    };
    let (released, before_id) =
        linked_count(&fed, "window-3m-before", &windowed("3m-before", "3m-before"));
    println!("linked count, window 3m-before: {released:?} (hand: 5; nhs 5)");
    assert_eq!(released, Released { count: 5, by_pass: vec![pass("nhs", 5), pass("name_dob", 0)] });
    let (released, _) =
        linked_count(&fed, "window-3m-incl-index", &windowed("3m-incl-index", "3m-incl-index"));
    println!("linked count, window 3m-incl-index: {released:?} (hand: 8; nhs 8)");
    assert_eq!(released, Released { count: 8, by_pass: vec![pass("nhs", 8), pass("name_dob", 0)] });

    // 4. Address linkage: the subjects are buildings (the parent UPRN, or the UPRN of a
    // building without one), on both sides.
    //   A01 house 100          attendance at 100                  -> linked, uprn
    //   A02 flat 201 (200)     attendance at flat 202 (200)       -> linked, parent_uprn
    //   A03 house 300          attendance next door at 301        -> not linked
    //   A04 flat 401 (400)     2 at flat 401, 1 at 402 (all 400)  -> one building, uprn
    //   A05/A06 flats 501, 502 (500), one building; 503 (500)     -> linked once, parent_uprn
    // Hand count 4 buildings: 2 by uprn, 2 by parent_uprn.
    let address = count_query(
        "address",
        "unit = \"address\"\nkey_types = [\"uprn\", \"parent_uprn\"]",
        "address",
    );
    let (released, _) = linked_count(&fed, "address", &address);
    println!("linked count, address (uprn, parent_uprn): {released:?} (hand: 4; uprn 2, parent 2)");
    assert_eq!(
        released,
        Released { count: 4, by_pass: vec![pass("uprn", 2), pass("parent_uprn", 2)] }
    );

    police.stop();
    icb.stop();

    // 7. Both logs verify; the ICB logged the release as LINKED_DP (with its ε charge), and
    // both nodes logged the same message digests for each query.
    for node in ["police", "icb"] {
        let verify = fed.verify_log(node);
        assert!(verify.status.success(), "{node}: {}", text(&verify));
    }
    for query_id in [&untimed_id, &before_id] {
        let at_icb = entries_for(&fed, "icb", query_id);
        let at_police = entries_for(&fed, "police", query_id);
        let release = at_icb
            .iter()
            .find(|e| e.output.as_ref().is_some_and(|o| o.output_class == "LINKED_DP"))
            .unwrap_or_else(|| panic!("no LINKED_DP entry at the ICB for {query_id}"));
        assert_eq!(release.event_type, pb::EventType::Disclosure as i32);
        assert!(release.budget.as_ref().is_some_and(|b| b.epsilon_micro == 2_000_000));
        assert!(
            release
                .output
                .as_ref()
                .is_some_and(|o| o.disclosure_rule.starts_with("test-seam:exact")),
            "{release:?}"
        );
        let (icb_digests, police_digests) = (digests(&at_icb), digests(&at_police));
        // M1 (police → ICB), M2 (ICB → police), M3 (police → ICB).
        assert_eq!(icb_digests.len(), 3, "{icb_digests:?}");
        assert_eq!(icb_digests, police_digests, "the two logs disagree for {query_id}");
    }
}

/// Runs a flag-back in a child process, waits for its request to appear at the ICB, decides
/// it with `decide` (`approve` or `deny` arguments) and returns the coordinator's output.
pub(crate) fn flag_back(fed: &TestFederation, case_ref: &str, decide: &[&str]) -> Output {
    let query = format!(
        r#"title = "Flag-back {case_ref}"
kind = "flag_back"
unit = "person"
key_types = ["nhs", "name_dob"]
case_ref = "{case_ref}"
purpose = "{CASE_REVIEW}"

[[side]]
member = "police"
dataset = "deaths"
role = "cohort"
filter = ["study=untimed"]

[[side]]
member = "icb"
dataset = "ed"
label = "intent"
"#
    );
    let path = query_file(fed, case_ref, &query);
    let mut child = link_command(fed, &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coordinator starts");

    // The request waits at the ICB until an operator there decides it.
    let config = fed.node_config("icb");
    let config = config.to_str().expect("utf8");
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        let out = run(&["node", "approvals", "list", "--config", config, "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        let list: Json = serde_json::from_slice(&out.stdout).expect("json");
        let pending = list.as_array().expect("array").iter().find(|r| r["case_ref"] == case_ref);
        if let Some(request) = pending {
            assert_eq!(request["state"], "pending", "{request}");
            // The operator sees the attested row count: one per cohort row (D01-D08).
            assert_eq!(request["attested_rows"], 8, "{request}");
            break request["id"].as_i64().expect("id").to_string();
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            panic!("the coordinator ended ({status}) before the request appeared: {}", text(&out));
        }
        assert!(Instant::now() < deadline, "no approval request for {case_ref}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut args = vec!["node", "approvals", decide[0], "--config", config, id.as_str()];
    args.extend_from_slice(&decide[1..]);
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));

    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the coordinator did not finish after the decision");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn flag_back_returns_one_flag_per_cohort_row_after_approval_and_nothing_after_denial() {
    let fed = setup();
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");

    // 5. Untimed, keys nhs then name_dob, one tuple per cohort row; the partner's subjects
    // are labelled by the intent of their earliest attendance.
    //   D01 Alice -> flag, "assault" (her earliest attendance; the later one is self_harm)
    //   D02 Bob   -> flag, "self_harm" (name_dob)
    //   D03 Carol -> no (the partner's two Carols share the key)
    //   D04 Dora  -> no (no partner record)
    //   D05 Erin  -> flag, "assault" (nhs)
    //   D06, D07  -> no (the two Fay Ford rows share the key, so the cohort side drops it)
    //   D08 Gina  -> flag, "self_harm" (name_dob)
    let out = flag_back(&fed, "OP-TEST-0001", &["approve", "--approver", "Insp Tester"]);
    assert!(out.status.success(), "{}", text(&out));
    let json = json_of(&out);
    let flags: Vec<(String, bool, Option<String>)> = json["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| {
            (
                f["record_id"].as_str().expect("id").to_string(),
                f["flag"].as_bool().expect("flag"),
                f["label"].as_str().map(str::to_string),
            )
        })
        .collect();
    let some = |l: &str| Some(l.to_string());
    let expected = vec![
        ("D01".to_string(), true, some("assault")),
        ("D02".to_string(), true, some("self_harm")),
        ("D03".to_string(), false, None),
        ("D04".to_string(), false, None),
        ("D05".to_string(), true, some("assault")),
        ("D06".to_string(), false, None),
        ("D07".to_string(), false, None),
        ("D08".to_string(), true, some("self_harm")),
    ];
    println!("flag-back: {flags:?}");
    assert_eq!(flags, expected);

    // A denial at the ICB ends the query: exit 1, refused by rule, and nothing flagged.
    let out = flag_back(
        &fed,
        "OP-TEST-0002",
        &["deny", "--approver", "Insp Tester", "--reason", "not proportionate"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("policy.linkage.flag_back"), "{}", text(&out));
    assert_eq!(refusal(&out, "icb").1, "policy.linkage.flag_back");
    assert!(json_of(&out)["flags"].is_null(), "{}", text(&out));

    police.stop();
    icb.stop();
    for node in ["police", "icb"] {
        let verify = fed.verify_log(node);
        assert!(verify.status.success(), "{node}: {}", text(&verify));
    }
    // The approved flag-back: both logs hold the same four message digests (M1, M2, M3 and
    // the flags) and the police logged the flags it received as a FLAG_BACK disclosure.
    let approved = audit_entries(&fed.audit_log("icb"))
        .into_iter()
        .find(|e| e.query.as_ref().is_some_and(|q| q.case_ref == "OP-TEST-0001"))
        .expect("the ICB logged the approved flag-back");
    let query_id = approved.query.expect("query").query_id;
    let hex: String = query_id.iter().map(|b| format!("{b:02x}")).collect();
    let at_police = entries_for(&fed, "police", &hex);
    let at_icb = entries_for(&fed, "icb", &hex);
    assert_eq!(digests(&at_police).len(), 4);
    assert_eq!(digests(&at_police), digests(&at_icb));
    assert!(at_police.iter().any(|e| {
        e.output.as_ref().is_some_and(|o| o.output_class == "FLAG_BACK" && o.records_released == 8)
    }));
}

#[test]
fn refusals_name_their_rule() {
    let fed = setup();
    let mut police = fed.start_node("police");
    let mut icb = fed.start_node("icb");

    // 6. At LinkOpen, the computing node refuses before anything is blinded or sent.
    let person = "unit = \"person\"\nkey_types = [\"nhs\", \"name_dob\"]";
    let cases = [
        (
            // In the police catalogue, not the ICB's.
            "window",
            count_query("w", &format!("{person}\nwindow = \"6m-before\""), "window"),
            "policy.linkage.windows",
        ),
        (
            // Allowed to the police, not to the ICB.
            "key-type",
            count_query(
                "k",
                "unit = \"person\"\nkey_types = [\"nhs\", \"sur_dob_pcd\"]",
                "untimed",
            ),
            "policy.linkage.key_types",
        ),
        (
            // Under SVD-SNA the ICB accepts only police/custody as a cohort.
            "cohort-source",
            count_query("c", person, "untimed").replace("HMICFRS-R2-DEATH-ANALYSIS", "SVD-SNA"),
            "policy.linkage.cohort_sources",
        ),
    ];
    for (name, query, rule) in cases {
        let out = link(&fed, name, &query);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out));
        assert!(text(&out).contains(rule), "{name}: {}", text(&out));
        assert_eq!(refusal(&out, "icb"), ("LinkOpen".to_string(), rule.to_string()), "{name}");
        println!("{name}: refused at LinkOpen by {rule}");
    }

    // A label class smaller than k_min at the cohort: labelled by sex, the eight untimed
    // rows are seven F and one M, and the police's k_min is 2. Both nodes admit the query;
    // the police refuses at its first step, when it builds its tuples (M1), by the labels
    // rule, and the class's size is not in the message.
    let by_sex = count_query("k", person, "untimed")
        .replace("HMICFRS-R2-DEATH-ANALYSIS", CASE_REVIEW)
        .replace("filter = [\"study=untimed\"]", "filter = [\"study=untimed\"]\nlabel = \"sex\"");
    let out = link(&fed, "k-min", &by_sex);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (at, rule) = refusal(&out, "police");
    assert!(at.starts_with("LinkStep"), "{at}");
    assert_eq!(rule, "policy.linkage.labels", "{}", text(&out));
    assert!(text(&out).contains("label class holds fewer than 2"), "{}", text(&out));
    assert!(!text(&out).contains("class M"), "the label value is not repeated: {}", text(&out));
    println!("k-min: refused at {at} by {rule}");

    // A label outside the vocabulary (under the death-analysis rule the only label is "all"):
    // refused by the same rule.
    let outside = count_query("v", person, "untimed")
        .replace("filter = [\"study=untimed\"]", "filter = [\"study=untimed\"]\nlabel = \"sex\"");
    let out = link(&fed, "vocabulary", &outside);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (at, rule) = refusal(&out, "police");
    assert!(at.starts_with("LinkStep"), "{at}");
    assert_eq!(rule, "policy.linkage.labels", "{}", text(&out));

    police.stop();
    icb.stop();
    // Every refusal is a logged denial naming its rule, and the logs still verify.
    for node in ["police", "icb"] {
        let verify = fed.verify_log(node);
        assert!(verify.status.success(), "{node}: {}", text(&verify));
    }
    let denied: Vec<String> = audit_entries(&fed.audit_log("icb"))
        .into_iter()
        .filter(|e| e.decision == pb::Decision::Denied as i32)
        .map(|e| e.rule)
        .collect();
    for rule in
        ["policy.linkage.windows", "policy.linkage.key_types", "policy.linkage.cohort_sources"]
    {
        assert!(denied.iter().any(|r| r == rule), "{rule} not logged at the ICB: {denied:?}");
    }
    let police_denied = audit_entries(&fed.audit_log("police"))
        .into_iter()
        .filter(|e| e.decision == pb::Decision::Denied as i32 && e.rule == "policy.linkage.labels")
        .count();
    assert_eq!(police_denied, 2);
}
