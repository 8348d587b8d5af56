//! The text layouts a date or date-time may take, read by hand from the bytes: no regex and
//! no allocation per value, since the importer parses several dates on every row.

/// Why the text has no date shape.
pub(super) enum Shape {
    TwoDigitYear,
    Unrecognised,
}

/// A read position in the trimmed input.
pub(super) struct Cursor<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A run of ASCII digits: its value (saturating) and length.
    fn number(&mut self) -> Option<(u32, usize)> {
        let start = self.pos;
        let mut value = 0u32;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            value = value.saturating_mul(10).saturating_add(u32::from(d - b'0'));
            self.pos += 1;
        }
        (self.pos > start).then_some((value, self.pos - start))
    }

    /// A run of ASCII letters.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or_default()
    }
}

/// Reads year, month and day in one of the accepted layouts.
pub(super) fn date_part(c: &mut Cursor<'_>) -> Result<(u32, u32, u32), Shape> {
    let (first, len) = c.number().ok_or(Shape::Unrecognised)?;
    match len {
        8 => Ok((first / 10_000, first / 100 % 100, first % 100)),
        4 => {
            let sep =
                c.peek().filter(|b| matches!(b, b'-' | b'/' | b'.')).ok_or(Shape::Unrecognised)?;
            c.pos += 1;
            let month = short_number(c)?;
            if !c.eat(sep) {
                return Err(Shape::Unrecognised);
            }
            Ok((first, month, short_number(c)?))
        }
        1 | 2 => {
            let mut word = c.word();
            if matches_ignore_case(word, &["ST", "ND", "RD", "TH"]) {
                word = c.word();
            }
            let month;
            if word.is_empty() {
                let sep = separator(c)?;
                word = c.word();
                if word.is_empty() {
                    month = short_number(c)?;
                    if separator(c)? != sep {
                        return Err(Shape::Unrecognised);
                    }
                } else {
                    month = month_number(word)?;
                    c.eat(b',');
                    separator_or_none(c);
                }
            } else {
                month = month_number(word)?;
                separator_or_none(c);
            }
            match c.number() {
                Some((year, 4)) => Ok((year, month, first)),
                Some((_, 2)) => Err(Shape::TwoDigitYear),
                _ => Err(Shape::Unrecognised),
            }
        }
        _ => Err(Shape::Unrecognised),
    }
}

/// One or two digits.
fn short_number(c: &mut Cursor<'_>) -> Result<u32, Shape> {
    match c.number() {
        Some((value, 1 | 2)) => Ok(value),
        _ => Err(Shape::Unrecognised),
    }
}

/// `-`, `/` or `.` (spaces around allowed), or one or more spaces; returns which.
fn separator(c: &mut Cursor<'_>) -> Result<u8, Shape> {
    let spaces = c.skip_spaces();
    let sep = match c.peek() {
        Some(b @ (b'-' | b'/' | b'.')) => {
            c.pos += 1;
            b
        }
        _ if spaces > 0 => return Ok(b' '),
        _ => return Err(Shape::Unrecognised),
    };
    c.skip_spaces();
    Ok(sep)
}

fn separator_or_none(c: &mut Cursor<'_>) {
    let _ = separator(c);
}

/// JAN, SEPT, MARCH … (a three-letter abbreviation, SEPT, or the full name), case-insensitive.
fn month_number(word: &[u8]) -> Result<u32, Shape> {
    let upper = word.to_ascii_uppercase();
    super::MONTHS
        .iter()
        .position(|full| {
            upper.len() >= 3
                && full.as_bytes().starts_with(&upper)
                && (upper.len() == 3 || upper.len() == full.len() || upper == b"SEPT")
        })
        .map(|index| index as u32 + 1)
        .ok_or(Shape::Unrecognised)
}

fn matches_ignore_case(word: &[u8], options: &[&str]) -> bool {
    options.iter().any(|o| word.eq_ignore_ascii_case(o.as_bytes()))
}

/// After the date: nothing, or `T`/spaces and `H:MM[:SS[.fff]][Z]`.
pub(super) fn time_part(c: &mut Cursor<'_>) -> Result<Option<(u32, u32, u32)>, Shape> {
    if c.peek().is_none() {
        return Ok(None);
    }
    if !c.eat(b'T') && c.skip_spaces() == 0 {
        return Err(Shape::Unrecognised);
    }
    let hour = short_number(c)?;
    let minute = if c.eat(b':') { exactly_two(c)? } else { return Err(Shape::Unrecognised) };
    let second = if c.eat(b':') { exactly_two(c)? } else { 0 };
    if c.eat(b'.') && c.number().is_none() {
        return Err(Shape::Unrecognised);
    }
    c.eat(b'Z');
    c.skip_spaces();
    if c.peek().is_some() {
        return Err(Shape::Unrecognised);
    }
    Ok(Some((hour, minute, second)))
}

fn exactly_two(c: &mut Cursor<'_>) -> Result<u32, Shape> {
    match c.number() {
        Some((value, 2)) => Ok(value),
        _ => Err(Shape::Unrecognised),
    }
}
