//! The catalogue reader and its resolution for a period: what it accepts, and that every
//! mistake names the section, the item and the key.

use std::path::Path;

use fedlink_proto::aggregate::AggregateRequest;
use fedlink_proto::federation::Federation;

use super::*;
use crate::report::period::ReportPeriod;
use crate::report::plan::{PlannedQuery, Variant, plan};

const GOOD: &str = r#"
title = "Homicide prevention analytical report"
purpose = "HMICFRS-R2-DEATH-ANALYSIS"
population = "public/ward_population.csv"

[[section]]
id = "deaths"
title = "Death reports overview"
analyses = ["D1"]

[[section.item]]
id = "d1"
kind = "aggregate"
title = "Death reports by category"
node = "police"
dataset = "death_reports"
template = "death-reports-by-category-location"
compare = "previous"
chart = "stacked"

[[section.item]]
id = "d1_trend"
kind = "aggregate"
title = "Death reports by month"
node = "police"
dataset = "death_reports"
group_by = ["month"]
period = "current"
history = 2
chart = "line"

[[section.item]]
id = "ed"
kind = "aggregate"
title = "ED assault by ward"
node = "icb"
dataset = "ecds"
group_by = ["ward"]

[[section.item]]
id = "wards"
kind = "combine"
title = "Ranked wards"
items = ["d1_trend", "ed"]
on = "ward"
rate_per = 1000
rank = true
chart = "ranked"

[[section]]
id = "prior"
title = "Prior agency contact"

[[section.item]]
id = "h2"
kind = "link"
title = "Homicide victims with ED assault in the 12 months before"
group = "h2_table"
query = { kind = "count", unit = "person", key_types = ["name_dob"], window = "12m-before", side = [{ member = "police", dataset = "homicide_index", role = "cohort", period = "pooled:3" }, { member = "icb", dataset = "ecds" }] }

[[section.item]]
id = "d5"
kind = "unavailable"
title = "Institutions above expected"
reason = "no node holds care-home bed numbers"
"#;

fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
    Catalogue::from_toml(text, Path::new("dir/cat.toml"))
}

fn federation() -> Federation {
    let key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let member = |name: &str, role: &str| {
        format!(
            "[[member]]\nname = \"{name}\"\nrole = \"{role}\"\norganisation = \"x\"\n\
             endpoint = \"https://127.0.0.1:7001\"\ncert_sha256 = \"{}\"\npublic_key = \"{key}\"\n",
            "ab".repeat(32)
        )
    };
    Federation::from_toml(&format!(
        "name = \"demo\"\n{}{}{}",
        member("police", "node"),
        member("icb", "node"),
        member("analyst", "coordinator")
    ))
    .expect("federation")
}

fn fy() -> ReportPeriod {
    ReportPeriod::parse("2025-04-01..2026-03-31").expect("period")
}

#[test]
fn a_good_catalogue_reads_with_its_sections_items_and_population() {
    let c = parse(GOOD).expect("valid");
    assert_eq!(c.sections.len(), 2);
    assert_eq!(c.items().count(), 6);
    assert_eq!(c.population.as_deref(), Some(Path::new("dir/public/ward_population.csv")));
    match &c.item("d1").expect("d1").body {
        ItemBody::Aggregate(a) => {
            assert_eq!(a.compare, Some(PeriodRef::Previous(1)));
            assert_eq!(a.chart, Chart::Stacked);
            assert!(matches!(
                &a.shape,
                AggregateShape::Template { period: PeriodRef::Current, .. }
            ));
        }
        other => panic!("expected an aggregate, got {other:?}"),
    }
    assert_eq!(c.sha256.len(), 64);
}

#[test]
fn a_plan_resolves_template_periods_comparisons_history_and_pooled_sides() {
    let c = parse(GOOD).expect("valid");
    let plan = plan(&c, fy(), &federation()).expect("plan");
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["d1", "d1@2024-25", "d1_trend", "d1_trend@2024-25", "d1_trend@2023-24", "ed", "h2"]
    );
    match &plan.steps[1].query {
        PlannedQuery::Aggregate(q) => match &q.request {
            AggregateRequest::Template { period, .. } => assert_eq!(period, "2024/25"),
            other => panic!("expected a template, got {other:?}"),
        },
        other => panic!("expected an aggregate, got {other:?}"),
    }
    assert_eq!(plan.steps[4].variant, Variant::History(2));
    match &plan.steps[6].query {
        PlannedQuery::Link(q) => {
            assert_eq!(q.purpose.as_deref(), Some("HMICFRS-R2-DEATH-ANALYSIS"));
            assert_eq!(
                q.request.sides[0].filters,
                vec![fedlink_proto::aggregate::Filter::EventDates {
                    from: fedlink_proto::aggregate::IsoDate::parse("2023-04-01").expect("d"),
                    to: fedlink_proto::aggregate::IsoDate::parse("2026-03-31").expect("d"),
                }]
            );
        }
        other => panic!("expected a link, got {other:?}"),
    }
    assert_eq!(plan.steps[6].period_label, "2023-04-01..2026-03-31");
}

#[test]
fn a_template_cannot_run_for_an_unnamed_period() {
    let c = parse(GOOD).expect("valid");
    let odd = ReportPeriod::parse("2025-04-10..2025-06-30").expect("period");
    let err = plan(&c, odd, &federation()).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.starts_with("dir/cat.toml: section \"deaths\", item \"d1\": `template_period`"),
        "{text}"
    );
    assert!(text.contains("not a financial year"), "{text}");
}

#[test]
fn a_node_outside_the_federation_is_refused_by_item() {
    let c = parse(&GOOD.replace("node = \"icb\"", "node = \"council\"")).expect("valid");
    let err = plan(&c, fy(), &federation()).expect_err("refused").to_string();
    assert!(err.contains("item \"ed\": `node`: \"council\" is not a node"), "{err}");
    let c = parse(&GOOD.replace("member = \"icb\"", "member = \"council\"")).expect("valid");
    let err = plan(&c, fy(), &federation()).expect_err("refused").to_string();
    assert!(err.contains("item \"h2\": side 2 (\"council\"): `member`"), "{err}");
}

#[test]
fn mistakes_name_the_section_item_and_key() {
    let cases: [(String, &str); 10] = [
        (GOOD.replace("chart = \"line\"", "chart = \"pie\""), "unknown variant `pie`"),
        (GOOD.replace("history = 2", "hist = 2"), "unknown field `hist`"),
        (
            GOOD.replace("rank = true", "rank = true\nnode = \"icb\""),
            "section \"deaths\", item \"wards\": `node`: not a key of a combine item",
        ),
        (
            GOOD.replace("compare = \"previous\"", "compare = \"previous\"\nfilter = [\"a=b\"]"),
            "item \"d1\": `filter`: a template fixes its own filters",
        ),
        (
            GOOD.replace("items = [\"d1_trend\", \"ed\"]", "items = [\"d1_trend\", \"h2\"]"),
            "item \"wards\": `items`: \"h2\" is not an aggregate item",
        ),
        (GOOD.replace("id = \"ed\"", "id = \"d1\""), "item \"d1\": `id`: a second item"),
        (
            GOOD.replace("kind = \"count\"", "kind = \"flag_back\", case_ref = \"X\""),
            "item \"h2\": `restricted`: a flag-back returns person-level flags",
        ),
        (
            GOOD.replace("history = 2", "history = 2\ncompare = \"previous\""),
            "item \"d1_trend\": `history`",
        ),
        (
            GOOD.replace("period = \"current\"", "period = \"lastyear\""),
            "item \"d1_trend\": `period`: \"lastyear\" is not a period",
        ),
        (
            GOOD.replace("group = \"h2_table\"", "restricted = true"),
            "item \"h2\": `restricted`: only a flag-back's person-level results",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(&text).expect_err(expected).to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        assert!(err.starts_with("dir/cat.toml: "), "{err}");
    }
}

#[test]
fn a_linked_query_mistake_is_reported_at_plan_time_with_its_key() {
    let text =
        GOOD.replace("window = \"12m-before\", ", "window = \"12m-before\", colour = \"red\", ");
    let c = parse(&text).expect("the query table is checked when resolved");
    let err = plan(&c, fy(), &federation()).expect_err("refused").to_string();
    assert!(err.starts_with("dir/cat.toml: section \"prior\", item \"h2\": "), "{err}");
    assert!(err.contains("unknown field `colour`"), "{err}");
}
