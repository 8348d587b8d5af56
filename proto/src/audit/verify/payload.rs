//! Offline check of the entries' erasable payloads (audit-privacy-legal.md §1.3): every payload
//! body still present must be the one its entry commits to (`SHA-256(nonce ‖ body)`) and in
//! canonical form, and the subject index must hold exactly its tokens (a subset while the node
//! is still indexing it), so a search cannot be made to miss an entry; an erased payload (no
//! body, an erasure time, no index rows) still verifies, since the entry only commits to it.
//! A payload row without its entry's commitment, a committed payload whose row is gone, and a
//! body deleted without an erasure time are each reported against the entry.
//!
//! A log file without the payload tables — written before payloads existed, or exported for an
//! auditor without them (the subject index shows which entries concern one person, so it stays
//! on the node) — has nothing here to check.
//!
//! Reads two sorted streams side by side — the entries joined with their payload rows, and the
//! index rows by entry — so a log of any size is checked in one pass.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use rusqlite::Connection;

use super::VerifyError;
use crate::audit::entry::decode_entry;
use crate::audit::payload::{Payload, PayloadNonce, commitment};

/// What the payload check found in a log that passed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadReport {
    /// Payloads whose body is present and matches its entry.
    pub present: u64,
    /// Payloads erased at the end of their retention.
    pub erased: u64,
    /// Payloads the node was still copying into the subject index.
    pub indexing: u64,
}

impl fmt::Display for PayloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payloads: {} present and matching their entries, {} erased by retention",
            self.present, self.erased
        )?;
        if self.indexing > 0 {
            write!(f, ", {} still being indexed", self.indexing)?;
        }
        Ok(())
    }
}

/// What is wrong with one entry's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadProblem {
    /// The stored body is not what the entry commits to: it was changed after the entry was
    /// written.
    Changed,
    /// The body matches the commitment but is not a canonical payload.
    Malformed(String),
    /// The entry commits to a payload, but its payload row is gone (erasure keeps the row).
    Missing,
    /// The body was deleted without the erasure time a retention sweep records.
    DeletedWithoutErasure,
    /// A payload row is stored for an entry that commits to none.
    NotCommitted,
    /// The entry's commitment or the stored nonce has the wrong length.
    Length {
        /// Which value.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The subject index disagrees with the body.
    Index {
        /// Tokens of the body missing from the index.
        missing: u64,
        /// Index rows naming the entry for tokens its body does not hold.
        extra: u64,
    },
    /// A payload row or index rows name an entry the log does not hold.
    NoEntry,
}

impl fmt::Display for PayloadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Changed => {
                write!(f, "the stored payload is not the one the entry commits to (it was changed)")
            }
            Self::Malformed(e) => write!(f, "the stored payload is malformed: {e}"),
            Self::Missing => write!(
                f,
                "the entry commits to a payload but its payload row is gone (erasure by \
                 retention keeps the row)"
            ),
            Self::DeletedWithoutErasure => write!(
                f,
                "the payload body was deleted without being erased by retention (no erasure time)"
            ),
            Self::NotCommitted => {
                write!(f, "a payload is stored for this entry, but the entry commits to none")
            }
            Self::Length { what, len } => write!(f, "the {what} is {len} bytes"),
            Self::Index { missing, extra } => write!(
                f,
                "the subject index does not match the payload: {missing} of its tokens missing, \
                 {extra} tokens it does not hold (a subject search would give wrong answers)"
            ),
            Self::NoEntry => {
                write!(f, "payload or subject-index rows name an entry not in the log")
            }
        }
    }
}

/// Checks every payload of the log open on `conn` (inside `verify_log`'s read transaction,
/// after the entries themselves verified).
pub(crate) fn check_payloads(conn: &Connection, path: &Path) -> Result<PayloadReport, VerifyError> {
    let read = |source| VerifyError::Read { path: path.to_path_buf(), source };
    let bad = |index: u64, problem| VerifyError::Payload { index, problem };
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('payload', 'payload_subject', 'payload_unindexed')",
            [],
            |r| r.get(0),
        )
        .map_err(read)?;
    if tables < 3 {
        // Written before payloads existed, or exported without them: nothing to check.
        return Ok(PayloadReport::default());
    }
    let pending: BTreeSet<i64> = conn
        .prepare("SELECT idx FROM payload_unindexed")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(read)?;
    let mut index_stmt =
        conn.prepare("SELECT idx, token FROM payload_subject ORDER BY idx, token").map_err(read)?;
    let mut index_rows = index_stmt.query([]).map_err(read)?;
    let mut next_index_row = || -> Result<Option<(i64, Vec<u8>)>, VerifyError> {
        index_rows
            .next()
            .map_err(read)?
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .transpose()
            .map_err(read)
    };
    let mut held = next_index_row()?;

    let mut stmt = conn
        .prepare(
            "SELECT e.idx, e.entry, p.idx IS NOT NULL, p.nonce, p.body, p.erased_ms
             FROM log_entry e LEFT JOIN payload p ON p.idx = e.idx ORDER BY e.idx",
        )
        .map_err(read)?;
    let mut rows = stmt.query([]).map_err(read)?;
    let mut report = PayloadReport::default();
    while let Some(row) = rows.next().map_err(read)? {
        let idx: i64 = row.get(0).map_err(read)?;
        let index = u64::try_from(idx).unwrap_or(u64::MAX);
        // Index rows of earlier indices were not consumed by any payload: orphans.
        let mut tokens_indexed = Vec::new();
        while let Some((at, token)) = held.take() {
            if at < idx {
                return Err(bad(u64::try_from(at).unwrap_or(u64::MAX), PayloadProblem::NoEntry));
            }
            if at > idx {
                held = Some((at, token));
                break;
            }
            tokens_indexed.push(token);
            held = next_index_row()?;
        }
        let has_row: bool = row.get(2).map_err(read)?;
        let committed = {
            let bytes = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(read)?;
            // The entry verified already; one that does not decode cannot reach here.
            decode_entry(bytes).map(|e| e.payload_commitment).unwrap_or_default()
        };
        if !has_row {
            if !committed.is_empty() {
                return Err(bad(index, PayloadProblem::Missing));
            }
            if !tokens_indexed.is_empty() {
                return Err(bad(index, PayloadProblem::NoEntry));
            }
            continue;
        }
        if committed.is_empty() {
            return Err(bad(index, PayloadProblem::NotCommitted));
        }
        if committed.len() != 32 {
            let len = committed.len();
            return Err(bad(index, PayloadProblem::Length { what: "payload commitment", len }));
        }
        let nonce: Vec<u8> = row.get(3).map_err(read)?;
        let nonce = PayloadNonce::from_slice(&nonce).ok_or(bad(
            index,
            PayloadProblem::Length { what: "payload nonce", len: nonce.len() },
        ))?;
        let body: Option<Vec<u8>> = row.get(4).map_err(read)?;
        let erased_ms: Option<i64> = row.get(5).map_err(read)?;
        let Some(body) = body else {
            if erased_ms.is_none() {
                return Err(bad(index, PayloadProblem::DeletedWithoutErasure));
            }
            if !tokens_indexed.is_empty() {
                let extra = tokens_indexed.len() as u64;
                return Err(bad(index, PayloadProblem::Index { missing: 0, extra }));
            }
            report.erased += 1;
            continue;
        };
        if commitment(&nonce, &body).as_slice() != committed.as_slice() {
            return Err(bad(index, PayloadProblem::Changed));
        }
        let payload = Payload::decode(&body)
            .map_err(|e| bad(index, PayloadProblem::Malformed(e.to_string())))?;
        let held: BTreeSet<&[u8]> = tokens_indexed.iter().map(Vec::as_slice).collect();
        let body_tokens: BTreeSet<&[u8]> =
            payload.tokens().iter().map(|t| t.as_bytes().as_slice()).collect();
        let extra = held.difference(&body_tokens).count() as u64;
        let missing = body_tokens.difference(&held).count() as u64;
        let indexing = pending.contains(&idx);
        if extra > 0 || (missing > 0 && !indexing) {
            return Err(bad(index, PayloadProblem::Index { missing, extra }));
        }
        report.present += 1;
        report.indexing += u64::from(indexing);
    }
    if let Some((at, _)) = held {
        return Err(bad(u64::try_from(at).unwrap_or(u64::MAX), PayloadProblem::NoEntry));
    }
    let orphan: Option<i64> = conn
        .query_row(
            "SELECT min(idx) FROM payload WHERE idx NOT IN (SELECT idx FROM log_entry)",
            [],
            |r| r.get(0),
        )
        .map_err(read)?;
    if let Some(at) = orphan {
        return Err(bad(u64::try_from(at).unwrap_or(u64::MAX), PayloadProblem::NoEntry));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::payload::{SubjectToken, TOKEN_LEN};
    use crate::audit::store::AuditLog;
    use crate::audit::verify::verify_log;
    use crate::clock::{MockClock, UnixMillis};
    use crate::identity::IdentityKey;
    use crate::pb;

    const DAY_MS: i64 = 86_400_000;

    /// A log of five entries: 1 and 3 with payloads (3 expires first), the others without.
    fn log_in(dir: &Path) -> (std::path::PathBuf, MockClock, AuditLog) {
        let path = dir.join("audit.db");
        let clock = MockClock::new(UnixMillis(1_000));
        let key = IdentityKey::generate().expect("key");
        let mut log = AuditLog::open(&path, "fedlink.audit/unit", key, Arc::new(clock.clone()))
            .expect("open");
        let tokens = |bytes: &[u8]| {
            Payload::new(bytes.iter().map(|b| SubjectToken([*b; TOKEN_LEN])).collect(), "d".into())
        };
        log.append(pb::AuditEntry::default(), None).expect("0");
        log.append_with_payload(pb::AuditEntry::default(), None, &tokens(&[1, 2]), 9 * DAY_MS)
            .expect("1");
        log.append(pb::AuditEntry::default(), None).expect("2");
        log.append_with_payload(pb::AuditEntry::default(), None, &tokens(&[2, 3]), DAY_MS)
            .expect("3");
        log.append(pb::AuditEntry::default(), None).expect("4");
        (path, clock, log)
    }

    fn problem(path: &Path) -> (u64, PayloadProblem) {
        match verify_log(path, None) {
            Err(VerifyError::Payload { index, problem }) => (index, problem),
            other => panic!("expected a payload finding, got {other:?}"),
        }
    }

    fn sql(path: &Path, statement: &str) {
        rusqlite::Connection::open(path).expect("open").execute_batch(statement).expect("sql");
    }

    #[test]
    fn payloads_verify_while_indexing_after_indexing_and_after_erasure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, clock, mut log) = log_in(dir.path());
        let report = verify_log(&path, None).expect("verifies before indexing").payloads;
        assert_eq!(report, PayloadReport { present: 2, erased: 0, indexing: 2 });
        while log.index_pending_payloads().expect("index") {}
        let report = verify_log(&path, None).expect("verifies").payloads;
        assert_eq!(report, PayloadReport { present: 2, erased: 0, indexing: 0 });
        clock.advance_ms(DAY_MS);
        log.erase_expired_payloads(|_| pb::AuditEntry::default()).expect("erase").expect("one");
        let report = verify_log(&path, None).expect("an erased payload verifies").payloads;
        assert_eq!(report, PayloadReport { present: 1, erased: 1, indexing: 0 });
        assert_eq!(
            report.to_string(),
            "payloads: 1 present and matching their entries, 1 erased by retention"
        );
    }

    #[test]
    fn a_changed_body_is_named_against_its_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _, _log) = log_in(dir.path());
        // The detail's last byte: "d" becomes "e"; still a canonical payload.
        sql(
            &path,
            "UPDATE payload SET body = CAST(substr(body, 1, length(body) - 1) || x'65' AS BLOB)
             WHERE idx = 3",
        );
        assert_eq!(problem(&path), (3, PayloadProblem::Changed));
    }

    #[test]
    fn an_index_that_hides_or_invents_an_entry_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _, log) = log_in(dir.path());
        while log.index_pending_payloads().expect("index") {}
        sql(
            &path,
            "DELETE FROM payload_subject WHERE idx = 1 AND token = x'02020202020202020202020202020202'",
        );
        assert_eq!(problem(&path), (1, PayloadProblem::Index { missing: 1, extra: 0 }));
        sql(
            &path,
            "INSERT INTO payload_subject (token, idx) VALUES (x'02020202020202020202020202020202', 1), (x'09090909090909090909090909090909', 3)",
        );
        assert_eq!(problem(&path), (3, PayloadProblem::Index { missing: 0, extra: 1 }));
        sql(
            &path,
            "DELETE FROM payload_subject WHERE idx = 3 AND token = x'09090909090909090909090909090909'; INSERT INTO payload_subject (token, idx) VALUES (x'07070707070707070707070707070707', 2)",
        );
        assert_eq!(problem(&path), (2, PayloadProblem::NoEntry));
    }

    #[test]
    fn a_payload_deleted_outside_retention_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _, _log) = log_in(dir.path());
        sql(&path, "UPDATE payload SET body = NULL WHERE idx = 1");
        assert_eq!(problem(&path), (1, PayloadProblem::DeletedWithoutErasure));
        sql(&path, "DELETE FROM payload WHERE idx = 1");
        assert_eq!(problem(&path), (1, PayloadProblem::Missing));
        sql(&path, "INSERT INTO payload (idx, nonce, body) VALUES (2, zeroblob(16), x'')");
        assert_eq!(problem(&path), (1, PayloadProblem::Missing), "the first fault is named first");
        sql(&path, "DELETE FROM payload WHERE idx = 2; UPDATE payload SET idx = 1 WHERE idx = 3");
        assert_eq!(
            problem(&path),
            (1, PayloadProblem::Changed),
            "a payload moved to another entry"
        );
    }

    #[test]
    fn a_payload_for_an_entry_without_a_commitment_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _, _log) = log_in(dir.path());
        sql(&path, "INSERT INTO payload (idx, nonce, body) VALUES (2, zeroblob(16), x'')");
        assert_eq!(problem(&path), (2, PayloadProblem::NotCommitted));
    }
}
