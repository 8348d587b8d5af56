//! A released cell: what a reader sees for one count after disclosure control, a rounded
//! value, a zero, or a suppression mark.

use std::fmt;

/// One count as released.
///
/// A suppressed cell carries no reason. A cell suppressed because it was small (primary) and
/// one suppressed only to protect another through a total (complementary) look the same,
/// because telling them apart would tell a reader which hidden cell is the small one and
/// narrow it down (module docs, "Complementary suppression"). For the same reason the mark is
/// `[c]` ("confidential", as ONS marks it), not `<8`: a complementary cell is not below 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleasedCell {
    /// Not shown.
    Suppressed,
    /// A released non-zero count, after rounding.
    Value(u64),
    /// A count of zero (or a DP-noised count at or below zero), shown as 0.
    Zero,
}

impl ReleasedCell {
    /// The mark a suppressed cell is shown with.
    pub const SUPPRESSED_MARK: &str = "[c]";

    /// The number shown, or `None` when suppressed.
    pub fn value(self) -> Option<u64> {
        match self {
            ReleasedCell::Suppressed => None,
            ReleasedCell::Value(n) => Some(n),
            ReleasedCell::Zero => Some(0),
        }
    }

    /// Whether the cell is suppressed.
    pub fn is_suppressed(self) -> bool {
        self == ReleasedCell::Suppressed
    }
}

impl fmt::Display for ReleasedCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleasedCell::Suppressed => f.write_str(Self::SUPPRESSED_MARK),
            ReleasedCell::Value(n) => write!(f, "{n}"),
            ReleasedCell::Zero => f.write_str("0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_value() {
        assert_eq!(ReleasedCell::Suppressed.to_string(), "[c]");
        assert_eq!(ReleasedCell::Value(15).to_string(), "15");
        assert_eq!(ReleasedCell::Zero.to_string(), "0");
        assert_eq!(ReleasedCell::Suppressed.value(), None);
        assert_eq!(ReleasedCell::Zero.value(), Some(0));
        assert!(ReleasedCell::Suppressed.is_suppressed());
    }
}
