//! Escaping text for the two places it goes in a page: between tags and inside a quoted
//! attribute value. Everything that reaches a page from data passes through here (via
//! [`super::Html::text`] or the builders), so a requester's name or a purpose holding `<script>`
//! shows as text and never runs.

/// Escapes `text` for use between tags: `&`, `<` and `>` become entities. Control characters that
/// HTML forbids (all C0 controls except tab, line feed and carriage return) become U+FFFD, so a
/// stray byte in a log field cannot make the page malformed.
pub fn escape_text(text: &str) -> String {
    escape(text, false)
}

/// Escapes `value` for use inside a double- or single-quoted attribute value: as
/// [`escape_text`], and `"` and `'` too.
pub fn escape_attr(value: &str) -> String {
    escape(value, true)
}

fn escape(input: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_characters_but_not_quotes() {
        assert_eq!(escape_text(r#"<>&"'"#), r#"&lt;&gt;&amp;"'"#);
    }

    #[test]
    fn attribute_escapes_quotes_too() {
        assert_eq!(escape_attr(r#"<>&"'"#), "&lt;&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn an_existing_entity_is_escaped_again_not_trusted() {
        assert_eq!(escape_text("&lt;"), "&amp;lt;");
    }

    #[test]
    fn forbidden_controls_are_replaced_and_whitespace_kept() {
        assert_eq!(escape_text("a\u{0}b\u{7}c\td\ne"), "a\u{fffd}b\u{fffd}c\td\ne");
    }

    #[test]
    fn non_ascii_text_passes_through() {
        assert_eq!(escape_text("≤ 10 · Ysbyty Gwynedd"), "≤ 10 · Ysbyty Gwynedd");
    }
}
