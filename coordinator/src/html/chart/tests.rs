//! Tests of the charts: well-formed, accessible, deterministic, escaped, and suppressed values
//! never drawn or labelled as zero.

use super::*;
use crate::html::check::{check_well_formed, external_references};

fn bars() -> Vec<Bar> {
    vec![
        Bar::new("Safeguarding <adults>", Some(12.0)),
        Bar::new("Crime & disorder", None),
        Bar::new("Homicide \"review\"", Some(1204.0)),
    ]
}

fn all_charts() -> Vec<Html> {
    let months: Vec<String> = ["Apr 2025", "May 2025", "Jun 2025"].map(String::from).to_vec();
    vec![
        BarChart::horizontal("Queries by purpose", bars()).to_html(),
        BarChart::vertical("Queries by purpose", bars()).to_html(),
        LineChart::new(
            "Queries per month",
            months.clone(),
            vec![
                Series::new("police", vec![Some(3.0), None, Some(5.0)]),
                Series::new("nhs <trust>", vec![Some(1.0), Some(2.0), Some(0.0)]),
            ],
        )
        .to_html(),
        StackedBarChart::new(
            "Outcomes per month",
            vec!["answered".into(), "refused".into()],
            vec![
                StackedBar::new("Apr 2025", vec![Some(4.0), Some(1.0)]),
                StackedBar::new("May 2025", vec![Some(2.0), None]),
            ],
        )
        .to_html(),
    ]
}

#[test]
fn every_chart_is_well_formed_and_self_contained() {
    for chart in all_charts() {
        check_well_formed(chart.as_str()).unwrap_or_else(|e| panic!("{e}\n{}", chart.as_str()));
        assert_eq!(external_references(chart.as_str()), Vec::<String>::new());
    }
}

#[test]
fn every_chart_has_an_accessible_name_and_description() {
    for chart in all_charts() {
        let html = chart.as_str();
        assert!(html.contains(r#"<svg role="img" aria-label=""#), "{html}");
        assert!(html.contains("<title>"), "{html}");
        assert!(html.contains("<desc>"), "{html}");
        assert!(html.contains("<figcaption><strong>"), "{html}");
    }
}

#[test]
fn labels_are_escaped_everywhere() {
    for chart in all_charts() {
        let html = chart.as_str();
        assert!(!html.contains("<adults>") && !html.contains("<trust>"), "{html}");
        assert!(!html.contains("Crime & disorder"), "{html}");
    }
    let html = BarChart::horizontal("a\"b", bars()).to_html().into_string();
    assert!(html.contains(r#"aria-label="a&quot;b""#), "{html}");
}

#[test]
fn same_input_gives_the_same_bytes() {
    let first: Vec<String> = all_charts().into_iter().map(Html::into_string).collect();
    let second: Vec<String> = all_charts().into_iter().map(Html::into_string).collect();
    assert_eq!(first, second);
}

#[test]
fn a_suppressed_bar_is_marked_and_never_zero() {
    for orientation in [Orientation::Horizontal, Orientation::Vertical] {
        let chart = BarChart {
            title: "t".into(),
            orientation,
            bars: vec![Bar::new("withheld", None), Bar::new("shown", Some(7.0))],
        };
        let html = chart.to_html().into_string();
        assert!(html.contains("<title>withheld: suppressed</title>"), "{html}");
        assert!(html.contains(r#"class="suppressed" text-anchor="start""#), "{html}");
        assert!(html.contains(">suppressed</text>"), "{html}");
        assert!(html.contains("withheld: suppressed; shown: 7</desc>"), "{html}");
        assert!(html.contains("not zero"), "the caption explains suppression: {html}");
        // The only bar drawn in colour is the real one; the value axis' "0" tick is the only 0.
        assert_eq!(html.matches(r##"fill="#0072B2""##).count(), 1, "{html}");
        assert_eq!(html.matches(">0</text>").count(), 1, "{html}");
        assert!(!html.contains("withheld: 0"), "{html}");
    }
}

#[test]
fn a_suppressed_point_breaks_the_line() {
    let chart = LineChart::new(
        "t",
        vec!["a".into(), "b".into(), "c".into(), "d".into()],
        vec![Series::new("s", vec![Some(1.0), Some(2.0), None, Some(4.0)])],
    );
    let html = chart.to_html().into_string();
    // One polyline for a–b; d stands alone as a point; no point or line at c.
    assert_eq!(html.matches("<polyline").count(), 1, "{html}");
    assert_eq!(html.matches("<circle").count(), 3, "{html}");
    assert!(html.contains("s: a 1, b 2, c suppressed, d 4"), "{html}");
    assert!(html.contains("Gaps in a line are suppressed values."), "{html}");
}

#[test]
fn a_stack_with_a_suppressed_segment_is_starred_not_zeroed() {
    let chart = StackedBarChart::new(
        "t",
        vec!["answered".into(), "refused".into()],
        vec![StackedBar::new("May", vec![Some(2.0), None])],
    );
    let html = chart.to_html().into_string();
    assert!(html.contains(r#"class="value" text-anchor="middle">2*</text>"#), "{html}");
    assert!(html.contains("May (total 2): answered 2, refused suppressed"), "{html}");
    assert_eq!(html.matches(r##"fill="#E69F00""##).count(), 1, "legend swatch only: {html}");
}

#[test]
fn many_long_labels_are_turned_and_thinned() {
    let bars: Vec<Bar> = (0..40)
        .map(|i| Bar::new(format!("a rather long category label {i}"), Some(i as f64)))
        .collect();
    let html = BarChart::vertical("t", bars).to_html().into_string();
    check_well_formed(&html).unwrap();
    assert!(html.contains("rotate(-40"), "{html}");
    // 40 labels at most 16 shown: every third.
    assert_eq!(html.matches("rotate(-40").count(), 14, "{html}");
}

#[test]
fn an_empty_chart_still_renders() {
    for chart in [
        BarChart::horizontal("t", vec![]).to_html(),
        BarChart::vertical("t", vec![]).to_html(),
        LineChart::new("t", vec![], vec![]).to_html(),
        StackedBarChart::new("t", vec![], vec![]).to_html(),
    ] {
        check_well_formed(chart.as_str()).unwrap();
        assert!(chart.as_str().contains("<desc>No data.</desc>"), "{}", chart.as_str());
    }
}

#[test]
fn coordinates_print_to_one_decimal() {
    assert_eq!(px(12.0), "12");
    assert_eq!(px(12.25), "12.2");
    assert_eq!(px(-0.01), "0");
}

#[test]
fn long_labels_are_cut_with_the_whole_label_in_the_tooltip() {
    let label = "Multi-agency safeguarding hub referral review".repeat(3);
    let html =
        BarChart::horizontal("t", vec![Bar::new(label.clone(), Some(1.0))]).to_html().into_string();
    assert!(html.contains(&format!("<title>{label}: 1</title>")), "{html}");
    assert!(html.contains("…</text>"), "{html}");
    let cut = html.split("text-anchor=\"end\">").nth(1).and_then(|t| t.split('<').next());
    assert!(cut.is_some_and(|t| text_width(t) <= 216.0), "{cut:?}");
}
