//! Day numbers for calendar dates, so that window arithmetic (N days, weeks or months before an
//! index date) is integer arithmetic and crosses month and year ends without special cases.

use fedlink_proto::civil::{civil_from_days, days_from_civil};

use crate::normalise::date::Date;

/// Days since 1970-01-01 in the proleptic Gregorian calendar.
pub(crate) fn day_number(date: Date) -> i64 {
    days_from_civil(i64::from(date.year()), i64::from(date.month()), i64::from(date.day()))
}

/// The date with this day number, or `None` outside the years 1–9999 that [`Date`] covers.
pub(crate) fn date_of_day_number(days: i64) -> Option<Date> {
    // Beyond any year `Date` covers; the bound keeps the arithmetic far from overflow.
    if days.unsigned_abs() > 4_000_000 {
        return None;
    }
    let (year, month, day) = civil_from_days(days);
    Date::from_ymd(u16::try_from(year).ok()?, u8::try_from(month).ok()?, u8::try_from(day).ok()?)
        .ok()
}

/// Day of the week, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
pub(crate) fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn known_day_numbers() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2000, 3, 1)), 11_017);
        assert_eq!(day_number(date(2024, 2, 29)), 19_782);
        assert_eq!(day_number(date(1969, 12, 31)), -1);
    }

    #[test]
    fn round_trip_across_the_whole_range() {
        let first = day_number(date(1, 1, 1));
        let last = day_number(date(9999, 12, 31));
        for days in (first..=last).step_by(97).chain([first, last]) {
            let d = date_of_day_number(days).unwrap();
            assert_eq!(day_number(d), days, "{d}");
        }
        assert_eq!(date_of_day_number(first - 1), None);
        assert_eq!(date_of_day_number(last + 1), None);
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(day_number(date(1970, 1, 1))), 3); // Thursday
        assert_eq!(weekday(day_number(date(2025, 6, 2))), 0); // Monday
        assert_eq!(weekday(day_number(date(2025, 6, 8))), 6); // Sunday
        assert_eq!(weekday(day_number(date(1969, 12, 29))), 0); // Monday before day 0
    }
}
