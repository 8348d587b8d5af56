//! The rows one side of a linked query reads from its dataset (issue 5): the qualifying rows
//! of the side's filters, each with who it is about, its own record id, its identifiers rebuilt
//! from the store, its event date and its label column's value.
//!
//! Filters go through the aggregate compiler's own filter code (`compile_filters`), so a filter
//! admits the same rows, and is refused for the same reasons (unknown column, identifier
//! column, wrong kind), in an aggregate and in a linkage; only names the node generated reach
//! SQL text, every value is bound. The label column must be one an aggregate may group on.
//!
//! Identifiers are stored as the importer normalised them (`dataset::batch`), as text. They are
//! read back through the same normalisers and must print back to exactly the stored text, so a
//! rebuilt [`Identifiers`] equals the importer's, and its match keys equal the keys the
//! importer's value would give. A stored value that does not is refused, not guessed at: a key
//! built from a misread value would link the wrong people.

use std::fmt;

use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use crate::aggregate::compile::{CompileError, compile_filters, group_column};
use crate::dataset::schema::DatasetSchema;
use crate::dataset::store::table_name;
use crate::matchkey::Identifiers;
use crate::normalise::date::{Date, DateField, parse_date};
use crate::normalise::name::{Name, NameField, normalise_name, split_alias};
use crate::normalise::nhs::{NhsNumber, NhsNumberStatus};
use crate::normalise::postcode::Postcode;
use crate::normalise::sex::parse_sex;
use crate::normalise::uprn::Uprn;
use fedlink_proto::aggregate::Filter;

/// One qualifying row: who (the import-time subject hash), the row's own record id (never
/// leaves the node), its normalised identifiers rebuilt from the store, its event date, and
/// the label column's value.
///
/// `Debug` shows nothing of the row: `Identifiers`' own `Debug` prints the date of birth,
/// postcode, UPRN and house number.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// Who the row is about (`dataset::row::subject_key`, decided at import).
    pub subject: i64,
    /// The source's record id: what flags are returned against, on this node only.
    pub record_id: String,
    /// The identifiers, as the importer normalised them.
    pub ids: Identifiers,
    /// The event date (the index date of a cohort row).
    pub event_date: Option<Date>,
    /// The label column's value; `None` without a label column or when the row has none.
    pub label_value: Option<String>,
}

impl fmt::Debug for SourceRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SourceRow(<redacted>)")
    }
}

/// Why a side's rows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A filter the dataset's schema refuses (unknown column, an identifier, a bad value).
    #[error("filter refused: {0}")]
    Filter(#[from] CompileError),
    /// The label column is not one subjects may be labelled by.
    #[error("label column {column:?} refused: {source}")]
    LabelColumn {
        /// The column asked for.
        column: String,
        /// Why it cannot label.
        source: CompileError,
    },
    /// The schema's dataset name is not one the store accepts.
    #[error("invalid dataset name {0:?}")]
    BadDataset(String),
    /// SQLite failed.
    #[error("dataset store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value that does not read back as what the importer writes. The value itself is
    /// not in the message: it is an identifier.
    #[error(
        "a stored {column} value does not read back as a normalised value; the dataset store is \
         damaged or was written by another release (re-import the dataset)"
    )]
    StoredValue {
        /// The store column.
        column: &'static str,
    },
}

/// The store columns read, in this order, before the label's.
const COLUMNS: &str = "subject, record_id, nhs_number, nhs_status, forenames, surname, aliases, \
                       dob, sex, postcode, uprn, parent_uprn, house_number, event_date";

/// The rows of `schema`'s dataset that pass every filter, ordered by (subject, event date,
/// record id) with undated rows after dated ones, so each subject's rows are together,
/// earliest first, and a run over the same data always gives the same order.
///
/// `label_column` names a schema column that aggregates may group on (a category, subject
/// role, sex or geography column); a number is no label, and identifiers never are.
pub fn read_rows(
    conn: &Connection,
    schema: &DatasetSchema,
    filters: &[Filter],
    label_column: Option<&str>,
) -> Result<Vec<SourceRow>, SourceError> {
    let table =
        table_name(&schema.name).map_err(|_| SourceError::BadDataset(schema.name.clone()))?;
    let label = match label_column {
        None => "NULL".to_string(),
        Some(column) => label_expr(schema, column)?,
    };
    let mut params: Vec<Value> = Vec::new();
    let conditions = compile_filters(schema, filters, &mut params)?;
    let where_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS}, {label} FROM {table}{where_sql} \
         ORDER BY subject, event_date IS NULL, event_date, record_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(source_row(row)?);
    }
    Ok(out)
}

/// The SQL expression of a label column, or why the column cannot label.
fn label_expr(schema: &DatasetSchema, column: &str) -> Result<String, SourceError> {
    let refuse = |source| SourceError::LabelColumn { column: column.to_string(), source };
    match group_column(schema, column) {
        Ok((_, true)) => Err(refuse(CompileError::WrongUse {
            column: column.to_string(),
            usage: "as a label (it is numeric)",
        })),
        Ok((expr, false)) => Ok(expr),
        Err(e) => Err(refuse(e)),
    }
}

/// One result row of [`read_rows`]'s statement, columns in [`COLUMNS`] order then the label.
fn source_row(row: &Row<'_>) -> Result<SourceRow, SourceError> {
    let text = |i: usize| row.get::<_, Option<String>>(i);
    let subject: Option<i64> = row.get(0)?;
    let ids = Identifiers {
        nhs_number: text(2)?.map(|t| nhs_number(&t)).transpose()?,
        nhs_status: text(3)?.map(|t| nhs_status(&t)).transpose()?,
        forenames: text(4)?.map(|t| name(&t, "forenames")).transpose()?,
        surname: text(5)?.map(|t| name(&t, "surname")).transpose()?,
        aliases: text(6)?.map(|t| aliases(&t)).transpose()?.unwrap_or_default(),
        dob: text(7)?.map(|t| date(&t, "dob")).transpose()?,
        sex: text(8)?
            .map(|t| parse_sex(&t).ok().filter(|s| s.code() == t).ok_or(stored("sex")))
            .transpose()?,
        postcode: text(9)?.map(|t| postcode(&t)).transpose()?,
        uprn: row.get::<_, Option<i64>>(10)?.map(|v| uprn(v, "uprn")).transpose()?,
        parent_uprn: row.get::<_, Option<i64>>(11)?.map(|v| uprn(v, "parent_uprn")).transpose()?,
        house_number: text(12)?,
    };
    Ok(SourceRow {
        subject: subject.ok_or(stored("subject"))?,
        record_id: text(1)?.ok_or(stored("record_id"))?,
        ids,
        event_date: text(13)?.map(|t| date(&t, "event_date")).transpose()?,
        label_value: text(14)?,
    })
}

fn stored(column: &'static str) -> SourceError {
    SourceError::StoredValue { column }
}

/// A stored NHS number: ten digits with a valid check digit, as written.
fn nhs_number(text: &str) -> Result<NhsNumber, SourceError> {
    NhsNumber::parse(text).ok().filter(|n| n.as_str() == text).ok_or(stored("nhs_number"))
}

/// A stored status: the two-digit code.
fn nhs_status(text: &str) -> Result<NhsNumberStatus, SourceError> {
    match NhsNumberStatus::parse(text) {
        Ok(Some(status)) if status.code() == text => Ok(status),
        _ => Err(stored("nhs_status")),
    }
}

/// A stored name: its tokens joined by spaces, which normalise to the same name.
fn name(text: &str, column: &'static str) -> Result<Name, SourceError> {
    match normalise_name(text) {
        NameField::Present(name) if name.to_string() == text => Ok(name),
        _ => Err(stored(column)),
    }
}

/// Stored aliases: "SURNAME, FORENAMES" parts separated by `;`. Rows stored by an earlier
/// release hold "FORENAMES SURNAME" parts, which `split_alias` reads as an alias column's raw
/// text (last word and its particles the surname): exact unless a surname had two words.
fn aliases(text: &str) -> Result<Vec<(Name, Name)>, SourceError> {
    split_alias(text)
        .into_iter()
        .map(|pair| match pair {
            (NameField::Present(forenames), NameField::Present(surname)) => {
                Ok((forenames, surname))
            }
            _ => Err(stored("aliases")),
        })
        .collect()
}

/// A stored date: `YYYY-MM-DD`. A system default date is read as the date it is (an event
/// date may be one; a date of birth never is stored as one, and keys skip it anyway).
fn date(text: &str, column: &'static str) -> Result<Date, SourceError> {
    match parse_date(text) {
        Ok(DateField::Known(d) | DateField::Sentinel(d)) if d.to_string() == text => Ok(d),
        _ => Err(stored(column)),
    }
}

/// A stored postcode: the canonical form.
fn postcode(text: &str) -> Result<Postcode, SourceError> {
    Postcode::parse(text).ok().filter(|p| p.as_str() == text).ok_or(stored("postcode"))
}

/// A stored UPRN: its integer value.
fn uprn(value: i64, column: &'static str) -> Result<Uprn, SourceError> {
    u64::try_from(value).ok().and_then(|v| Uprn::from_value(v).ok()).ok_or(stored(column))
}
