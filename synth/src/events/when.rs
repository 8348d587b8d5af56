//! When events happen: days with weekday and seasonal profiles, times of day with hourly
//! profiles (violence peaks at weekend nights, NVSN; DA in evenings with a Christmas/New Year
//! rise, VKPP; services in office hours).

use crate::date::{Date, DateTime, Period};
use crate::rng::{Rng, chance, index, weighted};

/// A daily and hourly pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Any time, uniformly.
    Any,
    /// Daytime (08–20), weekdays busier (services, schools).
    Day,
    /// Evenings, with weekend and festive rises (domestic abuse).
    Evening,
    /// Nights, peaking 22:00–03:00 on Friday and Saturday (violence).
    Night,
}

impl Profile {
    fn weekday_weights(self) -> [f64; 7] {
        match self {
            Profile::Any => [1.0; 7],
            Profile::Day => [1.1, 1.1, 1.1, 1.1, 1.0, 0.5, 0.4],
            Profile::Evening => [0.9, 0.85, 0.85, 0.9, 1.1, 1.3, 1.3],
            Profile::Night => [0.75, 0.7, 0.75, 0.85, 1.15, 1.6, 1.45],
        }
    }

    fn hour_weights(self) -> [f64; 24] {
        match self {
            Profile::Any => [1.0; 24],
            Profile::Day => [
                0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.3, 1.4, 1.4, 1.3, 1.3, 1.3, 1.3,
                1.2, 1.1, 0.9, 0.7, 0.5, 0.4, 0.3, 0.2,
            ],
            Profile::Evening => [
                0.9, 0.7, 0.5, 0.35, 0.25, 0.2, 0.25, 0.35, 0.45, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8,
                0.9, 1.0, 1.2, 1.4, 1.5, 1.6, 1.6, 1.4, 1.2,
            ],
            Profile::Night => [
                1.6, 1.5, 1.3, 1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.7, 0.7, 0.8,
                0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 1.8,
            ],
        }
    }
}

/// A day in financial year `year` (0-based) following the profile's weekday pattern, with the
/// festive fortnight raised for `Evening`.
pub fn day(rng: &mut Rng, period: Period, year: u32, profile: Profile) -> Date {
    let start = period.year_start(year);
    let days = period.year_days(year) as usize;
    let weights = profile.weekday_weights();
    let max = weights.iter().copied().fold(0.0, f64::max) * 1.3;
    for _ in 0..50 {
        let d = start.add_days(index(rng, days) as i32);
        let mut w = weights[d.weekday() as usize];
        if profile == Profile::Evening {
            let (_, m, dd) = d.ymd();
            if (m == 12 && dd >= 20) || (m == 1 && dd <= 3) {
                w *= 1.3;
            }
        }
        if chance(rng, w / max) {
            return d;
        }
    }
    start.add_days(index(rng, days) as i32)
}

/// A day anywhere in the period with the profile.
pub fn any_day(rng: &mut Rng, period: Period, profile: Profile) -> Date {
    let year = index(rng, period.years as usize) as u32;
    day(rng, period, year, profile)
}

/// A minute of the day following the profile.
pub fn minute(rng: &mut Rng, profile: Profile) -> u32 {
    let w = profile.hour_weights();
    let table: Vec<(u32, f64)> = (0..24u32).map(|h| (h, w[h as usize])).collect();
    let h = weighted(rng, &table);
    h * 60 + index(rng, 60) as u32
}

/// A moment in financial year `year` following the profile.
pub fn at(rng: &mut Rng, period: Period, year: u32, profile: Profile) -> DateTime {
    let d = day(rng, period, year, profile);
    DateTime::new(d, minute(rng, profile))
}

/// A school day (September–July, Monday–Friday) in financial year `year`.
pub fn school_day(rng: &mut Rng, period: Period, year: u32) -> Date {
    let start = period.year_start(year);
    let days = period.year_days(year) as usize;
    for _ in 0..100 {
        let d = start.add_days(index(rng, days) as i32);
        let (_, m, _) = d.ymd();
        if d.weekday() < 5 && m != 8 {
            return d;
        }
    }
    start
}
