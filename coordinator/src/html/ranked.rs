//! A ranked table: areas in rank order with their counts, their rate and a small inline bar of
//! the rate, so the places of concern read at a glance and their numbers stay exact beside
//! them. An area whose rate is suppressed has no bar and no rank: it is listed after the
//! ranked ones, reading "suppressed".

use super::markup::Html;
use super::number::format_fixed;
use super::table::{Cell, Column, Table};

/// The inline bar's full width.
const BAR: f64 = 110.0;

/// One area.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedRow {
    /// Its rank (1 = highest), when it has a rate.
    pub rank: Option<usize>,
    /// The area's code.
    pub code: String,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its values, one per value column (counts, suppressed cells).
    pub values: Vec<Cell>,
    /// Its rate; `None` when suppressed or unknown.
    pub rate: Option<f64>,
    /// Whether a missing rate was suppressed (rather than not computable).
    pub rate_suppressed: bool,
}

/// A ranked table.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedTable {
    /// Shown above it.
    pub caption: String,
    /// The value columns' headings.
    pub value_headings: Vec<String>,
    /// The rate column's heading ("rate per 1,000").
    pub rate_heading: String,
    /// The rows, ranked first.
    pub rows: Vec<RankedRow>,
}

fn bar(rate: f64, max: f64) -> Html {
    let width = if max > 0.0 { (BAR * rate / max).max(1.0) } else { 0.0 };
    let rect = Html::void_element(
        "rect",
        &[
            ("x", "0"),
            ("y", "2"),
            ("width", &format_fixed(width, 1)),
            ("height", "10"),
            ("fill", "#0072B2"),
        ],
    );
    Html::element(
        "svg",
        &[
            ("width", &format_fixed(BAR, 0)),
            ("height", "14"),
            ("viewBox", &format!("0 0 {} 14", format_fixed(BAR, 0))),
            ("aria-hidden", "true"),
        ],
        rect,
    )
}

impl RankedTable {
    /// The table as markup.
    pub fn to_html(&self) -> Html {
        let has_names = self.rows.iter().any(|r| r.name.is_some());
        let mut columns = vec![Column::number("rank"), Column::text("area")];
        if has_names {
            columns.push(Column::text("name"));
        }
        columns.extend(self.value_headings.iter().map(|h| Column::number(h.clone())));
        columns.push(Column::number(self.rate_heading.clone()));
        columns.push(Column::text(""));
        let max = self.rows.iter().filter_map(|r| r.rate).fold(0.0, f64::max);
        let mut table = Table::new(columns).with_caption(self.caption.clone());
        let mut ordered: Vec<&RankedRow> = self.rows.iter().collect();
        ordered.sort_by_key(|r| r.rank.unwrap_or(usize::MAX));
        for row in ordered {
            let mut cells = vec![
                row.rank.map_or(Cell::Missing, |r| Cell::Count(r as u64)),
                Cell::text(&row.code),
            ];
            if has_names {
                cells.push(Cell::text(row.name.clone().unwrap_or_default()));
            }
            cells.extend(row.values.iter().cloned());
            match row.rate {
                Some(rate) => {
                    cells.push(Cell::Fixed { value: rate, decimals: 2 });
                    cells.push(Cell::Markup(bar(rate, max)));
                }
                None if row.rate_suppressed => {
                    cells.push(Cell::Suppressed { at_most: None });
                    cells.push(Cell::Missing);
                }
                None => {
                    cells.push(Cell::Missing);
                    cells.push(Cell::Missing);
                }
            }
            table.push_row(cells);
        }
        table.to_html()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::check::check_well_formed;

    #[test]
    fn ranked_rows_come_first_with_bars_and_a_suppressed_rate_reads_so() {
        let table = RankedTable {
            caption: "Wards".into(),
            value_headings: vec!["police".into()],
            rate_heading: "rate per 1,000".into(),
            rows: vec![
                RankedRow {
                    rank: None,
                    code: "E3".into(),
                    name: None,
                    values: vec![Cell::Suppressed { at_most: None }],
                    rate: None,
                    rate_suppressed: true,
                },
                RankedRow {
                    rank: Some(1),
                    code: "E1".into(),
                    name: Some("Fenwick".into()),
                    values: vec![Cell::Count(140)],
                    rate: Some(18.38),
                    rate_suppressed: false,
                },
            ],
        };
        let html = table.to_html().into_string();
        check_well_formed(&html).expect("well formed");
        let first = html.find("E1").expect("E1");
        let suppressed = html.find("E3").expect("E3");
        assert!(first < suppressed, "the ranked area comes first");
        assert!(html.contains(">18.38</td>"), "{html}");
        assert_eq!(html.matches("<svg").count(), 1, "one bar, for the ranked area only");
        assert!(html.contains(">suppressed</td>"), "{html}");
    }
}
