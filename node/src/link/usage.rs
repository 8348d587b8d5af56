//! The per-day cap on linked queries per dataset (`max_queries_per_day` of a `[[linkage]]`
//! rule): a count per (UTC day, dataset) in `linkage_usage.db` in the node's data folder, taken
//! atomically when a query is planned, so two concurrent queries cannot both take the last
//! place and a restart does not reset the count. A query counts once it passes the policy
//! check, whether or not it then completes: a cap on attempts, which is what bounds probing.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Why the usage store could not answer.
#[derive(Debug, thiserror::Error)]
#[error("linkage usage store: {0}")]
pub struct UsageError(#[from] rusqlite::Error);

/// Takes one of today's places for `dataset` if fewer than `max` are taken; returns whether
/// it did, and how many were taken before.
pub fn take_place(
    data_dir: &Path,
    dataset: &str,
    day: &str,
    max: u32,
) -> Result<(bool, u32), UsageError> {
    let mut conn = Connection::open(data_dir.join("linkage_usage.db"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS usage (
             day TEXT NOT NULL, dataset TEXT NOT NULL, queries INTEGER NOT NULL,
             PRIMARY KEY (day, dataset)) STRICT;",
    )?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let taken: u32 = tx
        .query_row(
            "SELECT queries FROM usage WHERE day = ?1 AND dataset = ?2",
            params![day, dataset],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if taken >= max {
        return Ok((false, taken));
    }
    tx.execute(
        "INSERT INTO usage (day, dataset, queries) VALUES (?1, ?2, 1)
         ON CONFLICT (day, dataset) DO UPDATE SET queries = queries + 1",
        params![day, dataset],
    )?;
    tx.commit()?;
    Ok((true, taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_run_out_per_day_and_dataset() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(take_place(dir.path(), "ecds", "2026-11-27", 2).expect("take"), (true, 0));
        assert_eq!(take_place(dir.path(), "ecds", "2026-11-27", 2).expect("take"), (true, 1));
        assert_eq!(take_place(dir.path(), "ecds", "2026-11-27", 2).expect("take"), (false, 2));
        assert_eq!(take_place(dir.path(), "apc", "2026-11-27", 2).expect("take"), (true, 0));
        assert_eq!(take_place(dir.path(), "ecds", "2026-11-28", 2).expect("take"), (true, 0));
    }
}
