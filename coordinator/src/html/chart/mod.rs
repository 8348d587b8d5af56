//! Inline SVG charts: bar (horizontal and vertical), line over time and stacked bar. Each takes
//! typed input where `None` means suppressed, draws it as such (a labelled mark or a gap, never
//! a zero-length bar), and renders to a `<figure>` whose SVG carries a `<title>`, an
//! `aria-label` and a `<desc>` listing every value, so the figures are readable without sight
//! and without the picture. Output depends only on the input; coordinates are printed to one
//! decimal so the same chart gives the same bytes.

mod bar;
mod frame;
mod line;
mod scale;
mod stacked;

pub use bar::{Bar, BarChart, Orientation};
pub use line::{LineChart, Series};
pub use stacked::{StackedBar, StackedBarChart};

use super::markup::Html;
use super::number::format_value;

/// The width of every chart's drawing, in SVG user units (CSS scales it down on narrow pages).
const WIDTH: f64 = 640.0;

/// Colours for series and segments: the Okabe–Ito palette, distinguishable with the common
/// colour-vision deficiencies; cycled past eight.
const PALETTE: &[&str] =
    &["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#B8A000", "#000000"];

fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A value as a chart treats it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    /// Drawn.
    Value(f64),
    /// Withheld by disclosure control: marked, never drawn as a length.
    Suppressed,
    /// Not a finite number: marked "n/a".
    Invalid,
}

impl Shown {
    fn of(value: Option<f64>) -> Self {
        match value {
            None => Self::Suppressed,
            Some(v) if v.is_finite() => Self::Value(v),
            Some(_) => Self::Invalid,
        }
    }

    fn value(self) -> Option<f64> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }

    /// How the value reads in text (the `<desc>` and tooltips).
    fn describe(self) -> String {
        match self {
            Self::Value(v) => format_value(v),
            Self::Suppressed => "suppressed".to_owned(),
            Self::Invalid => "n/a".to_owned(),
        }
    }
}

/// Whether every drawn value is a whole number (then the axis ticks are whole too).
fn all_whole(values: impl IntoIterator<Item = f64>) -> bool {
    values.into_iter().all(|v| v.fract() == 0.0)
}

/// A coordinate or length, to one decimal, without a trailing `.0`.
fn px(value: f64) -> String {
    let text = format!("{value:.1}");
    match text.strip_suffix(".0") {
        Some("-0") => "0".to_owned(),
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

/// The rough width of `text` at the 12px label size; SVG cannot measure text before layout, and
/// an estimate on the wide side (capitals and digits wider than lower case) keeps labels from
/// overlapping or running off the edge.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'M' | 'W' | 'm' | 'w' | '@' | '%' => 10.0,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8.0,
            ' ' | '.' | ',' | ':' | ';' | 'i' | 'l' | 'j' | '|' | '\'' => 4.0,
            _ => 6.8,
        })
        .sum()
}

/// `text` cut to `max_chars`, with an ellipsis when cut.
fn fit(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `text` cut to about `max_width` pixels by [`text_width`], with an ellipsis when cut.
fn fit_width(text: &str, max_width: f64) -> String {
    if text_width(text) <= max_width {
        return text.to_owned();
    }
    let mut kept = String::new();
    for c in text.chars() {
        let mut next = kept.clone();
        next.push(c);
        if text_width(&next) + 8.0 > max_width {
            break;
        }
        kept = next;
    }
    format!("{kept}…")
}

/// A `<text>` element.
fn text(x: f64, y: f64, class: &str, anchor: &str, content: &str) -> Html {
    Html::element(
        "text",
        &[("x", &px(x)), ("y", &px(y)), ("class", class), ("text-anchor", anchor)],
        Html::text(content),
    )
}

/// An SVG tooltip (`<title>` as the first child of a group).
fn tooltip(content: &str) -> Html {
    Html::element("title", &[], Html::text(content))
}

/// The `<figure>` around a chart: the SVG with its accessible name and description, and a
/// caption holding the title and any notes on how to read it.
fn figure(title: &str, width: f64, height: f64, desc: &str, drawing: Html, notes: &[&str]) -> Html {
    let mut svg = Html::element("title", &[], Html::text(title));
    svg.push(Html::element("desc", &[], Html::text(desc)));
    svg.push(drawing);
    let view_box = format!("0 0 {} {}", px(width), px(height));
    let svg = Html::element(
        "svg",
        &[
            ("role", "img"),
            ("aria-label", title),
            ("viewBox", &view_box),
            ("width", &px(width)),
            ("height", &px(height)),
        ],
        svg,
    );
    let mut caption = Html::element("strong", &[], Html::text(title));
    for note in notes {
        caption.push_text(" ");
        caption.push_text(note);
    }
    let mut figure = svg;
    figure.push(Html::element("figcaption", &[], caption));
    Html::element("figure", &[("class", "chart")], figure)
}

/// The note under a chart that has suppressed values.
const SUPPRESSED_NOTE: &str = "Values marked “suppressed” were withheld by disclosure control: \
                               they are small counts, not zero.";

#[cfg(test)]
mod tests;
