//! The verifier's last check: the budget balances the store recorded must be exactly what the
//! log's signed entries replay to. A balance edited down would let a requester spend again, one
//! edited up would lock them out; either is reported with the balance and both values.

use std::collections::BTreeMap;
use std::fmt;

use super::VerifyError;
use crate::audit::budget::{BudgetKey, first_difference, micro_to_string};

/// What replaying the budget ledger found in a log that verified. Its `Display` is the
/// report's ledger line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerReport {
    /// Entries that charge the budget (allowed, with a charge).
    pub charges: u64,
    /// Balances recorded (and replayed); `None` when the file has no balance table, which a
    /// log written before the ledger, with no charges, may lack.
    pub balances: Option<u64>,
}

impl fmt::Display for LedgerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.balances {
            Some(balances) => write!(
                f,
                "budget ledger: {} charges, {balances} balances; replays to the recorded balances",
                self.charges
            ),
            None => f.write_str("budget ledger: no charges, and no balance table (an older log)"),
        }
    }
}

/// What is wrong with the budget ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerProblem {
    /// A balance differs from the replay (the first such balance, in key order).
    Mismatch {
        /// The balance (boxed to keep `VerifyError` small: it is returned everywhere).
        key: Box<BudgetKey>,
        /// What the entries replay to, in millionths of epsilon; `None` if no entry charges it.
        replayed: Option<u64>,
        /// What `budget_balance` records; `None` if it has no row for it.
        recorded: Option<u64>,
    },
    /// Entries charge the budget, but the file has no balance table: limits were not kept.
    NoBalanceTable {
        /// Number of charging entries.
        charges: u64,
    },
    /// A row of `budget_balance` is not a balance.
    BadRow(String),
}

impl fmt::Display for LedgerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let epsilon = |micro: &Option<u64>| {
            micro.map_or_else(
                || "nothing".to_string(),
                |m| format!("{} epsilon", micro_to_string(m)),
            )
        };
        match self {
            Self::Mismatch { key, replayed, recorded } => write!(
                f,
                "the balance of {key}: the entries replay to {}, but budget_balance records {}",
                epsilon(replayed),
                epsilon(recorded)
            ),
            Self::NoBalanceTable { charges } => write!(
                f,
                "{charges} entries charge the budget, but the file has no budget_balance table"
            ),
            Self::BadRow(problem) => write!(f, "{problem}"),
        }
    }
}

/// Compares the balances the source `recorded` (`None` when it has no balance table) with
/// those `replayed` from its `charges` charging entries.
pub(super) fn check_ledger(
    recorded: Option<&BTreeMap<BudgetKey, u64>>,
    replayed: &BTreeMap<BudgetKey, u64>,
    charges: u64,
) -> Result<LedgerReport, VerifyError> {
    let Some(recorded) = recorded else {
        if charges > 0 {
            return Err(VerifyError::Ledger(LedgerProblem::NoBalanceTable { charges }));
        }
        return Ok(LedgerReport { charges, balances: None });
    };
    if let Some((key, replayed, recorded)) = first_difference(replayed, recorded) {
        let key = Box::new(key);
        return Err(VerifyError::Ledger(LedgerProblem::Mismatch { key, replayed, recorded }));
    }
    Ok(LedgerReport { charges, balances: Some(recorded.len() as u64) })
}
