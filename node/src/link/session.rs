//! Open linked-query sessions, held in memory only: a session's scalar, channel and tuples
//! never touch disk, and dropping a session zeroises its scalar (`BlindingKey` wipes itself).
//! A step takes its session out of the table while it works, so two steps of one session can
//! never run at once; an expired session is dropped the next time the table is touched.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use fedlink_proto::refusal::Refusal;

use super::cohort::CohortSession;
use super::computing::ComputingSession;
use super::overlap::OverlapSession;
use super::{StepError, Stepped};
use crate::gate::Logged;
use crate::policy::AuthorisedQuery;
use crate::state::NodeState;
use fedlink_proto::pb;

/// Where a session is in its protocol.
pub enum SessionState {
    /// This node holds the cohort (A).
    Cohort(Box<CohortSession>),
    /// This node holds the partner's records and computes (B).
    Computing(Box<ComputingSession>),
    /// This node takes part in an overlap ring.
    Overlap(Box<OverlapSession>),
}

impl SessionState {
    /// The admitted query the session serves.
    pub fn logged(&self) -> &Logged<AuthorisedQuery> {
        match self {
            SessionState::Cohort(s) => s.logged(),
            SessionState::Computing(s) => s.logged(),
            SessionState::Overlap(s) => s.logged(),
        }
    }

    /// The digest lines of every relay message the session sent and received so far.
    pub fn digests(&self) -> &[String] {
        match self {
            SessionState::Cohort(s) => s.digests(),
            SessionState::Computing(s) => s.digests(),
            SessionState::Overlap(s) => s.digests(),
        }
    }

    /// One relay step of whichever part this node plays.
    pub fn step(
        &mut self,
        state: &NodeState,
        hellos: Vec<pb::RelayHello>,
        messages: Vec<pb::RelayMessage>,
    ) -> Result<Stepped, StepError> {
        match self {
            SessionState::Cohort(s) => s.step(state, hellos, messages),
            SessionState::Computing(s) => s.step(state, hellos, messages),
            SessionState::Overlap(s) => s.step(state, hellos, messages),
        }
    }
}

struct Entry {
    /// The coordinator member that opened it: only it may step it.
    coordinator: String,
    /// The envelope's expiry, node clock.
    expires_at_ms: i64,
    /// `None` while a step is working on it.
    state: Option<SessionState>,
}

/// The node's open sessions, by session id.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<[u8; 16], Entry>>,
}

fn protocol(problem: String) -> Refusal {
    Refusal::LinkageProtocol { rule: "linkage.session", problem }
}

impl Sessions {
    fn lock(&self) -> Result<MutexGuard<'_, HashMap<[u8; 16], Entry>>, Refusal> {
        self.inner.lock().map_err(|_| protocol("the session table is unavailable".into()))
    }

    /// Registers a new session; a session id already open is refused (a replayed envelope
    /// is refused earlier, by its query id: this is a new query reusing an open session's id).
    /// A refused session comes back with the refusal, so the caller can log the refusal
    /// against the query it admitted.
    pub fn insert(
        &self,
        session_id: [u8; 16],
        coordinator: &str,
        expires_at_ms: i64,
        state: SessionState,
        now_ms: i64,
    ) -> Result<(), Box<(Refusal, SessionState)>> {
        let mut table = match self.lock() {
            Ok(table) => table,
            Err(refusal) => return Err(Box::new((refusal, state))),
        };
        table.retain(|_, e| e.expires_at_ms > now_ms);
        if table.contains_key(&session_id) {
            return Err(Box::new((protocol("this session is already open".into()), state)));
        }
        table.insert(
            session_id,
            Entry { coordinator: coordinator.to_string(), expires_at_ms, state: Some(state) },
        );
        Ok(())
    }

    /// Takes a session out to run one step on it; put it back with [`Sessions::put_back`]
    /// unless the step ended it. Only the coordinator that opened it may step it.
    pub fn take(
        &self,
        session_id: &[u8; 16],
        coordinator: &str,
        now_ms: i64,
    ) -> Result<SessionState, Refusal> {
        let mut table = self.lock()?;
        table.retain(|_, e| e.expires_at_ms > now_ms);
        let entry = table.get_mut(session_id).ok_or_else(|| {
            protocol("no such session open here (unknown, ended or expired)".into())
        })?;
        if entry.coordinator != coordinator {
            return Err(protocol(format!(
                "the session was opened by {:?}, not {coordinator:?}",
                entry.coordinator
            )));
        }
        entry.state.take().ok_or_else(|| protocol("another step of this session is running".into()))
    }

    /// Puts a session back after a step that did not end it.
    pub fn put_back(&self, session_id: &[u8; 16], state: SessionState) {
        if let Ok(mut table) = self.inner.lock()
            && let Some(entry) = table.get_mut(session_id)
        {
            entry.state = Some(state);
        }
    }

    /// Ends a session: its state is dropped (and its scalar zeroised).
    pub fn end(&self, session_id: &[u8; 16]) {
        if let Ok(mut table) = self.inner.lock() {
            table.remove(session_id);
        }
    }

    /// Drops every session whose envelope has expired; a session a step is working on is
    /// dropped when the step puts it back and finds it gone.
    pub fn reap(&self, now_ms: i64) {
        if let Ok(mut table) = self.inner.lock() {
            table.retain(|_, e| e.expires_at_ms > now_ms);
        }
    }

    /// How many sessions are open (tests and status).
    pub fn open_count(&self) -> usize {
        self.inner.lock().map_or(0, |t| t.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Session states need an admitted query; the table's own rules are tested with the
    // lookups that fail before any state is touched.

    #[test]
    fn an_unknown_or_expired_session_is_refused_by_rule() {
        let sessions = Sessions::default();
        let refusal = sessions.take(&[7; 16], "coordinator", 0).err().expect("refused");
        assert_eq!(refusal.rule(), "linkage.session");
        sessions.reap(i64::MAX);
        assert_eq!(sessions.open_count(), 0);
    }
}
