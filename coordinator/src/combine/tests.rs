//! Combining hand-built released tables: union of codes, suppressed totals never read as 0,
//! rates from a population file, ranks, and tables that cannot be combined.

use std::path::Path;

use fedlink_proto::pb;

use super::*;
use crate::table::render::Format;
use crate::table::tests::{by_ward, c, dim, n, provenance, wire};

const POPULATION: &str = "\
ward,ward_name,local_authority,population
W1,Abbey,LA1,1000
W2,\"Bank, North\",LA1,2000
W3,Castle,LA1,500
W4,Dock,LA1,4000
";

fn spec(population: bool, rank: bool) -> CombineSpec {
    CombineSpec {
        name: "s3".into(),
        title: Some("S3".into()),
        queries: vec!["police".into(), "ed".into()],
        on: "ward".into(),
        population: population.then(|| {
            Population::from_csv(POPULATION, "ward", Path::new("pop.csv")).expect("population")
        }),
        rate_per: 1000,
        rank,
    }
}

fn police() -> ReleasedTable {
    by_ward("police", vec![("W1", n(10)), ("W2", n(30)), ("W3", c()), ("W4", n(20))])
}

fn ed() -> ReleasedTable {
    by_ward("icb", vec![("W1", n(5)), ("W2", n(10)), ("W3", n(5)), ("W5", n(15))])
}

fn row<'a>(table: &'a CombinedTable, code: &str) -> &'a CombinedRow {
    table.rows.iter().find(|r| r.code == code).expect(code)
}

#[test]
fn rows_are_the_union_of_codes_and_totals_never_treat_suppressed_as_zero() {
    let (p, e) = (police(), ed());
    let t = combine(&spec(false, false), &[("police", &p), ("ed", &e)]).expect("combined");
    let codes: Vec<&str> = t.rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["W1", "W2", "W3", "W4", "W5"]);
    assert_eq!(row(&t, "W1").combined, Combined::Count(15));
    assert_eq!(row(&t, "W3").values, [Some(Released::Suppressed), Some(Released::Count(5))]);
    assert_eq!(row(&t, "W3").combined, Combined::Suppressed);
    // W4 is not in the ED table, W5 not in the police table: the total is incomplete, not 20.
    assert_eq!(row(&t, "W4").combined, Combined::Incomplete);
    assert_eq!(row(&t, "W5").values[0], None);
    assert!(t.rows.iter().all(|r| r.rate.is_none() && r.rank.is_none()));
}

#[test]
fn rates_per_thousand_and_ranks_with_unrated_rows_last() {
    let (p, e) = (police(), ed());
    let t = combine(&spec(true, true), &[("police", &p), ("ed", &e)]).expect("combined");
    // W1: 15 / 1000 → 15.0; W2: 40 / 2000 → 20.0; W3 suppressed; W4 incomplete; W5 no population.
    let order: Vec<(&str, Option<usize>)> =
        t.rows.iter().map(|r| (r.code.as_str(), r.rank)).collect();
    assert_eq!(order, [("W2", Some(1)), ("W1", Some(2)), ("W3", None), ("W4", None), ("W5", None)]);
    assert_eq!(row(&t, "W2").rate, Some(20.0));
    assert_eq!(row(&t, "W2").name.as_deref(), Some("Bank, North"));
    assert_eq!(row(&t, "W5").population, None);
}

#[test]
fn equal_rates_share_a_rank() {
    let a = by_ward("a", vec![("W1", n(10)), ("W2", n(20)), ("W3", n(30))]);
    let mut s = spec(true, true);
    s.queries = vec!["a".into()];
    let t = combine(&s, &[("a", &a)]).expect("combined");
    // W1 10/1000 and W2 20/2000 are both 10 per 1,000; W3 30/500 is 60.
    let ranks: Vec<(&str, Option<usize>)> =
        t.rows.iter().map(|r| (r.code.as_str(), r.rank)).collect();
    assert_eq!(ranks, [("W3", Some(1)), ("W1", Some(2)), ("W2", Some(2))]);
}

#[test]
fn without_a_population_ranks_go_by_total() {
    let (p, e) = (police(), ed());
    let t = combine(&spec(false, true), &[("police", &p), ("ed", &e)]).expect("combined");
    assert_eq!(t.rows[0].code, "W2");
    assert_eq!(t.rows[0].rank, Some(1));
    assert_eq!(t.rate_per, None);
}

#[test]
fn text_csv_and_json_show_suppressed_and_missing_plainly() {
    let (p, e) = (police(), ed());
    let t = combine(&spec(true, true), &[("police", &p), ("ed", &e)]).expect("combined");
    let text = t.render(Format::Table);
    let w3 = text.lines().find(|l| l.starts_with("W3")).expect("W3 line");
    assert_eq!(
        w3.split_whitespace().collect::<Vec<_>>(),
        ["W3", "Castle", "[c]", "5", "[c]", "500", "[c]"]
    );
    let w4 = text.lines().find(|l| l.starts_with("W4")).expect("W4 line");
    assert!(w4.contains(" - "), "{w4}");
    assert!(text.contains("rate per 1,000"));
    assert!(text.contains("releases nothing new"));
    assert!(text.contains("police: node police"));

    let csv = t.render(Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "ward,ward_name,police,police_suppressed,ed,ed_suppressed,combined,combined_suppressed,\
         population,rate_per_1000,rank"
    );
    assert_eq!(lines[1], "W2,\"Bank, North\",30,false,10,false,40,false,2000,20.00,1");
    assert_eq!(lines[3], "W3,Castle,,true,5,false,,true,500,,");
    assert_eq!(lines[4], "W4,Dock,20,false,,false,,false,4000,,");

    let json = t.to_json();
    assert_eq!(json["rows"][2]["code"], "W3");
    assert_eq!(json["rows"][2]["combined"]["suppressed"], true);
    assert!(json["rows"][2]["combined"]["count"].is_null());
    assert_eq!(json["rows"][3]["values"]["ed"]["present"], false);
    assert_eq!(json["sources"][1]["node"], "icb");
}

#[test]
fn multi_dimensional_tables_contribute_their_released_totals() {
    let mut w = wire(
        "ds",
        vec![dim("ward", &["W1", "W2"]), dim("month", &["m1", "m2"])],
        vec![n(1), c(), n(3), n(4)],
    );
    let by_month = ReleasedTable::from_wire(w.clone(), provenance("x")).expect("valid");
    let err = combine(&spec(false, false), &[("police", &by_month)]).expect_err("no margin");
    assert!(matches!(err, CombineError::NoMargin { .. }), "{err}");
    w.margins = vec![pb::DimensionMargin { dimension: 0, values: vec![n(10), n(7)] }];
    let with_totals = ReleasedTable::from_wire(w, provenance("x")).expect("valid");
    let t = combine(&spec(false, false), &[("police", &with_totals)]).expect("combined");
    assert_eq!(t.rows[0].combined, Combined::Count(10));
    assert!(t.sources[0].from_margin);
}

#[test]
fn a_table_without_the_shared_dimension_is_refused() {
    let other = ReleasedTable::from_wire(
        wire("ds", vec![dim("lsoa", &["L1"])], vec![n(5)]),
        provenance("x"),
    )
    .expect("valid");
    let err = combine(&spec(false, false), &[("police", &other)]).expect_err("no ward");
    assert_eq!(
        err.to_string(),
        "query \"police\": its table has no dimension \"ward\" (it has: lsoa)"
    );
}

#[test]
fn population_files_are_checked() {
    let read = |text: &str| Population::from_csv(text, "ward", Path::new("p.csv"));
    assert!(read("code,population\nW1,5\n").is_err(), "no ward column");
    assert!(read("ward,residents\nW1,5\n").is_err(), "no population column");
    assert!(read("ward,population\nW1,five\n").is_err(), "not a number");
    assert!(read("ward,population\nW1,5\nW1,6\n").is_err(), "listed twice");
    assert!(read("ward,population\n,5\n").is_err(), "no code");
    assert!(read("ward,population\nW1,5,extra\n").is_err(), "ragged");
    let p = read("ward,name,population\nW1,Abbey,5\n").expect("valid");
    assert_eq!((p.residents("W1"), p.name("W1")), (Some(5), Some("Abbey")));
}

#[test]
fn unlike_counts_are_not_added() {
    let p = police();
    let mut w = wire("ds", vec![dim("ward", &["W1"])], vec![n(10)]);
    w.metric = "distinct_subjects".into();
    let people = ReleasedTable::from_wire(w, provenance("icb")).expect("valid");
    let err = combine(&spec(false, false), &[("police", &p), ("ed", &people)]).expect_err("mixed");
    assert!(matches!(err, CombineError::MixedMetrics { .. }), "{err}");
}
