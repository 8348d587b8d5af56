//! Witness cosignatures (C2SP `tlog-cosignature`, version 1, Ed25519): a witness's timestamped
//! statement that a checkpoint is the largest consistent tree it has seen of that log. Signing,
//! parsing and verifying one cosignature line, and the cosigner's verifier key. Pure: no I/O.
//!
//! A cosignature is a signed-note signature line, `— <name> base64(key ID ‖ timestamp ‖
//! signature)`, whose key ID uses signature type 0x04 and whose signature is over
//! `"cosignature/v1\ntime <timestamp>\n"` followed by the checkpoint body. The type byte and the
//! header keep it apart from the same key's checkpoint signatures (type 0x01, over the body
//! alone): a cosignature can never be read as a checkpoint signature, nor the reverse.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::digest::{Context, SHA256};

use crate::audit::checkpoint::{Checkpoint, valid_key_name};
use crate::identity::{IdentityKey, PublicKey};

/// The signed-note signature type of an Ed25519 `cosignature/v1` (C2SP tlog-cosignature,
/// "Format"). It goes into the key ID and the verifier key.
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The header line of the signed message, which is its domain separation.
const HEADER: &str = "cosignature/v1\n";

/// What opens every signature line: an em dash (U+2014) and a space.
const SIG_LINE_PREFIX: &str = "\u{2014} ";

/// Bytes in a line's base64 blob: key ID (4), timestamp (8), Ed25519 signature (64).
const BLOB_LEN: usize = 4 + 8 + 64;

/// Why a cosignature could not be made, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The signature does not verify over this checkpoint: the checkpoint the cosigner saw is
    /// not this one, or the line was altered.
    #[error(
        "the cosignature by {name} does not verify over checkpoint {origin} at size {size}: it \
         was made over a different checkpoint, or altered"
    )]
    BadSignature {
        /// The cosigner's name.
        name: String,
        /// The checkpoint's origin.
        origin: String,
        /// The checkpoint's size.
        size: u64,
    },
    /// A cosigner name is empty or holds a space, a plus or a control character.
    #[error("{0:?} is not a valid cosigner name (non-empty, no spaces, no '+')")]
    BadName(String),
    /// A verifier key string is not `<name>+<hex key ID>+<base64(0x04 ‖ key)>`.
    #[error("not an Ed25519 cosigner key: {0}")]
    BadVerifierKey(String),
    /// The line is not a cosignature line.
    #[error("malformed cosignature line: {0}")]
    Malformed(&'static str),
    /// The line is from another cosigner (name or key ID differ).
    #[error("the cosignature is by {found:?}, not by {expected:?} (key ID {key_id})")]
    OtherCosigner {
        /// The name the line carries.
        found: String,
        /// The expected cosigner's name.
        expected: String,
        /// The expected key ID, hex.
        key_id: String,
    },
    /// The timestamp is past 2^63 − 1, which the spec forbids.
    #[error("the cosignature timestamp {0} is past 2^63 - 1")]
    TimestampOutOfRange(u64),
}

/// The key ID of an Ed25519 cosigner: the first four bytes of
/// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)`.
pub fn cosigner_key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[SIG_TYPE_COSIGNATURE_V1]);
    ctx.update(key.as_bytes());
    let digest = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(&digest.as_ref()[..4]);
    id
}

/// The exact bytes a `cosignature/v1` signs: the header line, `time <timestamp>` in decimal,
/// then the checkpoint body with its final newline and without any signature line.
pub fn signed_message(checkpoint: &Checkpoint, timestamp: u64) -> String {
    format!("{HEADER}time {timestamp}\n{}", checkpoint.body())
}

/// One cosignature, parsed from or ready for its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The cosigner's name.
    pub name: String,
    /// The cosigner's key ID.
    pub key_id: [u8; 4],
    /// When it was made, in seconds since the epoch.
    pub timestamp: u64,
    /// The Ed25519 signature over [`signed_message`].
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Parses `— <name> base64(key ID ‖ timestamp ‖ signature)`, with no trailing newline.
    /// Checks the shape only; [`CosignatureVerifier::verify`] checks the signature.
    pub fn parse(line: &str) -> Result<Self, CosignatureError> {
        let rest = line
            .strip_prefix(SIG_LINE_PREFIX)
            .ok_or(CosignatureError::Malformed("it does not start with an em dash and a space"))?;
        let (name, b64) =
            rest.split_once(' ').ok_or(CosignatureError::Malformed("it has no signature"))?;
        if !valid_key_name(name) {
            return Err(CosignatureError::BadName(name.to_string()));
        }
        let blob = BASE64
            .decode(b64)
            .ok()
            .filter(|raw| BASE64.encode(raw) == b64)
            .ok_or(CosignatureError::Malformed("the signature is not canonical base64"))?;
        if blob.len() != BLOB_LEN {
            return Err(CosignatureError::Malformed(
                "the signature is not a key ID, an 8-byte timestamp and 64 signature bytes",
            ));
        }
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(&blob[..4]);
        let mut time = [0u8; 8];
        time.copy_from_slice(&blob[4..12]);
        let timestamp = u64::from_be_bytes(time);
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&blob[12..]);
        Ok(Self { name: name.to_string(), key_id, timestamp, signature })
    }

    /// The signature line, without a trailing newline.
    pub fn to_line(&self) -> String {
        let mut blob = Vec::with_capacity(BLOB_LEN);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&self.timestamp.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        format!("{SIG_LINE_PREFIX}{} {}", self.name, BASE64.encode(blob))
    }
}

/// A witness's signing half: its name and key. No `Debug`: it holds a private key.
pub struct Cosigner {
    /// The cosigner's name (a schema-less URL by the spec's advice).
    name: String,
    /// Its Ed25519 key.
    key: IdentityKey,
}

impl Cosigner {
    /// A cosigner called `name` that signs with `key`.
    pub fn new(name: &str, key: IdentityKey) -> Result<Self, CosignatureError> {
        if !valid_key_name(name) {
            return Err(CosignatureError::BadName(name.to_string()));
        }
        Ok(Self { name: name.to_string(), key })
    }

    /// The cosigner's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What others need to check this cosigner's lines.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier::new(&self.name, self.key.public_key())
    }

    /// Cosigns `checkpoint` as of `timestamp` (seconds since the epoch).
    pub fn cosign(
        &self,
        checkpoint: &Checkpoint,
        timestamp: u64,
    ) -> Result<Cosignature, CosignatureError> {
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let signature = self.key.sign_raw(signed_message(checkpoint, timestamp).as_bytes());
        Ok(Cosignature {
            name: self.name.clone(),
            key_id: cosigner_key_id(&self.name, &self.key.public_key()),
            timestamp,
            signature: *signature.as_bytes(),
        })
    }
}

/// A trusted cosigner: its name, key ID and key.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    /// The cosigner's name.
    name: String,
    /// `cosigner_key_id(name, key)`.
    key_id: [u8; 4],
    /// Its Ed25519 public key.
    key: PublicKey,
}

impl CosignatureVerifier {
    /// The verifier of cosigner `name` with `key`.
    pub fn new(name: &str, key: PublicKey) -> Self {
        Self { name: name.to_string(), key_id: cosigner_key_id(name, &key), key }
    }

    /// Parses a verifier key, `<name>+<hex key ID>+<base64(0x04 ‖ 32-byte key)>`, and checks
    /// that the stated key ID is the one the name and key give.
    pub fn from_vkey(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = |why: &str| CosignatureError::BadVerifierKey(format!("{vkey:?}: {why}"));
        let parts =
            crate::audit::checkpoint::parse_vkey(vkey, SIG_TYPE_COSIGNATURE_V1).map_err(&bad)?;
        let verifier = Self::new(parts.name, parts.key);
        if hex::encode(verifier.key_id) != parts.key_id_hex {
            return Err(bad("the key ID does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        crate::audit::checkpoint::format_vkey(
            &self.name,
            self.key_id,
            SIG_TYPE_COSIGNATURE_V1,
            &self.key,
        )
    }

    /// The cosigner's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cosigner's key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The cosigner's public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Parses `line` and checks that it is this cosigner's signature over `checkpoint`.
    pub fn verify(
        &self,
        checkpoint: &Checkpoint,
        line: &str,
    ) -> Result<Cosignature, CosignatureError> {
        let cosignature = Cosignature::parse(line)?;
        if cosignature.name != self.name || cosignature.key_id != self.key_id {
            return Err(CosignatureError::OtherCosigner {
                found: cosignature.name,
                expected: self.name.clone(),
                key_id: hex::encode(self.key_id),
            });
        }
        let message = signed_message(checkpoint, cosignature.timestamp);
        self.key.verify_raw(message.as_bytes(), &cosignature.signature).map_err(|_| {
            CosignatureError::BadSignature {
                name: self.name.clone(),
                origin: checkpoint.origin.clone(),
                size: checkpoint.size,
            }
        })?;
        Ok(cosignature)
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({})", self.to_vkey())
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    use super::*;
    use crate::audit::checkpoint::{NoteVerifier, open_note, sign_checkpoint};
    use crate::audit::merkle::Hash;

    /// RFC 8032 §7.1 TEST 1's secret seed, so the signatures below are fixed bytes.
    const RFC8032_TEST1_SEED: &str =
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    /// The key of RFC 8032 TEST 1, wrapped in ring's PKCS#8 v2 template.
    fn test_key() -> IdentityKey {
        let seed = hex::decode(RFC8032_TEST1_SEED).expect("hex");
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
        let mut der = hex::decode("3053020101300506032b657004220420").expect("hex");
        der.extend_from_slice(&seed);
        der.extend_from_slice(&[0xa1, 0x23, 0x03, 0x21, 0x00]);
        der.extend_from_slice(pair.public_key().as_ref());
        IdentityKey::from_pkcs8(&der).expect("pkcs8")
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "fedlink.audit/demo-county/coordinator".into(),
            size: 5,
            root: Hash([0x11; 32]),
        }
    }

    /// The spec's own example (C2SP tlog-cosignature.md, "Ed25519 signed message", at
    /// C2SP/C2SP commit 01194db11950a0ae2b2b2401afa0a4063a822458).
    #[test]
    fn signed_message_is_the_spec_example() {
        let root = BASE64.decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").expect("b64");
        let cp = Checkpoint {
            origin: "example.com/behind-the-sofa".into(),
            size: 20_852_163,
            root: Hash::from_slice(&root).expect("32 bytes"),
        };
        assert_eq!(
            signed_message(&cp, 1_679_315_147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n\
             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    /// The spec's example cosignature line (same file and commit, "Format"). The spec
    /// publishes no key for `witness.example.com/w1`, so only the framing can be checked: a
    /// 4-byte key ID, the big-endian timestamp the signed-message example shows, 64 bytes of
    /// signature, and a byte-exact round trip.
    #[test]
    fn spec_example_line_frames_as_the_spec_says() {
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeol\
                    MI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let parsed = Cosignature::parse(line).expect("parses");
        assert_eq!(parsed.name, "witness.example.com/w1");
        assert_eq!(hex::encode(parsed.key_id), "8d66cf3f");
        assert_eq!(parsed.timestamp, 1_679_315_147);
        assert_eq!(parsed.to_line(), line);
    }

    /// The bytes of one line, field by field (STYLE.md practice 11). The key is RFC 8032
    /// TEST 1's and Ed25519 is deterministic, so every byte is fixed. The expected bytes were
    /// computed independently of this code, with Python's `cryptography` 48.0 (`hashlib` for
    /// the key ID, `Ed25519PrivateKey.sign` over the message spelled out by hand).
    #[test]
    fn annotated_line_layout() {
        let cosigner = Cosigner::new("fedlink.witness/demo-county/dpo", test_key()).expect("name");
        let cosignature = cosigner.cosign(&checkpoint(), 1_700_000_000).expect("cosign");
        let line = cosignature.to_line();
        let (prefix, b64) = line.rsplit_once(' ').expect("space");
        assert_eq!(prefix, "\u{2014} fedlink.witness/demo-county/dpo");
        let expected = concat!(
            // key ID: SHA-256("fedlink.witness/demo-county/dpo" ‖ 0x0A ‖ 0x04 ‖ pk)[:4]
            "093ad6d4",
            // timestamp: 1,700,000,000 s, u64 big-endian
            "000000006553f100",
            // Ed25519 signature over "cosignature/v1\ntime 1700000000\n" ‖
            // "fedlink.audit/demo-county/coordinator\n5\n" ‖ base64(0x11 × 32) ‖ "\n"
            "50e966ef72e782d3ac1bf51164e0f781e743212f9833e117b94bf0c708ecc9b8",
            "39401f1d7098146df7eaf28cfb03c72f5275f01b97b9048d2fcc27261079070b",
        );
        assert_eq!(hex::encode(BASE64.decode(b64).expect("b64")), expected);
        assert_eq!(Cosignature::parse(&line), Ok(cosignature));
        cosigner.verifier().verify(&checkpoint(), &line).expect("verifies");
    }

    #[test]
    fn a_cosignature_verifies_and_any_change_is_caught() {
        let cosigner =
            Cosigner::new("fedlink.witness/demo-county/police", test_key()).expect("name");
        let verifier = cosigner.verifier();
        let cp = checkpoint();
        let line = cosigner.cosign(&cp, 1_700_000_000).expect("cosign").to_line();
        assert_eq!(verifier.verify(&cp, &line).map(|c| c.timestamp), Ok(1_700_000_000));

        // Another checkpoint: other root, other size, other origin.
        let other_root = Checkpoint { root: Hash([0x12; 32]), ..cp.clone() };
        let other_size = Checkpoint { size: 6, ..cp.clone() };
        let other_origin = Checkpoint { origin: "fedlink.audit/x/y".into(), ..cp.clone() };
        for other in [other_root, other_size, other_origin] {
            assert!(
                matches!(
                    verifier.verify(&other, &line),
                    Err(CosignatureError::BadSignature { .. })
                ),
                "{other:?}"
            );
        }
        // A changed timestamp changes the signed message.
        let mut later = Cosignature::parse(&line).expect("parse");
        later.timestamp += 1;
        assert!(matches!(
            verifier.verify(&cp, &later.to_line()),
            Err(CosignatureError::BadSignature { .. })
        ));
        // A flipped signature bit.
        let mut flipped = Cosignature::parse(&line).expect("parse");
        flipped.signature[10] ^= 0x01;
        assert!(matches!(
            verifier.verify(&cp, &flipped.to_line()),
            Err(CosignatureError::BadSignature { .. })
        ));
        // Another cosigner's name, or the same name with another key.
        let renamed = line.replace("police", "icb");
        assert!(matches!(
            verifier.verify(&cp, &renamed),
            Err(CosignatureError::OtherCosigner { .. })
        ));
        let stranger = Cosigner::new(
            "fedlink.witness/demo-county/police",
            IdentityKey::generate().expect("rng"),
        )
        .expect("name");
        let forged = stranger.cosign(&cp, 1_700_000_000).expect("cosign").to_line();
        assert!(matches!(
            verifier.verify(&cp, &forged),
            Err(CosignatureError::OtherCosigner { .. })
        ));
    }

    #[test]
    fn a_cosignature_is_not_a_checkpoint_signature_of_the_same_key() {
        let key = test_key();
        let name = "fedlink.audit/demo-county/coordinator";
        let cp = checkpoint();
        let note = sign_checkpoint(&cp, name, &key);
        let cosigner = Cosigner::new(name, key).expect("name");
        // Same key, same name: different key IDs, because the type bytes differ.
        let note_verifier = NoteVerifier::new(name, *cosigner.verifier().key());
        assert_ne!(note_verifier.key_id(), cosigner.verifier().key_id());
        // The checkpoint's own signature line does not parse as a cosignature (no timestamp),
        // and a cosignature appended to the note is ignored by the note verifier as a
        // stranger's line rather than read as the log's signature.
        let sig_line = note.trim_end().rsplit('\n').next().expect("line");
        assert!(Cosignature::parse(sig_line).is_err());
        let cosigned = format!("{note}{}\n", cosigner.cosign(&cp, 1).expect("cosign").to_line());
        assert_eq!(open_note(&cosigned, &note_verifier), Ok(cp.body().as_str()));
    }

    #[test]
    fn malformed_lines_are_refused() {
        let good =
            Cosigner::new("w", test_key()).expect("name").cosign(&checkpoint(), 9).expect("c");
        let line = good.to_line();
        let b64 = line.rsplit_once(' ').expect("space").1;
        let short = BASE64.encode(&BASE64.decode(b64).expect("b64")[..75]);
        for bad in [
            line.trim_start_matches('\u{2014}').to_string(),
            format!("{line}\n"),
            format!("\u{2014} w {}", b64.trim_end_matches('=')),
            format!("\u{2014} w {short}"),
            format!("\u{2014} a b {b64}"),
            format!("\u{2014}  {b64}"),
        ] {
            assert!(Cosignature::parse(&bad).is_err(), "{bad:?}");
        }
        let mut late = good.clone();
        late.timestamp = u64::MAX;
        assert_eq!(
            Cosignature::parse(&late.to_line()),
            Err(CosignatureError::TimestampOutOfRange(u64::MAX))
        );
        assert!(Cosigner::new("a b", test_key()).is_err());
    }

    #[test]
    fn verifier_keys_round_trip_and_are_checked() {
        let verifier =
            Cosigner::new("fedlink.witness/demo-county/dpo", test_key()).expect("name").verifier();
        let vkey = verifier.to_vkey();
        assert_eq!(CosignatureVerifier::from_vkey(&vkey), Ok(verifier.clone()));
        // A note (type 0x01) verifier key for the same key is not a cosigner key.
        let note_vkey = NoteVerifier::new(verifier.name(), *verifier.key()).to_vkey();
        assert!(CosignatureVerifier::from_vkey(&note_vkey).is_err());
        let wrong_id = vkey.replacen(&hex::encode(verifier.key_id()), "00000000", 1);
        assert!(CosignatureVerifier::from_vkey(&wrong_id).is_err());
        assert!(CosignatureVerifier::from_vkey("no-plus-signs").is_err());
    }
}
