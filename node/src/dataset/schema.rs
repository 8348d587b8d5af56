//! Dataset schemas: what each column of a partner's extract means. A schema file names the
//! dataset, the column that is the source's own record id, and each column's role: a subject
//! identifier (NHS number, names, date of birth, postcode, UPRN, …), the event's date and time,
//! a categorical attribute with its code list, a geography code, a numeric value, or the
//! subject's role in the event. Import validates every row against it; linkage and aggregates
//! later use only what the schema declares.
//!
//! Schemas live in their own TOML files, listed in the node config under `[[dataset]]`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What to do with an NHS number whose check digit is wrong (domain.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InvalidNhsNumber {
    /// Keep the row, without an NHS-number match key (the default: the rest of the row is
    /// still good evidence, and dropping it would bias counts).
    #[default]
    DropKey,
    /// Put the whole row in quarantine.
    Quarantine,
}

/// A geography level for `geography` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeographyLevel {
    /// Output area.
    Oa,
    /// Lower-layer super output area.
    Lsoa,
    /// Middle-layer super output area.
    Msoa,
    /// Electoral ward.
    Ward,
    /// Local authority.
    LocalAuthority,
}

/// The role of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnRole {
    /// Free-text address (house number and street); used for the postcode + house-number key.
    AddressText,
    /// Another name the subject is known by, "FORENAMES SURNAME" (police aliases). Several
    /// alias columns may exist; a column may also hold several aliases separated by `;`.
    Alias,
    /// A categorical attribute. With `codes`, any other value is quarantined.
    Category {
        /// The allowed codes, if the code list is known.
        codes: Option<BTreeSet<String>>,
    },
    /// Date of birth.
    Dob,
    /// The event's date (no time).
    EventDate,
    /// The event's date and time.
    EventDatetime,
    /// Forename(s), given names.
    Forenames,
    /// A geography code (LSOA, ward, local authority …).
    Geography {
        /// Which level.
        level: GeographyLevel,
    },
    /// A column the node keeps nowhere (free text, say).
    Ignore,
    /// Another identifier local to the source (nominal id, LAchildID, UPN …): stored, never a
    /// cross-agency key.
    LocalId,
    /// NHS number.
    NhsNumber,
    /// NHS NUMBER STATUS INDICATOR CODE (01–08).
    NhsNumberStatus,
    /// A numeric value with declared bounds; values outside them are quarantined.
    Numeric {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// Parent UPRN (the building of a flat).
    ParentUprn,
    /// Postcode of the subject's address.
    Postcode,
    /// The source's own record id: unique per record, the key for idempotent re-import.
    RecordId,
    /// Sex or gender code.
    Sex,
    /// The subject's role in the event (victim, suspect, finder …).
    SubjectRole {
        /// The allowed roles, if known.
        codes: Option<BTreeSet<String>>,
    },
    /// Surname, family name.
    Surname,
    /// Unique Property Reference Number.
    Uprn,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ColumnFile", into = "ColumnFile")]
pub struct Column {
    /// The header name in the extract, exactly.
    pub name: String,
    /// What it means.
    pub role: ColumnRole,
    /// A row without a value here is quarantined.
    pub required: bool,
}

/// A `[[column]]` table as written: the role's parameters sit beside `role`. Unknown keys are
/// refused, so a misspelt `requierd` cannot silently relax a rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    name: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    codes: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<GeographyLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
    #[serde(default, skip_serializing_if = "is_false")]
    required: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl TryFrom<ColumnFile> for Column {
    type Error = String;

    fn try_from(f: ColumnFile) -> Result<Self, String> {
        let name = f.name.clone();
        let unexpected =
            |key: &str| format!("column {name:?}: key `{key}` does not apply to role {:?}", f.role);
        let takes_codes = matches!(f.role.as_str(), "category" | "subject_role");
        if f.codes.is_some() && !takes_codes {
            return Err(unexpected("codes"));
        }
        if f.level.is_some() && f.role != "geography" {
            return Err(unexpected("level"));
        }
        if (f.min.is_some() || f.max.is_some()) && f.role != "numeric" {
            return Err(unexpected("min/max"));
        }
        let role = match f.role.as_str() {
            "address_text" => ColumnRole::AddressText,
            "alias" => ColumnRole::Alias,
            "category" => ColumnRole::Category { codes: f.codes },
            "dob" => ColumnRole::Dob,
            "event_date" => ColumnRole::EventDate,
            "event_datetime" => ColumnRole::EventDatetime,
            "forenames" => ColumnRole::Forenames,
            "geography" => ColumnRole::Geography {
                level: f
                    .level
                    .ok_or_else(|| format!("column {name:?}: role geography needs `level`"))?,
            },
            "ignore" => ColumnRole::Ignore,
            "local_id" => ColumnRole::LocalId,
            "nhs_number" => ColumnRole::NhsNumber,
            "nhs_number_status" => ColumnRole::NhsNumberStatus,
            "numeric" => match (f.min, f.max) {
                (Some(min), Some(max)) if min.is_finite() && max.is_finite() && min <= max => {
                    ColumnRole::Numeric { min, max }
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "column {name:?}: `min` and `max` must be finite numbers with min <= max"
                    ));
                }
                _ => return Err(format!("column {name:?}: role numeric needs `min` and `max`")),
            },
            "parent_uprn" => ColumnRole::ParentUprn,
            "postcode" => ColumnRole::Postcode,
            "record_id" => ColumnRole::RecordId,
            "sex" => ColumnRole::Sex,
            "subject_role" => ColumnRole::SubjectRole { codes: f.codes },
            "surname" => ColumnRole::Surname,
            "uprn" => ColumnRole::Uprn,
            other => return Err(format!("column {name:?}: unknown role {other:?}")),
        };
        Ok(Column { name: f.name, role, required: f.required })
    }
}

impl From<Column> for ColumnFile {
    fn from(c: Column) -> Self {
        let mut f = ColumnFile {
            name: c.name,
            role: c.role.name().to_string(),
            codes: None,
            level: None,
            min: None,
            max: None,
            required: c.required,
        };
        match c.role {
            ColumnRole::Category { codes } | ColumnRole::SubjectRole { codes } => f.codes = codes,
            ColumnRole::Geography { level } => f.level = Some(level),
            ColumnRole::Numeric { min, max } => {
                f.min = Some(min);
                f.max = Some(max);
            }
            _ => {}
        }
        f
    }
}

/// What the records of a dataset are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A person (ED attendances, referrals, death reports …).
    Person,
    /// An address (gazetteer rows, locations).
    Address,
    /// An event without a subject of its own (ISTV rows).
    Event,
}

/// A dataset schema file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSchema {
    /// Dataset name: lowercase letters, digits and `_`, starting with a letter.
    pub name: String,
    /// What the dataset is, for people reading `describe`.
    pub description: String,
    /// What each record is about.
    pub subject: Subject,
    /// What to do with an NHS number whose check digit fails.
    #[serde(default)]
    pub invalid_nhs_number: InvalidNhsNumber,
    /// Field separator (default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The columns, in any order; the extract may order its columns differently.
    #[serde(rename = "column")]
    pub columns: Vec<Column>,
}

fn default_delimiter() -> char {
    ','
}

/// Why a schema is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// The TOML does not parse.
    #[error("{0}")]
    Parse(String),
    /// The name is not a safe identifier.
    #[error(
        "dataset name {0:?} must be lowercase letters, digits and '_', start with a letter, and \
         be at most 48 characters"
    )]
    BadName(String),
    /// No record-id column, or more than one.
    #[error("a dataset needs exactly one column with role = \"record_id\" (found {0})")]
    RecordId(usize),
    /// A single-valued role appears twice.
    #[error("role {role} is given to two columns: {first:?} and {second:?}")]
    DuplicateRole {
        /// The role.
        role: &'static str,
        /// The first column.
        first: String,
        /// The second column.
        second: String,
    },
    /// Two columns share a header name.
    #[error("column {0:?} is listed twice")]
    DuplicateColumn(String),
    /// Numeric bounds are not ordered.
    #[error("column {0:?}: min must be at most max")]
    Bounds(String),
    /// The delimiter is not a single ASCII byte.
    #[error("delimiter must be one ASCII character")]
    Delimiter,
}

impl ColumnRole {
    /// The role's name as written in schema files.
    pub fn name(&self) -> &'static str {
        match self {
            ColumnRole::AddressText => "address_text",
            ColumnRole::Alias => "alias",
            ColumnRole::Category { .. } => "category",
            ColumnRole::Dob => "dob",
            ColumnRole::EventDate => "event_date",
            ColumnRole::EventDatetime => "event_datetime",
            ColumnRole::Forenames => "forenames",
            ColumnRole::Geography { .. } => "geography",
            ColumnRole::Ignore => "ignore",
            ColumnRole::LocalId => "local_id",
            ColumnRole::NhsNumber => "nhs_number",
            ColumnRole::NhsNumberStatus => "nhs_number_status",
            ColumnRole::Numeric { .. } => "numeric",
            ColumnRole::ParentUprn => "parent_uprn",
            ColumnRole::Postcode => "postcode",
            ColumnRole::RecordId => "record_id",
            ColumnRole::Sex => "sex",
            ColumnRole::SubjectRole { .. } => "subject_role",
            ColumnRole::Surname => "surname",
            ColumnRole::Uprn => "uprn",
        }
    }

    /// Whether at most one column may have this role.
    fn single(&self) -> bool {
        !matches!(
            self,
            ColumnRole::Alias
                | ColumnRole::Category { .. }
                | ColumnRole::Geography { .. }
                | ColumnRole::Ignore
                | ColumnRole::LocalId
                | ColumnRole::Numeric { .. }
        )
    }
}

impl DatasetSchema {
    /// Parses and checks a schema file's text.
    pub fn from_toml(text: &str) -> Result<Self, SchemaError> {
        let schema: DatasetSchema =
            toml::from_str(text).map_err(|e| SchemaError::Parse(e.to_string()))?;
        schema.check()?;
        Ok(schema)
    }

    /// The schema as TOML (what `fedlink synth` writes).
    pub fn to_toml(&self) -> Result<String, SchemaError> {
        toml::to_string_pretty(self).map_err(|e| SchemaError::Parse(e.to_string()))
    }

    /// Checks the rules the TOML shape cannot express.
    pub fn check(&self) -> Result<(), SchemaError> {
        if !valid_dataset_name(&self.name) {
            return Err(SchemaError::BadName(self.name.clone()));
        }
        if !self.delimiter.is_ascii() {
            return Err(SchemaError::Delimiter);
        }
        let ids = self.columns.iter().filter(|c| c.role == ColumnRole::RecordId).count();
        if ids != 1 {
            return Err(SchemaError::RecordId(ids));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if let ColumnRole::Numeric { min, max } = c.role
                && min.partial_cmp(&max).is_none_or(|o| o == std::cmp::Ordering::Greater)
            {
                return Err(SchemaError::Bounds(c.name.clone()));
            }
            for earlier in &self.columns[..i] {
                if earlier.name == c.name {
                    return Err(SchemaError::DuplicateColumn(c.name.clone()));
                }
                if c.role.single() && earlier.role.name() == c.role.name() {
                    return Err(SchemaError::DuplicateRole {
                        role: c.role.name(),
                        first: earlier.name.clone(),
                        second: c.name.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The column with a single-valued role, if any.
    pub fn column_with(&self, role: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.role.name() == role)
    }
}

/// Whether a dataset name is safe to use as part of an SQL table name.
pub fn valid_dataset_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECDS: &str = r#"
name = "ecds"
description = "ED attendances"
subject = "person"

[[column]]
name = "EC_Ident"
role = "record_id"

[[column]]
name = "NHS_Number"
role = "nhs_number"

[[column]]
name = "EC_Injury_Intent_SNOMED_CT"
role = "category"
codes = ["276853009", "1240651000000109"]

[[column]]
name = "Der_Postcode_LSOA_Code"
role = "geography"
level = "lsoa"

[[column]]
name = "Age_At_Arrival"
role = "numeric"
min = 0
max = 120
"#;

    #[test]
    fn parses_and_round_trips() {
        let schema = DatasetSchema::from_toml(ECDS).expect("parses");
        assert_eq!(schema.columns.len(), 5);
        assert_eq!(schema.invalid_nhs_number, InvalidNhsNumber::DropKey);
        let again = DatasetSchema::from_toml(&schema.to_toml().expect("toml")).expect("again");
        assert_eq!(schema, again);
    }

    #[test]
    fn refuses_unsafe_names_missing_ids_and_duplicate_roles() {
        let bad_name = ECDS.replace("name = \"ecds\"", "name = \"ecds; DROP TABLE x\"");
        assert!(matches!(DatasetSchema::from_toml(&bad_name), Err(SchemaError::BadName(_))));
        let no_id = ECDS.replace("role = \"record_id\"", "role = \"local_id\"");
        assert_eq!(DatasetSchema::from_toml(&no_id), Err(SchemaError::RecordId(0)));
        let two_nhs = format!("{ECDS}\n[[column]]\nname = \"NHS2\"\nrole = \"nhs_number\"\n");
        assert!(matches!(
            DatasetSchema::from_toml(&two_nhs),
            Err(SchemaError::DuplicateRole { role: "nhs_number", .. })
        ));
    }
}
