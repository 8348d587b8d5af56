//! The bytes of one audit-log entry: `"fedlink-audit/v1\n" ‖ canonical protobuf of
//! pb::AuditEntry`, hashed exactly as stored (audit-privacy-legal.md §1.1 lessons 1–2, §3.3).
//! Pure: no I/O.

use prost::Message as _;

use crate::pb;

/// Version and domain prefix of every entry, so an entry's bytes can never be mistaken for any
/// other signed or hashed fedlink structure.
pub const ENTRY_PREFIX: &[u8] = b"fedlink-audit/v1\n";

/// Why stored or received entry bytes are not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The protobuf after the prefix does not decode.
    #[error("the entry does not decode as an AuditEntry: {0}")]
    Decode(String),
    /// The bytes decode, but are not the one encoding fedlink writes (unknown or repeated
    /// fields, fields out of order, non-minimal varints, default values written out).
    #[error("the entry is not in canonical form ({len} bytes, re-encoded {canonical_len})")]
    NotCanonical {
        /// Length of the bytes given.
        len: usize,
        /// Length of their canonical re-encoding.
        canonical_len: usize,
    },
    /// The bytes do not start with `fedlink-audit/v1\n`.
    #[error("the entry does not start with \"fedlink-audit/v1\\n\"")]
    WrongPrefix,
}

/// The stored form of an entry: the prefix, then prost's encoding, which writes fields in
/// field-number order and leaves defaults out, so equal entries give equal bytes.
pub fn encode_entry(entry: &pb::AuditEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENTRY_PREFIX.len() + entry.encoded_len());
    out.extend_from_slice(ENTRY_PREFIX);
    entry.encode_raw(&mut out);
    out
}

/// Parses entry bytes strictly: the prefix, a decodable `AuditEntry`, and nothing that the
/// canonical encoding would not reproduce byte for byte. Two byte strings therefore never
/// decode to the same entry, so the leaf hash commits to what the entry says.
pub fn decode_entry(bytes: &[u8]) -> Result<pb::AuditEntry, EntryError> {
    let body = bytes.strip_prefix(ENTRY_PREFIX).ok_or(EntryError::WrongPrefix)?;
    let entry = pb::AuditEntry::decode(body).map_err(|e| EntryError::Decode(e.to_string()))?;
    let canonical = entry.encode_to_vec();
    if canonical != body {
        return Err(EntryError::NotCanonical {
            len: bytes.len(),
            canonical_len: ENTRY_PREFIX.len() + canonical.len(),
        });
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> pb::AuditEntry {
        pb::AuditEntry {
            origin: "fedlink.audit/demo/police".into(),
            index: 5,
            time_ms: 1_760_000_000_000,
            event_type: pb::EventType::Consultation as i32,
            decision: pb::Decision::Denied as i32,
            rule: "envelope.expired".into(),
            ..Default::default()
        }
    }

    /// The leaf bytes of a small entry, annotated field by field (STYLE.md practice 11).
    #[test]
    fn encoding_is_the_documented_bytes() {
        let expected = [
            "6665646c696e6b2d61756469742f76310a", // "fedlink-audit/v1\n"
            "0a 19",                              // field 1 (origin), 25 bytes
            "6665646c696e6b2e61756469742f64656d6f2f706f6c696365", // "fedlink.audit/demo/police"
            "10 05",                              // field 2 (index) = 5
            "18 8080b3c19c33",                    // field 3 (time_ms) = 1760000000000
            "20 03",                              // field 4 (event_type) = CONSULTATION
            "28 02",                              // field 5 (decision) = DENIED
            "32 10",                              // field 6 (rule), 16 bytes
            "656e76656c6f70652e65787069726564",   // "envelope.expired"
        ]
        .concat()
        .replace(' ', "");
        let bytes = encode_entry(&sample());
        assert_eq!(hex::encode(&bytes), expected);
        assert_eq!(decode_entry(&bytes), Ok(sample()));
    }

    #[test]
    fn rejects_wrong_prefix_garbage_and_non_canonical_forms() {
        let bytes = encode_entry(&sample());
        assert_eq!(decode_entry(&bytes[1..]), Err(EntryError::WrongPrefix));
        let mut garbage = ENTRY_PREFIX.to_vec();
        garbage.extend_from_slice(&[0x0a, 0x05, b'a']);
        assert!(matches!(decode_entry(&garbage), Err(EntryError::Decode(_))));
        // An unknown field 99 (varint 1) is dropped by prost, so the bytes are not canonical.
        let mut unknown = bytes.clone();
        unknown.extend_from_slice(&[0x98, 0x06, 0x01]);
        assert!(matches!(decode_entry(&unknown), Err(EntryError::NotCanonical { .. })));
        // An explicit default (decision = 0) is legal protobuf but not what fedlink writes.
        let mut default = ENTRY_PREFIX.to_vec();
        default.extend_from_slice(&[0x28, 0x00]);
        assert!(matches!(decode_entry(&default), Err(EntryError::NotCanonical { .. })));
        // A non-minimal varint for index 5.
        let mut long = ENTRY_PREFIX.to_vec();
        long.extend_from_slice(&[0x10, 0x85, 0x00]);
        assert!(matches!(decode_entry(&long), Err(EntryError::NotCanonical { .. })));
    }
}
