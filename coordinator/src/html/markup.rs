//! [`Html`]: a fragment of markup that is safe by construction. Text enters only escaped
//! ([`Html::text`]); tags and attribute names are the program's own `&'static str`s and
//! attribute values are escaped, so no value from a log or a node can open a tag. The builders
//! here are the small pieces a report is made of: paragraphs, lists, key facts, callouts and
//! headline figures.

use std::fmt::Write as _;

use super::escape::{escape_attr, escape_text};

/// A fragment of well-formed, escaped markup. Build it from text, elements and other fragments;
/// there is deliberately no way to wrap an arbitrary string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// An empty fragment.
    pub fn new() -> Self {
        Self::default()
    }

    /// `text`, escaped.
    pub fn text(text: &str) -> Self {
        Self(escape_text(text))
    }

    /// `<tag attrs…>content</tag>`. Attribute values are escaped; `tag` and the attribute names
    /// are the program's own and must be plain names.
    pub fn element(tag: &'static str, attrs: &[(&'static str, &str)], content: Html) -> Self {
        let mut out = open_tag(tag, attrs, false);
        out.push_str(&content.0);
        let _ = write!(out, "</{tag}>");
        Self(out)
    }

    /// `<tag attrs…/>`: an element without content (`br`, `hr`, an SVG shape).
    pub fn void_element(tag: &'static str, attrs: &[(&'static str, &str)]) -> Self {
        Self(open_tag(tag, attrs, true))
    }

    /// Appends another fragment.
    pub fn push(&mut self, part: Html) {
        self.0.push_str(&part.0);
    }

    /// Appends `text`, escaped.
    pub fn push_text(&mut self, text: &str) {
        self.0.push_str(&escape_text(text));
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The markup, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether the fragment has no markup at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Markup the chart and page writers in this module produced themselves, with every text and
    /// attribute value already escaped.
    pub(super) fn from_trusted(markup: String) -> Self {
        Self(markup)
    }
}

impl FromIterator<Html> for Html {
    fn from_iter<I: IntoIterator<Item = Html>>(parts: I) -> Self {
        let mut out = Html::new();
        out.extend(parts);
        out
    }
}

impl Extend<Html> for Html {
    fn extend<I: IntoIterator<Item = Html>>(&mut self, parts: I) {
        for part in parts {
            self.push(part);
        }
    }
}

fn open_tag(tag: &'static str, attrs: &[(&'static str, &str)], void: bool) -> String {
    debug_assert!(is_plain_name(tag), "tag name {tag:?}");
    let mut out = format!("<{tag}");
    for (name, value) in attrs {
        debug_assert!(is_plain_name(name), "attribute name {name:?}");
        let _ = write!(out, " {name}=\"{}\"", escape_attr(value));
    }
    out.push_str(if void { "/>" } else { ">" });
    out
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
}

/// A paragraph of text.
pub fn paragraph(text: &str) -> Html {
    Html::element("p", &[], Html::text(text))
}

/// A paragraph of small, muted text: a footnote to a table or chart.
pub fn note(text: &str) -> Html {
    Html::element("p", &[("class", "note")], Html::text(text))
}

/// A heading inside a section's body (the page's own headings are `h1`–`h3`).
pub fn subheading(text: &str) -> Html {
    Html::element("h4", &[], Html::text(text))
}

/// Inline code: an identifier, hash or file name.
pub fn code(text: &str) -> Html {
    Html::element("code", &[], Html::text(text))
}

/// Text kept on one line (a timestamp, a short code in a narrow column).
pub fn nowrap(text: &str) -> Html {
    Html::element("span", &[("class", "nowrap")], Html::text(text))
}

/// A link to a section of the same page (`#id`), so nothing points outside the file.
pub fn section_link(section_id: &str, text: &str) -> Html {
    let href = format!("#{section_id}");
    Html::element("a", &[("href", &href)], Html::text(text))
}

/// A bulleted list, one item per fragment.
pub fn bullet_list(items: impl IntoIterator<Item = Html>) -> Html {
    let items: Html = items.into_iter().map(|item| Html::element("li", &[], item)).collect();
    Html::element("ul", &[], items)
}

/// A list of labelled facts (`<dl>`): "Log file: …", "Entries: …".
pub fn key_facts<'a>(facts: impl IntoIterator<Item = (&'a str, Html)>) -> Html {
    let mut body = Html::new();
    for (label, value) in facts {
        body.push(Html::element("dt", &[], Html::text(label)));
        body.push(Html::element("dd", &[], value));
    }
    Html::element("dl", &[("class", "facts")], body)
}

/// How serious a callout is; sets its colour and, for [`CalloutKind::Danger`], marks it as an
/// alert for screen readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalloutKind {
    /// Something is wrong and must be read first (red).
    Danger,
    /// Neutral context.
    Info,
    /// A check that passed (green).
    Success,
    /// Something to be aware of (amber).
    Warning,
}

impl CalloutKind {
    fn class(self) -> &'static str {
        match self {
            Self::Danger => "callout danger",
            Self::Info => "callout info",
            Self::Success => "callout success",
            Self::Warning => "callout warning",
        }
    }
}

/// A boxed message with a bold title: a failed verification, a partner down, a caveat.
pub fn callout(kind: CalloutKind, title: &str, body: Html) -> Html {
    let mut inner = Html::element("p", &[("class", "callout-title")], Html::text(title));
    inner.push(body);
    let attrs: &[(&'static str, &str)] = match kind {
        CalloutKind::Danger => &[("class", kind.class()), ("role", "alert")],
        _ => &[("class", kind.class())],
    };
    Html::element("div", attrs, inner)
}

/// One headline figure: a big value over a short label.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    /// What the figure counts ("queries answered").
    pub label: String,
    /// The figure as shown ("1,204", "suppressed").
    pub value: String,
    /// An optional line under the label ("3 refused").
    pub detail: Option<String>,
}

impl Stat {
    /// A figure with no detail line.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into(), detail: None }
    }

    /// The same figure with a detail line.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A row of headline figures, read at a glance before the tables.
pub fn stat_tiles(stats: &[Stat]) -> Html {
    let tiles: Html = stats
        .iter()
        .map(|stat| {
            let mut tile =
                Html::element("div", &[("class", "stat-value")], Html::text(&stat.value));
            tile.push(Html::element("div", &[("class", "stat-label")], Html::text(&stat.label)));
            if let Some(detail) = &stat.detail {
                tile.push(Html::element("div", &[("class", "stat-detail")], Html::text(detail)));
            }
            Html::element("div", &[("class", "stat")], tile)
        })
        .collect();
    Html::element("div", &[("class", "stats")], tiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_escapes_attribute_values_and_text() {
        let html = Html::element("p", &[("title", r#"a"b'<c>"#)], Html::text("<b>&"));
        assert_eq!(html.as_str(), r#"<p title="a&quot;b&#39;&lt;c&gt;">&lt;b&gt;&amp;</p>"#);
    }

    #[test]
    fn void_element_self_closes() {
        assert_eq!(Html::void_element("br", &[]).as_str(), "<br/>");
    }

    #[test]
    fn danger_callout_is_an_alert() {
        let html = callout(CalloutKind::Danger, "Log fails verification", paragraph("x"));
        assert!(html.as_str().starts_with(r#"<div class="callout danger" role="alert">"#));
        assert!(html.as_str().contains("Log fails verification"));
    }

    #[test]
    fn section_link_stays_inside_the_page() {
        assert_eq!(
            section_link("refusals", "Refusals").as_str(),
            r##"<a href="#refusals">Refusals</a>"##
        );
    }

    #[test]
    fn key_facts_pairs_labels_with_values() {
        let html = key_facts([("Entries", Html::text("12"))]);
        assert_eq!(html.as_str(), r#"<dl class="facts"><dt>Entries</dt><dd>12</dd></dl>"#);
    }
}
