//! The report's period and the periods its queries are run for, named relative to it in the
//! catalogue: `current`, `previous` (the period before, of the same kind), `previous:N`,
//! `pooled:N` (the current period and the N−1 before it, as one date range: small counts are
//! pooled over years) and `lookback:Nm` (the N months up to the period's end: screening looks
//! back further than the period). A published template runs for a named period (`2025/26`),
//! so the report period must be a financial year, quarter, month or calendar year for one.

use std::fmt;

use fedlink_proto::aggregate::IsoDate;
use fedlink_proto::aggregate::text::{PeriodKind, parse_period};

/// The report's period: event dates `from..=to`, and its kind when it is a named period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    /// First day.
    pub from: IsoDate,
    /// Last day.
    pub to: IsoDate,
}

/// Kinds tried, most specific last so that a financial year is not read as a calendar year.
const KINDS: [PeriodKind; 4] =
    [PeriodKind::FinancialYear, PeriodKind::Year, PeriodKind::Quarter, PeriodKind::Month];

impl ReportPeriod {
    /// Reads `FROM..TO` (ISO dates, inclusive).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (from, to) = parse_period(text).map_err(|e| e.to_string())?;
        Ok(Self { from, to })
    }

    /// The named kind of period this is (a financial year, calendar year, quarter or month),
    /// if it is exactly one.
    pub fn kind(&self) -> Option<PeriodKind> {
        KINDS.into_iter().find(|k| k.range(&k.label(self.from)) == Some((self.from, self.to)))
    }

    /// Its name as a template period (`2025/26`, `2025`, `2025-Q3`, `2025-07`), if it has one.
    pub fn label(&self) -> Option<String> {
        self.kind().map(|k| k.label(self.from))
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        self.to.day_number() - self.from.day_number() + 1
    }

    /// The period `n` before this one: of the same kind when it is named, else the same number
    /// of days just before it.
    pub fn back(&self, n: u32) -> Self {
        let mut p = *self;
        for _ in 0..n {
            p = p.previous();
        }
        p
    }

    fn previous(&self) -> Self {
        match self.kind() {
            Some(kind) => {
                let day_before = IsoDate::from_day_number(self.from.day_number() - 1);
                match kind.range(&kind.label(day_before)) {
                    Some((from, to)) => Self { from, to },
                    None => self.shifted_days(),
                }
            }
            None => self.shifted_days(),
        }
    }

    fn shifted_days(&self) -> Self {
        let days = self.days();
        Self {
            from: IsoDate::from_day_number(self.from.day_number() - days),
            to: IsoDate::from_day_number(self.from.day_number() - 1),
        }
    }

    /// The `n` months up to this period's end, as one range.
    pub fn lookback_months(&self, n: u32) -> Self {
        let (y, m) = (i64::from(self.to.year()), i64::from(self.to.month()));
        // The first day of the month n−1 months before the end's month.
        let index = y * 12 + (m - 1) - (i64::from(n) - 1);
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        let from = u16::try_from(year)
            .ok()
            .and_then(|y| u8::try_from(month).ok().and_then(|m| IsoDate::from_ymd(y, m, 1)))
            .unwrap_or(self.from);
        Self { from, to: self.to }
    }
}

impl fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

/// A period as a catalogue names it, relative to the report's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRef {
    /// The report period.
    Current,
    /// The period `n` (≥ 1) before it.
    Previous(u32),
    /// The report period and the `n − 1` before it, as one range.
    Pooled(u32),
    /// The `n` months up to the report period's end.
    LookbackMonths(u32),
    /// Fixed dates.
    Fixed(ReportPeriod),
}

impl PeriodRef {
    /// Reads `current`, `previous`, `previous:N`, `pooled:N`, `lookback:Nm` or `FROM..TO`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let number = |s: &str, what: &str| -> Result<u32, String> {
            s.parse::<u32>()
                .ok()
                .filter(|n| (1..=10).contains(n) || what == "months" && (1..=120).contains(n))
                .ok_or_else(|| format!("{text:?}: {s:?} is not a number of {what} in range"))
        };
        match text {
            "current" => Ok(Self::Current),
            "previous" => Ok(Self::Previous(1)),
            _ => {
                if let Some(n) = text.strip_prefix("previous:") {
                    Ok(Self::Previous(number(n, "periods")?))
                } else if let Some(n) = text.strip_prefix("pooled:") {
                    Ok(Self::Pooled(number(n, "periods")?))
                } else if let Some(n) = text.strip_prefix("lookback:") {
                    let months = n.strip_suffix('m').ok_or_else(|| {
                        format!("{text:?}: a lookback is a number of months, e.g. lookback:24m")
                    })?;
                    Ok(Self::LookbackMonths(number(months, "months")?))
                } else if text.contains("..") {
                    ReportPeriod::parse(text).map(Self::Fixed)
                } else {
                    Err(format!(
                        "{text:?} is not a period: use current, previous, previous:N, pooled:N, \
                         lookback:Nm or FROM..TO"
                    ))
                }
            }
        }
    }

    /// The dates this names for a report over `period`.
    pub fn resolve(&self, period: &ReportPeriod) -> ReportPeriod {
        match *self {
            Self::Current => *period,
            Self::Previous(n) => period.back(n),
            Self::Pooled(n) => ReportPeriod { from: period.back(n - 1).from, to: period.to },
            Self::LookbackMonths(n) => period.lookback_months(n),
            Self::Fixed(p) => p,
        }
    }

    /// The template period (`2025/26`) this names for a report over `period`, if it is a named
    /// period: pooled and lookback ranges have no name.
    pub fn template_label(&self, period: &ReportPeriod) -> Result<String, String> {
        let resolved = self.resolve(period);
        resolved.label().ok_or_else(|| {
            format!(
                "{resolved} is not a financial year, calendar year, quarter or month, so a \
                 published template cannot run for it (give a named period such as \
                 2025-04-01..2026-03-31, or use a shaped query)"
            )
        })
    }

    /// How the catalogue names it, for headings: `2025/26`, `2024/25`, or the dates.
    pub fn describe(&self, period: &ReportPeriod) -> String {
        let resolved = self.resolve(period);
        resolved.label().unwrap_or_else(|| resolved.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> ReportPeriod {
        ReportPeriod::parse(text).expect("period")
    }

    #[test]
    fn a_financial_year_is_named_and_steps_back_by_years() {
        let p = period("2025-04-01..2026-03-31");
        assert_eq!(p.kind(), Some(PeriodKind::FinancialYear));
        assert_eq!(p.label().as_deref(), Some("2025/26"));
        assert_eq!(p.back(1), period("2024-04-01..2025-03-31"));
        assert_eq!(p.back(2).label().as_deref(), Some("2023/24"));
        assert_eq!(PeriodRef::Pooled(3).resolve(&p), period("2023-04-01..2026-03-31"));
        assert_eq!(PeriodRef::LookbackMonths(24).resolve(&p), period("2024-04-01..2026-03-31"));
    }

    #[test]
    fn quarters_months_and_years_are_named_too() {
        assert_eq!(period("2025-07-01..2025-09-30").label().as_deref(), Some("2025-Q3"));
        assert_eq!(period("2025-07-01..2025-07-31").label().as_deref(), Some("2025-07"));
        assert_eq!(period("2025-01-01..2025-12-31").label().as_deref(), Some("2025"));
        assert_eq!(period("2025-01-01..2025-03-31").back(1), period("2024-10-01..2024-12-31"));
        assert_eq!(period("2025-03-01..2025-03-31").back(1), period("2025-02-01..2025-02-28"));
    }

    #[test]
    fn an_unnamed_period_steps_back_by_its_length_and_refuses_templates() {
        let p = period("2025-04-10..2025-04-19");
        assert_eq!(p.kind(), None);
        assert_eq!(p.back(1), period("2025-03-31..2025-04-09"));
        let problem = PeriodRef::Current.template_label(&p).expect_err("no template");
        assert!(problem.contains("not a financial year"), "{problem}");
    }

    #[test]
    fn period_refs_read_as_documented_and_refuse_the_rest() {
        assert_eq!(PeriodRef::parse("current"), Ok(PeriodRef::Current));
        assert_eq!(PeriodRef::parse("previous"), Ok(PeriodRef::Previous(1)));
        assert_eq!(PeriodRef::parse("previous:2"), Ok(PeriodRef::Previous(2)));
        assert_eq!(PeriodRef::parse("pooled:3"), Ok(PeriodRef::Pooled(3)));
        assert_eq!(PeriodRef::parse("lookback:24m"), Ok(PeriodRef::LookbackMonths(24)));
        assert!(matches!(PeriodRef::parse("2024-01-01..2024-12-31"), Ok(PeriodRef::Fixed(_))));
        for bad in ["last", "pooled:0", "pooled:x", "lookback:24", "previous:99", "2025..2026"] {
            assert!(PeriodRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
