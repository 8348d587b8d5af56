//! Names: transliterated to uppercase ASCII tokens, with titles, generational suffixes and
//! punctuation removed, Mc/Mac made consistent, and placeholders ("UNKNOWN", "BABY OF …")
//! recognised as such rather than kept as values (domain.md §3.2; design review F17).
//!
//! The rules, in order, and why:
//!
//! 1. **Transliterate** each non-ASCII character with `deunicode` (É→E, Ø→O, ß→SS, Ł→L, Æ→AE,
//!    ’→'): partners' systems differ in whether they keep accents at all.
//! 2. **Tokenise**: letters are uppercased; apostrophes are dropped so O'BRIEN, O’BRIEN and
//!    OBRIEN agree; every other character (space, hyphen, full stop, digit …) ends a token,
//!    so SMITH-JONES becomes [SMITH, JONES]. Keys use [`Name::joined`] (SMITHJONES), so
//!    "SMITH JONES", "SMITH-JONES" and "O BRIEN"/"O'BRIEN" agree there too.
//! 3. **Titles** (MR, MRS, DR, REV, SIR, LORD …) are removed only as *leading* tokens and never
//!    the last token, so the surname LORD or MAJOR survives. A name made only of titles that
//!    are never names (a forename field of "MR") is a placeholder.
//! 4. **Suffixes** (JR, JNR, SNR, SR, II, III) are removed only as trailing tokens, never the
//!    first.
//! 5. **Placeholders** (see [`placeholder_reason`]) become [`NameField::Placeholder`].
//! 6. **Mc/Mac**: the canonical prefix is MAC. A token beginning MC is rewritten MAC…
//!    (MCDONALD → MACDONALD), and a lone MC or MAC followed by another token is joined to it
//!    (MC DONALD, MAC DONALD → MACDONALD). Tokens already beginning MAC are never touched, so
//!    MACK, MACE, MACHIN and MACKAY stay as they are (MCKAY becomes MACKAY, which is the point).
//!    No English name begins MC other than the Mc patronymics, so the rewrite merges nothing
//!    it should not. The opposite direction (MAC → MC) would turn MACHIN into MCHIN.

use std::fmt;

/// A normalised name: one or more tokens of uppercase A–Z. Made only by [`normalise_name`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    /// Never empty; each token is non-empty uppercase ASCII letters.
    tokens: Vec<String>,
}

/// Debug output never shows the name, only how many tokens it has: a value logged by accident
/// must not put an identifier in a log file. `Display` gives the name on purpose.
impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Name(<{} tokens redacted>)", self.tokens.len())
    }
}

impl Name {
    /// The tokens, in order: "Mary-Jane O'Neill" gives [MARY, JANE, ONEILL].
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The tokens concatenated without separators: SMITH-JONES gives SMITHJONES. Match keys
    /// use this form for surnames, so spacing and hyphenation do not matter.
    pub fn joined(&self) -> String {
        self.tokens.concat()
    }

    /// The first token: the first forename of a forenames field.
    pub fn first(&self) -> &str {
        self.tokens.first().map_or("", String::as_str)
    }
}

impl fmt::Display for Name {
    /// The tokens joined by one space. Normalising this text again gives the same name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
        }
        Ok(())
    }
}

/// A name field after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameField {
    /// A usable name.
    Present(Name),
    /// A value that stands for "no name" ("UNKNOWN", "BABY OF …", "XXX"); the reason says
    /// which kind. It counts as missing: no match key uses it (design review F17).
    Placeholder(&'static str),
    /// Empty or whitespace only.
    Missing,
}

impl NameField {
    /// The name, if present.
    pub fn present(self) -> Option<Name> {
        match self {
            NameField::Present(name) => Some(name),
            NameField::Placeholder(_) | NameField::Missing => None,
        }
    }
}

/// Normalises one raw name field (forenames, surname, or a whole name). See the module
/// documentation for the rules.
pub fn normalise_name(raw: &str) -> NameField {
    let mut tokens = tokenise(raw);
    if tokens.is_empty() {
        return if raw.trim().is_empty() {
            NameField::Missing
        } else {
            NameField::Placeholder("no letters")
        };
    }
    if tokens.iter().all(|t| PURE_TITLES.contains(&t.as_str())) {
        return NameField::Placeholder("a title only");
    }
    let leading_titles = tokens
        .iter()
        .take(tokens.len() - 1)
        .take_while(|t| PURE_TITLES.contains(&t.as_str()) || NAME_TITLES.contains(&t.as_str()))
        .count();
    tokens.drain(..leading_titles);
    while tokens.len() > 1 && tokens.last().is_some_and(|t| SUFFIXES.contains(&t.as_str())) {
        tokens.pop();
    }
    if let Some(reason) = placeholder_reason(&tokens) {
        return NameField::Placeholder(reason);
    }
    NameField::Present(Name { tokens: join_mac(tokens) })
}

/// Splits a police alias column, "FORENAMES SURNAME; FORENAMES SURNAME", into
/// (forenames, surname) pairs. Empty parts are skipped.
///
/// Within a part the last word is the surname, extended leftwards over surname particles
/// (MC, MAC, O, DE, VAN, LE, ST …) as long as a forename word remains: "JOHN MAC DONALD"
/// gives (JOHN, MACDONALD), "ANA DE SOUZA" gives (ANA, DE SOUZA), whose joined form is
/// DESOUZA. A hyphenated surname is one word. A part with a comma is read as
/// "SURNAME, FORENAMES". A single word is a surname.
pub fn split_alias(raw: &str) -> Vec<(NameField, NameField)> {
    raw.split(';').map(str::trim).filter(|part| !part.is_empty()).map(split_one_alias).collect()
}

fn split_one_alias(part: &str) -> (NameField, NameField) {
    if let Some((surname, forenames)) = part.split_once(',') {
        return (normalise_name(forenames), normalise_name(surname));
    }
    let words: Vec<&str> = part.split_whitespace().collect();
    let mut start = words.len().saturating_sub(1);
    while start > 1
        && words.get(start - 1).is_some_and(|w| PARTICLES.iter().any(|p| w.eq_ignore_ascii_case(p)))
    {
        start -= 1;
    }
    let (forenames, surname) = words.split_at(start);
    (normalise_name(&forenames.join(" ")), normalise_name(&surname.join(" ")))
}

/// Why these tokens are a placeholder rather than a name, if they are.
///
/// - whole-name codes: UNKNOWN, UNK, NOT KNOWN, NK, N/K, NFA, ANON, NONE, NULL, N/A, TBC,
///   NOT STATED, NO NAME, REFUSED, WITHHELD, TEST, TEST PATIENT, DUMMY, UNNAMED, PERSON
///   UNKNOWN …;
/// - a leading BABY, INFANT, TWIN, UNKNOWN, UNNAMED, UNIDENTIFIED or TEST ("BABY OF JANE
///   SMITH", "BABY BOY", "TWIN 1", "UNKNOWN MALE"): a name not yet given or not known;
/// - filler: one letter repeated three or more times (XXX, ZZZ, "XX XX"), or XX.
///
/// A lone X is kept: it may be an initial.
///
/// "NA" alone is kept as a name (a Korean surname); "N/A" (two tokens) is a placeholder.
pub fn placeholder_reason(tokens: &[String]) -> Option<&'static str> {
    let first = tokens.first()?.as_str();
    // Compare only against placeholders of the same length: this runs for every name of
    // every imported row.
    let length = tokens.iter().map(String::len).sum::<usize>() + tokens.len() - 1;
    if WHOLE_PLACEHOLDERS
        .iter()
        .filter(|p| p.len() == length)
        .any(|p| p.split(' ').eq(tokens.iter().map(String::as_str)))
    {
        return Some("a code for an unknown name");
    }
    if matches!(first, "BABY" | "INFANT" | "TWIN") {
        return Some("a baby not yet named");
    }
    if matches!(first, "UNKNOWN" | "UNNAMED" | "UNIDENTIFIED" | "TEST") {
        return Some("a code for an unknown name");
    }
    let letters = || tokens.iter().flat_map(|t| t.bytes());
    let count = letters().count();
    let lead = first.bytes().next();
    let one_letter = letters().all(|b| Some(b) == lead);
    if one_letter && (count >= 3 || (count == 2 && first.starts_with('X'))) {
        return Some("filler characters");
    }
    None
}

/// Letters and apostrophes form tokens; anything else separates them. Non-ASCII characters
/// are transliterated first.
fn tokenise(raw: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut feed = |b: u8, current: &mut String| {
        if b.is_ascii_alphabetic() {
            current.push(char::from(b.to_ascii_uppercase()));
        } else if b != b'\'' && b != b'`' && !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    for c in raw.chars() {
        if c.is_ascii() {
            feed(c as u8, &mut current);
        } else {
            let ascii = deunicode::deunicode_char(c).unwrap_or(" ");
            // A transliteration like "Ae" or "ss" is part of the token; one with spaces
            // (CJK syllables) separates.
            for b in ascii.bytes() {
                feed(b, &mut current);
            }
        }
    }
    feed(b' ', &mut current);
    tokens
}

/// Rule 6 of the module docs: MC… → MAC…, and a lone MC/MAC joins the next token.
fn join_mac(tokens: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut pending_prefix = false;
    let count = tokens.len();
    for (i, token) in tokens.into_iter().enumerate() {
        let token = match token.strip_prefix("MC") {
            Some(rest) if !rest.is_empty() => format!("MAC{rest}"),
            _ => token,
        };
        if pending_prefix {
            pending_prefix = false;
            if let Some(prefix) = out.last_mut() {
                prefix.push_str(&token);
                continue;
            }
        }
        if (token == "MC" || token == "MAC") && i + 1 < count {
            pending_prefix = true;
            out.push("MAC".to_owned());
        } else {
            out.push(token);
        }
    }
    out
}

/// Titles that are never names on their own: a field holding only these is a placeholder.
const PURE_TITLES: &[&str] = &[
    "MR", "MRS", "MS", "MISS", "MX", "MSTR", "MISTER", "DR", "PROF", "REV", "REVD", "CLLR", "SGT",
    "CAPT", "CPT", "LT", "HON", "RT",
];

/// Titles that are also surnames or given names (LORD, MAJOR …): removed only when leading
/// and followed by more tokens, otherwise kept.
#[rustfmt::skip]
const NAME_TITLES: &[&str] = &[
    "MASTER", "DOCTOR", "PROFESSOR", "REVEREND", "FR", "FATHER", "SIR", "DAME", "LADY", "LORD",
    "CAPTAIN", "MAJOR", "MAJ",
];

/// Generational suffixes removed from the end.
const SUFFIXES: &[&str] = &["JR", "JNR", "SNR", "SR", "II", "III"];

/// Whole-name placeholder codes, tokens separated by one space.
#[rustfmt::skip]
const WHOLE_PLACEHOLDERS: &[&str] = &[
    "UNK", "UNKN", "NOT KNOWN", "NOTKNOWN", "NK", "N K", "NFA", "N F A", "N A", "ANON",
    "ANONYMOUS", "NONE", "NULL", "NIL", "NO NAME", "NONAME", "NAME UNKNOWN", "NOT GIVEN",
    "NOT STATED", "NOT RECORDED", "NOT PROVIDED", "REFUSED", "WITHHELD", "DECLINED", "TBC", "TBA",
    "DUMMY", "PERSON UNKNOWN", "MALE", "FEMALE", "STILLBIRTH", "STILLBORN", "DECEASED",
];

/// Words that begin a surname in "FORENAMES SURNAME" alias text.
const PARTICLES: &[&str] = &[
    "MC", "MAC", "O", "DE", "DA", "DI", "DU", "DEL", "DELLA", "DER", "DEN", "VAN", "VON", "LE",
    "LA", "ST", "AL", "EL",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(raw: &str) -> Vec<String> {
        match normalise_name(raw) {
            NameField::Present(name) => name.tokens,
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn case_accents_and_punctuation() {
        assert_eq!(tokens("  josé  "), ["JOSE"]);
        assert_eq!(tokens("Zoë Ó Súilleabháin"), ["ZOE", "O", "SUILLEABHAIN"]);
        assert_eq!(tokens("Łukasz Gräßle"), ["LUKASZ", "GRASSLE"]);
        assert_eq!(tokens("Søren"), ["SOREN"]);
        assert_eq!(tokens("O'Brien"), ["OBRIEN"]);
        assert_eq!(tokens("O’Brien"), ["OBRIEN"]);
        assert_eq!(tokens("Smith-Jones"), ["SMITH", "JONES"]);
        assert_eq!(tokens("J. R. R."), ["J", "R", "R"]);
        assert_eq!(normalise_name("O BRIEN").present().unwrap().joined(), "OBRIEN");
    }

    #[test]
    fn titles_and_suffixes() {
        assert_eq!(tokens("Mr John Smith"), ["JOHN", "SMITH"]);
        assert_eq!(tokens("Rev. Dr. Jane"), ["JANE"]);
        assert_eq!(tokens("Lord"), ["LORD"]);
        assert_eq!(tokens("Major"), ["MAJOR"]);
        assert_eq!(tokens("Smith Jnr"), ["SMITH"]);
        assert_eq!(tokens("Jr"), ["JR"]);
        assert_eq!(tokens("John Mr"), ["JOHN", "MR"]);
        assert_eq!(normalise_name("Mr"), NameField::Placeholder("a title only"));
        assert_eq!(normalise_name("MR MRS"), NameField::Placeholder("a title only"));
    }

    #[test]
    fn mc_and_mac() {
        for raw in ["McDonald", "MACDONALD", "Mc Donald", "mac donald", "Mc-Donald"] {
            assert_eq!(tokens(raw), ["MACDONALD"], "{raw}");
        }
        assert_eq!(tokens("McKay"), tokens("Mackay"));
        for keep in ["MACK", "MACE", "MACHIN", "MACON", "MC", "MAC"] {
            assert_eq!(tokens(keep), [keep]);
        }
        assert_eq!(tokens("Mary Mc"), ["MARY", "MC"]);
    }

    #[test]
    fn placeholders() {
        for raw in [
            "UNKNOWN",
            "unk",
            "Not Known",
            "N/K",
            "NK",
            "NFA",
            "anon",
            "?",
            "XXX",
            "xx xxx",
            "Baby",
            "BABY OF JANE SMITH",
            "Baby Boy",
            "Twin 1",
            "TEST",
            "test patient",
            "N/A",
            "123",
            "Unknown Male",
            "Mr Unknown",
            "-",
        ] {
            assert!(matches!(normalise_name(raw), NameField::Placeholder(_)), "{raw}");
        }
        assert_eq!(normalise_name(""), NameField::Missing);
        assert_eq!(normalise_name("   "), NameField::Missing);
        // Real names that look a little like codes.
        for raw in ["Na", "Nk Ali", "Tester", "Babyface", "X", "Xi", "Ex", "Anne"] {
            assert!(matches!(normalise_name(raw), NameField::Present(_)), "{raw}");
        }
    }

    #[test]
    fn name_accessors_and_display() {
        let name = normalise_name("  mary-jane   o'neill ").present().unwrap();
        assert_eq!(name.tokens(), ["MARY", "JANE", "ONEILL"]);
        assert_eq!(name.first(), "MARY");
        assert_eq!(name.joined(), "MARYJANEONEILL");
        assert_eq!(name.to_string(), "MARY JANE ONEILL");
    }

    #[test]
    fn aliases() {
        let got = split_alias("John Smith; JOHN MAC DONALD ;;Ana de Souza; Smith-Jones, Mary; Bob");
        let want = [
            ("JOHN", "SMITH"),
            ("JOHN", "MACDONALD"),
            ("ANA", "DE SOUZA"),
            ("MARY", "SMITH JONES"),
        ];
        assert_eq!(got.len(), 5);
        for ((fore, sur), (want_fore, want_sur)) in got.iter().zip(want) {
            assert_eq!(fore.clone().present().unwrap().to_string(), want_fore);
            assert_eq!(sur.clone().present().unwrap().to_string(), want_sur);
        }
        assert_eq!(got[4].0, NameField::Missing);
        assert_eq!(got[4].1.clone().present().unwrap().to_string(), "BOB");
        assert!(split_alias(" ; ").is_empty());
        let (fore, sur) = &split_alias("Unknown")[0];
        assert_eq!(fore, &NameField::Missing);
        assert!(matches!(sur, NameField::Placeholder(_)));
    }
}
