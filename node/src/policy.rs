//! The node's policy: deny by default. It names the coordinators, purposes and lawful bases the
//! node accepts, how long an envelope may live and how far clocks may drift, and which query
//! modes are enabled. Every refusal names the rule that refused.
//!
//! The `[[aggregate]]` rules (per dataset and purpose: column uses, disclosure control, DP
//! settings, published templates) and the `[budget]` table live in [`aggregate`]; the
//! `[[linkage]]` rules (roles, key types, labels, window catalogue, cohort sources, caps,
//! flag-back) in [`linkage`]. Each section stays deny-by-default. The `[audit]` table (how long
//! audit payloads are kept) is in [`audit`].

pub mod aggregate;
pub mod audit;
pub mod linkage;

use fedlink_proto::audit::budget::parse_epsilon;
use fedlink_proto::envelope::{LawfulBasis, Mode};
use fedlink_proto::refusal::Refusal;
use serde::{Deserialize, Serialize};

use crate::request::{CheckedEnvelope, Rejected, Rejection};

/// The `[accept]` table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// Member names of the coordinators whose queries this node answers.
    #[serde(default)]
    pub coordinators: Vec<String>,
    /// Purpose codes accepted.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Lawful bases accepted, each exactly as the envelope must state it.
    #[serde(default)]
    pub lawful_bases: Vec<LawfulBasis>,
}

/// The `[envelope]` table: limits on the signed envelope's times.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeLimits {
    /// Longest lifetime (expires − issued) accepted, in seconds (design-review.md F13: ~15 min).
    pub max_lifetime_s: u32,
    /// Largest clock difference tolerated between coordinator and node, in seconds.
    pub max_clock_skew_s: u32,
}

impl Default for EnvelopeLimits {
    fn default() -> Self {
        Self { max_lifetime_s: 900, max_clock_skew_s: 120 }
    }
}

/// The `[modes]` table: which kinds of query are enabled at all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modes {
    /// Answer `describe` (identity, datasets, policy summary, log size).
    #[serde(default)]
    pub describe: bool,
    /// Answer aggregate queries, as the `[[aggregate]]` rules allow.
    #[serde(default)]
    pub aggregate: bool,
    /// Take part in linked counts (and address linkage), as the `[[linkage]]` rules allow.
    #[serde(default)]
    pub linked_count: bool,
    /// Take part in flag-back, as the `[[linkage]]` rules' `flag_back` sections allow.
    #[serde(default)]
    pub flag_back: bool,
    /// Take part in overlap matrices.
    #[serde(default)]
    pub overlap: bool,
    /// Take part in calibration runs, as the `[[linkage]]` rules' `matcher` sections allow.
    #[serde(default)]
    pub calibrate: bool,
}

/// A policy file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// An identifier for this version of the policy, recorded in the audit log.
    pub policy_id: String,
    /// What the node accepts.
    #[serde(default)]
    pub accept: Accept,
    /// Envelope time limits.
    #[serde(default)]
    pub envelope: EnvelopeLimits,
    /// Enabled modes.
    #[serde(default)]
    pub modes: Modes,
    /// Privacy-budget limits; required when any aggregate rule has DP settings.
    #[serde(default)]
    pub budget: Option<aggregate::BudgetSettings>,
    /// Aggregate rules, one per dataset and set of purposes.
    #[serde(default)]
    pub aggregate: Vec<aggregate::AggregateRule>,
    /// Linkage rules, one per dataset and set of purposes.
    #[serde(default)]
    pub linkage: Vec<linkage::LinkageRule>,
    /// Audit-log settings (payload retention).
    #[serde(default)]
    pub audit: audit::AuditSettings,
}

/// A query that passed every envelope check and the policy. Only [`Policy::authorise`] makes one.
#[derive(Debug)]
pub struct AuthorisedQuery {
    checked: CheckedEnvelope,
}

impl AuthorisedQuery {
    /// The checked envelope underneath.
    pub fn checked(&self) -> &CheckedEnvelope {
        &self.checked
    }

    /// Gives the verified envelope back, for logging a refusal in full.
    pub fn into_verified(self) -> fedlink_proto::envelope::VerifiedEnvelope {
        self.checked.into_verified()
    }
}

impl Policy {
    /// Parses a policy file's text, naming the key at fault.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let policy: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        if policy.policy_id.trim().is_empty() {
            return Err("key `policy_id` is empty".into());
        }
        if policy.envelope.max_lifetime_s == 0 || policy.envelope.max_lifetime_s > 3600 {
            return Err("key `envelope.max_lifetime_s` must be between 1 and 3600".into());
        }
        for (i, rule) in policy.aggregate.iter().enumerate() {
            rule.validate(i)?;
        }
        for (i, rule) in policy.linkage.iter().enumerate() {
            rule.validate(i)?;
        }
        policy.audit.validate()?;
        match &policy.budget {
            Some(budget) => {
                let limits = budget.limits()?;
                let smallest = limits.coordinator_micro.min(limits.requester_micro);
                for rule in &policy.aggregate {
                    let per_query = rule.privacy.as_ref().map(|p| parse_epsilon(&p.epsilon));
                    if let Some(Ok(epsilon)) = per_query
                        && epsilon > smallest
                    {
                        return Err(format!(
                            "aggregate rule for {}: privacy.epsilon {} is more than a whole budget",
                            rule.dataset,
                            rule.privacy.as_ref().map_or("", |p| p.epsilon.as_str())
                        ));
                    }
                }
            }
            None if policy.aggregate.iter().any(|r| r.privacy.is_some()) => {
                return Err("an aggregate rule sets `privacy` but there is no `[budget]`".into());
            }
            None => {}
        }
        Ok(policy)
    }

    /// Checks the aggregate rules against the node's datasets when it starts, naming the rule
    /// and key at fault.
    pub fn validate_against(
        &self,
        schemas: &[crate::dataset::schema::DatasetSchema],
        lookup: bool,
    ) -> Result<(), String> {
        for (i, rule) in self.aggregate.iter().enumerate() {
            rule.validate_against(i, schemas.iter().find(|s| s.name == rule.dataset), lookup)?;
        }
        Ok(())
    }

    /// The aggregate rule covering `dataset` for `purpose`: the first that names both.
    pub fn aggregate_rule(
        &self,
        dataset: &str,
        purpose: &str,
    ) -> Result<&aggregate::AggregateRule, Refusal> {
        self.aggregate
            .iter()
            .find(|r| r.dataset == dataset && r.purposes.iter().any(|p| p == purpose))
            .ok_or_else(|| Refusal::DatasetNotPermitted {
                dataset: dataset.to_string(),
                purpose: purpose.to_string(),
            })
    }

    /// Checks an envelope against the policy: coordinator, purpose, lawful basis, mode. A
    /// refusal hands the envelope back so that its denial can be logged in full.
    pub fn authorise(&self, checked: CheckedEnvelope) -> Result<AuthorisedQuery, Rejected> {
        match self.check(&checked) {
            Ok(()) => Ok(AuthorisedQuery { checked }),
            Err(refusal) => {
                Err(Box::new(Rejection { refusal, verified: Some(checked.into_verified()) }))
            }
        }
    }

    fn check(&self, checked: &CheckedEnvelope) -> Result<(), Refusal> {
        let env = checked.envelope();
        if !self.accept.coordinators.iter().any(|c| c == &env.coordinator) {
            return Err(Refusal::CoordinatorNotAccepted { coordinator: env.coordinator.clone() });
        }
        if !self.accept.purposes.iter().any(|p| p == &env.purpose) {
            return Err(Refusal::PurposeNotAccepted { purpose: env.purpose.clone() });
        }
        if !self.accept.lawful_bases.iter().any(|b| b == &env.lawful_basis) {
            return Err(Refusal::LawfulBasisNotAccepted { basis: env.lawful_basis.to_string() });
        }
        let enabled = match env.mode {
            Mode::Describe => self.modes.describe,
            Mode::Aggregate => self.modes.aggregate,
            Mode::LinkedCount => self.modes.linked_count,
            Mode::FlagBack => self.modes.flag_back,
            Mode::Overlap => self.modes.overlap,
            Mode::Calibrate => self.modes.calibrate,
        };
        if !enabled {
            return Err(Refusal::ModeNotEnabled { mode: env.mode.name().to_string() });
        }
        Ok(())
    }
}
