//! One `[[section.item]]` of a catalogue: the keys as written, which keys each kind takes,
//! and the check that types an item, naming its section, id and the key at fault.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::{
    AggregateItem, AggregateShape, CatalogueError, Chart, CombineItem, Item, ItemBody, LinkItem,
    id_problem,
};
use crate::report::period::PeriodRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawKind {
    Aggregate,
    Link,
    Combine,
    Note,
    Unavailable,
    LinkageQuality,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawItem {
    id: String,
    kind: RawKind,
    title: Option<String>,
    note: Option<String>,
    chart: Option<Chart>,
    restricted: Option<bool>,
    purpose: Option<String>,
    // aggregate
    node: Option<String>,
    dataset: Option<String>,
    template: Option<String>,
    template_period: Option<String>,
    filter: Option<Vec<String>>,
    group_by: Option<Vec<String>>,
    metric: Option<String>,
    period: Option<String>,
    compare: Option<String>,
    history: Option<u32>,
    keep_at_least: Option<u64>,
    // link
    query: Option<toml::Table>,
    group: Option<String>,
    row: Option<String>,
    // combine
    items: Option<Vec<String>>,
    on: Option<String>,
    rate_per: Option<u64>,
    rank: Option<bool>,
    // note, unavailable
    text: Option<String>,
    reason: Option<String>,
}

impl RawItem {
    /// The keys given, by name, for refusing those a kind does not take.
    fn given(&self) -> Vec<&'static str> {
        let keys: [(&'static str, bool); 23] = [
            ("chart", self.chart.is_some()),
            ("restricted", self.restricted.is_some()),
            ("purpose", self.purpose.is_some()),
            ("node", self.node.is_some()),
            ("dataset", self.dataset.is_some()),
            ("template", self.template.is_some()),
            ("template_period", self.template_period.is_some()),
            ("filter", self.filter.is_some()),
            ("group_by", self.group_by.is_some()),
            ("metric", self.metric.is_some()),
            ("period", self.period.is_some()),
            ("compare", self.compare.is_some()),
            ("history", self.history.is_some()),
            ("keep_at_least", self.keep_at_least.is_some()),
            ("query", self.query.is_some()),
            ("group", self.group.is_some()),
            ("row", self.row.is_some()),
            ("items", self.items.is_some()),
            ("on", self.on.is_some()),
            ("rate_per", self.rate_per.is_some()),
            ("rank", self.rank.is_some()),
            ("text", self.text.is_some()),
            ("reason", self.reason.is_some()),
        ];
        keys.into_iter().filter_map(|(k, given)| given.then_some(k)).collect()
    }
}

/// Keys each kind takes, beyond `id`, `kind`, `title` and `note`.
fn allowed(kind: RawKind) -> &'static [&'static str] {
    match kind {
        RawKind::Aggregate => &[
            "chart",
            "restricted",
            "purpose",
            "node",
            "dataset",
            "template",
            "template_period",
            "filter",
            "group_by",
            "metric",
            "period",
            "compare",
            "history",
            "keep_at_least",
        ],
        RawKind::Link => &["chart", "restricted", "purpose", "query", "group", "row"],
        RawKind::Combine => &["chart", "items", "on", "rate_per", "rank"],
        RawKind::Note => &["text"],
        RawKind::Unavailable => &["reason"],
        RawKind::LinkageQuality => &[],
    }
}

fn kind_name(kind: RawKind) -> &'static str {
    match kind {
        RawKind::Aggregate => "aggregate",
        RawKind::Link => "link",
        RawKind::Combine => "combine",
        RawKind::Note => "note",
        RawKind::Unavailable => "unavailable",
        RawKind::LinkageQuality => "linkage_quality",
    }
}

/// Checks one item and types it.
pub(super) fn item(
    raw: RawItem,
    section: &str,
    path: &Path,
    ids: &mut BTreeSet<String>,
) -> Result<Item, CatalogueError> {
    let place = format!("section {section:?}, item {:?}: ", raw.id);
    let fail = |key: &str, problem: String| CatalogueError::Key {
        path: path.to_path_buf(),
        place: place.clone(),
        key: key.to_string(),
        problem,
    };
    if let Some(p) = id_problem(&raw.id) {
        return Err(fail("id", p));
    }
    if !ids.insert(raw.id.clone()) {
        return Err(fail("id", "a second item with this id".into()));
    }
    let allowed = allowed(raw.kind);
    if let Some(key) = raw.given().into_iter().find(|k| !allowed.contains(k)) {
        return Err(fail(
            key,
            format!("not a key of a {} item (it takes: {})", kind_name(raw.kind), {
                let mut keys = vec!["id", "kind", "title", "note"];
                keys.extend_from_slice(allowed);
                keys.join(", ")
            }),
        ));
    }
    let text = |key: &str, value: Option<String>| -> Result<String, CatalogueError> {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| fail(key, "missing or empty".into()))
    };
    let period = |key: &str, value: Option<&str>| -> Result<PeriodRef, CatalogueError> {
        value.map_or(Ok(PeriodRef::Current), |v| PeriodRef::parse(v).map_err(|e| fail(key, e)))
    };
    let body = match raw.kind {
        RawKind::Aggregate => {
            let node = text("node", raw.node)?;
            let dataset = text("dataset", raw.dataset)?;
            let shape = match raw.template {
                Some(name) => {
                    if let Some(key) = [
                        ("filter", raw.filter.is_some()),
                        ("group_by", raw.group_by.is_some()),
                        ("metric", raw.metric.is_some()),
                        ("period", raw.period.is_some()),
                    ]
                    .into_iter()
                    .find_map(|(k, given)| given.then_some(k))
                    {
                        return Err(fail(
                            key,
                            "a template fixes its own filters, groupings, metric and dates; \
                             template_period says which period"
                                .into(),
                        ));
                    }
                    if name.trim().is_empty() {
                        return Err(fail("template", "empty".into()));
                    }
                    let period = period("template_period", raw.template_period.as_deref())?;
                    if matches!(period, PeriodRef::Pooled(n) if n > 1)
                        || matches!(period, PeriodRef::LookbackMonths(_))
                    {
                        return Err(fail(
                            "template_period",
                            "a template runs for one named period, not a pooled or lookback \
                             range"
                                .into(),
                        ));
                    }
                    AggregateShape::Template { name, period }
                }
                None => {
                    if raw.template_period.is_some() {
                        return Err(fail("template_period", "only for a template".into()));
                    }
                    AggregateShape::Shaped {
                        filter: raw.filter.unwrap_or_default(),
                        group_by: raw.group_by.unwrap_or_default(),
                        metric: raw.metric,
                        period: period("period", raw.period.as_deref())?,
                    }
                }
            };
            let compare = raw
                .compare
                .as_deref()
                .map(|c| PeriodRef::parse(c).map_err(|e| fail("compare", e)))
                .transpose()?;
            let history = raw.history.unwrap_or(0);
            if history > 5 {
                return Err(fail("history", "at most 5 periods back".into()));
            }
            if history > 0 && compare.is_some() {
                return Err(fail("history", "give history or compare, not both".into()));
            }
            let chart = raw.chart.unwrap_or(Chart::None);
            if matches!(chart, Chart::Ranked | Chart::Upset) {
                return Err(fail("chart", "ranked is for combines, upset for overlaps".into()));
            }
            let restricted = raw.restricted.unwrap_or(false);
            if raw.keep_at_least.is_some() && !restricted {
                return Err(fail(
                    "keep_at_least",
                    "only for a restricted screening table (restricted = true)".into(),
                ));
            }
            ItemBody::Aggregate(AggregateItem {
                node,
                purpose: raw.purpose,
                dataset,
                shape,
                compare,
                history,
                chart,
                restricted,
                keep_at_least: raw.keep_at_least,
            })
        }
        RawKind::Link => {
            let query = raw.query.ok_or_else(|| fail("query", "missing".into()))?;
            let kind = query.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
            let restricted = raw.restricted.unwrap_or(false);
            if kind == "flag_back" && !restricted {
                return Err(fail(
                    "restricted",
                    "a flag-back returns person-level flags, which never go into the report \
                     body: set restricted = true (they go to the restricted annex)"
                        .into(),
                ));
            }
            if restricted && kind != "flag_back" {
                return Err(fail(
                    "restricted",
                    "only a flag-back's person-level results go to the restricted annex; a \
                     linked count is protected for the report's body"
                        .into(),
                ));
            }
            if restricted && raw.group.is_some() {
                return Err(fail("group", "a restricted flag-back is not a row of a table".into()));
            }
            if kind == "calibrate" {
                return Err(fail(
                    "query",
                    "a calibration run releases no table; run it with `coordinator link`".into(),
                ));
            }
            let chart = raw.chart.unwrap_or(Chart::None);
            if chart == Chart::Upset && kind != "overlap" {
                return Err(fail("chart", "an UpSet chart is for overlap queries".into()));
            }
            ItemBody::Link(LinkItem {
                query,
                purpose: raw.purpose,
                group: raw.group,
                row: raw.row,
                chart,
                restricted,
            })
        }
        RawKind::Combine => {
            let items = raw.items.unwrap_or_default();
            if items.len() < 2 {
                return Err(fail("items", "name at least two aggregate items to combine".into()));
            }
            if raw.rate_per == Some(0) {
                return Err(fail("rate_per", "must be at least 1".into()));
            }
            ItemBody::Combine(CombineItem {
                items,
                on: text("on", raw.on)?,
                rate_per: raw.rate_per,
                rank: raw.rank.unwrap_or(false),
                chart: raw.chart.unwrap_or(Chart::None),
            })
        }
        RawKind::Note => ItemBody::Note { text: text("text", raw.text)? },
        RawKind::Unavailable => ItemBody::Unavailable { reason: text("reason", raw.reason)? },
        RawKind::LinkageQuality => ItemBody::LinkageQuality,
    };
    if raw.kind != RawKind::Note && raw.kind != RawKind::LinkageQuality && raw.title.is_none() {
        return Err(fail("title", "missing: every table has a heading".into()));
    }
    Ok(Item { id: raw.id, title: raw.title, note: raw.note, body })
}
