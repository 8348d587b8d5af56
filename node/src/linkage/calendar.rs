//! Day numbers for calendar dates, so that window arithmetic (N days, weeks or months before an
//! index date) is integer arithmetic and crosses month and year ends without special cases.

use crate::normalise::date::Date;

/// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
/// `days_from_civil`, as `fedlink_proto::aggregate` uses for its periods).
pub(crate) fn day_number(date: Date) -> i64 {
    let (month, day) = (i64::from(date.month()), i64::from(date.day()));
    let year = i64::from(date.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date with this day number, or `None` outside the years 1–9999 that [`Date`] covers.
pub(crate) fn date_of_day_number(days: i64) -> Option<Date> {
    let shifted = days.checked_add(719_468)?;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
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
