//! Checks that a rendered page is what this module promises: well-formed (every tag closed in
//! order, every `&` an entity, no stray `<` or `>` in text or attribute values) and
//! self-contained (nothing fetched from elsewhere). Small enough to run in every test of a page,
//! so a report's tests need no XML parser.

/// Where and why a page is not well-formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed markup at byte {offset}: {problem}")]
pub struct MarkupError {
    /// Byte offset into the page.
    pub offset: usize,
    /// What is wrong there.
    pub problem: String,
}

/// HTML elements that have no end tag even when written without `/>`.
const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"];

/// Elements whose content is raw text, skipped up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style"];

/// Checks that `page` is well-formed: tags nest and close, attribute values are quoted and free
/// of `<`, and text holds no raw `<`, `>` or bare `&`.
pub fn check_well_formed(page: &str) -> Result<(), MarkupError> {
    let bytes = page.as_bytes();
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut i = 0;
    let fail = |offset: usize, problem: String| Err(MarkupError { offset, problem });
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let rest = &page[i..];
                if let Some(comment) = rest.strip_prefix("<!--") {
                    match comment.find("-->") {
                        Some(end) => i += 4 + end + 3,
                        None => return fail(i, "unterminated comment".into()),
                    }
                } else if rest.starts_with("<!") {
                    match rest.find('>') {
                        Some(end) => i += end + 1,
                        None => return fail(i, "unterminated declaration".into()),
                    }
                } else if let Some(closing) = rest.strip_prefix("</") {
                    let Some(end) = closing.find('>') else {
                        return fail(i, "unterminated end tag".into());
                    };
                    let name = closing[..end].trim_end();
                    match open.pop() {
                        Some((expected, _)) if expected == name => {}
                        Some((expected, at)) => {
                            return fail(
                                i,
                                format!("</{name}> closes <{expected}> opened at {at}"),
                            );
                        }
                        None => return fail(i, format!("</{name}> with nothing open")),
                    }
                    i += 2 + end + 1;
                } else {
                    let (name, self_closed, len) = start_tag(page, i)?;
                    i += len;
                    if RAW_TEXT.contains(&name) && !self_closed {
                        let end_tag = format!("</{name}>");
                        match page[i..].find(&end_tag) {
                            Some(end) => i += end + end_tag.len(),
                            None => return fail(i, format!("<{name}> never closed")),
                        }
                    } else if !self_closed && !VOID.contains(&name) {
                        open.push((name, i - len));
                    }
                }
            }
            b'>' => return fail(i, "raw '>' in text".into()),
            b'&' => i += entity(page, i)?,
            _ => i += 1,
        }
    }
    match open.pop() {
        Some((name, at)) => fail(at, format!("<{name}> never closed")),
        None => Ok(()),
    }
}

/// Parses the start tag at `start`: its name, whether it closes itself, and its length.
fn start_tag(page: &str, start: usize) -> Result<(&str, bool, usize), MarkupError> {
    let fail = |offset: usize, problem: String| Err(MarkupError { offset, problem });
    let bytes = page.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() && is_name_byte(bytes[i]) {
        i += 1;
    }
    let name = &page[start + 1..i];
    if name.is_empty() {
        return fail(start, "'<' that opens no tag".into());
    }
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return fail(start, format!("<{name} never ends")),
            Some(b'>') => return Ok((name, false, i + 1 - start)),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => {
                return Ok((name, true, i + 2 - start));
            }
            Some(_) => {}
        }
        let attr_start = i;
        while i < bytes.len() && is_name_byte(bytes[i]) {
            i += 1;
        }
        if i == attr_start {
            return fail(i, format!("unexpected character in <{name}>"));
        }
        if bytes.get(i) != Some(&b'=') {
            continue; // a boolean attribute
        }
        i += 1;
        let Some(&quote) = bytes.get(i).filter(|q| **q == b'"' || **q == b'\'') else {
            return fail(i, format!("unquoted attribute value in <{name}>"));
        };
        i += 1;
        loop {
            match bytes.get(i) {
                None => return fail(attr_start, "unterminated attribute value".into()),
                Some(&b) if b == quote => break,
                Some(b'<') => return fail(i, "raw '<' in attribute value".into()),
                Some(b'&') => i += entity(page, i)?,
                Some(_) => i += 1,
            }
        }
        i += 1;
    }
}

/// The length of the entity at `at` (`&amp;`, `&#39;`, `&#x2264;`), or an error for a bare `&`.
fn entity(page: &str, at: usize) -> Result<usize, MarkupError> {
    let rest = &page[at + 1..];
    let end = rest.find(';').filter(|end| *end <= 10);
    let valid = end.is_some_and(|end| {
        let body = &rest[..end];
        if let Some(hex) = body.strip_prefix("#x") {
            !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
        } else if let Some(decimal) = body.strip_prefix('#') {
            !decimal.is_empty() && decimal.chars().all(|c| c.is_ascii_digit())
        } else {
            !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric())
        }
    });
    match end {
        Some(end) if valid => Ok(end + 2),
        _ => Err(MarkupError { offset: at, problem: "bare '&' (not an entity)".into() }),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'_'
}

/// Everything in `page` that would make a browser fetch or run something from elsewhere:
/// absolute URLs, protocol-relative URLs, `src=` attributes, scripts, stylesheet links, CSS
/// `@import` and `url(`. Each finding is the matched text with a little context. An empty list
/// means the page is self-contained.
pub fn external_references(page: &str) -> Vec<String> {
    const PATTERNS: &[&str] =
        &["http://", "https://", "src=", "<script", "<link", "@import", "url(", "=\"//", "='//"];
    let lower = page.to_ascii_lowercase();
    let mut found = Vec::new();
    for pattern in PATTERNS {
        for (at, _) in lower.match_indices(pattern) {
            let from = floor_char_boundary(page, at.saturating_sub(20));
            let to = floor_char_boundary(page, (at + pattern.len() + 40).min(page.len()));
            found.push(format!("{pattern} at byte {at}: {}", &page[from..to]));
        }
    }
    found
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_markup_passes() {
        let page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>a > b { }</style>\
                    </head><body><p class='x' title=\"a &amp; b\">x &lt; y<br/></p></body></html>";
        check_well_formed(page).unwrap();
    }

    #[test]
    fn misnested_tags_are_found() {
        let err = check_well_formed("<p><b>x</p></b>").unwrap_err();
        assert_eq!(err.offset, 7);
        assert!(err.problem.contains("</p> closes <b>"), "{err}");
    }

    #[test]
    fn unclosed_tag_is_found() {
        let err = check_well_formed("<div><p>x</p>").unwrap_err();
        assert_eq!((err.offset, err.problem.as_str()), (0, "<div> never closed"));
    }

    #[test]
    fn raw_markup_characters_in_text_are_found() {
        assert!(check_well_formed("<p>a < b</p>").is_err());
        assert!(check_well_formed("<p>a > b</p>").is_err());
        assert!(check_well_formed("<p>fish & chips</p>").is_err());
        assert!(check_well_formed("<p title=\"a<b\">x</p>").is_err());
        assert!(check_well_formed("<p title=x>x</p>").is_err());
    }

    #[test]
    fn external_references_are_listed() {
        let page = "<p>see https://example.org</p><img src=\"a.png\"/><script>1</script>";
        let found = external_references(page);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(external_references("<a href=\"#x\">x</a>").is_empty());
    }
}
