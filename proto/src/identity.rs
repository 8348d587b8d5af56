//! Ed25519 identities: each node and coordinator signs envelopes, checkpoints and receipts with
//! one long-lived key (ring), and the federation file lists every member's public key.
//!
//! Signatures are always over a domain-separated message (`context || bytes`) so that a
//! signature made for one purpose (an envelope, say) can never be replayed as another (a
//! checkpoint). The one exception is the C2SP signed note, whose format fixes the message.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};
use zeroize::Zeroizing;

/// Why a key or signature could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The private key file is not an Ed25519 PKCS#8 v2 document.
    #[error("not an Ed25519 PKCS#8 private key: {0}")]
    BadPrivateKey(String),
    /// The public key is not 32 bytes of base64.
    #[error("not an Ed25519 public key (expected 32 bytes, base64): {0}")]
    BadPublicKey(String),
    /// The signature does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
    /// The OS random number generator failed.
    #[error("the OS random number generator failed")]
    Rng,
}

/// A member's Ed25519 signing key. It has no `Debug`, and its PKCS#8 bytes are wiped on drop.
pub struct IdentityKey {
    pair: Ed25519KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl IdentityKey {
    /// Generates a fresh key from the OS CSPRNG.
    pub fn generate() -> Result<Self, IdentityError> {
        let rng = SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| IdentityError::Rng)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key from PKCS#8 v2 DER bytes (what [`IdentityKey::to_pkcs8_pem`] writes).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, IdentityError> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .map_err(|e| IdentityError::BadPrivateKey(e.to_string()))?;
        Ok(Self { pair, pkcs8: Zeroizing::new(der.to_vec()) })
    }

    /// A second handle on the same key (the audit log signs with its own).
    pub fn try_clone(&self) -> Result<Self, IdentityError> {
        Self::from_pkcs8(&self.pkcs8)
    }

    /// Loads a key from a PEM file's text ("-----BEGIN PRIVATE KEY-----").
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, IdentityError> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
        let der = Zeroizing::new(
            BASE64
                .decode(body.as_bytes())
                .map_err(|e| IdentityError::BadPrivateKey(e.to_string()))?,
        );
        Self::from_pkcs8(&der)
    }

    /// The key as PEM text, for writing to a file readable only by its owner.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let b64 = Zeroizing::new(BASE64.encode(self.pkcs8.as_slice()));
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        Zeroizing::new(out)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    /// Signs `context || message`.
    pub fn sign(&self, context: SigningContext, message: &[u8]) -> Signature {
        let mut buf = Vec::with_capacity(context.0.len() + message.len());
        buf.extend_from_slice(context.0);
        buf.extend_from_slice(message);
        self.sign_raw(&buf)
    }

    /// Signs `message` as it is, with no context. Only for formats that fix the signed bytes
    /// themselves (C2SP signed notes).
    pub fn sign_raw(&self, message: &[u8]) -> Signature {
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(self.pair.sign(message).as_ref());
        Signature(bytes)
    }
}

/// The domain-separation prefix of a signature.
#[derive(Debug, Clone, Copy)]
pub struct SigningContext(&'static [u8]);

impl SigningContext {
    /// A coordinator's signature over a query envelope.
    pub const ENVELOPE: Self = Self(b"fedlink-envelope/v1\n");
    /// A node's signature over its half of a relay handshake (`relay::encoding::hello_message`).
    pub const RELAY_HELLO: Self = Self(b"fedlink-relay-hello/v1\n");
    /// A cohort node's signature over its cohort descriptor (design-review F8).
    pub const COHORT: Self = Self(b"fedlink-cohort/v1\n");
    /// An authoriser's signature over a query ([`crate::envelope::Envelope::authorised_digest`]).
    pub const AUTHORISATION: Self = Self(b"fedlink-authorisation/v1\n");
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the base64 form used in federation files.
    pub fn from_base64(text: &str) -> Result<Self, IdentityError> {
        let raw = BASE64
            .decode(text.trim().as_bytes())
            .map_err(|e| IdentityError::BadPublicKey(e.to_string()))?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|v: Vec<u8>| IdentityError::BadPublicKey(format!("{} bytes", v.len())))?;
        Ok(Self(bytes))
    }

    /// The base64 form used in federation files.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Verifies a signature over `context || message`.
    pub fn verify(
        &self,
        context: SigningContext,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), IdentityError> {
        let mut buf = Vec::with_capacity(context.0.len() + message.len());
        buf.extend_from_slice(context.0);
        buf.extend_from_slice(message);
        self.verify_raw(&buf, signature)
    }

    /// Verifies a signature over `message` as it is (C2SP signed notes).
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), IdentityError> {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(message, signature)
            .map_err(|_| IdentityError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The raw 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let key = IdentityKey::generate().expect("rng");
        let again = IdentityKey::from_pkcs8_pem(&key.to_pkcs8_pem()).expect("parse");
        assert_eq!(key.public_key(), again.public_key());
    }

    #[test]
    fn context_separates_signatures() {
        let key = IdentityKey::generate().expect("rng");
        let sig = key.sign(SigningContext::ENVELOPE, b"hello");
        let pk = key.public_key();
        assert!(pk.verify(SigningContext::ENVELOPE, b"hello", sig.as_bytes()).is_ok());
        assert!(pk.verify_raw(b"hello", sig.as_bytes()).is_err());
        assert!(pk.verify(SigningContext::ENVELOPE, b"hellp", sig.as_bytes()).is_err());
    }
}
