//! The parts of a chart's frame shared by the chart kinds: the value axis with its gridlines,
//! the category labels under columns (turned when they would collide, thinned when there are
//! too many), and the legend.

use super::scale::{Scale, Ticks};
use super::{Html, WIDTH, colour, fit, px, text, text_width};

/// Room on the left of a vertical chart for the value axis' tick labels.
pub(super) const AXIS_LABEL_WIDTH: f64 = 56.0;
/// Room on the right of a vertical chart.
pub(super) const RIGHT_MARGIN: f64 = 16.0;
/// The longest category label drawn before it is cut.
const MAX_LABEL_CHARS: usize = 24;
/// The most category labels drawn under one axis; past that every n-th is shown.
const MAX_LABELS: usize = 16;

/// Horizontal gridlines at each tick of a vertical value axis, with the tick labels at the left.
pub(super) fn value_grid(ticks: &Ticks, scale: &Scale, left: f64, right: f64) -> Html {
    let mut out = Html::new();
    for &tick in &ticks.values {
        let y = scale.at(tick);
        let class = if tick == 0.0 { "axis" } else { "grid" };
        out.push(Html::void_element(
            "line",
            &[
                ("x1", &px(left)),
                ("x2", &px(right)),
                ("y1", &px(y)),
                ("y2", &px(y)),
                ("class", class),
            ],
        ));
        out.push(text(left - 6.0, y + 4.0, "tick", "end", &ticks.label(tick)));
    }
    out
}

/// Vertical gridlines at each tick of a horizontal value axis, with the tick labels below.
pub(super) fn value_grid_horizontal(ticks: &Ticks, scale: &Scale, top: f64, bottom: f64) -> Html {
    let mut out = Html::new();
    for &tick in &ticks.values {
        let x = scale.at(tick);
        let class = if tick == 0.0 { "axis" } else { "grid" };
        out.push(Html::void_element(
            "line",
            &[
                ("x1", &px(x)),
                ("x2", &px(x)),
                ("y1", &px(top)),
                ("y2", &px(bottom)),
                ("class", class),
            ],
        ));
        out.push(text(x, bottom + 16.0, "tick", "middle", &ticks.label(tick)));
    }
    out
}

/// How the category labels under a row of columns are laid out.
#[derive(Debug, Clone, Copy)]
pub(super) struct CategoryAxis {
    /// The first column's left edge.
    left: f64,
    /// The width given to each column.
    pub slot: f64,
    /// Labels are turned 40° when they do not fit their column flat.
    turned: bool,
    /// Every `stride`-th label is drawn.
    stride: usize,
    /// The height the labels take below the axis.
    pub height: f64,
}

impl CategoryAxis {
    /// Lays out `labels` under `count` equal columns spanning the chart's plot width.
    pub fn new(labels: &[&str]) -> Self {
        let left = AXIS_LABEL_WIDTH;
        let slot = (WIDTH - left - RIGHT_MARGIN) / labels.len().max(1) as f64;
        let stride = labels.len().div_ceil(MAX_LABELS).max(1);
        let widest =
            labels.iter().map(|l| text_width(&fit(l, MAX_LABEL_CHARS))).fold(0.0, f64::max);
        let turned = widest > slot * stride as f64 - 4.0;
        let height = if turned { (widest * 0.66 + 20.0).min(130.0) } else { 24.0 };
        Self { left, slot, turned, stride, height }
    }

    /// The centre of column `index`.
    pub fn centre(&self, index: usize) -> f64 {
        self.left + (index as f64 + 0.5) * self.slot
    }

    /// The labels, drawn below `axis_y`.
    pub fn labels(&self, labels: &[&str], axis_y: f64) -> Html {
        let mut out = Html::new();
        for (i, label) in labels.iter().enumerate().filter(|(i, _)| i.is_multiple_of(self.stride)) {
            let shown = fit(label, MAX_LABEL_CHARS);
            let x = self.centre(i);
            if self.turned {
                let y = axis_y + 12.0;
                let turn = format!("rotate(-40 {} {})", px(x), px(y));
                out.push(Html::element(
                    "text",
                    &[
                        ("x", &px(x)),
                        ("y", &px(y)),
                        ("class", "tick"),
                        ("text-anchor", "end"),
                        ("transform", &turn),
                    ],
                    Html::text(&shown),
                ));
            } else {
                out.push(text(x, axis_y + 16.0, "tick", "middle", &shown));
            }
        }
        out
    }
}

/// A legend of coloured swatches, wrapped into rows, starting at `top`; returns it and its
/// height.
pub(super) fn legend(names: &[&str], top: f64) -> (Html, f64) {
    const ROW: f64 = 20.0;
    let mut out = Html::new();
    let (mut x, mut y) = (AXIS_LABEL_WIDTH, top);
    for (i, name) in names.iter().enumerate() {
        let shown = fit(name, 40);
        let width = 14.0 + 6.0 + text_width(&shown) + 18.0;
        if x > AXIS_LABEL_WIDTH && x + width > WIDTH - RIGHT_MARGIN {
            x = AXIS_LABEL_WIDTH;
            y += ROW;
        }
        out.push(Html::void_element(
            "rect",
            &[
                ("x", &px(x)),
                ("y", &px(y + 3.0)),
                ("width", "14"),
                ("height", "10"),
                ("fill", colour(i)),
            ],
        ));
        out.push(text(x + 20.0, y + 12.0, "legend", "start", &shown));
        x += width;
    }
    let height = if names.is_empty() { 0.0 } else { y - top + ROW };
    (Html::element("g", &[("class", "legend")], out), height)
}
