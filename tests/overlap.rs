//! The overlap matrix end to end, against answers worked out by hand: three real node
//! processes (police, the ICB and the east council, each holding a tiny person dataset) and the
//! real `fedlink coordinator link` binary relaying the ring between them. The council computes.
//!
//! In the first federation the council's node config sets the test-only seam
//! `danger_exact_linked_counts`, so its matrix leaves exact (applied rules start with
//! "test-seam:exact") and can be compared with the hand counts; the second has no seam, and
//! shows the strictest participant's rules applied (design-review F7).

use std::collections::{BTreeMap, BTreeSet};

use fedlink_proto::pb;
use serde_json::Value as Json;

use crate::link::{digests, entries_for, give_node, json_of, link, nhs, refusal};
use crate::util::{TestFederation, audit_entries, text};

// --- The data ------------------------------------------------------------------------------

/// One person dataset shape for all three agencies: a record id, the person's identifiers and
/// the date the agency saw them.
fn person_schema(dataset: &str) -> String {
    format!(
        r#"
name = "{dataset}"
description = "People known to the agency (overlap tests)"
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
name = "seen"
role = "event_date"
"#
    )
}

/// NHS numbers by person (offsets into `link::nhs`, clear of the ones tests/link.rs uses).
mod n {
    pub const ANN: usize = 101;
    pub const CATH: usize = 102;
    pub const MO: usize = 103;
    pub const DAN: usize = 104;
    pub const ED: usize = 105;
    pub const FRED: usize = 106;
    pub const GAIL: usize = 107;
    pub const HUGO: usize = 108;
    pub const HAL: usize = 109;
    pub const IAN: usize = 110;
    pub const JO: usize = 111;
    pub const KIM: usize = 112;
    pub const LIV_TWIN_1: usize = 113;
    pub const LIV_TWIN_2: usize = 114;
}

/// Rows `ref,nhs,forenames,surname,dob,seen` as a CSV; `None` for no NHS number.
fn csv(rows: &[(&str, Option<usize>, &str, &str, &str)]) -> String {
    let mut out = "ref,nhs,forenames,surname,dob,seen\n".to_string();
    for (reference, number, forenames, surname, dob) in rows {
        let number = number.map(nhs).unwrap_or_default();
        out.push_str(&format!("{reference},{number},{forenames},{surname},{dob},2025-06-01\n"));
    }
    out
}

// Who is known where, and how each person should come out (P police, I ICB, C council; keys
// nhs then name_dob, each pair linked one-to-one, links joined into people):
//
//   person    police          ICB                 council          linked pairs     level
//   Ann       nhs+nd          nhs+nd (2 rows)     nhs+nd           P-I, P-C, I-C    P+I+C
//   Cath      nhs+nd          nhs+nd              nd only          P-I nhs, P-C nd,
//                                                                   I-C nd           P+I+C
//   Mo        nhs only        nhs+nd              nd only          P-I nhs, I-C nd
//                                                                   (no P-C key)     P+I+C
//   Dan       nhs+nd          nhs+nd              -                P-I              P+I
//   Ed        nd only         nhs+nd              -                P-I nd           P+I
//   Fred      nhs+nd          -                   nhs+nd           P-C              P+C
//   Gail      nhs+nd          -                   nhs+nd           P-C              P+C
//   Hugo      nhs+nd          -                   nd only          P-C nd           P+C
//   Hal       -               nhs+nd              nhs+nd           I-C              I+C
//   Ian       nhs+nd          -                   -                -                (P only)
//   Jo        -               nhs+nd              -                -                (I only)
//   Kim       -               -                   nhs+nd           -                (C only)
//   Liv       nd only         twins 1 and 2:      -                none: the ICB's  (P only,
//                             nhs+nd each, the                     twins share the   I only
//                             same nd                              nd key, dropped)  twice)
//
// Hand counts: police+icb 2 (Dan, Ed), police+council-east 3 (Fred, Gail, Hugo),
// icb+council-east 1 (Hal), police+icb+council-east 3 (Ann, Cath, Mo). Mo's three records
// never share a key across police and council: he is one person only because the links
// P-I and I-C are joined. The ICB's twins share one name_dob key, which unique-or-random
// drops from both: a matcher that linked on it would give the police's Liv (known by name_dob
// only) one of the twins, and police+icb would be 3.

fn police_csv() -> String {
    csv(&[
        ("P-ANN", Some(n::ANN), "Ann", "Abbott", "1960-01-01"),
        ("P-CATH", Some(n::CATH), "Cath", "Croft", "1962-03-03"),
        ("P-MO", Some(n::MO), "", "", ""),
        ("P-DAN", Some(n::DAN), "Dan", "Drake", "1964-04-04"),
        ("P-ED", None, "Ed", "Evans", "1965-05-05"),
        ("P-FRED", Some(n::FRED), "Fred", "Fox", "1966-06-06"),
        ("P-GAIL", Some(n::GAIL), "Gail", "Green", "1967-07-07"),
        ("P-HUGO", Some(n::HUGO), "Hugo", "Hayes", "1968-08-08"),
        ("P-IAN", Some(n::IAN), "Ian", "Ives", "1970-10-10"),
        ("P-LIV", None, "Liv", "Lane", "1990-01-01"),
    ])
}

fn icb_csv() -> String {
    csv(&[
        ("I-ANN-1", Some(n::ANN), "Ann", "Abbott", "1960-01-01"),
        ("I-ANN-2", Some(n::ANN), "Ann", "Abbott", "1960-01-01"),
        ("I-CATH", Some(n::CATH), "Cath", "Croft", "1962-03-03"),
        ("I-MO", Some(n::MO), "Mo", "Moss", "1963-03-13"),
        ("I-DAN", Some(n::DAN), "Dan", "Drake", "1964-04-04"),
        ("I-ED", Some(n::ED), "Ed", "Evans", "1965-05-05"),
        ("I-HAL", Some(n::HAL), "Hal", "Hart", "1969-09-09"),
        ("I-JO", Some(n::JO), "Jo", "Jones", "1971-11-11"),
        ("I-LIV-1", Some(n::LIV_TWIN_1), "Liv", "Lane", "1990-01-01"),
        ("I-LIV-2", Some(n::LIV_TWIN_2), "Liv", "Lane", "1990-01-01"),
    ])
}

fn council_csv() -> String {
    csv(&[
        ("C-ANN", Some(n::ANN), "Ann", "Abbott", "1960-01-01"),
        ("C-CATH", None, "Cath", "Croft", "1962-03-03"),
        ("C-MO", None, "Mo", "Moss", "1963-03-13"),
        ("C-FRED", Some(n::FRED), "Fred", "Fox", "1966-06-06"),
        ("C-GAIL", Some(n::GAIL), "Gail", "Green", "1967-07-07"),
        ("C-HUGO", None, "Hugo", "Hayes", "1968-08-08"),
        ("C-HAL", Some(n::HAL), "Hal", "Hart", "1969-09-09"),
        ("C-KIM", Some(n::KIM), "Kim", "King", "1972-12-12"),
    ])
}

/// The matrix's levels, in the order of the query's sides, and the hand counts.
const LEVELS: [&str; 4] =
    ["police+icb", "police+council-east", "icb+council-east", "police+icb+council-east"];
const HAND: [u64; 4] = [2, 3, 1, 3];

// --- The policies --------------------------------------------------------------------------

/// How one node takes part.
struct Terms<'a> {
    dataset: &'a str,
    role: &'a str,
    /// The other sides it accepts under SVD-SNA.
    sources: &'a str,
    epsilon: &'a str,
    min_cell: u64,
}

/// A node's `[[linkage]]` rules: under SVD-SNA as `terms` say (with a window in the catalogue,
/// so that only the overlap's own rule refuses one); under the death-analysis purpose the
/// same, except that the ICB accepts only the police (the consent test).
fn rules(terms: &Terms<'_>) -> String {
    let rule = |purpose: &str, sources: &str| {
        format!(
            r#"
[[linkage]]
dataset = "{dataset}"
purposes = ["{purpose}"]
roles = ["{role}"]
key_types = ["nhs", "name_dob"]
labels = {{ vocabulary = ["all"], k_min = 1 }}
windows = [{{ name = "3m-before", granularity = "month", units_before = 3 }}]
cohort_sources = [{sources}]
max_subjects_per_query = 1000
max_queries_per_day = 50
privacy = {{ epsilon = "{epsilon}" }}
disclosure = {{ min_cell = {min_cell} }}
"#,
            dataset = terms.dataset,
            role = terms.role,
            epsilon = terms.epsilon,
            min_cell = terms.min_cell,
        )
    };
    let consent = if terms.dataset == "ecds" { "\"police/crimes\"" } else { terms.sources };
    let budget = if terms.role == "computing" {
        "[budget]\nperiod = \"financial_year\"\ncoordinator_epsilon = \"100\"\n\
         requester_epsilon = \"100\"\n"
    } else {
        ""
    };
    format!(
        "{budget}{}{}",
        rule("SVD-SNA", terms.sources),
        rule("HMICFRS-R2-DEATH-ANALYSIS", consent)
    )
}

/// A federation of police (`crimes`), ICB (`ecds`) and east council (`adult_safeguarding`,
/// computing), overlap mode on at each; `icb_min_cell` and `police_epsilon` are the two rules
/// that differ from the rest (min_cell 8, ε 1), and `exact` sets the council's test seam.
fn setup(icb_min_cell: u64, police_epsilon: &str, exact: bool) -> TestFederation {
    let fed = TestFederation::new();
    let nodes = [
        (
            "police",
            police_csv(),
            Terms {
                dataset: "crimes",
                role: "blinder",
                sources: "\"icb/ecds\", \"council-east/adult_safeguarding\"",
                epsilon: police_epsilon,
                min_cell: 8,
            },
        ),
        (
            "icb",
            icb_csv(),
            Terms {
                dataset: "ecds",
                role: "blinder",
                sources: "\"police/crimes\", \"council-east/adult_safeguarding\"",
                epsilon: "1",
                min_cell: icb_min_cell,
            },
        ),
        (
            "council-east",
            council_csv(),
            Terms {
                dataset: "adult_safeguarding",
                role: "computing",
                sources: "\"police/crimes\", \"icb/ecds\"",
                epsilon: "1",
                min_cell: 8,
            },
        ),
    ];
    for (node, data, terms) in &nodes {
        give_node(&fed, node, terms.dataset, &person_schema(terms.dataset), data, &rules(terms));
        let path = fed.member_dir(node).join("policy.toml");
        let policy = std::fs::read_to_string(&path).expect("policy");
        let enabled = policy.replacen("overlap = false", "overlap = true", 1);
        assert!(enabled.contains("overlap = true"), "{node}: overlap mode");
        std::fs::write(&path, enabled).expect("write policy");
    }
    if exact {
        fed.append_to_node_config("council-east", "danger_exact_linked_counts = true");
    }
    fed
}

// --- The queries ---------------------------------------------------------------------------

/// An overlap query over the three datasets, the council computing.
fn overlap_query(title: &str, purpose: &str, extra: &str) -> String {
    format!(
        r#"title = "{title}"
purpose = "{purpose}"
kind = "overlap"
unit = "person"
key_types = ["nhs", "name_dob"]
computing = "council-east"
{extra}

[[side]]
member = "police"
dataset = "crimes"

[[side]]
member = "icb"
dataset = "ecds"

[[side]]
member = "council-east"
dataset = "adult_safeguarding"
"#
    )
}

/// A released matrix: each level's count (`None` when suppressed), with its applied rules and
/// DP ε, and the query id.
struct Matrix {
    cells: BTreeMap<String, Option<u64>>,
    levels: Vec<String>,
    rules: Vec<String>,
    epsilon_micro: u64,
    query_id: String,
}

/// Runs an overlap that must succeed and reads its matrix from the coordinator's JSON.
fn overlap(fed: &TestFederation, name: &str, toml: &str) -> Matrix {
    let out = link(fed, name, toml);
    assert!(out.status.success(), "{name}: {}", text(&out));
    let json = json_of(&out);
    assert_eq!(json["ok"], true, "{name}: {json:#}");
    assert_eq!(json["kind"], "overlap", "{name}");
    let table = &json["table"];
    let strings = |v: &Json| -> Vec<String> {
        v.as_array().expect("array").iter().map(|s| s.as_str().expect("str").to_string()).collect()
    };
    let dims = table["dimensions"].as_array().expect("dimensions");
    assert_eq!(dims.len(), 1, "{name}: one dimension, the agencies: {table:#}");
    let levels = strings(&dims[0]["levels"]);
    let cells = table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            let levels = strings(&c["levels"]);
            assert_eq!(levels.len(), 1, "{name}: {c}");
            let count = c["count"].as_u64();
            assert_eq!(count.is_none(), c["suppressed"] == true, "{name}: {c}");
            (levels[0].clone(), count)
        })
        .collect();
    let rules = strings(&table["applied_rules"]);
    let epsilon_micro = table["privacy"]["epsilon_micro"].as_u64().expect("epsilon");
    let query_id = json["query_id"].as_str().expect("query id").to_string();
    println!("{name}: sides sent {}", json["sizes"]);
    Matrix { cells, levels, rules, epsilon_micro, query_id }
}

/// Prints a matrix beside the hand counts.
fn print(name: &str, matrix: &Matrix) {
    println!("{name}: applied rules {:?}, epsilon {}", matrix.rules, matrix.epsilon_micro);
    println!("  {:<26} {:>8} {:>5}", "agencies", "released", "hand");
    for (level, hand) in LEVELS.iter().zip(HAND) {
        let released = match matrix.cells.get(*level) {
            Some(Some(n)) => n.to_string(),
            Some(None) => "supp.".to_string(),
            None => "absent".to_string(),
        };
        println!("  {level:<26} {released:>8} {hand:>5}");
    }
}

const MEMBERS: [&str; 3] = ["police", "icb", "council-east"];

/// Every log verifies, and every message digest a node logged as sender is in the receiver's
/// log too (and the other way round): `expected` messages in all, each in exactly two logs.
fn logs_agree(fed: &TestFederation, query_id: &str, expected: usize) {
    let mut logged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in MEMBERS {
        logged.insert(node.to_string(), digests(&entries_for(fed, node, query_id)));
    }
    let all: BTreeSet<&String> = logged.values().flatten().collect();
    assert_eq!(all.len(), expected, "{query_id}: {all:#?}");
    for digest in all {
        let (route, _) = digest.split_once('#').expect("route");
        let (sender, receiver) = route.split_once('>').expect("sender>receiver");
        for (node, role) in [(sender, "sender"), (receiver, "receiver")] {
            assert!(
                logged.get(node).is_some_and(|d| d.contains(digest)),
                "{digest}: not in the log of its {role} {node}"
            );
        }
        let holders = logged.values().filter(|d| d.contains(digest)).count();
        assert_eq!(holders, 2, "{digest}: logged by a node neither sending nor receiving it");
    }
}

// --- The tests -----------------------------------------------------------------------------

#[test]
fn the_overlap_matrix_matches_the_hand_counts_consent_is_checked_and_the_logs_agree() {
    let fed = setup(8, "1", true);
    let mut nodes: Vec<_> = MEMBERS.iter().map(|m| fed.start_node(m)).collect();

    // 1. The exact matrix (hand counts: the table above the data).
    let matrix = overlap(&fed, "overlap-exact", &overlap_query("exact", "SVD-SNA", ""));
    print("overlap, exact seam", &matrix);
    assert_eq!(matrix.rules.first().map(String::as_str), Some("test-seam:exact"));
    // The levels are the combinations of two or more agencies, and only those: no single
    // agency's count is released, not even as a suppressed cell.
    assert_eq!(matrix.levels, LEVELS);
    assert_eq!(
        matrix.cells.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(LEVELS)
    );
    for level in matrix.cells.keys() {
        assert!(level.contains('+'), "a single-agency level was released: {level}");
    }
    let released: Vec<Option<u64>> = LEVELS.iter().map(|l| matrix.cells[*l]).collect();
    assert_eq!(released, HAND.map(Some), "released vs hand, in the order {LEVELS:?}");

    // 3. Consent. Under the death-analysis purpose the ICB's rule accepts only the police's
    // crimes: it refuses at LinkOpen, naming the cohort-sources rule (the police, opened
    // first, had accepted).
    let out = link(&fed, "consent", &overlap_query("consent", "HMICFRS-R2-DEATH-ANALYSIS", ""));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        refusal(&out, "icb"),
        ("LinkOpen".to_string(), "policy.linkage.cohort_sources".to_string())
    );
    assert!(text(&out).contains("council-east/adult_safeguarding"), "{}", text(&out));
    println!("consent: the ICB refused at LinkOpen by policy.linkage.cohort_sources");

    // A window, though every node's catalogue holds it: an overlap takes none. The police
    // are opened first and refuse.
    let windowed = overlap_query("window", "SVD-SNA", "window = \"3m-before\"");
    let out = link(&fed, "window", &windowed);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        refusal(&out, "police"),
        ("LinkOpen".to_string(), "policy.linkage.windows".to_string())
    );
    assert!(text(&out).contains("takes no time window"), "{}", text(&out));
    println!("window: the police refused at LinkOpen by policy.linkage.windows");

    for node in &mut nodes {
        assert!(node.stop(), "{} did not stop cleanly: {}", node.name, node.stderr());
    }

    // Both refusals are logged denials naming their rule.
    let denied = |node: &str| -> Vec<String> {
        audit_entries(&fed.audit_log(node))
            .into_iter()
            .filter(|e| e.decision == pb::Decision::Denied as i32)
            .map(|e| e.rule)
            .collect()
    };
    assert_eq!(denied("icb"), ["policy.linkage.cohort_sources"]);
    assert_eq!(denied("police"), ["policy.linkage.windows"]);
    assert!(denied("council-east").is_empty());

    // 4. Every log verifies; the council logged the release as LINKED_DP under the exact
    // seam; the messages agree. Each blinder's set makes two hops (to the other blinder, then
    // to the council), the council's own three (round the ring and back): 7 messages.
    for node in MEMBERS {
        let verify = fed.verify_log(node);
        assert!(verify.status.success(), "{node}: {}", text(&verify));
    }
    let release = entries_for(&fed, "council-east", &matrix.query_id)
        .into_iter()
        .find(|e| e.output.as_ref().is_some_and(|o| o.output_class == "LINKED_DP"))
        .expect("the council logged the release");
    assert!(
        release.output.as_ref().is_some_and(|o| o.disclosure_rule.starts_with("test-seam:exact")),
        "{release:?}"
    );
    assert_eq!(release.budget.as_ref().map(|b| b.epsilon_micro), Some(1_000_000));
    logs_agree(&fed, &matrix.query_id, 7);
}

#[test]
fn the_strictest_participants_rules_apply() {
    // 2. No seam. The ICB's minimum cell is 20 (the others 8); the police's ε is 0.5 (the
    // others 1). The council computes, but the ICB's minimum cell and the police's ε apply.
    let fed = setup(20, "0.5", false);
    let mut nodes: Vec<_> = MEMBERS.iter().map(|m| fed.start_node(m)).collect();
    let matrix = overlap(&fed, "overlap-strict", &overlap_query("strict", "SVD-SNA", ""));
    print("overlap, strictest rules", &matrix);
    assert_eq!(matrix.levels, LEVELS);
    // Three participants: sensitivity 2·(3 − 1) = 4.
    assert_eq!(
        matrix.rules.first().map(String::as_str),
        Some("dp.discrete_laplace(eps=0.5,sensitivity=4)"),
        "{:?}",
        matrix.rules
    );
    assert!(matrix.rules.iter().any(|r| r == "suppress<20"), "{:?}", matrix.rules);
    assert!(!matrix.rules.iter().any(|r| r == "suppress<8"), "{:?}", matrix.rules);
    assert!(!matrix.rules.iter().any(|r| r.starts_with("test-seam")), "{:?}", matrix.rules);
    assert_eq!(matrix.epsilon_micro, 500_000);
    // Whatever the noise drew, no count from 1 to 19 is shown.
    for (level, count) in &matrix.cells {
        assert!(count.is_none_or(|n| n == 0 || n >= 20), "{level}: {count:?} shown under min 20");
    }
    for node in &mut nodes {
        assert!(node.stop(), "{} did not stop cleanly: {}", node.name, node.stderr());
    }
    // The logged release names the same rules, and the log verifies.
    let release = entries_for(&fed, "council-east", &matrix.query_id)
        .into_iter()
        .find(|e| e.output.as_ref().is_some_and(|o| o.output_class == "LINKED_DP"))
        .expect("the council logged the release");
    let logged_rules =
        release.output.as_ref().map(|o| o.disclosure_rule.clone()).unwrap_or_default();
    println!("logged at the council: rule {logged_rules:?}, charge {:?}", release.budget);
    assert_eq!(logged_rules, matrix.rules.join(";"));
    // The matrix is the one output, so the charge is the ε it was released at: the police's
    // 0.5, not twice the council's 1 (a linked count's table and quality figures).
    assert_eq!(release.budget.as_ref().map(|b| b.epsilon_micro), Some(500_000));
    for node in MEMBERS {
        let verify = fed.verify_log(node);
        assert!(verify.status.success(), "{node}: {}", text(&verify));
    }
    logs_agree(&fed, &matrix.query_id, 7);
}
