//! Time as the audit report shows it: UTC dates and minutes from the log's millisecond
//! timestamps, the `--since`/`--until` dates, and the buckets the charts count in — days, ISO
//! weeks or months, whichever keeps a span to a readable number of points.

use fedlink_proto::civil::{civil_from_days, days_from_civil};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The UTC calendar day of `ms` (days since 1970-01-01).
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `2025-04-07` for a day number.
fn date_text(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2025-04-07` (UTC) for a timestamp in milliseconds.
pub fn format_date(ms: i64) -> String {
    date_text(day_of(ms))
}

/// `2025-04-07 13:45 UTC` for a timestamp in milliseconds.
pub fn format_time(ms: i64) -> String {
    let minutes = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02} UTC", format_date(ms), minutes / 60, minutes % 60)
}

/// Parses `YYYY-MM-DD` into the millisecond at the start of that UTC day.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let day = days_from_civil(y, m, d);
    // Rejects 2025-02-30 and the like: the day must round-trip.
    (civil_from_days(day) == (y, m, d)).then_some(day * DAY_MS)
}

/// The millisecond just after the end of the UTC day `text` names (`--until` is inclusive).
pub fn parse_date_end(text: &str) -> Option<i64> {
    parse_date(text).map(|start| start + DAY_MS)
}

/// How long each bucket of a time chart is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One UTC day (spans of up to two weeks).
    Day,
    /// One ISO week, Monday to Sunday (spans of up to half a year).
    Week,
    /// One calendar month (longer spans).
    Month,
}

impl Granularity {
    /// The bucket length that keeps `first_ms..=last_ms` to at most a few dozen buckets.
    pub fn for_span(first_ms: i64, last_ms: i64) -> Self {
        let days = day_of(last_ms) - day_of(first_ms) + 1;
        if days <= 14 {
            Self::Day
        } else if days <= 183 {
            Self::Week
        } else {
            Self::Month
        }
    }

    /// "day", "week", "month", for captions.
    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the bucket holding `day`.
    fn bucket_start(self, day: i64) -> i64 {
        match self {
            Self::Day => day,
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days before it.
            Self::Week => day - (day + 3).rem_euclid(7),
            Self::Month => {
                let (y, m, _) = civil_from_days(day);
                days_from_civil(y, m, 1)
            }
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    fn next_start(self, start: i64) -> i64 {
        match self {
            Self::Day => start + 1,
            Self::Week => start + 7,
            Self::Month => {
                let (y, m, _) = civil_from_days(start);
                if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) }
            }
        }
    }

    /// The label of the bucket starting on `start`.
    fn label(self, start: i64) -> String {
        match self {
            Self::Day => date_text(start),
            Self::Week => format!("w/c {}", date_text(start)),
            Self::Month => {
                let (y, m, _) = civil_from_days(start);
                format!("{y:04}-{m:02}")
            }
        }
    }
}

/// Consecutive time buckets covering a span, each with its label; entries are placed by
/// [`Buckets::index_of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    /// How long each bucket is.
    pub granularity: Granularity,
    /// The first day of each bucket, in order.
    starts: Vec<i64>,
}

impl Buckets {
    /// Buckets covering `first_ms..=last_ms`, sized for the span.
    pub fn covering(first_ms: i64, last_ms: i64) -> Self {
        let granularity = Granularity::for_span(first_ms, last_ms);
        let last_day = day_of(last_ms.max(first_ms));
        let mut starts = vec![granularity.bucket_start(day_of(first_ms))];
        while let Some(&start) = starts.last() {
            let next = granularity.next_start(start);
            if next > last_day {
                break;
            }
            starts.push(next);
        }
        Self { granularity, starts }
    }

    /// The number of buckets.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are no buckets (never, for a span).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Every bucket's label, in order.
    pub fn labels(&self) -> Vec<String> {
        self.starts.iter().map(|s| self.granularity.label(*s)).collect()
    }

    /// The bucket holding `ms`, if the buckets cover it.
    pub fn index_of(&self, ms: i64) -> Option<usize> {
        let start = self.granularity.bucket_start(day_of(ms));
        self.starts.binary_search(&start).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APRIL_7_2025: i64 = 1_744_027_200_000; // 2025-04-07 12:00 UTC, a Monday

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(format_time(APRIL_7_2025 + 90 * 60_000), "2025-04-07 13:30 UTC");
        assert_eq!(format_date(0), "1970-01-01");
    }

    #[test]
    fn dates_parse_and_reject_impossible_days() {
        assert_eq!(parse_date("2025-04-07"), Some(APRIL_7_2025 - 12 * 3_600_000));
        assert_eq!(parse_date_end("2025-04-07"), Some(APRIL_7_2025 + 12 * 3_600_000));
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("7/4/2025"), None);
    }

    #[test]
    fn short_spans_count_by_day() {
        let b = Buckets::covering(APRIL_7_2025, APRIL_7_2025 + 2 * DAY_MS);
        assert_eq!(b.granularity, Granularity::Day);
        assert_eq!(b.labels(), ["2025-04-07", "2025-04-08", "2025-04-09"]);
        assert_eq!(b.index_of(APRIL_7_2025 + DAY_MS), Some(1));
        assert_eq!(b.index_of(APRIL_7_2025 + 5 * DAY_MS), None);
    }

    #[test]
    fn medium_spans_count_by_iso_week_from_monday() {
        // Wednesday 2025-04-09 to Monday 2025-05-19.
        let b = Buckets::covering(APRIL_7_2025 + 2 * DAY_MS, APRIL_7_2025 + 42 * DAY_MS);
        assert_eq!(b.granularity, Granularity::Week);
        assert_eq!(b.labels().first().map(String::as_str), Some("w/c 2025-04-07"));
        assert_eq!(b.labels().last().map(String::as_str), Some("w/c 2025-05-19"));
        assert_eq!(b.len(), 7);
        assert_eq!(b.index_of(APRIL_7_2025 + 6 * DAY_MS), Some(0), "Sunday is in Monday's week");
    }

    #[test]
    fn long_spans_count_by_month_across_a_year_end() {
        let b = Buckets::covering(APRIL_7_2025, APRIL_7_2025 + 300 * DAY_MS);
        assert_eq!(b.granularity, Granularity::Month);
        let labels = b.labels();
        assert_eq!(labels.first().map(String::as_str), Some("2025-04"));
        assert!(labels.contains(&"2026-01".to_string()), "{labels:?}");
        assert_eq!(labels.last().map(String::as_str), Some("2026-02"));
    }
}
