//! A subject as an operator names one for a search: an NHS number (Modulus 11 checked), or a
//! name with a date of birth, normalised exactly as import and the `name_dob` match key
//! normalise them, so the search meets the tokens the node logged.

use std::fmt;

use crate::matchkey::{Identifiers, KeyType, derive_keys_of};
use crate::normalise::date::{DateField, parse_date};
use crate::normalise::name::{NameField, split_alias};
use crate::normalise::nhs::{NhsNumber, NhsNumberError};

/// One identifier of one person, normalised.
#[derive(Clone, PartialEq, Eq)]
pub enum SubjectIdentifier {
    /// A valid NHS number.
    NhsNumber(NhsNumber),
    /// The `name_dob` match key's value: `FORENAME|SURNAME|YYYY-MM-DD`.
    NameDob(String),
}

/// Debug never shows the identifier (it is one).
impl fmt::Debug for SubjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NhsNumber(_) => f.write_str("NhsNumber(<redacted>)"),
            Self::NameDob(_) => f.write_str("NameDob(<redacted>)"),
        }
    }
}

/// Why a typed identifier cannot name a subject. The messages never repeat the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Not a valid NHS number.
    #[error("not a valid NHS number: {0}")]
    NhsNumber(NhsNumberError),
    /// The name has no usable forename and surname.
    #[error(
        "the name must give a forename and a surname, as \"FORENAME SURNAME\" or \"SURNAME, \
         FORENAME\" (a placeholder such as UNKNOWN is not a name)"
    )]
    Name,
    /// The date of birth does not parse or is a placeholder date.
    #[error("the date of birth is {0} (write it as YYYY-MM-DD)")]
    Dob(&'static str),
}

impl SubjectIdentifier {
    /// An NHS number, spaces and hyphens allowed.
    pub fn nhs_number(raw: &str) -> Result<SubjectIdentifier, IdentifierError> {
        NhsNumber::parse(raw).map(Self::NhsNumber).map_err(IdentifierError::NhsNumber)
    }

    /// A name and date of birth. The name is "FORENAMES SURNAME" (the last word is the
    /// surname, with particles such as MAC or DE joined to it) or "SURNAME, FORENAMES"; each
    /// part is normalised as import normalises names, and only the first forename counts, as
    /// in the `name_dob` match key.
    pub fn name_dob(name: &str, dob: &str) -> Result<SubjectIdentifier, IdentifierError> {
        let mut parts = split_alias(name);
        let (forenames, surname) = match (parts.pop(), parts.is_empty()) {
            (Some((NameField::Present(f), NameField::Present(s))), true) => (f, s),
            _ => return Err(IdentifierError::Name),
        };
        let dob = match parse_date(dob) {
            Ok(DateField::Known(d)) => d,
            Ok(DateField::Sentinel(_)) => {
                return Err(IdentifierError::Dob("a placeholder date that no record holds"));
            }
            Ok(DateField::Missing) => return Err(IdentifierError::Dob("empty")),
            Err(_) => return Err(IdentifierError::Dob("not a date in a recognised format")),
        };
        let ids = Identifiers {
            forenames: Some(forenames),
            surname: Some(surname),
            dob: Some(dob),
            ..Identifiers::default()
        };
        // The match key's own derivation, so the value is exactly what a record of this person
        // gives (the module's tests hold the two together).
        derive_keys_of(&ids, &[KeyType::NameDob])
            .into_iter()
            .next()
            .map(|key| Self::NameDob(key.value().to_string()))
            .ok_or(IdentifierError::Name)
    }
}
