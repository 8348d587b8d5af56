//! RFC 8032 §7.1 Ed25519 vectors: ring derives the same public keys and signatures byte for
//! byte, and `identity` signs and verifies them unchanged.

use fedlink_proto::identity::PublicKey;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Deserialize;

use crate::util::{identity_from_seed, unhex, vectors};

#[derive(Deserialize)]
struct File {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    secret_key: String,
    public_key: String,
    message: String,
    signature: String,
}

#[test]
fn rfc8032_section_7_1() {
    let file: File = vectors("rfc8032.json");
    assert_eq!(file.cases.len(), 4);
    for case in &file.cases {
        println!("testing RFC 8032 {}", case.name);
        let (seed, public) = (unhex(&case.secret_key), unhex(&case.public_key));
        let (message, signature) = (unhex(&case.message), unhex(&case.signature));

        // ring, loading the raw seed and public key together.
        let pair = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).expect("key pair");
        assert_eq!(pair.public_key().as_ref(), public.as_slice(), "{}: public key", case.name);
        assert_eq!(pair.sign(&message).as_ref(), signature.as_slice(), "{}: signature", case.name);

        // fedlink's identity types over the same key.
        let key = identity_from_seed(&seed);
        assert_eq!(key.public_key().as_bytes().as_slice(), public.as_slice(), "{}", case.name);
        assert_eq!(key.sign_raw(&message).as_bytes().as_slice(), signature.as_slice());
        let pk = PublicKey::from_bytes(public.clone().try_into().expect("32 bytes"));
        pk.verify_raw(&message, &signature).expect("verifies");

        // A changed message or signature does not verify.
        let mut other = message.clone();
        other.push(0);
        assert!(pk.verify_raw(&other, &signature).is_err(), "{}: extended message", case.name);
        let mut bad = signature.clone();
        bad[0] ^= 1;
        assert!(pk.verify_raw(&message, &bad).is_err(), "{}: flipped signature", case.name);
    }
}
