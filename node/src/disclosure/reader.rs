//! What a reader can infer about a hidden entry of a 2-D table from everything released at
//! once. The cells and totals of an r × c table are exactly the flows of a circulation:
//! row-totals line → row i (row total), row i → column j (cell), column j → column-totals line
//! (column total), column-totals line → row-totals line (grand total). Each line's equation is
//! flow conservation at its vertex, so "can this entry take this value?" is a feasibility
//! question, answered exactly by `flow`. The constraint matrix is totally unimodular, so the
//! values an entry can take form an interval of integers, and two checks bound it.

use super::flow::{self, Bounded};
use super::lines::{Extended, Position};

/// Far above any count (counts are at most `i64::MAX`).
const UNBOUNDED: i128 = i128::MAX / 4;

/// The reader's constraints on a 2-D table.
pub(super) struct Reader {
    /// Vertices: rows `0..r`, columns `r..r + c`, the row-totals line, the column-totals line
    /// (the same numbering as the lines of [`Extended`]).
    vertices: usize,
    /// One edge per entry, in entry order, with the reader's bounds on it.
    edges: Vec<Bounded>,
}

impl Reader {
    /// The reader of a 2-D table with margins, who knows every released value exactly (that
    /// is, as if there were no rounding: conservative, see the module docs) and that every
    /// hidden entry is at least `floor`. `None` for other shapes, whose single line needs no
    /// model.
    pub fn two_d(ext: &Extended, suppressed: &[bool], floor: u64) -> Option<Self> {
        let [r, c] = ext.shape[..] else { return None };
        if ext.lines.is_empty() {
            return None;
        }
        let (row_totals, column_totals) = (r + c, r + c + 1);
        let edges = ext
            .entries
            .iter()
            .zip(suppressed)
            .map(|(entry, &hidden)| {
                let (from, to) = match entry.position {
                    Position::Cell(i) => (i / c, r + i % c),
                    Position::DimensionTotal { dimension: 0, level } => (row_totals, level),
                    Position::DimensionTotal { level, .. } => (r + level, column_totals),
                    Position::GrandTotal => (column_totals, row_totals),
                };
                let (lower, upper) = if hidden {
                    (i128::from(floor), UNBOUNDED)
                } else {
                    (i128::from(entry.count), i128::from(entry.count))
                };
                Bounded { from, to, lower, upper }
            })
            .collect();
        Some(Self { vertices: r + c + 2, edges })
    }

    /// Whether the released values allow `entry` to be `value`.
    pub fn allows(&self, entry: usize, value: u64) -> bool {
        let mut edges = self.edges.clone();
        edges[entry].lower = i128::from(value);
        edges[entry].upper = i128::from(value);
        flow::feasible(self.vertices, &edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::table::Dimension;

    fn extended(counts: &[&[u64]]) -> Extended {
        let rows = Dimension::new("r", (0..counts.len()).map(|i| i.to_string())).unwrap();
        let columns = Dimension::new("c", (0..counts[0].len()).map(|i| i.to_string())).unwrap();
        let flat: Vec<u64> = counts.iter().flat_map(|r| r.iter().copied()).collect();
        Extended::build(&[rows, columns], &flat, true).unwrap()
    }

    #[test]
    fn a_hidden_block_can_shift_around_its_cycle() {
        // Hide the 2 × 2 block top left: each hidden cell can move by as much as the others
        // allow while every total holds.
        let ext = extended(&[&[3, 10, 40], &[12, 20, 30], &[50, 60, 70]]);
        let mut hidden = vec![false; ext.entries.len()];
        for e in [0, 1, 3, 4] {
            hidden[e] = true;
        }
        let reader = Reader::two_d(&ext, &hidden, 1).unwrap();
        // Cell (0,0) = x: (0,1) = 13 − x and (1,0) = 15 − x must be ≥ 1, (1,1) = 17 + x.
        assert!(reader.allows(0, 1) && reader.allows(0, 12));
        assert!(!reader.allows(0, 13));
    }

    #[test]
    fn only_two_d_tables_with_margins_get_a_reader() {
        let d = |n: usize| Dimension::new("d", (0..n).map(|i| i.to_string())).unwrap();
        let one = Extended::build(&[d(3)], &[1, 2, 3], true).unwrap();
        assert!(Reader::two_d(&one, &[false; 4], 1).is_none());
        let bare = Extended::build(&[d(2), d(2)], &[1, 2, 3, 4], false).unwrap();
        assert!(Reader::two_d(&bare, &[false; 4], 1).is_none());
    }
}
