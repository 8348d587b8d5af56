//! Rows rendered for storage, a batch at a time: every text value of the batch in one buffer,
//! every cell a small enum pointing into it. The reading thread renders (and frees the parsed
//! rows); the writing thread only binds slices to SQLite. This keeps the writer, the import's
//! bottleneck, free of per-row allocation.

use std::fmt::Write as _;
use std::ops::Range;

use csv::ByteRecord;

use crate::dataset::row::{AttributeValue, NormalisedRow, Rejection, SetAside, subject_key};

/// One stored value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// Text: a range of the batch's buffer.
    Text(u32, u32),
}

/// One accepted row of a batch.
#[derive(Debug, Clone)]
pub struct RenderedRow {
    /// Line number in the file.
    pub line: u64,
    /// The record id, as a range of the buffer.
    record_id: (u32, u32),
    /// SHA-256 of the raw fields.
    pub row_hash: [u8; 32],
    /// This row's cells in the batch, in the store's column order after `line`.
    cells: Range<usize>,
    /// The raw record, re-encoded as CSV, as a range of the batch's raw buffer: kept so that a
    /// row refused later (a duplicate id) still goes to quarantine whole.
    raw: Range<usize>,
}

/// A refused row of a batch.
#[derive(Debug, Clone)]
pub struct RefusedRow {
    /// Line number in the file.
    pub line: u64,
    /// Its record id, if readable.
    pub record_id: Option<String>,
    /// Why it was refused.
    pub rejection: Rejection,
    /// The raw record.
    pub raw: Vec<u8>,
}

/// Rows rendered for storage.
#[derive(Debug, Default)]
pub struct RowBatch {
    /// All text values, back to back.
    text: String,
    /// All cells, row after row.
    cells: Vec<Cell>,
    /// The raw records of accepted rows, back to back.
    raw: Vec<u8>,
    /// Accepted rows, in file order.
    pub rows: Vec<RenderedRow>,
    /// Refused rows, in file order.
    pub refused: Vec<RefusedRow>,
    /// Identifiers set aside in this batch, by kind.
    pub set_aside: Vec<(SetAside, u64)>,
}

impl RowBatch {
    /// An empty batch with room for about `rows` rows.
    pub fn with_capacity(rows: usize, cells_per_row: usize) -> Self {
        Self {
            text: String::with_capacity(rows * 160),
            raw: Vec::with_capacity(rows * 200),
            cells: Vec::with_capacity(rows * cells_per_row),
            rows: Vec::with_capacity(rows),
            ..Default::default()
        }
    }

    /// Rows in the batch (accepted and refused).
    pub fn len(&self) -> usize {
        self.rows.len() + self.refused.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A text cell's value.
    pub fn text(&self, start: u32, end: u32) -> &str {
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    /// An accepted row's record id.
    pub fn record_id(&self, row: &RenderedRow) -> &str {
        self.text(row.record_id.0, row.record_id.1)
    }

    /// An accepted row's raw record, as CSV.
    pub fn raw(&self, row: &RenderedRow) -> &[u8] {
        self.raw.get(row.raw.clone()).unwrap_or(&[])
    }

    /// An accepted row's cells.
    pub fn cells(&self, row: &RenderedRow) -> &[Cell] {
        self.cells.get(row.cells.clone()).unwrap_or(&[])
    }

    fn push_text(&mut self, value: impl FnOnce(&mut String)) -> Cell {
        let start = self.text.len();
        value(&mut self.text);
        Cell::Text(offset(start), offset(self.text.len()))
    }

    fn push_opt(&mut self, value: Option<impl std::fmt::Display>) {
        let cell = match value {
            Some(v) => self.push_text(|t| {
                let _ = write!(t, "{v}");
            }),
            None => Cell::Null,
        };
        self.cells.push(cell);
    }

    /// Renders an accepted row. Cell order: the store's fixed columns, then the attributes.
    pub fn push_row(&mut self, line: u64, row: &NormalisedRow, record: &ByteRecord, delimiter: u8) {
        let raw_start = self.raw.len();
        write_raw(&mut self.raw, record, delimiter);
        let raw = raw_start..self.raw.len();
        let first = self.cells.len();
        let start = self.text.len();
        self.text.push_str(&row.record_id);
        let record_id = (offset(start), offset(self.text.len()));
        self.push_opt(row.ids.nhs_number.as_ref().map(|n| n.as_str()));
        self.push_opt(row.ids.nhs_status.map(|s| s.code()));
        self.push_opt(row.ids.forenames.as_ref());
        self.push_opt(row.ids.surname.as_ref());
        // "SURNAME, FORENAMES; …": the comma marks where the surname ends, which
        // `split_alias` then reads back exactly. "FORENAMES SURNAME" would not survive a
        // two-word surname (SMITH JONES) or forename, and linkage rebuilds keys from this text.
        let aliases = (!row.ids.aliases.is_empty()).then(|| {
            self.push_text(|t| {
                for (i, (f, s)) in row.ids.aliases.iter().enumerate() {
                    let _ = write!(t, "{}{s}, {f}", if i > 0 { "; " } else { "" });
                }
            })
        });
        self.cells.push(aliases.unwrap_or(Cell::Null));
        self.push_opt(row.ids.dob);
        self.push_opt(row.ids.sex.map(|s| s.code()));
        self.push_opt(row.ids.postcode.as_ref().map(|p| p.as_str()));
        self.cells.push(int(row.ids.uprn.map(|u| u.value())));
        self.cells.push(int(row.ids.parent_uprn.map(|u| u.value())));
        self.push_opt(row.ids.house_number.as_deref());
        self.push_opt(row.event_date);
        self.push_opt(row.event_time.as_deref());
        self.push_opt(row.subject_role.as_deref());
        let set_aside = (!row.set_aside.is_empty()).then(|| {
            self.push_text(|t| {
                for (i, s) in row.set_aside.iter().enumerate() {
                    let _ = write!(t, "{}{s:?}", if i > 0 { "," } else { "" });
                }
            })
        });
        self.cells.push(set_aside.unwrap_or(Cell::Null));
        self.cells.push(Cell::Int(subject_key(&row.ids, &row.record_id)));
        for value in &row.attributes {
            let cell = match value {
                AttributeValue::Null => Cell::Null,
                AttributeValue::Number(n) => Cell::Real(*n),
                AttributeValue::Text(t) => self.push_text(|buf| buf.push_str(t)),
            };
            self.cells.push(cell);
        }
        for s in &row.set_aside {
            match self.set_aside.iter_mut().find(|(k, _)| k == s) {
                Some((_, n)) => *n += 1,
                None => self.set_aside.push((*s, 1)),
            }
        }
        self.rows.push(RenderedRow {
            line,
            record_id,
            row_hash: row.row_hash,
            cells: first..self.cells.len(),
            raw,
        });
    }
}

/// Appends a record as one CSV line (without the line end), quoting fields that need it, so
/// what quarantine keeps can be pasted back into a file and read as the same record.
pub fn write_raw(out: &mut Vec<u8>, record: &ByteRecord, delimiter: u8) {
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        if field.iter().any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r') {
            out.push(b'"');
            for &b in field {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn int(v: Option<u64>) -> Cell {
    v.and_then(|u| i64::try_from(u).ok()).map_or(Cell::Null, Cell::Int)
}
