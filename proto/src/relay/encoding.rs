//! The exact bytes of the relay channel: what a hello signs, what the transcript hash covers,
//! the HKDF inputs, and each message's nonce and associated data. Pure functions, so another
//! implementation (or an auditor) can reproduce them from this file alone.
//!
//! Every variable or composite input is a list of fields, each written as its length (4 bytes,
//! big-endian) and then its bytes. Length prefixes make each encoding injective: no two
//! different field lists give the same bytes, so no name can be shifted into its neighbour
//! ("police" ‖ "nhs" vs "policen" ‖ "hs"). Integers are written as 4 big-endian bytes inside
//! their field, and a role as its `NodeRole` wire number.

use ring::digest;

use crate::envelope::{NodeRole, QueryId, SessionId, role_to_pb};

/// Prefixes the transcript hash, so it cannot be mistaken for any other SHA-256 in fedlink.
pub const TRANSCRIPT_LABEL: &[u8] = b"fedlink-relay-transcript/v1\n";

/// The first part of every HKDF `info`; the transcript hash and the direction follow it.
pub const KEY_INFO_LABEL: &[u8] = b"fedlink-relay/v1";

/// The message a hello's signature covers, after the signing context
/// `"fedlink-relay-hello/v1\n"` ([`SigningContext::RELAY_HELLO`](crate::identity::SigningContext::RELAY_HELLO)):
///
/// ```text
/// len ‖ query_id (16) ‖ len ‖ session_id (16) ‖ len ‖ query digest (32) ‖ len ‖ sender
///     ‖ len ‖ sender role (u32 BE) ‖ len ‖ receiver ‖ len ‖ ephemeral public key (32)
/// ```
///
/// The query digest is [`Envelope::shared_digest`](crate::envelope::Envelope::shared_digest) of
/// the signer's own envelope: two nodes pair only if the coordinator sent them the same query.
///
/// The receiver rebuilds these bytes from its own [`ChannelContext`](super::ChannelContext) and
/// the hello's ephemeral key, never from the hello's other fields, so the signature proves the
/// peer meant exactly this query, session, pair of roles and direction.
pub fn hello_message(
    query_id: &QueryId,
    session_id: &SessionId,
    query_digest: &[u8; 32],
    sender: &str,
    sender_role: NodeRole,
    receiver: &str,
    ephemeral_public: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 * 4 + 16 + 16 + 32 + 4 + 32 + sender.len() + receiver.len());
    put(&mut out, query_id.as_bytes());
    put(&mut out, session_id.as_bytes());
    put(&mut out, query_digest);
    put(&mut out, sender.as_bytes());
    put(&mut out, &role_wire(sender_role).to_be_bytes());
    put(&mut out, receiver.as_bytes());
    put(&mut out, ephemeral_public);
    out
}

/// One side's hello, as the transcript orders it.
#[derive(Debug, Clone, Copy)]
pub struct HelloSide<'a> {
    /// The side's role.
    pub role: NodeRole,
    /// The side's member name.
    pub member: &'a str,
    /// Its [`hello_message`] bytes.
    pub hello: &'a [u8],
}

/// The transcript hash both sides compute from the two hellos:
///
/// ```text
/// SHA-256( "fedlink-relay-transcript/v1\n" ‖ len ‖ first hello ‖ len ‖ second hello )
/// ```
///
/// "First" is the side with the lower (role wire number, member name), so both sides order the
/// hellos the same way whichever of them calls this. A channel's two names always differ, so
/// the order is total. The signatures are left out: the signed bytes already fix everything the
/// keys depend on, and each side has verified the other's signature before it gets here.
pub fn transcript_hash(a: HelloSide<'_>, b: HelloSide<'_>) -> [u8; 32] {
    let (first, second) = if (role_wire(a.role), a.member) <= (role_wire(b.role), b.member) {
        (a, b)
    } else {
        (b, a)
    };
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(TRANSCRIPT_LABEL);
    let mut fields = Vec::with_capacity(8 + first.hello.len() + second.hello.len());
    put(&mut fields, first.hello);
    put(&mut fields, second.hello);
    ctx.update(&fields);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The direction part of HKDF `info` for the key that seals messages from `sender` to
/// `receiver`: `len ‖ sender ‖ len ‖ receiver`. The whole `info` is
/// `"fedlink-relay/v1" ‖ transcript hash (32) ‖ direction`, with salt = session id (16 bytes)
/// and the X25519 shared secret as input keying material. A distinct key per direction means a
/// nonce (which is the step) is never used twice under one key even if both sides numbered a
/// message alike.
pub fn key_direction(sender: &str, receiver: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + sender.len() + receiver.len());
    put(&mut out, sender.as_bytes());
    put(&mut out, receiver.as_bytes());
    out
}

/// The ChaCha20-Poly1305 nonce of a step: 8 zero bytes ‖ step (4 bytes big-endian). Unique per
/// key because a channel seals each step at most once and each direction has its own key.
pub fn nonce(step: u32) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[8..].copy_from_slice(&step.to_be_bytes());
    out
}

/// The associated data of a message:
///
/// ```text
/// len ‖ session_id (16) ‖ len ‖ step (u32 BE) ‖ len ‖ sender ‖ len ‖ receiver
///     ‖ len ‖ transcript hash (32)
/// ```
///
/// It binds the ciphertext to its session (no splicing), its step (no reordering or replay
/// under another number), its direction (no reflection) and the handshake it was keyed by.
pub fn message_ad(
    session_id: &SessionId,
    step: u32,
    sender: &str,
    receiver: &str,
    transcript_hash: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 * 4 + 16 + 4 + 32 + sender.len() + receiver.len());
    put(&mut out, session_id.as_bytes());
    put(&mut out, &step.to_be_bytes());
    put(&mut out, sender.as_bytes());
    put(&mut out, receiver.as_bytes());
    put(&mut out, transcript_hash);
    out
}

/// The wire number of a role (`fedlink.v1.NodeRole`), as signed and ordered.
pub fn role_wire(role: NodeRole) -> u32 {
    // The enum's values are the .proto numbers 1..=4, so the cast is exact.
    role_to_pb(role) as u32
}

/// Appends one field: its length as 4 big-endian bytes, then the bytes.
fn put(out: &mut Vec<u8>, field: &[u8]) {
    // Every field here is a fixed-size id, key, hash or integer, a member name that
    // `ChannelContext` bounds to MAX_MEMBER_NAME_BYTES, or a hello built from those, so the
    // length always fits; saturating instead of panicking keeps this total without an unwrap.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}
