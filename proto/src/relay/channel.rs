//! One session's sealed messages between two nodes: seal the next step to the peer, open the
//! next step from it, and refuse anything the relay altered, moved, replayed or reflected.
//!
//! Each direction of the session is one numbered sequence: the first message a node seals to
//! its peer is step 1 and each later one takes the next number, and likewise for what it opens
//! from the peer. A receiver knows the one step it may accept next, so nothing can be dropped,
//! replayed or reordered unnoticed; and the two directions never share a (key, nonce) pair,
//! because each has its own key. Two messages may be in flight at once, one each way, which the
//! overlap ring needs (in its first round P sends its set to I while I sends its own to P).

use ring::aead::{Aad, LessSafeKey, Nonce};

use super::context::ChannelContext;
use super::encoding;
use super::error::ChannelError;
use crate::pb;

/// An open end-to-end channel to one peer for one session, made by
/// [`Handshake::finish`](super::Handshake::finish).
///
/// Deliberately not `Debug`: it holds the session's keys. Drop it when the session ends; the
/// keys go with it (see the module notes on zeroisation).
pub struct SecureChannel {
    /// Who is talking to whom, from the signed envelope.
    ctx: ChannelContext,
    /// SHA-256 over both hellos ([`encoding::transcript_hash`]); in every message's AD.
    transcript_hash: [u8; 32],
    /// Seals our messages to the peer.
    send_key: LessSafeKey,
    /// Opens the peer's messages to us.
    receive_key: LessSafeKey,
    /// The last step sealed to the peer; 0 before the first.
    last_sent: u32,
    /// The last step opened from the peer; 0 before the first.
    last_opened: u32,
    /// The steps opened from the peer, so a second delivery is named a replay rather than a
    /// reordering. A session has a handful of steps, so a vector is enough.
    opened: Vec<u32>,
    /// Why the channel closed, if it refused a message. Once closed it stays closed: the
    /// protocol has no retransmission, and a relay that misroutes, replays or forges has shown
    /// it cannot be trusted with the rest of the session, so the node abandons the session
    /// rather than let the relay keep probing with more attempts.
    closed: Option<ChannelError>,
}

impl SecureChannel {
    /// Only the handshake makes channels.
    pub(super) fn new(
        ctx: ChannelContext,
        transcript_hash: [u8; 32],
        send_key: LessSafeKey,
        receive_key: LessSafeKey,
    ) -> Self {
        Self {
            ctx,
            transcript_hash,
            send_key,
            receive_key,
            last_sent: 0,
            last_opened: 0,
            opened: Vec::new(),
            closed: None,
        }
    }

    /// Who is talking to whom.
    pub fn context(&self) -> &ChannelContext {
        &self.ctx
    }

    /// The handshake's transcript hash. Both sides hold the same value; it is not secret, and
    /// the nodes can log it to show which handshake keyed the session.
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.transcript_hash
    }

    /// The step the next message sealed to the peer must carry; `None` once every step number
    /// has been used.
    pub fn next_step(&self) -> Option<u32> {
        self.last_sent.checked_add(1)
    }

    /// The step the next message opened from the peer must carry.
    pub fn next_open_step(&self) -> Option<u32> {
        self.last_opened.checked_add(1)
    }

    /// Seals `plaintext` to the peer as `step`, which must be [`next_step`](Self::next_step).
    ///
    /// Refusing any other step is what keeps each nonce unique under the key: a step sealed
    /// twice would reuse one, which for ChaCha20-Poly1305 leaks the XOR of the plaintexts and
    /// the authentication key.
    pub fn seal(&mut self, step: u32, plaintext: &[u8]) -> Result<pb::RelayMessage, ChannelError> {
        if let Some(cause) = &self.closed {
            return Err(ChannelError::Closed { cause: cause.to_string() });
        }
        let next = self.next_step().ok_or(ChannelError::StepsExhausted)?;
        if step != next {
            return Err(ChannelError::StepNotNext { step, next });
        }
        let ad = encoding::message_ad(
            &self.ctx.session_id(),
            step,
            self.ctx.me(),
            self.ctx.peer(),
            &self.transcript_hash,
        );
        let mut ciphertext = plaintext.to_vec();
        self.send_key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(encoding::nonce(step)),
                Aad::from(ad),
                &mut ciphertext,
            )
            .map_err(|_| ChannelError::PlaintextTooLong)?;
        self.last_sent = step;
        Ok(pb::RelayMessage {
            session_id: self.ctx.session_id().as_bytes().to_vec(),
            step,
            sender: self.ctx.me().to_string(),
            receiver: self.ctx.peer().to_string(),
            ciphertext,
        })
    }

    /// Opens the peer's next message. It must be for this session, from the peer, to us, carry
    /// exactly the next step, and authenticate under the peer's key with that session, step,
    /// direction and transcript. Any refusal closes the channel for good.
    pub fn open(&mut self, msg: &pb::RelayMessage) -> Result<Vec<u8>, ChannelError> {
        if let Some(cause) = &self.closed {
            return Err(ChannelError::Closed { cause: cause.to_string() });
        }
        let result = self.open_checked(msg);
        if let Err(refusal) = &result {
            self.closed = Some(refusal.clone());
        }
        result
    }

    fn open_checked(&mut self, msg: &pb::RelayMessage) -> Result<Vec<u8>, ChannelError> {
        let ctx = &self.ctx;
        // The header checks name what the relay did; the AEAD below would refuse all of these
        // too (the header is in the AD), but could only say "does not authenticate".
        if msg.session_id.as_slice() != ctx.session_id().as_bytes() {
            return Err(ChannelError::WrongSession);
        }
        if msg.sender == ctx.me() && msg.receiver == ctx.peer() {
            return Err(ChannelError::Reflected { step: msg.step });
        }
        if msg.sender != ctx.peer() {
            return Err(ChannelError::WrongSender {
                expected: ctx.peer().to_string(),
                got: msg.sender.clone(),
            });
        }
        if msg.receiver != ctx.me() {
            return Err(ChannelError::WrongReceiver {
                expected: ctx.me().to_string(),
                got: msg.receiver.clone(),
            });
        }
        if self.opened.contains(&msg.step) {
            return Err(ChannelError::Replayed { step: msg.step });
        }
        let expected = self.next_open_step().ok_or(ChannelError::StepsExhausted)?;
        if msg.step != expected {
            return Err(ChannelError::OutOfOrder { got: msg.step, expected });
        }

        // Built from our context, not the header, so the tag also proves the header.
        let ad = encoding::message_ad(
            &ctx.session_id(),
            msg.step,
            ctx.peer(),
            ctx.me(),
            &self.transcript_hash,
        );
        let mut buffer = msg.ciphertext.clone();
        let plaintext_len = self
            .receive_key
            .open_in_place(
                Nonce::assume_unique_for_key(encoding::nonce(msg.step)),
                Aad::from(ad),
                &mut buffer,
            )
            .map_err(|_| ChannelError::Tampered { step: msg.step })?
            .len();
        buffer.truncate(plaintext_len);

        self.last_opened = msg.step;
        self.opened.push(msg.step);
        Ok(buffer)
    }
}
