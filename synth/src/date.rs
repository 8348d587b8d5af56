//! Calendar dates and minute-resolution date-times, with just the arithmetic the generator needs
//! (no time zones: every time is local clock time, as in the agencies' extracts).

use std::fmt::Write as _;

/// A calendar date, stored as days since 1970-01-01 (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date for a year, month (1–12) and day (1–31). The caller passes a real date; an
    /// impossible one (31 February) rolls over into the next month, like `mktime`.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Date {
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i32::try_from(month).unwrap_or(1);
        let d = i32::try_from(day).unwrap_or(1);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date(era * 146_097 + doe - 719_468)
    }

    /// Year, month (1–12) and day (1–31).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = if m <= 2 { y + 1 } else { y };
        (year, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
    }

    /// Whether a year, month and day name a real date.
    pub fn is_valid(year: i32, month: u32, day: u32) -> bool {
        (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date `n` days later (earlier if negative).
    pub fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// Days from `earlier` to `self`.
    pub fn since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        u32::try_from((self.0 + 3).rem_euclid(7)).unwrap_or(0)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// Age in whole years on `on` of someone born on `self`.
    pub fn age_on(self, on: Date) -> u32 {
        let (by, bm, bd) = self.ymd();
        let (y, m, d) = on.ymd();
        let mut age = y - by;
        if (m, d) < (bm, bd) {
            age -= 1;
        }
        u32::try_from(age.max(0)).unwrap_or(0)
    }

    /// The date on which someone born on `self` turns `years` (29 February → 1 March).
    pub fn plus_years(self, years: i32) -> Date {
        let (y, m, d) = self.ymd();
        if Date::is_valid(y + years, m, d) {
            Date::from_ymd(y + years, m, d)
        } else {
            Date::from_ymd(y + years, 3, 1)
        }
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        let mut s = String::with_capacity(10);
        self.write_iso(&mut s);
        s
    }

    /// Appends `YYYY-MM-DD`.
    pub fn write_iso(self, out: &mut String) {
        let (y, m, d) = self.ymd();
        let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    }

    /// `DD/MM/YYYY`, the UK form many police and council systems export.
    pub fn uk(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{d:02}/{m:02}/{y:04}")
    }
}

/// Days in a month of a year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A date and a minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// Minutes after midnight, 0–1439.
    pub minute: u16,
}

impl DateTime {
    /// A date at a minute of the day (clamped to 23:59).
    pub fn new(date: Date, minute: u32) -> DateTime {
        DateTime { date, minute: u16::try_from(minute.min(1439)).unwrap_or(1439) }
    }

    /// The moment `minutes` later, rolling over midnight.
    pub fn add_minutes(self, minutes: u32) -> DateTime {
        let total = u32::from(self.minute) + minutes;
        let days = i32::try_from(total / 1440).unwrap_or(0);
        DateTime::new(self.date.add_days(days), total % 1440)
    }

    /// `YYYY-MM-DD HH:MM`, the form the node importer reads.
    pub fn iso(self) -> String {
        let mut s = String::with_capacity(16);
        self.date.write_iso(&mut s);
        let _ = write!(s, " {:02}:{:02}", self.minute / 60, self.minute % 60);
        s
    }

    /// `HH:MM`.
    pub fn time(self) -> String {
        format!("{:02}:{:02}", self.minute / 60, self.minute % 60)
    }
}

/// The generated period: whole financial years (1 April – 31 March).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day (a 1 April).
    pub start: Date,
    /// Number of financial years.
    pub years: u32,
}

impl Period {
    /// Financial years starting 1 April of `first_year`.
    pub fn financial_years(first_year: i32, years: u32) -> Period {
        Period { start: Date::from_ymd(first_year, 4, 1), years }
    }

    /// The first day after the period.
    pub fn end(self) -> Date {
        self.year_start(self.years)
    }

    /// Last day of the period.
    pub fn last_day(self) -> Date {
        self.end().add_days(-1)
    }

    /// 1 April of financial year `i` (0-based); `i = years` is the end.
    pub fn year_start(self, i: u32) -> Date {
        let (y, _, _) = self.start.ymd();
        Date::from_ymd(y + i32::try_from(i).unwrap_or(0), 4, 1)
    }

    /// Days in financial year `i`.
    pub fn year_days(self, i: u32) -> i32 {
        self.year_start(i + 1).since(self.year_start(i))
    }

    /// Total days.
    pub fn days(self) -> i32 {
        self.end().since(self.start)
    }

    /// Which financial year a date falls in, if inside the period.
    pub fn year_of(self, d: Date) -> Option<u32> {
        (0..self.years).find(|&i| d >= self.year_start(i) && d < self.year_start(i + 1))
    }

    /// Label of financial year `i`, e.g. `2025-26`.
    pub fn label(self, i: u32) -> String {
        let (y, _, _) = self.year_start(i).ymd();
        format!("{}-{:02}", y, (y + 1) % 100)
    }

    /// The moment, moved back to the last minute of the period if it falls after it (an
    /// extract taken at the end of the period holds nothing later).
    pub fn clamp(self, t: DateTime) -> DateTime {
        let last = DateTime::new(self.last_day(), 1439);
        if t > last { last } else { t }
    }

    /// The date, moved back to the last day of the period if after it.
    pub fn clamp_date(self, d: Date) -> Date {
        d.min(self.last_day())
    }

    /// Whether a date is inside the period.
    pub fn contains(self, d: Date) -> bool {
        d >= self.start && d < self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_weekdays() {
        for (y, m, d) in [(1970, 1, 1), (2024, 2, 29), (1811, 11, 11), (1900, 1, 1), (2026, 3, 31)]
        {
            assert_eq!(Date::from_ymd(y, m, d).ymd(), (y, m, d));
        }
        assert_eq!(Date::from_ymd(1970, 1, 1).days(), 0);
        // 2023-04-01 was a Saturday.
        assert_eq!(Date::from_ymd(2023, 4, 1).weekday(), 5);
        assert_eq!(Date::from_ymd(2000, 3, 1).age_on(Date::from_ymd(2025, 2, 28)), 24);
        assert_eq!(Date::from_ymd(2000, 3, 1).age_on(Date::from_ymd(2025, 3, 1)), 25);
    }

    #[test]
    fn financial_years() {
        let p = Period::financial_years(2023, 3);
        assert_eq!(p.days(), 1096);
        assert_eq!(p.year_days(0), 366);
        assert_eq!(p.label(2), "2025-26");
        assert_eq!(p.year_of(Date::from_ymd(2025, 4, 1)), Some(2));
        assert_eq!(p.year_of(Date::from_ymd(2026, 4, 1)), None);
        assert_eq!(
            DateTime::new(Date::from_ymd(2024, 12, 31), 23 * 60 + 50).add_minutes(20).iso(),
            "2025-01-01 00:10"
        );
    }
}
