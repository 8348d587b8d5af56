//! Signed checkpoints: the C2SP `tlog-checkpoint` body (`origin`, size, base64 root) inside a
//! C2SP `signed-note` signed with Ed25519, plus the verifier-key (`vkey`) format that names a
//! log's key in a data-sharing agreement. Pure: no I/O.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::digest::{Context, SHA256};

use crate::audit::merkle::Hash;
use crate::identity::{IdentityKey, PublicKey};

/// The signed-note signature type byte of plain Ed25519 (C2SP signed-note, "Signature types").
/// Kept explicit, in the key ID and the vkey, so that a later switch to another algorithm
/// (ML-DSA cosignatures, say) cannot be confused with today's keys.
pub const SIG_TYPE_ED25519: u8 = 0x01;

/// What opens every signature line: an em dash (U+2014) and a space.
const SIG_LINE_PREFIX: &str = "\u{2014} ";

/// Most signature lines a note may carry. The spec asks verifiers to take at least 16; this
/// bound (golang.org/x/mod's) stops a hostile note from making us parse without end.
const MAX_SIGNATURES: usize = 100;

/// Why a note, a checkpoint or a verifier key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A field that must be standard, padded, canonical base64 is not.
    #[error("the {what} is not canonical base64")]
    BadBase64 {
        /// Which field.
        what: &'static str,
    },
    /// A key name is empty or holds a space, a plus or a control character.
    #[error("{0:?} is not a valid key name (non-empty, no spaces, no '+')")]
    BadKeyName(String),
    /// The root hash line does not decode to 32 bytes.
    #[error("the root hash is {len} bytes, not 32")]
    BadRoot {
        /// Bytes decoded.
        len: usize,
    },
    /// A signature from the trusted key did not verify: the note was altered or forged.
    #[error("the signature by {name} does not verify: the note was altered or forged")]
    BadSignature {
        /// The key's name.
        name: String,
    },
    /// The size line is not a canonical decimal number that fits in 64 bits.
    #[error("the tree size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    /// A verifier key string is not `<name>+<hex key ID>+<base64(0x01 ‖ key)>`.
    #[error("not an Ed25519 verifier key: {0}")]
    BadVerifierKey(String),
    /// The checkpoint has extension lines, which fedlink never writes and would not audit.
    #[error("the checkpoint has {count} extension line(s); fedlink checkpoints have none")]
    ExtensionLines {
        /// How many.
        count: usize,
    },
    /// The text does not have the signed-note or checkpoint shape.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// No signature line is from the trusted key.
    #[error("the note carries no signature by {name} (key ID {key_id})")]
    NoKnownSignature {
        /// The trusted key's name.
        name: String,
        /// Its key ID, hex.
        key_id: String,
    },
    /// More signature lines than a note may carry.
    #[error("the note has {count} signature lines; at most {MAX_SIGNATURES} are accepted")]
    TooManySignatures {
        /// How many.
        count: usize,
    },
}

/// A log's signed statement of its size and root (C2SP `tlog-checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, which is also the name of its key.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 9162 root of those entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that gets signed: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root.0))
    }

    /// Parses a checkpoint body strictly: exactly three lines, a non-empty origin, a size with
    /// no sign or leading zero, and a root that is 32 bytes of canonical base64.
    pub fn from_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let lines = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("the checkpoint does not end with a newline"))?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed("a checkpoint has three lines"));
        };
        let extensions = lines.count();
        if extensions > 0 {
            return Err(CheckpointError::ExtensionLines { count: extensions });
        }
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("the origin line is empty"));
        }
        let canonical = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size = match size.parse::<u64>() {
            Ok(n) if canonical => n,
            _ => return Err(CheckpointError::BadSize(size.to_string())),
        };
        let raw = decode_canonical(root, "root hash")?;
        let root = Hash::from_slice(&raw).ok_or(CheckpointError::BadRoot { len: raw.len() })?;
        Ok(Checkpoint { origin: origin.to_string(), size, root })
    }
}

/// Whether `name` may name a key (C2SP signed-note: non-empty, no Unicode spaces, no plus),
/// with control characters also refused. A log's origin must pass too, since it names its key.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The signed-note key ID: the first four bytes of
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)` (C2SP signed-note, "Ed25519 signatures").
pub fn key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[SIG_TYPE_ED25519]);
    ctx.update(key.as_bytes());
    let digest = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(&digest.as_ref()[..4]);
    id
}

/// A trusted Ed25519 note key: its name, its key ID and the key itself.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    /// Key name; for a log, its origin.
    name: String,
    /// `key_id(name, key)`, kept so that signature lines are matched without rehashing.
    key_id: [u8; 4],
    /// The Ed25519 public key.
    key: PublicKey,
}

impl NoteVerifier {
    /// The verifier for `key` under `name`.
    pub fn new(name: &str, key: PublicKey) -> Self {
        Self { name: name.to_string(), key_id: key_id(name, &key), key }
    }

    /// Parses a verifier key string, `<name>+<hex key ID>+<base64(0x01 ‖ 32-byte key)>`, and
    /// checks that the stated key ID is the one the name and key give.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::BadVerifierKey(format!("{vkey:?}: {why}"));
        let parts = parse_vkey(vkey, SIG_TYPE_ED25519).map_err(&bad)?;
        let verifier = Self::new(parts.name, parts.key);
        if hex::encode(verifier.key_id) != parts.key_id_hex {
            return Err(bad("the key ID does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The verifier key string, as distributed in a data-sharing agreement's annex.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, SIG_TYPE_ED25519, &self.key)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({})", self.to_vkey())
    }
}

/// Signs a note text: returns `text ‖ "\n" ‖ "— <name> base64(key ID ‖ signature)\n"`.
pub fn sign_note(text: &str, key_name: &str, key: &IdentityKey) -> Result<String, CheckpointError> {
    if !valid_key_name(key_name) {
        return Err(CheckpointError::BadKeyName(key_name.to_string()));
    }
    if !text.ends_with('\n') {
        return Err(CheckpointError::Malformed("the note text does not end with a newline"));
    }
    if has_forbidden_control(text) {
        return Err(CheckpointError::Malformed("the note text holds a control character"));
    }
    Ok(sign_unchecked(text, key_name, key))
}

/// Signs with no checks: the callers have validated `text` and `key_name`.
fn sign_unchecked(text: &str, key_name: &str, key: &IdentityKey) -> String {
    let signature = key.sign_raw(text.as_bytes());
    let mut blob = key_id(key_name, &key.public_key()).to_vec();
    blob.extend_from_slice(signature.as_bytes());
    format!("{text}\n{SIG_LINE_PREFIX}{key_name} {}\n", BASE64.encode(blob))
}

/// Signs a checkpoint as a note under `key_name` (for a log, its origin) and returns the whole
/// note text. The origin and key name must be valid key names ([`valid_key_name`]);
/// `AuditLog::open` refuses any other origin, and a note signed with a bad one never opens.
pub fn sign_checkpoint(cp: &Checkpoint, key_name: &str, key: &IdentityKey) -> String {
    sign_unchecked(&cp.body(), key_name, key)
}

/// Opens a signed note with one trusted key and returns its text (C2SP signed-note,
/// "Signatures"): signature lines from other keys are ignored, a failing signature from the
/// trusted key rejects the note, and a note with no good signature from it is rejected.
pub fn open_note<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, CheckpointError> {
    if has_forbidden_control(note) {
        return Err(CheckpointError::Malformed("the note holds a control character"));
    }
    // The text is separated from the signatures by the note's last blank line.
    let split = note
        .rfind("\n\n")
        .ok_or(CheckpointError::Malformed("no blank line before the signatures"))?;
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or(CheckpointError::Malformed("the signatures do not end with a newline"))?;
    let count = sigs.split('\n').count();
    if count > MAX_SIGNATURES {
        return Err(CheckpointError::TooManySignatures { count });
    }
    let mut verified = false;
    for line in sigs.split('\n') {
        let (name, id, signature) = parse_signature_line(line)?;
        if name != verifier.name || id != verifier.key_id {
            continue; // Someone else's key: a witness, say. Not ours to judge.
        }
        let good =
            signature.len() == 64 && verifier.key.verify_raw(text.as_bytes(), &signature).is_ok();
        if !good {
            return Err(CheckpointError::BadSignature { name: name.to_string() });
        }
        verified = true;
    }
    if !verified {
        return Err(CheckpointError::NoKnownSignature {
            name: verifier.name.clone(),
            key_id: hex::encode(verifier.key_id),
        });
    }
    Ok(text)
}

/// Opens a signed checkpoint with one trusted key and parses its body. The caller checks that
/// the origin is the log it expects: a witness's key signs other logs' checkpoints too.
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::from_body(open_note(note, verifier)?)
}

/// Splits `— <name> <base64(key ID ‖ signature)>` into its parts.
fn parse_signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), CheckpointError> {
    let rest = line
        .strip_prefix(SIG_LINE_PREFIX)
        .ok_or(CheckpointError::Malformed("a signature line does not start with an em dash"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(CheckpointError::Malformed("a signature line has no signature"))?;
    if !valid_key_name(name) {
        return Err(CheckpointError::BadKeyName(name.to_string()));
    }
    let blob = decode_canonical(b64, "signature")?;
    if blob.len() < 5 {
        return Err(CheckpointError::Malformed("a signature is shorter than a key ID"));
    }
    let mut id = [0u8; 4];
    id.copy_from_slice(&blob[..4]);
    Ok((name, id, blob[4..].to_vec()))
}

/// Decodes standard padded base64 and insists it re-encodes to the same text, so one value has
/// one spelling.
fn decode_canonical(text: &str, what: &'static str) -> Result<Vec<u8>, CheckpointError> {
    let raw = BASE64.decode(text).map_err(|_| CheckpointError::BadBase64 { what })?;
    if BASE64.encode(&raw) != text {
        return Err(CheckpointError::BadBase64 { what });
    }
    Ok(raw)
}

/// Signed notes may hold no ASCII control character other than newline (C2SP signed-note).
fn has_forbidden_control(text: &str) -> bool {
    text.chars().any(|c| c < ' ' && c != '\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::leaf_hash;

    fn checkpoint() -> Checkpoint {
        Checkpoint { origin: "fedlink.audit/test".into(), size: 7, root: leaf_hash(b"r") }
    }

    #[test]
    fn body_parses_back() {
        let cp = checkpoint();
        assert_eq!(Checkpoint::from_body(&cp.body()), Ok(cp));
    }

    #[test]
    fn strict_body_parsing() {
        let root = BASE64.encode([7u8; 32]);
        let ok = |size: &str| Checkpoint::from_body(&format!("o\n{size}\n{root}\n"));
        assert!(ok("0").is_ok());
        assert!(ok("18446744073709551615").is_ok());
        for bad in ["", "01", "+1", "-1", " 1", "1 ", "0x1", "18446744073709551616", "1.0"] {
            assert!(matches!(ok(bad), Err(CheckpointError::BadSize(_))), "size {bad:?}");
        }
        let short = BASE64.encode([7u8; 31]);
        assert_eq!(
            Checkpoint::from_body(&format!("o\n1\n{short}\n")),
            Err(CheckpointError::BadRoot { len: 31 })
        );
        assert!(Checkpoint::from_body(&format!("o\n1\n{root}")).is_err());
        assert!(Checkpoint::from_body(&format!("\n1\n{root}\n")).is_err());
        assert!(Checkpoint::from_body("o\n1\n").is_err());
        assert_eq!(
            Checkpoint::from_body(&format!("o\n1\n{root}\next\n")),
            Err(CheckpointError::ExtensionLines { count: 1 })
        );
        let unpadded = root.trim_end_matches('=');
        assert!(Checkpoint::from_body(&format!("o\n1\n{unpadded}\n")).is_err());
    }

    #[test]
    fn key_names() {
        assert!(valid_key_name("example.com/log42"));
        for bad in ["", "a b", "a+b", "a\tb", "a\u{a0}b", "a\u{7f}"] {
            assert!(!valid_key_name(bad), "{bad:?}");
        }
    }
}

/// The fields of a C2SP verifier key, `<name>+<key ID, 8 hex digits>+<base64(type ‖ key)>`.
#[derive(Debug)]
pub(crate) struct VkeyParts<'a> {
    /// The key's name.
    pub name: &'a str,
    /// The key ID as written (the caller checks it against name and key: how it is derived
    /// depends on the signature type).
    pub key_id_hex: &'a str,
    /// The Ed25519 public key.
    pub key: PublicKey,
}

/// Writes a verifier key: `<name>+<hex key ID>+<base64(sig_type ‖ key)>`.
pub(crate) fn format_vkey(name: &str, key_id: [u8; 4], sig_type: u8, key: &PublicKey) -> String {
    let mut material = vec![sig_type];
    material.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(key_id), BASE64.encode(material))
}

/// Splits and checks a verifier key of signature type `sig_type` (0x01 checkpoint keys, 0x04
/// cosigner keys): a valid name, an 8-digit lowercase hex key ID, canonical base64 holding the
/// type byte then a 32-byte key. The error says which part is wrong.
pub(crate) fn parse_vkey(vkey: &str, sig_type: u8) -> Result<VkeyParts<'_>, &'static str> {
    let (name, rest) = vkey.split_once('+').ok_or("no '+' after the name")?;
    let (key_id_hex, material) = rest.split_once('+').ok_or("no '+' after the key ID")?;
    if !valid_key_name(name) {
        return Err("the name is empty or holds a space or control character");
    }
    let id_ok =
        key_id_hex.len() == 8 && key_id_hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !id_ok {
        return Err("the key ID is not 8 lowercase hex digits");
    }
    let raw = decode_canonical(material, "verifier key").map_err(|_| "bad base64")?;
    let (kind, key) = raw.split_first().ok_or("no key material")?;
    if *kind != sig_type {
        return Err("not the signature type this key must have");
    }
    let key: [u8; 32] = key.try_into().map_err(|_| "the key is not 32 bytes")?;
    Ok(VkeyParts { name, key_id_hex, key: PublicKey::from_bytes(key) })
}
