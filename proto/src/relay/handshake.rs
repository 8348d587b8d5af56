//! The signed ephemeral key exchange that opens a relay channel: each node sends a fresh X25519
//! key signed with its federation identity, checks the peer's against the envelope, and derives
//! the session's two AEAD keys (design-review.md F1, §8 step 2).
//!
//! This is SIGMA's "sign your own ephemeral, name your peer" shape. Naming the receiver in the
//! signed bytes stops a relay from passing B's hello to a third node as if meant for it
//! (identity misbinding); hashing both hellos into the keys means the two sides agree on both
//! ephemeral keys or share no key at all.

use ring::aead::{self, CHACHA20_POLY1305};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::SystemRandom;

use super::channel::SecureChannel;
use super::context::ChannelContext;
use super::encoding::{self, HelloSide};
use super::error::HandshakeError;
use crate::envelope::role_to_pb;
use crate::identity::{IdentityKey, PublicKey, SigningContext};
use crate::pb;

/// One side of a handshake in flight: our hello has been made and sent, and we wait for the
/// peer's. Consumed by [`Handshake::finish`], so the ephemeral key is used for one agreement
/// only. Deliberately not `Debug`: it holds the ephemeral private key.
pub struct Handshake {
    /// Who is talking to whom, from the signed envelope.
    ctx: ChannelContext,
    /// Our X25519 private key for this session; `ring` consumes it in the agreement.
    ephemeral: EphemeralPrivateKey,
    /// The bytes our hello signed ([`encoding::hello_message`]), kept for the transcript.
    my_hello: Vec<u8>,
}

impl Handshake {
    /// Makes a fresh X25519 key and our hello, signed with our federation identity key. Send the
    /// hello to the peer through the relay, then call [`finish`](Self::finish) with the peer's.
    pub fn start(
        ctx: ChannelContext,
        identity: &IdentityKey,
    ) -> Result<(Handshake, pb::RelayHello), HandshakeError> {
        let rng = SystemRandom::new();
        let ephemeral =
            EphemeralPrivateKey::generate(&X25519, &rng).map_err(|_| HandshakeError::Rng)?;
        let public = ephemeral.compute_public_key().map_err(|_| HandshakeError::Rng)?;
        let mut ephemeral_public = [0u8; 32];
        // An X25519 public key is always 32 bytes; a mismatch would be a ring bug, refused
        // rather than padded.
        if public.as_ref().len() != ephemeral_public.len() {
            return Err(HandshakeError::BadEphemeralKey { len: public.as_ref().len() });
        }
        ephemeral_public.copy_from_slice(public.as_ref());

        let my_hello = encoding::hello_message(
            &ctx.query_id(),
            &ctx.session_id(),
            &ctx.query_digest(),
            ctx.me(),
            ctx.my_role(),
            ctx.peer(),
            &ephemeral_public,
        );
        let signature = identity.sign(SigningContext::RELAY_HELLO, &my_hello);
        let hello = pb::RelayHello {
            query_id: ctx.query_id().as_bytes().to_vec(),
            session_id: ctx.session_id().as_bytes().to_vec(),
            sender: ctx.me().to_string(),
            sender_role: role_to_pb(ctx.my_role()) as i32,
            receiver: ctx.peer().to_string(),
            ephemeral_public: ephemeral_public.to_vec(),
            signature: signature.as_bytes().to_vec(),
        };
        Ok((Handshake { ctx, ephemeral, my_hello }, hello))
    }

    /// The context this handshake runs in.
    pub fn context(&self) -> &ChannelContext {
        &self.ctx
    }

    /// Checks the peer's hello and derives the channel.
    ///
    /// The hello must name exactly this query and session, the expected peer as sender with the
    /// role the envelope gives it, and us as receiver; its signature must verify under
    /// `peer_key`, the peer's key from the federation file. Only then is its ephemeral key used.
    /// The keys come from HKDF-SHA256 over the X25519 shared secret, salted with the session id,
    /// with `info` = "fedlink-relay/v1" ‖ transcript hash ‖ direction ([`encoding`]).
    pub fn finish(
        self,
        peer_hello: &pb::RelayHello,
        peer_key: &PublicKey,
    ) -> Result<SecureChannel, HandshakeError> {
        let ctx = &self.ctx;
        // The cheap checks first, each naming what the relay got wrong; none of them is a
        // substitute for the signature, which covers the same fields again.
        if peer_hello.query_id.as_slice() != ctx.query_id().as_bytes() {
            return Err(HandshakeError::WrongQuery);
        }
        if peer_hello.session_id.as_slice() != ctx.session_id().as_bytes() {
            return Err(HandshakeError::WrongSession);
        }
        if peer_hello.sender == ctx.me() && peer_hello.receiver == ctx.peer() {
            return Err(HandshakeError::Reflected);
        }
        if peer_hello.sender != ctx.peer() {
            return Err(HandshakeError::WrongSender {
                expected: ctx.peer().to_string(),
                got: peer_hello.sender.clone(),
            });
        }
        if peer_hello.sender_role != role_to_pb(ctx.peer_role()) as i32 {
            return Err(HandshakeError::WrongSenderRole {
                sender: ctx.peer().to_string(),
                expected: ctx.peer_role(),
                got: role_name(peer_hello.sender_role),
            });
        }
        if peer_hello.receiver != ctx.me() {
            return Err(HandshakeError::WrongReceiver {
                expected: ctx.me().to_string(),
                got: peer_hello.receiver.clone(),
            });
        }
        let peer_ephemeral: [u8; 32] =
            peer_hello.ephemeral_public.as_slice().try_into().map_err(|_| {
                HandshakeError::BadEphemeralKey { len: peer_hello.ephemeral_public.len() }
            })?;

        // Rebuilt from our own context, not from the hello's fields: the signature then proves
        // the peer meant this channel, whatever the relay wrote around it.
        let peer_hello_bytes = encoding::hello_message(
            &ctx.query_id(),
            &ctx.session_id(),
            &ctx.query_digest(),
            ctx.peer(),
            ctx.peer_role(),
            ctx.me(),
            &peer_ephemeral,
        );
        peer_key
            .verify(SigningContext::RELAY_HELLO, &peer_hello_bytes, &peer_hello.signature)
            .map_err(|_| HandshakeError::BadSignature { sender: ctx.peer().to_string() })?;

        let transcript_hash = encoding::transcript_hash(
            HelloSide { role: ctx.my_role(), member: ctx.me(), hello: &self.my_hello },
            HelloSide { role: ctx.peer_role(), member: ctx.peer(), hello: &peer_hello_bytes },
        );
        let send_direction = encoding::key_direction(ctx.me(), ctx.peer());
        let receive_direction = encoding::key_direction(ctx.peer(), ctx.me());
        let salt = Salt::new(HKDF_SHA256, ctx.session_id().as_bytes());

        // The shared secret exists only inside this closure, in ring's own buffer; the keys
        // leave it as ring AEAD keys, never as bytes of ours.
        let keys = agreement::agree_ephemeral(
            self.ephemeral,
            &UnparsedPublicKey::new(&X25519, &peer_ephemeral),
            |shared| {
                let prk = salt.extract(shared);
                let derive = |direction: &[u8]| {
                    let info = [encoding::KEY_INFO_LABEL, &transcript_hash[..], direction];
                    prk.expand(&info, &CHACHA20_POLY1305).map(aead::UnboundKey::from)
                };
                Ok::<_, ring::error::Unspecified>((
                    derive(&send_direction)?,
                    derive(&receive_direction)?,
                ))
            },
        );
        // ring refuses a small-order peer key (all-zero shared secret); HKDF cannot fail for a
        // 32-byte output, but if it did there would be no key either.
        let (send_key, receive_key) =
            keys.and_then(|derived| derived).map_err(|_| HandshakeError::KeyAgreement)?;

        Ok(SecureChannel::new(
            self.ctx,
            transcript_hash,
            aead::LessSafeKey::new(send_key),
            aead::LessSafeKey::new(receive_key),
        ))
    }
}

/// A wire role number as its .proto name, for error messages.
fn role_name(value: i32) -> String {
    match pb::NodeRole::try_from(value) {
        Ok(role) => role.as_str_name().to_string(),
        Err(_) => format!("unknown role {value}"),
    }
}
