//! The typed aggregate query a node answers (issue 4): which dataset, which rows (filters),
//! how to group them (columns, geography levels, derived time buckets, age bands) and what to
//! count — or a published template of the node's policy and the period to run it for. Columns
//! are named as in the dataset's schema (the extract's header names); nothing here is SQL.
//!
//! The wire form (`pb::AggregateQuery`) is parsed here strictly, so the node's compiler only
//! ever sees a well-formed query.

use std::fmt;

pub mod text;

use crate::civil::{civil_from_days, days_from_civil};
use crate::pb;
use crate::refusal::Refusal;

/// A calendar date as a query states it (`YYYY-MM-DD`), validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate {
    year: u16,
    month: u8,
    day: u8,
}

impl IsoDate {
    /// The date, if it exists (years 1800–2200).
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1800..=2200).contains(&year) && (1..=days).contains(&day)).then_some(Self {
            year,
            month,
            day,
        })
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = text.get(r)?;
            if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
        };
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        Self::from_ymd(num(0..4)?, month, day)
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    pub fn day_number(self) -> i64 {
        days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day))
    }

    /// The date `n` days after 1970-01-01, clamped to the supported years.
    pub fn from_day_number(n: i64) -> Self {
        let (year, month, day) = civil_from_days(n.clamp(-62_000, 84_000));
        // In range by the clamp: years 1800..=2199, months 1..=12, days 1..=31.
        Self { year: year as u16, month: month as u8, day: day as u8 }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A filter on the rows counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The column equals the value.
    Equals {
        /// Schema column name.
        column: String,
        /// The value, compared as text.
        value: String,
    },
    /// The column is one of the values.
    In {
        /// Schema column name.
        column: String,
        /// The values (at least one).
        values: Vec<String>,
    },
    /// A numeric column lies in `min..=max`.
    NumberRange {
        /// Schema column name (role numeric).
        column: String,
        /// Smallest value kept.
        min: f64,
        /// Largest value kept.
        max: f64,
    },
    /// The event date lies in `from..=to`.
    EventDates {
        /// First day kept.
        from: IsoDate,
        /// Last day kept.
        to: IsoDate,
    },
}

/// A derived time bucket of the event date (and time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBucket {
    /// `YYYY-MM-DD`.
    Day,
    /// The Monday that starts the week, `YYYY-MM-DD`.
    Week,
    /// `YYYY-MM`.
    Month,
    /// `YYYY-Qn` (calendar quarters).
    Quarter,
    /// `YYYY/YY` (1 April to 31 March).
    FinancialYear,
    /// `1-Mon` … `7-Sun`.
    DayOfWeek,
    /// Four-hour bands `00-03` … `20-23` of the event time.
    HourBand,
}

impl TimeBucket {
    /// The bucket's name as used in queries and output headers.
    pub fn name(self) -> &'static str {
        match self {
            TimeBucket::Day => "day",
            TimeBucket::Week => "week",
            TimeBucket::Month => "month",
            TimeBucket::Quarter => "quarter",
            TimeBucket::FinancialYear => "financial_year",
            TimeBucket::DayOfWeek => "day_of_week",
            TimeBucket::HourBand => "hour_band",
        }
    }
}

/// Age bands, from date of birth at the event date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBands {
    /// 0–17, 18–24, 25–34, 35–44, 45–54, 55–64, 65+ (the bands violence reporting uses).
    Standard,
    /// Bands of this many years: 0–9, 10–19, ….
    Width(u8),
}

/// One grouping of the output.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupBy {
    /// A schema column (category, geography, sex, subject role).
    Column(String),
    /// A time bucket of the event date.
    Time(TimeBucket),
    /// An age band.
    Age(AgeBands),
    /// A geography level (the dataset's column at that level, or derived from a finer one).
    Geography(GeographyLevel),
}

/// A level of the public statistical geography.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeographyLevel {
    /// Lower layer super output area.
    Lsoa,
    /// Electoral ward.
    Ward,
    /// Local authority.
    LocalAuthority,
}

impl GeographyLevel {
    /// The level's name, as in dataset schemas (`level = "ward"`) and output headers.
    pub fn name(self) -> &'static str {
        match self {
            GeographyLevel::Lsoa => "lsoa",
            GeographyLevel::Ward => "ward",
            GeographyLevel::LocalAuthority => "local_authority",
        }
    }

    /// The level named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Lsoa, Self::Ward, Self::LocalAuthority].into_iter().find(|l| l.name() == name)
    }
}

/// What each cell counts.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Rows.
    Rows,
    /// Distinct subjects (by NHS number, else name and date of birth, else record).
    DistinctSubjects,
    /// The sum of a numeric column, each value clamped to the column's declared bounds.
    Sum {
        /// Schema column name (role numeric).
        column: String,
    },
}

/// A query the requester shaped: filters, groupings and metric of its choosing.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateQuery {
    /// The dataset.
    pub dataset: String,
    /// Filters, all of which must hold.
    pub filters: Vec<Filter>,
    /// Groupings, in output order.
    pub group_by: Vec<GroupBy>,
    /// What to count.
    pub metric: Metric,
    /// The most rows one subject may contribute to the table (contribution bounding for DP);
    /// `None` counts every row. Set by the node's policy, never by the request.
    pub max_rows_per_subject: Option<u32>,
}

/// What an aggregate request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum AggregateRequest {
    /// A query the requester shaped.
    Shaped(AggregateQuery),
    /// A published template of the node's policy, run for one period.
    Template {
        /// The dataset.
        dataset: String,
        /// The template's name.
        name: String,
        /// The period, e.g. `2025/26`, `2025-Q3`, `2025-07`, `2025`.
        period: String,
    },
}

impl AggregateRequest {
    /// The dataset asked about.
    pub fn dataset(&self) -> &str {
        match self {
            AggregateRequest::Shaped(q) => &q.dataset,
            AggregateRequest::Template { dataset, .. } => dataset,
        }
    }

    /// The wire form.
    pub fn to_pb(&self) -> pb::AggregateQuery {
        match self {
            AggregateRequest::Template { dataset, name, period } => pb::AggregateQuery {
                dataset: dataset.clone(),
                template: name.clone(),
                period: period.clone(),
                ..Default::default()
            },
            AggregateRequest::Shaped(q) => pb::AggregateQuery {
                dataset: q.dataset.clone(),
                filters: q.filters.iter().map(filter_to_pb).collect(),
                group_by: q.group_by.iter().map(group_to_pb).collect(),
                metric: match q.metric {
                    Metric::Rows => pb::AggregateMetric::Rows,
                    Metric::DistinctSubjects => pb::AggregateMetric::DistinctSubjects,
                    Metric::Sum { .. } => pb::AggregateMetric::Sum,
                } as i32,
                sum_column: match &q.metric {
                    Metric::Sum { column } => column.clone(),
                    _ => String::new(),
                },
                ..Default::default()
            },
        }
    }
}

/// The name of the one dimension of a table without groupings (its one level is `total`).
pub const ALL_DIMENSION: &str = "all";

/// Most filters or groupings a query may carry.
pub const MAX_TERMS: usize = 16;

fn malformed(problem: impl Into<String>) -> Refusal {
    Refusal::Malformed { problem: format!("aggregate query: {}", problem.into()) }
}

fn nonempty(value: String, field: &str) -> Result<String, Refusal> {
    if value.trim().is_empty() { Err(malformed(format!("{field} is missing"))) } else { Ok(value) }
}

impl TryFrom<pb::AggregateQuery> for AggregateRequest {
    type Error = Refusal;

    fn try_from(wire: pb::AggregateQuery) -> Result<Self, Refusal> {
        let dataset = nonempty(wire.dataset, "dataset")?;
        if !wire.template.is_empty() {
            if !wire.filters.is_empty()
                || !wire.group_by.is_empty()
                || wire.metric != 0
                || !wire.sum_column.is_empty()
            {
                return Err(malformed("a template query carries no filters, groups or metric"));
            }
            return Ok(AggregateRequest::Template {
                dataset,
                name: wire.template,
                period: nonempty(wire.period, "period")?,
            });
        }
        if !wire.period.is_empty() {
            return Err(malformed("period is only for template queries"));
        }
        if wire.filters.len() > MAX_TERMS || wire.group_by.len() > MAX_TERMS {
            return Err(malformed(format!("at most {MAX_TERMS} filters and {MAX_TERMS} groups")));
        }
        let filters =
            wire.filters.into_iter().map(filter_from_pb).collect::<Result<Vec<_>, _>>()?;
        let group_by =
            wire.group_by.into_iter().map(group_from_pb).collect::<Result<Vec<_>, _>>()?;
        let sum_column_given = !wire.sum_column.is_empty();
        let metric = match pb::AggregateMetric::try_from(wire.metric) {
            Ok(pb::AggregateMetric::Rows) => Metric::Rows,
            Ok(pb::AggregateMetric::DistinctSubjects) => Metric::DistinctSubjects,
            Ok(pb::AggregateMetric::Sum) => {
                Metric::Sum { column: nonempty(wire.sum_column, "sum_column")? }
            }
            _ => return Err(malformed(format!("unknown metric {}", wire.metric))),
        };
        if !matches!(metric, Metric::Sum { .. }) && sum_column_given {
            return Err(malformed("sum_column is only for the sum metric"));
        }
        Ok(AggregateRequest::Shaped(AggregateQuery {
            dataset,
            filters,
            group_by,
            metric,
            max_rows_per_subject: None,
        }))
    }
}

pub(crate) fn filter_to_pb(f: &Filter) -> pb::AggregateFilter {
    use pb::aggregate_filter::Condition;
    let (column, condition) = match f {
        Filter::Equals { column, value } => (column.clone(), Condition::Equals(value.clone())),
        Filter::In { column, values } => {
            (column.clone(), Condition::OneOf(pb::ValueSet { values: values.clone() }))
        }
        Filter::NumberRange { column, min, max } => {
            (column.clone(), Condition::NumberRange(pb::NumberRange { min: *min, max: *max }))
        }
        Filter::EventDates { from, to } => (
            String::new(),
            Condition::EventDates(pb::DateRange { from: from.to_string(), to: to.to_string() }),
        ),
    };
    pb::AggregateFilter { column, condition: Some(condition) }
}

pub(crate) fn filter_from_pb(wire: pb::AggregateFilter) -> Result<Filter, Refusal> {
    use pb::aggregate_filter::Condition;
    let Some(condition) = wire.condition else {
        return Err(malformed("a filter has no condition"));
    };
    if let Condition::EventDates(range) = condition {
        if !wire.column.is_empty() {
            return Err(malformed("an event-date filter names no column"));
        }
        let date = |text: &str, field: &str| {
            IsoDate::parse(text)
                .ok_or_else(|| malformed(format!("{field} {text:?} is not a YYYY-MM-DD date")))
        };
        let (from, to) = (date(&range.from, "from")?, date(&range.to, "to")?);
        if from > to {
            return Err(malformed("a date range needs from <= to"));
        }
        return Ok(Filter::EventDates { from, to });
    }
    let column = nonempty(wire.column, "filter column")?;
    Ok(match condition {
        Condition::Equals(value) => Filter::Equals { column, value },
        Condition::OneOf(set) => {
            if set.values.is_empty() {
                return Err(malformed("a set filter needs at least one value"));
            }
            Filter::In { column, values: set.values }
        }
        Condition::NumberRange(r) => {
            if !r.min.is_finite() || !r.max.is_finite() || r.min > r.max {
                return Err(malformed("a numeric range needs finite min <= max"));
            }
            Filter::NumberRange { column, min: r.min, max: r.max }
        }
        Condition::EventDates(_) => unreachable!("handled above"),
    })
}

fn group_to_pb(g: &GroupBy) -> pb::AggregateGroup {
    use pb::aggregate_group::By;
    let by = match g {
        GroupBy::Column(c) => By::Column(c.clone()),
        GroupBy::Time(t) => By::Time(time_to_pb(*t) as i32),
        GroupBy::Age(AgeBands::Standard) => By::AgeBandWidth(0),
        GroupBy::Age(AgeBands::Width(w)) => By::AgeBandWidth(u32::from(*w)),
        GroupBy::Geography(level) => By::Geography(match level {
            GeographyLevel::Lsoa => pb::GeographyLevel::Lsoa,
            GeographyLevel::Ward => pb::GeographyLevel::Ward,
            GeographyLevel::LocalAuthority => pb::GeographyLevel::LocalAuthority,
        } as i32),
    };
    pb::AggregateGroup { by: Some(by) }
}

fn group_from_pb(wire: pb::AggregateGroup) -> Result<GroupBy, Refusal> {
    use pb::aggregate_group::By;
    Ok(match wire.by {
        None => return Err(malformed("a group has no kind")),
        Some(By::Column(c)) => GroupBy::Column(nonempty(c, "group column")?),
        Some(By::Time(t)) => GroupBy::Time(match pb::TimeBucket::try_from(t) {
            Ok(pb::TimeBucket::Day) => TimeBucket::Day,
            Ok(pb::TimeBucket::Week) => TimeBucket::Week,
            Ok(pb::TimeBucket::Month) => TimeBucket::Month,
            Ok(pb::TimeBucket::Quarter) => TimeBucket::Quarter,
            Ok(pb::TimeBucket::FinancialYear) => TimeBucket::FinancialYear,
            Ok(pb::TimeBucket::DayOfWeek) => TimeBucket::DayOfWeek,
            Ok(pb::TimeBucket::HourBand) => TimeBucket::HourBand,
            _ => return Err(malformed(format!("unknown time bucket {t}"))),
        }),
        Some(By::AgeBandWidth(0)) => GroupBy::Age(AgeBands::Standard),
        Some(By::AgeBandWidth(w)) => GroupBy::Age(AgeBands::Width(
            u8::try_from(w)
                .ok()
                .filter(|w| *w <= 50)
                .ok_or_else(|| malformed("an age band width must be 1 to 50 years"))?,
        )),
        Some(By::Geography(level)) => {
            GroupBy::Geography(match pb::GeographyLevel::try_from(level) {
                Ok(pb::GeographyLevel::Lsoa) => GeographyLevel::Lsoa,
                Ok(pb::GeographyLevel::Ward) => GeographyLevel::Ward,
                Ok(pb::GeographyLevel::LocalAuthority) => GeographyLevel::LocalAuthority,
                _ => return Err(malformed(format!("unknown geography level {level}"))),
            })
        }
    })
}

fn time_to_pb(t: TimeBucket) -> pb::TimeBucket {
    match t {
        TimeBucket::Day => pb::TimeBucket::Day,
        TimeBucket::Week => pb::TimeBucket::Week,
        TimeBucket::Month => pb::TimeBucket::Month,
        TimeBucket::Quarter => pb::TimeBucket::Quarter,
        TimeBucket::FinancialYear => pb::TimeBucket::FinancialYear,
        TimeBucket::DayOfWeek => pb::TimeBucket::DayOfWeek,
        TimeBucket::HourBand => pb::TimeBucket::HourBand,
    }
}

impl TimeBucket {
    /// The bucket named `name` (as [`TimeBucket::name`] spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Day,
            Self::Week,
            Self::Month,
            Self::Quarter,
            Self::FinancialYear,
            Self::DayOfWeek,
            Self::HourBand,
        ]
        .into_iter()
        .find(|b| b.name() == name)
    }
}
