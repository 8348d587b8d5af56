//! The relay capture: every hello and sealed message the coordinator carries, appended to a
//! file as it is relayed, so an auditor — and the malicious-relay tests of design-review §10.1
//! — can check what the relay held: routing headers, ephemeral keys and ciphertext, and no
//! label, count or blinded point.
//!
//! The format is a sequence of records, each `kind || length || bytes`: `kind` is one byte
//! ([`HELLO`] or [`MESSAGE`]), `length` four bytes big-endian, and `bytes` the protobuf
//! encoding of the `RelayHello` or `RelayMessage` exactly as carried. The bytes are raw, not
//! hex, so that a plain byte search for a label or a point finds it if it were ever there.

use std::io::Write;

use fedlink_proto::pb;
use prost::Message as _;

/// Record kind of a `RelayHello`.
pub const HELLO: u8 = 1;
/// Record kind of a `RelayMessage`.
pub const MESSAGE: u8 = 2;

/// One record of a capture.
#[derive(Debug, Clone, PartialEq)]
pub enum Captured {
    /// A handshake hello, as the relay carried it.
    Hello(pb::RelayHello),
    /// A sealed message, as the relay carried it.
    Message(pb::RelayMessage),
}

/// Why capture bytes do not read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// A record is cut short.
    #[error("record at byte {offset} is cut short")]
    Truncated {
        /// Where the record starts.
        offset: usize,
    },
    /// A record's kind byte is neither hello nor message.
    #[error("record at byte {offset} has unknown kind {kind}")]
    Kind {
        /// Where the record starts.
        offset: usize,
        /// The kind byte.
        kind: u8,
    },
    /// A record's bytes do not decode.
    #[error("record at byte {offset} does not decode: {problem}")]
    Decode {
        /// Where the record starts.
        offset: usize,
        /// The decoder's message.
        problem: String,
    },
}

/// Appends one hello to a capture.
pub fn write_hello(out: &mut dyn Write, hello: &pb::RelayHello) -> std::io::Result<()> {
    write_record(out, HELLO, &hello.encode_to_vec())
}

/// Appends one sealed message to a capture.
pub fn write_message(out: &mut dyn Write, message: &pb::RelayMessage) -> std::io::Result<()> {
    write_record(out, MESSAGE, &message.encode_to_vec())
}

fn write_record(out: &mut dyn Write, kind: u8, bytes: &[u8]) -> std::io::Result<()> {
    let length = u32::try_from(bytes.len()).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "a relayed item over 4 GiB")
    })?;
    let mut record = Vec::with_capacity(5 + bytes.len());
    record.push(kind);
    record.extend_from_slice(&length.to_be_bytes());
    record.extend_from_slice(bytes);
    // One write per record, then a flush, so a capture cut short by a crash ends on a record
    // boundary as often as the OS allows, and holds everything relayed before it.
    out.write_all(&record)?;
    out.flush()
}

/// Reads a whole capture back, in the order it was written.
pub fn read_capture(bytes: &[u8]) -> Result<Vec<Captured>, CaptureError> {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let header = bytes.get(offset..offset + 5).ok_or(CaptureError::Truncated { offset })?;
        let kind = header[0];
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let start = offset + 5;
        let body = start
            .checked_add(length)
            .and_then(|end| bytes.get(start..end))
            .ok_or(CaptureError::Truncated { offset })?;
        let decode =
            |e: prost::DecodeError| CaptureError::Decode { offset, problem: e.to_string() };
        records.push(match kind {
            HELLO => Captured::Hello(pb::RelayHello::decode(body).map_err(decode)?),
            MESSAGE => Captured::Message(pb::RelayMessage::decode(body).map_err(decode)?),
            kind => return Err(CaptureError::Kind { offset, kind }),
        });
        offset = start + length;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_in_order_and_damage_is_named() {
        let hello = pb::RelayHello {
            sender: "police".into(),
            receiver: "icb".into(),
            ..Default::default()
        };
        let message = pb::RelayMessage {
            step: 1,
            sender: "police".into(),
            receiver: "icb".into(),
            ciphertext: vec![7; 40],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_hello(&mut out, &hello).expect("write");
        write_message(&mut out, &message).expect("write");
        assert_eq!(
            read_capture(&out).expect("reads"),
            [Captured::Hello(hello.clone()), Captured::Message(message)]
        );
        let second = 5 + hello.encode_to_vec().len();
        assert_eq!(
            read_capture(&out[..out.len() - 1]),
            Err(CaptureError::Truncated { offset: second })
        );
        let mut bad = out.clone();
        bad[0] = 9;
        assert_eq!(read_capture(&bad), Err(CaptureError::Kind { offset: 0, kind: 9 }));
    }
}
