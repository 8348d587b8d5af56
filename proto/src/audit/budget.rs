//! The differential-privacy budget ledger (DESIGN.md "differential privacy at the node"): whose
//! balance a charge draws on, the rule that makes an entry a charge, and the replay an auditor
//! runs to rebuild every balance from the log's entries alone. Also the one way epsilon is
//! written and read as text. Pure: the store keeps the running balances, charged by
//! [`AuditLog::append_charged`](crate::audit::store::AuditLog::append_charged).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::pb;

/// Millionths of epsilon in one epsilon: charges and limits are whole millionths, so sums are
/// exact and replay gives the same balances on every machine (no floating point).
pub const MICRO_PER_EPSILON: u64 = 1_000_000;

/// The largest epsilon [`parse_epsilon`] accepts, in millionths. An epsilon of 1000 already
/// means no privacy at all; anything larger is a typing mistake, not a budget.
pub const MAX_EPSILON_MICRO: u64 = 1000 * MICRO_PER_EPSILON;

/// Most decimal places an epsilon may be written with: one millionth is the ledger's unit.
const MAX_DECIMALS: usize = 6;

/// Which of the two balances a charge draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BudgetScope {
    /// Everything one coordinator's requesters spend together.
    Coordinator,
    /// What one requester (officer at an organisation) spends.
    Requester,
}

impl BudgetScope {
    /// The name stored in the `scope` column and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetScope::Coordinator => "coordinator",
            BudgetScope::Requester => "requester",
        }
    }

    /// The scope a stored `scope` column names, if it names one.
    pub fn from_name(name: &str) -> Option<BudgetScope> {
        match name {
            "coordinator" => Some(BudgetScope::Coordinator),
            "requester" => Some(BudgetScope::Requester),
            _ => None,
        }
    }
}

impl fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One balance of the ledger: a scope, whose it is, and the dataset and period it covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetKey {
    /// Whether this is the coordinator's shared balance or one requester's.
    pub scope: BudgetScope,
    /// The coordinator the requests came through.
    pub coordinator: String,
    /// "officer@organisation" for [`BudgetScope::Requester`]; empty for the coordinator's.
    pub requester: String,
    /// The dataset the disclosures were computed from.
    pub dataset: String,
    /// The budget period, e.g. "2026-11" or "2026/27".
    pub period: String,
}

impl fmt::Display for BudgetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            BudgetScope::Coordinator => write!(f, "coordinator {:?}", self.coordinator)?,
            BudgetScope::Requester => {
                write!(f, "requester {:?} of coordinator {:?}", self.requester, self.coordinator)?
            }
        }
        write!(f, ", dataset {:?}, period {:?}", self.dataset, self.period)
    }
}

/// How much may be spent, per dataset and period, in millionths of epsilon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetLimits {
    /// The limit on one coordinator's requesters together.
    pub coordinator_micro: u64,
    /// The limit on each requester.
    pub requester_micro: u64,
}

impl BudgetLimits {
    /// The limit that applies to a balance of `scope`.
    pub fn for_scope(&self, scope: BudgetScope) -> u64 {
        match scope {
            BudgetScope::Coordinator => self.coordinator_micro,
            BudgetScope::Requester => self.requester_micro,
        }
    }
}

/// Why an epsilon or a charge is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// A charge leaves a field that names its balance empty.
    #[error("the budget charge has no {field}")]
    IncompleteCharge {
        /// The empty field.
        field: &'static str,
    },
    /// The text is not a plain decimal number.
    #[error(
        "{text:?} is not an epsilon: write a plain decimal such as 0.5 or 2 \
         (digits and at most one point; no sign, exponent or spaces)"
    )]
    NotADecimal {
        /// The text given.
        text: String,
    },
    /// The epsilon is 0 or more than 1000.
    #[error("epsilon {text:?} is out of range: it must be more than 0 and at most 1000")]
    OutOfRange {
        /// The text given.
        text: String,
    },
    /// The text has more decimal places than the ledger's unit of one millionth.
    #[error("epsilon {text:?} has {decimals} decimal places; the ledger counts millionths (6)")]
    TooPrecise {
        /// The text given.
        text: String,
        /// How many decimal places it has.
        decimals: usize,
    },
    /// A charge of nothing: it would add a balance that means nothing.
    #[error("the budget charge is for 0 epsilon")]
    ZeroCharge,
}

/// The two balances `charge` draws on: the coordinator's, then the requester's.
pub fn keys_of(charge: &pb::BudgetCharge) -> [BudgetKey; 2] {
    let key = |scope, requester: &str| BudgetKey {
        scope,
        coordinator: charge.coordinator.clone(),
        requester: requester.to_string(),
        dataset: charge.dataset.clone(),
        period: charge.period.clone(),
    };
    [key(BudgetScope::Coordinator, ""), key(BudgetScope::Requester, &charge.requester)]
}

/// The charge `entry` makes to the ledger, if it makes one. The one rule both the store and
/// [`replay`] follow: an entry charges when it carries a budget and was allowed. A refusal
/// may carry the charge it asked for (so the log shows what was refused), but spent nothing.
pub fn charge_of(entry: &pb::AuditEntry) -> Option<&pb::BudgetCharge> {
    entry.budget.as_ref().filter(|_| entry.decision == pb::Decision::Allowed as i32)
}

/// Checks that `charge` names a whole balance (no empty field) and charges something.
pub fn check_charge(charge: &pb::BudgetCharge) -> Result<(), BudgetError> {
    let fields = [
        ("coordinator", &charge.coordinator),
        ("requester", &charge.requester),
        ("dataset", &charge.dataset),
        ("period", &charge.period),
    ];
    if let Some((field, _)) = fields.iter().find(|(_, value)| value.is_empty()) {
        return Err(BudgetError::IncompleteCharge { field });
    }
    if charge.epsilon_micro == 0 {
        return Err(BudgetError::ZeroCharge);
    }
    Ok(())
}

/// Adds `charge` to both of its balances in `balances`.
///
/// Saturating, not checked: replay must give a total for every log, even a forged one, so an
/// auditor sees every balance. The store never records a balance above its limit (and never
/// above 2^63), so an honest log cannot reach `u64::MAX`; a saturated balance can only come
/// from forged charges, and it then differs from the recorded one, which verify reports.
pub fn add_charge(balances: &mut BTreeMap<BudgetKey, u64>, charge: &pb::BudgetCharge) {
    for key in keys_of(charge) {
        let spent = balances.entry(key).or_insert(0);
        *spent = spent.saturating_add(charge.epsilon_micro);
    }
}

/// Every balance, rebuilt from the entries alone: the sum of `epsilon_micro` over every entry
/// that [`charge_of`] counts. This is what an auditor runs, and what the store's recorded
/// balances must equal.
pub fn replay<'a>(
    entries: impl IntoIterator<Item = &'a pb::AuditEntry>,
) -> BTreeMap<BudgetKey, u64> {
    let mut balances = BTreeMap::new();
    for charge in entries.into_iter().filter_map(charge_of) {
        add_charge(&mut balances, charge);
    }
    balances
}

/// The first balance on which `replayed` and `recorded` disagree, with each side's value
/// (`None` where that side has no such balance).
pub fn first_difference(
    replayed: &BTreeMap<BudgetKey, u64>,
    recorded: &BTreeMap<BudgetKey, u64>,
) -> Option<(BudgetKey, Option<u64>, Option<u64>)> {
    let keys: BTreeSet<&BudgetKey> = replayed.keys().chain(recorded.keys()).collect();
    keys.into_iter().find_map(|key| {
        let (left, right) = (replayed.get(key).copied(), recorded.get(key).copied());
        (left != right).then(|| (key.clone(), left, right))
    })
}

/// Writes millionths of epsilon as a decimal with no trailing zeros: 1_500_000 → "1.5",
/// 250_000 → "0.25", 0 → "0". [`parse_epsilon`] reads it back exactly.
pub fn micro_to_string(micro: u64) -> String {
    let (whole, fraction) = (micro / MICRO_PER_EPSILON, micro % MICRO_PER_EPSILON);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = MAX_DECIMALS);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Reads an epsilon written as a plain decimal ("0.5", "2", "0.000001") into millionths.
///
/// Strict, because a budget is a legal limit: digits with at most one point and digits on both
/// sides of it, no sign, exponent or spaces, at most six decimal places (rounding would
/// silently change the limit), more than 0 and at most 1000.
pub fn parse_epsilon(text: &str) -> Result<u64, BudgetError> {
    let not_a_decimal = || BudgetError::NotADecimal { text: text.to_string() };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || (text.contains('.') && !all_digits(fraction)) {
        return Err(not_a_decimal());
    }
    if fraction.len() > MAX_DECIMALS {
        return Err(BudgetError::TooPrecise { text: text.to_string(), decimals: fraction.len() });
    }
    let out_of_range = || BudgetError::OutOfRange { text: text.to_string() };
    // Digits only, so the one way parsing fails is a number too large for u64.
    let whole: u64 = whole.parse().map_err(|_| out_of_range())?;
    let fraction: u64 = match fraction {
        "" => 0,
        digits => {
            let scale = 10u64.pow((MAX_DECIMALS - digits.len()) as u32);
            digits.parse::<u64>().map_err(|_| not_a_decimal())? * scale
        }
    };
    let micro = whole
        .checked_mul(MICRO_PER_EPSILON)
        .and_then(|m| m.checked_add(fraction))
        .ok_or_else(out_of_range)?;
    if micro == 0 || micro > MAX_EPSILON_MICRO {
        return Err(out_of_range());
    }
    Ok(micro)
}
