//! Query terms and query files: what they resolve to, and the error each kind of mistake gets
//! (naming the query and the key).

use std::path::Path;

use fedlink_proto::aggregate::{AgeBands, GeographyLevel, IsoDate, TimeBucket};

use super::*;

fn terms(dataset: &str) -> QueryTerms {
    QueryTerms { dataset: Some(dataset.into()), ..Default::default() }
}

fn date(text: &str) -> IsoDate {
    IsoDate::parse(text).expect("date")
}

#[test]
fn shaped_terms_resolve_to_a_typed_query() {
    let request = QueryTerms {
        filter: vec![
            "EC_Injury_Intent_SNOMED_CT=1240651000000109".into(),
            "Sex=F|M".into(),
            "Age_At_Arrival=18..24".into(),
        ],
        group_by: vec!["ward,month".into(), "age_band:10".into(), "column:quarter".into()],
        metric: Some("distinct_subjects".into()),
        period: Some("2025-04-01..2026-03-31".into()),
        ..terms("ecds")
    }
    .resolve()
    .expect("valid");
    let AggregateRequest::Shaped(q) = request else { panic!("not shaped") };
    assert_eq!(q.dataset, "ecds");
    assert_eq!(
        q.filters,
        [
            Filter::Equals {
                column: "EC_Injury_Intent_SNOMED_CT".into(),
                value: "1240651000000109".into()
            },
            Filter::In { column: "Sex".into(), values: vec!["F".into(), "M".into()] },
            Filter::NumberRange { column: "Age_At_Arrival".into(), min: 18.0, max: 24.0 },
            Filter::EventDates { from: date("2025-04-01"), to: date("2026-03-31") },
        ]
    );
    assert_eq!(
        q.group_by,
        [
            GroupBy::Geography(GeographyLevel::Ward),
            GroupBy::Time(TimeBucket::Month),
            GroupBy::Age(AgeBands::Width(10)),
            GroupBy::Column("quarter".into()),
        ]
    );
    assert_eq!(q.metric, Metric::DistinctSubjects);
    assert_eq!(q.max_rows_per_subject, None);
    // Defaults: rows, no filters, no groups.
    let AggregateRequest::Shaped(q) = terms("ecds").resolve().expect("valid") else {
        panic!("not shaped")
    };
    assert_eq!((q.metric, q.filters.len(), q.group_by.len()), (Metric::Rows, 0, 0));
}

#[test]
fn template_terms_resolve_to_a_template_request() {
    let request = QueryTerms {
        template: Some("death-reports-by-category".into()),
        template_period: Some("2025/26".into()),
        ..terms("death_reports")
    }
    .resolve()
    .expect("valid");
    assert_eq!(
        request,
        AggregateRequest::Template {
            dataset: "death_reports".into(),
            name: "death-reports-by-category".into(),
            period: "2025/26".into(),
        }
    );
}

#[test]
fn bad_terms_name_their_key() {
    let key = |t: QueryTerms| t.resolve().expect_err("should fail").key;
    let template = |period: Option<&str>| QueryTerms {
        template: Some("t".into()),
        template_period: period.map(str::to_string),
        ..terms("ds")
    };
    assert_eq!(key(QueryTerms::default()), "dataset");
    assert_eq!(key(QueryTerms { dataset: Some(" ".into()), ..Default::default() }), "dataset");
    assert_eq!(key(QueryTerms { filter: vec!["novalue".into()], ..terms("ds") }), "filter");
    assert_eq!(key(QueryTerms { filter: vec!["=x".into()], ..terms("ds") }), "filter");
    assert_eq!(key(QueryTerms { filter: vec!["age=9..1".into()], ..terms("ds") }), "filter");
    assert_eq!(key(QueryTerms { filter: vec!["x=a||b".into()], ..terms("ds") }), "filter");
    assert_eq!(key(QueryTerms { group_by: vec!["age_band:0".into()], ..terms("ds") }), "group_by");
    assert_eq!(key(QueryTerms { group_by: vec![",".into()], ..terms("ds") }), "group_by");
    assert_eq!(key(QueryTerms { group_by: vec!["column:".into()], ..terms("ds") }), "group_by");
    assert_eq!(key(QueryTerms { metric: Some("max".into()), ..terms("ds") }), "metric");
    assert_eq!(key(QueryTerms { metric: Some("sum:".into()), ..terms("ds") }), "metric");
    assert_eq!(key(QueryTerms { period: Some("2025-04-01".into()), ..terms("ds") }), "period");
    assert_eq!(
        key(QueryTerms { period: Some("2026-01-01..2025-01-01".into()), ..terms("ds") }),
        "period"
    );
    assert_eq!(
        key(QueryTerms { period: Some("2025-02-30..2025-03-01".into()), ..terms("ds") }),
        "period"
    );
    // A time grouping needs a period, so the table's rows do not depend on the data.
    assert_eq!(key(QueryTerms { group_by: vec!["month".into()], ..terms("ds") }), "period");
    assert_eq!(
        key(QueryTerms { template_period: Some("2025/26".into()), ..terms("ds") }),
        "template_period"
    );
    assert_eq!(key(template(None)), "template_period");
    assert_eq!(key(template(Some("2025/27"))), "template_period");
    assert_eq!(key(template(Some("last year"))), "template_period");
    assert_eq!(
        key(QueryTerms { group_by: vec!["ward".into()], ..template(Some("2025")) }),
        "template"
    );
    let too_many = QueryTerms { filter: vec!["a=1".into(); MAX_TERMS + 1], ..terms("ds") };
    assert_eq!(key(too_many), "filter");
    // The message says what was wrong with what.
    let err =
        QueryTerms { filter: vec!["novalue".into()], ..terms("ds") }.resolve().expect_err("bad");
    assert_eq!(
        err.to_string(),
        "`filter`: \"novalue\": a filter is COLUMN=VALUE, COLUMN=A|B|C or COLUMN=MIN..MAX"
    );
}

const FILE: &str = r#"
[defaults]
period = "2025-04-01..2026-03-31"
template_period = "2025/26"
purpose = "SVD-SNA"

[[query]]
name = "ed_assault_by_ward"
title = "ED assault attendances by ward"
node = "icb"
dataset = "ecds"
filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
group_by = ["ward"]

[[query]]
name = "police_violence_by_ward"
node = "police"
dataset = "crimes"
group_by = ["ward"]
period = "2025-01-01..2025-12-31"
purpose = "HOMICIDE-PREV"

[[query]]
name = "deaths_by_category"
node = "police"
dataset = "death_reports"
template = "death-reports-by-category"

[[combine]]
name = "s3_police_ed_by_ward"
title = "S3"
queries = ["police_violence_by_ward", "ed_assault_by_ward"]
on = "ward"
population = "public/ward_population.csv"
rank = true
"#;

fn load(text: &str) -> Result<QueryFile, QueryFileError> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("public")).expect("mkdir");
    std::fs::write(
        dir.path().join("public/ward_population.csv"),
        "ward,ward_name,local_authority,population\nW1,Abbey,LA1,1000\n",
    )
    .expect("write");
    let path = dir.path().join("queries.toml");
    std::fs::write(&path, text).expect("write");
    QueryFile::load(&path)
}

#[test]
fn a_query_file_resolves_with_defaults_and_populations() {
    let file = load(FILE).expect("valid");
    assert_eq!(file.queries.len(), 3);
    let ed = &file.queries[0];
    assert_eq!((ed.node.as_str(), ed.purpose.as_deref()), ("icb", Some("SVD-SNA")));
    assert_eq!(ed.heading(), "ED assault attendances by ward");
    let AggregateRequest::Shaped(q) = &ed.request else { panic!("shaped") };
    // The default period became an event-date filter.
    assert_eq!(
        q.filters[1],
        Filter::EventDates { from: date("2025-04-01"), to: date("2026-03-31") }
    );
    let police = &file.queries[1];
    assert_eq!(police.purpose.as_deref(), Some("HOMICIDE-PREV"));
    assert_eq!(police.heading(), "police_violence_by_ward");
    let AggregateRequest::Shaped(q) = &police.request else { panic!("shaped") };
    assert_eq!(
        q.filters,
        [Filter::EventDates { from: date("2025-01-01"), to: date("2025-12-31") }]
    );
    // Templates take the default template period and not the event-date period.
    assert!(matches!(
        &file.queries[2].request,
        AggregateRequest::Template { period, .. } if period == "2025/26"
    ));
    let combine = &file.combines[0];
    assert_eq!((combine.on.as_str(), combine.rate_per, combine.rank), ("ward", 1000, true));
    let population = combine.population.as_ref().expect("population");
    assert_eq!(population.residents("W1"), Some(1000));
}

#[test]
fn query_file_mistakes_name_the_query_and_key() {
    let message = |text: &str| load(text).expect_err("should fail").to_string();
    let query = |body: &str| format!("[[query]]\nname = \"q\"\nnode = \"icb\"\n{body}\n");
    let ok = query("dataset = \"ds\"");
    let combine = |body: &str| format!("{ok}\n[[combine]]\nname = \"c\"\n{body}\n");
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "no [[query]] entries"),
        ("[[query]]\nnode = \"icb\"\ndataset = \"ds\"".into(), "query \"#1\": `name`: missing"),
        (query("dataset = \"ds\"\ncolour = \"red\""), "unknown field `colour`"),
        (query("dataset = \"ds\"\nfilter = \"a=1\""), "invalid type"),
        (query(""), "query \"q\": `dataset`: missing"),
        (query("dataset = \"ds\"\nfilter = [\"nonsense\"]"), "query \"q\": `filter`: \"nonsense\""),
        (
            query("dataset = \"ds\"\ngroup_by = [\"month\"]"),
            "query \"q\": `period`: grouping by month",
        ),
        (query("dataset = \"ds\"\ntemplate = \"t\""), "query \"q\": `template_period`: missing"),
        ("[[query]]\nname = \"q\"\ndataset = \"ds\"".into(), "query \"q\": `node`: missing"),
        (format!("{ok}\n{ok}"), "query \"q\": `name`: used twice"),
        (ok.replace("name = \"q\"", "name = \"../q\""), "is not a usable name"),
        ("[defaults]\nperiod = 3\n".into(), "invalid type"),
        ("[defaults]\nwhen = \"x\"\n".into(), "unknown field `when`"),
        (combine("queries = [\"q\"]"), "combine \"c\": `on`: missing"),
        (combine("on = \"ward\""), "combine \"c\": `queries`: name at least one"),
        (combine("on = \"ward\"\nqueries = [\"nope\"]"), "`queries`: no query named \"nope\""),
        (combine("on = \"ward\"\nqueries = [\"q\", \"q\"]"), "`queries`: \"q\" is listed twice"),
        (combine("on = \"ward\"\nqueries = [\"q\"]\nrate_per = 1000"), "`rate_per`: rates need"),
        (
            combine("on = \"ward\"\nqueries = [\"q\"]\npopulation = \"missing.csv\""),
            "combine \"c\": `population`: population file",
        ),
        (
            combine(
                "on = \"lsoa\"\nqueries = [\"q\"]\npopulation = \"public/ward_population.csv\"",
            ),
            "no column named \"lsoa\"",
        ),
        (
            combine("on = \"ward\"\nqueries = [\"q\"]").replace("name = \"c\"", "name = \"q\""),
            "already used",
        ),
    ];
    for (text, expected) in cases {
        let got = message(&text);
        assert!(got.contains(expected), "for\n{text}\nexpected {expected:?} in {got:?}");
    }
}

#[test]
fn an_unreadable_file_names_its_path() {
    let err = QueryFile::load(Path::new("/nonexistent/queries.toml")).expect_err("missing");
    assert_eq!(err.to_string(), "cannot read query file /nonexistent/queries.toml");
}
