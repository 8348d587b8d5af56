//! The messages that get blinded: for each record, its match keys of the key types the query
//! allows, each joined with a time-slot label into a [`SlotMessage`]. The blinding layer
//! (`fedlink_proto::blind`) hashes exactly these bytes, with its own DST and the session id in
//! front, to a group element; nothing else about a record is ever blinded.
//!
//! Placeholders are missing, never a key (design-review F17). The importer already turns
//! ZZ99 postcodes, "UNKNOWN" names and sentinel dates into `None` ([`Identifiers`]), so
//! key derivation never sees them. [`KeySelection::record_keys`] adds a second line of defence
//! for identifiers that a typed value can still hold: a sentinel date of birth built with
//! `Date::from_ymd`, an NHS number of ten equal digits (every one passes Modulus 11, and
//! 0000000000 and 9999999999 are common system defaults), and UPRNs that a schema lists as
//! default addresses (the hospital's or the police station's).

use std::collections::BTreeSet;
use std::fmt;

use super::LinkageError;
use super::window::SlotLabel;
use crate::matchkey::{Identifiers, KeyType, MatchKey, derive_keys_of};
use crate::normalise::uprn::Uprn;

/// The first bytes of every slot message: the encoding's name and version. A change of
/// layout changes this, so messages of two encodings never meet.
pub const SLOT_MESSAGE_DOMAIN: &[u8] = b"fedlink/linkage/slot-message/v1";

/// Which key types a query links on, and which identifiers count as placeholders beyond those
/// the importer already sets aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySelection {
    /// Allowed key types, strongest first ([`KeyType`]'s order), each once.
    key_types: Vec<KeyType>,
    /// UPRNs that stand for "no real address" in this node's data (F17: placeholder lists are
    /// part of the schema files).
    placeholder_uprns: BTreeSet<Uprn>,
}

impl KeySelection {
    /// The key types the query allows (from the computing node's template); refuses an empty
    /// list and a key type given twice.
    pub fn new(key_types: impl IntoIterator<Item = KeyType>) -> Result<KeySelection, LinkageError> {
        let mut key_types: Vec<KeyType> = key_types.into_iter().collect();
        key_types.sort();
        if key_types.is_empty() {
            return Err(LinkageError::NoKeyTypes);
        }
        if let Some(pair) = key_types.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(LinkageError::DuplicateKeyType(pair[0]));
        }
        Ok(KeySelection { key_types, placeholder_uprns: BTreeSet::new() })
    }

    /// The same selection, treating these UPRNs (and parent UPRNs) as missing.
    pub fn with_placeholder_uprns(mut self, uprns: impl IntoIterator<Item = Uprn>) -> Self {
        self.placeholder_uprns.extend(uprns);
        self
    }

    /// The allowed key types, strongest first.
    pub fn key_types(&self) -> &[KeyType] {
        &self.key_types
    }

    /// The record's match keys of the allowed types, in [`derive_keys_of`] order (strongest type
    /// first; within a type the record's own name before its aliases). Placeholders give no
    /// key.
    pub fn record_keys(&self, ids: &Identifiers) -> Vec<MatchKey> {
        let mut clean = ids.clone();
        clean.dob = ids.dob.filter(|dob| !dob.is_sentinel());
        clean.nhs_number = ids.nhs_number.filter(|nhs| !all_digits_equal(nhs.as_str()));
        clean.uprn = ids.uprn.filter(|u| !self.placeholder_uprns.contains(u));
        clean.parent_uprn = ids.parent_uprn.filter(|u| !self.placeholder_uprns.contains(u));
        derive_keys_of(&clean, &self.key_types)
    }
}

fn all_digits_equal(digits: &str) -> bool {
    let mut bytes = digits.bytes();
    bytes.next().is_some_and(|first| bytes.all(|b| b == first))
}

/// One blindable message: `SLOT_MESSAGE_DOMAIN ‖ u16 len ‖ key type ‖ u32 len ‖ key value ‖
/// u16 len ‖ slot label`, lengths big-endian. The key type is written `tag/version`
/// (`nhs/1`), so a new key version never equals an old one; the slot label is its text
/// (`month:2025-06`, `untimed`). Length prefixes make the encoding injective: no two
/// (key type, value, slot) triples share bytes, whatever the values contain.
///
/// `Debug` shows the key type and length only: the bytes hold a person's identifiers.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotMessage {
    /// The key type, kept beside the bytes so tuples can group slots by it.
    key_type: KeyType,
    /// The encoded message.
    bytes: Vec<u8>,
    /// Where the slot label starts in `bytes`: everything before it encodes (key type, value).
    key_end: usize,
}

impl SlotMessage {
    /// The message for one key in one time slot.
    pub fn new(key: &MatchKey, slot: SlotLabel) -> Result<SlotMessage, LinkageError> {
        let too_long = || LinkageError::KeyTooLong { key_type: key.key_type() };
        let key_type = key.key_type().to_string();
        let value = key.value().as_bytes();
        let slot = slot.to_string();
        let mut bytes = Vec::with_capacity(
            SLOT_MESSAGE_DOMAIN.len() + 8 + key_type.len() + value.len() + slot.len(),
        );
        bytes.extend_from_slice(SLOT_MESSAGE_DOMAIN);
        bytes.extend_from_slice(
            &u16::try_from(key_type.len()).map_err(|_| too_long())?.to_be_bytes(),
        );
        bytes.extend_from_slice(key_type.as_bytes());
        bytes.extend_from_slice(&u32::try_from(value.len()).map_err(|_| too_long())?.to_be_bytes());
        bytes.extend_from_slice(value);
        let key_end = bytes.len();
        bytes.extend_from_slice(&u16::try_from(slot.len()).map_err(|_| too_long())?.to_be_bytes());
        bytes.extend_from_slice(slot.as_bytes());
        Ok(SlotMessage { key_type: key.key_type(), bytes, key_end })
    }

    /// The key type the message was made from.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The encoded bytes: what the blinding layer hashes to the group.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes that encode (key type, value) without the time slot: what uniqueness is
    /// judged on, so that two subjects sharing a key are both dropped whatever their slots.
    pub fn key_bytes(&self) -> &[u8] {
        self.bytes.get(..self.key_end).unwrap_or(&self.bytes)
    }
}

impl fmt::Debug for SlotMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotMessage({}, <{} bytes redacted>)", self.key_type, self.bytes.len())
    }
}

/// Every (key, slot) message of one record: each key in each slot, keys outer, so a tuple
/// that runs out of room keeps every slot of the stronger or own-name keys first.
///
/// A cohort row passes its window's W slots ([`super::WindowTemplate::cohort_slots`]); a
/// partner row passes the one slot of its event ([`super::WindowTemplate::partner_slot`]);
/// an untimed linkage passes [`SlotLabel::UNTIMED`].
pub fn slot_messages(
    keys: &[MatchKey],
    slots: &[SlotLabel],
) -> Result<Vec<SlotMessage>, LinkageError> {
    let mut messages = Vec::with_capacity(keys.len() * slots.len());
    for key in keys {
        for &slot in slots {
            messages.push(SlotMessage::new(key, slot)?);
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::window::Granularity;
    use crate::normalise::date::Date;
    use crate::normalise::nhs::NhsNumber;

    #[test]
    fn the_encoding_field_by_field() {
        let key = MatchKey::new(KeyType::Nhs, "9434765919".into());
        let slot = Granularity::Month.slot_of(Date::from_ymd(2025, 6, 3).unwrap()).unwrap();
        let message = SlotMessage::new(&key, slot).unwrap();
        let expected: Vec<u8> = [
            &b"fedlink/linkage/slot-message/v1"[..],
            &[0, 5], // key type length
            b"nhs/1",
            &[0, 0, 0, 10], // value length
            b"9434765919",
            &[0, 13], // slot label length
            b"month:2025-06",
        ]
        .concat();
        assert_eq!(message.as_bytes(), expected);
        assert_eq!(format!("{message:?}"), "SlotMessage(nhs/1, <67 bytes redacted>)");
    }

    #[test]
    fn repeated_digit_nhs_numbers_are_placeholders() {
        let selection = KeySelection::new([KeyType::Nhs]).unwrap();
        for raw in ["0000000000", "4444444444", "9999999999"] {
            let ids = Identifiers {
                nhs_number: Some(NhsNumber::parse(raw).unwrap()),
                ..Identifiers::default()
            };
            assert!(selection.record_keys(&ids).is_empty(), "{raw}");
        }
    }

    #[test]
    fn selections_are_checked() {
        assert_eq!(KeySelection::new([]), Err(LinkageError::NoKeyTypes));
        assert_eq!(
            KeySelection::new([KeyType::NameDob, KeyType::Nhs, KeyType::NameDob]),
            Err(LinkageError::DuplicateKeyType(KeyType::NameDob))
        );
        let s = KeySelection::new([KeyType::SurnameDobPostcode, KeyType::Nhs]).unwrap();
        assert_eq!(s.key_types(), [KeyType::Nhs, KeyType::SurnameDobPostcode]);
    }
}
