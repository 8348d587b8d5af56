//! Entry times as people read and type them: RFC 3339 in UTC. Entries record milliseconds since
//! the epoch; views show them as `2026-11-27T03:45:12.345Z`, and filters take a date
//! (`2026-11-27`) or a date-time (`2026-11-27T03:45:12Z`, `…+01:00`) as a bound. Pure.

use crate::civil::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;

/// Why a time bound was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not an RFC 3339 date (2026-11-27) or date-time (2026-11-27T03:45:12Z): {problem}"
)]
pub struct TimeError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// Which end of a range a bound closes: a bare date means the start of that day for a lower
/// bound and its last millisecond for an upper one, so `--until 2026-11-27` takes in the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundEnd {
    /// `--since`: inclusive start.
    Start,
    /// `--until`: inclusive end.
    End,
}

/// `ms` since the epoch as RFC 3339 UTC with milliseconds: `2026-11-27T03:45:12.345Z`.
pub fn format_utc_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    let (s, milli) = (in_day / 1000, in_day % 1000);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Parses a bound: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` (a lower-case `t`/`z`
/// or a space for `T` as RFC 3339 allows), into milliseconds since the epoch.
pub fn parse_utc_bound(text: &str, end: BoundEnd) -> Result<i64, TimeError> {
    let fail = |problem| TimeError { text: text.to_string(), problem };
    let date = text.get(..10).ok_or(fail("too short"))?;
    let day = parse_date(date).ok_or(fail("the date is not YYYY-MM-DD"))?;
    let rest = &text[10..];
    if rest.is_empty() {
        return Ok(match end {
            BoundEnd::Start => day * DAY_MS,
            BoundEnd::End => (day + 1) * DAY_MS - 1,
        });
    }
    let time = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or(fail("the date must be followed by T and a time"))?;
    let (clock, offset_ms) = split_offset(time).ok_or(fail("the time needs Z or ±HH:MM"))?;
    let clock_ms = parse_clock(clock).ok_or(fail("the time is not HH:MM:SS[.fff]"))?;
    Ok(day * DAY_MS + clock_ms - offset_ms)
}

fn digits(text: &str) -> Option<i64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&text[..4])?, digits(&text[5..7])?, digits(&text[8..])?);
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-30 and the like: the day must round-trip.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let at = time.len().checked_sub(6)?;
    let (clock, offset) = time.split_at_checked(at)?;
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let (h, m) = (digits(h)?, digits(m)?);
    (h < 24 && m < 60 && h.to_string().len() <= 2).then_some((clock, sign * (h * 60 + m) * 60_000))
}

fn parse_clock(clock: &str) -> Option<i64> {
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s) = (digits(h)?, digits(m)?, digits(s)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let milli = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Milliseconds: the first three digits, padded; finer digits are dropped.
            let first: String = f.chars().chain("000".chars()).take(3).collect();
            digits(&first)?
        }
        Some(_) => return None,
    };
    Some(((h * 60 + m) * 60 + s) * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_bounds() {
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_ms(1_764_215_112_345), "2025-11-27T03:45:12.345Z");
        let day = 1_764_201_600_000; // 2025-11-27T00:00:00Z
        assert_eq!(parse_utc_bound("2025-11-27", BoundEnd::Start), Ok(day));
        assert_eq!(parse_utc_bound("2025-11-27", BoundEnd::End), Ok(day + DAY_MS - 1));
        assert_eq!(
            parse_utc_bound("2025-11-27T03:45:12.345Z", BoundEnd::Start),
            Ok(1_764_215_112_345)
        );
        assert_eq!(
            parse_utc_bound("2025-11-27T04:45:12+01:00", BoundEnd::End),
            Ok(1_764_215_112_000)
        );
        for bad in ["2025-02-30", "2025-11-27T25:00:00Z", "2025-11-27T03:45:12", "27/11/2025", ""] {
            assert!(parse_utc_bound(bad, BoundEnd::Start).is_err(), "{bad}");
        }
    }
}
