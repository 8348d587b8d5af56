//! The budget ledger's running balances, kept in the audit log's database beside the entries
//! that charge them. The entries are the record (an auditor rebuilds every balance with
//! [`replay`](crate::audit::budget::replay)); this table is what lets an append check a limit
//! without summing the whole log, and `verify` checks that it still equals the replay.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Appended, AuditLog, StoreError, from_sql, to_sql};
use crate::audit::budget::{
    BudgetKey, BudgetLimits, BudgetScope, charge_of, check_charge, keys_of,
};
use crate::pb;

/// One row per balance. `requester` is '' for a coordinator's shared balance, so both scopes
/// share one primary key. Like the log's own triggers, these only stop accidents: a balance
/// that goes down or changes hands would let a requester spend twice, and what catches a
/// deliberate edit is `verify` replaying the signed entries.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS budget_balance (
    scope       TEXT NOT NULL CHECK (scope IN ('coordinator', 'requester')),
    coordinator TEXT NOT NULL,
    requester   TEXT NOT NULL CHECK ((scope = 'coordinator') = (requester = '')),
    dataset     TEXT NOT NULL,
    period      TEXT NOT NULL,
    spent_micro INTEGER NOT NULL CHECK (spent_micro >= 0),
    PRIMARY KEY (scope, coordinator, requester, dataset, period)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS budget_balance_no_decrease BEFORE UPDATE ON budget_balance
    WHEN NEW.spent_micro < OLD.spent_micro
    BEGIN SELECT RAISE(ABORT, 'budget balances only grow'); END;
CREATE TRIGGER IF NOT EXISTS budget_balance_no_rekey
    BEFORE UPDATE OF scope, coordinator, requester, dataset, period ON budget_balance
    BEGIN SELECT RAISE(ABORT, 'budget balances keep their key'); END;
CREATE TRIGGER IF NOT EXISTS budget_balance_no_delete BEFORE DELETE ON budget_balance
    BEGIN SELECT RAISE(ABORT, 'budget balances only grow'); END;
";

impl AuditLog {
    /// Appends `entry`, which must carry a budget charge, and charges it to the coordinator's
    /// and the requester's balances for its dataset and period, in the append's transaction.
    ///
    /// If either balance would pass its limit in `limits`, refuses with
    /// [`StoreError::BudgetExceeded`] and writes nothing. An entry that is not allowed (the
    /// refusal of a request, recording what it asked for) is appended without a charge, as
    /// [`charge_of`] says, so the balances always equal the replay of the entries.
    pub fn append_charged(
        &mut self,
        entry: pb::AuditEntry,
        limits: &BudgetLimits,
    ) -> Result<Appended, StoreError> {
        let charge = entry.budget.as_ref().ok_or(StoreError::ChargeMissing)?;
        check_charge(charge)?;
        self.append_in_transaction(entry, None, Some(limits), None)
    }

    /// What the balance `key` has spent, in millionths of epsilon (0 if nothing yet).
    pub fn balance(&self, key: &BudgetKey) -> Result<u64, StoreError> {
        balance_on(&self.conn, key)
    }

    /// Every recorded balance. Equal to `budget::replay` of the entries in a sound log.
    pub fn recorded_balances(&self) -> Result<BTreeMap<BudgetKey, u64>, StoreError> {
        // `open` creates the table, so it is always there for an open log.
        Ok(read_balances(&self.conn)?.unwrap_or_default())
    }
}

/// Charges `entry`'s charge, if [`charge_of`] counts one, to both its balances: checks both
/// against `limits` first, then writes both. `conn` is the append's transaction, so a refusal
/// leaves nothing behind.
pub(super) fn charge(
    conn: &Connection,
    entry: &pb::AuditEntry,
    limits: &BudgetLimits,
) -> Result<(), StoreError> {
    let Some(charge) = charge_of(entry) else {
        return Ok(());
    };
    let requested_micro = charge.epsilon_micro;
    let mut new_balances = Vec::with_capacity(2);
    // Coordinator first: when both would overspend, the shared limit is the one to report,
    // since no other requester of that coordinator can spend either.
    for key in keys_of(charge) {
        let spent_micro = balance_on(conn, &key)?;
        let limit_micro = limits.for_scope(key.scope);
        match spent_micro.checked_add(requested_micro) {
            Some(total) if total <= limit_micro => new_balances.push((key, total)),
            _ => {
                return Err(StoreError::BudgetExceeded {
                    scope: key.scope,
                    spent_micro,
                    limit_micro,
                    requested_micro,
                });
            }
        }
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO budget_balance (scope, coordinator, requester, dataset, period, spent_micro)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (scope, coordinator, requester, dataset, period)
         DO UPDATE SET spent_micro = excluded.spent_micro",
    )?;
    for (key, total) in new_balances {
        upsert.execute(params![
            key.scope.as_str(),
            key.coordinator,
            key.requester,
            key.dataset,
            key.period,
            to_sql(total)?
        ])?;
    }
    Ok(())
}

fn balance_on(conn: &Connection, key: &BudgetKey) -> Result<u64, StoreError> {
    let spent: Option<i64> = conn
        .prepare_cached(
            "SELECT spent_micro FROM budget_balance WHERE scope = ?1 AND coordinator = ?2
             AND requester = ?3 AND dataset = ?4 AND period = ?5",
        )?
        .query_row(
            params![key.scope.as_str(), key.coordinator, key.requester, key.dataset, key.period],
            |r| r.get(0),
        )
        .optional()?;
    spent.map_or(Ok(0), from_sql)
}

/// Every row of `budget_balance`, or `None` if the file has no such table (a log written
/// before the ledger and not reopened since). Used by the store and by `verify`, which reads
/// a file it must not change; a row that is not a balance is [`StoreError::Corrupt`].
pub(crate) fn read_balances(
    conn: &Connection,
) -> Result<Option<BTreeMap<BudgetKey, u64>>, StoreError> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'budget_balance'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT scope, coordinator, requester, dataset, period, spent_micro
         FROM budget_balance ORDER BY scope, coordinator, requester, dataset, period",
    )?;
    let mut rows = stmt.query([])?;
    let mut balances = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let scope_name: String = row.get(0)?;
        let scope = BudgetScope::from_name(&scope_name).ok_or_else(|| {
            StoreError::Corrupt(format!("a budget balance has unknown scope {scope_name:?}"))
        })?;
        let key = BudgetKey {
            scope,
            coordinator: row.get(1)?,
            requester: row.get(2)?,
            dataset: row.get(3)?,
            period: row.get(4)?,
        };
        let spent: i64 = row.get(5)?;
        let spent = u64::try_from(spent).map_err(|_| {
            StoreError::Corrupt(format!("the budget balance of {key} is negative ({spent})"))
        })?;
        balances.insert(key, spent);
    }
    Ok(Some(balances))
}
