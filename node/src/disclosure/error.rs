//! Why a table could not be protected: a malformed table or rules that contradict each other.
//! Messages name levels and positions, never a count, because pre-disclosure counts must not
//! reach a log (design-review.md F5 item 6).

/// A table or a set of rules this module refuses to work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// A total would exceed `i64::MAX`, the largest count this module handles.
    #[error("a total exceeds the largest count handled ({})", i64::MAX)]
    CountOverflow,
    /// The same cell (the same levels of every dimension) was given twice.
    #[error("cell {coordinates:?} is given twice")]
    DuplicateCell {
        /// The cell's levels, one per dimension.
        coordinates: Vec<String>,
    },
    /// A dimension lists the same level twice.
    #[error("dimension `{dimension}` lists level `{level}` twice")]
    DuplicateLevel {
        /// The dimension's name.
        dimension: String,
        /// The repeated level.
        level: String,
    },
    /// A dimension has no levels, so the table would have no cells.
    #[error("dimension `{dimension}` has no levels")]
    EmptyDimension {
        /// The dimension's name.
        dimension: String,
    },
    /// An exact (un-noised) count was negative, which no count of records can be.
    #[error("exact count at cell index {index} is negative")]
    NegativeExactCount {
        /// The cell's row-major index.
        index: usize,
    },
    /// A table was given no dimensions.
    #[error("a table needs at least one dimension")]
    NoDimensions,
    /// The rounding base is 0 or above `u32::MAX`.
    #[error("rounding base {base} must be between 1 and {}", u32::MAX)]
    RoundingBaseOutOfRange {
        /// The configured base.
        base: u64,
    },
    /// The rounding would show the smallest released count, `min_cell`, as a smaller value
    /// (`shown`): inside the suppressed range, or as 0, which must mean "none".
    #[error(
        "the rounding would show a released count of {min_cell} as {shown}, below the smallest \
         count released; choose a `min_cell` that it rounds up or keeps (e.g. 8 or 10 for \
         nearest 5)"
    )]
    RoundingIntoSuppressedRange {
        /// The configured suppression threshold.
        min_cell: u64,
        /// What the rounding makes of it.
        shown: u64,
    },
    /// The number of counts does not match the product of the dimensions' level counts.
    #[error("the dimensions have {expected} cells but {found} counts were given")]
    ShapeMismatch {
        /// Cells the dimensions define.
        expected: usize,
        /// Counts given.
        found: usize,
    },
    /// The dimensions define more cells than fit in memory's index type.
    #[error("the dimensions define too many cells")]
    TooManyCells,
    /// A cell names a level its dimension does not have.
    #[error("dimension `{dimension}` has no level `{level}`")]
    UnknownLevel {
        /// The dimension's name.
        dimension: String,
        /// The level given.
        level: String,
    },
    /// A cell gives the wrong number of levels for the table's dimensions.
    #[error("a cell gives {found} levels for a table of {expected} dimensions")]
    WrongArity {
        /// The table's dimensions.
        expected: usize,
        /// Levels given.
        found: usize,
    },
    /// `min_cell` is 0; use 1 for "no suppression".
    #[error("`min_cell` must be at least 1 (1 means no suppression)")]
    ZeroMinCell,
}
