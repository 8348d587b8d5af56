//! Why a relay channel refused something: a context that does not follow from the envelope, a
//! peer hello that does not fit the channel, or a message the relay altered, moved or replayed.
//!
//! Each variant names what was wrong, so the node can log a precise reason and the coordinator's
//! printout says the same thing. None of them carries key material.

use crate::envelope::NodeRole;

/// Why a [`ChannelContext`](super::ChannelContext) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// A member name is empty.
    #[error("the {which} member name is empty")]
    EmptyName {
        /// "own" or "peer".
        which: &'static str,
    },
    /// A member name is longer than [`MAX_MEMBER_NAME_BYTES`](super::context::MAX_MEMBER_NAME_BYTES).
    #[error("the {which} member name is {len} bytes, more than the {max} allowed")]
    NameTooLong {
        /// "own" or "peer".
        which: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A node cannot open a channel to itself.
    #[error("{member} cannot open a relay channel to itself")]
    SelfChannel {
        /// The member named on both ends.
        member: String,
    },
    /// The envelope does not list this member as a participant.
    #[error("{member} is not a participant of the query")]
    NotAParticipant {
        /// The member looked for.
        member: String,
    },
    /// The envelope lists this member more than once, so its role is ambiguous.
    #[error("{member} is listed {times} times among the query's participants")]
    ListedTwice {
        /// The member.
        member: String,
        /// How often it is listed.
        times: usize,
    },
    /// The envelope's own role for its audience differs from the audience's participant entry.
    #[error("the envelope gives {member} role {envelope:?} but lists it as {participant:?}")]
    RoleDisagrees {
        /// The audience.
        member: String,
        /// The envelope's `role` field.
        envelope: NodeRole,
        /// The role in the participant list.
        participant: NodeRole,
    },
}

/// Why the peer's hello was refused, or the handshake could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The hello is for another query.
    #[error("the hello is for another query")]
    WrongQuery,
    /// The hello is for another session (a hello spliced in from elsewhere).
    #[error("the hello is for another session")]
    WrongSession,
    /// The hello is our own, sent back to us.
    #[error("the hello is our own, reflected back by the relay")]
    Reflected,
    /// The hello comes from a member other than the expected peer.
    #[error("the hello is from {got:?}, expected {expected:?}")]
    WrongSender {
        /// The peer the envelope names.
        expected: String,
        /// The sender the hello names.
        got: String,
    },
    /// The hello gives its sender a role other than the envelope's.
    #[error("the hello gives {sender} role {got}, but the envelope says {expected:?}")]
    WrongSenderRole {
        /// The sender.
        sender: String,
        /// The role the envelope gives the peer.
        expected: NodeRole,
        /// The role in the hello, as its wire name (or number, if unknown).
        got: String,
    },
    /// The hello is addressed to a member other than us.
    #[error("the hello is for {got:?}, not for us ({expected:?})")]
    WrongReceiver {
        /// Our member name.
        expected: String,
        /// The receiver the hello names.
        got: String,
    },
    /// The ephemeral key is not 32 bytes.
    #[error("the hello's ephemeral key is {len} bytes, not 32")]
    BadEphemeralKey {
        /// Its length.
        len: usize,
    },
    /// The signature does not verify under the peer's federation key: the hello was altered,
    /// or made by someone without the peer's identity key (a man in the middle).
    #[error("the hello's signature does not verify under {sender}'s federation key")]
    BadSignature {
        /// The peer whose key was used.
        sender: String,
    },
    /// X25519 refused the peer's key (a small-order point, which would give an all-zero
    /// shared secret).
    #[error("X25519 key agreement failed (the peer's ephemeral key is a small-order point)")]
    KeyAgreement,
    /// The OS random number generator failed, so no ephemeral key could be made.
    #[error("the OS random number generator failed")]
    Rng,
}

/// Why a message could not be sealed, or was refused on opening.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The channel refused an earlier message and is closed for the rest of the session.
    #[error("the channel is closed: it refused an earlier message ({cause})")]
    Closed {
        /// The first refusal, as text.
        cause: String,
    },
    /// The message belongs to another session (spliced in by the relay).
    #[error("the message is for another session")]
    WrongSession,
    /// The message is one we sent, reflected back to us.
    #[error("step {step} is our own message, reflected back by the relay")]
    Reflected {
        /// Its step.
        step: u32,
    },
    /// The message names a sender other than the peer.
    #[error("the message is from {got:?}, expected {expected:?}")]
    WrongSender {
        /// The peer.
        expected: String,
        /// The sender the message names.
        got: String,
    },
    /// The message is addressed to a member other than us.
    #[error("the message is for {got:?}, not for us ({expected:?})")]
    WrongReceiver {
        /// Our member name.
        expected: String,
        /// The receiver the message names.
        got: String,
    },
    /// A step already opened, delivered again.
    #[error("step {step} was already received (replay)")]
    Replayed {
        /// The step.
        step: u32,
    },
    /// A step other than the next one: a reordered, dropped or invented message.
    #[error("got step {got}, expected step {expected}")]
    OutOfOrder {
        /// The step the message carries.
        got: u32,
        /// The only step the channel accepts now.
        expected: u32,
    },
    /// The ciphertext does not authenticate under this session's key for this step, sender
    /// and receiver: it, or its header, was altered or substituted.
    #[error("step {step} does not authenticate (altered or substituted)")]
    Tampered {
        /// The step the message claims.
        step: u32,
    },
    /// The caller tried to seal a step other than the next one. Refused without sending, since
    /// sealing a step twice would reuse a nonce.
    #[error("cannot seal step {step}: the next step of this session is {next}")]
    StepNotNext {
        /// The step asked for.
        step: u32,
        /// The next step.
        next: u32,
    },
    /// Every step number has been used.
    #[error("the session has used every step number")]
    StepsExhausted,
    /// `ring` refused to seal (a plaintext beyond ChaCha20-Poly1305's limit).
    #[error("the plaintext is too long to seal")]
    PlaintextTooLong,
}
