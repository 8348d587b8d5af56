//! Entries' erasable payloads in the log file (audit-privacy-legal.md §1.3): the `payload` row
//! (nonce, body, when it may be deleted, when it was), and the `payload_subject` index from
//! each subject token to the entries whose payload holds it, for subject search. Neither is
//! part of the tree: the entry commits to `SHA-256(nonce ‖ body)`, so erasing a body (and its
//! index rows) when its retention ends leaves every entry and checkpoint verifiable, and
//! `verify` checks every body still present against its entry and the index against the body.
//!
//! Generic: tokens are opaque 16-byte values the caller computed. The payload is written in
//! the same transaction as its entry; erasure writes its own ERASURE entry in the same
//! transaction as the erasure, so the log never shows one without the other.
//!
//! The index is filled after the append, not in it: a million-subject side is a million index
//! rows, about a second of inserts, and an append holds the log's write lock while the node's
//! answer waits for it. So the append writes the body (one row) and marks the payload in
//! `payload_unindexed`; [`AuditLog::index_pending_payloads`] then copies its tokens from the
//! body into `payload_subject` in short transactions (the node runs it on a thread after each
//! such append and at start-up), and a search first finishes whatever is still pending, so it
//! never misses a payload. `verify` accepts a pending payload's partial index.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Appended, AuditLog, StoreError, from_sql, to_sql};
use crate::audit::payload::{Payload, PayloadNonce, SubjectToken, TOKEN_LEN, commitment};
use crate::pb;

/// The table of payloads whose tokens are not all in `payload_subject` yet, and how many of
/// their tokens are (`indexed`, counted from the start of the body). Created with the log.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS payload_unindexed (
    idx     INTEGER PRIMARY KEY CHECK (idx >= 0),
    indexed INTEGER NOT NULL DEFAULT 0 CHECK (indexed >= 0)
) STRICT;
";

/// Bytes of one token in a payload body: tag 0x0a, length 0x10, the 16 bytes.
const TOKEN_RECORD: usize = 2 + TOKEN_LEN;

/// Most tokens one indexing transaction copies: about a tenth of a second of inserts, so an
/// append never waits long behind the index.
pub const INDEX_CHUNK: usize = 100_000;

/// A payload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayload {
    /// The commitment's salt (kept after erasure).
    pub nonce: Vec<u8>,
    /// The payload bytes; `None` once erased.
    pub body: Option<Vec<u8>>,
    /// When its retention ends (ms since the epoch).
    pub delete_after_ms: Option<i64>,
    /// When it was erased.
    pub erased_ms: Option<i64>,
}

/// What one erasure sweep erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// How many payloads.
    pub count: u64,
    /// The lowest entry index whose payload was erased.
    pub first_index: u64,
    /// The highest.
    pub last_index: u64,
    /// The time of the sweep, which is also each erased payload's `erased_ms`.
    pub erased_ms: i64,
}

/// What a subject search found, over the entries the log held when it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSearch {
    /// The log size searched: entries `0..size`.
    pub size: u64,
    /// Entries whose payload holds any of the tokens, ascending.
    pub indices: Vec<u64>,
    /// Entries in `0..size` whose payload was erased, so they could not be searched.
    pub erased: u64,
}

/// Stores `payload` for the entry at `index` in the append's transaction and returns the
/// commitment the entry must carry.
pub(super) fn insert(
    tx: &Connection,
    index: u64,
    payload: &Payload,
    delete_after_ms: i64,
) -> Result<[u8; 32], StoreError> {
    let nonce = PayloadNonce::generate().map_err(|_| StoreError::Random)?;
    let body = payload.encode();
    let committed = commitment(&nonce, &body);
    let idx = to_sql(index)?;
    tx.prepare_cached(
        "INSERT INTO payload (idx, nonce, body, delete_after_ms, erased_ms)
         VALUES (?1, ?2, ?3, ?4, NULL)",
    )?
    .execute(params![idx, nonce.0.as_slice(), body, delete_after_ms])?;
    if !payload.tokens().is_empty() {
        tx.prepare_cached("INSERT INTO payload_unindexed (idx, indexed) VALUES (?1, 0)")?
            .execute([idx])?;
    }
    Ok(committed)
}

impl AuditLog {
    /// Appends `entry` with its erasable `payload` (audit-privacy-legal.md §1.3) in one
    /// transaction: the payload row, its subject-index rows, and the entry carrying
    /// `payload_commitment = SHA-256(nonce ‖ payload bytes)` under a fresh nonce. The payload
    /// may be erased `retain_for_ms` after the entry's time. Refuses a charged entry, as
    /// [`AuditLog::append`] does.
    pub fn append_with_payload(
        &mut self,
        entry: pb::AuditEntry,
        claim_query_id: Option<[u8; 16]>,
        payload: &Payload,
        retain_for_ms: i64,
    ) -> Result<Appended, StoreError> {
        if entry.budget.is_some() {
            return Err(StoreError::ChargeNeedsLimits);
        }
        self.append_in_transaction(entry, claim_query_id, None, Some((payload, retain_for_ms)))
    }

    /// Erases every payload whose retention has ended by the log's clock — its body and its
    /// subject-index rows; the nonce stays and `erased_ms` is set — and, in the same
    /// transaction, appends the ERASURE entry `make_entry` builds from what was erased.
    /// Returns `None`, and appends nothing, when no payload was due.
    pub fn erase_expired_payloads(
        &mut self,
        make_entry: impl FnOnce(&Erasure) -> pb::AuditEntry,
    ) -> Result<Option<(Erasure, Appended)>, StoreError> {
        let now = self.clock.now().0;
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let due: Vec<i64> = tx
            .prepare(
                "SELECT idx FROM payload WHERE erased_ms IS NULL
                 AND delete_after_ms IS NOT NULL AND delete_after_ms <= ?1 ORDER BY idx",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let (Some(first), Some(last)) = (due.first(), due.last()) else {
            return Ok(None);
        };
        let erasure = Erasure {
            count: due.len() as u64,
            first_index: from_sql(*first)?,
            last_index: from_sql(*last)?,
            erased_ms: now,
        };
        {
            let mut body_of = tx.prepare("SELECT body FROM payload WHERE idx = ?1")?;
            let mut erase =
                tx.prepare("UPDATE payload SET body = NULL, erased_ms = ?2 WHERE idx = ?1")?;
            let mut unindex_token =
                tx.prepare("DELETE FROM payload_subject WHERE token = ?1 AND idx = ?2")?;
            let mut unindex_all = tx.prepare("DELETE FROM payload_subject WHERE idx = ?1")?;
            let mut unpend = tx.prepare("DELETE FROM payload_unindexed WHERE idx = ?1")?;
            for idx in &due {
                // The index is keyed by token: deleting the body's tokens one by one is a few
                // lookups each, where deleting by entry would scan the whole index.
                let body: Option<Vec<u8>> = body_of.query_row([idx], |r| r.get(0))?;
                match body.as_deref().map(Payload::decode) {
                    Some(Ok(payload)) => {
                        for token in payload.tokens() {
                            unindex_token.execute(params![token.0.as_slice(), idx])?;
                        }
                    }
                    // A body that does not decode (`verify` names it) may have index rows of
                    // tokens it no longer shows: remove them all, however slowly.
                    _ => {
                        unindex_all.execute([idx])?;
                    }
                }
                erase.execute(params![idx, now])?;
                unpend.execute([idx])?;
            }
        }
        let appended = self.write_entry(&tx, make_entry(&erasure), None, None, None, now)?;
        tx.commit()?;
        self.size = appended.size;
        Ok(Some((erasure, appended)))
    }

    /// Copies up to [`INDEX_CHUNK`] tokens of the oldest payload still pending into the
    /// subject index, in one short transaction; returns whether any payload is still pending.
    /// Safe to run from several threads or processes at once: each chunk reads its starting
    /// point inside its own write transaction.
    pub fn index_pending_payloads(&self) -> Result<bool, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let next: Option<(i64, i64)> = tx
            .query_row("SELECT idx, indexed FROM payload_unindexed ORDER BY idx LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((idx, indexed)) = next else { return Ok(false) };
        let start = usize::try_from(indexed).unwrap_or(usize::MAX);
        // Only the chunk's bytes are read: a 1 M-token body is 18 MB.
        let chunk: Option<Vec<u8>> = tx
            .query_row(
                "SELECT substr(body, ?2, ?3) FROM payload WHERE idx = ?1",
                params![
                    idx,
                    to_sql(start.saturating_mul(TOKEN_RECORD) as u64 + 1)?,
                    to_sql((INDEX_CHUNK * TOKEN_RECORD) as u64)?
                ],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let chunk = chunk.unwrap_or_default();
        let mut copied = 0usize;
        {
            let mut add = tx.prepare_cached(
                "INSERT OR IGNORE INTO payload_subject (token, idx) VALUES (?1, ?2)",
            )?;
            // Tokens come first in a canonical body; the first record that is not one is the
            // detail (or the end), and the payload is then fully indexed.
            for record in chunk.chunks_exact(TOKEN_RECORD) {
                if record[..2] != [0x0a, TOKEN_LEN as u8] {
                    break;
                }
                add.execute(params![&record[2..], idx])?;
                copied += 1;
            }
        }
        if copied < INDEX_CHUNK {
            tx.execute("DELETE FROM payload_unindexed WHERE idx = ?1", [idx])?;
        } else {
            tx.execute(
                "UPDATE payload_unindexed SET indexed = indexed + ?2 WHERE idx = ?1",
                params![idx, to_sql(copied as u64)?],
            )?;
        }
        let more: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM payload_unindexed)", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(more)
    }

    /// Every entry whose payload holds any of `tokens`, among the entries the log holds now,
    /// and how many of those entries' payloads were erased (they cannot be searched). Finishes
    /// the index first, so a payload appended a moment ago is found too.
    pub fn search_subjects(&self, tokens: &[SubjectToken]) -> Result<SubjectSearch, StoreError> {
        while self.index_pending_payloads()? {}
        // One read transaction: the size, the hits and the erased count describe one state.
        let tx = self.conn.unchecked_transaction()?;
        let size: i64 =
            tx.query_row("SELECT coalesce(max(idx) + 1, 0) FROM log_entry", [], |r| r.get(0))?;
        let mut indices = Vec::new();
        {
            let mut find = tx.prepare_cached(
                "SELECT idx FROM payload_subject WHERE token = ?1 AND idx < ?2 ORDER BY idx",
            )?;
            for token in tokens {
                let rows = find.query_map(params![token.0.as_slice(), size], |r| r.get(0))?;
                for idx in rows {
                    indices.push(from_sql(idx?)?);
                }
            }
        }
        indices.sort_unstable();
        indices.dedup();
        let erased: i64 = tx.query_row(
            "SELECT count(*) FROM payload WHERE erased_ms IS NOT NULL AND idx < ?1",
            [size],
            |r| r.get(0),
        )?;
        Ok(SubjectSearch { size: from_sql(size)?, indices, erased: from_sql(erased)? })
    }

    /// The payload stored for entry `index`, if it has one.
    pub fn payload(&self, index: u64) -> Result<Option<StoredPayload>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT nonce, body, delete_after_ms, erased_ms FROM payload WHERE idx = ?1",
            )?
            .query_row([to_sql(index)?], |r| {
                Ok(StoredPayload {
                    nonce: r.get(0)?,
                    body: r.get(1)?,
                    delete_after_ms: r.get(2)?,
                    erased_ms: r.get(3)?,
                })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::audit::payload::TOKEN_LEN;
    use crate::audit::store::decode_entry;
    use crate::clock::{MockClock, UnixMillis};
    use crate::identity::IdentityKey;

    const DAY_MS: i64 = 86_400_000;

    fn log_in(dir: &Path, clock: &MockClock) -> AuditLog {
        let key = IdentityKey::generate().expect("key");
        AuditLog::open(&dir.join("audit.db"), "fedlink.audit/unit", key, Arc::new(clock.clone()))
            .expect("open")
    }

    fn token(b: u8) -> SubjectToken {
        SubjectToken([b; TOKEN_LEN])
    }

    fn erasure_entry(e: &Erasure) -> pb::AuditEntry {
        pb::AuditEntry {
            event_type: pb::EventType::Erasure as i32,
            detail: format!("{} payloads, {}..={}", e.count, e.first_index, e.last_index),
            ..Default::default()
        }
    }

    #[test]
    fn the_entry_commits_to_the_stored_payload_and_search_finds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = MockClock::new(UnixMillis(1_000));
        let mut log = log_in(dir.path(), &clock);
        log.append(pb::AuditEntry::default(), None).expect("plain");
        let payload = Payload::new(vec![token(2), token(1)], "side".into());
        let a = log
            .append_with_payload(pb::AuditEntry::default(), None, &payload, DAY_MS)
            .expect("append");
        assert_eq!(a.index, 1);
        let stored = log.payload(1).expect("read").expect("a payload");
        let body = stored.body.clone().expect("a body");
        assert_eq!(Payload::decode(&body).expect("decodes"), payload);
        let nonce = PayloadNonce::from_slice(&stored.nonce).expect("16 bytes");
        let entry = decode_entry(&a.entry_bytes).expect("entry");
        assert_eq!(entry.payload_commitment, commitment(&nonce, &body).to_vec());
        assert_eq!(stored.delete_after_ms, Some(1_000 + DAY_MS));
        assert_eq!(log.payload(0).expect("read"), None);

        let other = Payload::new(vec![token(3), token(1)], String::new());
        log.append_with_payload(pb::AuditEntry::default(), None, &other, DAY_MS).expect("second");
        let found = log.search_subjects(&[token(1)]).expect("search");
        assert_eq!(found, SubjectSearch { size: 3, indices: vec![1, 2], erased: 0 });
        assert_eq!(log.search_subjects(&[token(2)]).expect("search").indices, vec![1]);
        assert_eq!(log.search_subjects(&[token(2), token(3)]).expect("search").indices, vec![1, 2]);
        assert!(log.search_subjects(&[token(9)]).expect("search").indices.is_empty());
    }

    #[test]
    fn erasure_removes_expired_bodies_and_index_rows_and_logs_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = MockClock::new(UnixMillis(1_000));
        let mut log = log_in(dir.path(), &clock);
        let short = Payload::new(vec![token(1)], String::new());
        let long = Payload::new(vec![token(1), token(2)], String::new());
        log.append_with_payload(pb::AuditEntry::default(), None, &short, DAY_MS).expect("0");
        log.append_with_payload(pb::AuditEntry::default(), None, &long, 10 * DAY_MS).expect("1");
        log.append_with_payload(pb::AuditEntry::default(), None, &short, DAY_MS).expect("2");

        assert_eq!(log.erase_expired_payloads(erasure_entry).expect("nothing due"), None);
        assert_eq!(log.size(), 3, "no ERASURE entry when nothing was erased");

        clock.advance_ms(DAY_MS);
        let (erasure, appended) =
            log.erase_expired_payloads(erasure_entry).expect("sweep").expect("two were due");
        assert_eq!(
            erasure,
            Erasure { count: 2, first_index: 0, last_index: 2, erased_ms: 1_000 + DAY_MS }
        );
        assert_eq!(appended.index, 3);
        let logged = decode_entry(&appended.entry_bytes).expect("entry");
        assert_eq!(logged.event_type, pb::EventType::Erasure as i32);
        assert_eq!(logged.detail, "2 payloads, 0..=2");

        let erased = log.payload(0).expect("read").expect("row kept");
        assert_eq!((erased.body, erased.erased_ms), (None, Some(1_000 + DAY_MS)));
        assert_eq!(erased.nonce.len(), 16, "the nonce stays");
        assert!(log.payload(1).expect("read").expect("row").body.is_some());
        let found = log.search_subjects(&[token(1)]).expect("search");
        assert_eq!(found, SubjectSearch { size: 4, indices: vec![1], erased: 2 });
        assert_eq!(log.erase_expired_payloads(erasure_entry).expect("again"), None);
    }

    fn index_rows(log: &AuditLog) -> Vec<(Vec<u8>, i64)> {
        let mut stmt = log
            .conn
            .prepare("SELECT token, idx FROM payload_subject ORDER BY idx, token")
            .expect("sql");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn the_index_is_filled_after_the_append_in_chunks_and_completely() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = MockClock::new(UnixMillis(1_000));
        let mut log = log_in(dir.path(), &clock);
        let n = INDEX_CHUNK + 3;
        let tokens: Vec<SubjectToken> = (0..n as u32)
            .map(|i| {
                let mut t = [0u8; TOKEN_LEN];
                t[..4].copy_from_slice(&i.to_be_bytes());
                SubjectToken(t)
            })
            .collect();
        let big = Payload::new(tokens, "detail after the tokens".into());
        log.append_with_payload(pb::AuditEntry::default(), None, &big, DAY_MS).expect("big");
        let small = Payload::new(vec![token(0xee)], String::new());
        log.append_with_payload(pb::AuditEntry::default(), None, &small, DAY_MS).expect("small");
        assert!(index_rows(&log).is_empty(), "the append itself writes no index rows");

        assert!(log.index_pending_payloads().expect("chunk 1"), "more to do");
        assert_eq!(index_rows(&log).len(), INDEX_CHUNK);
        assert!(log.index_pending_payloads().expect("chunk 2"), "the small one is left");
        assert_eq!(index_rows(&log).len(), n);
        assert!(!log.index_pending_payloads().expect("chunk 3"), "nothing left");
        let rows = index_rows(&log);
        assert_eq!(rows.len(), n + 1);
        let expected: Vec<(Vec<u8>, i64)> = big
            .tokens()
            .iter()
            .map(|t| (t.0.to_vec(), 0))
            .chain(std::iter::once((token(0xee).0.to_vec(), 1)))
            .collect();
        assert_eq!(rows, expected);
        assert!(!log.index_pending_payloads().expect("idle"));
    }

    #[test]
    fn a_search_finishes_the_index_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = MockClock::new(UnixMillis(1_000));
        let mut log = log_in(dir.path(), &clock);
        let payload = Payload::new(vec![token(4)], String::new());
        log.append_with_payload(pb::AuditEntry::default(), None, &payload, DAY_MS).expect("0");
        assert_eq!(log.search_subjects(&[token(4)]).expect("search").indices, vec![0]);
    }

    /// Not a test of behaviour: how long tokens take to store for a large side. Run with
    /// `cargo test -p fedlink-proto --release --lib payload_insert_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing only"]
    fn payload_insert_cost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = MockClock::new(UnixMillis(1_000));
        let mut log = log_in(dir.path(), &clock);
        for n in [100_000u32, 1_000_000, 3_000_000] {
            let tokens: Vec<SubjectToken> = (0..n)
                .map(|i| {
                    let h = ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes());
                    SubjectToken::from_slice(&h.as_ref()[..16]).expect("16")
                })
                .collect();
            let started = std::time::Instant::now();
            let payload = Payload::new(tokens, String::new());
            log.append_with_payload(pb::AuditEntry::default(), None, &payload, DAY_MS)
                .expect("append");
            let appended = started.elapsed().as_secs_f64();
            let started = std::time::Instant::now();
            while log.index_pending_payloads().expect("index") {}
            println!(
                "{n} tokens: append (body) {appended:.2} s, then index {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
}
