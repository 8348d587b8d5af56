//! The rules a table was put through, as the node states them in its answer and its audit log.
//! The list depends only on the configured rules and whether the counts were noised, never on
//! the counts, so stating it discloses nothing (a count of "cells suppressed" would: see the
//! module docs).

use std::fmt;

use super::rules::{Rounding, SdcRules, ZeroPolicy};
use super::table::CountKind;

/// One rule applied to a released table, in the order [`applied_rules`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedRule {
    /// Noised counts below 0 were released as 0 (post-processing, so DP still holds).
    ClampNegative,
    /// Further cells (or totals) were suppressed wherever a released total would otherwise
    /// reveal a suppressed one.
    ComplementarySuppression,
    /// Totals were computed from unrounded, unsuppressed counts, then protected like cells.
    MarginsFromUnrounded,
    /// Released counts were rounded to the midpoint of their band of 6.
    RoundMidpoint6,
    /// Released counts were rounded to the nearest multiple of `base`, halves up.
    RoundNearest {
        /// The rounding base.
        base: u64,
    },
    /// Counts from 1 to `min_cell − 1` were suppressed.
    Suppress {
        /// The smallest count released.
        min_cell: u64,
    },
    /// How zeros were shown.
    Zeros(ZeroPolicy),
}

impl AppliedRule {
    /// A short, stable code for the audit log's rule field, e.g. `suppress<8` or `round5`.
    pub fn code(&self) -> String {
        match self {
            AppliedRule::ClampNegative => "clamp<0".to_string(),
            AppliedRule::ComplementarySuppression => "complementary".to_string(),
            AppliedRule::MarginsFromUnrounded => "margins=unrounded".to_string(),
            AppliedRule::RoundMidpoint6 => "midpoint6".to_string(),
            AppliedRule::RoundNearest { base } => format!("round{base}"),
            AppliedRule::Suppress { min_cell } => format!("suppress<{min_cell}"),
            AppliedRule::Zeros(ZeroPolicy::Release) => "zeros=release".to_string(),
            AppliedRule::Zeros(ZeroPolicy::Suppress) => "zeros=suppress".to_string(),
        }
    }
}

impl fmt::Display for AppliedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppliedRule::ClampNegative => f.write_str("noised counts below 0 released as 0"),
            AppliedRule::ComplementarySuppression => f.write_str(
                "complementary suppression: no released total reveals a suppressed count",
            ),
            AppliedRule::MarginsFromUnrounded => {
                f.write_str("totals computed from unrounded counts, then suppressed and rounded")
            }
            AppliedRule::RoundMidpoint6 => f.write_str("counts rounded to midpoint 6"),
            AppliedRule::RoundNearest { base } => write!(f, "counts rounded to the nearest {base}"),
            AppliedRule::Suppress { min_cell } => {
                write!(f, "counts of 1 to {} suppressed", min_cell.saturating_sub(1))
            }
            AppliedRule::Zeros(ZeroPolicy::Release) => f.write_str("zeros shown as 0"),
            AppliedRule::Zeros(ZeroPolicy::Suppress) => f.write_str("zeros suppressed"),
        }
    }
}

/// The rules a table of this kind (exact or noised) goes through under `rules`, in the order
/// they are applied.
pub fn applied_rules(rules: &SdcRules, kind: CountKind) -> Vec<AppliedRule> {
    let mut applied = Vec::new();
    if kind == CountKind::Noised {
        applied.push(AppliedRule::ClampNegative);
    }
    if rules.min_cell > 1 {
        applied.push(AppliedRule::Suppress { min_cell: rules.min_cell });
    }
    applied.push(AppliedRule::Zeros(rules.zeros));
    match rules.rounding {
        Rounding::Nearest(1) => {}
        Rounding::Nearest(base) => applied.push(AppliedRule::RoundNearest { base }),
        Rounding::Midpoint6 => applied.push(AppliedRule::RoundMidpoint6),
    }
    if rules.release_margins {
        applied.push(AppliedRule::MarginsFromUnrounded);
        if rules.min_cell > 1 || rules.zeros == ZeroPolicy::Suppress {
            applied.push(AppliedRule::ComplementarySuppression);
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_for_exact_counts() {
        let codes: Vec<String> = applied_rules(&SdcRules::default(), CountKind::Exact)
            .iter()
            .map(|r| r.code())
            .collect();
        assert_eq!(
            codes,
            ["suppress<8", "zeros=release", "round5", "margins=unrounded", "complementary"]
        );
    }

    #[test]
    fn noised_midpoint_without_margins() {
        let rules = SdcRules {
            rounding: Rounding::Midpoint6,
            release_margins: false,
            ..SdcRules::default()
        };
        let applied = applied_rules(&rules, CountKind::Noised);
        assert_eq!(
            applied,
            [
                AppliedRule::ClampNegative,
                AppliedRule::Suppress { min_cell: 8 },
                AppliedRule::Zeros(ZeroPolicy::Release),
                AppliedRule::RoundMidpoint6
            ]
        );
        assert_eq!(applied[1].to_string(), "counts of 1 to 7 suppressed");
    }
}
