//! The levels of each dimension of an aggregate table, fixed before any row is read. A table's
//! shape must not depend on the data — otherwise which wards or months appear would itself
//! disclose who is in the data, and no noise on the counts would hide it. So every level comes
//! from something public: the schema's declared codes, the public geography lookup, the
//! calendar between the query's period bounds, or fixed band lists. Values outside the
//! vocabulary, and missing values, are counted in one more level, `(missing)`.

use fedlink_proto::aggregate::text::PeriodKind;
use fedlink_proto::aggregate::{
    AgeBands, AggregateQuery, Filter, GeographyLevel, GroupBy, IsoDate, TimeBucket,
};
use rusqlite::Connection;

use crate::dataset::geography::{GEOGRAPHY_LOOKUP_TABLE, lookup_present};
use crate::dataset::schema::{self, ColumnRole, DatasetSchema};

/// The level that counts missing values and values outside the declared vocabulary.
pub const MISSING: &str = "(missing)";

/// Why a dimension's levels cannot be fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelsError {
    /// The column has no declared vocabulary.
    #[error(
        "column {0:?} declares no list of codes in its schema, so its levels are not public; add `codes` to group by it"
    )]
    NoVocabulary(String),
    /// A time grouping without a period.
    #[error(
        "grouping by {0} needs a period (an event-date filter), so that the table's rows do not depend on the data"
    )]
    NoPeriod(&'static str),
    /// A geography level without the public lookup.
    #[error("grouping by {0} needs the node's public geography lookup")]
    NoLookup(&'static str),
    /// The lookup cannot be read.
    #[error("reading the geography lookup: {0}")]
    Lookup(String),
}

/// The levels of every grouping of `query`, in order, each ending with [`MISSING`] where a
/// value can be missing.
pub fn levels(
    schema: &DatasetSchema,
    query: &AggregateQuery,
    conn: &Connection,
) -> Result<Vec<Vec<String>>, LevelsError> {
    let period = query.filters.iter().find_map(|f| match f {
        Filter::EventDates { from, to } => Some((*from, *to)),
        _ => None,
    });
    query.group_by.iter().map(|g| one(schema, g, period, conn)).collect()
}

fn one(
    schema: &DatasetSchema,
    group: &GroupBy,
    period: Option<(IsoDate, IsoDate)>,
    conn: &Connection,
) -> Result<Vec<String>, LevelsError> {
    let mut levels = match group {
        GroupBy::Column(name) => {
            let role = schema.columns.iter().find(|c| &c.name == name).map(|c| &c.role);
            match role {
                Some(ColumnRole::Category { codes: Some(codes) })
                | Some(ColumnRole::SubjectRole { codes: Some(codes) }) => {
                    codes.iter().cloned().collect()
                }
                Some(ColumnRole::Sex) => ["F", "M", "I", "U"].map(String::from).to_vec(),
                Some(ColumnRole::Geography { level }) => match public_level(*level) {
                    Some(l) => lookup_levels(conn, l)?,
                    None => return Err(LevelsError::NoVocabulary(name.clone())),
                },
                _ => return Err(LevelsError::NoVocabulary(name.clone())),
            }
        }
        GroupBy::Geography(level) => lookup_levels(conn, *level)?,
        GroupBy::Age(AgeBands::Standard) => {
            ["00-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"].map(String::from).to_vec()
        }
        GroupBy::Age(AgeBands::Width(w)) => {
            let w = u32::from(*w);
            (0..120 / w + 1).map(|i| format!("{:03}-{:03}", i * w, i * w + w - 1)).collect()
        }
        GroupBy::Time(TimeBucket::DayOfWeek) => {
            ["1-Mon", "2-Tue", "3-Wed", "4-Thu", "5-Fri", "6-Sat", "7-Sun"]
                .map(String::from)
                .to_vec()
        }
        GroupBy::Time(TimeBucket::HourBand) => {
            (0..6).map(|i| format!("{:02}-{:02}", i * 4, i * 4 + 3)).collect()
        }
        GroupBy::Time(bucket) => {
            let (from, to) = period.ok_or(LevelsError::NoPeriod(bucket.name()))?;
            calendar(*bucket, from, to)
        }
    };
    // Inside a stated period every row has a date, so date buckets are never missing; without
    // a period (day of week may go without) or for times (hour band), they may be.
    let never_missing =
        period.is_some() && matches!(group, GroupBy::Time(b) if *b != TimeBucket::HourBand);
    if !never_missing {
        levels.push(MISSING.to_string());
    }
    Ok(levels)
}

fn public_level(level: schema::GeographyLevel) -> Option<GeographyLevel> {
    match level {
        schema::GeographyLevel::Lsoa => Some(GeographyLevel::Lsoa),
        schema::GeographyLevel::Ward => Some(GeographyLevel::Ward),
        schema::GeographyLevel::LocalAuthority => Some(GeographyLevel::LocalAuthority),
        _ => None,
    }
}

fn lookup_levels(conn: &Connection, level: GeographyLevel) -> Result<Vec<String>, LevelsError> {
    // The column name comes from a closed enum, never from the request.
    let sql =
        format!("SELECT DISTINCT {0} FROM {GEOGRAPHY_LOOKUP_TABLE} ORDER BY {0}", level.name());
    if !lookup_present(conn).map_err(|e| LevelsError::Lookup(e.to_string()))? {
        return Err(LevelsError::NoLookup(level.name()));
    }
    let mut stmt = conn.prepare(&sql).map_err(|e| LevelsError::Lookup(e.to_string()))?;
    let codes = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| LevelsError::Lookup(e.to_string()))?;
    if codes.is_empty() {
        return Err(LevelsError::NoLookup(level.name()));
    }
    Ok(codes)
}

/// Every bucket of the calendar between `from` and `to`, as the compiled SQL labels them.
fn calendar(bucket: TimeBucket, from: IsoDate, to: IsoDate) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in from.day_number()..=to.day_number() {
        let day = IsoDate::from_day_number(n);

        let label = match bucket {
            TimeBucket::Day => day.to_string(),
            TimeBucket::Week => {
                // Monday of the week: day 0 (1970-01-01) was a Thursday.
                IsoDate::from_day_number(n - (n + 3).rem_euclid(7)).to_string()
            }
            TimeBucket::Month => PeriodKind::Month.label(day),
            TimeBucket::Quarter => PeriodKind::Quarter.label(day),
            TimeBucket::FinancialYear => PeriodKind::FinancialYear.label(day),
            TimeBucket::DayOfWeek | TimeBucket::HourBand => continue,
        };
        if out.last() != Some(&label) {
            out.push(label);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: u16, m: u8, d: u8) -> IsoDate {
        IsoDate::from_ymd(y, m, d).expect("date")
    }

    #[test]
    fn calendar_levels_match_the_sql_labels() {
        let (from, to) = (date(2025, 3, 30), date(2025, 4, 2));
        assert_eq!(calendar(TimeBucket::Month, from, to), ["2025-03", "2025-04"]);
        assert_eq!(calendar(TimeBucket::FinancialYear, from, to), ["2024/25", "2025/26"]);
        // 2025-03-30 is a Sunday: its week starts on Monday 24 March.
        assert_eq!(calendar(TimeBucket::Week, from, to), ["2025-03-24", "2025-03-31"]);
        assert_eq!(calendar(TimeBucket::Day, from, to).len(), 4);
        assert_eq!(calendar(TimeBucket::Quarter, date(2024, 1, 1), date(2024, 12, 31)).len(), 4);
    }
}
