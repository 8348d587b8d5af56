//! The `[audit]` table of a node's policy: how long an audit entry's erasable payload (the
//! subject tokens of the people a request concerned) is kept before `fedlink node audit erase`,
//! or the node's own sweep at start-up, deletes it (issue 7 item 5; DPA 2018 s39(2)
//! "appropriate time limits … for the periodic review of the need for continued storage").
//!
//! ```toml
//! [audit]
//! payload_retention_days = 730   # the default
//! ```
//!
//! The entries themselves are kept: they hold no identifier, and they are what the log's
//! checkpoints sign. Only the tokens go, after which a subject search can no longer find those
//! entries (it says how many were erased).
//!
//! Why 730 days by default: the reference material sets no figure — retention of audit logs
//! and payloads is an open question for the DPIA (audit-privacy-legal.md §5 question 5: MoPI
//! against the NHS Records Management Code). Two years keeps a request searchable through a
//! subject access request or a misuse inquiry raised well after the event, and is a
//! placeholder for the figure the DPIA sets.

use serde::{Deserialize, Serialize};

/// The default payload retention, in days (see the module docs).
pub const DEFAULT_PAYLOAD_RETENTION_DAYS: u32 = 730;

/// Longest retention accepted: a hundred years, past which the figure is surely a typo.
const MAX_PAYLOAD_RETENTION_DAYS: u32 = 36_500;

/// The `[audit]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Days an entry's payload (its subject tokens) is kept before it may be erased. 0 makes
    /// every payload erasable at the next sweep (a subject search can then find the entry only
    /// until that sweep).
    #[serde(default = "default_retention")]
    pub payload_retention_days: u32,
}

fn default_retention() -> u32 {
    DEFAULT_PAYLOAD_RETENTION_DAYS
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { payload_retention_days: DEFAULT_PAYLOAD_RETENTION_DAYS }
    }
}

impl AuditSettings {
    /// Checks the table, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.payload_retention_days > MAX_PAYLOAD_RETENTION_DAYS {
            return Err(format!(
                "key `audit.payload_retention_days`: {} is more than {MAX_PAYLOAD_RETENTION_DAYS} \
                 days",
                self.payload_retention_days
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::Policy;

    const BASE: &str = "policy_id = \"p\"\n";

    #[test]
    fn retention_defaults_to_730_days_and_is_read_and_checked() {
        let policy = Policy::from_toml(BASE).expect("parses");
        assert_eq!(policy.audit.payload_retention_days, 730);
        let set = Policy::from_toml(&format!("{BASE}[audit]\npayload_retention_days = 0\n"))
            .expect("parses");
        assert_eq!(set.audit.payload_retention_days, 0);
        let long = Policy::from_toml(&format!("{BASE}[audit]\npayload_retention_days = 40000\n"))
            .expect_err("refused");
        assert!(long.contains("audit.payload_retention_days"), "{long}");
        let typo = Policy::from_toml(&format!("{BASE}[audit]\npayload_retention = 5\n"))
            .expect_err("refused");
        assert!(typo.contains("payload_retention"), "{typo}");
    }
}
