//! A table of counts before disclosure control: named dimensions with ordered levels (e.g.
//! ward × month) and one integer count per combination of levels, stored densely in row-major
//! order. Counts are exact (`u64`-like, never negative) or DP-noised (`i64`, may be negative).

use std::collections::HashSet;

use super::error::DisclosureError;

/// One grouping dimension: its name and its levels, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    name: String,
    levels: Vec<String>,
}

impl Dimension {
    /// A dimension with at least one level and no level twice.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        levels: impl IntoIterator<Item = S>,
    ) -> Result<Self, DisclosureError> {
        let name = name.into();
        let levels: Vec<String> = levels.into_iter().map(Into::into).collect();
        if levels.is_empty() {
            return Err(DisclosureError::EmptyDimension { dimension: name });
        }
        let mut seen = HashSet::new();
        for level in &levels {
            if !seen.insert(level.as_str()) {
                return Err(DisclosureError::DuplicateLevel {
                    dimension: name.clone(),
                    level: level.clone(),
                });
            }
        }
        Ok(Self { name, levels })
    }

    /// The dimension's name (a group-by column).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The levels, in order.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The position of a level.
    pub fn position(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == level)
    }
}

/// Where a table's counts come from, which decides how negative counts are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    /// Exact counts of records or subjects; a negative count is an error.
    Exact,
    /// Counts after integer DP noise; a negative count is clamped to 0 (post-processing).
    Noised,
}

/// A table of counts before disclosure control.
///
/// It deliberately has no `Debug` (and no `Clone`): its counts are pre-disclosure values that
/// must never reach a log or outlive the query (design-review.md F5 item 6).
pub struct CountTable {
    kind: CountKind,
    dimensions: Vec<Dimension>,
    counts: Vec<i64>,
}

impl CountTable {
    /// A table from its dimensions and every count in row-major order (the last dimension
    /// varies fastest).
    pub fn new(
        kind: CountKind,
        dimensions: Vec<Dimension>,
        counts: Vec<i64>,
    ) -> Result<Self, DisclosureError> {
        let expected = cell_count(&dimensions)?;
        if counts.len() != expected {
            return Err(DisclosureError::ShapeMismatch { expected, found: counts.len() });
        }
        if kind == CountKind::Exact
            && let Some(index) = counts.iter().position(|&c| c < 0)
        {
            return Err(DisclosureError::NegativeExactCount { index });
        }
        Ok(Self { kind, dimensions, counts })
    }

    /// A 1-D table: one count per level.
    pub fn one_d(
        kind: CountKind,
        dimension: Dimension,
        counts: Vec<i64>,
    ) -> Result<Self, DisclosureError> {
        Self::new(kind, vec![dimension], counts)
    }

    /// A 2-D table: `counts[row][column]`.
    pub fn two_d(
        kind: CountKind,
        rows: Dimension,
        columns: Dimension,
        counts: Vec<Vec<i64>>,
    ) -> Result<Self, DisclosureError> {
        let width = columns.levels().len();
        if counts.len() != rows.levels().len() {
            return Err(DisclosureError::ShapeMismatch {
                expected: rows.levels().len(),
                found: counts.len(),
            });
        }
        if let Some(row) = counts.iter().find(|row| row.len() != width) {
            return Err(DisclosureError::ShapeMismatch { expected: width, found: row.len() });
        }
        Self::new(kind, vec![rows, columns], counts.into_iter().flatten().collect())
    }

    /// A table from the cells a `GROUP BY` returned, each as its levels (one per dimension)
    /// and its count. A combination of levels that is absent has count 0: the dimensions'
    /// levels are the full vocabulary, so "no rows" means none.
    pub fn from_cells<S: AsRef<str>>(
        kind: CountKind,
        dimensions: Vec<Dimension>,
        cells: impl IntoIterator<Item = (Vec<S>, i64)>,
    ) -> Result<Self, DisclosureError> {
        let mut counts = vec![0; cell_count(&dimensions)?];
        let mut given = vec![false; counts.len()];
        for (levels, count) in cells {
            if levels.len() != dimensions.len() {
                return Err(DisclosureError::WrongArity {
                    expected: dimensions.len(),
                    found: levels.len(),
                });
            }
            let mut index = 0;
            for (dimension, level) in dimensions.iter().zip(&levels) {
                let level = level.as_ref();
                let position =
                    dimension.position(level).ok_or_else(|| DisclosureError::UnknownLevel {
                        dimension: dimension.name().to_string(),
                        level: level.to_string(),
                    })?;
                index = index * dimension.levels().len() + position;
            }
            if given[index] {
                return Err(DisclosureError::DuplicateCell {
                    coordinates: levels.iter().map(|l| l.as_ref().to_string()).collect(),
                });
            }
            given[index] = true;
            counts[index] = count;
        }
        Self::new(kind, dimensions, counts)
    }

    /// Exact or noised.
    pub fn kind(&self) -> CountKind {
        self.kind
    }

    /// The dimensions, outermost first.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// Every count, row-major.
    pub fn counts(&self) -> &[i64] {
        &self.counts
    }

    /// The count at the given level positions, one per dimension.
    pub fn count(&self, coordinates: &[usize]) -> Option<i64> {
        index_of(&self.dimensions, coordinates).map(|i| self.counts[i])
    }
}

/// The number of cells the dimensions define.
pub(super) fn cell_count(dimensions: &[Dimension]) -> Result<usize, DisclosureError> {
    if dimensions.is_empty() {
        return Err(DisclosureError::NoDimensions);
    }
    dimensions
        .iter()
        .try_fold(1usize, |n, d| n.checked_mul(d.levels().len()))
        .ok_or(DisclosureError::TooManyCells)
}

/// The row-major index of a cell from its level positions.
pub(super) fn index_of(dimensions: &[Dimension], coordinates: &[usize]) -> Option<usize> {
    if coordinates.len() != dimensions.len() {
        return None;
    }
    let mut index = 0;
    for (dimension, &position) in dimensions.iter().zip(coordinates) {
        if position >= dimension.levels().len() {
            return None;
        }
        index = index * dimension.levels().len() + position;
    }
    Some(index)
}

/// The level positions of a cell from its row-major index.
pub(super) fn coordinates_of(dimensions: &[Dimension], mut index: usize) -> Vec<usize> {
    let mut coordinates = vec![0; dimensions.len()];
    for (slot, dimension) in coordinates.iter_mut().zip(dimensions).rev() {
        let n = dimension.levels().len();
        *slot = index % n;
        index /= n;
    }
    coordinates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(name: &str, levels: &[&str]) -> Dimension {
        Dimension::new(name, levels.iter().copied()).unwrap()
    }

    #[test]
    fn dimensions_need_distinct_levels() {
        assert!(matches!(
            Dimension::new("ward", Vec::<String>::new()),
            Err(DisclosureError::EmptyDimension { .. })
        ));
        assert!(matches!(
            Dimension::new("ward", ["A", "B", "A"]),
            Err(DisclosureError::DuplicateLevel { level, .. }) if level == "A"
        ));
    }

    #[test]
    fn row_major_layout() {
        let t = CountTable::two_d(
            CountKind::Exact,
            dim("ward", &["A", "B"]),
            dim("month", &["01", "02", "03"]),
            vec![vec![1, 2, 3], vec![4, 5, 6]],
        )
        .unwrap();
        assert_eq!(t.counts(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(t.count(&[1, 0]), Some(4));
        assert_eq!(t.count(&[2, 0]), None);
        assert_eq!(coordinates_of(t.dimensions(), 4), vec![1, 1]);
        for i in 0..6 {
            assert_eq!(index_of(t.dimensions(), &coordinates_of(t.dimensions(), i)), Some(i));
        }
    }

    #[test]
    fn shape_and_sign_are_checked() {
        let d = || dim("ward", &["A", "B"]);
        assert!(matches!(
            CountTable::one_d(CountKind::Exact, d(), vec![1]),
            Err(DisclosureError::ShapeMismatch { expected: 2, found: 1 })
        ));
        assert!(matches!(
            CountTable::one_d(CountKind::Exact, d(), vec![1, -1]),
            Err(DisclosureError::NegativeExactCount { index: 1 })
        ));
        assert!(CountTable::one_d(CountKind::Noised, d(), vec![1, -1]).is_ok());
        assert!(matches!(
            CountTable::two_d(CountKind::Exact, d(), d(), vec![vec![1, 2], vec![3]]),
            Err(DisclosureError::ShapeMismatch { expected: 2, found: 1 })
        ));
        assert!(matches!(
            CountTable::new(CountKind::Exact, vec![], vec![]),
            Err(DisclosureError::NoDimensions)
        ));
    }

    #[test]
    fn cells_from_a_group_by() {
        let dims = vec![dim("ward", &["A", "B"]), dim("month", &["01", "02"])];
        let t = CountTable::from_cells(
            CountKind::Exact,
            dims.clone(),
            vec![(vec!["B", "01"], 9), (vec!["A", "02"], 3)],
        )
        .unwrap();
        assert_eq!(t.counts(), &[0, 3, 9, 0]);
        let dup = CountTable::from_cells(
            CountKind::Exact,
            dims.clone(),
            vec![(vec!["B", "01"], 9), (vec!["B", "01"], 3)],
        );
        assert!(matches!(dup, Err(DisclosureError::DuplicateCell { .. })));
        let unknown =
            CountTable::from_cells(CountKind::Exact, dims.clone(), vec![(vec!["C", "01"], 9)]);
        assert!(
            matches!(unknown, Err(DisclosureError::UnknownLevel { level, .. }) if level == "C")
        );
        let arity = CountTable::from_cells(CountKind::Exact, dims, vec![(vec!["A"], 9)]);
        assert!(matches!(arity, Err(DisclosureError::WrongArity { expected: 2, found: 1 })));
    }
}
