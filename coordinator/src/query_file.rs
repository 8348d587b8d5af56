//! Query files: a repeatable set of aggregate queries, and the combinations of their tables,
//! written once in TOML and run again each period. Terms are written as on the command line
//! and in node policies — both go through [`QueryTerms::resolve`] and the shared text forms of
//! [`fedlink_proto::aggregate::text`] — so a query reads the same wherever it is written.
//!
//! ```toml
//! [defaults]                                  # optional, for every query that omits them
//! period = "2025-04-01..2026-03-31"           # event dates, for shaped queries
//! template_period = "2025/26"                 # for template queries
//! node = "icb"
//! purpose = "SVD-SNA"
//!
//! [[query]]
//! name = "ed_violence_by_ward_month"          # letters, digits, _ . - (it names the CSV file)
//! title = "S1: violence-related ED attendances by ward and month"
//! node = "icb"
//! dataset = "ecds"
//! filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
//! group_by = ["ward", "month"]
//! metric = "rows"                             # rows | distinct_subjects | sum:COLUMN
//! period = "2025-04-01..2026-03-31"
//!
//! [[query]]
//! name = "deaths_by_category"
//! node = "police"
//! dataset = "death_reports"
//! template = "death-reports-by-category"      # a published template of the node's policy
//! template_period = "2025/26"
//!
//! [[combine]]
//! name = "s3_police_ed_by_ward"
//! title = "S3: police violence + ED assault by ward, rate per 1,000"
//! queries = ["police_violence_by_ward", "ed_assault_by_ward"]
//! on = "ward"
//! population = "public/ward_population.csv"  # relative to this file
//! rate_per = 1000                             # default 1000 when a population is given
//! rank = true
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fedlink_proto::aggregate::text::{
    PeriodKind, parse_filter, parse_groups, parse_metric, parse_period,
};
use fedlink_proto::aggregate::{
    AggregateQuery, AggregateRequest, Filter, GroupBy, MAX_TERMS, Metric,
};
use fedlink_proto::federation::Federation;
use serde::Deserialize;

use crate::combine::{CombineSpec, Population};

/// The terms of one aggregate query as written, in a query file or on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryTerms {
    /// The dataset.
    pub dataset: Option<String>,
    /// Filters: `COL=VALUE`, `COL=A|B|C`, `COL=MIN..MAX`.
    pub filter: Vec<String>,
    /// Groupings, each possibly a comma-separated list.
    pub group_by: Vec<String>,
    /// `rows` (default), `distinct_subjects` or `sum:COLUMN`.
    pub metric: Option<String>,
    /// Event dates `FROM..TO`.
    pub period: Option<String>,
    /// A published template's name.
    pub template: Option<String>,
    /// The template's period: `2025/26`, `2025-Q3`, `2025-07`, `2025`.
    pub template_period: Option<String>,
}

/// Why query terms do not make a query: the key (as a query file spells it) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {problem}")]
pub struct TermsError {
    /// The key: `dataset`, `filter`, `group_by`, `metric`, `period`, `template`,
    /// `template_period`.
    pub key: &'static str,
    /// What is wrong.
    pub problem: String,
}

fn terms_error(key: &'static str, problem: impl Into<String>) -> TermsError {
    TermsError { key, problem: problem.into() }
}

impl QueryTerms {
    /// The typed request these terms state.
    pub fn resolve(self) -> Result<AggregateRequest, TermsError> {
        let dataset = self
            .dataset
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| terms_error("dataset", "missing: name the dataset to count"))?;
        if let Some(name) = self.template {
            let shaped: Vec<&str> = [
                ("filter", !self.filter.is_empty()),
                ("group_by", !self.group_by.is_empty()),
                ("metric", self.metric.is_some()),
                ("period", self.period.is_some()),
            ]
            .into_iter()
            .filter_map(|(key, given)| given.then_some(key))
            .collect();
            if !shaped.is_empty() {
                return Err(terms_error(
                    "template",
                    format!(
                        "a template fixes its own filters, groupings and metric; drop {} \
                         (template_period says which period)",
                        shaped.join(", ")
                    ),
                ));
            }
            if name.trim().is_empty() {
                return Err(terms_error("template", "empty template name"));
            }
            let period = self.template_period.ok_or_else(|| {
                terms_error("template_period", "missing: say which period to run the template for")
            })?;
            let kinds = [
                PeriodKind::Month,
                PeriodKind::Quarter,
                PeriodKind::FinancialYear,
                PeriodKind::Year,
            ];
            if !kinds.iter().any(|k| k.range(&period).is_some()) {
                return Err(terms_error(
                    "template_period",
                    format!(
                        "{period:?} is not a period: use a financial year like 2025/26, a \
                         quarter like 2025-Q3, a month like 2025-07 or a year like 2025"
                    ),
                ));
            }
            return Ok(AggregateRequest::Template { dataset, name, period });
        }
        if self.template_period.is_some() {
            return Err(terms_error("template_period", "only for a template query"));
        }
        let mut filters = self
            .filter
            .iter()
            .map(|f| parse_filter(f).map_err(|e| terms_error("filter", e.to_string())))
            .collect::<Result<Vec<Filter>, _>>()?;
        if let Some(period) = &self.period {
            let (from, to) =
                parse_period(period).map_err(|e| terms_error("period", e.to_string()))?;
            filters.push(Filter::EventDates { from, to });
        }
        let mut group_by: Vec<GroupBy> = Vec::new();
        for list in &self.group_by {
            let groups = parse_groups(list).map_err(|e| terms_error("group_by", e.to_string()))?;
            if groups.is_empty() {
                return Err(terms_error("group_by", format!("{list:?} names no grouping")));
            }
            group_by.extend(groups);
        }
        if let Some(bucket) = group_by.iter().find_map(|g| match g {
            GroupBy::Time(t) => Some(t.name()),
            _ => None,
        }) && self.period.is_none()
        {
            return Err(terms_error(
                "period",
                format!(
                    "grouping by {bucket} needs a period FROM..TO, so the table's rows are fixed \
                     before any data is read"
                ),
            ));
        }
        if filters.len() > MAX_TERMS || group_by.len() > MAX_TERMS {
            return Err(terms_error(
                if filters.len() > MAX_TERMS { "filter" } else { "group_by" },
                format!("at most {MAX_TERMS} filters and {MAX_TERMS} groupings"),
            ));
        }
        let metric = match &self.metric {
            Some(m) => parse_metric(m).map_err(|e| terms_error("metric", e.to_string()))?,
            None => Metric::Rows,
        };
        Ok(AggregateRequest::Shaped(AggregateQuery {
            dataset,
            filters,
            group_by,
            metric,
            max_rows_per_subject: None,
        }))
    }
}

/// One named query of a query file, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedQuery {
    /// Its name (also its CSV file's name).
    pub name: String,
    /// A heading for reports.
    pub title: Option<String>,
    /// The node to ask.
    pub node: String,
    /// A purpose code instead of the configured one.
    pub purpose: Option<String>,
    /// What to ask.
    pub request: AggregateRequest,
}

impl NamedQuery {
    /// The heading: the title, else the name.
    pub fn heading(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// A query file, resolved: every query typed, every combine checked, populations read.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryFile {
    /// The queries, in file order.
    pub queries: Vec<NamedQuery>,
    /// The combinations, in file order.
    pub combines: Vec<CombineSpec>,
}

/// Why a query file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum QueryFileError {
    /// The file cannot be read.
    #[error("cannot read query file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        problem: String,
    },
    /// One query is wrong.
    #[error("{path}: query {query:?}: {problem}")]
    Query {
        /// The file.
        path: PathBuf,
        /// The query's name (or its position).
        query: String,
        /// What is wrong, starting with the key.
        problem: String,
    },
    /// One combine is wrong.
    #[error("{path}: combine {combine:?}: {problem}")]
    Combine {
        /// The file.
        path: PathBuf,
        /// The combine's name (or its position).
        combine: String,
        /// What is wrong, starting with the key.
        problem: String,
    },
    /// The file has no queries.
    #[error("{0}: no [[query]] entries")]
    Empty(PathBuf),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    query: Vec<RawQuery>,
    #[serde(default)]
    combine: Vec<RawCombine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    period: Option<String>,
    template_period: Option<String>,
    node: Option<String>,
    purpose: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    name: Option<String>,
    title: Option<String>,
    node: Option<String>,
    purpose: Option<String>,
    dataset: Option<String>,
    #[serde(default)]
    filter: Vec<String>,
    #[serde(default)]
    group_by: Vec<String>,
    metric: Option<String>,
    period: Option<String>,
    template: Option<String>,
    template_period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCombine {
    name: Option<String>,
    title: Option<String>,
    #[serde(default)]
    queries: Vec<String>,
    on: Option<String>,
    population: Option<PathBuf>,
    rate_per: Option<u64>,
    #[serde(default)]
    rank: bool,
}

/// Whether `name` is usable as a query or combine name: it becomes a file name under `--out`,
/// so letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
fn name_problem(name: &str) -> Option<String> {
    let ok = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    (!ok).then(|| {
        format!(
            "`name`: {name:?} is not a usable name (letters, digits, _ . - only, starting with a \
             letter, digit or _; it names the CSV file)"
        )
    })
}

impl QueryFile {
    /// Reads and resolves a query file; relative population paths are read from its folder.
    pub fn load(path: &Path) -> Result<Self, QueryFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| QueryFileError::Read { path: path.to_path_buf(), source })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, path, base)
    }

    /// Resolves a query file's text. `path` names it in errors; `base` is the folder relative
    /// paths start from.
    pub fn from_toml(text: &str, path: &Path, base: &Path) -> Result<Self, QueryFileError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| QueryFileError::Parse {
            path: path.to_path_buf(),
            problem: e.to_string().trim_end().replace('\n', " "),
        })?;
        if raw.query.is_empty() {
            return Err(QueryFileError::Empty(path.to_path_buf()));
        }
        let mut names = BTreeSet::new();
        let mut queries = Vec::new();
        for (i, q) in raw.query.into_iter().enumerate() {
            let label = q.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let fail = |problem: String| QueryFileError::Query {
                path: path.to_path_buf(),
                query: label.clone(),
                problem,
            };
            let name = q.name.ok_or_else(|| fail("`name`: missing".into()))?;
            if let Some(problem) = name_problem(&name) {
                return Err(fail(problem));
            }
            if !names.insert(name.clone()) {
                return Err(fail("`name`: used twice".into()));
            }
            let node = q
                .node
                .or_else(|| raw.defaults.node.clone())
                .ok_or_else(|| fail("`node`: missing (and no default node)".into()))?;
            let is_template = q.template.is_some();
            let terms = QueryTerms {
                dataset: q.dataset,
                filter: q.filter,
                group_by: q.group_by,
                metric: q.metric,
                period: if is_template {
                    q.period
                } else {
                    q.period.or(raw.defaults.period.clone())
                },
                template: q.template,
                template_period: if is_template {
                    q.template_period.or(raw.defaults.template_period.clone())
                } else {
                    q.template_period
                },
            };
            let request = terms.resolve().map_err(|e| fail(e.to_string()))?;
            queries.push(NamedQuery {
                name,
                title: q.title,
                node,
                purpose: q.purpose.or(raw.defaults.purpose.clone()),
                request,
            });
        }
        let mut combines = Vec::new();
        for (i, c) in raw.combine.into_iter().enumerate() {
            let label = c.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let fail = |problem: String| QueryFileError::Combine {
                path: path.to_path_buf(),
                combine: label.clone(),
                problem,
            };
            let name = c.name.ok_or_else(|| fail("`name`: missing".into()))?;
            if let Some(problem) = name_problem(&name) {
                return Err(fail(problem));
            }
            if !names.insert(name.clone()) {
                return Err(fail("`name`: already used by a query or combine".into()));
            }
            if c.queries.is_empty() {
                return Err(fail("`queries`: name at least one query to combine".into()));
            }
            let mut seen = BTreeSet::new();
            for q in &c.queries {
                if !queries.iter().any(|known| &known.name == q) {
                    return Err(fail(format!("`queries`: no query named {q:?} in this file")));
                }
                if !seen.insert(q) {
                    return Err(fail(format!("`queries`: {q:?} is listed twice")));
                }
            }
            let on = c
                .on
                .filter(|o| !o.trim().is_empty())
                .ok_or_else(|| fail("`on`: missing: the shared dimension, e.g. \"ward\"".into()))?;
            if c.rate_per == Some(0) {
                return Err(fail("`rate_per`: must be at least 1".into()));
            }
            if c.rate_per.is_some() && c.population.is_none() {
                return Err(fail("`rate_per`: rates need a `population` file".into()));
            }
            let population = c
                .population
                .map(|p| Population::load(&base.join(p), &on))
                .transpose()
                .map_err(|e| fail(format!("`population`: {e}")))?;
            combines.push(CombineSpec {
                name,
                title: c.title,
                queries: c.queries,
                on,
                population,
                rate_per: c.rate_per.unwrap_or(1000),
                rank: c.rank,
            });
        }
        Ok(Self { queries, combines })
    }

    /// Checks every query's node is a node of `federation`.
    pub fn check_nodes(&self, federation: &Federation, path: &Path) -> Result<(), QueryFileError> {
        for q in &self.queries {
            if federation.nodes().all(|n| n.name != q.node) {
                let nodes: Vec<&str> = federation.nodes().map(|n| n.name.as_str()).collect();
                return Err(QueryFileError::Query {
                    path: path.to_path_buf(),
                    query: q.name.clone(),
                    problem: format!(
                        "`node`: {:?} is not a node of federation {:?} (nodes: {})",
                        q.node,
                        federation.name,
                        nodes.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
