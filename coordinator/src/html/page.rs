//! The page shell: a complete, self-contained HTML document with its title, inline CSS that also
//! prints well, alerts that must be read first, a table of contents and numbered sections. No
//! script, no external stylesheet, font or image: the file is the whole report and can be mailed,
//! archived or printed as it is.

use std::collections::BTreeSet;

use super::markup::Html;

/// The stylesheet, inlined into every page.
const STYLE: &str = include_str!("page.css");

/// One section of a page: a heading, its body and any subsections (shown one level down, and
/// listed in the table of contents).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// The heading; also the section's entry in the table of contents.
    pub heading: String,
    /// An explicit anchor id; when `None` one is derived from the heading.
    pub id: Option<String>,
    /// The section's content, before its subsections.
    pub body: Html,
    /// Subsections, in order.
    pub subsections: Vec<Section>,
}

impl Section {
    /// A section with a heading and a body.
    pub fn new(heading: impl Into<String>, body: Html) -> Self {
        Self { heading: heading.into(), body, ..Self::default() }
    }

    /// The same section with an explicit anchor id (for [`super::section_link`]).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The same section with a subsection appended.
    pub fn with_subsection(mut self, subsection: Section) -> Self {
        self.subsections.push(subsection);
        self
    }
}

/// A whole page. Rendering is a pure function of these fields: the same page gives the same
/// bytes (a generation time, if wanted, goes in the subtitle or footer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The `<title>` and the `<h1>`.
    pub title: String,
    /// A line under the title (period, source, generation time).
    pub subtitle: Option<String>,
    /// Shown between the title and the contents: what must be read first (see
    /// [`super::callout`]).
    pub alerts: Html,
    /// The sections, in order.
    pub sections: Vec<Section>,
    /// A closing line (what produced the page).
    pub footer: Option<String>,
}

impl Page {
    /// A page with a title and nothing else yet.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), ..Self::default() }
    }

    /// The complete document.
    pub fn render(&self) -> String {
        let mut ids = AnchorIds::default();
        let sections: Vec<AnchoredSection<'_>> =
            self.sections.iter().map(|s| AnchoredSection::assign(s, &mut ids)).collect();

        let mut head = Html::void_element("meta", &[("charset", "utf-8")]);
        head.push(Html::void_element(
            "meta",
            &[("name", "viewport"), ("content", "width=device-width, initial-scale=1")],
        ));
        head.push(Html::element("title", &[], Html::text(&self.title)));
        head.push(Html::from_trusted(format!("<style>{STYLE}</style>")));

        let mut header = Html::element("h1", &[], Html::text(&self.title));
        if let Some(subtitle) = &self.subtitle {
            header.push(Html::element("p", &[("class", "subtitle")], Html::text(subtitle)));
        }
        let mut body = Html::element("header", &[], header);
        body.push(self.alerts.clone());
        if !sections.is_empty() {
            body.push(contents(&sections));
        }
        let main: Html = sections.iter().map(|s| s.render(2)).collect();
        body.push(Html::element("main", &[], main));
        if let Some(footer) = &self.footer {
            body.push(Html::element("footer", &[], Html::text(footer)));
        }

        let mut html = Html::element("head", &[], head);
        html.push(Html::element("body", &[], body));
        let document = Html::element("html", &[("lang", "en-GB")], html);
        format!("<!DOCTYPE html>\n{}\n", document.as_str())
    }
}

/// A section with its anchor id fixed, so the contents and the headings agree.
struct AnchoredSection<'a> {
    section: &'a Section,
    id: String,
    subsections: Vec<AnchoredSection<'a>>,
}

impl<'a> AnchoredSection<'a> {
    fn assign(section: &'a Section, ids: &mut AnchorIds) -> Self {
        let id = ids.claim(section.id.as_deref().unwrap_or(&section.heading));
        let subsections = section.subsections.iter().map(|s| Self::assign(s, ids)).collect();
        Self { section, id, subsections }
    }

    fn render(&self, level: usize) -> Html {
        let tag = match level {
            2 => "h2",
            3 => "h3",
            4 => "h4",
            5 => "h5",
            _ => "h6",
        };
        let mut content =
            Html::element(tag, &[("id", &self.id)], Html::text(&self.section.heading));
        content.push(self.section.body.clone());
        content.extend(self.subsections.iter().map(|s| s.render(level + 1)));
        Html::element("section", &[], content)
    }
}

/// The table of contents: sections and their subsections (two levels).
fn contents(sections: &[AnchoredSection<'_>]) -> Html {
    fn entries(sections: &[AnchoredSection<'_>], depth: usize) -> Html {
        let items: Html = sections
            .iter()
            .map(|s| {
                let href = format!("#{}", s.id);
                let mut item =
                    Html::element("a", &[("href", &href)], Html::text(&s.section.heading));
                if depth < 2 && !s.subsections.is_empty() {
                    item.push(entries(&s.subsections, depth + 1));
                }
                Html::element("li", &[], item)
            })
            .collect();
        Html::element("ol", &[], items)
    }
    let mut nav = Html::element("h2", &[], Html::text("Contents"));
    nav.push(entries(sections, 1));
    Html::element("nav", &[("class", "toc"), ("aria-label", "Contents")], nav)
}

/// Anchor ids handed out so far; a repeated heading gets `-2`, `-3`, … so links stay unique.
#[derive(Default)]
struct AnchorIds(BTreeSet<String>);

impl AnchorIds {
    fn claim(&mut self, wanted: &str) -> String {
        let base = slug(wanted);
        let mut id = base.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// Lower-case ASCII letters and digits joined by single hyphens; `section` when nothing is left.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "section".to_owned() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::check::{check_well_formed, external_references};
    use crate::html::markup::paragraph;

    fn sample() -> Page {
        let mut page = Page::new("Audit <report> & more");
        page.subtitle = Some("Period \"2025\"".to_owned());
        page.sections.push(
            Section::new("Refusals", paragraph("none"))
                .with_subsection(Section::new("By rule", paragraph("x"))),
        );
        page.sections.push(Section::new("Refusals", paragraph("again")));
        page.footer = Some("fedlink".to_owned());
        page
    }

    #[test]
    fn page_is_well_formed_and_self_contained() {
        let html = sample().render();
        check_well_formed(&html).unwrap();
        assert_eq!(external_references(&html), Vec::<String>::new());
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en-GB\">"));
    }

    #[test]
    fn title_is_escaped_in_head_and_heading() {
        let html = sample().render();
        assert!(html.contains("<title>Audit &lt;report&gt; &amp; more</title>"));
        assert!(html.contains("<h1>Audit &lt;report&gt; &amp; more</h1>"));
    }

    #[test]
    fn contents_link_to_unique_section_ids() {
        let html = sample().render();
        assert!(html.contains(r##"<a href="#refusals">Refusals</a>"##));
        assert!(html.contains(r##"<a href="#by-rule">By rule</a>"##));
        assert!(html.contains(r##"<a href="#refusals-2">Refusals</a>"##));
        assert!(html.contains(r#"<h2 id="refusals">"#));
        assert!(html.contains(r#"<h3 id="by-rule">"#));
        assert!(html.contains(r#"<h2 id="refusals-2">"#));
    }

    #[test]
    fn same_page_renders_the_same_bytes() {
        assert_eq!(sample().render(), sample().render());
    }

    #[test]
    fn style_prints_and_holds_no_markup_breaking_characters() {
        assert!(STYLE.contains("@media print"));
        assert!(!STYLE.contains('<') && !STYLE.contains('&'));
    }

    #[test]
    fn slug_keeps_letters_and_digits() {
        assert_eq!(slug("Budget: per dataset (ε)"), "budget-per-dataset");
        assert_eq!(slug("ε"), "section");
    }
}
