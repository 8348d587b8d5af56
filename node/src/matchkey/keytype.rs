//! The key types: each names which normalised fields a match key joins, carries a version that
//! changes whenever its value would change for the same record, and says which error it
//! survives. The table in the [module docs](super) describes them all.

use std::fmt;

/// The most aliases a record's keys are derived for (police records list a few at most).
pub const MAX_ALIASES: usize = 3;

/// The most characters of a name whose deletions the deletion-neighbourhood keys take.
pub const MAX_DELETION_CHARS: usize = 15;

/// The most surname parts `name_surpart_dob` keys one name (SMITH-JONES has two).
pub const MAX_SURNAME_PARTS: usize = 3;

/// One kind of match key. Variants are in the order of [`KeyType::ALL`], strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyType {
    /// NHS number.
    Nhs,
    /// First forename, surname, date of birth.
    NameDob,
    /// First forename, one token of the surname, date of birth.
    NameSurnamePartDob,
    /// Initial of the first forename, surname, date of birth.
    InitialSurnameDob,
    /// NYSIIS codes of first forename and surname, date of birth.
    PhoneticNameDob,
    /// First forename, surname, birth year and the unordered pair {day, month}.
    DobSwapNameDob,
    /// The unordered pair {first forename, surname}, date of birth.
    TransposedNameDob,
    /// Nickname-canonical first forename, surname, date of birth.
    NicknameDob,
    /// First forename, surname, birth year and month (the day of birth wrong).
    NameYearMonth,
    /// First forename, surname, birth month and day (the year of birth wrong).
    NameMonthDay,
    /// First forename, surname, birth year and day (the month of birth wrong).
    NameYearDay,
    /// The first forename or one of its one-character deletions, surname, date of birth.
    ForenameDeletionDob,
    /// First forename, the surname or one of its one-character deletions, date of birth.
    SurnameDeletionDob,
    /// First forename, surname, postcode, birth year.
    NamePostcodeBirthYear,
    /// Surname, date of birth, postcode.
    SurnameDobPostcode,
    /// First forename, date of birth, postcode.
    ForenameDobPostcode,
    /// UPRN of the address.
    Uprn,
    /// Parent UPRN (the building of a flat).
    ParentUprn,
    /// Postcode and building number.
    PostcodeHouse,
}

/// Which field comparison a key type's agreement is read as (issue 6): the scoring model reads
/// an agreement pattern as one agreement *level* per family — the strongest key type of the
/// family that agrees, in [`KeyType::ALL`] order — so a day/month-swap key agreeing alone is a
/// weaker level of the same comparison than the exact date of birth, never an independent
/// second piece of evidence beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyFamily {
    /// The NHS number.
    Nhs,
    /// Names and the full date of birth, exact or relaxed.
    NameDob,
    /// Keys that join the postcode to names and date (or year) of birth.
    Postcode,
    /// Address keys (UPRN, parent UPRN, postcode + house).
    Address,
}

impl KeyFamily {
    /// The family's name in calibrations and reports.
    pub fn name(self) -> &'static str {
        match self {
            KeyFamily::Nhs => "nhs",
            KeyFamily::NameDob => "name_dob",
            KeyFamily::Postcode => "postcode",
            KeyFamily::Address => "address",
        }
    }
}

/// What a key identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySubject {
    /// A person.
    Person,
    /// An address (household or building), for address linkage.
    Address,
}

impl KeyType {
    /// Every key type, strongest person keys first, then address keys.
    pub const ALL: &[KeyType] = &[
        KeyType::Nhs,
        KeyType::NameDob,
        KeyType::NameSurnamePartDob,
        KeyType::InitialSurnameDob,
        KeyType::PhoneticNameDob,
        KeyType::DobSwapNameDob,
        KeyType::TransposedNameDob,
        KeyType::NicknameDob,
        KeyType::NameYearMonth,
        KeyType::NameMonthDay,
        KeyType::NameYearDay,
        KeyType::ForenameDeletionDob,
        KeyType::SurnameDeletionDob,
        KeyType::NamePostcodeBirthYear,
        KeyType::SurnameDobPostcode,
        KeyType::ForenameDobPostcode,
        KeyType::Uprn,
        KeyType::ParentUprn,
        KeyType::PostcodeHouse,
    ];

    /// The stable short name used in key strings, policies and reports. Never reused.
    pub fn tag(self) -> &'static str {
        match self {
            KeyType::Nhs => "nhs",
            KeyType::NameDob => "name_dob",
            KeyType::NameSurnamePartDob => "name_surpart_dob",
            KeyType::InitialSurnameDob => "init_sur_dob",
            KeyType::PhoneticNameDob => "phon_name_dob",
            KeyType::DobSwapNameDob => "dobswap_name_dob",
            KeyType::TransposedNameDob => "transposed_name_dob",
            KeyType::NicknameDob => "nick_name_dob",
            KeyType::NameYearMonth => "name_dob_ym",
            KeyType::NameMonthDay => "name_dob_md",
            KeyType::NameYearDay => "name_dob_yd",
            KeyType::ForenameDeletionDob => "foredel_sur_dob",
            KeyType::SurnameDeletionDob => "fore_surdel_dob",
            KeyType::NamePostcodeBirthYear => "name_pcd_yob",
            KeyType::SurnameDobPostcode => "sur_dob_pcd",
            KeyType::ForenameDobPostcode => "fore_dob_pcd",
            KeyType::Uprn => "uprn",
            KeyType::ParentUprn => "parent_uprn",
            KeyType::PostcodeHouse => "pcd_house",
        }
    }

    /// The key type with this tag.
    pub fn from_tag(tag: &str) -> Option<KeyType> {
        KeyType::ALL.iter().copied().find(|kt| kt.tag() == tag)
    }

    /// The key type's number on the wire, which picks its hash-to-group tag
    /// (`fedlink_proto::blind::linkage_dst`). An explicit table, not the enum's discriminant:
    /// reordering or inserting variants must not change a number, and a retired key type's
    /// number is never given to another (0 is never used).
    pub fn wire_id(self) -> u16 {
        match self {
            KeyType::Nhs => 1,
            KeyType::NameDob => 2,
            KeyType::NameSurnamePartDob => 3,
            KeyType::InitialSurnameDob => 4,
            KeyType::PhoneticNameDob => 5,
            KeyType::DobSwapNameDob => 6,
            KeyType::TransposedNameDob => 7,
            KeyType::NicknameDob => 8,
            KeyType::NamePostcodeBirthYear => 9,
            KeyType::SurnameDobPostcode => 10,
            KeyType::ForenameDobPostcode => 11,
            KeyType::Uprn => 12,
            KeyType::ParentUprn => 13,
            KeyType::PostcodeHouse => 14,
            KeyType::NameYearMonth => 15,
            KeyType::NameMonthDay => 16,
            KeyType::NameYearDay => 17,
            KeyType::ForenameDeletionDob => 18,
            KeyType::SurnameDeletionDob => 19,
        }
    }

    /// The key type with this wire number.
    pub fn from_wire_id(id: u16) -> Option<KeyType> {
        KeyType::ALL.iter().copied().find(|kt| kt.wire_id() == id)
    }

    /// The version of this key type's derivation. Bump it whenever the value derived from the
    /// same normalised record would change (a normaliser rule, the nickname table, the
    /// phonetic code), so keys of different versions are never compared as equal.
    pub fn version(self) -> u16 {
        match self {
            KeyType::Nhs
            | KeyType::NameDob
            | KeyType::NameSurnamePartDob
            | KeyType::InitialSurnameDob
            | KeyType::PhoneticNameDob
            | KeyType::DobSwapNameDob
            | KeyType::TransposedNameDob
            | KeyType::NicknameDob
            | KeyType::NameYearMonth
            | KeyType::NameMonthDay
            | KeyType::NameYearDay
            | KeyType::ForenameDeletionDob
            | KeyType::SurnameDeletionDob
            | KeyType::NamePostcodeBirthYear
            | KeyType::SurnameDobPostcode
            | KeyType::ForenameDobPostcode
            | KeyType::Uprn
            | KeyType::ParentUprn
            | KeyType::PostcodeHouse => 1,
        }
    }

    /// One line: which fields, and which error the key survives.
    pub fn describe(self) -> &'static str {
        match self {
            KeyType::Nhs => {
                "NHS number (status 01/02 or none); survives any error in names, DOB or address"
            }
            KeyType::NameDob => {
                "first forename, surname, DOB; survives a missing NHS number and a move"
            }
            KeyType::NameSurnamePartDob => {
                "first forename, each surname part, DOB; survives a double-barrelled surname recorded in part"
            }
            KeyType::InitialSurnameDob => {
                "forename initial, surname, DOB; survives a misspelt, shortened or nicknamed forename"
            }
            KeyType::PhoneticNameDob => {
                "NYSIIS of first forename and surname, DOB; survives spelling variants (SMYTH/SMYTHE)"
            }
            KeyType::DobSwapNameDob => {
                "first forename, surname, birth year, {day, month} unordered; survives a day/month swap"
            }
            KeyType::TransposedNameDob => {
                "{first forename, surname} unordered, DOB; survives forename and surname swapped"
            }
            KeyType::NicknameDob => {
                "nickname-canonical first forename, surname, DOB; survives BOB for ROBERT"
            }
            KeyType::NameYearMonth => {
                "first forename, surname, birth year and month; survives a wrong day of birth"
            }
            KeyType::NameMonthDay => {
                "first forename, surname, birth month and day; survives a wrong year of birth"
            }
            KeyType::NameYearDay => {
                "first forename, surname, birth year and day; survives a wrong month of birth"
            }
            KeyType::ForenameDeletionDob => {
                "each one-character deletion of the first forename (and the forename), surname, DOB; survives one typo in the forename"
            }
            KeyType::SurnameDeletionDob => {
                "first forename, each one-character deletion of the surname (and the surname), DOB; survives one typo in the surname"
            }
            KeyType::NamePostcodeBirthYear => {
                "first forename, surname, postcode, birth year; survives a wrong day or month of birth"
            }
            KeyType::SurnameDobPostcode => {
                "surname, DOB, postcode; survives any forename error (nickname, initial, middle name)"
            }
            KeyType::ForenameDobPostcode => {
                "first forename, DOB, postcode; survives a surname change (marriage) or misspelling"
            }
            KeyType::Uprn => "UPRN; the address itself: household-level address linkage",
            KeyType::ParentUprn => "parent UPRN; the building: links flats of one block or hostel",
            KeyType::PostcodeHouse => {
                "postcode and building number; the address when no UPRN was matched"
            }
        }
    }

    /// The field comparison this key type's agreement is a level of ([`KeyFamily`]).
    pub fn family(self) -> KeyFamily {
        match self {
            KeyType::Nhs => KeyFamily::Nhs,
            KeyType::NameDob
            | KeyType::NameSurnamePartDob
            | KeyType::InitialSurnameDob
            | KeyType::PhoneticNameDob
            | KeyType::DobSwapNameDob
            | KeyType::TransposedNameDob
            | KeyType::NicknameDob
            | KeyType::NameYearMonth
            | KeyType::NameMonthDay
            | KeyType::NameYearDay
            | KeyType::ForenameDeletionDob
            | KeyType::SurnameDeletionDob => KeyFamily::NameDob,
            KeyType::NamePostcodeBirthYear
            | KeyType::SurnameDobPostcode
            | KeyType::ForenameDobPostcode => KeyFamily::Postcode,
            KeyType::Uprn | KeyType::ParentUprn | KeyType::PostcodeHouse => KeyFamily::Address,
        }
    }

    /// The most values of this key type one record yields (its own name and up to
    /// [`MAX_ALIASES`] aliases, each surname part, each one-character deletion …). A tuple
    /// layout pads every key type to `max_values() × rows × time slots`, so the number of
    /// values a subject really has does not show (issue 6); derivation never yields more
    /// (`derive_keys` truncates, own name first).
    pub fn max_values(self) -> usize {
        let names = 1 + MAX_ALIASES;
        match self {
            KeyType::Nhs | KeyType::Uprn | KeyType::ParentUprn | KeyType::PostcodeHouse => 1,
            KeyType::NameSurnamePartDob => names * MAX_SURNAME_PARTS,
            // Own name only: the name and one deletion per character of its first
            // MAX_DELETION_CHARS characters.
            KeyType::ForenameDeletionDob | KeyType::SurnameDeletionDob => 1 + MAX_DELETION_CHARS,
            KeyType::NameDob
            | KeyType::InitialSurnameDob
            | KeyType::PhoneticNameDob
            | KeyType::DobSwapNameDob
            | KeyType::TransposedNameDob
            | KeyType::NicknameDob
            | KeyType::NameYearMonth
            | KeyType::NameMonthDay
            | KeyType::NameYearDay
            | KeyType::NamePostcodeBirthYear
            | KeyType::SurnameDobPostcode
            | KeyType::ForenameDobPostcode => names,
        }
    }

    /// Whether the key identifies a person or an address.
    pub fn subject(self) -> KeySubject {
        match self {
            KeyType::Uprn | KeyType::ParentUprn | KeyType::PostcodeHouse => KeySubject::Address,
            _ => KeySubject::Person,
        }
    }
}

impl fmt::Display for KeyType {
    /// `tag/version`, e.g. `name_dob/1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tag(), self.version())
    }
}

/// One match key: a key type and its value. Made only by [`derive_keys`](super::derive_keys).
///
/// The value joins normalised fields with `|`; no normalised field contains `|`, so the
/// fields can be read back unambiguously.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey {
    key_type: KeyType,
    value: String,
}

impl MatchKey {
    pub(crate) fn new(key_type: KeyType, value: String) -> MatchKey {
        MatchKey { key_type, value }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The value, e.g. `JOHN|SMITH|1980-01-02`.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for MatchKey {
    /// `tag/version:value`, e.g. `nhs/1:9434765919`: the exact string that is hashed to the
    /// group, so a change of version changes every point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key_type, self.value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tags_are_unique_and_round_trip() {
        let tags: HashSet<_> = KeyType::ALL.iter().map(|kt| kt.tag()).collect();
        assert_eq!(tags.len(), KeyType::ALL.len());
        for kt in KeyType::ALL {
            assert_eq!(KeyType::from_tag(kt.tag()), Some(*kt));
            assert!(kt.version() >= 1);
            assert!(!kt.describe().is_empty());
            assert!(kt.tag().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(KeyType::from_tag("nope"), None);
    }

    #[test]
    fn wire_ids_are_distinct_stable_and_invert() {
        let ids: HashSet<u16> = KeyType::ALL.iter().map(|kt| kt.wire_id()).collect();
        assert_eq!(ids.len(), KeyType::ALL.len());
        assert!(!ids.contains(&0));
        for kt in KeyType::ALL {
            assert_eq!(KeyType::from_wire_id(kt.wire_id()), Some(*kt));
        }
        assert_eq!(KeyType::from_wire_id(0), None);
        assert_eq!(KeyType::from_wire_id(u16::MAX), None);
        // Pinned: these numbers are in every blinded point ever sent.
        assert_eq!(KeyType::Nhs.wire_id(), 1);
        assert_eq!(KeyType::PostcodeHouse.wire_id(), 14);
    }

    #[test]
    fn display() {
        let key = MatchKey::new(KeyType::Nhs, "9434765919".into());
        assert_eq!(key.to_string(), "nhs/1:9434765919");
        assert_eq!(KeyType::NameDob.to_string(), "name_dob/1");
    }
}
