//! Shared helpers: vector files, keys from raw seeds, and temporary logs with a mock clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{MockClock, UnixMillis};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

/// Reads and parses `proto/tests/vectors/<name>`.
pub fn vectors<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let text = std::fs::read_to_string(&path).expect("read vector file");
    serde_json::from_str(&text).expect("parse vector file")
}

/// Decodes hex that a vector file holds.
pub fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).expect("hex")
}

/// An `IdentityKey` with a known 32-byte seed. ring loads keys only from PKCS#8 v2, so this
/// wraps the seed and its public key in ring's own v2 template (RFC 5958 `OneAsymmetricKey`
/// with the `[1]` public key), which `from_pkcs8` then checks against each other.
pub fn identity_from_seed(seed: &[u8]) -> IdentityKey {
    let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("seed");
    let mut der = unhex("3053020101300506032b657004220420");
    der.extend_from_slice(seed);
    der.extend_from_slice(&unhex("a123032100"));
    der.extend_from_slice(pair.public_key().as_ref());
    IdentityKey::from_pkcs8(&der).expect("pkcs8 v2")
}

/// The origin every test log uses.
pub const ORIGIN: &str = "fedlink.audit/test-county/police";

/// A fixed seed, so tests that reopen a log can rebuild its key.
pub const SEED: [u8; 32] = [7u8; 32];

/// A log in `dir`, its key from [`SEED`], its clock at 1,700,000,000,000 ms.
pub fn open_log(dir: &Path) -> (AuditLog, MockClock, PathBuf) {
    let clock = MockClock::new(UnixMillis(1_700_000_000_000));
    let path = dir.join("audit.db");
    let log = AuditLog::open(&path, ORIGIN, identity_from_seed(&SEED), Arc::new(clock.clone()))
        .expect("open log");
    (log, clock, path)
}

/// A plausible entry: a consultation, allowed or denied by `rule`.
pub fn entry(rule: &str) -> pb::AuditEntry {
    pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        rule: rule.into(),
        reason: format!("test entry for {rule}"),
        ..Default::default()
    }
}

/// Appends `n` entries, advancing the clock a second each time.
pub fn fill(log: &mut AuditLog, clock: &MockClock, n: u64) {
    for i in 0..n {
        clock.advance_ms(1000);
        log.append(entry(&format!("rule.{i}")), None).expect("append");
    }
}
