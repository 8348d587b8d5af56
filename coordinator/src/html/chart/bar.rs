//! Bar charts of one value per category, drawn across (long labels, ranked lists) or up
//! (a few categories, time buckets). A suppressed bar is a dashed box reading "suppressed"
//! starting at zero — visibly not a bar of any length.

use super::frame::{
    AXIS_LABEL_WIDTH, CategoryAxis, RIGHT_MARGIN, value_grid, value_grid_horizontal,
};
use super::scale::{Scale, Ticks};
use super::{
    Html, SUPPRESSED_NOTE, Shown, WIDTH, all_whole, colour, figure, fit_width, px, text,
    text_width, tooltip,
};

/// One bar: its category and value (`None` = suppressed).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The category's label.
    pub label: String,
    /// The value; `None` when withheld by disclosure control.
    pub value: Option<f64>,
}

impl Bar {
    /// A bar.
    pub fn new(label: impl Into<String>, value: Option<f64>) -> Self {
        Self { label: label.into(), value }
    }
}

/// Which way the bars run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// Bars run left to right, one row per category, labels on the left.
    Horizontal,
    /// Bars rise from the bottom, one column per category, labels below.
    Vertical,
}

/// A bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// The chart's title (caption, accessible name).
    pub title: String,
    /// Which way the bars run.
    pub orientation: Orientation,
    /// The bars, in the order drawn (top to bottom, or left to right).
    pub bars: Vec<Bar>,
}

impl BarChart {
    /// Bars running across, one row each: best for long labels and ranked lists.
    pub fn horizontal(title: impl Into<String>, bars: Vec<Bar>) -> Self {
        Self { title: title.into(), orientation: Orientation::Horizontal, bars }
    }

    /// Bars rising up, one column each: best for a few short categories or time buckets.
    pub fn vertical(title: impl Into<String>, bars: Vec<Bar>) -> Self {
        Self { title: title.into(), orientation: Orientation::Vertical, bars }
    }

    /// The chart as a `<figure>`.
    pub fn to_html(&self) -> Html {
        let shown: Vec<Shown> = self.bars.iter().map(|b| Shown::of(b.value)).collect();
        let values: Vec<f64> = shown.iter().filter_map(|s| s.value()).collect();
        let lo = values.iter().copied().fold(0.0, f64::min);
        let hi = values.iter().copied().fold(0.0, f64::max);
        let whole = all_whole(values.iter().copied());
        let desc = self
            .bars
            .iter()
            .zip(&shown)
            .map(|(bar, s)| format!("{}: {}", bar.label, s.describe()))
            .collect::<Vec<_>>()
            .join("; ");
        let desc = if desc.is_empty() { "No data.".to_owned() } else { desc };
        let notes: &[&str] =
            if shown.contains(&Shown::Suppressed) { &[SUPPRESSED_NOTE] } else { &[] };
        let (drawing, height) = match self.orientation {
            Orientation::Horizontal => self.draw_across(&shown, lo, hi, whole),
            Orientation::Vertical => self.draw_up(&shown, lo, hi, whole),
        };
        figure(&self.title, WIDTH, height, &desc, drawing, notes)
    }

    fn draw_across(&self, shown: &[Shown], lo: f64, hi: f64, whole: bool) -> (Html, f64) {
        const TOP: f64 = 8.0;
        const ROW: f64 = 24.0;
        const BAR: f64 = 15.0;
        const VALUE_ROOM: f64 = 80.0;
        const MAX_LABEL_WIDTH: f64 = 216.0;
        let widest = self.bars.iter().map(|b| text_width(&b.label)).fold(0.0, f64::max);
        let label_room = (widest.min(MAX_LABEL_WIDTH) + 14.0).max(60.0);
        let rows = self.bars.len().max(1) as f64;
        let axis_y = TOP + rows * ROW;
        let ticks = Ticks::covering(lo, hi, 5, whole);
        let scale = Scale::new(&ticks, label_room, WIDTH - VALUE_ROOM);
        let mut out = value_grid_horizontal(&ticks, &scale, TOP, axis_y);
        let zero = scale.at(0.0);
        for (i, (bar, s)) in self.bars.iter().zip(shown).enumerate() {
            let mid = TOP + (i as f64 + 0.5) * ROW;
            let mut group = tooltip(&format!("{}: {}", bar.label, s.describe()));
            group.push(text(
                label_room - 8.0,
                mid + 4.0,
                "label",
                "end",
                &fit_width(&bar.label, MAX_LABEL_WIDTH),
            ));
            match *s {
                Shown::Value(v) => {
                    let (a, b) = (scale.at(v.min(0.0)), scale.at(v.max(0.0)));
                    group.push(rect(a, mid - BAR / 2.0, b - a, BAR, colour(0)));
                    group.push(text(b.max(zero) + 4.0, mid + 4.0, "value", "start", &s.describe()));
                }
                Shown::Suppressed => {
                    group.push(suppressed_box(zero + 1.0, mid - BAR / 2.0, 70.0, BAR));
                    group.push(text(zero + 6.0, mid + 4.0, "suppressed", "start", "suppressed"));
                }
                Shown::Invalid => {
                    group.push(text(zero + 6.0, mid + 4.0, "suppressed", "start", "n/a"))
                }
            }
            out.push(Html::element("g", &[], group));
        }
        if self.bars.is_empty() {
            out.push(text(WIDTH / 2.0, TOP + ROW / 2.0 + 4.0, "label", "middle", "No data"));
        }
        (out, axis_y + 24.0)
    }

    fn draw_up(&self, shown: &[Shown], lo: f64, hi: f64, whole: bool) -> (Html, f64) {
        const TOP: f64 = 18.0;
        const PLOT: f64 = 200.0;
        let labels: Vec<&str> = self.bars.iter().map(|b| b.label.as_str()).collect();
        let axis = CategoryAxis::new(&labels);
        let ticks = Ticks::covering(lo, hi, 5, whole);
        let scale = Scale::new(&ticks, TOP + PLOT, TOP);
        let mut out = value_grid(&ticks, &scale, AXIS_LABEL_WIDTH, WIDTH - RIGHT_MARGIN);
        let zero = scale.at(0.0);
        let bar_width = (axis.slot * 0.7).min(60.0);
        for (i, (bar, s)) in self.bars.iter().zip(shown).enumerate() {
            let x = axis.centre(i);
            let mut group = tooltip(&format!("{}: {}", bar.label, s.describe()));
            match *s {
                Shown::Value(v) => {
                    let (top, bottom) = (scale.at(v.max(0.0)), scale.at(v.min(0.0)));
                    group.push(rect(x - bar_width / 2.0, top, bar_width, bottom - top, colour(0)));
                    if axis.slot >= 24.0 {
                        group.push(text(x, top.min(zero) - 4.0, "value", "middle", &s.describe()));
                    }
                }
                Shown::Suppressed | Shown::Invalid => {
                    let word = if *s == Shown::Suppressed { "suppressed" } else { "n/a" };
                    group.push(suppressed_box(x - bar_width / 2.0, zero - 70.0, bar_width, 69.0));
                    let turn = format!("rotate(-90 {} {})", px(x + 4.0), px(zero - 6.0));
                    group.push(Html::element(
                        "text",
                        &[
                            ("x", &px(x + 4.0)),
                            ("y", &px(zero - 6.0)),
                            ("class", "suppressed"),
                            ("text-anchor", "start"),
                            ("transform", &turn),
                        ],
                        Html::text(word),
                    ));
                }
            }
            out.push(Html::element("g", &[], group));
        }
        out.push(axis.labels(&labels, TOP + PLOT));
        (out, TOP + PLOT + axis.height)
    }
}

/// A filled rectangle (zero-width for a value of zero, which is drawn as nothing).
pub(super) fn rect(x: f64, y: f64, width: f64, height: f64, fill: &str) -> Html {
    Html::void_element(
        "rect",
        &[
            ("x", &px(x)),
            ("y", &px(y)),
            ("width", &px(width.max(0.0))),
            ("height", &px(height.max(0.0))),
            ("fill", fill),
        ],
    )
}

/// The dashed outline that stands where a suppressed bar would be.
fn suppressed_box(x: f64, y: f64, width: f64, height: f64) -> Html {
    Html::void_element(
        "rect",
        &[
            ("x", &px(x)),
            ("y", &px(y)),
            ("width", &px(width)),
            ("height", &px(height)),
            ("class", "suppressed-box"),
        ],
    )
}
