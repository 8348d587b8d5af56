//! Plain-text grids and CSV lines, shared by the renderers of released and combined tables:
//! columns aligned for reading in a terminal (numbers to the right), and CSV quoted as
//! RFC 4180 asks so a code or name holding a comma or quote survives a spreadsheet.

/// How a column is aligned in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Labels and codes.
    Left,
    /// Counts, rates and ranks.
    Right,
}

/// Lays rows out as aligned text, two spaces between columns, trailing spaces trimmed. The
/// first row is the header. A row shorter than the widest is padded with empty cells.
pub fn aligned(rows: &[Vec<String>], align: &[Align]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter().map(|r| r.get(c).map_or(0, |cell| cell.chars().count())).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = (0..columns)
            .map(|c| {
                let cell = row.get(c).map_or("", String::as_str);
                let w = widths[c];
                match align.get(c).copied().unwrap_or(Align::Left) {
                    Align::Left => format!("{cell:<w$}"),
                    Align::Right => format!("{cell:>w$}"),
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One CSV field, quoted when it holds a comma, quote, or line break.
pub fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// One CSV record, ending with a line feed.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line: String =
        fields.iter().map(|f| csv_field(f.as_ref())).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// A count with thousands separators, as tables in reports print them: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Wraps a footer line at `width` characters, on spaces; continuation lines are indented two
/// spaces. A word longer than the width stays whole.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let started = !line.trim_start().is_empty();
        if started && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "  ".to_string()));
        } else if started {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_numbers_right() {
        let rows = vec![
            vec!["ward".to_string(), "value".to_string()],
            vec!["E05000001".to_string(), "5".to_string()],
            vec!["E2".to_string(), "[c]".to_string()],
        ];
        assert_eq!(
            aligned(&rows, &[Align::Left, Align::Right]),
            "ward       value\nE05000001      5\nE2           [c]\n"
        );
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_line(&["a", "b,c", "say \"hi\""]), "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn footers_wrap_on_spaces() {
        assert_eq!(wrap("one two three four", 9), ["one two", "  three", "  four"]);
        assert_eq!(wrap("short", 100), ["short"]);
        assert_eq!(wrap("", 100), [""]);
        assert_eq!(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "  x"]);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
