//! Tables: a header row, body rows, numbers right-aligned, and suppressed cells that read as
//! suppressed (`≤ k` or "suppressed", in their own style) and never as zero, so a small count
//! withheld for disclosure control cannot be mistaken for "none".

use super::markup::Html;
use super::number::{format_count, format_fixed, format_value};

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Labels, codes, dates.
    Left,
    /// Counts, rates, amounts.
    Right,
}

/// One column: its heading and alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header cell's text.
    pub heading: String,
    /// How the column's cells are aligned.
    pub align: Align,
}

impl Column {
    /// A left-aligned column of text.
    pub fn text(heading: impl Into<String>) -> Self {
        Self { heading: heading.into(), align: Align::Left }
    }

    /// A right-aligned column of numbers.
    pub fn number(heading: impl Into<String>) -> Self {
        Self { heading: heading.into(), align: Align::Right }
    }
}

/// One cell's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A count, shown with thousands separators.
    Count(u64),
    /// A value shown with fixed decimals (a rate, an epsilon).
    Fixed {
        /// The value.
        value: f64,
        /// Digits after the point.
        decimals: usize,
    },
    /// Ready-made markup (a link, inline code), aligned as its column says.
    Markup(Html),
    /// No value exists here (not applicable, not recorded): shown as a dash.
    Missing,
    /// A value withheld by disclosure control. Shown as `≤ k` when the bound is known, else as
    /// "suppressed"; never as a number or zero.
    Suppressed {
        /// The largest count it may stand for, when the rule says (`≤ 10`).
        at_most: Option<u64>,
    },
    /// Plain text.
    Text(String),
    /// A value shown as short as readable (integers without a point).
    Value(f64),
}

impl Cell {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A count, or a suppressed cell where the count was withheld.
    pub fn count_or_suppressed(count: Option<u64>) -> Self {
        count.map_or(Self::Suppressed { at_most: None }, Self::Count)
    }

    fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::Count(_) | Self::Fixed { .. } | Self::Suppressed { .. } | Self::Value(_)
        )
    }

    fn render(&self, align: Align) -> Html {
        let mut classes: Vec<&str> = Vec::new();
        if align == Align::Right || self.is_numeric() {
            classes.push("num");
        }
        let mut title = None;
        let content = match self {
            Self::Count(count) => Html::text(&format_count(*count)),
            Self::Fixed { value, decimals } => Html::text(&format_fixed(*value, *decimals)),
            Self::Markup(html) => html.clone(),
            Self::Missing => {
                classes.push("missing");
                Html::text("—")
            }
            Self::Suppressed { at_most } => {
                classes.push("suppressed");
                title = Some("suppressed by disclosure control: a small count, not zero");
                match at_most {
                    Some(bound) => Html::text(&format!("≤ {}", format_count(*bound))),
                    None => Html::text("suppressed"),
                }
            }
            Self::Text(text) => Html::text(text),
            Self::Value(value) => Html::text(&format_value(*value)),
        };
        let class = classes.join(" ");
        let mut attrs: Vec<(&'static str, &str)> = Vec::new();
        if !class.is_empty() {
            attrs.push(("class", &class));
        }
        if let Some(title) = title {
            attrs.push(("title", title));
        }
        Html::element("td", &attrs, content)
    }
}

/// A table with a header and rows. Rows shorter than the header are padded with empty cells;
/// cells past the last column are dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// A caption shown above the table.
    pub caption: Option<String>,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The body rows.
    pub rows: Vec<Vec<Cell>>,
    /// Shown in place of the rows when there are none ("No refusals in this period.").
    pub empty_message: Option<String>,
}

impl Table {
    /// A table with these columns and no rows yet.
    pub fn new(columns: Vec<Column>) -> Self {
        Self { columns, ..Self::default() }
    }

    /// The same table with a caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// The same table with the message shown when it has no rows.
    pub fn with_empty_message(mut self, message: impl Into<String>) -> Self {
        self.empty_message = Some(message.into());
        self
    }

    /// Appends a body row.
    pub fn push_row(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// The table as markup, inside a scrolling wrapper so a wide table does not widen the page.
    pub fn to_html(&self) -> Html {
        let mut table = Html::new();
        if let Some(caption) = &self.caption {
            table.push(Html::element("caption", &[], Html::text(caption)));
        }
        let header: Html = self
            .columns
            .iter()
            .map(|column| {
                let attrs: &[(&'static str, &str)] = match column.align {
                    Align::Left => &[("scope", "col")],
                    Align::Right => &[("scope", "col"), ("class", "num")],
                };
                Html::element("th", attrs, Html::text(&column.heading))
            })
            .collect();
        table.push(Html::element("thead", &[], Html::element("tr", &[], header)));
        let mut body = Html::new();
        if self.rows.is_empty() {
            let span = self.columns.len().max(1).to_string();
            let message = self.empty_message.as_deref().unwrap_or("No rows.");
            let cell =
                Html::element("td", &[("colspan", &span), ("class", "empty")], Html::text(message));
            body.push(Html::element("tr", &[], cell));
        }
        for row in &self.rows {
            let cells: Html = self
                .columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    row.get(i).unwrap_or(&Cell::Text(String::new())).render(column.align)
                })
                .collect();
            body.push(Html::element("tr", &[], cells));
        }
        table.push(Html::element("tbody", &[], body));
        Html::element("div", &[("class", "table-wrap")], Html::element("table", &[], table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(cells: Vec<Cell>) -> String {
        let mut table = Table::new(vec![Column::text("Purpose"), Column::number("Queries")]);
        table.push_row(cells);
        table.to_html().into_string()
    }

    #[test]
    fn suppressed_cell_reads_as_suppressed_never_zero() {
        let html = one_row(vec![Cell::text("a"), Cell::count_or_suppressed(None)]);
        assert!(html.contains(r#"<td class="num suppressed" title="#), "{html}");
        assert!(html.contains(">suppressed</td>"), "{html}");
        assert!(!html.contains(">0<"), "{html}");
    }

    #[test]
    fn suppressed_cell_with_a_bound_shows_it() {
        let html = one_row(vec![Cell::text("a"), Cell::Suppressed { at_most: Some(10) }]);
        assert!(html.contains(">≤ 10</td>"), "{html}");
    }

    #[test]
    fn numbers_are_right_aligned_and_grouped() {
        let html = one_row(vec![Cell::text("a"), Cell::Count(1204)]);
        assert!(html.contains(r#"<th scope="col" class="num">Queries</th>"#), "{html}");
        assert!(html.contains(r#"<td class="num">1,204</td>"#), "{html}");
    }

    #[test]
    fn text_in_cells_and_captions_is_escaped() {
        let mut table = Table::new(vec![Column::text("<h>")]).with_caption("a&b");
        table.push_row(vec![Cell::text("<script>")]);
        let html = table.to_html().into_string();
        assert!(html.contains("<caption>a&amp;b</caption>"));
        assert!(html.contains("&lt;h&gt;"));
        assert!(html.contains("<td>&lt;script&gt;</td>"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn an_empty_table_says_so() {
        let table = Table::new(vec![Column::text("Rule"), Column::number("Refusals")])
            .with_empty_message("No refusals.");
        let html = table.to_html().into_string();
        assert!(html.contains(r#"<td colspan="2" class="empty">No refusals.</td>"#), "{html}");
    }

    #[test]
    fn short_rows_are_padded_to_the_header() {
        let html = one_row(vec![Cell::text("only")]);
        assert_eq!(html.matches("<td").count(), 2, "{html}");
    }
}
