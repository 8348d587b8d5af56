//! Aggregate queries against a live node: published templates answered with suppression and
//! rounding alone, shaped queries with DP noise charged to the budget, refusals that name the
//! policy rule before anything reaches SQL, and a budget ledger that replays from the log.

use fedlink_proto::aggregate::text::{parse_filter, parse_groups};
use fedlink_proto::aggregate::{AggregateQuery, AggregateRequest, Metric};
use fedlink_proto::envelope::{Envelope, Mode, QueryBody, sha256};
use fedlink_proto::pb;
use fedlink_proto::pb::released_count::Value;
use fedlink_proto::refusal::REFUSAL_HEADER;

use crate::util::{TestFederation, audit_entries, run, runtime, text};

/// The coordinator's arguments for the ICB's published template of ED attendances by ward and
/// intent, for 2025/26 (the `ed` dataset and policy [`setup`] makes).
pub(crate) const ICB_TEMPLATE_QUERY: [&str; 11] = [
    "aggregate",
    "--node",
    "icb",
    "--dataset",
    "ed",
    "--purpose",
    "SVD-SNA",
    "--template",
    "attendances-by-ward-intent",
    "--template-period",
    "2025/26",
];

const SCHEMA: &str = r#"
name = "ed"
description = "ED attendances (test)"
subject = "person"

[[column]]
name = "EC_Ident"
role = "record_id"

[[column]]
name = "NHS_Number"
role = "nhs_number"

[[column]]
name = "Given"
role = "forenames"

[[column]]
name = "Family"
role = "surname"

[[column]]
name = "DOB"
role = "dob"

[[column]]
name = "Arrival"
role = "event_datetime"

[[column]]
name = "Intent"
role = "category"
codes = ["assault", "self_harm", "accident"]

[[column]]
name = "Age"
role = "numeric"
min = 0
max = 120

[[column]]
name = "LSOA"
role = "geography"
level = "lsoa"
"#;

const LOOKUP: &str = "lsoa,ward,local_authority\n\
E01000001,E05000001,E06000001\nE01000002,E05000001,E06000001\n\
E01000003,E05000002,E06000001\nE01000004,E05000002,E06000001\n\
E01000005,E05000003,E06000001\nE01000006,E05000003,E06000001\n";

const POLICY: &str = r#"
[budget]
period = "financial_year"
coordinator_epsilon = "3"
requester_epsilon = "2"

[[aggregate]]
dataset = "ed"
purposes = ["SVD-SNA"]
columns = { Intent = ["filter", "group_by"], Age = ["filter", "sum"] }
time_buckets = ["month", "quarter", "day_of_week"]
geography = ["ward", "lsoa"]
age_bands = true
metrics = ["rows", "distinct_subjects", "sum"]
privacy = { epsilon = "1", max_rows_per_subject = 2 }

[[aggregate.template]]
name = "attendances-by-ward-intent"
period = "financial_year"
group_by = ["ward", "Intent"]
"#;

/// 600 attendances by 300 people over April–September 2025, spread unevenly over six LSOAs
/// (so some ward × intent cells are small) and three intents.
fn extract() -> String {
    let mut csv = "EC_Ident,NHS_Number,Given,Family,DOB,Arrival,Intent,Age,LSOA\n".to_string();
    let intents = ["assault", "self_harm", "accident"];
    for i in 0..600u32 {
        let person = i % 300;
        let lsoa = [1, 1, 1, 2, 2, 3, 3, 4, 5, 6][(i as usize * 7) % 10];
        // Ward 3 (LSOAs 5 and 6) sees almost only assaults: a handful of self-harm there.
        let intent = match (lsoa >= 5, i % 37 == 0) {
            (true, true) => "self_harm",
            (true, false) => "assault",
            _ => intents[(i % 7 % 3) as usize],
        };
        let month = 4 + (i % 6);
        let day = 1 + (i % 28);
        csv.push_str(&format!(
            "A{i},,Name{person},Family{person},{:04}-01-15,2025-{month:02}-{day:02} 1{}:30,{intent},{},E0100000{lsoa}\n",
            1960 + person % 45,
            i % 10,
            2025 - (1960 + person % 45),
        ));
    }
    // Three attendances whose arrival time was not recorded.
    for i in 600..603u32 {
        csv.push_str(&format!("A{i},,Late{i},Entry{i},1980-01-15,,self_harm,45,E01000001\n"));
    }
    csv
}

/// A federation whose icb node holds the `ed` dataset (imported by operator `tester`), the
/// lookup and the aggregate policy. Also used by the audit tests.
pub(crate) fn setup() -> TestFederation {
    let fed = TestFederation::new();
    let dir = fed.member_dir("icb");
    std::fs::create_dir_all(dir.join("datasets")).expect("mkdir");
    std::fs::write(dir.join("datasets/ed.toml"), SCHEMA).expect("schema");
    std::fs::write(dir.join("lookup.csv"), LOOKUP).expect("lookup");
    std::fs::write(dir.join("ed.csv"), extract()).expect("csv");
    fed.append_to_node_config("icb", "geography_lookup = \"lookup.csv\"");
    let config = fed.node_config("icb");
    let mut text_ = std::fs::read_to_string(&config).expect("read");
    text_.push_str("\n[[dataset]]\nschema = \"datasets/ed.toml\"\n");
    std::fs::write(&config, text_).expect("write");
    let policy_path = dir.join("policy.toml");
    let policy = std::fs::read_to_string(&policy_path).expect("policy");
    let policy = policy.replace("aggregate = false", "aggregate = true");
    std::fs::write(&policy_path, format!("{policy}\n{POLICY}")).expect("write policy");
    let out = run(&[
        "node",
        "import",
        "--config",
        config.to_str().expect("utf8"),
        "--dataset",
        "ed",
        "--operator",
        "tester",
        dir.join("ed.csv").to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    fed
}

fn envelope(fed: &TestFederation, request: AggregateRequest) -> Envelope {
    let mut env = fed.envelope("icb");
    env.mode = Mode::Aggregate;
    env.purpose = "SVD-SNA".into();
    env.body = QueryBody::Aggregate(request);
    env
}

/// An envelope from another analyst of the same coordinator (each has their own budget).
fn as_officer(fed: &TestFederation, officer: &str, request: AggregateRequest) -> Envelope {
    let mut env = envelope(fed, request);
    env.requester.officer_id = officer.into();
    env
}

fn shaped(filters: &[&str], groups: &str, metric: Metric) -> AggregateRequest {
    AggregateRequest::Shaped(AggregateQuery {
        dataset: "ed".into(),
        filters: filters.iter().map(|f| parse_filter(f).expect("filter")).collect(),
        group_by: parse_groups(groups).expect("groups"),
        metric,
        max_rows_per_subject: None,
    })
}

fn template(period: &str) -> AggregateRequest {
    AggregateRequest::Template {
        dataset: "ed".into(),
        name: "attendances-by-ward-intent".into(),
        period: period.into(),
    }
}

/// Sends one aggregate envelope; the table, or the refusal's rule and message.
fn ask(fed: &TestFederation, env: &Envelope) -> Result<pb::ProtectedTable, (String, String)> {
    let rt = runtime();
    rt.block_on(async {
        let mut client = fed.client("icb", &fed.client_tls("coordinator")).await;
        match client.aggregate(env.sign(&fed.identity("coordinator"))).await {
            Ok(response) => {
                let response = response.into_inner();
                assert!(response.receipt.is_some(), "an answer carries its receipt");
                Ok(response.table.expect("a table"))
            }
            Err(status) => {
                let rule = status
                    .metadata()
                    .get(REFUSAL_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                Err((rule, status.message().to_string()))
            }
        }
    })
}

fn values(cells: &[pb::ReleasedCount]) -> Vec<Option<u64>> {
    cells
        .iter()
        .map(|c| match c.value {
            Some(Value::Count(n)) => Some(n),
            Some(Value::Suppressed(_)) => None,
            None => panic!("a cell without a value"),
        })
        .collect()
}

/// No released count lies in 1..=7 and every one is a multiple of 5.
fn assert_protected(table: &pb::ProtectedTable) {
    let mut all = values(&table.cells);
    for m in &table.margins {
        all.extend(values(&m.values));
    }
    all.extend(values(table.total.as_slice()));
    for v in all.into_iter().flatten() {
        assert!(v == 0 || v >= 8, "released {v} lies in the suppressed range");
        assert_eq!(v % 5, 0, "released {v} is not rounded to 5");
    }
}

#[test]
fn a_published_template_is_answered_with_suppression_and_rounding_alone() {
    let fed = setup();
    let mut node = fed.start_node("icb");
    let env = envelope(&fed, template("2025/26"));
    let table = ask(&fed, &env).expect("answered");
    assert!(table.privacy.is_none(), "templates carry no noise");
    assert_eq!(table.template, "attendances-by-ward-intent");
    let names: Vec<&str> = table.dimensions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["ward", "Intent"]);
    // Wards come from the public lookup (derived from LSOA), plus the missing level.
    assert_eq!(table.dimensions[0].levels, ["E05000001", "E05000002", "E05000003", "(missing)"]);
    assert_protected(&table);
    assert!(
        values(&table.cells).contains(&None),
        "small cells suppressed: {:?}",
        values(&table.cells)
    );
    assert!(table.applied_rules.iter().any(|r| r == "round5"), "{:?}", table.applied_rules);

    // The disclosure entry records the SDC class, the rules and the hash of what left.
    let log = fed.audit_log("icb");
    let entry = audit_entries(&log).pop().expect("entry");
    let output = entry.output.expect("output");
    assert_eq!(output.output_class, "AGGREGATE_SDC");
    assert_eq!(output.result_hash, sha256(&prost::Message::encode_to_vec(&table)).to_vec());
    assert!(entry.budget.is_none(), "templates are not charged");

    // A period that has not ended is refused: a published table is final, not re-run daily.
    let (rule, message) = ask(&fed, &envelope(&fed, template("2099/00"))).expect_err("open period");
    assert_eq!(rule, "policy.aggregate.template_period", "{message}");
    assert!(message.contains("ended"), "{message}");

    // A period of the wrong kind is refused, naming the rule.
    let (rule, message) = ask(&fed, &envelope(&fed, template("2025-Q1"))).expect_err("refused");
    assert_eq!(rule, "policy.aggregate.template_period", "{message}");
    assert!(message.contains("2025/26"), "{message}");
    node.stop();
}

#[test]
fn shaped_queries_are_noised_charged_and_refused_when_the_budget_is_spent() {
    let fed = setup();
    let mut node = fed.start_node("icb");
    let query = || shaped(&["Intent=assault"], "ward,month", Metric::Rows);
    let mut env = envelope(&fed, query());
    // A time grouping needs a period so that the rows do not depend on the data.
    let (rule, message) = ask(&fed, &env).expect_err("no period");
    assert_eq!(rule, "aggregate.invalid", "{message}");
    assert!(message.contains("needs a period"), "{message}");

    let with_period = || {
        shaped(&["Intent=assault"], "ward,month", Metric::Rows)
            .with_period("2025-04-01..2025-09-30")
    };
    for spent in 1..=2u64 {
        env = envelope(&fed, with_period());
        let table = ask(&fed, &env).expect("answered");
        let privacy = table.privacy.clone().expect("noised");
        assert_eq!(privacy.epsilon_micro, 1_000_000);
        assert_eq!(privacy.requester_remaining_micro, (2 - spent) * 1_000_000);
        assert_eq!(table.dimensions[1].levels.len(), 6, "April to September");
        assert!(
            table.applied_rules[0].starts_with("dp.discrete_laplace"),
            "{:?}",
            table.applied_rules
        );
        assert_protected(&table);
    }
    let (rule, message) = ask(&fed, &envelope(&fed, with_period())).expect_err("overspend");
    assert_eq!(rule, "policy.budget", "{message}");
    assert!(message.contains("epsilon 0 left"), "{message}");

    // The refusal is logged, and the ledger replays from the log to the recorded balance.
    let entries = audit_entries(&fed.audit_log("icb"));
    let denied = entries.last().expect("entry");
    assert_eq!(denied.rule, "policy.budget");
    assert_eq!(denied.decision, pb::Decision::Denied as i32);
    let replayed = fedlink_proto::audit::budget::replay(&entries);
    assert_eq!(replayed.values().copied().collect::<Vec<_>>(), [2_000_000, 2_000_000]);
    node.stop();
    let verify = fed.verify_log("icb");
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("budget"), "{}", text(&verify));
}

#[test]
fn totals_sums_and_undated_rows_are_answered_with_noise() {
    let fed = setup();
    let mut node = fed.start_node("icb");
    // No grouping: one cell, in the one-level `all` dimension.
    let table = ask(&fed, &envelope(&fed, shaped(&["Intent=self_harm"], "", Metric::Rows)))
        .expect("answered");
    assert_eq!(table.dimensions.len(), 1);
    assert_eq!(table.dimensions[0].name, "all");
    assert_eq!(table.cells.len(), 1);
    // Without a period some rows have no date: day of week keeps a missing level for them.
    let table = ask(
        &fed,
        &as_officer(&fed, "TEST-2", shaped(&["Intent=self_harm"], "day_of_week", Metric::Rows)),
    )
    .expect("answered");
    assert_eq!(table.dimensions[0].levels.last().map(String::as_str), Some("(missing)"));
    // A sum is noised in proportion to the column's bound times the per-subject bound.
    let sum = shaped(&[], "ward", Metric::Sum { column: "Age".into() });
    let table = ask(&fed, &as_officer(&fed, "TEST-3", sum)).expect("answered");
    assert!(table.applied_rules[0].contains("sensitivity=240"), "{:?}", table.applied_rules);
    assert_protected(&table);
    node.stop();
}

#[test]
fn uses_the_policy_does_not_allow_are_refused_before_sql() {
    let fed = setup();
    let mut node = fed.start_node("icb");
    let p = "2025-04-01..2025-09-30";
    let cases: Vec<(AggregateRequest, &str)> = vec![
        // SQL-looking column names and identifiers are simply not listed.
        (shaped(&["Intent; DROP TABLE ds_ed;--=x"], "", Metric::Rows), "policy.aggregate.columns"),
        (shaped(&[], "column:NHS_Number", Metric::Rows), "policy.aggregate.columns"),
        (shaped(&[], "DOB", Metric::Rows), "policy.aggregate.columns"),
        (shaped(&["Family=Smith"], "", Metric::Rows), "policy.aggregate.columns"),
        (shaped(&[], "day", Metric::Rows).with_period(p), "policy.aggregate.groupings"),
        (shaped(&[], "local_authority", Metric::Rows), "policy.aggregate.groupings"),
        (shaped(&[], "ward", Metric::Sum { column: "Intent".into() }), "policy.aggregate.columns"),
        (shaped(&[], "ward,month,Intent,age_band", Metric::Rows), "policy.aggregate.groupings"),
        (
            AggregateRequest::Template {
                dataset: "ed".into(),
                name: "nope".into(),
                period: "2025/26".into(),
            },
            "policy.aggregate.templates",
        ),
        (
            AggregateRequest::Template {
                dataset: "apc".into(),
                name: "x".into(),
                period: "2025/26".into(),
            },
            "aggregate.dataset_unknown",
        ),
    ];
    for (request, expected) in cases {
        let shown = format!("{request:?}");
        let (rule, message) = ask(&fed, &envelope(&fed, request)).expect_err(&shown);
        assert_eq!(rule, expected, "{shown}: {message}");
    }
    // An aggregate body under a describe mode, or sent to the Describe RPC, is refused.
    let mut env = envelope(&fed, template("2025/26"));
    env.mode = Mode::Describe;
    let (rule, _) = ask(&fed, &env).expect_err("mode");
    assert_eq!(rule, "envelope.mode");

    // A purpose the rule does not serve.
    let mut env = envelope(&fed, template("2025/26"));
    env.purpose = "SERVICE-CHECK".into();
    let (rule, _) = ask(&fed, &env).expect_err("purpose");
    assert_eq!(rule, "policy.aggregate.dataset");

    // Nothing reached the data: the table is whole and every refusal is logged as denied.
    let db = fed.member_dir("icb").join("data/datasets.db");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM ds_ed", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 603);
    let denied = audit_entries(&fed.audit_log("icb"))
        .iter()
        .filter(|e| e.decision == pb::Decision::Denied as i32)
        .count();
    assert_eq!(denied, 12);
    node.stop();
}

/// Adds the event-date period to a shaped request.
trait WithPeriod {
    fn with_period(self, period: &str) -> Self;
}

impl WithPeriod for AggregateRequest {
    fn with_period(self, period: &str) -> Self {
        let AggregateRequest::Shaped(mut q) = self else { return self };
        let (from, to) = fedlink_proto::aggregate::text::parse_period(period).expect("period");
        q.filters.push(fedlink_proto::aggregate::Filter::EventDates { from, to });
        AggregateRequest::Shaped(q)
    }
}

/// Runs `fedlink coordinator …` with the test federation's coordinator config.
fn coordinator(fed: &TestFederation, args: &[&str]) -> std::process::Output {
    let config = fed.coordinator_config();
    let mut all = vec!["coordinator", args[0], "--config", config.to_str().expect("utf8")];
    all.extend_from_slice(&args[1..]);
    run(&all)
}

#[test]
fn the_analyst_asks_from_the_command_line_and_from_a_query_file() {
    let fed = setup();
    let mut node = fed.start_node("icb");
    let out = coordinator(&fed, &[ICB_TEMPLATE_QUERY.as_slice(), &["--format", "csv"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let csv = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(csv.starts_with("ward,Intent,value,suppressed\n"), "{csv}");
    // Suppressed cells are marked, never shown as a number.
    assert!(csv.lines().any(|l| l.ends_with(",,true")), "{csv}");
    for line in csv.lines().skip(1) {
        if let Some(value) = line.split(',').nth(2).and_then(|v| v.parse::<u64>().ok()) {
            assert!(value == 0 || (value >= 8 && value % 5 == 0), "{line}");
        }
    }

    // A refusal exits 1 and says which rule refused.
    let refused = coordinator(
        &fed,
        &[
            "aggregate",
            "--node",
            "icb",
            "--dataset",
            "ed",
            "--purpose",
            "SVD-SNA",
            "--group-by",
            "DOB",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("policy.aggregate.columns"), "{}", text(&refused));

    // A query file: two shaped queries combined by ward with a rate per 1,000.
    let dir = fed.member_dir("coordinator");
    std::fs::write(
        dir.join("population.csv"),
        "ward,ward_name,population\nE05000001,North,2000\nE05000002,Middle,1500\nE05000003,South,1000\n",
    )
    .expect("population");
    std::fs::write(
        dir.join("queries.toml"),
        r#"
[defaults]
purpose = "SVD-SNA"
period = "2025-04-01..2025-09-30"

[[query]]
name = "assaults"
node = "icb"
dataset = "ed"
filter = ["Intent=assault"]
group_by = ["ward"]

[[query]]
name = "self_harm"
node = "icb"
dataset = "ed"
filter = ["Intent=self_harm"]
group_by = ["ward"]

[[combine]]
name = "by_ward"
queries = ["assaults", "self_harm"]
on = "ward"
population = "population.csv"
rate_per = 1000
rank = true
"#,
    )
    .expect("queries");
    let out_dir = dir.join("out");
    let out = coordinator(
        &fed,
        &[
            "run",
            "--queries",
            dir.join("queries.toml").to_str().expect("utf8"),
            "--out",
            out_dir.to_str().expect("utf8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(shown.contains("rate per 1,000"), "{shown}");
    assert!(shown.contains("2 of 2 queries answered"), "{shown}");
    for name in ["assaults", "self_harm", "by_ward"] {
        assert!(out_dir.join(format!("{name}.csv")).exists(), "{name}.csv");
    }
    node.stop();
    // Every answer and charge is in the node's log, and the ledger replays.
    let verify = fed.verify_log("icb");
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("2 charges"), "{}", text(&verify));
}
