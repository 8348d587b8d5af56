//! A stacked column chart: one column per category (a time bucket), split into named segments
//! (purposes, outcomes). A suppressed segment is left out of the stack and its column's total is
//! marked with `*`, so the reader knows the column is at least as tall as drawn.

use super::bar::rect;
use super::frame::{AXIS_LABEL_WIDTH, CategoryAxis, RIGHT_MARGIN, legend, value_grid};
use super::scale::{Scale, Ticks};
use super::{Html, SUPPRESSED_NOTE, Shown, WIDTH, all_whole, colour, figure, text, tooltip};
use crate::html::number::format_value;

/// One column: its category and one value per segment (`None` = suppressed).
#[derive(Debug, Clone, PartialEq)]
pub struct StackedBar {
    /// The category's label.
    pub label: String,
    /// One value per segment name, in the chart's segment order; `None` when withheld. A
    /// missing trailing value counts as zero.
    pub values: Vec<Option<f64>>,
}

impl StackedBar {
    /// A column.
    pub fn new(label: impl Into<String>, values: Vec<Option<f64>>) -> Self {
        Self { label: label.into(), values }
    }
}

/// A stacked column chart. Segments are drawn bottom-up in `segments` order; negative and
/// non-finite values cannot be stacked and are listed as "n/a".
#[derive(Debug, Clone, PartialEq)]
pub struct StackedBarChart {
    /// The chart's title (caption, accessible name).
    pub title: String,
    /// The segment names, bottom first (the legend).
    pub segments: Vec<String>,
    /// The columns, left to right.
    pub bars: Vec<StackedBar>,
}

impl StackedBarChart {
    /// A stacked column chart.
    pub fn new(title: impl Into<String>, segments: Vec<String>, bars: Vec<StackedBar>) -> Self {
        Self { title: title.into(), segments, bars }
    }

    /// The chart as a `<figure>`.
    pub fn to_html(&self) -> Html {
        const TOP: f64 = 18.0;
        const PLOT: f64 = 200.0;
        let shown: Vec<Vec<Shown>> = self
            .bars
            .iter()
            .map(|bar| {
                (0..self.segments.len())
                    .map(|k| match Shown::of(bar.values.get(k).copied().unwrap_or(Some(0.0))) {
                        Shown::Value(v) if v < 0.0 => Shown::Invalid,
                        s => s,
                    })
                    .collect()
            })
            .collect();
        let totals: Vec<f64> =
            shown.iter().map(|segs| segs.iter().filter_map(|s| s.value()).sum()).collect();
        let drawn = shown.iter().flatten().filter_map(|s| s.value());
        let hi = totals.iter().copied().fold(0.0, f64::max);
        let ticks = Ticks::covering(0.0, hi, 5, all_whole(drawn));
        let scale = Scale::new(&ticks, TOP + PLOT, TOP);
        let labels: Vec<&str> = self.bars.iter().map(|b| b.label.as_str()).collect();
        let axis = CategoryAxis::new(&labels);
        let bar_width = (axis.slot * 0.7).min(60.0);

        let mut out = value_grid(&ticks, &scale, AXIS_LABEL_WIDTH, WIDTH - RIGHT_MARGIN);
        let mut any_partial = false;
        for (i, (bar, segs)) in self.bars.iter().zip(&shown).enumerate() {
            let x = axis.centre(i);
            let mut base = 0.0;
            let mut column = Html::new();
            for (k, s) in segs.iter().enumerate() {
                if let Shown::Value(v) = s {
                    let (top, bottom) = (scale.at(base + v), scale.at(base));
                    let mut segment =
                        tooltip(&format!("{} · {}: {}", bar.label, self.segments[k], s.describe()));
                    segment.push(rect(
                        x - bar_width / 2.0,
                        top,
                        bar_width,
                        bottom - top,
                        colour(k),
                    ));
                    column.push(Html::element("g", &[], segment));
                    base += v;
                }
            }
            let partial = segs.iter().any(|s| *s != Shown::Value(0.0) && s.value().is_none());
            any_partial |= partial;
            let total = format!("{}{}", format_value(totals[i]), if partial { "*" } else { "" });
            if axis.slot >= 24.0 || partial {
                column.push(text(x, scale.at(base) - 4.0, "value", "middle", &total));
            }
            out.push(Html::element("g", &[], column));
        }
        out.push(axis.labels(&labels, TOP + PLOT));
        let names: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let (key, key_height) = legend(&names, TOP + PLOT + axis.height + 4.0);
        out.push(key);
        let height = TOP + PLOT + axis.height + 4.0 + key_height + 4.0;

        let notes: &[&str] = if any_partial {
            &[
                "* Part of this column is suppressed (or not a count) and not drawn; its total is at least the figure shown.",
                SUPPRESSED_NOTE,
            ]
        } else {
            &[]
        };
        figure(&self.title, WIDTH, height, &self.describe(&shown, &totals), out, notes)
    }

    fn describe(&self, shown: &[Vec<Shown>], totals: &[f64]) -> String {
        if self.bars.is_empty() {
            return "No data.".to_owned();
        }
        self.bars
            .iter()
            .zip(shown)
            .zip(totals)
            .map(|((bar, segs), total)| {
                let parts: Vec<String> = self
                    .segments
                    .iter()
                    .zip(segs)
                    .map(|(name, s)| format!("{name} {}", s.describe()))
                    .collect();
                format!("{} (total {}): {}", bar.label, format_value(*total), parts.join(", "))
            })
            .collect::<Vec<_>>()
            .join(". ")
    }
}
