//! A line chart of several series over the same ordered categories (time buckets). A suppressed
//! point breaks its line — the gap is visible, and the line never dips to zero for it.

use super::frame::{AXIS_LABEL_WIDTH, CategoryAxis, RIGHT_MARGIN, legend, value_grid};
use super::scale::{Scale, Ticks};
use super::{Html, SUPPRESSED_NOTE, Shown, WIDTH, all_whole, colour, figure, px, tooltip};

/// One line: its name (in the legend) and one value per category (`None` = suppressed).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' name.
    pub name: String,
    /// One value per x label; `None` when withheld. Values past the last label are ignored.
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series.
    pub fn new(name: impl Into<String>, values: Vec<Option<f64>>) -> Self {
        Self { name: name.into(), values }
    }
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// The chart's title (caption, accessible name).
    pub title: String,
    /// The categories along the x axis, in order (e.g. "2025-W14", "May 2025").
    pub x_labels: Vec<String>,
    /// The lines.
    pub series: Vec<Series>,
}

impl LineChart {
    /// A line chart over `x_labels`.
    pub fn new(title: impl Into<String>, x_labels: Vec<String>, series: Vec<Series>) -> Self {
        Self { title: title.into(), x_labels, series }
    }

    /// The chart as a `<figure>`.
    pub fn to_html(&self) -> Html {
        const TOP: f64 = 14.0;
        const PLOT: f64 = 220.0;
        let columns = self.x_labels.len();
        let shown: Vec<Vec<Shown>> = self
            .series
            .iter()
            .map(|s| (0..columns).map(|i| Shown::of(s.values.get(i).copied().flatten())).collect())
            .collect();
        // A series shorter than the labels has no value there, which is not a suppression.
        let suppressed =
            self.series.iter().any(|s| s.values.iter().take(columns).any(Option::is_none));
        let values: Vec<f64> = shown.iter().flatten().filter_map(|s| s.value()).collect();
        let lo = values.iter().copied().fold(0.0, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        let ticks = Ticks::covering(lo, hi, 5, all_whole(values.iter().copied()));
        let scale = Scale::new(&ticks, TOP + PLOT, TOP);
        let labels: Vec<&str> = self.x_labels.iter().map(String::as_str).collect();
        let axis = CategoryAxis::new(&labels);

        let mut out = value_grid(&ticks, &scale, AXIS_LABEL_WIDTH, WIDTH - RIGHT_MARGIN);
        for (k, (series, points)) in self.series.iter().zip(&shown).enumerate() {
            let mut group = Html::new();
            for run in runs(points) {
                if run.len() < 2 {
                    continue;
                }
                let coords: Vec<String> = run
                    .iter()
                    .map(|&(i, v)| format!("{},{}", px(axis.centre(i)), px(scale.at(v))))
                    .collect();
                group.push(Html::void_element(
                    "polyline",
                    &[
                        ("points", &coords.join(" ")),
                        ("fill", "none"),
                        ("stroke", colour(k)),
                        ("stroke-width", "2"),
                    ],
                ));
            }
            for (i, s) in points.iter().enumerate() {
                if let Shown::Value(v) = s {
                    let mut point = tooltip(&format!(
                        "{} · {}: {}",
                        series.name,
                        self.x_labels[i],
                        s.describe()
                    ));
                    point.push(Html::void_element(
                        "circle",
                        &[
                            ("cx", &px(axis.centre(i))),
                            ("cy", &px(scale.at(*v))),
                            ("r", "3"),
                            ("fill", colour(k)),
                        ],
                    ));
                    group.push(Html::element("g", &[], point));
                }
            }
            out.push(Html::element("g", &[("class", "series")], group));
        }
        out.push(axis.labels(&labels, TOP + PLOT));
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let (key, key_height) = legend(&names, TOP + PLOT + axis.height + 4.0);
        out.push(key);
        let height = TOP + PLOT + axis.height + 4.0 + key_height + 4.0;

        let desc = self.describe(&shown);
        let notes: &[&str] = if suppressed {
            &["Gaps in a line are suppressed values.", SUPPRESSED_NOTE]
        } else {
            &[]
        };
        figure(&self.title, WIDTH, height, &desc, out, notes)
    }

    fn describe(&self, shown: &[Vec<Shown>]) -> String {
        if self.series.is_empty() || self.x_labels.is_empty() {
            return "No data.".to_owned();
        }
        self.series
            .iter()
            .zip(shown)
            .map(|(series, points)| {
                let values: Vec<String> = self
                    .x_labels
                    .iter()
                    .zip(points)
                    .map(|(label, s)| format!("{label} {}", s.describe()))
                    .collect();
                format!("{}: {}", series.name, values.join(", "))
            })
            .collect::<Vec<_>>()
            .join(". ")
    }
}

/// The runs of consecutive drawn points, each as (column, value) pairs.
fn runs(points: &[Shown]) -> Vec<Vec<(usize, f64)>> {
    let mut runs = vec![Vec::new()];
    for (i, s) in points.iter().enumerate() {
        match (s.value(), runs.last_mut()) {
            (Some(v), Some(run)) => run.push((i, v)),
            (None, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}
