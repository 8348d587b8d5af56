//! Who is talking to whom in which query: the one thing both ends of a relay channel must agree
//! on before any key is exchanged, taken from the signed query envelope so the relay cannot
//! choose it.

use super::error::ContextError;
use crate::envelope::{NodeRole, QueryId, SessionId, VerifiedEnvelope};

/// The longest member name a channel accepts. Federation names are short ASCII words; the bound
/// keeps every length-prefixed field of [`encoding`](super::encoding) far inside a `u32`.
pub const MAX_MEMBER_NAME_BYTES: usize = 256;

/// Both ends of one relay channel in one query session, as one side sees it.
///
/// The two sides hold mirror images: A's `me` is B's `peer`. The fields are private so that
/// every context has non-empty, bounded, distinct names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelContext {
    /// The query the session serves.
    query_id: QueryId,
    /// The session, as the envelope names it.
    session_id: SessionId,
    /// Our federation member name.
    me: String,
    /// Our role in the query.
    my_role: NodeRole,
    /// The peer's federation member name.
    peer: String,
    /// The peer's role in the query.
    peer_role: NodeRole,
    /// What both ends' envelopes must share ([`Envelope::shared_digest`](crate::envelope::Envelope::shared_digest)).
    query_digest: [u8; 32],
}

impl ChannelContext {
    /// The channel from this envelope's audience to `peer`: query, session, our name and role
    /// from the envelope, the peer's role from its participant list. This is how a node should
    /// build a context: everything comes from bytes the coordinator signed and the node has
    /// already checked against its policy, and nothing from the relay.
    pub fn from_envelope(envelope: &VerifiedEnvelope, peer: &str) -> Result<Self, ContextError> {
        let env = envelope.envelope();
        let my_listed_role = listed_role(env, &env.audience)?;
        if my_listed_role != env.role {
            return Err(ContextError::RoleDisagrees {
                member: env.audience.clone(),
                envelope: env.role,
                participant: my_listed_role,
            });
        }
        let peer_role = listed_role(env, peer)?;
        Self::new(
            env.query_id,
            env.session_id,
            env.shared_digest(),
            &env.audience,
            env.role,
            peer,
            peer_role,
        )
    }

    /// A context from parts the caller has already taken from a verified envelope (tests, and
    /// callers that hold the parsed participants). Checks that both names are non-empty, at most
    /// [`MAX_MEMBER_NAME_BYTES`] long, and different.
    pub fn new(
        query_id: QueryId,
        session_id: SessionId,
        query_digest: [u8; 32],
        me: &str,
        my_role: NodeRole,
        peer: &str,
        peer_role: NodeRole,
    ) -> Result<Self, ContextError> {
        check_name("own", me)?;
        check_name("peer", peer)?;
        if me == peer {
            return Err(ContextError::SelfChannel { member: me.to_string() });
        }
        Ok(Self {
            query_id,
            session_id,
            me: me.to_string(),
            my_role,
            peer: peer.to_string(),
            peer_role,
            query_digest,
        })
    }

    /// The query the session serves.
    pub fn query_id(&self) -> QueryId {
        self.query_id
    }

    /// The digest of what both ends' envelopes share; in every hello's signed bytes.
    pub fn query_digest(&self) -> [u8; 32] {
        self.query_digest
    }

    /// The session.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// Our member name.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Our role.
    pub fn my_role(&self) -> NodeRole {
        self.my_role
    }

    /// The peer's member name.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The peer's role.
    pub fn peer_role(&self) -> NodeRole {
        self.peer_role
    }
}

/// The role the envelope's participant list gives `member`, which must be listed exactly once.
fn listed_role(env: &crate::envelope::Envelope, member: &str) -> Result<NodeRole, ContextError> {
    let mut listed = env.participants.iter().filter(|p| p.member == member);
    match (listed.next(), listed.count()) {
        (None, _) => Err(ContextError::NotAParticipant { member: member.to_string() }),
        (Some(p), 0) => Ok(p.role),
        (Some(_), more) => {
            Err(ContextError::ListedTwice { member: member.to_string(), times: more + 1 })
        }
    }
}

fn check_name(which: &'static str, name: &str) -> Result<(), ContextError> {
    if name.is_empty() {
        return Err(ContextError::EmptyName { which });
    }
    if name.len() > MAX_MEMBER_NAME_BYTES {
        return Err(ContextError::NameTooLong {
            which,
            len: name.len(),
            max: MAX_MEMBER_NAME_BYTES,
        });
    }
    Ok(())
}
