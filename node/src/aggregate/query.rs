//! The typed aggregate query a node answers (issue 4): which dataset, which rows (filters),
//! how to group them (columns, derived time buckets, age bands) and what to count. Columns are
//! named as in the dataset's schema (the extract's header names); nothing here is SQL.

use crate::normalise::date::Date;

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
        from: Date,
        /// Last day kept.
        to: Date,
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

/// An aggregate query over one dataset.
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
    /// The most rows one subject may contribute to a cell (contribution bounding for DP);
    /// `None` counts every row.
    pub max_rows_per_subject: Option<u32>,
}
