//! Released tables: hand-built wire tables, what validation refuses, and how each format shows
//! suppressed cells (never as 0). The builders are shared with the combine tests.

use fedlink_proto::aggregate::{
    AggregateQuery, AggregateRequest, GeographyLevel, GroupBy, Metric, TimeBucket,
};
use fedlink_proto::pb;
use fedlink_proto::pb::released_count::Value;

use super::render::Format;
use super::*;
use crate::aggregate::check_answers;

/// A released count.
pub(crate) fn n(count: u64) -> pb::ReleasedCount {
    pb::ReleasedCount { value: Some(Value::Count(count)) }
}

/// A suppressed value.
pub(crate) fn c() -> pb::ReleasedCount {
    pb::ReleasedCount { value: Some(Value::Suppressed(true)) }
}

/// A dimension.
pub(crate) fn dim(name: &str, levels: &[&str]) -> pb::TableDimension {
    pb::TableDimension { name: name.into(), levels: levels.iter().map(|l| l.to_string()).collect() }
}

/// Provenance for a test table.
pub(crate) fn provenance(node: &str) -> Provenance {
    Provenance {
        node: node.into(),
        query_id: "0190a0b0-0000-7000-8000-000000000001".into(),
        receipt_entry: 41,
        receipt_log_size: 42,
    }
}

/// A wire table of `dataset` with the given dimensions and cells, rules and legend set.
pub(crate) fn wire(
    dataset: &str,
    dimensions: Vec<pb::TableDimension>,
    cells: Vec<pb::ReleasedCount>,
) -> pb::ProtectedTable {
    pb::ProtectedTable {
        dataset: dataset.into(),
        metric: "rows".into(),
        dimensions,
        cells,
        applied_rules: vec!["dp.laplace".into(), "suppress<8".into(), "round5".into()],
        legend: "Counts of 1-7 are shown as [c]; others rounded to the nearest 5.".into(),
        privacy: Some(pb::PrivacyApplied {
            mechanism: "discrete_laplace".into(),
            epsilon_micro: 500_000,
            max_rows_per_subject: 4,
            requester_remaining_micro: 1_500_000,
            budget_period: "2026-11".into(),
        }),
        ..Default::default()
    }
}

/// A checked one-dimensional table by ward.
pub(crate) fn by_ward(node: &str, cells: Vec<(&str, pb::ReleasedCount)>) -> ReleasedTable {
    let levels: Vec<&str> = cells.iter().map(|(l, _)| *l).collect();
    let wire = wire("ds", vec![dim("ward", &levels)], cells.into_iter().map(|(_, v)| v).collect());
    ReleasedTable::from_wire(wire, provenance(node)).expect("valid table")
}

/// A 2×3 table (ward × month) with margins and a suppressed cell and margin.
fn two_d() -> pb::ProtectedTable {
    let mut t = wire(
        "ecds",
        vec![
            dim("ward", &["E05000001", "E05000002"]),
            dim("month", &["2025-04", "2025-05", "2025-06"]),
        ],
        vec![n(15), c(), n(0), n(1234), n(20), n(25)],
    );
    t.margins = vec![
        pb::DimensionMargin { dimension: 0, values: vec![n(40), n(1280)] },
        pb::DimensionMargin { dimension: 1, values: vec![n(1250), c(), n(25)] },
    ];
    t.total = Some(n(1320));
    t
}

fn checked(t: pb::ProtectedTable) -> Result<ReleasedTable, TableError> {
    ReleasedTable::from_wire(t, provenance("icb"))
}

#[test]
fn a_well_formed_table_parses_with_its_shape_and_provenance() {
    let t = checked(two_d()).expect("valid");
    assert_eq!(t.dimensions().len(), 2);
    assert_eq!(t.cell(&[0, 1]), Some(Released::Suppressed));
    assert_eq!(t.cell(&[1, 0]), Some(Released::Count(1234)));
    assert_eq!(t.cell(&[2, 0]), None);
    assert_eq!(t.margin(1).map(<[_]>::len), Some(3));
    assert_eq!(t.total(), Some(Released::Count(1320)));
    assert_eq!(t.privacy().map(|p| p.epsilon_micro), Some(500_000));
    assert_eq!(t.provenance().receipt_log_size, 42);
    let rows: Vec<_> = t.rows().collect();
    assert_eq!(rows[4], (vec!["E05000002", "2025-05"], Released::Count(20)));
}

/// A way to break a well-formed wire table.
type Breaker = fn(&mut pb::ProtectedTable);

#[test]
fn malformed_tables_are_refused() {
    let cases: Vec<(&str, Breaker)> = vec![
        ("too few cells", |t| {
            t.cells.pop();
        }),
        ("too many cells", |t| t.cells.push(n(5))),
        ("a cell without a value", |t| t.cells[2] = pb::ReleasedCount { value: None }),
        ("suppressed = false", |t| {
            t.cells[0] = pb::ReleasedCount { value: Some(Value::Suppressed(false)) }
        }),
        ("a short margin", |t| {
            t.margins[1].values.pop();
        }),
        ("a margin of no dimension", |t| t.margins[1].dimension = 2),
        ("two margins of one dimension", |t| t.margins[1].dimension = 0),
        ("a total without a value", |t| t.total = Some(pb::ReleasedCount { value: None })),
        ("a margin value without a value", |t| t.margins[0].values[1].value = None),
        ("a repeated level", |t| t.dimensions[1].levels[2] = "2025-04".into()),
        ("an unnamed dimension", |t| t.dimensions[0].name = String::new()),
        ("no dataset", |t| t.dataset = String::new()),
        ("no metric", |t| t.metric = String::new()),
        ("an unknown metric", |t| t.metric = "max".into()),
        ("a template without a period", |t| t.template = "x".into()),
        ("a period without a template", |t| t.period = "2025/26".into()),
        ("privacy without a mechanism", |t| {
            if let Some(p) = t.privacy.as_mut() {
                p.mechanism = String::new();
            }
        }),
    ];
    for (what, break_it) in cases {
        let mut t = two_d();
        break_it(&mut t);
        assert!(checked(t).is_err(), "{what} was accepted");
    }
}

#[test]
fn shapes_at_the_edges() {
    // No dimensions: one cell.
    assert!(checked(wire("ds", vec![], vec![n(3)])).is_ok());
    assert!(checked(wire("ds", vec![], vec![])).is_err());
    // A dimension without levels: no cells.
    let empty = checked(wire("ds", vec![dim("ward", &[])], vec![])).expect("empty");
    assert_eq!(empty.rows().count(), 0);
    // Level counts whose product overflows.
    let huge: Vec<String> = (0..70_000).map(|i| i.to_string()).collect();
    let big = pb::TableDimension { name: "x".into(), levels: huge };
    let dims = vec![big.clone(), big.clone(), big.clone(), big.clone(), big];
    assert_eq!(checked(wire("ds", dims, vec![])), Err(TableError::TooManyCells));
}

#[test]
fn text_cross_tab_marks_suppressed_cells_and_shows_margins() {
    let text = checked(two_d()).expect("valid").to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ward \\ month  2025-04  2025-05  2025-06  Total");
    assert_eq!(lines[1], "E05000001          15      [c]        0     40");
    assert_eq!(lines[2], "E05000002       1,234       20       25  1,280");
    assert_eq!(lines[3], "Total           1,250      [c]       25  1,320");
    assert!(text.contains("[c] = suppressed"));
    assert!(text.contains("Rules applied: dp.laplace, suppress<8, round5"));
    assert!(text.contains("ε 0.5 charged (budget period 2026-11); ε 1.5 left"));
    assert!(text.contains("node icb"));
    assert!(text.contains("query 0190a0b0-0000-7000-8000-000000000001"));
    assert!(text.contains("verified at size 42"));
}

#[test]
fn text_long_format_for_one_or_three_dimensions() {
    let mut t = wire("ds", vec![dim("ward", &["A", "B"])], vec![c(), n(10)]);
    t.total = Some(c());
    let text = checked(t).expect("valid").to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..4], ["ward   value", "A        [c]", "B         10", "Total    [c]"]);
    let three = wire(
        "ds",
        vec![dim("a", &["x"]), dim("b", &["y", "z"]), dim("sex", &["F"])],
        vec![n(8), c()],
    );
    let text = checked(three).expect("valid").to_text();
    assert!(text.starts_with("a  b  sex  value\nx  y  F        8\nx  z  F      [c]\n"), "{text}");
}

#[test]
fn csv_is_long_with_margins_marked_by_a_star() {
    let csv = checked(two_d()).expect("valid").to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ward,month,value,suppressed");
    assert_eq!(lines[1], "E05000001,2025-04,15,false");
    assert_eq!(lines[2], "E05000001,2025-05,,true");
    assert_eq!(lines[3], "E05000001,2025-06,0,false");
    assert_eq!(lines[7], "E05000001,*,40,false");
    assert_eq!(lines[10], "*,2025-05,,true");
    assert_eq!(lines[12], "*,*,1320,false");
    assert_eq!(lines.len(), 13);
    // A suppressed cell is never written as a number.
    assert!(!lines[2].contains(",0,"));
}

#[test]
fn json_keeps_provenance_and_marks_suppressed_values_null() {
    let table = checked(two_d()).expect("valid");
    let json = table.to_json();
    assert_eq!(json["node"], "icb");
    assert_eq!(json["receipt"]["log_size"], 42);
    assert_eq!(json["cells"][1]["levels"][1], "2025-05");
    assert!(json["cells"][1]["count"].is_null());
    assert_eq!(json["cells"][1]["suppressed"], true);
    assert_eq!(json["cells"][2]["count"], 0);
    assert_eq!(json["margins"][1]["values"][1]["suppressed"], true);
    assert_eq!(json["privacy"]["epsilon"], "0.5");
    let text = table.render(Format::Json);
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}

#[test]
fn a_table_must_answer_the_query_asked() {
    let table = checked(two_d()).expect("valid");
    let ward_month = [GroupBy::Geography(GeographyLevel::Ward), GroupBy::Time(TimeBucket::Month)];
    let shaped = |dataset: &str, groups: usize, metric: Metric| {
        AggregateRequest::Shaped(AggregateQuery {
            dataset: dataset.into(),
            filters: vec![],
            group_by: ward_month[..groups].to_vec(),
            metric,
            max_rows_per_subject: None,
        })
    };
    assert!(check_answers(&table, &shaped("ecds", 2, Metric::Rows)).is_ok());
    assert!(check_answers(&table, &shaped("other", 2, Metric::Rows)).is_err());
    assert!(check_answers(&table, &shaped("ecds", 1, Metric::Rows)).is_err());
    assert!(check_answers(&table, &shaped("ecds", 2, Metric::DistinctSubjects)).is_err());
    // The same number of dimensions, named otherwise, is another table.
    let mut swapped = shaped("ecds", 2, Metric::Rows);
    if let AggregateRequest::Shaped(q) = &mut swapped {
        q.group_by.reverse();
    }
    assert!(check_answers(&table, &swapped).is_err());
    // A query without groupings is answered by the one-level `all` dimension.
    let total = checked(wire("ecds", vec![dim("all", &["total"])], vec![n(40)])).expect("valid");
    assert!(check_answers(&total, &shaped("ecds", 0, Metric::Rows)).is_ok());
    assert!(check_answers(&table, &shaped("ecds", 0, Metric::Rows)).is_err());
    let template = |name: &str, period: &str| AggregateRequest::Template {
        dataset: "ecds".into(),
        name: name.into(),
        period: period.into(),
    };
    assert!(check_answers(&table, &template("t", "2025/26")).is_err());
    let mut wire = two_d();
    wire.template = "t".into();
    wire.period = "2025/26".into();
    let table = checked(wire).expect("valid");
    assert!(check_answers(&table, &template("t", "2025/26")).is_ok());
    assert!(check_answers(&table, &template("t", "2024/25")).is_err());
    assert!(check_answers(&table, &shaped("ecds", 2, Metric::Rows)).is_err());
}
