//! Compiling an [`AggregateQuery`] to SQL over a dataset's table. Only fixed fragments and names
//! the node generated itself (its table and column names) ever become SQL text; every value the
//! request carries — filter values, ranges, band widths, the contribution bound — is a bound
//! parameter. Columns are looked up in the dataset's schema, and identifier columns (names, NHS
//! number, date of birth, postcode, UPRN, local ids) can never be filtered, grouped or summed.
//!
//! `compile_filters` and `group_column` are shared with the linked query's row source
//! (`linkage::source`), so a filter or a grouping column is checked and compiled one way only.

use rusqlite::types::Value;

use crate::dataset::plan::attribute_columns;
use crate::dataset::schema::{self, ColumnRole, DatasetSchema};
use crate::dataset::store::table_name;
use fedlink_proto::aggregate::{
    AgeBands, AggregateQuery, Filter, GeographyLevel, GroupBy, Metric, TimeBucket,
};

/// Why a query cannot be compiled for a dataset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// The query is for another dataset than the schema given.
    #[error("the query is for dataset {query:?}, not {schema:?}")]
    WrongDataset {
        /// The query's dataset.
        query: String,
        /// The schema's dataset.
        schema: String,
    },
    /// The column is not in the dataset's schema.
    #[error("dataset {dataset} has no column {column:?}")]
    UnknownColumn {
        /// The dataset.
        dataset: String,
        /// The column asked for.
        column: String,
    },
    /// The column holds an identifier, which aggregates never touch.
    #[error("column {0:?} holds an identifier; it cannot be filtered, grouped or summed")]
    Identifier(String),
    /// The use needs another kind of column.
    #[error("column {column:?} cannot be used {usage}")]
    WrongUse {
        /// The column.
        column: String,
        /// How it was to be used.
        usage: &'static str,
    },
    /// The dataset lacks what a derived grouping needs.
    #[error("{grouping} needs the dataset to have {needs}")]
    Needs {
        /// The grouping.
        grouping: &'static str,
        /// What is missing.
        needs: &'static str,
    },
    /// A value is unusable.
    #[error("{0}")]
    BadValue(String),
}

/// SQL with its parameters, and how to fold its rows into cells. The SQL selects one row per
/// record (group values, the metric's value, and who it is about when needed); `run` folds them
/// in a hash map, which on a million rows is several times faster than SQLite's sorting
/// GROUP BY, and applies the per-subject contribution bound in the same pass.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    /// The statement.
    pub sql: String,
    /// The statement for one of n partitions: two more parameters, n and the part.
    pub partitioned_sql: String,
    /// Its parameters, in `?N` order.
    pub params: Vec<Value>,
    /// The group columns' names, in output order.
    pub groups: Vec<String>,
    /// What each cell computes.
    pub metric: MetricKind,
    /// The most rows one subject may contribute, if bounded.
    pub max_rows_per_subject: Option<u32>,
    /// For each group, the coarser geography level its LSOA value is looked up to while
    /// folding (the lookup table is small; a per-row SQL lookup would double the query's time).
    pub derived: Vec<Option<GeographyLevel>>,
}

/// The fold a metric needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Count rows.
    Rows,
    /// Count distinct subjects.
    DistinctSubjects,
    /// Sum the (clamped) values.
    Sum,
}

/// The most values an `In` filter may list.
const MAX_IN_VALUES: usize = 1000;

/// Compiles `query` for `schema`. `lookup` says whether the node holds the public LSOA → ward →
/// local authority lookup, through which coarser geography groups derive from an LSOA column.
pub fn compile(
    schema: &DatasetSchema,
    query: &AggregateQuery,
    lookup: bool,
) -> Result<CompiledQuery, CompileError> {
    if query.dataset != schema.name {
        return Err(CompileError::WrongDataset {
            query: query.dataset.clone(),
            schema: schema.name.clone(),
        });
    }
    let table = table_name(&schema.name).map_err(|e| CompileError::BadValue(e.to_string()))?;
    let mut params: Vec<Value> = Vec::new();
    let has = |role: fn(&ColumnRole) -> bool| schema.columns.iter().any(|c| role(&c.role));
    let has_date = has(|r| matches!(r, ColumnRole::EventDate | ColumnRole::EventDatetime));

    let mut selects = Vec::new();
    let mut groups = Vec::new();
    let mut derived = vec![None; query.group_by.len()];
    for (i, g) in query.group_by.iter().enumerate() {
        let (name, expr) = match g {
            GroupBy::Column(column) => (column.clone(), column_expr(schema, column, "grouped")?.0),
            GroupBy::Time(bucket) => {
                if !has_date {
                    return Err(CompileError::Needs {
                        grouping: bucket.name(),
                        needs: "an event date",
                    });
                }
                if *bucket == TimeBucket::HourBand
                    && !has(|r| matches!(r, ColumnRole::EventDatetime))
                {
                    return Err(CompileError::Needs {
                        grouping: "hour_band",
                        needs: "an event time",
                    });
                }
                (bucket.name().to_string(), time_expr(*bucket).to_string())
            }
            GroupBy::Age(bands) => {
                if !has_date || !has(|r| matches!(r, ColumnRole::Dob)) {
                    return Err(CompileError::Needs {
                        grouping: "age_band",
                        needs: "a date of birth and an event date",
                    });
                }
                ("age_band".to_string(), age_expr(*bands, &mut |v| bind_value(v, &mut params))?)
            }
            GroupBy::Geography(level) => {
                let (expr, via) = geography_expr(schema, *level, lookup)?;
                derived[i] = via;
                (level.name().to_string(), expr)
            }
        };
        selects.push(format!("{expr} AS g{i}"));
        groups.push(name);
    }

    let wheres = compile_filters(schema, &query.filters, &mut params)?;

    let value = match &query.metric {
        Metric::Rows | Metric::DistinctSubjects => "1".to_string(),
        Metric::Sum { column } => {
            let (expr, numeric) = column_expr(schema, column, "summed")?;
            let Some(ColumnRole::Numeric { min, max }) =
                schema.columns.iter().find(|c| &c.name == column).map(|c| &c.role)
            else {
                return Err(CompileError::WrongUse { column: column.clone(), usage: "summed" });
            };
            if !numeric {
                return Err(CompileError::WrongUse { column: column.clone(), usage: "summed" });
            }
            let lo = bind_value(Value::Real(*min), &mut params);
            let hi = bind_value(Value::Real(*max), &mut params);
            format!("MIN(MAX(COALESCE({expr}, 0), {lo}), {hi})")
        }
    };
    let where_sql =
        if wheres.is_empty() { String::new() } else { format!(" WHERE {}", wheres.join(" AND ")) };
    // Who a row is about is computed only when the metric or the bound needs it: building it
    // for a million rows costs more than the count itself.
    let needs_subject =
        matches!(query.metric, Metric::DistinctSubjects) || query.max_rows_per_subject.is_some();
    let mut columns = selects;
    columns.push(format!("{value} AS v"));
    if needs_subject {
        columns.push(SUBJECT_COLUMNS.to_string());
    }
    // Rows in storage order (rowid), so a contribution bound keeps the same rows every run.
    let sql = format!("SELECT {} FROM {table}{where_sql} ORDER BY rowid", columns.join(", "));
    // The same, for one of n partitions (`run::execute_parallel` binds n and the part after
    // the query's own parameters): by subject when subjects are counted or bounded, so each
    // subject stays in one partition, else by row.
    let partition = if needs_subject { "COALESCE(subject, 0)" } else { "rowid" };
    let (n_slot, part_slot) = (params.len() + 1, params.len() + 2);
    let mut partitioned = wheres.clone();
    partitioned.push(format!("{partition} % ?{n_slot} = ?{part_slot}"));
    let partitioned_sql = format!(
        "SELECT {} FROM {table} WHERE {} ORDER BY rowid",
        columns.join(", "),
        partitioned.join(" AND ")
    );
    let metric = match query.metric {
        Metric::Rows => MetricKind::Rows,
        Metric::DistinctSubjects => MetricKind::DistinctSubjects,
        Metric::Sum { .. } => MetricKind::Sum,
    };
    Ok(CompiledQuery {
        sql,
        partitioned_sql,
        params,
        groups,
        metric,
        max_rows_per_subject: query.max_rows_per_subject.map(|k| k.max(1)),
        derived,
    })
}

/// The WHERE conditions for `filters` on `schema`'s table, ANDed by the caller, with every
/// value appended to `params` (numbered `?N` after what `params` already holds). The aggregate
/// compiler and the linked query's row source (`linkage::source`) both filter through this,
/// so a filter means the same rows, and is refused for the same reasons, in both.
pub(crate) fn compile_filters(
    schema: &DatasetSchema,
    filters: &[Filter],
    params: &mut Vec<Value>,
) -> Result<Vec<String>, CompileError> {
    let has_date = schema
        .columns
        .iter()
        .any(|c| matches!(c.role, ColumnRole::EventDate | ColumnRole::EventDatetime));
    let mut wheres = Vec::with_capacity(filters.len());
    for f in filters {
        wheres.push(match f {
            Filter::Equals { column, value } => {
                let (expr, numeric) = column_expr(schema, column, "filtered")?;
                let value = value_for(value, numeric, is_code(schema, column))?;
                format!("{expr} = {}", bind_value(value, params))
            }
            Filter::In { column, values } => {
                if values.is_empty() || values.len() > MAX_IN_VALUES {
                    return Err(CompileError::BadValue(format!(
                        "a set filter needs 1 to {MAX_IN_VALUES} values"
                    )));
                }
                let (expr, numeric) = column_expr(schema, column, "filtered")?;
                let mut slots = Vec::new();
                for v in values {
                    slots.push(bind_value(value_for(v, numeric, is_code(schema, column))?, params));
                }
                format!("{expr} IN ({})", slots.join(", "))
            }
            Filter::NumberRange { column, min, max } => {
                let (expr, numeric) = column_expr(schema, column, "range-filtered")?;
                if !numeric {
                    return Err(CompileError::WrongUse {
                        column: column.clone(),
                        usage: "in a numeric range (not numeric)",
                    });
                }
                if min.is_nan() || max.is_nan() || min > max {
                    return Err(CompileError::BadValue("a numeric range needs min <= max".into()));
                }
                let lo = bind_value(Value::Real(*min), params);
                let hi = bind_value(Value::Real(*max), params);
                format!("{expr} BETWEEN {lo} AND {hi}")
            }
            Filter::EventDates { from, to } => {
                if !has_date {
                    return Err(CompileError::Needs {
                        grouping: "a date filter",
                        needs: "an event date",
                    });
                }
                if from > to {
                    return Err(CompileError::BadValue("a date range needs from <= to".into()));
                }
                let lo = bind_value(Value::Text(from.to_string()), params);
                let hi = bind_value(Value::Text(to.to_string()), params);
                format!("event_date BETWEEN {lo} AND {hi}")
            }
        });
    }
    Ok(wheres)
}

/// Appends a bound value and returns its `?N` placeholder.
fn bind_value(value: Value, params: &mut Vec<Value>) -> String {
    params.push(value);
    format!("?{}", params.len())
}

/// Who a row is about, decided at import (`dataset::row::subject_key`).
const SUBJECT_COLUMNS: &str = "subject";

/// The SQL expression for a schema column that aggregates may group on, and whether it is
/// numeric: the same test decides which columns a linked query may label its subjects by
/// (`linkage::source`), so a label never reads a column an aggregate could not show.
pub(crate) fn group_column(
    schema: &DatasetSchema,
    column: &str,
) -> Result<(String, bool), CompileError> {
    column_expr(schema, column, "grouped")
}

/// The SQL expression for a schema column that may be filtered or grouped, and whether it is
/// numeric.
fn column_expr(
    schema: &DatasetSchema,
    column: &str,
    usage: &'static str,
) -> Result<(String, bool), CompileError> {
    let Some(col) = schema.columns.iter().find(|c| c.name == column) else {
        return Err(CompileError::UnknownColumn {
            dataset: schema.name.clone(),
            column: column.to_string(),
        });
    };
    match &col.role {
        ColumnRole::Sex => Ok(("sex".into(), false)),
        ColumnRole::SubjectRole { .. } => Ok(("subject_role".into(), false)),
        ColumnRole::Category { .. } | ColumnRole::Geography { .. } | ColumnRole::Numeric { .. } => {
            let numeric = matches!(col.role, ColumnRole::Numeric { .. });
            attribute_columns(schema)
                .into_iter()
                .find(|(c, _)| c.name == column)
                .map(|(_, sql)| (sql, numeric))
                .ok_or_else(|| CompileError::UnknownColumn {
                    dataset: schema.name.clone(),
                    column: column.to_string(),
                })
        }
        ColumnRole::Ignore => Err(CompileError::WrongUse {
            column: column.to_string(),
            usage: if usage == "grouped" { "grouped (it is not stored)" } else { usage },
        }),
        _ => Err(CompileError::Identifier(column.to_string())),
    }
}

/// The SQL expression for a geography level: the dataset's own column at that level, else its
/// LSOA column, with the level to look it up to in the node's public lookup table.
fn geography_expr(
    schema: &DatasetSchema,
    level: GeographyLevel,
    lookup: bool,
) -> Result<(String, Option<GeographyLevel>), CompileError> {
    let at = |wanted: schema::GeographyLevel| {
        let column = schema
            .columns
            .iter()
            .find(|c| matches!(c.role, ColumnRole::Geography { level } if level == wanted))?;
        attribute_columns(schema).into_iter().find(|(c, _)| c.name == column.name).map(|(_, s)| s)
    };
    let wanted = match level {
        GeographyLevel::Lsoa => schema::GeographyLevel::Lsoa,
        GeographyLevel::Ward => schema::GeographyLevel::Ward,
        GeographyLevel::LocalAuthority => schema::GeographyLevel::LocalAuthority,
    };
    if let Some(own) = at(wanted) {
        return Ok((own, None));
    }
    let lsoa = at(schema::GeographyLevel::Lsoa);
    match (level, lsoa, lookup) {
        (GeographyLevel::Ward | GeographyLevel::LocalAuthority, Some(lsoa), true) => {
            Ok((lsoa, Some(level)))
        }
        (GeographyLevel::Ward | GeographyLevel::LocalAuthority, Some(_), false) => {
            Err(CompileError::Needs {
                grouping: level.name(),
                needs: "a geography lookup (node config `geography_lookup`) to derive it from LSOA",
            })
        }
        _ => Err(CompileError::Needs { grouping: level.name(), needs: "a column at that level" }),
    }
}

/// Whether the column holds geography codes, which the import stores upper-cased.
fn is_code(schema: &DatasetSchema, column: &str) -> bool {
    schema
        .columns
        .iter()
        .any(|c| c.name == column && matches!(c.role, ColumnRole::Geography { .. }))
}

/// A filter value as stored: a number for numeric columns, an upper-cased code for geography
/// columns (as the import normalises them), the text itself otherwise.
fn value_for(raw: &str, numeric: bool, code: bool) -> Result<Value, CompileError> {
    if numeric {
        raw.parse::<f64>()
            .map(Value::Real)
            .map_err(|_| CompileError::BadValue(format!("{raw:?} is not a number")))
    } else if code {
        Ok(Value::Text(raw.trim().to_ascii_uppercase()))
    } else {
        Ok(Value::Text(raw.to_string()))
    }
}

fn time_expr(bucket: TimeBucket) -> &'static str {
    match bucket {
        TimeBucket::Day => "event_date",
        TimeBucket::Week => "date(event_date, '-6 days', 'weekday 1')",
        TimeBucket::Month => "substr(event_date, 1, 7)",
        TimeBucket::Quarter => {
            "substr(event_date, 1, 4) || '-Q' || ((CAST(substr(event_date, 6, 2) AS INTEGER) + 2) / 3)"
        }
        TimeBucket::FinancialYear => {
            "CASE WHEN event_date IS NULL THEN NULL \
             WHEN CAST(substr(event_date, 6, 2) AS INTEGER) >= 4 \
             THEN substr(event_date, 1, 4) || '/' || \
                  substr(CAST(CAST(substr(event_date, 1, 4) AS INTEGER) + 1 AS TEXT), 3, 2) \
             ELSE CAST(CAST(substr(event_date, 1, 4) AS INTEGER) - 1 AS TEXT) || '/' || \
                  substr(event_date, 3, 2) END"
        }
        TimeBucket::DayOfWeek => {
            "CASE strftime('%w', event_date) WHEN '1' THEN '1-Mon' WHEN '2' THEN '2-Tue' \
             WHEN '3' THEN '3-Wed' WHEN '4' THEN '4-Thu' WHEN '5' THEN '5-Fri' \
             WHEN '6' THEN '6-Sat' WHEN '0' THEN '7-Sun' END"
        }
        TimeBucket::HourBand => {
            "CASE WHEN event_time IS NULL THEN NULL ELSE \
             printf('%02d-%02d', (CAST(substr(event_time, 1, 2) AS INTEGER) / 4) * 4, \
                    (CAST(substr(event_time, 1, 2) AS INTEGER) / 4) * 4 + 3) END"
        }
    }
}

/// Exact age in whole years at the event date.
const AGE: &str = "(CAST(strftime('%Y', event_date) AS INTEGER) - CAST(strftime('%Y', dob) AS INTEGER) \
                   - (strftime('%m-%d', event_date) < strftime('%m-%d', dob)))";

fn age_expr(
    bands: AgeBands,
    bind: &mut dyn FnMut(Value) -> String,
) -> Result<String, CompileError> {
    Ok(match bands {
        AgeBands::Standard => format!(
            "CASE WHEN dob IS NULL OR event_date IS NULL THEN NULL \
             WHEN {AGE} < 18 THEN '00-17' WHEN {AGE} < 25 THEN '18-24' \
             WHEN {AGE} < 35 THEN '25-34' WHEN {AGE} < 45 THEN '35-44' \
             WHEN {AGE} < 55 THEN '45-54' WHEN {AGE} < 65 THEN '55-64' ELSE '65+' END"
        ),
        AgeBands::Width(w) => {
            if w == 0 {
                return Err(CompileError::BadValue("an age band width must be at least 1".into()));
            }
            let w = bind(Value::Integer(i64::from(w)));
            format!(
                "CASE WHEN dob IS NULL OR event_date IS NULL THEN NULL ELSE \
                 printf('%03d-%03d', ({AGE} / {w}) * {w}, ({AGE} / {w}) * {w} + {w} - 1) END"
            )
        }
    })
}

#[cfg(test)]
mod tests;
