//! Deriving a record's match keys from its normalised identifiers: every key type whose fields
//! are all present, for the record's own name and for each alias, without duplicates.

use std::collections::{HashMap, HashSet};

use crate::matchkey::keytype::{KeyType, MAX_ALIASES, MAX_DELETION_CHARS, MatchKey};
use crate::matchkey::nickname::canonical_forename;
use crate::matchkey::phonetic::nysiis;
use crate::normalise::date::Date;
use crate::normalise::name::Name;
use crate::normalise::nhs::{NhsNumber, NhsNumberStatus, NhsStrength};
use crate::normalise::postcode::Postcode;
use crate::normalise::sex::Sex;
use crate::normalise::uprn::Uprn;

/// A record's normalised identifiers. Placeholders and sentinels are `None` here: the importer
/// maps `NameField::Placeholder`, `DateField::Sentinel` and `PostcodeField::Placeholder` to
/// `None`, so no key is ever built from them (design review F17).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    /// NHS number (check digit valid).
    pub nhs_number: Option<NhsNumber>,
    /// NHS NUMBER STATUS INDICATOR CODE; `None` when the source does not record it.
    pub nhs_status: Option<NhsNumberStatus>,
    /// Forenames; name keys use the first token.
    pub forenames: Option<Name>,
    /// Surname; keys use its joined form (SMITH-JONES → SMITHJONES).
    pub surname: Option<Name>,
    /// Other (forenames, surname) pairs the person is known by (police aliases).
    pub aliases: Vec<(Name, Name)>,
    /// Date of birth.
    pub dob: Option<Date>,
    /// Sex. No key uses it: it is for scoring, and codings and recorded gender differ across
    /// agencies more than the other fields do.
    pub sex: Option<Sex>,
    /// Postcode of the address.
    pub postcode: Option<Postcode>,
    /// UPRN of the address.
    pub uprn: Option<Uprn>,
    /// Parent UPRN of the address.
    pub parent_uprn: Option<Uprn>,
    /// Building number from [`house_number`](crate::normalise::address::house_number):
    /// uppercase letters and digits. Anything else (or empty) counts as missing.
    pub house_number: Option<String>,
}

/// Every match key of the record, grouped by key type in [`KeyType::ALL`] order.
///
/// A key type whose fields are not all present is absent — never an empty or partial value.
/// The name-based keys are derived for the record's name and again for each alias; identical
/// keys appear once. See the [module docs](super) for each key's fields.
pub fn derive_keys(ids: &Identifiers) -> Vec<MatchKey> {
    derive_keys_of(ids, KeyType::ALL)
}

/// [`derive_keys`] restricted to `wanted`: the same keys of those types, in the same order,
/// without building the others (phonetic codes, nicknames and deletion neighbourhoods cost
/// most, and a linked query or a clustering pass usually needs few types).
pub fn derive_keys_of(ids: &Identifiers, wanted: &[KeyType]) -> Vec<MatchKey> {
    let mut keys = Keys { wanted: wanted.to_vec(), ..Keys::default() };
    if let Some(nhs) = &ids.nhs_number {
        // Statuses 03–08 mean the number is unverified or in dispute: treat it as missing.
        if ids.nhs_status.is_none_or(|s| s.strength() != NhsStrength::Missing) {
            keys.push(KeyType::Nhs, nhs.as_str().to_owned());
        }
    }
    let postcode = ids.postcode.map(|p| p.no_space());
    let names = std::iter::once((ids.forenames.as_ref(), ids.surname.as_ref()))
        .chain(ids.aliases.iter().take(MAX_ALIASES).map(|(fore, sur)| (Some(fore), Some(sur))));
    for (i, (forenames, surname)) in names.enumerate() {
        name_keys(&mut keys, forenames, surname, ids.dob, postcode.as_deref(), i == 0);
    }
    if let Some(uprn) = ids.uprn {
        keys.push(KeyType::Uprn, uprn.to_string());
    }
    if let Some(parent) = ids.parent_uprn {
        keys.push(KeyType::ParentUprn, parent.to_string());
    }
    let house = ids.house_number.as_deref().filter(|h| {
        !h.is_empty() && h.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if let (Some(postcode), Some(house)) = (&postcode, house) {
        keys.push(KeyType::PostcodeHouse, format!("{postcode}|{house}"));
    }
    let mut keys = keys.keys;
    // Stable: within a key type, the record's own name comes before its aliases.
    keys.sort_by_key(MatchKey::key_type);
    keys
}

/// The keys built from one (forenames, surname) pair.
fn name_keys(
    keys: &mut Keys,
    forenames: Option<&Name>,
    surname: Option<&Name>,
    dob: Option<Date>,
    postcode: Option<&str>,
    own: bool,
) {
    let fore = forenames.map(Name::first).filter(|f| !f.is_empty());
    let sur = surname.map(Name::joined).filter(|s| !s.is_empty());
    if let (Some(fore), Some(sur), Some(dob)) = (fore, sur.as_deref(), dob) {
        keys.push(KeyType::NameDob, format!("{fore}|{sur}|{dob}"));
        for part in surname.map(Name::tokens).unwrap_or_default() {
            keys.push(KeyType::NameSurnamePartDob, format!("{fore}|{part}|{dob}"));
        }
        let initial = fore.get(..1).unwrap_or_default();
        keys.push(KeyType::InitialSurnameDob, format!("{initial}|{sur}|{dob}"));
        if keys.wants(KeyType::PhoneticNameDob) {
            keys.push(KeyType::PhoneticNameDob, format!("{}|{}|{dob}", nysiis(fore), nysiis(sur)));
        }
        if dob.swapped().is_some() {
            let (low, high) = (dob.day().min(dob.month()), dob.day().max(dob.month()));
            let value = format!("{fore}|{sur}|{}|{low:02}-{high:02}", dob.year());
            keys.push(KeyType::DobSwapNameDob, value);
        }
        let (a, b) = if fore <= sur { (fore, sur) } else { (sur, fore) };
        keys.push(KeyType::TransposedNameDob, format!("{a}|{b}|{dob}"));
        if keys.wants(KeyType::NicknameDob) {
            keys.push(KeyType::NicknameDob, format!("{}|{sur}|{dob}", canonical_forename(fore)));
        }
        let (y, m, d) = (dob.year(), dob.month(), dob.day());
        keys.push(KeyType::NameYearMonth, format!("{fore}|{sur}|{y:04}-{m:02}"));
        keys.push(KeyType::NameMonthDay, format!("{fore}|{sur}|{m:02}-{d:02}"));
        keys.push(KeyType::NameYearDay, format!("{fore}|{sur}|{y:04}-{d:02}"));
        // The fuzzy tier, own name only (aliases would multiply the slots): a name and its
        // one-character deletions; two spellings one substitution, insertion, deletion or
        // adjacent transposition apart share one of them.
        if own && keys.wants(KeyType::ForenameDeletionDob) {
            for variant in deletion_neighbourhood(fore) {
                keys.push(KeyType::ForenameDeletionDob, format!("{variant}|{sur}|{dob}"));
            }
        }
        if own && keys.wants(KeyType::SurnameDeletionDob) {
            for variant in deletion_neighbourhood(sur) {
                keys.push(KeyType::SurnameDeletionDob, format!("{fore}|{variant}|{dob}"));
            }
        }
    }
    if let (Some(fore), Some(sur), Some(postcode), Some(dob)) =
        (fore, sur.as_deref(), postcode, dob)
    {
        keys.push(
            KeyType::NamePostcodeBirthYear,
            format!("{fore}|{sur}|{postcode}|{:04}", dob.year()),
        );
    }
    if let (Some(sur), Some(dob), Some(postcode)) = (sur.as_deref(), dob, postcode) {
        keys.push(KeyType::SurnameDobPostcode, format!("{sur}|{dob}|{postcode}"));
    }
    if let (Some(fore), Some(dob), Some(postcode)) = (fore, dob, postcode) {
        keys.push(KeyType::ForenameDobPostcode, format!("{fore}|{dob}|{postcode}"));
    }
}

/// A name and each of its one-character deletions, from its first
/// [`MAX_DELETION_CHARS`] characters; names shorter than 3 characters give only themselves (a
/// deletion would leave one letter).
fn deletion_neighbourhood(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().take(MAX_DELETION_CHARS).collect();
    let mut out = vec![chars.iter().collect::<String>()];
    if chars.len() >= 3 {
        for skip in 0..chars.len() {
            let variant: String =
                chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| c).collect();
            if !out.contains(&variant) {
                out.push(variant);
            }
        }
    }
    out
}

/// Keys collected so far, each at most once, and at most [`KeyType::max_values`] of a type:
/// later ones (aliases, further surname parts) are dropped, so a layout padded to that bound
/// always has room and the padding hides how many a record really has.
#[derive(Default)]
struct Keys {
    /// The key types to build; others are skipped.
    wanted: Vec<KeyType>,
    keys: Vec<MatchKey>,
    seen: HashSet<MatchKey>,
    per_type: HashMap<KeyType, usize>,
}

impl Keys {
    fn wants(&self, key_type: KeyType) -> bool {
        self.wanted.contains(&key_type)
    }

    fn push(&mut self, key_type: KeyType, value: String) {
        if !self.wants(key_type) {
            return;
        }
        let of_type = self.per_type.entry(key_type).or_default();
        if *of_type >= key_type.max_values() {
            return;
        }
        let key = MatchKey::new(key_type, value);
        if self.seen.insert(key.clone()) {
            *of_type += 1;
            self.keys.push(key);
        }
    }
}
