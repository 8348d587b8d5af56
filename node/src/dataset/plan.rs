//! The import plan: a schema matched against a file's header. It says, for each schema column,
//! which CSV field holds it and which SQL column stores it, and refuses a file whose columns do
//! not match the schema, naming what it expected.

use std::collections::HashMap;

use crate::dataset::schema::{ColumnRole, DatasetSchema};

/// Why a file cannot be imported at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    /// The header row is missing or empty.
    #[error("the file has no header row")]
    NoHeader,
    /// The header is not UTF-8 (or the file is UTF-16, say).
    #[error(
        "the header row is not UTF-8 text (is the file UTF-16 or another encoding?); save it as UTF-8 CSV"
    )]
    HeaderEncoding,
    /// Schema columns absent from the header.
    #[error("the file lacks column(s) {missing:?}; the schema for {dataset} expects {expected:?}")]
    MissingColumns {
        /// The dataset.
        dataset: String,
        /// Columns the schema names that the header lacks.
        missing: Vec<String>,
        /// Every column the schema names.
        expected: Vec<String>,
    },
    /// Header columns the schema does not name.
    #[error(
        "the file has column(s) {unexpected:?} that the schema for {dataset} does not name; add \
         them to the schema (with role = \"ignore\" to skip them) so nothing is read by accident"
    )]
    UnexpectedColumns {
        /// The dataset.
        dataset: String,
        /// The extra columns.
        unexpected: Vec<String>,
    },
    /// A header name appears twice.
    #[error("the header names column {0:?} twice")]
    DuplicateHeader(String),
}

/// An attribute column: stored as it is (after validation) in its own SQL column.
#[derive(Debug, Clone)]
pub struct AttributeColumn {
    /// The header name.
    pub name: String,
    /// Its role (category, geography, numeric, local id or subject role).
    pub role: ColumnRole,
    /// Position in the CSV record.
    pub position: usize,
    /// The SQL column that stores it.
    pub sql: String,
    /// Whether an empty value sends the row to quarantine.
    pub required: bool,
}

/// A single-valued identifier or event column.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Position in the CSV record.
    pub position: usize,
    /// Whether an empty value sends the row to quarantine.
    pub required: bool,
}

/// Where each single-valued role is, resolved once per file so the per-row path does no
/// lookups by name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Roles {
    /// The source's record id.
    pub record_id: Option<Field>,
    /// NHS number.
    pub nhs_number: Option<Field>,
    /// NHS number status indicator.
    pub nhs_number_status: Option<Field>,
    /// Forename(s).
    pub forenames: Option<Field>,
    /// Surname.
    pub surname: Option<Field>,
    /// Date of birth.
    pub dob: Option<Field>,
    /// Sex.
    pub sex: Option<Field>,
    /// Postcode.
    pub postcode: Option<Field>,
    /// UPRN.
    pub uprn: Option<Field>,
    /// Parent UPRN.
    pub parent_uprn: Option<Field>,
    /// Free-text address.
    pub address_text: Option<Field>,
    /// Event date.
    pub event_date: Option<Field>,
    /// Event date and time.
    pub event_datetime: Option<Field>,
    /// The subject's role in the event.
    pub subject_role: Option<Field>,
}

/// A schema matched to a header.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The schema.
    pub schema: DatasetSchema,
    /// Number of fields every record must have.
    pub width: usize,
    /// The header names, in file order.
    pub header: Vec<String>,
    /// Where each single-valued role is, by role name.
    pub fields: HashMap<&'static str, Field>,
    /// The same, resolved into named slots.
    pub roles: Roles,
    /// Alias columns.
    pub aliases: Vec<Field>,
    /// Attribute columns.
    pub attributes: Vec<AttributeColumn>,
    /// The CSV position of every schema column, in schema order (for the row hash).
    pub schema_positions: Vec<usize>,
}

impl ImportPlan {
    /// Matches a schema against a header row.
    pub fn new(schema: &DatasetSchema, header: &[String]) -> Result<Self, FileError> {
        if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
            return Err(FileError::NoHeader);
        }
        let mut positions = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            let h = h.trim_start_matches('\u{feff}').trim();
            if positions.insert(h.to_string(), i).is_some() {
                return Err(FileError::DuplicateHeader(h.to_string()));
            }
        }
        let expected: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
        let missing: Vec<String> =
            expected.iter().filter(|n| !positions.contains_key(*n)).cloned().collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns {
                dataset: schema.name.clone(),
                missing,
                expected,
            });
        }
        let mut unexpected: Vec<String> =
            positions.keys().filter(|h| !expected.contains(h)).cloned().collect();
        if !unexpected.is_empty() {
            unexpected.sort();
            return Err(FileError::UnexpectedColumns { dataset: schema.name.clone(), unexpected });
        }

        let mut fields = HashMap::new();
        let mut aliases = Vec::new();
        let mut attributes = Vec::new();
        for column in &schema.columns {
            let position = positions.get(&column.name).copied().unwrap_or_default();
            let field = Field { position, required: column.required };
            match &column.role {
                ColumnRole::Ignore => {}
                ColumnRole::Alias => aliases.push(field),
                ColumnRole::Category { .. }
                | ColumnRole::Geography { .. }
                | ColumnRole::LocalId
                | ColumnRole::Numeric { .. } => attributes.push(AttributeColumn {
                    name: column.name.clone(),
                    role: column.role.clone(),
                    position,
                    sql: String::new(),
                    required: column.required,
                }),
                single => {
                    fields.insert(single.name(), field);
                }
            }
        }
        for (attribute, (_, sql)) in attributes.iter_mut().zip(attribute_columns(schema)) {
            attribute.sql = sql;
        }
        let schema_positions = schema
            .columns
            .iter()
            .map(|c| positions.get(&c.name).copied().unwrap_or_default())
            .collect();
        let at = |role: &str| fields.get(role).copied();
        let roles = Roles {
            record_id: at("record_id"),
            nhs_number: at("nhs_number"),
            nhs_number_status: at("nhs_number_status"),
            forenames: at("forenames"),
            surname: at("surname"),
            dob: at("dob"),
            sex: at("sex"),
            postcode: at("postcode"),
            uprn: at("uprn"),
            parent_uprn: at("parent_uprn"),
            address_text: at("address_text"),
            event_date: at("event_date"),
            event_datetime: at("event_datetime"),
            subject_role: at("subject_role"),
        };
        Ok(Self {
            roles,
            schema_positions,
            schema: schema.clone(),
            width: header.len(),
            header: header.to_vec(),
            fields,
            aliases,
            attributes,
        })
    }

    /// The field holding a single-valued role, if the schema has it.
    pub fn field(&self, role: &str) -> Option<Field> {
        self.fields.get(role).copied()
    }
}

/// The attribute columns of a schema (category, geography, local id, numeric), in schema order,
/// with the SQL column that stores each. The store and the aggregate compiler both use this, so
/// they always agree.
pub fn attribute_columns(schema: &DatasetSchema) -> Vec<(&crate::dataset::schema::Column, String)> {
    let attributes: Vec<&crate::dataset::schema::Column> = schema
        .columns
        .iter()
        .filter(|c| {
            matches!(
                c.role,
                ColumnRole::Category { .. }
                    | ColumnRole::Geography { .. }
                    | ColumnRole::LocalId
                    | ColumnRole::Numeric { .. }
            )
        })
        .collect();
    let names: Vec<String> = attributes.iter().map(|c| c.name.clone()).collect();
    attributes.into_iter().zip(sql_names(&names)).collect()
}

/// SQL column names for attribute columns: `a_` and the header lowercased with every other
/// character replaced by `_`, made unique. Only these generated names ever reach SQL text;
/// header names themselves never do.
pub fn sql_names(headers: &[String]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for h in headers {
        let base: String = h
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .take(40)
            .collect();
        let mut name = format!("a_{base}");
        let mut n = 2;
        while used.contains(&name) {
            name = format!("a_{base}_{n}");
            n += 1;
        }
        used.push(name);
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> DatasetSchema {
        DatasetSchema::from_toml(
            r#"
name = "ecds"
description = "ED"
subject = "person"
[[column]]
name = "EC_Ident"
role = "record_id"
[[column]]
name = "NHS_Number"
role = "nhs_number"
[[column]]
name = "Site"
role = "category"
[[column]]
name = "Notes"
role = "ignore"
"#,
        )
        .expect("schema")
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matches_columns_in_any_order() {
        let plan =
            ImportPlan::new(&schema(), &header(&["Notes", "Site", "NHS_Number", "EC_Ident"]))
                .expect("plan");
        assert_eq!(plan.field("record_id").map(|f| f.position), Some(3));
        assert_eq!(plan.attributes[0].sql, "a_site");
    }

    #[test]
    fn names_what_is_missing_or_unexpected() {
        let err = ImportPlan::new(&schema(), &header(&["EC_Ident", "Site", "Notes"])).unwrap_err();
        assert!(err.to_string().contains("NHS_Number"), "{err}");
        let err = ImportPlan::new(
            &schema(),
            &header(&["EC_Ident", "NHS_Number", "Site", "Notes", "Secret"]),
        )
        .unwrap_err();
        assert!(matches!(err, FileError::UnexpectedColumns { .. }), "{err}");
    }

    #[test]
    fn sql_names_are_safe_and_unique() {
        let names = sql_names(&header(&["a b", "a-b", "x\"; DROP TABLE t; --"]));
        assert_eq!(names[0], "a_a_b");
        assert_eq!(names[1], "a_a_b_2");
        assert!(names[2].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}
