//! Building dataset schemas: a [`Columns`] list with one method per column role, so each
//! renderer declares its columns in the order it writes them.

use std::collections::BTreeSet;

use fedlink_node::dataset::schema::{
    Column, ColumnRole, DatasetSchema, GeographyLevel, InvalidNhsNumber, Subject,
};

/// Columns in write order.
#[derive(Debug, Default)]
pub struct Columns(Vec<Column>);

fn codes<'a>(list: impl IntoIterator<Item = &'a str>) -> Option<BTreeSet<String>> {
    Some(list.into_iter().map(str::to_string).collect())
}

impl Columns {
    /// An empty list.
    pub fn new() -> Columns {
        Columns::default()
    }

    fn push(mut self, name: &str, role: ColumnRole, required: bool) -> Columns {
        self.0.push(Column { name: name.to_string(), role, required });
        self
    }

    /// The record id (required).
    pub fn record_id(self, name: &str) -> Columns {
        self.push(name, ColumnRole::RecordId, true)
    }
    /// A local identifier.
    pub fn local_id(self, name: &str) -> Columns {
        self.push(name, ColumnRole::LocalId, false)
    }
    /// NHS number.
    pub fn nhs(self, name: &str) -> Columns {
        self.push(name, ColumnRole::NhsNumber, false)
    }
    /// NHS number status indicator.
    pub fn nhs_status(self, name: &str) -> Columns {
        self.push(name, ColumnRole::NhsNumberStatus, false)
    }
    /// Forenames.
    pub fn forenames(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Forenames, false)
    }
    /// Surname.
    pub fn surname(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Surname, false)
    }
    /// Alias.
    pub fn alias(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Alias, false)
    }
    /// Date of birth.
    pub fn dob(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Dob, false)
    }
    /// Sex.
    pub fn sex(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Sex, false)
    }
    /// Postcode.
    pub fn postcode(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Postcode, false)
    }
    /// UPRN.
    pub fn uprn(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Uprn, false)
    }
    /// Parent UPRN.
    pub fn parent_uprn(self, name: &str) -> Columns {
        self.push(name, ColumnRole::ParentUprn, false)
    }
    /// Free-text address.
    pub fn address_text(self, name: &str) -> Columns {
        self.push(name, ColumnRole::AddressText, false)
    }
    /// The event's date (required).
    pub fn event_date(self, name: &str) -> Columns {
        self.push(name, ColumnRole::EventDate, true)
    }
    /// The event's date and time (required).
    pub fn event_datetime(self, name: &str) -> Columns {
        self.push(name, ColumnRole::EventDatetime, true)
    }
    /// A category with a code list.
    pub fn category<'a>(self, name: &str, list: impl IntoIterator<Item = &'a str>) -> Columns {
        self.push(name, ColumnRole::Category { codes: codes(list) }, false)
    }
    /// A category without a fixed code list.
    pub fn category_open(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Category { codes: None }, false)
    }
    /// `Y`/`N` flag.
    pub fn flag(self, name: &str) -> Columns {
        self.category(name, ["Y", "N"])
    }
    /// A geography code.
    pub fn geography(self, name: &str, level: GeographyLevel) -> Columns {
        self.push(name, ColumnRole::Geography { level }, false)
    }
    /// A number within bounds.
    pub fn numeric(self, name: &str, min: f64, max: f64) -> Columns {
        self.push(name, ColumnRole::Numeric { min, max }, false)
    }
    /// The subject's role in the event.
    pub fn role<'a>(self, name: &str, list: impl IntoIterator<Item = &'a str>) -> Columns {
        self.push(name, ColumnRole::SubjectRole { codes: codes(list) }, false)
    }
    /// A column the node keeps nowhere.
    pub fn ignore(self, name: &str) -> Columns {
        self.push(name, ColumnRole::Ignore, false)
    }

    /// The schema.
    pub fn schema(self, name: &str, description: &str, subject: Subject) -> DatasetSchema {
        DatasetSchema {
            name: name.to_string(),
            description: description.to_string(),
            subject,
            invalid_nhs_number: InvalidNhsNumber::DropKey,
            delimiter: ',',
            columns: self.0,
        }
    }
}
