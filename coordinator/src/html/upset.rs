//! An UpSet-style chart of an overlap matrix: one column per combination of agencies, a bar
//! for how many people are known to exactly that combination, and under it a dot matrix whose
//! filled, joined dots name the agencies in it. It reads better than a Venn diagram past three
//! sets, and a suppressed combination is a dashed box reading "suppressed", never a short bar.

use super::markup::Html;
use super::number::format_value;

/// The drawing's width, as the other charts.
const WIDTH: f64 = 640.0;
/// Room for the agency names left of the matrix.
const NAMES: f64 = 130.0;
/// Room for the bars' value labels above the tallest bar.
const TOP: f64 = 22.0;
/// The bars' height at the largest value.
const BARS: f64 = 150.0;
/// One matrix row per agency.
const ROW: f64 = 24.0;
/// The widest a column is drawn.
const MAX_SLOT: f64 = 72.0;

/// One combination of agencies and how many people are known to exactly it.
#[derive(Debug, Clone, PartialEq)]
pub struct Intersection {
    /// The agencies in it.
    pub members: Vec<String>,
    /// How many; `None` when suppressed.
    pub value: Option<f64>,
}

/// The chart.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsetChart {
    /// Its title (caption, accessible name).
    pub title: String,
    /// The agencies, in the order of the matrix rows.
    pub sets: Vec<String>,
    /// The combinations.
    pub intersections: Vec<Intersection>,
}

fn px(value: f64) -> String {
    let text = format!("{value:.1}");
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

fn text(x: f64, y: f64, class: &str, anchor: &str, content: &str) -> Html {
    Html::element(
        "text",
        &[("x", &px(x)), ("y", &px(y)), ("class", class), ("text-anchor", anchor)],
        Html::text(content),
    )
}

impl UpsetChart {
    /// Reads combinations named like `police+icb` (the overlap table's levels).
    pub fn from_named(title: &str, combinations: &[(String, Option<f64>)]) -> Self {
        let mut sets: Vec<String> = Vec::new();
        let mut intersections = Vec::new();
        for (name, value) in combinations {
            let members: Vec<String> = name.split('+').map(|m| m.trim().to_string()).collect();
            for m in &members {
                if !sets.contains(m) {
                    sets.push(m.clone());
                }
            }
            intersections.push(Intersection { members, value: *value });
        }
        Self { title: title.to_string(), sets, intersections }
    }

    /// Columns in the order drawn: largest first, suppressed last, then by fewer agencies.
    fn ordered(&self) -> Vec<&Intersection> {
        let mut ordered: Vec<&Intersection> = self.intersections.iter().collect();
        ordered.sort_by(|a, b| {
            let key = |i: &Intersection| i.value.unwrap_or(f64::NEG_INFINITY);
            key(b).total_cmp(&key(a)).then(a.members.len().cmp(&b.members.len()))
        });
        ordered
    }

    /// The chart as a `<figure>`.
    pub fn to_html(&self) -> Html {
        let columns = self.ordered();
        let slot = ((WIDTH - NAMES - 16.0) / columns.len().max(1) as f64).min(MAX_SLOT);
        let hi = columns.iter().filter_map(|c| c.value).fold(0.0, f64::max);
        let base = TOP + BARS;
        let matrix_top = base + 14.0;
        let height = matrix_top + ROW * self.sets.len() as f64 + 8.0;
        let mut drawing = Html::new();
        drawing.push(Html::void_element(
            "line",
            &[
                ("x1", &px(NAMES)),
                ("x2", &px(NAMES + slot * columns.len() as f64)),
                ("y1", &px(base)),
                ("y2", &px(base)),
                ("class", "axis"),
            ],
        ));
        for (r, set) in self.sets.iter().enumerate() {
            let y = matrix_top + ROW * r as f64 + ROW / 2.0;
            drawing.push(text(NAMES - 10.0, y + 4.0, "label", "end", set));
        }
        for (c, column) in columns.iter().enumerate() {
            let centre = NAMES + slot * (c as f64 + 0.5);
            let bar_width = (slot * 0.6).max(4.0);
            let left = centre - bar_width / 2.0;
            let name = column.members.join(" + ");
            let mut group = Html::element(
                "title",
                &[],
                Html::text(&format!(
                    "{name}: {}",
                    column.value.map_or("suppressed".to_string(), format_value)
                )),
            );
            match column.value {
                Some(v) => {
                    let h = if hi > 0.0 { BARS * v / hi } else { 0.0 };
                    group.push(Html::void_element(
                        "rect",
                        &[
                            ("x", &px(left)),
                            ("y", &px(base - h)),
                            ("width", &px(bar_width)),
                            ("height", &px(h)),
                            ("fill", "#0072B2"),
                        ],
                    ));
                    group.push(text(centre, base - h - 5.0, "value", "middle", &format_value(v)));
                }
                None => {
                    let h = 36.0;
                    group.push(Html::void_element(
                        "rect",
                        &[
                            ("x", &px(left)),
                            ("y", &px(base - h)),
                            ("width", &px(bar_width)),
                            ("height", &px(h)),
                            ("class", "suppressed-box"),
                        ],
                    ));
                    group.push(text(centre, base - h - 5.0, "suppressed", "middle", "suppressed"));
                }
            }
            let rows: Vec<usize> = self
                .sets
                .iter()
                .enumerate()
                .filter(|(_, s)| column.members.contains(s))
                .map(|(r, _)| r)
                .collect();
            let y_of = |r: usize| matrix_top + ROW * r as f64 + ROW / 2.0;
            if let (Some(&first), Some(&last)) = (rows.first(), rows.last()) {
                group.push(Html::void_element(
                    "line",
                    &[
                        ("x1", &px(centre)),
                        ("x2", &px(centre)),
                        ("y1", &px(y_of(first))),
                        ("y2", &px(y_of(last))),
                        ("stroke", "#1b1f24"),
                        ("stroke-width", "2"),
                    ],
                ));
            }
            for r in 0..self.sets.len() {
                let fill = if rows.contains(&r) { "#1b1f24" } else { "#d0d7de" };
                group.push(Html::void_element(
                    "circle",
                    &[("cx", &px(centre)), ("cy", &px(y_of(r))), ("r", "6"), ("fill", fill)],
                ));
            }
            drawing.push(Html::element("g", &[], group));
        }
        let desc: Vec<String> = columns
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c.members.join(" + "),
                    c.value.map_or("suppressed".to_string(), format_value)
                )
            })
            .collect();
        let mut svg = Html::element("title", &[], Html::text(&self.title));
        svg.push(Html::element("desc", &[], Html::text(&desc.join("; "))));
        svg.push(drawing);
        let view_box = format!("0 0 {} {}", px(WIDTH), px(height));
        let svg = Html::element(
            "svg",
            &[
                ("role", "img"),
                ("aria-label", &self.title),
                ("viewBox", &view_box),
                ("width", &px(WIDTH)),
                ("height", &px(height)),
            ],
            svg,
        );
        let mut caption = Html::element("strong", &[], Html::text(&self.title));
        caption.push_text(
            " Each column is one combination of agencies (the joined dots); its bar counts the \
             people known to exactly that combination.",
        );
        if columns.iter().any(|c| c.value.is_none()) {
            caption
                .push_text(" Columns marked “suppressed” were withheld: small counts, not zero.");
        }
        let mut figure = svg;
        figure.push(Html::element("figcaption", &[], caption));
        Html::element("figure", &[("class", "chart")], figure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::check::{check_well_formed, external_references};

    fn chart() -> UpsetChart {
        UpsetChart::from_named(
            "Known to two or more agencies",
            &[
                ("police+icb".into(), Some(120.0)),
                ("police+council-east".into(), Some(10.0)),
                ("police+icb+council-east".into(), None),
            ],
        )
    }

    #[test]
    fn sets_come_from_the_combination_names_and_columns_are_ordered_by_size() {
        let c = chart();
        assert_eq!(c.sets, ["police", "icb", "council-east"]);
        let order: Vec<String> = c.ordered().iter().map(|i| i.members.join("+")).collect();
        assert_eq!(order, ["police+icb", "police+council-east", "police+icb+council-east"]);
    }

    #[test]
    fn a_suppressed_combination_is_a_dashed_box_never_a_bar() {
        let html = chart().to_html().into_string();
        check_well_formed(&html).expect("well formed");
        assert!(external_references(&html).is_empty());
        assert_eq!(html.matches("class=\"suppressed-box\"").count(), 1, "{html}");
        assert!(html.contains("police + icb + council-east: suppressed"), "{html}");
        assert!(html.contains(">120</text>"), "{html}");
        // Three columns of three dots each.
        assert_eq!(html.matches("<circle").count(), 9);
    }
}
