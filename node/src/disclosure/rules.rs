//! The configured disclosure rules: below which count a value is suppressed, how released counts
//! are rounded, whether totals are released and how zeros are shown. A node's policy file holds
//! them; loading checks that they make sense together (audit-privacy-legal.md §2.1).

use serde::{Deserialize, Serialize};

use super::error::DisclosureError;
use super::table::CountKind;

/// The rule-based statistical disclosure control (SDC) a node applies to a table of counts.
///
/// The default is the NHS Digital HES/ECDS and OpenSAFELY rule: counts 1–7 suppressed, other
/// counts rounded to the nearest 5, margins released (computed unrounded, then protected), zeros
/// shown as 0. In a policy file (TOML):
///
/// ```toml
/// min_cell = 8                 # counts 1..=7 are suppressed
/// rounding = { nearest = 5 }   # or rounding = "midpoint6"
/// release_margins = true
/// zeros = "release"            # or "suppress"
/// ```
///
/// Fields left out take their defaults; unknown keys and inconsistent rules are refused when the
/// file is read (see [`SdcRules::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RulesFile")]
pub struct SdcRules {
    /// The smallest count released as a value: counts `1..min_cell` are suppressed. 8 (the
    /// default) suppresses 1–7 as HES/ECDS and OpenSAFELY do; 1 suppresses nothing.
    pub min_cell: u64,
    /// How released counts are rounded.
    pub rounding: Rounding,
    /// Whether totals (1-D: the grand total; 2-D: row, column and grand totals) are released.
    /// When they are, complementary suppression keeps them from revealing suppressed cells.
    pub release_margins: bool,
    /// How counts of zero are shown.
    pub zeros: ZeroPolicy,
}

impl Default for SdcRules {
    fn default() -> Self {
        Self {
            min_cell: 8,
            rounding: Rounding::default(),
            release_margins: true,
            zeros: ZeroPolicy::default(),
        }
    }
}

impl SdcRules {
    /// Checks that the rules can be applied: `min_cell` at least 1, a rounding base between 1
    /// and `u32::MAX`, and a rounding that does not take the smallest released count,
    /// `min_cell`, below itself. Otherwise a released count would be shown inside the
    /// suppressed range or as 0 (which must mean "none"): with `min_cell = 11`, nearest-5 would
    /// show 11 as 10. With the default 8, nearest 5 (8 → 10), 10 (→ 10) and midpoint 6
    /// (→ 9) all qualify.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        if self.min_cell == 0 {
            return Err(DisclosureError::ZeroMinCell);
        }
        if let Rounding::Nearest(base) = self.rounding
            && (base == 0 || base > u64::from(u32::MAX))
        {
            return Err(DisclosureError::RoundingBaseOutOfRange { base });
        }
        // Rounding is monotone, so if the smallest released count keeps its place every count
        // does: no released value then falls in the suppressed range, or shows as 0.
        let shown = self.rounding.apply(self.min_cell);
        if shown < self.min_cell {
            return Err(DisclosureError::RoundingIntoSuppressedRange {
                min_cell: self.min_cell,
                shown,
            });
        }
        Ok(())
    }

    /// Whether a count (already clamped at 0) is suppressed by the primary rules alone.
    pub fn is_primary_suppressed(&self, count: u64) -> bool {
        match count {
            0 => self.zeros == ZeroPolicy::Suppress,
            n => n < self.min_cell,
        }
    }

    /// A sentence for a report's footnote that explains the marks in a released table. After
    /// DP noise a 0 no longer means none, only that the noised count was 0 or less.
    pub fn legend(&self, kind: CountKind) -> String {
        let mut parts = Vec::new();
        if self.min_cell > 1 {
            parts.push(format!(
                "[c]: not shown: a count of 1 to {}, or another count hidden so that totals \
                 cannot reveal one",
                self.min_cell - 1
            ));
        }
        match (self.zeros, kind) {
            (ZeroPolicy::Release, CountKind::Exact) => parts.push("0 means none".to_string()),
            (ZeroPolicy::Release, CountKind::Noised) => {
                parts.push("0 means the noised count was 0 or less".to_string())
            }
            (ZeroPolicy::Suppress, _) => parts.push("counts of 0 are also hidden".to_string()),
        }
        match self.rounding {
            Rounding::Nearest(1) => {}
            Rounding::Nearest(base) => {
                parts.push(format!("other counts are rounded to the nearest {base}"))
            }
            Rounding::Midpoint6 => parts.push(
                "other counts are shown as the midpoint of their band of 6 (1–6 as 3, 7–12 as 9, \
                 13–18 as 15, …)"
                    .to_string(),
            ),
        }
        if self.release_margins {
            parts.push(
                "totals are computed before rounding and then rounded, so they may differ from \
                 the sum of the cells shown"
                    .to_string(),
            );
        }
        parts.join("; ")
    }
}

/// How released non-zero counts are rounded. Zero always stays 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// OpenSAFELY's "midpoint 6" (audit-privacy-legal.md §2.1): `ceil(x/6)·6 − 3` for x ≠ 0, so
    /// 1–6 → 3, 7–12 → 9, 13–18 → 15. Every released non-zero value is ≡ 3 (mod 6): the band's
    /// midpoint, which keeps zero distinct from non-zero without the upward bias of rounding
    /// small counts up to the base.
    Midpoint6,
    /// To the nearest multiple of the base, halves rounded up (HES/ECDS and OpenSAFELY use 5).
    /// A base of 1 leaves counts unrounded.
    Nearest(u64),
}

impl Default for Rounding {
    fn default() -> Self {
        Rounding::Nearest(5)
    }
}

impl Rounding {
    /// Rounds one count. `count` is at most `i64::MAX` and a [`Rounding::Nearest`] base at most
    /// `u32::MAX` (both checked before any table is protected), so nothing overflows.
    pub fn apply(self, count: u64) -> u64 {
        if count == 0 {
            return 0;
        }
        match self {
            Rounding::Midpoint6 => count.div_ceil(6).saturating_mul(6) - 3,
            Rounding::Nearest(base) => {
                let (quotient, remainder) = (count / base, count % base);
                let up = u64::from(remainder.saturating_mul(2) >= base);
                (quotient + up).saturating_mul(base)
            }
        }
    }

    /// Whether `value` is a value this rounding can release for a non-zero count.
    pub fn is_rounded(self, value: u64) -> bool {
        match self {
            Rounding::Midpoint6 => value % 6 == 3,
            Rounding::Nearest(base) => base != 0 && value.is_multiple_of(base),
        }
    }
}

/// How counts of zero are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroPolicy {
    /// Shown as 0 ("zeros consistent"): a zero count is shown as 0 in every cell and total, and
    /// a DP-noised count at or below 0 is shown as 0 too. A released 0 therefore never hides a
    /// non-zero count, and a total is 0 exactly when every cell under it is.
    #[default]
    Release,
    /// Suppressed like a small count, for tables where "none in this group" is itself
    /// disclosive (e.g. a category that should be present everywhere).
    Suppress,
}

/// [`SdcRules`] as a policy file writes it; [`SdcRules`] is made from it only by validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default = "default_min_cell")]
    min_cell: u64,
    #[serde(default)]
    rounding: Rounding,
    #[serde(default = "default_release_margins")]
    release_margins: bool,
    #[serde(default)]
    zeros: ZeroPolicy,
}

fn default_min_cell() -> u64 {
    SdcRules::default().min_cell
}

fn default_release_margins() -> bool {
    SdcRules::default().release_margins
}

impl TryFrom<RulesFile> for SdcRules {
    type Error = DisclosureError;

    fn try_from(file: RulesFile) -> Result<Self, Self::Error> {
        let rules = SdcRules {
            min_cell: file.min_cell,
            rounding: file.rounding,
            release_margins: file.release_margins,
            zeros: file.zeros,
        };
        rules.validate()?;
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_five_rounds_halves_up() {
        let r = Rounding::Nearest(5);
        let got: Vec<u64> = [0, 1, 2, 3, 7, 8, 12, 13, 22, 23].map(|x| r.apply(x)).to_vec();
        assert_eq!(got, [0, 0, 0, 5, 5, 10, 10, 15, 20, 25]);
        // An even base has exact halves: 5 → 10 with base 10.
        assert_eq!(Rounding::Nearest(10).apply(5), 10);
        assert_eq!(Rounding::Nearest(10).apply(4), 0);
        assert_eq!(Rounding::Nearest(1).apply(17), 17);
    }

    #[test]
    fn midpoint6_matches_the_opensafely_formula() {
        // §2.1: ceil(x/6)*6 − 3·[x≠0]: 0→0, 1–6→3, 7–12→9, 13–18→15.
        let r = Rounding::Midpoint6;
        for (from, to) in [(0, 0), (1, 3), (6, 3), (7, 9), (12, 9), (13, 15), (18, 15), (19, 21)] {
            assert_eq!(r.apply(from), to, "{from}");
        }
        for x in 1..1000 {
            assert!(r.is_rounded(r.apply(x)));
            assert!(r.apply(x).abs_diff(x) <= 3);
        }
    }

    #[test]
    fn no_overflow_at_the_largest_count() {
        let max = i64::MAX as u64;
        assert_eq!(Rounding::Midpoint6.apply(max) % 6, 3);
        assert_eq!(Rounding::Nearest(u64::from(u32::MAX)).apply(max) % u64::from(u32::MAX), 0);
    }

    #[test]
    fn defaults_are_the_hes_rules() {
        let rules = SdcRules::default();
        assert_eq!(rules.min_cell, 8);
        assert_eq!(rules.rounding, Rounding::Nearest(5));
        assert!(rules.release_margins);
        assert_eq!(rules.zeros, ZeroPolicy::Release);
        assert!((1..8).all(|n| rules.is_primary_suppressed(n)));
        assert!(!rules.is_primary_suppressed(0) && !rules.is_primary_suppressed(8));
        assert_eq!(rules.validate(), Ok(()));
    }

    #[test]
    fn policy_file_round_trip_and_defaults() {
        let rules: SdcRules = toml::from_str("").unwrap();
        assert_eq!(rules, SdcRules::default());
        let rules: SdcRules = toml::from_str(
            "min_cell = 9\nrounding = \"midpoint6\"\nrelease_margins = false\nzeros = \"suppress\"",
        )
        .unwrap();
        assert_eq!(
            rules,
            SdcRules {
                min_cell: 9,
                rounding: Rounding::Midpoint6,
                release_margins: false,
                zeros: ZeroPolicy::Suppress
            }
        );
        let text = toml::to_string(&rules).unwrap();
        assert_eq!(toml::from_str::<SdcRules>(&text).unwrap(), rules);
        let rules: SdcRules = toml::from_str("rounding = { nearest = 10 }").unwrap();
        assert_eq!(rules.rounding, Rounding::Nearest(10));
    }

    #[test]
    fn inconsistent_rules_are_refused_at_load() {
        for (text, want) in [
            ("min_cell = 0", "at least 1"),
            ("rounding = { nearest = 0 }", "between 1"),
            ("min_cell = 1", "released count of 1 as 0"),
            ("min_cell = 8\nrounding = { nearest = 17 }", "released count of 8 as 0"),
            ("min_cell = 11", "released count of 11 as 10"),
            ("min_cell = 11\nrounding = \"midpoint6\"", "released count of 11 as 9"),
            ("mincell = 8", "unknown field"),
        ] {
            let err = toml::from_str::<SdcRules>(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        // No suppression is fine when nothing is rounded, or with midpoint-6.
        for text in
            ["min_cell = 1\nrounding = { nearest = 1 }", "min_cell = 1\nrounding = \"midpoint6\""]
        {
            assert!(toml::from_str::<SdcRules>(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn legend_states_the_rules() {
        let legend = SdcRules::default().legend(CountKind::Exact);
        assert!(legend.contains("1 to 7"), "{legend}");
        assert!(legend.contains("nearest 5"), "{legend}");
        assert!(legend.contains("before rounding"), "{legend}");
    }
}
