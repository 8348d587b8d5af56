//! The erasable payload of an entry (audit-privacy-legal.md §1.3 "Erasure versus append-only"):
//! the node-local subject tokens of every person a request concerned, and free detail, kept
//! beside the entry in the log file. The entry commits to it by `payload_commitment =
//! SHA-256(nonce ‖ payload bytes)`, with a fresh 16-byte nonce per payload, so the payload can
//! be deleted when its retention period ends and the entry (and the tree) still verify, and an
//! auditor holding the entry alone cannot test a guessed payload against the commitment.
//!
//! The payload bytes are the canonical protobuf of `AuditPayload`: tokens sorted and distinct,
//! each exactly 16 bytes, then the detail. Pure: no I/O. The tokens are opaque here; the node
//! computes them (HMAC under a key that never leaves it) and the store indexes them.

use std::fmt;

use prost::Message as _;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

use crate::pb;

/// Length of a subject token.
pub const TOKEN_LEN: usize = 16;

/// Length of a payload's nonce.
pub const NONCE_LEN: usize = 16;

/// A node-local subject token: 16 opaque bytes the node derived from one identifier of one
/// person. Never an identifier itself; only the node that made it can make it again.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectToken(pub [u8; TOKEN_LEN]);

impl SubjectToken {
    /// The token from exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<SubjectToken> {
        <[u8; TOKEN_LEN]>::try_from(bytes).ok().map(SubjectToken)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }
}

/// Debug shows a prefix only: tokens are pseudonyms, and a trace should not make them easy to
/// collect.
impl fmt::Debug for SubjectToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectToken({}…)", hex::encode(&self.0[..4]))
    }
}

/// The salt of one payload's commitment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PayloadNonce(pub [u8; NONCE_LEN]);

impl PayloadNonce {
    /// A fresh nonce from the OS CSPRNG.
    pub fn generate() -> Result<PayloadNonce, PayloadError> {
        let mut bytes = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut bytes).map_err(|_| PayloadError::Random)?;
        Ok(PayloadNonce(bytes))
    }

    /// The nonce from exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<PayloadNonce> {
        <[u8; NONCE_LEN]>::try_from(bytes).ok().map(PayloadNonce)
    }
}

impl fmt::Debug for PayloadNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadNonce({})", hex::encode(self.0))
    }
}

/// Why payload bytes are not a valid payload, or a nonce could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The bytes do not decode as an `AuditPayload`.
    #[error("the payload does not decode as an AuditPayload: {0}")]
    Decode(String),
    /// The bytes decode, but are not the one encoding fedlink writes.
    #[error("the payload is not in canonical form")]
    NotCanonical,
    /// A token is not 16 bytes.
    #[error("subject token {position} is {len} bytes, not 16")]
    TokenLength {
        /// Its position in the payload.
        position: usize,
        /// Its length.
        len: usize,
    },
    /// The tokens are not sorted and distinct.
    #[error("subject token {position} is not after the one before it (tokens must be sorted)")]
    TokenOrder {
        /// The first token out of order.
        position: usize,
    },
    /// The OS random source failed.
    #[error("the OS random source failed")]
    Random,
}

/// An entry's erasable detail: the subject tokens (sorted, distinct) and free text.
#[derive(Clone, PartialEq, Eq)]
pub struct Payload {
    tokens: Vec<SubjectToken>,
    detail: String,
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} tokens, {} bytes of detail)", self.tokens.len(), self.detail.len())
    }
}

impl Payload {
    /// A payload of these tokens (sorted and deduplicated here) and detail.
    pub fn new(mut tokens: Vec<SubjectToken>, detail: String) -> Payload {
        tokens.sort_unstable();
        tokens.dedup();
        Payload { tokens, detail }
    }

    /// The tokens, sorted and distinct.
    pub fn tokens(&self) -> &[SubjectToken] {
        &self.tokens
    }

    /// The free detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The canonical bytes: prost's encoding of `AuditPayload`, which writes field 1 (each
    /// token: tag 0x0a, length 0x10, 16 bytes) before field 2 and leaves an empty detail out.
    /// Written by hand for the tokens, so a million-token payload is one allocation; the test
    /// `hand_encoding_is_prosts` holds it to prost's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let detail = pb::AuditPayload { subject_tokens: Vec::new(), detail: self.detail.clone() };
        let mut out =
            Vec::with_capacity(self.tokens.len() * (TOKEN_LEN + 2) + detail.encoded_len());
        for token in &self.tokens {
            out.push(0x0a);
            out.push(TOKEN_LEN as u8);
            out.extend_from_slice(&token.0);
        }
        detail.encode_raw(&mut out);
        out
    }

    /// Parses payload bytes strictly: a decodable `AuditPayload` whose tokens are 16 bytes,
    /// sorted and distinct, and whose canonical encoding is exactly these bytes.
    pub fn decode(bytes: &[u8]) -> Result<Payload, PayloadError> {
        let raw =
            pb::AuditPayload::decode(bytes).map_err(|e| PayloadError::Decode(e.to_string()))?;
        let mut tokens = Vec::with_capacity(raw.subject_tokens.len());
        for (position, token) in raw.subject_tokens.iter().enumerate() {
            let token = SubjectToken::from_slice(token)
                .ok_or(PayloadError::TokenLength { position, len: token.len() })?;
            if tokens.last().is_some_and(|last| *last >= token) {
                return Err(PayloadError::TokenOrder { position });
            }
            tokens.push(token);
        }
        let payload = Payload { tokens, detail: raw.detail };
        if payload.encode() != bytes {
            return Err(PayloadError::NotCanonical);
        }
        Ok(payload)
    }
}

/// The commitment an entry carries: SHA-256(nonce ‖ payload bytes).
pub fn commitment(nonce: &PayloadNonce, body: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(NONCE_LEN + body.len());
    input.extend_from_slice(&nonce.0);
    input.extend_from_slice(body);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(b: u8) -> SubjectToken {
        SubjectToken([b; TOKEN_LEN])
    }

    #[test]
    fn hand_encoding_is_prosts() {
        let payload = Payload::new(vec![token(9), token(1), token(9), token(4)], "why".into());
        assert_eq!(payload.tokens(), &[token(1), token(4), token(9)]);
        let prost = pb::AuditPayload {
            subject_tokens: payload.tokens().iter().map(|t| t.0.to_vec()).collect(),
            detail: "why".into(),
        }
        .encode_to_vec();
        assert_eq!(payload.encode(), prost);
        assert_eq!(Payload::decode(&prost), Ok(payload));
        let empty = Payload::new(Vec::new(), String::new());
        assert!(empty.encode().is_empty());
        assert_eq!(Payload::decode(&[]), Ok(empty));
    }

    #[test]
    fn decode_refuses_unsorted_short_and_non_canonical_payloads() {
        let unsorted = pb::AuditPayload {
            subject_tokens: vec![vec![2; 16], vec![1; 16]],
            detail: String::new(),
        }
        .encode_to_vec();
        assert_eq!(Payload::decode(&unsorted), Err(PayloadError::TokenOrder { position: 1 }));
        let repeated = pb::AuditPayload {
            subject_tokens: vec![vec![1; 16], vec![1; 16]],
            detail: String::new(),
        }
        .encode_to_vec();
        assert_eq!(Payload::decode(&repeated), Err(PayloadError::TokenOrder { position: 1 }));
        let short = pb::AuditPayload { subject_tokens: vec![vec![1; 15]], detail: String::new() }
            .encode_to_vec();
        assert_eq!(
            Payload::decode(&short),
            Err(PayloadError::TokenLength { position: 0, len: 15 })
        );
        // An explicit empty detail (field 2, length 0) is legal protobuf, not canonical.
        assert_eq!(Payload::decode(&[0x12, 0x00]), Err(PayloadError::NotCanonical));
    }

    #[test]
    fn the_commitment_is_sha256_of_nonce_then_body_and_changes_with_either() {
        let nonce = PayloadNonce([7; NONCE_LEN]);
        let body = Payload::new(vec![token(3)], "d".into()).encode();
        let mut input = vec![7u8; NONCE_LEN];
        input.extend_from_slice(&body);
        assert_eq!(commitment(&nonce, &body).as_slice(), digest(&SHA256, &input).as_ref());
        let mut changed = body.clone();
        changed[5] ^= 1;
        assert_ne!(commitment(&nonce, &changed), commitment(&nonce, &body));
        assert_ne!(commitment(&PayloadNonce([8; NONCE_LEN]), &body), commitment(&nonce, &body));
    }
}
