//! Time-bucketed keys (DESIGN.md "Time windows", design-review F9): "the partner had an event
//! within N units before the cohort row's index date" becomes plain equality of (key, slot)
//! pairs. The cohort row emits one slot label for every unit of its window; the partner emits
//! the one slot label of its event's unit; a shared key plus an equal slot label then means
//! "same subject, event in the window" — and nothing else needs comparing under blinding.
//!
//! # Units
//!
//! A unit is a calendar day, an ISO week (Monday to Sunday) or a calendar month. Buckets are
//! calendar units, not rolling spans, because a partner's event must fall into exactly one
//! slot whatever the cohort row's index date: the partner does not know the index dates.
//!
//! # Window semantics
//!
//! With index date d, window "N units before", `u(x)` the unit containing x:
//!
//! | granularity | exclude index unit: partner event e matches when | include index unit adds |
//! |---|---|---|
//! | day | d − N ≤ e ≤ d − 1 (1 to N days before) | e = d (the index day) |
//! | week | e lies in one of the N whole weeks before d's week: between wd + 1 and 7N + wd days before d, where wd = 0 (Mon) … 6 (Sun) is d's weekday | all of d's week: up to wd days before d **and up to 6 − wd days after it** |
//! | month | e lies in one of the N whole calendar months before d's month: from the 1st of month(d) − N to the last day of month(d) − 1 | all of d's month: up to day(d) − 1 days before d **and the rest of the month after it** |
//!
//! In units: e matches ⇔ u(d) − N ≤ u(e) ≤ u(d) − 1, or ≤ u(d) when the index unit is
//! included. W, the slots every cohort row emits, is N + 1 with the index unit and N without:
//! fixed per template, whatever the index date, so tuple length never dates a row (F5 handle
//! 3). An event after the index unit never matches.
//!
//! **What the buckets cannot say.** Inside one unit there is no "before": a bucket cannot tell
//! an event earlier on the index day, week or month from one later in it. So
//! - *excluding* the index unit loses same-unit events before d (at month granularity up to
//!   30 days just before the index date), but never counts the index event itself — the ED
//!   attendance for the fatal injury in the death month (domain.md §6.1: "before" must exclude
//!   the index event);
//! - *including* it counts every event in the unit, later ones and the index event included.
//!
//! A month window approximates a span of days: "12 months before, index month excluded" covers
//! events from day(d) days to day(d) − 1 + 365 (or 366) days before d, where "365 days before"
//! would cover 1 to 365. Day granularity is exact but multiplies tuple size by ~30; F9 keeps
//! it to named templates. Which to use is the template's decision, made once in the computing
//! node's catalogue ([`WindowTemplate`]), never by the requester.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::LinkageError;
use super::calendar::{date_of_day_number, day_number, weekday};
use crate::normalise::date::Date;

/// The most slots a window may emit per key type: two years of days and the index day. Longer
/// windows belong at a coarser granularity.
pub const MAX_WINDOW_SLOTS: usize = 731;

/// The unit time is bucketed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl Granularity {
    /// The name used in policies and slot labels: `day`, `week`, `month`.
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// The slot label of the unit holding `date`: what a partner row with this event date
    /// emits.
    pub fn slot_of(self, date: Date) -> Result<SlotLabel, LinkageError> {
        self.label_of_unit(self.unit(date))
            .ok_or(LinkageError::DateOutOfRange { date, granularity: self })
    }

    /// The index of the unit holding `date`; consecutive units have consecutive indices.
    fn unit(self, date: Date) -> i64 {
        match self {
            Granularity::Day => day_number(date),
            // Week 0 starts on Monday 1969-12-29 (day −3).
            Granularity::Week => (day_number(date) + 3).div_euclid(7),
            Granularity::Month => i64::from(date.year()) * 12 + i64::from(date.month()) - 1,
        }
    }

    /// The label of a unit, named by its first day; `None` outside the years 1–9999.
    fn label_of_unit(self, unit: i64) -> Option<SlotLabel> {
        let first_day = match self {
            Granularity::Day => date_of_day_number(unit)?,
            Granularity::Week => {
                let monday = date_of_day_number(unit.checked_mul(7)?.checked_sub(3)?)?;
                debug_assert_eq!(weekday(day_number(monday)), 0);
                monday
            }
            Granularity::Month => {
                let year = u16::try_from(unit.div_euclid(12)).ok()?;
                let month = u8::try_from(unit.rem_euclid(12) + 1).ok()?;
                Date::from_ymd(year, month, 1).ok()?
            }
        };
        Some(SlotLabel(Slot::Unit { granularity: self, first_day }))
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The time part of a slot message: one unit of one granularity, or "untimed" for a linkage
/// without a window (then every tuple has a single slot per key type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotLabel(Slot);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Slot {
    Untimed,
    Unit { granularity: Granularity, first_day: Date },
}

impl SlotLabel {
    /// The label of a linkage with no time window.
    pub const UNTIMED: SlotLabel = SlotLabel(Slot::Untimed);

    /// The granularity, or `None` for [`SlotLabel::UNTIMED`].
    pub fn granularity(self) -> Option<Granularity> {
        match self.0 {
            Slot::Untimed => None,
            Slot::Unit { granularity, .. } => Some(granularity),
        }
    }
}

impl fmt::Display for SlotLabel {
    /// The exact text that goes into a slot message: `untimed`, `day:2025-06-03`,
    /// `week:2025-06-02` (the week's Monday), `month:2025-06`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Slot::Untimed => f.write_str("untimed"),
            Slot::Unit { granularity: Granularity::Month, first_day } => {
                write!(f, "month:{:04}-{:02}", first_day.year(), first_day.month())
            }
            Slot::Unit { granularity, first_day } => write!(f, "{granularity}:{first_day}"),
        }
    }
}

/// A window from the computing node's catalogue (F9: windows and granularity come only from
/// there): "an event within `units_before` units before the index date", optionally counting
/// the index unit too. See the [module docs](self) for exactly what each setting matches.
///
/// Made by [`WindowTemplate::new`] or deserialised from a policy (same checks), so it always
/// emits between 1 and [`MAX_WINDOW_SLOTS`] slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WindowTemplateFields", into = "WindowTemplateFields")]
pub struct WindowTemplate {
    /// The name requests and logs use (e.g. `ed_12m_before`).
    name: String,
    /// The bucket unit.
    granularity: Granularity,
    /// N: how many whole units before the index unit the window reaches.
    units_before: u32,
    /// Whether the index unit itself is a slot.
    include_index_unit: bool,
}

/// A window template as a policy file writes it, before its checks.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowTemplateFields {
    name: String,
    granularity: Granularity,
    units_before: u32,
    #[serde(default)]
    include_index_unit: bool,
}

impl TryFrom<WindowTemplateFields> for WindowTemplate {
    type Error = LinkageError;

    fn try_from(f: WindowTemplateFields) -> Result<Self, Self::Error> {
        WindowTemplate::new(f.name, f.granularity, f.units_before, f.include_index_unit)
    }
}

impl From<WindowTemplate> for WindowTemplateFields {
    fn from(t: WindowTemplate) -> Self {
        WindowTemplateFields {
            name: t.name,
            granularity: t.granularity,
            units_before: t.units_before,
            include_index_unit: t.include_index_unit,
        }
    }
}

impl WindowTemplate {
    /// A template, or why it cannot be one: no name, no slots, or more than
    /// [`MAX_WINDOW_SLOTS`].
    pub fn new(
        name: impl Into<String>,
        granularity: Granularity,
        units_before: u32,
        include_index_unit: bool,
    ) -> Result<WindowTemplate, LinkageError> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(LinkageError::UnnamedWindow);
        }
        let slots = u64::from(units_before) + u64::from(include_index_unit);
        if slots == 0 {
            return Err(LinkageError::EmptyWindow { name });
        }
        if slots > MAX_WINDOW_SLOTS as u64 {
            return Err(LinkageError::WindowTooLong { name, slots, max: MAX_WINDOW_SLOTS });
        }
        Ok(WindowTemplate { name, granularity, units_before, include_index_unit })
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bucket unit.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// N: whole units before the index unit.
    pub fn units_before(&self) -> u32 {
        self.units_before
    }

    /// Whether the index unit itself is a slot.
    pub fn include_index_unit(&self) -> bool {
        self.include_index_unit
    }

    /// W: the slots every cohort row emits per key value, N + 1 with the index unit, N
    /// without. The same for every index date.
    pub fn slot_count(&self) -> usize {
        // At most MAX_WINDOW_SLOTS by construction, so this fits.
        self.units_before as usize + usize::from(self.include_index_unit)
    }

    /// The W slot labels a cohort row with this index date emits, oldest first (the tuple
    /// builder permutes them, so the order never reaches the wire).
    pub fn cohort_slots(&self, index_date: Date) -> Result<Vec<SlotLabel>, LinkageError> {
        let out_of_range =
            || LinkageError::DateOutOfRange { date: index_date, granularity: self.granularity };
        let index_unit = self.granularity.unit(index_date);
        let first = index_unit - i64::from(self.units_before);
        let last = if self.include_index_unit { index_unit } else { index_unit - 1 };
        (first..=last)
            .map(|unit| self.granularity.label_of_unit(unit).ok_or_else(out_of_range))
            .collect()
    }

    /// The one slot label a partner row with this event date emits.
    pub fn partner_slot(&self, event_date: Date) -> Result<SlotLabel, LinkageError> {
        self.granularity.slot_of(event_date)
    }

    /// The rule the slots implement, in plaintext: whether an event on `event_date` is in the
    /// window of a cohort row with `index_date`. For tests and documentation; linkage itself
    /// only ever compares slot labels.
    pub fn covers(&self, index_date: Date, event_date: Date) -> bool {
        let (index, event) = (self.granularity.unit(index_date), self.granularity.unit(event_date));
        let last = if self.include_index_unit { index } else { index - 1 };
        (index - i64::from(self.units_before)..=last).contains(&event)
    }

    /// The units a partner event can fall in and still be in the window of some cohort row
    /// whose index date lies in `from..=to`: from N units before `from`'s unit to the unit
    /// before `to`'s (to `to`'s own with the index unit). `None` when `from` is after `to`.
    ///
    /// A partner event outside the reach matches no cohort row, and the reach's length is the
    /// most slots one partner key value can need: one per unit (see `link::plan::layouts`).
    pub fn reach(&self, from: Date, to: Date) -> Option<UnitRange> {
        if from > to {
            return None;
        }
        let first = self.granularity.unit(from) - i64::from(self.units_before);
        let index = self.granularity.unit(to);
        let last = if self.include_index_unit { index } else { index - 1 };
        // W ≥ 1 slots by construction, so last ≥ first.
        Some(UnitRange { granularity: self.granularity, first, last })
    }
}

/// Consecutive units of one granularity, both ends included: the units of a period, or the
/// [`WindowTemplate::reach`] of a cohort's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitRange {
    granularity: Granularity,
    first: i64,
    last: i64,
}

impl UnitRange {
    /// The units holding the dates `from..=to`; `None` when `from` is after `to`.
    pub fn of_dates(granularity: Granularity, from: Date, to: Date) -> Option<UnitRange> {
        (from <= to).then(|| UnitRange {
            granularity,
            first: granularity.unit(from),
            last: granularity.unit(to),
        })
    }

    /// How many units it holds (at least 1).
    pub fn units(&self) -> usize {
        usize::try_from(self.last - self.first + 1).unwrap_or(usize::MAX)
    }

    /// Whether the unit holding `date` is one of them.
    pub fn contains(&self, date: Date) -> bool {
        (self.first..=self.last).contains(&self.granularity.unit(date))
    }

    /// The units in both ranges, or `None` if they share none (or differ in granularity).
    pub fn intersect(&self, other: &UnitRange) -> Option<UnitRange> {
        let (first, last) = (self.first.max(other.first), self.last.min(other.last));
        (self.granularity == other.granularity && first <= last).then_some(UnitRange {
            granularity: self.granularity,
            first,
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn labels_name_the_first_day_of_their_unit() {
        let d = date(2025, 6, 4); // a Wednesday
        assert_eq!(Granularity::Day.slot_of(d).unwrap().to_string(), "day:2025-06-04");
        assert_eq!(Granularity::Week.slot_of(d).unwrap().to_string(), "week:2025-06-02");
        assert_eq!(Granularity::Month.slot_of(d).unwrap().to_string(), "month:2025-06");
        assert_eq!(SlotLabel::UNTIMED.to_string(), "untimed");
        // A week that starts in the previous year.
        let new_year = Granularity::Week.slot_of(date(2026, 1, 1)).unwrap();
        assert_eq!(new_year.to_string(), "week:2025-12-29");
    }

    #[test]
    fn windows_cross_year_ends() {
        let t = WindowTemplate::new("3m", Granularity::Month, 3, false).unwrap();
        let slots: Vec<String> =
            t.cohort_slots(date(2025, 2, 10)).unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(slots, ["month:2024-11", "month:2024-12", "month:2025-01"]);
    }

    #[test]
    fn the_reach_of_a_cohort_period_is_every_unit_its_windows_cover() {
        let before = WindowTemplate::new("3m", Granularity::Month, 3, false).unwrap();
        let incl = WindowTemplate::new("3m+", Granularity::Month, 3, true).unwrap();
        let (from, to) = (date(2025, 1, 20), date(2025, 6, 15));
        // 3 months before January to the month before June: October to May, 8 months.
        let reach = before.reach(from, to).unwrap();
        assert_eq!(reach.units(), 8);
        assert!(reach.contains(date(2024, 10, 1)) && reach.contains(date(2025, 5, 31)));
        assert!(!reach.contains(date(2024, 9, 30)) && !reach.contains(date(2025, 6, 1)));
        // With the index month, June too.
        assert_eq!(incl.reach(from, to).unwrap().units(), 9);
        assert!(incl.reach(from, to).unwrap().contains(date(2025, 6, 30)));
        // An event is in the reach exactly when the window of some index date in the period
        // covers it.
        let days = |a: Date, b: Date| (day_number(a)..=day_number(b)).map(date_of_day_number);
        for (template, reach) in [(&before, reach), (&incl, incl.reach(from, to).unwrap())] {
            for event in days(date(2024, 6, 1), date(2025, 9, 30)).map(Option::unwrap) {
                let covered = days(from, to).map(Option::unwrap).any(|d| template.covers(d, event));
                assert_eq!(reach.contains(event), covered, "{event}");
            }
        }
        // One index day: the reach is the window itself.
        assert_eq!(before.reach(to, to).unwrap().units(), before.slot_count());
        assert_eq!(before.reach(to, from), None);
        // Cut to a partner's own period.
        let partner =
            UnitRange::of_dates(Granularity::Month, date(2025, 3, 1), date(2025, 12, 31)).unwrap();
        assert_eq!(reach.intersect(&partner).unwrap().units(), 3);
        let later =
            UnitRange::of_dates(Granularity::Month, date(2025, 7, 1), date(2025, 8, 1)).unwrap();
        assert_eq!(reach.intersect(&later), None);
    }

    #[test]
    fn templates_are_checked() {
        assert_eq!(
            WindowTemplate::new("none", Granularity::Day, 0, false),
            Err(LinkageError::EmptyWindow { name: "none".into() })
        );
        assert_eq!(
            WindowTemplate::new(" ", Granularity::Day, 3, false),
            Err(LinkageError::UnnamedWindow)
        );
        assert!(matches!(
            WindowTemplate::new("long", Granularity::Day, 731, true),
            Err(LinkageError::WindowTooLong { slots: 732, .. })
        ));
        assert_eq!(
            WindowTemplate::new("today", Granularity::Day, 0, true).unwrap().slot_count(),
            1
        );
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        let t = WindowTemplate::new("2d", Granularity::Day, 2, false).unwrap();
        assert!(matches!(t.cohort_slots(date(1, 1, 2)), Err(LinkageError::DateOutOfRange { .. })));
        assert!(Granularity::Week.slot_of(date(1, 1, 1)).is_ok()); // 0001-01-01 was a Monday
    }
}
