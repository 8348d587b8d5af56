//! C2SP signed notes and checkpoints: the spec's own example, golang.org/x/mod's note tests
//! (whose signatures fedlink must reproduce byte for byte), and checkpoint tampering.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fedlink_proto::audit::checkpoint::{
    Checkpoint, CheckpointError, NoteVerifier, key_id, open_checkpoint, open_note, sign_checkpoint,
    sign_note,
};
use fedlink_proto::audit::merkle::{Hash, leaf_hash};
use fedlink_proto::identity::IdentityKey;
use serde::Deserialize;

use crate::util::{identity_from_seed, unhex, vectors};

#[derive(Deserialize)]
struct File {
    c2sp_example: SpecExample,
    go_sumdb_note: GoNote,
    c2sp_checkpoint_example: CheckpointExample,
}

#[derive(Deserialize)]
struct SpecExample {
    vkey: String,
    public_key_hex: String,
    text: String,
    signature_line: String,
}

#[derive(Deserialize)]
struct GoNote {
    skey: String,
    peter_vkey: String,
    enoch_vkey: String,
    text: String,
    peter_signature_line: String,
    enoch_signature_line: String,
}

#[derive(Deserialize)]
struct CheckpointExample {
    note: String,
    origin: String,
    size: u64,
    root_base64: String,
}

fn file() -> File {
    vectors("signed_note.json")
}

#[test]
fn c2sp_signed_note_example_opens() {
    let ex = file().c2sp_example;
    let verifier = NoteVerifier::from_vkey(&ex.vkey).expect("vkey");
    assert_eq!(verifier.name(), "example.com/foo");
    assert_eq!(hex::encode(verifier.key_id()), "530d903a");
    assert_eq!(verifier.key().as_bytes().as_slice(), unhex(&ex.public_key_hex).as_slice());
    assert_eq!(key_id(verifier.name(), verifier.key()), verifier.key_id());
    assert_eq!(verifier.to_vkey(), ex.vkey);
    let note = format!("{}\n{}", ex.text, ex.signature_line);
    assert_eq!(open_note(&note, &verifier), Ok(ex.text.as_str()));
    // One changed character of the text and the signature no longer holds.
    let forged = note.replacen("example", "exemple", 1);
    assert!(matches!(open_note(&forged, &verifier), Err(CheckpointError::BadSignature { .. })));
}

/// The seed inside a golang.org/x/mod signer key, `PRIVATE+KEY+<name>+<id>+base64(0x01‖seed)`.
fn go_signer(skey: &str) -> (String, IdentityKey) {
    let rest = skey.strip_prefix("PRIVATE+KEY+").expect("skey prefix");
    let mut parts = rest.splitn(3, '+');
    let (name, _id, material) =
        (parts.next().expect("name"), parts.next().expect("id"), parts.next().expect("key"));
    let raw = BASE64.decode(material).expect("base64");
    assert_eq!(raw[0], 0x01, "Ed25519 signer key");
    (name.to_string(), identity_from_seed(&raw[1..]))
}

#[test]
fn golang_note_signatures_are_reproduced_and_open() {
    let go = file().go_sumdb_note;
    let (name, key) = go_signer(&go.skey);
    let peter = NoteVerifier::from_vkey(&go.peter_vkey).expect("peter vkey");
    let enoch = NoteVerifier::from_vkey(&go.enoch_vkey).expect("enoch vkey");
    assert_eq!(NoteVerifier::new(&name, key.public_key()), peter);

    // Signing: byte for byte what Go's note.Sign wrote.
    let signed = sign_note(&go.text, &name, &key).expect("sign");
    assert_eq!(signed, format!("{}\n{}", go.text, go.peter_signature_line));

    // Opening: each verifier accepts its own signature and ignores the other's.
    let both = format!("{}\n{}{}", go.text, go.peter_signature_line, go.enoch_signature_line);
    assert_eq!(open_note(&both, &peter), Ok(go.text.as_str()));
    assert_eq!(open_note(&both, &enoch), Ok(go.text.as_str()));
    let stranger =
        NoteVerifier::new("Stranger", IdentityKey::generate().expect("key").public_key());
    assert!(matches!(open_note(&both, &stranger), Err(CheckpointError::NoKnownSignature { .. })));

    // Go's "invalid signature": four characters spliced into Peter's signature.
    let line = &go.peter_signature_line;
    let spliced = format!("{}ABCD{}", &line[..60], &line[60..]);
    let bad = format!("{}\n{spliced}", go.text);
    assert!(matches!(open_note(&bad, &peter), Err(CheckpointError::BadSignature { .. })));
    // The same spliced line from a key we do not trust is ignored.
    let ignored = format!("{}\n{spliced}{}", go.text, go.enoch_signature_line);
    assert_eq!(open_note(&ignored, &enoch), Ok(go.text.as_str()));

    // Go's malformed notes.
    let peter_sig = go.peter_signature_line.as_str();
    let bad_msgs = [
        go.text.clone(),
        format!("{}\n", go.text),
        format!("{}\n{}", go.text, &peter_sig[..peter_sig.len() - 1]),
        format!("\u{1}{}\n{peter_sig}", go.text),
        format!(
            "{}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            go.text
        ),
        format!("{}\n{peter_sig}Unexpected line.\n", go.text),
    ];
    for (i, msg) in bad_msgs.iter().enumerate() {
        println!("testing malformed note {i}");
        assert!(open_note(msg, &peter).is_err(), "malformed note {i} opened");
    }
    let too_many = format!("{}\n{}", go.text, peter_sig.repeat(101));
    assert!(matches!(
        open_note(&too_many, &peter),
        Err(CheckpointError::TooManySignatures { count: 101 })
    ));
}

#[test]
fn mangled_verifier_keys_are_refused() {
    // golang.org/x/mod TestNewVerifier: every proper substring and every one-byte change.
    let vkey = file().go_sumdb_note.peter_vkey;
    assert!(NoteVerifier::from_vkey(&vkey).is_ok());
    let b = vkey.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let part = std::str::from_utf8(&b[i..j]).expect("ascii");
            assert!(NoteVerifier::from_vkey(part).is_err(), "accepted {part:?}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let m = String::from_utf8(m).expect("ascii");
        assert!(NoteVerifier::from_vkey(&m).is_err(), "accepted {m:?}");
    }
    // Go's two: a wrong-length key and an unknown algorithm, each with a matching key ID.
    for bad in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(NoteVerifier::from_vkey(bad).is_err(), "accepted {bad}");
    }
}

#[test]
fn c2sp_checkpoint_example_parses() {
    let ex = file().c2sp_checkpoint_example;
    let split = ex.note.rfind("\n\n").expect("blank line");
    let cp = Checkpoint::from_body(&ex.note[..=split]).expect("body");
    assert_eq!(cp.origin, ex.origin);
    assert_eq!(cp.size, ex.size);
    assert_eq!(cp.root.0.to_vec(), BASE64.decode(&ex.root_base64).expect("base64"));
    assert_eq!(cp.body(), &ex.note[..=split]);
    // Its key is not published: with any key we hold, its one signature is unknown.
    let ours = NoteVerifier::new(&ex.origin, IdentityKey::generate().expect("key").public_key());
    assert!(matches!(
        open_checkpoint(&ex.note, &ours),
        Err(CheckpointError::NoKnownSignature { .. })
    ));
}

fn sample() -> Checkpoint {
    Checkpoint { origin: "fedlink.audit/demo/police".into(), size: 12, root: leaf_hash(b"root") }
}

/// A checkpoint note from a fixed key: the body annotated line by line, and the signature
/// line as fedlink writes it (a regression fixture, not an external vector; Ed25519 is
/// deterministic, and the Go vectors above check the signing code independently).
#[test]
fn checkpoint_note_fixture() {
    let key = identity_from_seed(&unhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ));
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 3,
        root: Hash::from_hex("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77")
            .expect("hex"),
    };
    let body = concat!(
        "example.com/log\n",                              // origin = key name
        "3\n",                                            // tree size, decimal
        "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\n", // base64(root of 3 test leaves)
    );
    assert_eq!(cp.body(), body);
    let note = sign_checkpoint(&cp, &cp.origin, &key);
    let (text, sig_line) = note.split_at(body.len());
    assert_eq!(text, body);
    assert!(sig_line.starts_with("\n\u{2014} example.com/log "));
    let blob = BASE64.decode(sig_line.trim_end().rsplit(' ').next().expect("b64")).expect("b64");
    assert_eq!(blob.len(), 4 + 64);
    assert_eq!(blob[..4], key_id("example.com/log", &key.public_key()));
    assert_eq!(&blob[4..], key.sign_raw(body.as_bytes()).as_bytes().as_slice());
}

#[test]
fn checkpoints_round_trip_and_tampering_is_caught() {
    let key = IdentityKey::generate().expect("key");
    let cp = sample();
    let verifier = NoteVerifier::new(&cp.origin, key.public_key());
    let note = sign_checkpoint(&cp, &cp.origin, &key);
    assert_eq!(open_checkpoint(&note, &verifier), Ok(cp.clone()));

    let tampered = [
        ("origin", note.replacen("fedlink.audit/demo/police\n", "fedlink.audit/demo/nhs\n", 1)),
        ("size", note.replacen("\n12\n", "\n13\n", 1)),
        ("size as 012", note.replacen("\n12\n", "\n012\n", 1)),
        ("root", {
            let mut other = cp.clone();
            other.root = leaf_hash(b"other");
            note.replacen(&cp.body(), &other.body(), 1)
        }),
    ];
    for (what, bad) in &tampered {
        println!("testing tampered {what}");
        assert_ne!(bad, &note, "{what} was not changed");
        assert!(open_checkpoint(bad, &verifier).is_err(), "tampered {what} opened");
    }

    // Another key's signature alone is not enough; next to ours it is ignored (a cosignature).
    let other = IdentityKey::generate().expect("key");
    let theirs = sign_checkpoint(&cp, "witness.example/w1", &other);
    assert!(matches!(
        open_checkpoint(&theirs, &verifier),
        Err(CheckpointError::NoKnownSignature { .. })
    ));
    let cosigned = format!("{note}{}", &theirs[cp.body().len() + 1..]);
    assert_eq!(open_checkpoint(&cosigned, &verifier), Ok(cp.clone()));
    // The right name with the wrong key: same name, different key ID, so ignored, not trusted.
    let impostor = sign_checkpoint(&cp, &cp.origin, &other);
    assert!(matches!(
        open_checkpoint(&impostor, &verifier),
        Err(CheckpointError::NoKnownSignature { .. })
    ));
}
