//! The `[[aggregate]]` rules of a node's policy (issue 4): per dataset and purpose, which column
//! uses, groupings and metrics a query may ask for, the disclosure control applied to every
//! answer, the differential-privacy settings for queries a requester shapes, and the published
//! templates answered with suppression and rounding alone. Deny by default: a dataset without a
//! rule, a column not listed, a grouping or metric not named, is refused with the rule's name.
//!
//! ```toml
//! [[aggregate]]
//! dataset = "ecds"
//! purposes = ["SVD-SNA"]
//! columns = { EC_Injury_Intent_SNOMED_CT = ["filter", "group_by"], Age_At_Arrival = ["filter"] }
//! time_buckets = ["month", "quarter", "financial_year"]
//! geography = ["ward", "lsoa"]
//! age_bands = true
//! metrics = ["rows", "distinct_subjects"]
//! disclosure = { min_cell = 8, rounding = { nearest = 5 } }
//! privacy = { epsilon = "0.5", max_rows_per_subject = 4 }
//!
//! [[aggregate.template]]
//! name = "ed-assault-by-ward"
//! period = "financial_year"
//! filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
//! group_by = ["ward"]
//! ```

use std::collections::BTreeMap;

use fedlink_proto::aggregate::text::{PeriodKind, parse_filter, parse_group, parse_metric};
use fedlink_proto::aggregate::{
    AggregateQuery, AggregateRequest, Filter, GeographyLevel, GroupBy, IsoDate, Metric, TimeBucket,
};
use fedlink_proto::audit::budget::{BudgetLimits, parse_epsilon};
use fedlink_proto::refusal::Refusal;
use serde::{Deserialize, Serialize};

use crate::aggregate::compile::compile;
use crate::dataset::schema::DatasetSchema;
use crate::disclosure::SdcRules;

/// What a column may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnUse {
    /// In a filter.
    Filter,
    /// As a grouping.
    GroupBy,
    /// Summed (numeric columns with declared bounds).
    Sum,
}

impl ColumnUse {
    fn verb(self) -> &'static str {
        match self {
            ColumnUse::Filter => "filtered",
            ColumnUse::GroupBy => "grouped by",
            ColumnUse::Sum => "summed",
        }
    }
}

/// A metric a rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricUse {
    /// Count rows.
    Rows,
    /// Count distinct subjects.
    DistinctSubjects,
    /// Sum a column the rule lets be summed.
    Sum,
}

/// The noise mechanism. Only discrete Laplace (pure ε-DP) is offered for aggregates, so that
/// every charge in the ledger is in one unit, ε.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Discrete Laplace with scale sensitivity/ε (Canonne, Kamath, Steinke 2020).
    #[default]
    DiscreteLaplace,
}

/// DP settings for queries a requester shapes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// The mechanism.
    #[serde(default)]
    pub mechanism: Mechanism,
    /// ε charged per query, as a decimal ("0.5").
    pub epsilon: String,
    /// The most rows one subject contributes to a table (contribution bounding); the noise is
    /// scaled to it.
    #[serde(default = "one")]
    pub max_rows_per_subject: u32,
}

fn one() -> u32 {
    1
}

/// A published table: the same query each period, answered with suppression and rounding.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Its name, as requests give it.
    pub name: String,
    /// The periods it is run for.
    pub period: PeriodKind,
    /// Filters, in the shared text form.
    #[serde(default)]
    pub filter: Vec<String>,
    /// Groupings, in the shared text form.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// The metric (default rows).
    #[serde(default = "rows")]
    pub metric: String,
}

fn rows() -> String {
    "rows".into()
}

/// One `[[aggregate]]` rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateRule {
    /// The dataset it covers.
    pub dataset: String,
    /// The purposes it serves (the envelope's purpose must be one).
    pub purposes: Vec<String>,
    /// Allowed uses per schema column; columns not listed allow none.
    #[serde(default)]
    pub columns: BTreeMap<String, Vec<ColumnUse>>,
    /// Time buckets that may be grouped by (names as in the query syntax).
    #[serde(default)]
    pub time_buckets: Vec<String>,
    /// Geography levels that may be grouped by.
    #[serde(default)]
    pub geography: Vec<String>,
    /// Whether age bands may be grouped by.
    #[serde(default)]
    pub age_bands: bool,
    /// Whether an event-date period may be given (needed to group by time).
    #[serde(default = "yes")]
    pub period_filter: bool,
    /// Metrics allowed.
    #[serde(default = "default_metrics")]
    pub metrics: Vec<MetricUse>,
    /// Most groupings in one query.
    #[serde(default = "default_max_groups")]
    pub max_groups: usize,
    /// Most cells in one table.
    #[serde(default = "default_max_cells")]
    pub max_cells: usize,
    /// Disclosure control for every answer under this rule.
    #[serde(default)]
    pub disclosure: SdcRules,
    /// DP settings; without them only templates are answered.
    #[serde(default)]
    pub privacy: Option<PrivacySettings>,
    /// Published templates.
    #[serde(default, rename = "template")]
    pub templates: Vec<Template>,
}

fn financial_year() -> PeriodKind {
    PeriodKind::FinancialYear
}

fn yes() -> bool {
    true
}
fn default_metrics() -> Vec<MetricUse> {
    vec![MetricUse::Rows]
}
fn default_max_groups() -> usize {
    3
}
fn default_max_cells() -> usize {
    20_000
}

/// The `[budget]` table: ε limits per dataset and period.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSettings {
    /// How often budgets renew: month, quarter, financial_year (the default) or year. A budget
    /// is for the period in which queries are asked, whatever dates they cover.
    #[serde(default = "financial_year")]
    pub period: PeriodKind,
    /// ε per coordinator (all its requesters together), per dataset and period.
    pub coordinator_epsilon: String,
    /// ε per requester, per dataset and period.
    pub requester_epsilon: String,
}

/// A request resolved against its rule: the query to run, the rules to protect it with, and the
/// noise to add (shaped queries) or none (templates).
#[derive(Debug, Clone)]
pub struct ResolvedAggregate {
    /// The query, with the rule's contribution bound set.
    pub query: AggregateQuery,
    /// Disclosure control.
    pub disclosure: SdcRules,
    /// ε in millionths, for shaped queries.
    pub epsilon_micro: Option<u64>,
    /// The most cells the table may have.
    pub max_cells: usize,
    /// Template name and period, for templates.
    pub template: Option<(String, String)>,
}

impl AggregateRule {
    /// Checks the rule when the policy is loaded, naming the key at fault.
    pub fn validate(&self, index: usize) -> Result<(), String> {
        let at = |key: &str| format!("aggregate[{index}] ({}).{key}", self.dataset);
        if self.purposes.is_empty() {
            return Err(format!("{} must name at least one purpose", at("purposes")));
        }
        self.disclosure.validate().map_err(|e| format!("{}: {e}", at("disclosure")))?;
        for b in &self.time_buckets {
            TimeBucket::from_name(b)
                .ok_or_else(|| format!("{}: unknown {b:?}", at("time_buckets")))?;
        }
        for g in &self.geography {
            GeographyLevel::from_name(g)
                .ok_or_else(|| format!("{}: unknown {g:?}", at("geography")))?;
        }
        if let Some(p) = &self.privacy {
            parse_epsilon(&p.epsilon).map_err(|e| format!("{}: {e}", at("privacy.epsilon")))?;
            if p.max_rows_per_subject == 0 {
                return Err(format!("{} must be at least 1", at("privacy.max_rows_per_subject")));
            }
        }
        for t in &self.templates {
            let query =
                template_query(&self.dataset, t).map_err(|e| format!("{}: {e}", at("template")))?;
            // Without noise, a sum cell can be one person's value however many rows it has.
            if matches!(query.metric, Metric::Sum { .. }) {
                return Err(format!(
                    "{} {:?}: a template cannot sum (without noise a sum can be one person's value)",
                    at("template"),
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// Checks the rule against the dataset's schema when the node starts: the dataset exists,
    /// every column it lists does, and every template compiles.
    pub fn validate_against(
        &self,
        index: usize,
        schema: Option<&DatasetSchema>,
        lookup: bool,
    ) -> Result<(), String> {
        let at = format!("aggregate[{index}] ({})", self.dataset);
        let Some(schema) = schema else {
            return Err(format!("{at}: the node holds no dataset {:?}", self.dataset));
        };
        for column in self.columns.keys() {
            if !schema.columns.iter().any(|c| &c.name == column) {
                return Err(format!(
                    "{at}.columns: dataset {} has no column {column:?}",
                    schema.name
                ));
            }
        }
        for t in &self.templates {
            let query = template_query(&self.dataset, t).map_err(|e| format!("{at}: {e}"))?;
            compile(schema, &query, lookup)
                .map_err(|e| format!("{at}.template {:?}: {e}", t.name))?;
        }
        Ok(())
    }

    fn allows(&self, column: &str, usage: ColumnUse) -> Result<(), Refusal> {
        if self.columns.get(column).is_some_and(|uses| uses.contains(&usage)) {
            Ok(())
        } else {
            Err(Refusal::ColumnUseNotAllowed {
                column: column.to_string(),
                usage: usage.verb().to_string(),
            })
        }
    }

    /// Resolves a request under this rule, or refuses naming the rule. `today` is the node's
    /// date: a template is only run for a period that has ended, so a published table cannot
    /// be asked again and again while its period fills up and differenced day by day.
    pub fn resolve(
        &self,
        request: &AggregateRequest,
        today: IsoDate,
    ) -> Result<ResolvedAggregate, Refusal> {
        match request {
            AggregateRequest::Template { name, period, .. } => {
                let t = self
                    .templates
                    .iter()
                    .find(|t| &t.name == name)
                    .ok_or_else(|| Refusal::UnknownTemplate { template: name.clone() })?;
                let (from, to) =
                    t.period.range(period).ok_or_else(|| Refusal::BadTemplatePeriod {
                        period: period.clone(),
                        expected: t.period.example().to_string(),
                    })?;
                if to >= today {
                    return Err(Refusal::BadTemplatePeriod {
                        period: period.clone(),
                        expected: "a period that has ended (published tables are final)".into(),
                    });
                }
                let mut query = template_query(&self.dataset, t)
                    .map_err(|problem| Refusal::QueryInvalid { problem })?;
                query.filters.push(Filter::EventDates { from, to });
                Ok(ResolvedAggregate {
                    query,
                    disclosure: self.disclosure,
                    epsilon_micro: None,
                    max_cells: self.max_cells,
                    template: Some((name.clone(), period.clone())),
                })
            }
            AggregateRequest::Shaped(query) => {
                let Some(privacy) = &self.privacy else {
                    return Err(Refusal::ShapedQueriesNotAllowed { dataset: self.dataset.clone() });
                };
                self.check_shaped(query)?;
                let epsilon = parse_epsilon(&privacy.epsilon)
                    .map_err(|e| Refusal::QueryInvalid { problem: e.to_string() })?;
                let mut query = query.clone();
                query.max_rows_per_subject = Some(privacy.max_rows_per_subject);
                Ok(ResolvedAggregate {
                    query,
                    disclosure: self.disclosure,
                    epsilon_micro: Some(epsilon),
                    max_cells: self.max_cells,
                    template: None,
                })
            }
        }
    }

    fn check_shaped(&self, query: &AggregateQuery) -> Result<(), Refusal> {
        if query.group_by.len() > self.max_groups {
            return Err(Refusal::GroupingNotAllowed {
                grouping: format!(
                    "{} groupings at once (this rule allows {})",
                    query.group_by.len(),
                    self.max_groups
                ),
            });
        }
        for f in &query.filters {
            match f {
                Filter::Equals { column, .. }
                | Filter::In { column, .. }
                | Filter::NumberRange { column, .. } => self.allows(column, ColumnUse::Filter)?,
                Filter::EventDates { .. } if self.period_filter => {}
                Filter::EventDates { .. } => {
                    return Err(Refusal::ColumnUseNotAllowed {
                        column: "event date".into(),
                        usage: "filtered".into(),
                    });
                }
            }
        }
        for g in &query.group_by {
            match g {
                GroupBy::Column(column) => self.allows(column, ColumnUse::GroupBy)?,
                GroupBy::Time(b) if self.time_buckets.iter().any(|n| n == b.name()) => {}
                GroupBy::Geography(l) if self.geography.iter().any(|n| n == l.name()) => {}
                GroupBy::Age(_) if self.age_bands => {}
                other => {
                    return Err(Refusal::GroupingNotAllowed {
                        grouping: fedlink_proto::aggregate::text::group_text(other),
                    });
                }
            }
        }
        let (used, name) = match &query.metric {
            Metric::Rows => (MetricUse::Rows, "rows".to_string()),
            Metric::DistinctSubjects => (MetricUse::DistinctSubjects, "distinct_subjects".into()),
            Metric::Sum { column } => {
                self.allows(column, ColumnUse::Sum)?;
                (MetricUse::Sum, format!("sum:{column}"))
            }
        };
        if !self.metrics.contains(&used) {
            return Err(Refusal::MetricNotAllowed { metric: name });
        }
        Ok(())
    }
}

/// A template's fixed query (without its period).
fn template_query(dataset: &str, t: &Template) -> Result<AggregateQuery, String> {
    Ok(AggregateQuery {
        dataset: dataset.to_string(),
        filters: t
            .filter
            .iter()
            .map(|f| parse_filter(f))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        group_by: t
            .group_by
            .iter()
            .map(|g| parse_group(g))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        metric: parse_metric(&t.metric).map_err(|e| e.to_string())?,
        max_rows_per_subject: None,
    })
}

impl BudgetSettings {
    /// The limits in millionths of ε.
    pub fn limits(&self) -> Result<BudgetLimits, String> {
        Ok(BudgetLimits {
            coordinator_micro: parse_epsilon(&self.coordinator_epsilon)
                .map_err(|e| format!("budget.coordinator_epsilon: {e}"))?,
            requester_micro: parse_epsilon(&self.requester_epsilon)
                .map_err(|e| format!("budget.requester_epsilon: {e}"))?,
        })
    }
}
