//! [`ApprovalStore`]: the flag-back requests and their decisions in `approvals.db`, shared by
//! the node process (which records and waits) and the operator's CLI (which lists and decides).
//! Every write runs in an immediate transaction, which takes SQLite's write lock at once. The
//! checks a decision depends on (still pending, not expired, caps) are therefore read under the
//! same lock as the update they guard.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, TransactionBehavior, params};

use super::{
    ApprovalError, ApprovalRecord, ApprovalRequest, ApprovalState, CaseCaps, CaseHistory,
    check_text,
};

/// The file format this build reads and writes, kept in SQLite's `user_version`.
const FORMAT: i64 = 1;

/// One row per request. `state` stores only the decisions; "expired" is not stored, because it
/// depends on the time of reading (a pending row at or past `expires_at_ms`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS request (
    id INTEGER PRIMARY KEY,
    query_hash BLOB NOT NULL UNIQUE CHECK (length(query_hash) = 32),
    query_id TEXT NOT NULL,
    case_ref TEXT NOT NULL,
    purpose TEXT NOT NULL,
    lawful_basis TEXT NOT NULL,
    requester TEXT NOT NULL,
    authoriser TEXT NOT NULL,
    dataset TEXT NOT NULL,
    attested_rows INTEGER NOT NULL CHECK (attested_rows > 0),
    requested_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied')),
    decided_by TEXT,
    decided_at_ms INTEGER,
    reason TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS request_case ON request(case_ref, state, decided_at_ms);
CREATE INDEX IF NOT EXISTS request_decided ON request(state, decided_at_ms);
";

const COLUMNS: &str = "id, query_hash, query_id, case_ref, purpose, lawful_basis, requester, \
                       authoriser, dataset, attested_rows, requested_at_ms, expires_at_ms, state, \
                       decided_by, decided_at_ms, reason";

/// How long a write waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The approvals database. One connection behind a mutex, so a node can share the store
/// between tasks. Other processes open their own store on the same file.
pub struct ApprovalStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for ApprovalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalStore").finish_non_exhaustive()
    }
}

impl ApprovalStore {
    /// Opens the database at `path`, creating the file and its schema if they are new. The
    /// folder must exist.
    pub fn open(path: &Path) -> Result<Self, ApprovalError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets the node poll while an operator decides. FULL syncs every commit, so a
        // decision the operator saw confirmed survives a power cut.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match found {
            0 => {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", FORMAT)?;
            }
            FORMAT => {}
            found => {
                return Err(ApprovalError::UnknownFormat {
                    path: path.to_path_buf(),
                    found,
                    expected: FORMAT,
                });
            }
        }
        tx.commit()?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    /// Records a pending request and returns its id. Idempotent on the query hash: the same
    /// query recorded again returns the first id and leaves its state alone (a query denied
    /// once stays denied). The same hash with different details is refused.
    pub fn request(&self, req: &ApprovalRequest) -> Result<i64, ApprovalError> {
        req.validate()?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(existing) = by_hash(&tx, &req.query_hash, i64::MIN)? {
            return if existing.request.same_query(req) {
                Ok(existing.id)
            } else {
                Err(ApprovalError::HashConflict { id: existing.id })
            };
        }
        tx.execute(
            "INSERT INTO request (query_hash, query_id, case_ref, purpose, lawful_basis, \
             requester, authoriser, dataset, attested_rows, requested_at_ms, expires_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                req.query_hash.as_slice(),
                req.query_id,
                req.case_ref,
                req.purpose,
                req.lawful_basis,
                req.requester,
                req.authoriser,
                req.dataset,
                req.attested_rows,
                req.requested_at_ms,
                req.expires_at_ms,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Where request `id` stands at `now_ms`. A pending request at or past its expiry reads as
    /// [`ApprovalState::Expired`].
    pub fn state(&self, id: i64, now_ms: i64) -> Result<ApprovalState, ApprovalError> {
        Ok(self.get(id, now_ms)?.state)
    }

    /// Request `id` and where it stands at `now_ms`.
    pub fn get(&self, id: i64, now_ms: i64) -> Result<ApprovalRecord, ApprovalError> {
        let conn = self.lock();
        by_id(&conn, id, now_ms)?.ok_or(ApprovalError::UnknownId(id))
    }

    /// The requests still waiting at `now_ms` (`pending_only`), or every request, oldest first.
    pub fn list(
        &self,
        pending_only: bool,
        now_ms: i64,
    ) -> Result<Vec<ApprovalRecord>, ApprovalError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM request \
             WHERE NOT ?1 OR (state = 'pending' AND expires_at_ms > ?2) ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![pending_only, now_ms], |row| read_row(row, now_ms))?;
        rows.map(|r| r?).collect()
    }

    /// The case reference's requests and the caps left at `now_ms`: what an approver must see
    /// before deciding.
    pub fn history(
        &self,
        case_ref: &str,
        caps: &CaseCaps,
        now_ms: i64,
    ) -> Result<CaseHistory, ApprovalError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM request WHERE case_ref = ?1 ORDER BY id DESC"
        ))?;
        let previous = stmt
            .query_map([case_ref], |row| read_row(row, now_ms))?
            .map(|r| r?)
            .collect::<Result<Vec<_>, _>>()?;
        let used = Used::count(&conn, case_ref, caps, now_ms)?;
        Ok(CaseHistory {
            case_ref: case_ref.to_string(),
            previous,
            rows_approved_in_period: used.case,
            rows_remaining_for_case: u64::from(caps.max_rows_per_case).saturating_sub(used.case),
            rows_approved_today: used.day,
            rows_remaining_today: u64::from(caps.max_rows_per_day).saturating_sub(used.day),
        })
    }

    /// Approves request `id` as `approver`. Refuses, with a typed error, a request that is
    /// unknown, already decided or expired, and an approval that would take the case reference
    /// past `caps.max_rows_per_case` over the case period or the node past
    /// `caps.max_rows_per_day` today.
    pub fn approve(
        &self,
        id: i64,
        approver: &str,
        caps: &CaseCaps,
        now_ms: i64,
    ) -> Result<ApprovalRecord, ApprovalError> {
        check_text("approver", approver)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut record = pending(&tx, id, now_ms)?;
        let used = Used::count(&tx, &record.request.case_ref, caps, now_ms)?;
        let asked = record.request.attested_rows;
        if used.case.saturating_add(u64::from(asked)) > u64::from(caps.max_rows_per_case) {
            return Err(ApprovalError::CaseCapExceeded {
                id,
                case_ref: record.request.case_ref,
                limit: caps.max_rows_per_case,
                period_days: caps.case_period_days,
                approved: used.case,
                asked,
            });
        }
        if used.day.saturating_add(u64::from(asked)) > u64::from(caps.max_rows_per_day) {
            return Err(ApprovalError::DayCapExceeded {
                id,
                limit: caps.max_rows_per_day,
                approved: used.day,
                asked,
            });
        }
        decide(&tx, id, "approved", approver, None, now_ms)?;
        tx.commit()?;
        record.state = ApprovalState::Approved { approver: approver.to_string(), at_ms: now_ms };
        Ok(record)
    }

    /// Denies request `id` as `approver`, for `reason`. Refuses a request that is unknown,
    /// already decided or expired.
    pub fn deny(
        &self,
        id: i64,
        approver: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<ApprovalRecord, ApprovalError> {
        check_text("approver", approver)?;
        check_text("reason", reason)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut record = pending(&tx, id, now_ms)?;
        decide(&tx, id, "denied", approver, Some(reason), now_ms)?;
        tx.commit()?;
        record.state = ApprovalState::Denied {
            approver: approver.to_string(),
            reason: reason.to_string(),
            at_ms: now_ms,
        };
        Ok(record)
    }

    /// Polls request `id` until it is decided or expires, sleeping `poll` between reads, and
    /// returns its final state. It blocks the thread, so an async caller runs it with
    /// `spawn_blocking`.
    pub fn wait(
        &self,
        id: i64,
        poll: Duration,
        clock: &dyn Fn() -> i64,
    ) -> Result<ApprovalState, ApprovalError> {
        self.wait_until(id, poll, clock, i64::MAX)
    }

    /// As [`wait`](Self::wait), but gives up at `deadline_ms` even if the request has not
    /// expired yet, and then returns [`ApprovalState::Pending`].
    pub fn wait_until(
        &self,
        id: i64,
        poll: Duration,
        clock: &dyn Fn() -> i64,
        deadline_ms: i64,
    ) -> Result<ApprovalState, ApprovalError> {
        // A zero interval would spin on the database; a millisecond costs nothing.
        let poll = poll.max(Duration::from_millis(1));
        loop {
            let now = clock();
            let state = self.state(id, now)?;
            if !state.is_pending() || now >= deadline_ms {
                return Ok(state);
            }
            std::thread::sleep(poll);
        }
    }

    /// The approval of exactly this query hash, if there is one and its request has not
    /// expired at `now_ms`. An approval for hash X never authorises hash Y.
    pub fn approved_for(
        &self,
        query_hash: &[u8; 32],
        now_ms: i64,
    ) -> Result<Option<ApprovalRecord>, ApprovalError> {
        let conn = self.lock();
        let record = by_hash(&conn, query_hash, now_ms)?;
        Ok(record.filter(|r| {
            matches!(r.state, ApprovalState::Approved { .. }) && now_ms < r.request.expires_at_ms
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held rolled its transaction back when the transaction
        // dropped, so the connection is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Rows already approved in the case period (for one case) and today (for the node).
struct Used {
    case: u64,
    day: u64,
}

impl Used {
    fn count(
        conn: &Connection,
        case_ref: &str,
        caps: &CaseCaps,
        now_ms: i64,
    ) -> Result<Self, ApprovalError> {
        // No upper bound on the decision time: an approval stamped later than now (a clock
        // moved back) still counts, so a clock fault cannot free up a cap.
        let case: i64 = conn.query_row(
            "SELECT COALESCE(SUM(attested_rows), 0) FROM request \
             WHERE case_ref = ?1 AND state = 'approved' AND decided_at_ms > ?2",
            params![case_ref, caps.period_start_ms(now_ms)],
            |row| row.get(0),
        )?;
        let day: i64 = conn.query_row(
            "SELECT COALESCE(SUM(attested_rows), 0) FROM request \
             WHERE state = 'approved' AND decided_at_ms >= ?1",
            [CaseCaps::day_start_ms(now_ms)],
            |row| row.get(0),
        )?;
        // Sums of positive row counts are never negative; clamp rather than trust that.
        Ok(Self { case: u64::try_from(case).unwrap_or(0), day: u64::try_from(day).unwrap_or(0) })
    }
}

/// The request, if it can still be decided at `now_ms`.
fn pending(tx: &Transaction<'_>, id: i64, now_ms: i64) -> Result<ApprovalRecord, ApprovalError> {
    let record = by_id(tx, id, now_ms)?.ok_or(ApprovalError::UnknownId(id))?;
    match &record.state {
        ApprovalState::Pending => Ok(record),
        ApprovalState::Expired => Err(ApprovalError::Expired { id }),
        decided => Err(ApprovalError::AlreadyDecided { id, decision: decided.describe() }),
    }
}

/// Writes a decision. The `WHERE state = 'pending'` makes it once-only even without the
/// transaction around it; exactly one row must change.
fn decide(
    tx: &Transaction<'_>,
    id: i64,
    state: &str,
    approver: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<(), ApprovalError> {
    let changed = tx.execute(
        "UPDATE request SET state = ?2, decided_by = ?3, reason = ?4, decided_at_ms = ?5 \
         WHERE id = ?1 AND state = 'pending' AND expires_at_ms > ?5",
        params![id, state, approver, reason, now_ms],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(ApprovalError::Corrupt {
            id,
            problem: "it stopped being pending inside the deciding transaction".into(),
        })
    }
}

fn by_id(conn: &Connection, id: i64, now_ms: i64) -> Result<Option<ApprovalRecord>, ApprovalError> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM request WHERE id = ?1"), [id], |row| {
        read_row(row, now_ms)
    })
    .optional()?
    .transpose()
}

fn by_hash(
    conn: &Connection,
    query_hash: &[u8; 32],
    now_ms: i64,
) -> Result<Option<ApprovalRecord>, ApprovalError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM request WHERE query_hash = ?1"),
        [query_hash.as_slice()],
        |row| read_row(row, now_ms),
    )
    .optional()?
    .transpose()
}

/// A row as a record, its state as of `now_ms`. The outer result is SQLite's (a column of the
/// wrong type); the inner one is ours (a row this store could not have written).
fn read_row(row: &Row<'_>, now_ms: i64) -> rusqlite::Result<Result<ApprovalRecord, ApprovalError>> {
    let id: i64 = row.get(0)?;
    let hash: Vec<u8> = row.get(1)?;
    let state: String = row.get(12)?;
    let decided_by: Option<String> = row.get(13)?;
    let decided_at_ms: Option<i64> = row.get(14)?;
    let reason: Option<String> = row.get(15)?;
    let expires_at_ms: i64 = row.get(11)?;
    let corrupt = |problem: &str| Ok(Err(ApprovalError::Corrupt { id, problem: problem.into() }));
    let Ok(query_hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
        return corrupt("its query hash is not 32 bytes");
    };
    let state = match (state.as_str(), decided_by, decided_at_ms, reason) {
        ("pending", ..) if now_ms >= expires_at_ms => ApprovalState::Expired,
        ("pending", ..) => ApprovalState::Pending,
        ("approved", Some(approver), Some(at_ms), _) => ApprovalState::Approved { approver, at_ms },
        ("denied", Some(approver), Some(at_ms), Some(reason)) => {
            ApprovalState::Denied { approver, reason, at_ms }
        }
        _ => return corrupt("its decision is incomplete"),
    };
    let request = ApprovalRequest {
        query_hash,
        query_id: row.get(2)?,
        case_ref: row.get(3)?,
        purpose: row.get(4)?,
        lawful_basis: row.get(5)?,
        requester: row.get(6)?,
        authoriser: row.get(7)?,
        dataset: row.get(8)?,
        attested_rows: row.get(9)?,
        requested_at_ms: row.get(10)?,
        expires_at_ms,
    };
    Ok(Ok(ApprovalRecord { id, request, state }))
}
