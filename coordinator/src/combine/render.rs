//! How a combined table is shown, in the same three formats as a released table. In text a
//! suppressed value is `[c]` and a code missing from a source's table is `-`; in CSV each
//! value column has a `_suppressed` partner.
//!
//! # CSV layout
//!
//! ```text
//! ward,ward_name,police,police_suppressed,ed,ed_suppressed,combined,combined_suppressed,…
//! E05000002,Bank,20,false,15,false,35,false,7000,5.00,1
//! E05000001,Abbey,35,false,,true,,true,8123,,
//! ```
//!
//! (… then `population,rate_per_1000,rank`.) The name column appears when the population file
//! gives names; population and rate when there is a population file; rank when ranked. An empty
//! value that is not suppressed means the code is not in that source's table (or, for
//! `combined`, that the total is incomplete); an empty rate means the total or the population
//! is unknown. A suppressed value is never written as a number.

use fedlink_proto::audit::budget::micro_to_string;
use serde_json::{Value as Json, json};

use super::{Combined, CombinedRow, CombinedTable};
use crate::grid::{Align, aligned, csv_line, thousands, wrap};
use crate::table::Released;
use crate::table::render::{FOOTER_WIDTH, Format, text};

impl Combined {
    /// The combined total as a released-style value, or `None` when incomplete.
    pub fn released(self) -> Option<Released> {
        match self {
            Combined::Count(n) => Some(Released::Count(n)),
            Combined::Suppressed => Some(Released::Suppressed),
            Combined::Incomplete => None,
        }
    }
}

impl CombinedRow {
    /// The rate as text: two decimals, `[c]` when the total is suppressed, else blank.
    fn rate_text(&self) -> String {
        match (self.rate, self.combined) {
            (Some(r), _) => format!("{r:.2}"),
            (None, Combined::Suppressed) if self.population.is_some() => "[c]".into(),
            _ => String::new(),
        }
    }
}

impl CombinedTable {
    /// The table in the chosen format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_text(),
            Format::Csv => self.to_csv(),
            Format::Json => format!("{:#}\n", self.to_json()),
        }
    }

    /// The rate column's heading in text.
    fn rate_heading(&self) -> Option<String> {
        self.rate_per.map(|per| format!("rate per {}", thousands(per)))
    }

    /// Aligned text with a footer.
    pub fn to_text(&self) -> String {
        let mut header = vec![self.on.clone()];
        if self.has_names {
            header.push("name".into());
        }
        header.extend(self.sources.iter().map(|s| s.query.clone()));
        header.push("combined".into());
        if let Some(rate) = self.rate_heading() {
            header.extend(["population".to_string(), rate]);
        }
        if self.ranked {
            header.push("rank".into());
        }
        let mut grid = vec![header];
        for row in &self.rows {
            let mut line = vec![row.code.clone()];
            if self.has_names {
                line.push(row.name.clone().unwrap_or_default());
            }
            line.extend(row.values.iter().map(|v| v.map_or_else(|| "-".to_string(), text)));
            line.push(row.combined.released().map_or_else(String::new, text));
            if self.rate_per.is_some() {
                line.push(row.population.map_or_else(String::new, thousands));
                line.push(row.rate_text());
            }
            if self.ranked {
                line.push(row.rank.map_or_else(String::new, |r| r.to_string()));
            }
            grid.push(line);
        }
        let labels = 1 + usize::from(self.has_names);
        let mut align = vec![Align::Left; labels];
        align.resize(grid[0].len(), Align::Right);
        let mut out = aligned(&grid, &align);
        out.push('\n');
        for line in self.footer().iter().flat_map(|l| wrap(l, FOOTER_WIDTH)) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The footer: what the marks mean, how totals and rates are made, and each source
    /// (unwrapped).
    pub fn footer(&self) -> Vec<String> {
        let mut lines = vec![
            "[c] = suppressed by a node's disclosure control (not zero); a combined total with a \
             suppressed part is suppressed, and so is its rate; - = not in that source's table \
             (total left blank)."
                .to_string(),
            "Combined from already-protected tables: post-processing that releases nothing new; \
             each source's noise adds to the total."
                .to_string(),
        ];
        if let (Some(per), Some(source)) = (self.rate_per, &self.population_source) {
            lines.push(format!(
                "Rates per {} residents from {}; blank where the population is not listed.",
                thousands(per),
                source.display()
            ));
        }
        if self.ranked {
            lines.push(format!(
                "Ranked by {}, highest first; rows without one at the bottom.",
                if self.rate_per.is_some() { "rate" } else { "combined total" }
            ));
        }
        for s in &self.sources {
            let p = &s.provenance;
            lines.push(format!(
                "{}: node {}, dataset {}, metric {}{}; rules {}; {}; query {}, receipt entry {} \
                 verified at size {}",
                s.query,
                p.node,
                s.dataset,
                s.metric,
                if s.from_margin {
                    format!(", released {} totals", self.on)
                } else {
                    String::new()
                },
                if s.applied_rules.is_empty() { "-".into() } else { s.applied_rules.join(", ") },
                s.epsilon_micro
                    .map_or("no noise".to_string(), |e| format!("ε {}", micro_to_string(e))),
                p.query_id,
                p.receipt_entry,
                p.receipt_log_size
            ));
        }
        lines
    }

    /// Wide CSV (module docs, "CSV layout").
    pub fn to_csv(&self) -> String {
        let mut header = vec![self.on.clone()];
        if self.has_names {
            header.push(format!("{}_name", self.on));
        }
        for s in &self.sources {
            header.extend([s.query.clone(), format!("{}_suppressed", s.query)]);
        }
        header.extend(["combined".to_string(), "combined_suppressed".to_string()]);
        if let Some(per) = self.rate_per {
            header.extend(["population".to_string(), format!("rate_per_{per}")]);
        }
        if self.ranked {
            header.push("rank".into());
        }
        let mut out = csv_line(&header);
        for row in &self.rows {
            let mut line = vec![row.code.clone()];
            if self.has_names {
                line.push(row.name.clone().unwrap_or_default());
            }
            for value in row.values.iter().copied().chain([row.combined.released()]) {
                line.extend(match value {
                    Some(Released::Count(n)) => [n.to_string(), "false".into()],
                    Some(Released::Suppressed) => [String::new(), "true".into()],
                    None => [String::new(), "false".into()],
                });
            }
            if self.rate_per.is_some() {
                line.push(row.population.map_or_else(String::new, |p| p.to_string()));
                line.push(row.rate.map_or_else(String::new, |r| format!("{r:.2}")));
            }
            if self.ranked {
                line.push(row.rank.map_or_else(String::new, |r| r.to_string()));
            }
            out.push_str(&csv_line(&line));
        }
        out
    }

    /// JSON with every source's provenance.
    pub fn to_json(&self) -> Json {
        let value = |v: Option<Released>| match v {
            Some(v) => {
                json!({ "present": true, "count": v.count(), "suppressed": v.is_suppressed() })
            }
            None => json!({ "present": false, "count": null, "suppressed": false }),
        };
        json!({
            "name": self.name,
            "title": self.title,
            "on": self.on,
            "rate_per": self.rate_per,
            "population_source": self.population_source.as_ref().map(|p| p.display().to_string()),
            "ranked": self.ranked,
            "sources": self.sources.iter().map(|s| json!({
                "query": s.query,
                "node": s.provenance.node,
                "query_id": s.provenance.query_id,
                "receipt": {
                    "entry": s.provenance.receipt_entry,
                    "log_size": s.provenance.receipt_log_size,
                },
                "dataset": s.dataset,
                "metric": s.metric,
                "applied_rules": s.applied_rules,
                "epsilon_micro": s.epsilon_micro,
                "from_margin": s.from_margin,
            })).collect::<Vec<_>>(),
            "rows": self.rows.iter().map(|row| json!({
                "code": row.code,
                "name": row.name,
                "values": self.sources.iter().zip(&row.values)
                    .map(|(s, v)| (s.query.clone(), value(*v)))
                    .collect::<serde_json::Map<_, _>>(),
                "combined": {
                    "count": match row.combined { Combined::Count(n) => Some(n), _ => None },
                    "suppressed": row.combined == Combined::Suppressed,
                    "complete": row.combined != Combined::Incomplete,
                },
                "population": row.population,
                "rate": row.rate,
                "rank": row.rank,
            })).collect::<Vec<_>>(),
        })
    }
}
