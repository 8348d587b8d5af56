//! Dates and date-times in the formats partners' extracts use (ISO, UK day-first, compact,
//! month names), checked against the Gregorian calendar, with system default dates such as
//! 1900-01-01 and the Welsh "unknown" 1811-11-11 flagged as sentinels (domain.md §3.2).
//!
//! Two-digit years are refused: a DOB of 05/03/24 could be 1924 or 2024, and guessing a
//! century silently moves someone by a hundred years. Day-first is assumed for `NN/NN/NNNN`
//! (UK systems); a US-style entry that is also a valid UK date is caught later by the
//! day/month-swap match key, not here.

mod layout;

use std::fmt;

use layout::{Cursor, Shape, date_part, time_part};

/// A calendar date, year 1–9999. Made only by parsing or [`Date::from_ymd`], so always real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Default and "unknown" dates that systems write when the true date is not known. A date
/// field holding one is [`DateField::Sentinel`]: kept for the record, used by no match key.
///
/// 0001-01-01 (.NET `DateTime.MinValue`), 1753-01-01 (SQL Server `datetime` minimum),
/// 1800-01-01, 1811-11-11 (the Welsh data dictionary's unknown DOB), 1899-12-30 and
/// 1899-12-31 (spreadsheet day zero), 1900-01-01 (SQL Server and spreadsheet default),
/// 1901-01-01, 9999-12-31 (open-ended "no date").
const SENTINELS: [(u16, u8, u8); 9] = [
    (1, 1, 1),
    (1753, 1, 1),
    (1800, 1, 1),
    (1811, 11, 11),
    (1899, 12, 30),
    (1899, 12, 31),
    (1900, 1, 1),
    (1901, 1, 1),
    (9999, 12, 31),
];

impl Date {
    /// A date from its parts, or why there is no such date.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Date, DateError> {
        let input = || format!("{year:04}-{month:02}-{day:02}");
        check_ymd(u32::from(year), u32::from(month), u32::from(day), input)
    }

    /// The year, 1–9999.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The date with day and month exchanged, when that is a different valid date
    /// (2024-03-05 ↔ 2024-05-03); `None` when the day is over 12 or equals the month.
    pub fn swapped(self) -> Option<Date> {
        if self.day > 12 || self.day == self.month {
            return None;
        }
        Date::from_ymd(self.year, self.day, self.month).ok()
    }

    /// True for a system default date: 0001-01-01, 1753-01-01, 1800-01-01, 1811-11-11,
    /// 1899-12-30, 1899-12-31, 1900-01-01, 1901-01-01 or 9999-12-31.
    pub fn is_sentinel(self) -> bool {
        SENTINELS.contains(&(self.year, self.month, self.day))
    }
}

impl fmt::Display for Date {
    /// ISO 8601: `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date and a time of day to the second, without a time zone (partners record local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
}

impl DateTime {
    /// The date.
    pub fn date(self) -> Date {
        self.date
    }

    /// The hour, 0–23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The second, 0–59.
    pub fn second(self) -> u8 {
        self.second
    }
}

impl fmt::Display for DateTime {
    /// ISO 8601: `YYYY-MM-DDTHH:MM:SS`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{:02}:{:02}:{:02}", self.date, self.hour, self.minute, self.second)
    }
}

/// A date field after normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    /// A real date.
    Known(Date),
    /// A system default standing for "unknown" (1900-01-01 …): counts as missing.
    Sentinel(Date),
    /// Empty.
    Missing,
}

impl DateField {
    /// The date if it is known (not a sentinel, not missing).
    pub fn known(self) -> Option<Date> {
        match self {
            DateField::Known(date) => Some(date),
            DateField::Sentinel(_) | DateField::Missing => None,
        }
    }
}

/// Why a value is not a date. The `Display` text is the quarantine reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not in any accepted format.
    #[error(
        "date {input:?} is not in a recognised format \
         (YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, YYYYMMDD, DD-Mon-YYYY, optionally with a time)"
    )]
    Unrecognised {
        /// The value as written (trimmed).
        input: String,
    },
    /// A two-digit year: the century would be a guess.
    #[error("date {input:?} has a two-digit year; refusing to guess the century")]
    TwoDigitYear {
        /// The value as written (trimmed).
        input: String,
    },
    /// Month outside 1–12.
    #[error("date {input:?} has month {month}, which does not exist")]
    NoSuchMonth {
        /// The value as written (trimmed).
        input: String,
        /// The month as read.
        month: u32,
    },
    /// Day outside the month (31 April, 29 February 2023), or year 0.
    #[error("date {input:?} does not exist ({reason})")]
    NoSuchDay {
        /// The value as written (trimmed).
        input: String,
        /// Which rule it breaks, e.g. "February 2023 has 28 days".
        reason: String,
    },
    /// A time of day that does not exist (25:00, 12:61).
    #[error("time of day in {input:?} does not exist")]
    NoSuchTime {
        /// The value as written (trimmed).
        input: String,
    },
}

/// Parses a date; a date-time's time part is checked and dropped. Empty is `Missing`.
///
/// Accepted: `2024-03-05`, `2024/03/05`, `05/03/2024`, `5/3/2024`, `05-03-2024`,
/// `05.03.2024`, `20240305`, `05-Mar-2024`, `5 Mar 2024`, `5th March 2024`, `05MAR2024`,
/// each optionally followed by `T` or spaces and a time `14:30`, `14:30:00`, `14:30:00.000`,
/// with an optional `Z`.
pub fn parse_date(raw: &str) -> Result<DateField, DateError> {
    Ok(match parse_parts(raw)? {
        None => DateField::Missing,
        Some((date, _)) if date.is_sentinel() => DateField::Sentinel(date),
        Some((date, _)) => DateField::Known(date),
    })
}

/// Parses a date-time in the formats of [`parse_date`]; a date alone means midnight. Empty is
/// `Ok(None)`. Sentinel dates are returned as they are: check `date().is_sentinel()`.
pub fn parse_datetime(raw: &str) -> Result<Option<DateTime>, DateError> {
    Ok(parse_parts(raw)?.map(|(date, time)| {
        let (hour, minute, second) = time.unwrap_or((0, 0, 0));
        DateTime { date, hour, minute, second }
    }))
}

type Hms = (u8, u8, u8);

fn parse_parts(raw: &str) -> Result<Option<(Date, Option<Hms>)>, DateError> {
    let input = raw.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let owned = || input.to_owned();
    let mut cursor = Cursor { bytes: input.as_bytes(), pos: 0 };
    let (year, month, day) = match date_part(&mut cursor) {
        Ok(ymd) => ymd,
        Err(Shape::TwoDigitYear) => return Err(DateError::TwoDigitYear { input: owned() }),
        Err(Shape::Unrecognised) => return Err(DateError::Unrecognised { input: owned() }),
    };
    let time = match time_part(&mut cursor) {
        Ok(time) => time,
        Err(Shape::TwoDigitYear | Shape::Unrecognised) => {
            return Err(DateError::Unrecognised { input: owned() });
        }
    };
    let date = check_ymd(year, month, day, owned)?;
    match time {
        Some((h, m, s)) if h > 23 || m > 59 || s > 59 => {
            Err(DateError::NoSuchTime { input: owned() })
        }
        Some((h, m, s)) => Ok(Some((date, Some((h as u8, m as u8, s as u8))))),
        None => Ok(Some((date, None))),
    }
}

fn check_ymd(
    year: u32,
    month: u32,
    day: u32,
    input: impl Fn() -> String,
) -> Result<Date, DateError> {
    if !(1..=12).contains(&month) {
        return Err(DateError::NoSuchMonth { input: input(), month });
    }
    if !(1..=9999).contains(&year) {
        return Err(DateError::NoSuchDay { input: input(), reason: "there is no year 0".into() });
    }
    let last = days_in_month(year, month);
    if !(1..=last).contains(&day) {
        let name = MONTHS.get(month as usize - 1).copied().unwrap_or_default();
        let (first, rest) = name.split_at(1);
        let reason = format!("{first}{} {year} has {last} days", rest.to_ascii_lowercase());
        return Err(DateError::NoSuchDay { input: input(), reason });
    }
    // All three fit: year ≤ 9999, month ≤ 12, day ≤ 31.
    Ok(Date { year: year as u16, month: month as u8, day: day as u8 })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn known(raw: &str) -> String {
        match parse_date(raw) {
            Ok(DateField::Known(date)) => date.to_string(),
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn accepted_formats() {
        for raw in [
            "2024-03-05",
            "2024/03/05",
            "2024-3-5",
            "05/03/2024",
            "5/3/2024",
            "05-03-2024",
            "05.03.2024",
            "20240305",
            "05-Mar-2024",
            "5 Mar 2024",
            "5 march 2024",
            "05MAR2024",
            "5th March 2024",
            "5 Sept 2024",
            "05 Mar, 2024",
            " 2024-03-05T14:30:00 ",
            "2024-03-05 14:30",
            "05/03/2024 14:30",
            "2024-03-05T14:30:00.000Z",
            "5 / 3 / 2024",
        ] {
            let want = if raw.contains("Sept") { "2024-09-05" } else { "2024-03-05" };
            assert_eq!(known(raw), want, "{raw:?}");
        }
        assert_eq!(parse_date("  "), Ok(DateField::Missing));
    }

    #[test]
    fn impossible_dates_say_why() {
        let reason = |raw: &str| parse_date(raw).unwrap_err().to_string();
        assert_eq!(
            reason("2023-02-29"),
            "date \"2023-02-29\" does not exist (February 2023 has 28 days)"
        );
        assert_eq!(
            reason("31/04/2020"),
            "date \"31/04/2020\" does not exist (April 2020 has 30 days)"
        );
        assert_eq!(reason("2020-13-01"), "date \"2020-13-01\" has month 13, which does not exist");
        assert!(matches!(parse_date("05/03/24"), Err(DateError::TwoDigitYear { .. })));
        assert!(matches!(parse_date("0000-01-01"), Err(DateError::NoSuchDay { .. })));
        assert!(matches!(parse_date("2024-03-05 25:00"), Err(DateError::NoSuchTime { .. })));
        assert_eq!(known("2024-02-29"), "2024-02-29");
        assert_eq!(known("2000-02-29"), "2000-02-29");
        assert!(parse_date("1900-02-29").is_err());
        for bad in ["2024-03", "05/03-2024", "2024-03-05x", "March 5", "yesterday", "5 Ma 2024"] {
            assert!(matches!(parse_date(bad), Err(DateError::Unrecognised { .. })), "{bad}");
        }
    }

    #[test]
    fn sentinels_are_flagged() {
        for raw in
            ["1811-11-11", "11/11/1811", "1900-01-01", "01/01/1901", "9999-12-31", "1800-01-01"]
        {
            assert!(matches!(parse_date(raw), Ok(DateField::Sentinel(_))), "{raw}");
            assert_eq!(parse_date(raw).unwrap().known(), None);
        }
        assert!(matches!(parse_date("1970-01-01"), Ok(DateField::Known(_))));
    }

    #[test]
    fn swapping_day_and_month() {
        let date = Date::from_ymd(1980, 1, 2).unwrap();
        assert_eq!(date.swapped(), Some(Date::from_ymd(1980, 2, 1).unwrap()));
        assert_eq!(Date::from_ymd(1980, 1, 13).unwrap().swapped(), None);
        assert_eq!(Date::from_ymd(1980, 3, 3).unwrap().swapped(), None);
    }

    #[test]
    fn datetimes() {
        let at = |raw| parse_datetime(raw).unwrap().unwrap().to_string();
        assert_eq!(at("2024-03-05T14:30:00"), "2024-03-05T14:30:00");
        assert_eq!(at("2024-03-05 14:30"), "2024-03-05T14:30:00");
        assert_eq!(at("05/03/2024 9:05:07"), "2024-03-05T09:05:07");
        assert_eq!(at("05/03/2024"), "2024-03-05T00:00:00");
        assert_eq!(parse_datetime(""), Ok(None));
        assert!(parse_datetime("2024-03-05 14").is_err());
        assert!(parse_datetime("2024-03-05 14:3").is_err());
        assert!(parse_datetime("2024-03-05T").is_err());
    }
}
