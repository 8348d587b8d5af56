//! Aggregates against a real dataset store: counts by derived buckets, filters, bounding, and
//! refusals of identifiers and unknown columns before anything reaches SQL.

use super::*;
use crate::aggregate::run::{RawCell, execute, execute_parallel};
use crate::dataset::import::import_csv;
use crate::dataset::store::DatasetStore;
use fedlink_proto::aggregate::{
    AgeBands, AggregateQuery, Filter, GroupBy, IsoDate, Metric, TimeBucket,
};

const SCHEMA: &str = r#"
name = "ed"
description = "test"
subject = "person"
[[column]]
name = "id"
role = "record_id"
[[column]]
name = "nhs"
role = "nhs_number"
[[column]]
name = "first"
role = "forenames"
[[column]]
name = "last"
role = "surname"
[[column]]
name = "dob"
role = "dob"
[[column]]
name = "arrival"
role = "event_datetime"
[[column]]
name = "intent"
role = "category"
[[column]]
name = "ward"
role = "geography"
level = "ward"
[[column]]
name = "age"
role = "numeric"
min = 0
max = 120
"#;

const ROWS: &str = "id,nhs,first,last,dob,arrival,intent,ward,age
1,943 476 5919,John,Smith,1980-01-02,2025-03-31 23:10,assault,W1,45
2,943 476 5919,John,Smith,1980-01-02,2025-04-01 01:00,assault,W1,45
3,943 476 5919,John,Smith,1980-01-02,2025-04-15 13:00,assault,W2,45
4,,Mary,Jones,2010-06-01,2025-04-20 09:30,self_harm,W1,14
5,,Mary,Jones,2010-06-01,2025-05-20 21:00,assault,W2,14
6,,Ann,Lee,1950-02-02,2025-05-21 02:00,accident,W2,75
";

fn store() -> (tempfile::TempDir, DatasetStore, DatasetSchema) {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("ed.csv");
    std::fs::write(&csv, ROWS).expect("write");
    let schema = DatasetSchema::from_toml(SCHEMA).expect("schema");
    let mut store = DatasetStore::open(&dir.path().join("datasets.db")).expect("store");
    let summary = import_csv(&mut store, &schema, &csv, || 0, &|_| {}).expect("import");
    assert_eq!(summary.counts.inserted, 6);
    (dir, store, schema)
}

fn query(group_by: Vec<GroupBy>, filters: Vec<Filter>, metric: Metric) -> AggregateQuery {
    AggregateQuery { dataset: "ed".into(), filters, group_by, metric, max_rows_per_subject: None }
}

fn run(
    store: &DatasetStore,
    schema: &DatasetSchema,
    q: &AggregateQuery,
) -> Vec<(Vec<String>, i64)> {
    let compiled = compile(schema, q, false).expect("compiles");
    plain(execute(store.connection(), &compiled).expect("runs"))
}

fn plain(cells: Vec<RawCell>) -> Vec<(Vec<String>, i64)> {
    cells
        .into_iter()
        .map(|RawCell { groups, value }| {
            (groups.into_iter().map(|g| g.unwrap_or_else(|| "-".into())).collect(), value)
        })
        .collect()
}

#[test]
fn partitioned_runs_give_the_same_table() {
    let (dir, store, schema) = store();
    let db = dir.path().join("datasets.db");
    let by = |g: Vec<GroupBy>, metric: Metric, bound: Option<u32>| AggregateQuery {
        max_rows_per_subject: bound,
        ..query(g, vec![], metric)
    };
    for q in [
        by(vec![GroupBy::Column("intent".into())], Metric::Rows, None),
        by(vec![GroupBy::Time(TimeBucket::Month)], Metric::DistinctSubjects, None),
        by(vec![GroupBy::Column("ward".into())], Metric::Rows, Some(1)),
        by(vec![], Metric::Sum { column: "age".into() }, Some(2)),
    ] {
        let compiled = compile(&schema, &q, false).expect("compiles");
        let one = run(&store, &schema, &q);
        for threads in [1, 2, 3] {
            let parallel = plain(execute_parallel(&db, &compiled, threads).expect("runs"));
            assert_eq!(parallel, one, "{threads} threads: {q:?}");
        }
    }
}

fn cells(list: &[(&[&str], i64)]) -> Vec<(Vec<String>, i64)> {
    list.iter().map(|(g, v)| (g.iter().map(|s| s.to_string()).collect(), *v)).collect()
}

#[test]
fn counts_by_ward_and_month() {
    let (_d, store, schema) = store();
    let q = query(
        vec![GroupBy::Column("ward".into()), GroupBy::Time(TimeBucket::Month)],
        vec![],
        Metric::Rows,
    );
    assert_eq!(
        run(&store, &schema, &q),
        cells(&[
            (&["W1", "2025-03"], 1),
            (&["W1", "2025-04"], 2),
            (&["W2", "2025-04"], 1),
            (&["W2", "2025-05"], 2),
        ])
    );
}

#[test]
fn derived_time_buckets_and_age_bands() {
    let (_d, store, schema) = store();
    let fy = query(vec![GroupBy::Time(TimeBucket::FinancialYear)], vec![], Metric::Rows);
    assert_eq!(run(&store, &schema, &fy), cells(&[(&["2024/25"], 1), (&["2025/26"], 5)]));
    let q = query(vec![GroupBy::Time(TimeBucket::Quarter)], vec![], Metric::Rows);
    assert_eq!(run(&store, &schema, &q), cells(&[(&["2025-Q1"], 1), (&["2025-Q2"], 5)]));
    let dow = query(vec![GroupBy::Time(TimeBucket::DayOfWeek)], vec![], Metric::Rows);
    // 2025-03-31 and 2025-04-15 and 2025-04-20 ...: Monday, Tuesday, Tuesday, Sunday, Tuesday, Wednesday.
    assert_eq!(
        run(&store, &schema, &dow),
        cells(&[(&["1-Mon"], 1), (&["2-Tue"], 3), (&["3-Wed"], 1), (&["7-Sun"], 1)])
    );
    let hours = query(vec![GroupBy::Time(TimeBucket::HourBand)], vec![], Metric::Rows);
    assert_eq!(
        run(&store, &schema, &hours),
        cells(&[(&["00-03"], 2), (&["08-11"], 1), (&["12-15"], 1), (&["20-23"], 2)])
    );
    let week = query(vec![GroupBy::Time(TimeBucket::Week)], vec![], Metric::Rows);
    assert_eq!(run(&store, &schema, &week)[0], (vec!["2025-03-31".to_string()], 2));
    let ages = query(vec![GroupBy::Age(AgeBands::Standard)], vec![], Metric::Rows);
    assert_eq!(
        run(&store, &schema, &ages),
        cells(&[(&["00-17"], 2), (&["45-54"], 3), (&["65+"], 1)])
    );
}

#[test]
fn filters_distinct_subjects_sums_and_contribution_bounds() {
    let (_d, store, schema) = store();
    let assault = Filter::Equals { column: "intent".into(), value: "assault".into() };
    let q = query(vec![], vec![assault.clone()], Metric::Rows);
    assert_eq!(run(&store, &schema, &q), cells(&[(&[], 4)]));
    let q = query(vec![], vec![assault.clone()], Metric::DistinctSubjects);
    assert_eq!(run(&store, &schema, &q), cells(&[(&[], 2)]));
    let mut bounded = query(vec![], vec![assault], Metric::Rows);
    bounded.max_rows_per_subject = Some(1);
    assert_eq!(run(&store, &schema, &bounded), cells(&[(&[], 2)]));
    let april = Filter::EventDates {
        from: IsoDate::from_ymd(2025, 4, 1).expect("date"),
        to: IsoDate::from_ymd(2025, 4, 30).expect("date"),
    };
    let q = query(vec![], vec![april], Metric::Sum { column: "age".into() });
    assert_eq!(run(&store, &schema, &q), cells(&[(&[], 45 + 45 + 14)]));
    let set = Filter::In { column: "ward".into(), values: vec!["W2".into(), "W9".into()] };
    let q = query(vec![], vec![set], Metric::Rows);
    assert_eq!(run(&store, &schema, &q), cells(&[(&[], 3)]));
}

#[test]
fn sql_looking_values_are_bound_not_spliced() {
    let (_d, store, schema) = store();
    let hostile = "W1' OR '1'='1";
    let evil = Filter::Equals { column: "ward".into(), value: hostile.into() };
    let q = query(vec![], vec![evil], Metric::Rows);
    assert_eq!(run(&store, &schema, &q), cells(&[(&[], 0)]));
    // The value is a parameter, and no part of it is in the statement.
    let compiled = compile(&schema, &q, false).expect("compiles");
    assert!(!compiled.sql.contains("OR '1'"), "{}", compiled.sql);
    assert!(!compiled.sql.contains('\''), "{}", compiled.sql);
    assert!(
        compiled.params.iter().any(|p| matches!(p, Value::Text(t) if t.contains("OR '1'='1"))),
        "the value is bound"
    );
}

#[test]
fn identifiers_unknown_columns_and_sql_looking_names_are_refused_before_sql() {
    let (_d, _store, schema) = store();
    for column in ["nhs", "first", "last", "dob", "id"] {
        let q = query(vec![GroupBy::Column(column.into())], vec![], Metric::Rows);
        assert_eq!(
            compile(&schema, &q, false).unwrap_err(),
            CompileError::Identifier(column.into())
        );
    }
    for column in ["ward; DROP TABLE ds_ed; --", "a_ward", "nhs_number", "1=1"] {
        let q = query(vec![GroupBy::Column(column.into())], vec![], Metric::Rows);
        assert!(
            matches!(compile(&schema, &q, false), Err(CompileError::UnknownColumn { .. })),
            "{column}"
        );
        let f = Filter::Equals { column: column.into(), value: "x".into() };
        assert!(compile(&schema, &query(vec![], vec![f], Metric::Rows), false).is_err());
    }
    let q = query(vec![], vec![], Metric::Sum { column: "intent".into() });
    assert!(matches!(compile(&schema, &q, false), Err(CompileError::WrongUse { .. })));
    let mut other = query(vec![], vec![], Metric::Rows);
    other.dataset = "crimes".into();
    assert!(matches!(compile(&schema, &other, false), Err(CompileError::WrongDataset { .. })));
}
