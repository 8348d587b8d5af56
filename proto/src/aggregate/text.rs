//! The short text forms of aggregate-query terms, shared by the command line, query files and
//! node policies (templates), so a query reads the same wherever it is written:
//!
//! - filters: `COLUMN=VALUE`, `COLUMN=A|B|C` (one of), `COLUMN=MIN..MAX` (numeric range, when
//!   both ends are numbers);
//! - groupings: a time bucket (`day`, `week`, `month`, `quarter`, `financial_year`,
//!   `day_of_week`, `hour_band`), `age_band` or `age_band:WIDTH`, a geography level (`lsoa`,
//!   `ward`, `local_authority`), or else a schema column; `column:NAME` forces a column whose
//!   name is one of those words;
//! - metrics: `rows`, `distinct_subjects`, `sum:COLUMN`;
//! - event-date periods: `FROM..TO` (ISO dates, inclusive);
//! - template periods: `2025/26` (financial year), `2025-Q3`, `2025-07`, `2025`.

use super::{AgeBands, Filter, GeographyLevel, GroupBy, IsoDate, Metric, TimeBucket};

/// Why a term cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{term:?}: {problem}")]
pub struct TermError {
    /// The term as written.
    pub term: String,
    /// What is wrong, and what was expected.
    pub problem: String,
}

fn err(term: &str, problem: impl Into<String>) -> TermError {
    TermError { term: term.to_string(), problem: problem.into() }
}

/// Reads a filter.
pub fn parse_filter(term: &str) -> Result<Filter, TermError> {
    let Some((column, value)) = term.split_once('=') else {
        return Err(err(term, "a filter is COLUMN=VALUE, COLUMN=A|B|C or COLUMN=MIN..MAX"));
    };
    let column = column.trim();
    if column.is_empty() {
        return Err(err(term, "the filter names no column"));
    }
    let column = column.to_string();
    if let Some((lo, hi)) = value.split_once("..")
        && let (Ok(min), Ok(max)) = (lo.trim().parse::<f64>(), hi.trim().parse::<f64>())
    {
        if !min.is_finite() || !max.is_finite() || min > max {
            return Err(err(term, "a numeric range needs finite MIN <= MAX"));
        }
        return Ok(Filter::NumberRange { column, min, max });
    }
    if value.contains('|') {
        let values: Vec<String> = value.split('|').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(err(term, "a set of values has an empty member"));
        }
        return Ok(Filter::In { column, values });
    }
    Ok(Filter::Equals { column, value: value.trim().to_string() })
}

/// Reads a grouping.
pub fn parse_group(term: &str) -> Result<GroupBy, TermError> {
    let term = term.trim();
    if let Some(column) = term.strip_prefix("column:") {
        if column.is_empty() {
            return Err(err(term, "column: needs a column name"));
        }
        return Ok(GroupBy::Column(column.to_string()));
    }
    if let Some(bucket) = TimeBucket::from_name(term) {
        return Ok(GroupBy::Time(bucket));
    }
    if let Some(level) = GeographyLevel::from_name(term) {
        return Ok(GroupBy::Geography(level));
    }
    if term == "age_band" {
        return Ok(GroupBy::Age(AgeBands::Standard));
    }
    if let Some(width) = term.strip_prefix("age_band:") {
        return match width.parse::<u8>() {
            Ok(w) if (1..=50).contains(&w) => Ok(GroupBy::Age(AgeBands::Width(w))),
            _ => Err(err(term, "an age band width is a whole number of years from 1 to 50")),
        };
    }
    if term.is_empty() {
        return Err(err(term, "an empty grouping"));
    }
    Ok(GroupBy::Column(term.to_string()))
}

/// Reads a comma-separated list of groupings.
pub fn parse_groups(list: &str) -> Result<Vec<GroupBy>, TermError> {
    list.split(',').filter(|t| !t.trim().is_empty()).map(parse_group).collect()
}

/// Writes a grouping back in its text form.
pub fn group_text(group: &GroupBy) -> String {
    match group {
        GroupBy::Column(c)
            if TimeBucket::from_name(c).is_some()
                || GeographyLevel::from_name(c).is_some()
                || c.starts_with("age_band") =>
        {
            format!("column:{c}")
        }
        GroupBy::Column(c) => c.clone(),
        GroupBy::Time(t) => t.name().to_string(),
        GroupBy::Geography(l) => l.name().to_string(),
        GroupBy::Age(AgeBands::Standard) => "age_band".to_string(),
        GroupBy::Age(AgeBands::Width(w)) => format!("age_band:{w}"),
    }
}

/// Reads a metric.
pub fn parse_metric(term: &str) -> Result<Metric, TermError> {
    match term.trim() {
        "rows" => Ok(Metric::Rows),
        "distinct_subjects" => Ok(Metric::DistinctSubjects),
        other => match other.strip_prefix("sum:") {
            Some(column) if !column.is_empty() => Ok(Metric::Sum { column: column.to_string() }),
            _ => Err(err(term, "a metric is rows, distinct_subjects or sum:COLUMN")),
        },
    }
}

/// Writes a metric back in its text form.
pub fn metric_text(metric: &Metric) -> String {
    match metric {
        Metric::Rows => "rows".to_string(),
        Metric::DistinctSubjects => "distinct_subjects".to_string(),
        Metric::Sum { column } => format!("sum:{column}"),
    }
}

/// Reads an event-date period `FROM..TO`.
pub fn parse_period(term: &str) -> Result<(IsoDate, IsoDate), TermError> {
    let Some((from, to)) = term.split_once("..") else {
        return Err(err(term, "a period is FROM..TO, e.g. 2025-04-01..2026-03-31"));
    };
    let date = |d: &str| {
        IsoDate::parse(d.trim()).ok_or_else(|| err(term, format!("{d:?} is not a YYYY-MM-DD date")))
    };
    let (from, to) = (date(from)?, date(to)?);
    if from > to {
        return Err(err(term, "the period ends before it starts"));
    }
    Ok((from, to))
}

/// The kinds of period a published template is run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// A calendar month, `2025-07`.
    Month,
    /// A calendar quarter, `2025-Q3`.
    Quarter,
    /// A financial year (1 April to 31 March), `2025/26`.
    FinancialYear,
    /// A calendar year, `2025`.
    Year,
}

impl PeriodKind {
    /// How a label of this kind looks, for messages.
    pub fn example(self) -> &'static str {
        match self {
            PeriodKind::Month => "a month like 2025-07",
            PeriodKind::Quarter => "a quarter like 2025-Q3",
            PeriodKind::FinancialYear => "a financial year like 2025/26",
            PeriodKind::Year => "a year like 2025",
        }
    }

    /// The label of the period of this kind that holds `date` (the inverse of [`Self::range`]).
    pub fn label(self, date: IsoDate) -> String {
        let (y, m) = (date.year(), date.month());
        match self {
            PeriodKind::Month => format!("{y:04}-{m:02}"),
            PeriodKind::Quarter => format!("{y:04}-Q{}", m.div_ceil(3)),
            PeriodKind::FinancialYear => {
                let start = if m >= 4 { y } else { y - 1 };
                format!("{start:04}/{:02}", (start + 1) % 100)
            }
            PeriodKind::Year => format!("{y:04}"),
        }
    }

    /// The first and last day of the period `label`, if it is a label of this kind.
    pub fn range(self, label: &str) -> Option<(IsoDate, IsoDate)> {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty();
        let year = |s: &str| -> Option<u16> {
            if s.len() == 4 && digits(s) { s.parse().ok() } else { None }
        };
        let month_end = |y: u16, m: u8| (28..=31).rev().find_map(|d| IsoDate::from_ymd(y, m, d));
        match self {
            PeriodKind::Year => {
                let y = year(label)?;
                Some((IsoDate::from_ymd(y, 1, 1)?, IsoDate::from_ymd(y, 12, 31)?))
            }
            PeriodKind::Month => {
                let (y, m) = label.split_once('-')?;
                let (y, m) = (
                    year(y)?,
                    if m.len() == 2 && digits(m) { m.parse().ok()? } else { return None },
                );
                Some((IsoDate::from_ymd(y, m, 1)?, month_end(y, m)?))
            }
            PeriodKind::Quarter => {
                let (y, q) = label.split_once("-Q")?;
                let (y, q): (u16, u8) = (year(y)?, q.parse().ok().filter(|q| (1..=4).contains(q))?);
                let first = (q - 1) * 3 + 1;
                Some((IsoDate::from_ymd(y, first, 1)?, month_end(y, first + 2)?))
            }
            PeriodKind::FinancialYear => {
                let (y, next) = label.split_once('/')?;
                let y = year(y)?;
                if next.len() != 2 || !digits(next) || next.parse::<u16>().ok()? != (y + 1) % 100 {
                    return None;
                }
                Some((IsoDate::from_ymd(y, 4, 1)?, IsoDate::from_ymd(y + 1, 3, 31)?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_as_documented() {
        assert_eq!(
            parse_filter("Sex=F").expect("eq"),
            Filter::Equals { column: "Sex".into(), value: "F".into() }
        );
        assert_eq!(
            parse_filter("intent=a|b").expect("in"),
            Filter::In { column: "intent".into(), values: vec!["a".into(), "b".into()] }
        );
        assert_eq!(
            parse_filter("age=18..24").expect("range"),
            Filter::NumberRange { column: "age".into(), min: 18.0, max: 24.0 }
        );
        // A value with ".." that is not numeric stays an equality.
        assert!(matches!(parse_filter("code=a..b"), Ok(Filter::Equals { .. })));
        for bad in ["novalue", "=x", "age=9..1", "x=a||b"] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn groups_and_metrics_round_trip() {
        for text in ["month", "ward", "age_band", "age_band:10", "column:month", "Sex"] {
            let g = parse_group(text).expect(text);
            assert_eq!(group_text(&g), text);
        }
        assert!(parse_group("age_band:0").is_err());
        for text in ["rows", "distinct_subjects", "sum:Age"] {
            assert_eq!(metric_text(&parse_metric(text).expect(text)), text);
        }
        assert!(parse_metric("sum:").is_err());
        assert!(parse_metric("max").is_err());
    }

    #[test]
    fn periods() {
        let (from, to) = parse_period("2025-04-01..2026-03-31").expect("period");
        assert_eq!((from.to_string(), to.to_string()), ("2025-04-01".into(), "2026-03-31".into()));
        assert!(parse_period("2026-01-01..2025-01-01").is_err());
        let fy = PeriodKind::FinancialYear.range("2025/26").expect("fy");
        assert_eq!(fy.1.to_string(), "2026-03-31");
        assert!(PeriodKind::FinancialYear.range("2025/27").is_none());
        assert_eq!(PeriodKind::Quarter.range("2024-Q1").expect("q").1.to_string(), "2024-03-31");
        assert_eq!(PeriodKind::Month.range("2024-02").expect("m").1.to_string(), "2024-02-29");
        assert!(PeriodKind::Month.range("2024-13").is_none());
        assert!(PeriodKind::Year.range("24").is_none());
        for kind in
            [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::FinancialYear, PeriodKind::Year]
        {
            for day in [IsoDate::from_ymd(2025, 3, 31), IsoDate::from_ymd(2025, 4, 1)] {
                let day = day.expect("date");
                let (from, to) = kind.range(&kind.label(day)).expect("round trip");
                assert!(from <= day && day <= to, "{kind:?} {day}");
            }
        }
    }
}
