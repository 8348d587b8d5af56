//! The per-session end-to-end channel between two nodes through the blind relay (DESIGN.md
//! "Linkage", design-review.md F1 and §8 step 2).
//!
//! Nodes never talk directly: the coordinator relays every node-to-node message. Hop-by-hop mTLS
//! alone would let it read every label, size and blinded set, and substitute points that a node
//! would dutifully reblind, which makes that node a membership oracle (F1). So each pair of
//! nodes runs a SIGMA-style handshake per session and seals every later message end to end:
//!
//! 1. Each side derives a [`ChannelContext`] from the signed query envelope: query, session, who
//!    it is and who its peer is, with both roles. The relay cannot choose any of it.
//! 2. [`Handshake::start`] makes a fresh X25519 key and a [`pb::RelayHello`](crate::pb::RelayHello)
//!    signed with the node's federation Ed25519 key over that context and the ephemeral key.
//! 3. [`Handshake::finish`] checks the peer's hello against the context, verifies its signature
//!    under the peer's federation key, and derives one ChaCha20-Poly1305 key per direction with
//!    HKDF-SHA256 bound to the session and to a hash of both hellos.
//! 4. [`SecureChannel`] seals and opens [`pb::RelayMessage`](crate::pb::RelayMessage)s. Each
//!    message is bound to its session, step, sender, receiver and the handshake transcript, and
//!    a receiver takes exactly the next step, once, from its peer only.
//!
//! The relay still sees who talks to whom, when, and how long each ciphertext is; sizes are
//! protected by padding at the linkage layer (F2), not here.
//!
//! # Layout
//!
//! - [`context`]: who is talking to whom in which query, as the signed envelope says.
//! - [`encoding`]: the exact signed, hashed and authenticated bytes (pure functions).
//! - [`handshake`]: the signed ephemeral key exchange.
//! - [`channel`]: sealing and opening the messages of one session.
//! - [`error`]: why a context, handshake or message was refused.
//!
//! # Key material
//!
//! Secrets live only inside `ring` types: the ephemeral private key is consumed by the key
//! agreement, the shared secret exists only inside the HKDF step, and the two AEAD keys are built
//! straight from HKDF output, so no secret byte passes through a buffer of ours. None of these
//! types has a `Debug` impl that could print a key. Dropping the [`SecureChannel`] at the end of
//! the session drops its keys. Note that `ring` 0.17 does not zeroise its key memory on drop
//! (its own comments say its "Destroy" does not meet the NSA requirement to zeroize), and it
//! exposes no bytes for us to wipe; a session's keys are short-lived and never written anywhere.

pub mod channel;
pub mod context;
pub mod encoding;
pub mod error;
pub mod handshake;

pub use channel::SecureChannel;
pub use context::ChannelContext;
pub use error::{ChannelError, ContextError, HandshakeError};
pub use handshake::Handshake;
