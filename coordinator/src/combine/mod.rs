//! Combining released tables from several nodes on a shared public code, such as a ward: one
//! row per code, a column per source query, a combined total, and a rate per so many residents
//! from a public population file, ranked.
//!
//! **This releases nothing new.** It is post-processing of outputs each node has already
//! protected (noised, suppressed, rounded) under its own policy, so by the post-processing
//! property of differential privacy and of disclosure control it adds no disclosure risk. It
//! reads only the released values of each [`ReleasedTable`] — never anything a node did not
//! release — and it never fills a suppressed value in.
//!
//! **Why a total with a suppressed part is suppressed.** A suppressed value is unknown: it may
//! be anything from 0 up to the node's threshold, or more when it was suppressed to protect
//! another cell. Counting it as 0 would understate the total, its rate and its rank while
//! looking exact, and would put small-count areas in a misleading order; so the combined total
//! is `[c]`, its rate is `[c]`, and it ranks below every area with a rate. A code missing from
//! one source's table (its levels differ) makes the total incomplete, shown blank, for the same
//! reason.
//!
//! **Noise adds up.** Each source is noised independently, so a combined total carries the
//! sum of their noise (its variance is the sum of the variances); rates of small areas are
//! correspondingly rough.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::table::{Provenance, Released, ReleasedTable};

pub mod render;

#[cfg(test)]
mod tests;

/// Residents by code, from a public population file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    /// Where it was read from.
    source: PathBuf,
    /// Residents by code.
    residents: BTreeMap<String, u64>,
    /// Names by code, when the file has a `<on>_name` or `name` column.
    names: BTreeMap<String, String>,
}

impl Population {
    /// Reads a CSV file with a column named `on` (the code) and a `population` column; a
    /// `<on>_name` (or `name`) column, when present, gives each code's name.
    pub fn load(path: &Path, on: &str) -> Result<Self, CombineError> {
        let text = std::fs::read_to_string(path).map_err(|e| CombineError::Population {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })?;
        Self::from_csv(&text, on, path)
    }

    /// As [`Population::load`], from the file's text; `source` names it in errors.
    pub fn from_csv(text: &str, on: &str, source: &Path) -> Result<Self, CombineError> {
        let fail =
            |problem: String| CombineError::Population { path: source.to_path_buf(), problem };
        let mut reader =
            csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
        let column = |name: &str| header.iter().position(|h| h == name);
        let code_at = column(on)
            .ok_or_else(|| fail(format!("no column named {on:?} (the combine's `on`)")))?;
        let population_at =
            column("population").ok_or_else(|| fail("no column named \"population\"".into()))?;
        let name_at = column(&format!("{on}_name")).or_else(|| column("name"));
        let mut residents = BTreeMap::new();
        let mut names = BTreeMap::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| fail(format!("line {line}: {e}")))?;
            let code = record.get(code_at).unwrap_or_default().to_string();
            if code.is_empty() {
                return Err(fail(format!("line {line}: no {on} code")));
            }
            let count = record.get(population_at).unwrap_or_default();
            let count: u64 = count.parse().map_err(|_| {
                fail(format!("line {line}: population {count:?} is not a whole number"))
            })?;
            if let Some(name) = name_at.and_then(|n| record.get(n)).filter(|n| !n.is_empty()) {
                names.insert(code.clone(), name.to_string());
            }
            if residents.insert(code.clone(), count).is_some() {
                return Err(fail(format!("line {line}: {on} {code:?} is listed twice")));
            }
        }
        Ok(Self { source: source.to_path_buf(), residents, names })
    }

    /// Where it was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The residents of `code`, if listed.
    pub fn residents(&self, code: &str) -> Option<u64> {
        self.residents.get(code).copied()
    }

    /// The name of `code`, if the file gives names.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    /// Whether the file gives names.
    pub fn has_names(&self) -> bool {
        !self.names.is_empty()
    }
}

/// What to combine and how, as a query file states it.
#[derive(Debug, Clone, PartialEq)]
pub struct CombineSpec {
    /// Its name (also its CSV file's name).
    pub name: String,
    /// A heading for reports.
    pub title: Option<String>,
    /// The source queries, in column order.
    pub queries: Vec<String>,
    /// The shared dimension, e.g. `ward`.
    pub on: String,
    /// Residents by code, for rates.
    pub population: Option<Population>,
    /// Rates are per this many residents.
    pub rate_per: u64,
    /// Order by rate (or by combined total without a population), highest first.
    pub rank: bool,
}

/// Why tables cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    /// A source table has no dimension of that name.
    #[error("query {query:?}: its table has no dimension {on:?} (it has: {dimensions})")]
    NoDimension {
        /// The source query.
        query: String,
        /// The shared dimension.
        on: String,
        /// Its dimensions, comma-separated.
        dimensions: String,
    },
    /// A source table has the dimension among others but no released totals for it.
    #[error(
        "query {query:?}: its table has other dimensions besides {on:?} and no released {on} \
         totals; group it by {on} alone"
    )]
    NoMargin {
        /// The source query.
        query: String,
        /// The shared dimension.
        on: String,
    },
    /// The sources count different things (rows and distinct subjects, say), which cannot be
    /// added.
    #[error(
        "query {query:?} counts {metric}, but {first_query:?} counts {first_metric}; only like counts add up"
    )]
    MixedMetrics {
        /// The source that differs.
        query: String,
        /// What it counts.
        metric: String,
        /// The first source.
        first_query: String,
        /// What that counts.
        first_metric: String,
    },
    /// The population file cannot be used.
    #[error("population file {path}: {problem}")]
    Population {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// A combined total: a sum of released counts, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combined {
    /// Every source released a count; this is their sum.
    Count(u64),
    /// At least one source suppressed its value (module docs).
    Suppressed,
    /// At least one source's table does not have this code.
    Incomplete,
}

/// One source of a combined table: which query, and what its table said about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The query's name (the column heading).
    pub query: String,
    /// Where its table came from.
    pub provenance: Provenance,
    /// The dataset counted.
    pub dataset: String,
    /// What it counts.
    pub metric: String,
    /// The disclosure rules the node applied.
    pub applied_rules: Vec<String>,
    /// ε charged, if noised.
    pub epsilon_micro: Option<u64>,
    /// Whether the values are the table's cells (one dimension) or its released totals.
    pub from_margin: bool,
}

/// One row: a code and what each source released for it.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedRow {
    /// The shared code, e.g. a ward code.
    pub code: String,
    /// Its name, from the population file.
    pub name: Option<String>,
    /// Per source, in order: the released value, or `None` when its table lacks the code.
    pub values: Vec<Option<Released>>,
    /// The combined total.
    pub combined: Combined,
    /// Residents, when the population file lists the code.
    pub population: Option<u64>,
    /// The combined total per `rate_per` residents, when both are known.
    pub rate: Option<f64>,
    /// Position by rate (1 = highest; equal rates share a rank), when ranked and rated.
    pub rank: Option<usize>,
}

/// Tables combined on a shared code.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedTable {
    /// The combine's name.
    pub name: String,
    /// Its heading.
    pub title: Option<String>,
    /// The shared dimension.
    pub on: String,
    /// The sources, in column order.
    pub sources: Vec<Source>,
    /// One row per code present in any source, in the sources' order or by rank.
    pub rows: Vec<CombinedRow>,
    /// Rates are per this many residents; `None` without a population file.
    pub rate_per: Option<u64>,
    /// Where the population came from.
    pub population_source: Option<PathBuf>,
    /// Whether the population file gives names.
    pub has_names: bool,
    /// Whether rows are in rank order.
    pub ranked: bool,
}

/// Combines `tables` (one per source query, in `spec.queries` order, named) on `spec.on`.
///
/// A one-dimensional table contributes its cells; a table with more dimensions contributes its
/// released totals for `spec.on` (never a sum of its cells, which would meet suppressed cells).
pub fn combine(
    spec: &CombineSpec,
    tables: &[(&str, &ReleasedTable)],
) -> Result<CombinedTable, CombineError> {
    let mut sources = Vec::new();
    let mut columns: Vec<BTreeMap<&str, Released>> = Vec::new();
    if let Some(&(first_query, first)) = tables.first()
        && let Some(&(query, other)) =
            tables.iter().find(|(_, t)| t.metric_name() != first.metric_name())
    {
        return Err(CombineError::MixedMetrics {
            query: query.to_string(),
            metric: other.metric_name(),
            first_query: first_query.to_string(),
            first_metric: first.metric_name(),
        });
    }
    for &(query, table) in tables {
        let (values, from_margin) = values_on(query, table, &spec.on)?;
        columns.push(values);
        sources.push(Source {
            query: query.to_string(),
            provenance: table.provenance().clone(),
            dataset: table.dataset().to_string(),
            metric: table.metric_name(),
            applied_rules: table.applied_rules().to_vec(),
            epsilon_micro: table.privacy().map(|p| p.epsilon_micro),
            from_margin,
        });
    }
    // Codes in the order the nodes list them (public codes first, `(missing)` last), each once.
    let mut seen = BTreeSet::new();
    let codes: Vec<&str> = tables
        .iter()
        .filter_map(|(_, table)| table.dimension(&spec.on))
        .flat_map(|(_, dimension)| dimension.levels().iter().map(String::as_str))
        .filter(|code| seen.insert(*code))
        .collect();
    let population = spec.population.as_ref();
    let mut rows: Vec<CombinedRow> = codes
        .into_iter()
        .map(|code| {
            let values: Vec<Option<Released>> =
                columns.iter().map(|c| c.get(code).copied()).collect();
            let combined = combined_total(&values);
            let residents = population.and_then(|p| p.residents(code));
            let rate = match (combined, residents) {
                (Combined::Count(n), Some(r)) if r > 0 => {
                    Some(n as f64 * spec.rate_per as f64 / r as f64)
                }
                _ => None,
            };
            CombinedRow {
                code: code.to_string(),
                name: population.and_then(|p| p.name(code)).map(str::to_string),
                values,
                combined,
                population: residents,
                rate,
                rank: None,
            }
        })
        .collect();
    if spec.rank {
        rank(&mut rows, population.is_some());
    }
    Ok(CombinedTable {
        name: spec.name.clone(),
        title: spec.title.clone(),
        on: spec.on.clone(),
        sources,
        rows,
        rate_per: population.map(|_| spec.rate_per),
        population_source: population.map(|p| p.source().to_path_buf()),
        has_names: population.is_some_and(Population::has_names),
        ranked: spec.rank,
    })
}

/// The released values of `table` by level of dimension `on`, and whether they are totals.
fn values_on<'t>(
    query: &str,
    table: &'t ReleasedTable,
    on: &str,
) -> Result<(BTreeMap<&'t str, Released>, bool), CombineError> {
    let Some((index, dimension)) = table.dimension(on) else {
        let names: Vec<&str> = table.dimensions().iter().map(|d| d.name()).collect();
        return Err(CombineError::NoDimension {
            query: query.to_string(),
            on: on.to_string(),
            dimensions: if names.is_empty() { "none".into() } else { names.join(", ") },
        });
    };
    let levels = dimension.levels().iter().map(String::as_str);
    if table.dimensions().len() == 1 {
        return Ok((levels.zip(table.cells().iter().copied()).collect(), false));
    }
    match table.margin(index) {
        Some(totals) => Ok((levels.zip(totals.iter().copied()).collect(), true)),
        None => Err(CombineError::NoMargin { query: query.to_string(), on: on.to_string() }),
    }
}

/// The combined total of one row's values (module docs: suppressed beats incomplete beats sum).
fn combined_total(values: &[Option<Released>]) -> Combined {
    if values.contains(&Some(Released::Suppressed)) {
        return Combined::Suppressed;
    }
    let mut sum = 0u64;
    for value in values {
        match value {
            Some(Released::Count(n)) => sum = sum.saturating_add(*n),
            _ => return Combined::Incomplete,
        }
    }
    Combined::Count(sum)
}

/// Ranks rows by rate (or by combined total when there is no population), highest first;
/// equal keys share a rank (1, 2, 2, 4); rows without a key go last.
fn rank(rows: &mut [CombinedRow], by_rate: bool) {
    let key = |row: &CombinedRow| -> Option<f64> {
        if by_rate {
            row.rate
        } else {
            match row.combined {
                Combined::Count(n) => Some(n as f64),
                _ => None,
            }
        }
    };
    // A stable sort: equal keys, and rows without one, keep the nodes' order.
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let mut previous: Option<(f64, usize)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        let Some(k) = key(row) else { continue };
        let rank = match previous {
            Some((p, r)) if p == k => r,
            _ => i + 1,
        };
        row.rank = Some(rank);
        previous = Some((k, rank));
    }
}
