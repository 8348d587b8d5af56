//! One CSV record, validated and normalised into a [`NormalisedRow`], or refused with a
//! [`Rejection`] that says why (and goes to quarantine with the raw record).
//!
//! Two kinds of trouble, on purpose treated differently:
//! - a row that cannot be trusted (wrong field count, bad encoding, impossible dates, codes not
//!   in the list, a required value missing) is quarantined whole;
//! - an identifier that is junk or a placeholder (an unusable postcode, "UNKNOWN", ZZ99 3VZ,
//!   1900-01-01) is *set aside*: the row is kept without it, so no match key is built from it
//!   (design-review F17), and the summary counts what was set aside and why.

use std::collections::BTreeSet;

use csv::ByteRecord;
use ring::digest;

use crate::dataset::plan::{Field, ImportPlan};
use crate::dataset::schema::{ColumnRole, InvalidNhsNumber};
use crate::matchkey::Identifiers;
use crate::normalise::date::{Date, DateField, parse_date, parse_datetime};
use crate::normalise::name::{Name, NameField, normalise_name, split_alias};
use crate::normalise::nhs::{NhsNumber, NhsNumberError, NhsNumberStatus};
use crate::normalise::postcode::{PostcodeField, parse_postcode};
use crate::normalise::sex::parse_sex;
use crate::normalise::uprn::Uprn;

/// Why a row was quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// A stable kind, for counting (e.g. `impossible_date`).
    pub kind: &'static str,
    /// The readable reason, naming the column and value.
    pub detail: String,
}

impl Rejection {
    fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Self { kind, detail: detail.into() }
    }
}

/// An identifier the row was kept without, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SetAside {
    /// Date of birth was a sentinel such as 1900-01-01.
    DobSentinel,
    /// A name was a placeholder such as UNKNOWN or BABY OF.
    NamePlaceholder,
    /// An NHS number failed validation (schema says keep the row).
    NhsNumberInvalid,
    /// A postcode was a placeholder such as ZZ99 3VZ.
    PostcodePlaceholder,
    /// A postcode did not follow the UK format.
    PostcodeInvalid,
    /// A UPRN was not 1–12 digits.
    UprnInvalid,
}

impl SetAside {
    /// The readable reason.
    pub fn describe(self) -> &'static str {
        match self {
            SetAside::DobSentinel => {
                "date of birth is a sentinel (e.g. 1900-01-01): kept as unknown"
            }
            SetAside::NamePlaceholder => {
                "name is a placeholder (UNKNOWN, BABY OF …): kept as unknown"
            }
            SetAside::NhsNumberInvalid => "NHS number fails validation: kept without it",
            SetAside::PostcodePlaceholder => "postcode is a placeholder (ZZ99 …): kept as unknown",
            SetAside::PostcodeInvalid => "postcode is not a valid UK postcode: kept without it",
            SetAside::UprnInvalid => "UPRN is not 1–12 digits: kept without it",
        }
    }
}

/// A stored attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// Empty.
    Null,
    /// A number.
    Number(f64),
    /// Text (codes, geography codes, local ids).
    Text(String),
}

/// A row ready to store.
#[derive(Debug, Clone, Default)]
pub struct NormalisedRow {
    /// The source's record id.
    pub record_id: String,
    /// SHA-256 of the raw fields in schema order: a changed row has a changed hash.
    pub row_hash: [u8; 32],
    /// The subject's identifiers, normalised: what match keys are derived from.
    pub ids: Identifiers,
    /// Event date.
    pub event_date: Option<Date>,
    /// Event time of day, `HH:MM:SS`, when the source gives one.
    pub event_time: Option<String>,
    /// The subject's role in the event.
    pub subject_role: Option<String>,
    /// Attribute values, aligned with `ImportPlan::attributes`.
    pub attributes: Vec<AttributeValue>,
    /// Identifiers set aside.
    pub set_aside: Vec<SetAside>,
}

/// Validates and normalises one record.
pub fn normalise_record(
    plan: &ImportPlan,
    record: &ByteRecord,
) -> Result<NormalisedRow, Rejection> {
    if record.len() != plan.width {
        return Err(Rejection::new(
            "wrong_field_count",
            format!("expected {} fields, found {}", plan.width, record.len()),
        ));
    }
    let mut fields: Vec<&str> = Vec::with_capacity(record.len());
    for (i, raw) in record.iter().enumerate() {
        match std::str::from_utf8(raw) {
            Ok(s) => fields.push(s.trim()),
            Err(_) => {
                let column = plan.header.get(i).map_or("?", String::as_str);
                return Err(Rejection::new(
                    "not_utf8",
                    format!("column {column:?} is not valid UTF-8"),
                ));
            }
        }
    }
    let get = |f: Option<Field>| f.map(|f| fields.get(f.position).copied().unwrap_or(""));
    let mut row = NormalisedRow { row_hash: row_hash(plan, &fields), ..Default::default() };

    // Required single-valued columns.
    for (role, field) in &plan.fields {
        if field.required && fields.get(field.position).is_none_or(|v| v.is_empty()) {
            return Err(Rejection::new("missing_required", format!("required {role} is empty")));
        }
    }

    let record_id = get(plan.roles.record_id).unwrap_or("");
    if record_id.is_empty() {
        return Err(Rejection::new("missing_record_id", "the record id is empty"));
    }
    if record_id.len() > 128 {
        return Err(Rejection::new("bad_record_id", "the record id is longer than 128 characters"));
    }
    row.record_id = record_id.to_string();

    if let Some(raw) = get(plan.roles.nhs_number) {
        match NhsNumber::parse(raw) {
            Ok(n) => row.ids.nhs_number = Some(n),
            Err(NhsNumberError::Empty) => {}
            Err(e) => match plan.schema.invalid_nhs_number {
                InvalidNhsNumber::Quarantine => {
                    return Err(Rejection::new("nhs_number", e.to_string()));
                }
                InvalidNhsNumber::DropKey => row.set_aside.push(SetAside::NhsNumberInvalid),
            },
        }
    }
    if let Some(raw) = get(plan.roles.nhs_number_status) {
        row.ids.nhs_status = NhsNumberStatus::parse(raw)
            .map_err(|e| Rejection::new("nhs_number_status", e.to_string()))?;
    }
    if let Some(raw) = get(plan.roles.forenames) {
        row.ids.forenames = name(raw, &mut row.set_aside);
    }
    if let Some(raw) = get(plan.roles.surname) {
        row.ids.surname = name(raw, &mut row.set_aside);
    }
    for alias in &plan.aliases {
        let raw = fields.get(alias.position).copied().unwrap_or("");
        for (fore, sur) in split_alias(raw) {
            if let (NameField::Present(f), NameField::Present(s)) = (fore, sur) {
                row.ids.aliases.push((f, s));
            }
        }
    }
    if let Some(raw) = get(plan.roles.dob) {
        match parse_date(raw) {
            Ok(DateField::Known(d)) => row.ids.dob = Some(d),
            Ok(DateField::Sentinel(_)) => row.set_aside.push(SetAside::DobSentinel),
            Ok(DateField::Missing) => {}
            Err(e) => return Err(Rejection::new("impossible_date", format!("date of birth: {e}"))),
        }
    }
    if let Some(raw) = get(plan.roles.sex) {
        row.ids.sex = Some(parse_sex(raw).map_err(|e| Rejection::new("sex_code", e.to_string()))?);
    }
    if let Some(raw) = get(plan.roles.postcode) {
        match parse_postcode(raw) {
            Ok(PostcodeField::Valid(p)) => row.ids.postcode = Some(p),
            Ok(PostcodeField::Placeholder(_)) => row.set_aside.push(SetAside::PostcodePlaceholder),
            Ok(PostcodeField::Missing) => {}
            Err(_) => row.set_aside.push(SetAside::PostcodeInvalid),
        }
    }
    for (field, slot) in
        [(plan.roles.uprn, &mut row.ids.uprn), (plan.roles.parent_uprn, &mut row.ids.parent_uprn)]
    {
        if let Some(raw) = get(field) {
            match Uprn::parse(raw) {
                Ok(u) => *slot = u,
                Err(_) => row.set_aside.push(SetAside::UprnInvalid),
            }
        }
    }
    if let Some(raw) = get(plan.roles.address_text) {
        row.ids.house_number = crate::normalise::address::house_number(raw);
    }
    if let Some(raw) = get(plan.roles.event_date) {
        match parse_date(raw) {
            Ok(DateField::Known(d) | DateField::Sentinel(d)) => row.event_date = Some(d),
            Ok(DateField::Missing) => {}
            Err(e) => return Err(Rejection::new("impossible_date", format!("event date: {e}"))),
        }
    }
    if let Some(raw) = get(plan.roles.event_datetime) {
        match parse_datetime(raw) {
            Ok(Some(dt)) => {
                row.event_time =
                    Some(format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second()));
                row.event_date = Some(dt.date());
            }
            Ok(None) => {}
            Err(e) => {
                return Err(Rejection::new("impossible_date", format!("event date and time: {e}")));
            }
        }
    }
    if let Some(raw) = get(plan.roles.subject_role)
        && !raw.is_empty()
    {
        if let Some(ColumnRole::SubjectRole { codes: Some(codes) }) =
            plan.schema.column_with("subject_role").map(|c| &c.role)
        {
            check_code(raw, codes, "subject role")?;
        }
        row.subject_role = Some(raw.to_string());
    }

    row.attributes.reserve(plan.attributes.len());
    for attribute in &plan.attributes {
        let raw = fields.get(attribute.position).copied().unwrap_or("");
        if raw.is_empty() {
            if attribute.required {
                return Err(Rejection::new(
                    "missing_required",
                    format!("required column {:?} is empty", attribute.name),
                ));
            }
            row.attributes.push(AttributeValue::Null);
            continue;
        }
        let value = match &attribute.role {
            ColumnRole::Category { codes: Some(codes) } => {
                check_code(raw, codes, &attribute.name)?;
                AttributeValue::Text(raw.to_string())
            }
            ColumnRole::Numeric { min, max } => {
                let n: f64 = raw.parse().map_err(|_| {
                    Rejection::new(
                        "not_a_number",
                        format!("column {:?}: {raw:?} is not a number", attribute.name),
                    )
                })?;
                if !(n >= *min && n <= *max) {
                    return Err(Rejection::new(
                        "out_of_bounds",
                        format!("column {:?}: {n} is outside {min}..={max}", attribute.name),
                    ));
                }
                AttributeValue::Number(n)
            }
            ColumnRole::Geography { .. } => AttributeValue::Text(raw.to_ascii_uppercase()),
            _ => AttributeValue::Text(raw.to_string()),
        };
        row.attributes.push(value);
    }
    Ok(row)
}

fn name(raw: &str, set_aside: &mut Vec<SetAside>) -> Option<Name> {
    match normalise_name(raw) {
        NameField::Present(n) => Some(n),
        NameField::Placeholder(_) => {
            set_aside.push(SetAside::NamePlaceholder);
            None
        }
        NameField::Missing => None,
    }
}

fn check_code(raw: &str, codes: &BTreeSet<String>, column: &str) -> Result<(), Rejection> {
    if codes.contains(raw) {
        Ok(())
    } else {
        Err(Rejection::new(
            "not_in_code_list",
            format!("{column}: {raw:?} is not in the code list"),
        ))
    }
}

/// SHA-256 over the fields in schema column order, each length-prefixed, so reordering a
/// file's columns does not make every row look changed.
fn row_hash(plan: &ImportPlan, fields: &[&str]) -> [u8; 32] {
    // One digest call over a buffer is much cheaper than two small updates per field.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        for &i in &plan.schema_positions {
            let value = fields.get(i).copied().unwrap_or("");
            buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
            buf.extend_from_slice(value.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, buf).as_ref());
        out
    })
}

/// Who a row is about, for distinct-subject counts and per-subject contribution bounds: the
/// NHS number when there is one, else normalised surname, forenames and date of birth when all
/// are known, else the record itself. Stored as the first 63 bits of a SHA-256 (stable across
/// releases, unlike std's hasher) so that a bounded query reads one integer per row. It never
/// leaves the node and is no more revealing than the identifiers beside it. A collision merges
/// two subjects, which only tightens their shared contribution bound.
pub fn subject_key(ids: &Identifiers, record_id: &str) -> i64 {
    let mut ctx = digest::Context::new(&digest::SHA256);
    match (&ids.nhs_number, &ids.surname, &ids.forenames, &ids.dob) {
        (Some(nhs), _, _, _) => {
            ctx.update(b"n\x1f");
            ctx.update(nhs.as_str().as_bytes());
        }
        (None, Some(surname), Some(forenames), Some(dob)) => {
            ctx.update(b"p\x1f");
            ctx.update(surname.to_string().as_bytes());
            ctx.update(b"\x1f");
            ctx.update(forenames.to_string().as_bytes());
            ctx.update(b"\x1f");
            ctx.update(dob.to_string().as_bytes());
        }
        _ => {
            ctx.update(b"r\x1f");
            ctx.update(record_id.as_bytes());
        }
    }
    let d = ctx.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d.as_ref()[..8]);
    (u64::from_be_bytes(first) >> 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::schema::DatasetSchema;
    use crate::matchkey::derive_keys;

    fn plan() -> ImportPlan {
        let schema = DatasetSchema::from_toml(
            r#"
name = "t"
description = "test"
subject = "person"
[[column]]
name = "id"
role = "record_id"
[[column]]
name = "nhs"
role = "nhs_number"
[[column]]
name = "first"
role = "forenames"
[[column]]
name = "last"
role = "surname"
[[column]]
name = "dob"
role = "dob"
[[column]]
name = "pcd"
role = "postcode"
"#,
        )
        .expect("schema");
        let header: Vec<String> =
            ["id", "nhs", "first", "last", "dob", "pcd"].iter().map(|s| s.to_string()).collect();
        ImportPlan::new(&schema, &header).expect("plan")
    }

    #[test]
    fn a_normalised_row_yields_its_match_keys() {
        let record =
            ByteRecord::from(vec!["R1", "943 476 5919", "Bob", "Smith", "02/01/1980", "ch1 2ab"]);
        let row = normalise_record(&plan(), &record).expect("accepted");
        let keys: Vec<String> = derive_keys(&row.ids).iter().map(ToString::to_string).collect();
        assert!(keys.contains(&"nhs/1:9434765919".to_string()), "{keys:?}");
        assert!(
            keys.iter().any(|k| k.starts_with("nick_name_dob/1:ROBERT|SMITH|1980-01-02")),
            "{keys:?}"
        );
    }

    #[test]
    fn placeholders_are_set_aside_and_yield_no_keys() {
        let record = ByteRecord::from(vec!["R2", "", "UNKNOWN", "Smith", "1900-01-01", "ZZ99 3VZ"]);
        let row = normalise_record(&plan(), &record).expect("accepted");
        assert_eq!(
            row.set_aside,
            vec![SetAside::NamePlaceholder, SetAside::DobSentinel, SetAside::PostcodePlaceholder]
        );
        assert!(derive_keys(&row.ids).is_empty());
    }
}
