//! The `[[linkage]]` rules of a node's policy (issue 5, item 7): for each of the node's datasets,
//! under which purposes it may take part in linked queries and in which roles, which key types
//! it may contribute, the label vocabulary and the minimum real subjects per label class (F2),
//! the window templates its catalogue allows (F9: windows and granularity come only from here),
//! which cohorts it accepts (member and dataset, F8), input caps per query and per day, whether
//! it allows flag-back and for which purposes with what per-case and per-day caps (F6, F12),
//! and the disclosure and DP settings of every linked output it computes (F3: DP is
//! mandatory). Deny by default: a dataset without a rule takes part in nothing.
//!
//! ```toml
//! [[linkage]]
//! dataset = "ecds"
//! purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
//! roles = ["partner", "computing"]
//! key_types = ["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]
//! labels = { vocabulary = ["all"], k_min = 5 }
//! windows = [{ name = "12m-before", granularity = "month", units_before = 12 }]
//! cohort_sources = ["police/death_reports", "police/homicide_index"]
//! max_subjects_per_query = 200000
//! max_queries_per_day = 20
//! privacy = { epsilon = "1" }
//!
//! [linkage.flag_back]
//! purposes = ["SAFEGUARDING-CASE-REVIEW"]
//! max_rows_per_case = 25
//! case_period_days = 90             # the default
//! max_rows_per_day = 100            # the default
//! key_types = ["nhs", "name_dob"]   # the default: the rule's strong key types
//! ```
//!
//! The flag-back caps are enforced when an operator approves a request (`crate::approvals`):
//! a case reference's approved rows over the last `case_period_days`, and the node's approved
//! rows in the current UTC day, may not go past them. A flag-back links only on the
//! flag-back's own `key_types`, strong keys by default (design-review F6): a flag is
//! person-level, and a weak key such as `sur_dob_pcd` flags a twin or a namesake at the same
//! address for someone else's record.

use std::collections::BTreeSet;

use fedlink_proto::audit::budget::parse_epsilon;
use serde::{Deserialize, Serialize};

use crate::disclosure::SdcRules;
use crate::linkage::{Label, LabelPolicy, WindowTemplate};
use crate::matchkey::KeyType;

/// What a node may do in a linked query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRole {
    /// Holds the cohort (A).
    Cohort,
    /// Holds the qualifying records the cohort is linked to (B).
    Partner,
    /// Matches, counts, protects and releases (by default the node whose data are disclosed).
    Computing,
    /// Blinds in an overlap ring without computing.
    Blinder,
}

/// The label vocabulary of linked tables and the fewest real subjects a label class may hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRules {
    /// The labels this node's tuples may carry, and the labels it accepts on a peer's.
    pub vocabulary: Vec<String>,
    /// Fewest real subjects per label class (design-review F2).
    pub k_min: usize,
}

/// Flag-back: person-level flags returned to the cohort node, only under these conditions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagBackRules {
    /// Purposes flag-back serves; the envelope must also carry a case reference and an
    /// authoriser's signature, and an operator here must approve each request.
    pub purposes: Vec<String>,
    /// Most cohort rows one case reference may be flagged for, across all its requests
    /// approved in the last `case_period_days` (design-review F12).
    pub max_rows_per_case: u32,
    /// The period, in days, over which `max_rows_per_case` is counted.
    #[serde(default = "default_case_period_days")]
    pub case_period_days: u32,
    /// Most cohort rows this node may approve for flag-back in one UTC day, across every case
    /// and dataset: a per-node cap, so that many small cases cannot add up to a bulk disclosure.
    #[serde(default = "default_max_rows_per_day")]
    pub max_rows_per_day: u32,
    /// The key types a flag-back may link on, each also one of the rule's `key_types`. By
    /// default the rule's strong ones, NHS number and full name with date of birth (F6): a near
    /// miss must never come back as a flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_types: Option<Vec<String>>,
}

/// The key types a flag-back links on when its rule names none (design-review F6).
pub const STRONG_KEY_TYPES: [KeyType; 2] = [KeyType::Nhs, KeyType::NameDob];

fn default_case_period_days() -> u32 {
    90
}

fn default_max_rows_per_day() -> u32 {
    100
}

/// DP for linked outputs: mandatory (design-review F3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPrivacy {
    /// ε charged per linked output, as a decimal.
    pub epsilon: String,
}

/// One `[[linkage]]` rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkageRule {
    /// The node's dataset the rule covers.
    pub dataset: String,
    /// Purposes it serves.
    pub purposes: Vec<String>,
    /// Roles the dataset may take.
    pub roles: Vec<LinkRole>,
    /// Key types it may contribute (tags as in `KeyType::tag`), strongest first.
    pub key_types: Vec<String>,
    /// Label vocabulary and k.
    pub labels: LabelRules,
    /// The catalogue of window templates.
    #[serde(default)]
    pub windows: Vec<WindowTemplate>,
    /// Cohorts accepted, as `member/dataset`; empty accepts none.
    #[serde(default)]
    pub cohort_sources: Vec<String>,
    /// Most real subjects one side may send in one query.
    pub max_subjects_per_query: u32,
    /// Most linked queries a day for this dataset.
    pub max_queries_per_day: u32,
    /// DP settings for the outputs this node computes.
    pub privacy: LinkPrivacy,
    /// Disclosure control for those outputs.
    #[serde(default)]
    pub disclosure: SdcRules,
    /// Flag-back, if allowed at all.
    #[serde(default)]
    pub flag_back: Option<FlagBackRules>,
    /// The calibrated probabilistic matcher (issue 6), if this dataset links with one when it
    /// computes; without it, the key passes of issue 5.
    #[serde(default)]
    pub matcher: Option<MatcherRules>,
}

/// `[linkage.matcher]`: a Fellegi–Sunter model fitted on calibration runs against whole partner
/// sets the operator lists here, stored versioned, and read unchanged by every later query
/// (design-review F18: no requester's cohort can steer the weights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherRules {
    /// Partner sets (`member/dataset`, whole, unfiltered) a calibration run may fit against.
    pub calibrate_against: Vec<String>,
    /// The stored version queries use; without it, the latest stored for the query's key
    /// types. Pinning keeps a recalibration from changing results until the operator moves
    /// the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Filters (terms as in query files) on this node's own dataset in calibration runs: the
    /// operator's choice of which of its rows the model is fitted on (e.g. the attendances
    /// the node's linked counts are usually about), never a requester's. Empty: every row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_filter: Vec<String>,
}

impl MatcherRules {
    /// The own-dataset filters, parsed.
    pub fn own_filters(&self) -> Result<Vec<fedlink_proto::aggregate::Filter>, String> {
        self.own_filter
            .iter()
            .map(|term| {
                fedlink_proto::aggregate::text::parse_filter(term)
                    .map_err(|e| format!("{term:?}: {e}"))
            })
            .collect()
    }
}

impl LinkageRule {
    /// Checks the rule when the policy is loaded, naming the key at fault.
    pub fn validate(&self, index: usize) -> Result<(), String> {
        let at = |key: &str| format!("linkage[{index}] ({}).{key}", self.dataset);
        if self.purposes.is_empty() {
            return Err(format!("{} must name at least one purpose", at("purposes")));
        }
        if self.roles.is_empty() {
            return Err(format!("{} must name at least one role", at("roles")));
        }
        self.key_types()?;
        self.label_policy().map_err(|e| format!("{}: {e}", at("labels")))?;
        let mut names = BTreeSet::new();
        for w in &self.windows {
            if !names.insert(w.name()) {
                return Err(format!("{}: {:?} is listed twice", at("windows"), w.name()));
            }
        }
        for source in &self.cohort_sources {
            match source.split_once('/') {
                Some((member, dataset)) if !member.is_empty() && !dataset.is_empty() => {}
                _ => {
                    return Err(format!(
                        "{}: {source:?} is not member/dataset",
                        at("cohort_sources")
                    ));
                }
            }
        }
        if self.max_subjects_per_query == 0 || self.max_queries_per_day == 0 {
            return Err(format!(
                "{} and max_queries_per_day must be at least 1",
                at("max_subjects_per_query")
            ));
        }
        parse_epsilon(&self.privacy.epsilon)
            .map_err(|e| format!("{}: {e}", at("privacy.epsilon")))?;
        self.disclosure.validate().map_err(|e| format!("{}: {e}", at("disclosure")))?;
        if let Some(f) = &self.flag_back {
            if f.purposes.is_empty() || f.max_rows_per_case == 0 {
                return Err(format!(
                    "{} needs purposes and a max_rows_per_case of at least 1",
                    at("flag_back")
                ));
            }
            if f.case_period_days == 0 {
                return Err(format!("{} must be at least 1", at("flag_back.case_period_days")));
            }
            if f.max_rows_per_day == 0 {
                return Err(format!("{} must be at least 1", at("flag_back.max_rows_per_day")));
            }
            self.flag_back_key_types()
                .map_err(|e| format!("{}: {e}", at("flag_back.key_types")))?;
        }
        if let Some(m) = &self.matcher {
            if m.calibrate_against.is_empty() {
                return Err(format!(
                    "{} must name at least one member/dataset",
                    at("matcher.calibrate_against")
                ));
            }
            if let Some(bad) = m
                .calibrate_against
                .iter()
                .find(|s| !s.split_once('/').is_some_and(|(m, d)| !m.is_empty() && !d.is_empty()))
            {
                return Err(format!(
                    "{}: {bad:?} is not member/dataset",
                    at("matcher.calibrate_against")
                ));
            }
            m.own_filters().map_err(|e| format!("{}: {e}", at("matcher.own_filter")))?;
            if m.version == Some(0) {
                return Err(format!("{}: versions start at 1", at("matcher.version")));
            }
        }
        Ok(())
    }

    /// The key types, parsed, in the rule's order.
    pub fn key_types(&self) -> Result<Vec<KeyType>, String> {
        if self.key_types.is_empty() {
            return Err(format!("linkage rule for {}: key_types is empty", self.dataset));
        }
        self.key_types
            .iter()
            .map(|t| {
                KeyType::from_tag(t).ok_or_else(|| {
                    format!("linkage rule for {}: unknown key type {t:?}", self.dataset)
                })
            })
            .collect()
    }

    /// The key types a flag-back may link on (empty without flag-back): each must be a known
    /// key type and one of the rule's own.
    pub fn flag_back_key_types(&self) -> Result<Vec<KeyType>, String> {
        let Some(f) = &self.flag_back else {
            return Ok(Vec::new());
        };
        let allowed = self.key_types()?;
        let Some(listed) = &f.key_types else {
            let strong: Vec<KeyType> =
                allowed.into_iter().filter(|kt| STRONG_KEY_TYPES.contains(kt)).collect();
            if strong.is_empty() {
                return Err("none of the rule's key_types is strong enough for flag-back (nhs, \
                            name_dob); list the flag-back's own key_types"
                    .into());
            }
            return Ok(strong);
        };
        if listed.is_empty() {
            return Err("at least one key type is needed".into());
        }
        listed
            .iter()
            .map(|t| match KeyType::from_tag(t) {
                Some(kt) if allowed.contains(&kt) => Ok(kt),
                Some(_) => Err(format!("{t:?} is not one of the rule's key_types")),
                None => Err(format!("unknown key type {t:?}")),
            })
            .collect()
    }

    /// The label vocabulary and k as the linkage layer checks them.
    pub fn label_policy(&self) -> Result<LabelPolicy, String> {
        let labels = self
            .labels
            .vocabulary
            .iter()
            .map(|l| Label::new(l.clone()).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        LabelPolicy::new(labels, self.labels.k_min).map_err(|e| e.to_string())
    }

    /// The window template of that name in the catalogue.
    pub fn window(&self, name: &str) -> Option<&WindowTemplate> {
        self.windows.iter().find(|w| w.name() == name)
    }

    /// Whether the cohort `member/dataset` is accepted.
    pub fn accepts_cohort(&self, member: &str, dataset: &str) -> bool {
        self.cohort_sources.iter().any(|s| s.split_once('/') == Some((member, dataset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r#"
dataset = "ecds"
purposes = ["HMICFRS-R2-DEATH-ANALYSIS"]
roles = ["partner", "computing"]
key_types = ["nhs", "name_dob"]
labels = { vocabulary = ["all"], k_min = 5 }
windows = [{ name = "12m-before", granularity = "month", units_before = 12 }]
cohort_sources = ["police/death_reports"]
max_subjects_per_query = 200000
max_queries_per_day = 20
privacy = { epsilon = "1" }
"#;

    fn rule(text: &str) -> Result<LinkageRule, String> {
        let rule: LinkageRule = toml::from_str(text).map_err(|e| e.to_string())?;
        rule.validate(0)?;
        Ok(rule)
    }

    #[test]
    fn a_rule_loads_and_answers_its_questions() {
        let r = rule(RULE).expect("valid");
        assert_eq!(r.key_types().expect("types"), [KeyType::Nhs, KeyType::NameDob]);
        assert!(r.window("12m-before").is_some());
        assert!(r.window("24m-before").is_none());
        assert!(r.accepts_cohort("police", "death_reports"));
        assert!(!r.accepts_cohort("police", "crimes"));
        assert!(r.flag_back.is_none(), "no flag-back unless a rule says so");
    }

    #[test]
    fn flag_back_caps_default_to_90_days_and_100_rows_a_day() {
        let text = format!(
            "{RULE}flag_back = {{ purposes = [\"SAFEGUARDING\"], max_rows_per_case = 10 }}\n"
        );
        let r = rule(&text).expect("valid");
        let f = r.flag_back.as_ref().expect("flag-back");
        assert_eq!((f.max_rows_per_case, f.case_period_days, f.max_rows_per_day), (10, 90, 100));
        assert_eq!(r.flag_back_key_types(), Ok(vec![KeyType::Nhs, KeyType::NameDob]));
        // Named explicitly, a subset of the rule's key types.
        let text = format!(
            "{RULE}flag_back = {{ purposes = [\"SAFEGUARDING\"], max_rows_per_case = 10, \
             key_types = [\"name_dob\"] }}\n"
        );
        assert_eq!(rule(&text).expect("valid").flag_back_key_types(), Ok(vec![KeyType::NameDob]));
        // A rule of weak keys only has no default for flag-back.
        let weak = text
            .replace("[\"nhs\", \"name_dob\"]", "[\"sur_dob_pcd\"]")
            .replace(", key_types = [\"name_dob\"]", "");
        let err = rule(&weak).expect_err("no strong key");
        assert!(err.contains("flag_back.key_types") && err.contains("strong"), "{err}");
    }

    #[test]
    fn a_matcher_section_names_whole_partner_sets_and_may_pin_a_version() {
        let with = |m: &str| rule(&format!("{RULE}matcher = {m}\n"));
        let r = with(r#"{ calibrate_against = ["police/death_reports"] }"#).expect("valid");
        let m = r.matcher.expect("a matcher");
        assert_eq!((m.version, m.own_filters().expect("none")), (None, vec![]));
        let r = with(
            r#"{ calibrate_against = ["police/death_reports"], version = 2, own_filter = ["sex=F"] }"#,
        )
        .expect("valid");
        assert_eq!(r.matcher.as_ref().and_then(|m| m.version), Some(2));
        for (bad, key) in [
            (r#"{ calibrate_against = [] }"#, "matcher.calibrate_against"),
            (r#"{ calibrate_against = ["police"] }"#, "matcher.calibrate_against"),
            (r#"{ calibrate_against = ["police/d"], version = 0 }"#, "matcher.version"),
            (r#"{ calibrate_against = ["police/d"], own_filter = ["sex"] }"#, "matcher.own_filter"),
        ] {
            let e = with(bad).expect_err(bad);
            assert!(e.contains(key), "{bad}: {e}");
        }
        assert!(with(r#"{ calibrate_against = ["p/d"], refit = true }"#).is_err(), "unknown keys");
    }

    #[test]
    fn bad_rules_are_refused_naming_the_key() {
        for (from, to, key) in [
            ("\"nhs\", \"name_dob\"", "\"nhs\", \"shoe_size\"", "shoe_size"),
            ("k_min = 5", "k_min = 0", "labels"),
            ("[\"police/death_reports\"]", "[\"police\"]", "cohort_sources"),
            ("epsilon = \"1\"", "epsilon = \"0\"", "privacy.epsilon"),
            ("units_before = 12", "units_before = 0", "window"),
        ] {
            let err = rule(&RULE.replace(from, to)).expect_err(key);
            assert!(err.contains(key) || err.to_lowercase().contains("window"), "{key}: {err}");
        }
        let flag_back = "flag_back = { purposes = [\"SAFEGUARDING\"], max_rows_per_case = 10 }";
        for (extra, key) in [
            (", case_period_days = 0 }", "flag_back.case_period_days"),
            (", max_rows_per_day = 0 }", "flag_back.max_rows_per_day"),
            (", key_types = [] }", "flag_back.key_types"),
            (", key_types = [\"sur_dob_pcd\"] }", "flag_back.key_types"),
            (", key_types = [\"shoe_size\"] }", "flag_back.key_types"),
        ] {
            let text = format!("{RULE}{}", flag_back.replace(" }", extra));
            let err = rule(&text).expect_err(key);
            assert!(err.contains(key), "{key}: {err}");
        }
        let no_privacy: String =
            RULE.lines().filter(|l| !l.starts_with("privacy")).collect::<Vec<_>>().join("\n");
        assert!(rule(&no_privacy).is_err(), "DP is mandatory for linked outputs");
    }
}
