//! Node-local subject tokens for subject search (issue 7 item 4; audit-privacy-legal.md §1.3
//! "Erasure versus append-only", §3.3 `subject_tokens`): the entry that logs the node's
//! processing of identifiable people gets a payload holding one token per identifier of every
//! person it concerned, so an operator can answer "every request that concerned this person"
//! for a subject access request or a misuse inquiry, without an identifier ever entering the
//! log that auditors and the coordinator see.
//!
//! A token is `HMAC-SHA-256(key, "fedlink-subject-token/v1\n" ‖ kind ‖ "\n" ‖ value)` truncated
//! to 16 bytes, under a 32-byte key that is made on the node at first use and never leaves it
//! ([`key`]). Without the key a token cannot be tested against a guessed identifier (a plain
//! hash of an NHS number can: all 9.1×10⁸ valid numbers hash in minutes, §4.2); with it, only
//! the node can search. Two kinds:
//!
//! | kind | value | from |
//! |---|---|---|
//! | `nhs` | the ten digits | the record's NHS number, whatever its status (a disputed number is still the number the record holds) |
//! | `name_dob` | `FORENAME|SURNAME|YYYY-MM-DD` | exactly the `name_dob` match key's value ([`crate::matchkey`]): first forename token, joined surname, for the record's own name and each alias |
//!
//! So a search normalises the name and date the operator types exactly as import and the
//! match keys do: "smith, JOHN" and "John Smith" are one subject.
//!
//! # Which entries carry tokens
//!
//! The entry that logs the node's processing of a side — the first disclosure entry of its
//! part, written before the message built from the side leaves — holds the tokens of every row
//! the node read for that side (its filters, the partner reach; `link::inputs::read_side`):
//!
//! - linked count and calibration run: the cohort node's M1 entry, the partner's M2 entry;
//! - flag-back: the same, and at the cohort node also the entry releasing the flags, since
//!   every cohort row leaves with a flag (the partner cannot tell which of its own people
//!   matched, by design, so its flags entry names none; its M2 entry names its whole side);
//! - overlap: the entry sending the node's own set round the ring;
//! - a subject search: its LOG_EXPORT entry holds the searched subject's token.
//!
//! Aggregate queries are not indexed per subject: they count a whole dataset's rows, and what
//! leaves is a noised, suppressed table in which no person can be told apart, so "every request
//! that concerned this person" would be every aggregate over every dataset holding them — the
//! aggregate entries (dataset, filters, purpose) already answer that at dataset level, and
//! tokens for every row of a million-row table on every count would swell the log to no use.
//! A side refused before anything left (its cap, its label classes) carries no tokens either:
//! its refusal entry names the rule, and nothing about its people left the node.
//!
//! Truncation to 128 bits: among even a billion tokens an accidental collision has odds of
//! about 10⁻²¹, and a token is never sent anywhere a shorter one could be attacked.
//!
//! # Layout
//!
//! - [`key`]: the key file, created 0600 in the data folder.
//! - [`identifier`]: a subject as an operator names it (NHS number, or name and date of birth).
//! - [`search`]: the logged subject search.
//! - this file: the key and the tokens of an identifier, of a record and of a side's rows.

pub mod identifier;
pub mod key;
pub mod search;

use fedlink_proto::audit::payload::{SubjectToken, TOKEN_LEN};
use ring::hmac;

use crate::linkage::source::SourceRow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::matchkey::Identifiers;
use crate::matchkey::keytype::MAX_ALIASES;
use crate::normalise::name::Name;
pub use identifier::{IdentifierError, SubjectIdentifier};
pub use key::KeyFileError;

/// Prefix of every tokenised message: version and domain, so a token can never equal an HMAC
/// of anything else made with the key.
const DOMAIN: &[u8] = b"fedlink-subject-token/v1\n";

/// Below this many rows one thread computes a side's tokens: spreading small sides costs more
/// than it saves.
const PARALLEL_FROM_ROWS: usize = 20_000;

/// The node-local key subject tokens are made with. No `Debug`, no `Clone` of the bytes: it
/// never leaves the node, and only [`key`] reads or writes it.
pub struct SubjectTokenKey {
    key: hmac::Key,
}

impl SubjectTokenKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; key::KEY_LEN]) -> SubjectTokenKey {
        SubjectTokenKey { key: hmac::Key::new(hmac::HMAC_SHA256, bytes) }
    }

    /// The token of one identifier.
    pub fn token(&self, id: &SubjectIdentifier) -> SubjectToken {
        match id {
            SubjectIdentifier::NhsNumber(n) => self.token_of("nhs", n.as_str()),
            SubjectIdentifier::NameDob(value) => self.token_of("name_dob", value),
        }
    }

    fn token_of(&self, kind: &str, value: &str) -> SubjectToken {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(DOMAIN);
        ctx.update(kind.as_bytes());
        ctx.update(b"\n");
        ctx.update(value.as_bytes());
        let tag = ctx.sign();
        let mut token = [0u8; TOKEN_LEN];
        token.copy_from_slice(&tag.as_ref()[..TOKEN_LEN]);
        SubjectToken(token)
    }

    /// Appends the tokens of one record's identifiers to `out`: its NHS number, and name with
    /// date of birth for its own name and each alias (see the module table).
    pub fn tokens_of(&self, ids: &Identifiers, out: &mut Vec<SubjectToken>) {
        if let Some(nhs) = &ids.nhs_number {
            out.push(self.token_of("nhs", nhs.as_str()));
        }
        let Some(dob) = ids.dob else { return };
        // The `name_dob` key's value, built here without the rest of `derive_keys_of` (which
        // costs several times the HMAC); `name_dob_values_are_the_match_keys` holds the two
        // together. Repeats (an alias equal to the name) are removed with the side's.
        let names = std::iter::once((ids.forenames.as_ref(), ids.surname.as_ref()))
            .chain(ids.aliases.iter().take(MAX_ALIASES).map(|(f, s)| (Some(f), Some(s))));
        let mut value = String::with_capacity(48);
        for (forenames, surname) in names {
            let fore = forenames.map(Name::first).filter(|f| !f.is_empty());
            let (Some(fore), Some(surname)) = (fore, surname) else { continue };
            value.clear();
            value.push_str(fore);
            value.push('|');
            surname.tokens().iter().for_each(|t| value.push_str(t));
            if value.ends_with('|') {
                continue;
            }
            let _ = write!(value, "|{dob}");
            out.push(self.token_of("name_dob", &value));
        }
    }

    /// The tokens of every row of a side, sorted and distinct, computed on every core: a
    /// million-row side is about a second of one core's HMACs, which this keeps short while
    /// the node's other threads blind.
    pub fn tokens_of_rows(&self, rows: &[SourceRow]) -> Vec<SubjectToken> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let mut tokens = if rows.len() < PARALLEL_FROM_ROWS || threads < 2 {
            self.tokens_of_part(rows)
        } else {
            let chunk = rows.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let parts: Vec<_> = rows
                    .chunks(chunk)
                    .map(|part| (part, scope.spawn(move || self.tokens_of_part(part))))
                    .collect();
                let mut all = Vec::with_capacity(rows.len() * 2);
                for (part, handle) in parts {
                    // A share whose thread panicked is computed again here, so no subject is
                    // ever left out of the index.
                    all.extend(handle.join().unwrap_or_else(|_| self.tokens_of_part(part)));
                }
                all
            })
        };
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    }

    fn tokens_of_part(&self, rows: &[SourceRow]) -> Vec<SubjectToken> {
        let mut out = Vec::with_capacity(rows.len() * 2);
        rows.iter().for_each(|row| self.tokens_of(&row.ids, &mut out));
        out
    }
}

/// A side's tokens, being computed on a thread of their own while the node builds and blinds
/// its tuples, so they cost the query next to nothing in wall time.
pub struct PendingTokens {
    handle: Option<JoinHandle<Vec<SubjectToken>>>,
    key: Arc<SubjectTokenKey>,
    rows: Arc<Vec<SourceRow>>,
}

impl PendingTokens {
    /// Starts computing the tokens of `rows`.
    pub fn start(key: &Arc<SubjectTokenKey>, rows: &Arc<Vec<SourceRow>>) -> PendingTokens {
        let (key, rows) = (Arc::clone(key), Arc::clone(rows));
        let handle = {
            let (key, rows) = (Arc::clone(&key), Arc::clone(&rows));
            std::thread::Builder::new()
                .name("subject-tokens".into())
                .spawn(move || key.tokens_of_rows(&rows))
                .ok()
        };
        PendingTokens { handle, key, rows }
    }

    /// The tokens, sorted and distinct. If the thread could not start or failed, they are
    /// computed here: a side is never logged without its subjects.
    pub fn wait(self) -> Vec<SubjectToken> {
        match self.handle.map(JoinHandle::join) {
            Some(Ok(tokens)) => tokens,
            _ => self.key.tokens_of_rows(&self.rows),
        }
    }
}

#[cfg(test)]
mod tests;
