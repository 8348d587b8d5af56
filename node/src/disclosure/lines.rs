//! The extended table that suppression works on. Every cell and every released total is an
//! *entry*; every total together with the entries it sums is a *line* (a row and its row total,
//! the row totals and the grand total, …). A reader who sees a line's total and all but one of
//! its entries can subtract, so complementary suppression reasons about entries and lines only.

use super::error::DisclosureError;
use super::table::Dimension;

/// Where an entry sits in the released table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    /// A cell, by row-major index.
    Cell(usize),
    /// The total of every cell at one level of one dimension (a 2-D row or column total).
    DimensionTotal {
        /// Which dimension.
        dimension: usize,
        /// Which level of it.
        level: usize,
    },
    /// The total of every cell.
    GrandTotal,
}

/// One cell or total, with its count before rounding.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Where it sits.
    pub position: Position,
    /// The count (clamped at 0), before suppression and rounding.
    pub count: u64,
    /// The lines it belongs to: none when no totals are released, otherwise one (a cell of a
    /// 1-D table, or the grand total there) or two (every entry of a 2-D table).
    pub lines: Vec<usize>,
}

impl Entry {
    /// Whether the entry is a total rather than a cell.
    pub fn is_margin(&self) -> bool {
        !matches!(self.position, Position::Cell(_))
    }
}

/// A total and the entries it sums: `sum(members) == total`.
#[derive(Debug, Clone)]
pub(super) struct Line {
    /// The entries summed.
    pub members: Vec<usize>,
    /// The entry holding their sum.
    pub total: usize,
}

/// Every entry and every line of a table.
#[derive(Debug, Clone)]
pub(super) struct Extended {
    /// Cells first (by row-major index, so entry `i < cells` is cell `i`), then totals.
    pub entries: Vec<Entry>,
    /// Every line; empty when totals are not released.
    pub lines: Vec<Line>,
    /// The number of levels of each dimension.
    pub shape: Vec<usize>,
}

impl Extended {
    /// The extended table of `counts` (row-major over `dimensions`), with totals when
    /// `with_margins`: 2-D tables get row, column and grand totals; other tables get the grand
    /// total only (module docs, "Margins").
    pub fn build(
        dimensions: &[Dimension],
        counts: &[u64],
        with_margins: bool,
    ) -> Result<Self, DisclosureError> {
        let mut entries: Vec<Entry> = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| Entry { position: Position::Cell(i), count, lines: Vec::new() })
            .collect();
        let mut lines = Vec::new();
        if with_margins {
            if let [rows, columns] = dimensions {
                build_two_d(rows.levels().len(), columns.levels().len(), &mut entries, &mut lines)?;
            } else {
                let members: Vec<usize> = (0..entries.len()).collect();
                let total = sum(&entries, &members)?;
                lines.push(Line { members, total: entries.len() });
                entries.push(Entry { position: Position::GrandTotal, count: total, lines: vec![] });
            }
        }
        for (l, line) in lines.iter().enumerate() {
            for &e in line.members.iter().chain([&line.total]) {
                entries[e].lines.push(l);
            }
        }
        let shape = dimensions.iter().map(|d| d.levels().len()).collect();
        Ok(Self { entries, lines, shape })
    }
}

impl Extended {
    /// The cells an entry adds up: itself for a cell, every cell at its level for a
    /// dimension total, every cell for the grand total.
    pub fn cells_under(&self, entry: usize) -> Vec<usize> {
        let cells = self.entries.iter().take_while(|e| !e.is_margin()).count();
        let columns = self.shape.last().copied().unwrap_or(1);
        match self.entries[entry].position {
            Position::Cell(i) => vec![i],
            Position::DimensionTotal { dimension: 0, level } => {
                (0..cells).filter(|i| i / columns == level).collect()
            }
            Position::DimensionTotal { level, .. } => {
                (0..cells).filter(|i| i % columns == level).collect()
            }
            Position::GrandTotal => (0..cells).collect(),
        }
    }
}

/// Row totals, column totals and the grand total of an `r × c` table, and its `r + c + 2`
/// lines: each row, each column, the row totals, the column totals.
fn build_two_d(
    r: usize,
    c: usize,
    entries: &mut Vec<Entry>,
    lines: &mut Vec<Line>,
) -> Result<(), DisclosureError> {
    let cells = r * c;
    let row_total = |i: usize| cells + i;
    let column_total = |j: usize| cells + r + j;
    let grand_total = cells + r + c;
    for i in 0..r {
        let members: Vec<usize> = (0..c).map(|j| i * c + j).collect();
        let count = sum(entries, &members)?;
        entries.push(Entry {
            position: Position::DimensionTotal { dimension: 0, level: i },
            count,
            lines: vec![],
        });
        lines.push(Line { members, total: row_total(i) });
    }
    for j in 0..c {
        let members: Vec<usize> = (0..r).map(|i| i * c + j).collect();
        let count = sum(entries, &members)?;
        entries.push(Entry {
            position: Position::DimensionTotal { dimension: 1, level: j },
            count,
            lines: vec![],
        });
        lines.push(Line { members, total: column_total(j) });
    }
    let cell_ids: Vec<usize> = (0..cells).collect();
    let count = sum(entries, &cell_ids)?;
    entries.push(Entry { position: Position::GrandTotal, count, lines: vec![] });
    lines.push(Line { members: (0..r).map(row_total).collect(), total: grand_total });
    lines.push(Line { members: (0..c).map(column_total).collect(), total: grand_total });
    Ok(())
}

/// The sum of some entries' counts, refused above `i64::MAX` so rounding cannot overflow.
fn sum(entries: &[Entry], members: &[usize]) -> Result<u64, DisclosureError> {
    members
        .iter()
        .try_fold(0u64, |acc, &m| acc.checked_add(entries[m].count))
        .filter(|&total| i64::try_from(total).is_ok())
        .ok_or(DisclosureError::CountOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(shape: &[usize]) -> Vec<Dimension> {
        shape
            .iter()
            .enumerate()
            .map(|(d, &n)| Dimension::new(format!("d{d}"), (0..n).map(|l| l.to_string())).unwrap())
            .collect()
    }

    #[test]
    fn two_d_lines_sum() {
        let ext = Extended::build(&dims(&[2, 3]), &[1, 2, 3, 4, 5, 6], true).unwrap();
        assert_eq!(ext.entries.len(), 6 + 2 + 3 + 1);
        assert_eq!(ext.lines.len(), 2 + 3 + 2);
        for line in &ext.lines {
            let s: u64 = line.members.iter().map(|&m| ext.entries[m].count).sum();
            assert_eq!(s, ext.entries[line.total].count);
        }
        assert_eq!(ext.entries[11].count, 21);
        assert_eq!(ext.cells_under(1), [1]);
        assert_eq!(ext.cells_under(7), [3, 4, 5]);
        assert_eq!(ext.cells_under(10), [2, 5]);
        assert_eq!(ext.cells_under(11), [0, 1, 2, 3, 4, 5]);
        // Every entry of a 2-D table is in exactly two lines.
        assert!(ext.entries.iter().all(|e| e.lines.len() == 2));
    }

    #[test]
    fn one_d_and_three_d_have_a_grand_total_only() {
        let ext = Extended::build(&dims(&[3]), &[1, 2, 3], true).unwrap();
        assert_eq!(ext.lines.len(), 1);
        assert_eq!(ext.entries[3].count, 6);
        let ext = Extended::build(&dims(&[2, 2, 2]), &[1; 8], true).unwrap();
        assert_eq!(ext.lines.len(), 1);
        assert_eq!(ext.entries[8].position, Position::GrandTotal);
        let ext = Extended::build(&dims(&[3]), &[1, 2, 3], false).unwrap();
        assert!(ext.lines.is_empty() && ext.entries.len() == 3);
    }

    #[test]
    fn totals_above_i64_are_refused() {
        let big = i64::MAX as u64;
        assert!(matches!(
            Extended::build(&dims(&[2]), &[big, 1], true),
            Err(DisclosureError::CountOverflow)
        ));
        assert!(Extended::build(&dims(&[2]), &[big, 0], true).is_ok());
    }
}
