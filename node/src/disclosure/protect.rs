//! The algorithm: clamp, primary suppression, totals from unrounded counts, complementary
//! suppression, then rounding. Pure: no I/O, no clock, no randomness; the same table and rules
//! always give the same release.

use super::applied::applied_rules;
use super::cell::ReleasedCell;
use super::complementary::{self, Protection};
use super::error::DisclosureError;
use super::lines::{Extended, Position};
use super::protected::{Margins, ProtectedTable};
use super::rules::{Rounding, SdcRules, ZeroPolicy};
use super::table::CountTable;

/// Protects a table of counts under `rules`, as the node does before any count leaves it.
///
/// 1. Noised counts below 0 become 0 (post-processing of DP noise).
/// 2. Totals are summed from these unrounded counts.
/// 3. Cells and totals of 1 to `min_cell − 1` (and zeros, under [`ZeroPolicy::Suppress`]) are
///    suppressed.
/// 4. When totals are released, further entries are suppressed until no total reveals a
///    suppressed entry (module docs, "Complementary suppression").
/// 5. Every entry still released is rounded; zeros stay 0.
pub fn protect(table: &CountTable, rules: &SdcRules) -> Result<ProtectedTable, DisclosureError> {
    rules.validate()?;
    // Negative noised counts clamp to 0; exact counts were checked non-negative on entry.
    let counts: Vec<u64> = table.counts().iter().map(|&c| u64::try_from(c).unwrap_or(0)).collect();
    let ext = Extended::build(table.dimensions(), &counts, rules.release_margins)?;
    let mut suppressed: Vec<bool> =
        ext.entries.iter().map(|e| rules.is_primary_suppressed(e.count)).collect();
    if rules.release_margins {
        let floor = match rules.zeros {
            ZeroPolicy::Release => 1,
            ZeroPolicy::Suppress => 0,
        };
        complementary::complete(
            &ext,
            &mut suppressed,
            Protection { min_cell: rules.min_cell, floor },
        );
    }
    let released: Vec<ReleasedCell> = ext
        .entries
        .iter()
        .zip(&suppressed)
        .map(|(entry, &hidden)| release(entry.count, hidden, rules.rounding))
        .collect();
    let cells = released[..counts.len()].to_vec();
    let margins = rules.release_margins.then(|| margins(&ext, &released, table));
    Ok(ProtectedTable {
        dimensions: table.dimensions().to_vec(),
        cells,
        margins,
        rules: *rules,
        applied: applied_rules(rules, table.kind()),
    })
}

/// One entry as released.
fn release(count: u64, suppressed: bool, rounding: Rounding) -> ReleasedCell {
    match (suppressed, count) {
        (true, _) => ReleasedCell::Suppressed,
        (false, 0) => ReleasedCell::Zero,
        (false, n) => ReleasedCell::Value(rounding.apply(n)),
    }
}

/// The released totals, placed by position.
fn margins(ext: &Extended, released: &[ReleasedCell], table: &CountTable) -> Margins {
    let mut by_dimension: Vec<Vec<ReleasedCell>> = match table.dimensions() {
        [rows, columns] => vec![
            vec![ReleasedCell::Suppressed; rows.levels().len()],
            vec![ReleasedCell::Suppressed; columns.levels().len()],
        ],
        _ => Vec::new(),
    };
    let mut total = ReleasedCell::Suppressed;
    for (entry, &cell) in ext.entries.iter().zip(released) {
        match entry.position {
            Position::Cell(_) => {}
            Position::DimensionTotal { dimension, level } => {
                if let Some(slot) = by_dimension.get_mut(dimension).and_then(|d| d.get_mut(level)) {
                    *slot = cell;
                }
            }
            Position::GrandTotal => total = cell,
        }
    }
    Margins { by_dimension, total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::applied::AppliedRule;
    use crate::disclosure::table::{CountKind, Dimension};
    use ReleasedCell::{Suppressed as S, Value as V, Zero as Z};

    fn wards(n: usize) -> Dimension {
        Dimension::new("ward", (0..n).map(|i| format!("W{i}"))).unwrap()
    }

    #[test]
    fn one_d_hes_rules() {
        // 0 stays 0; 3 is suppressed; the total (0+3+8+22+41 = 74) is rounded from the
        // unrounded sum, not summed from rounded cells (0+10+20+40 = 70); the lone suppressed 3
        // takes the smallest released cell (8) with it.
        let t = CountTable::one_d(CountKind::Exact, wards(5), vec![0, 3, 8, 22, 41]).unwrap();
        let p = protect(&t, &SdcRules::default()).unwrap();
        assert_eq!(p.cells(), &[Z, S, S, V(20), V(40)]);
        assert_eq!(p.margins().unwrap().total(), V(75));
        assert!(p.margins().unwrap().by_dimension(0).is_empty());
    }

    #[test]
    fn without_margins_nothing_extra_is_suppressed() {
        let rules = SdcRules { release_margins: false, ..SdcRules::default() };
        let t = CountTable::one_d(CountKind::Exact, wards(5), vec![0, 3, 8, 22, 41]).unwrap();
        let p = protect(&t, &rules).unwrap();
        assert_eq!(p.cells(), &[Z, S, V(10), V(20), V(40)]);
        assert!(p.margins().is_none());
        assert!(!p.applied().contains(&AppliedRule::ComplementarySuppression));
    }

    #[test]
    fn noised_counts_clamp_to_zero() {
        let t = CountTable::one_d(CountKind::Noised, wards(4), vec![-3, 0, 9, 30]).unwrap();
        let p = protect(&t, &SdcRules::default()).unwrap();
        assert_eq!(p.cells(), &[Z, Z, V(10), V(30)]);
        assert_eq!(p.margins().unwrap().total(), V(40));
        assert_eq!(p.applied()[0], AppliedRule::ClampNegative);
        assert_eq!(
            p.rule_summary(),
            "sdc:clamp<0,suppress<8,zeros=release,round5,margins=unrounded,complementary"
        );
    }

    #[test]
    fn invalid_rules_are_refused() {
        let t = CountTable::one_d(CountKind::Exact, wards(1), vec![5]).unwrap();
        let rules = SdcRules { min_cell: 0, ..SdcRules::default() };
        assert_eq!(protect(&t, &rules).unwrap_err(), DisclosureError::ZeroMinCell);
    }
}
