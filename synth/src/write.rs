//! Files and folders: the output layout (one folder per federation member, `truth/`,
//! `summary.toml`), buffered CSV writers, each dataset's schema file and the node config
//! fragment that lists them.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use fedlink_node::dataset::schema::{ColumnRole, DatasetSchema};

use crate::error::SynthError;

/// Creates `out` (or accepts it if it exists and is empty).
pub fn prepare(out: &Path) -> Result<(), SynthError> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| SynthError::io(out, e))?;
        if entries.next().is_some() {
            return Err(SynthError::OutputNotEmpty(out.to_path_buf()));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| SynthError::io(out, e))
}

/// A buffered CSV writer on a new file.
pub fn csv_writer(path: &Path) -> Result<csv::Writer<BufWriter<File>>, SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    let file = File::create(path).map_err(|e| SynthError::io(path, e))?;
    // Flexible: a deliberately truncated row (`Glitch::Truncated`) is shorter than the header;
    // `DatasetWriter::end` still checks that every row was given one value per column.
    Ok(csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::with_capacity(1 << 20, file)))
}

/// Writes a whole text file.
pub fn text(path: &Path, content: &str) -> Result<(), SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    let mut f = File::create(path).map_err(|e| SynthError::io(path, e))?;
    f.write_all(content.as_bytes()).map_err(|e| SynthError::io(path, e))
}

/// How a row is deliberately damaged, as real exports sometimes are: so that importing the
/// synthetic county shows quarantine at work (domain.md §4: poor-quality records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glitch {
    /// The row's first date column holds a date that does not exist (2023-02-29).
    ImpossibleDate,
    /// The export cut the row short: its last two fields are missing.
    Truncated,
}

/// Whether a record is one of the `rate` share that an export damages, chosen by a hash of its
/// id so that the random streams (and so everything else in the county) stay as they are.
pub fn glitch_for(record_id: &str, rate: f64) -> Option<Glitch> {
    // FNV-1a: stable across platforms and releases, unlike std's hasher.
    let hash = record_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let draw = (hash >> 11) as f64 / (1u64 << 53) as f64;
    if draw >= rate {
        None
    } else if hash & 1 == 0 {
        Some(Glitch::ImpossibleDate)
    } else {
        Some(Glitch::Truncated)
    }
}

/// One dataset being written: its schema file is written first, then the CSV row by row.
pub struct DatasetWriter {
    /// Dataset name.
    pub name: &'static str,
    columns: usize,
    writer: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    /// Rows written so far.
    pub rows: u64,
    fields: usize,
    failed: Option<csv::Error>,
    buf: String,
    /// Position of the first date column (dob, event date or event date-time), if any.
    date_column: Option<usize>,
    /// How the current row is to be damaged, if at all.
    glitch: Option<Glitch>,
}

impl std::fmt::Debug for DatasetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetWriter").field("name", &self.name).field("rows", &self.rows).finish()
    }
}

impl DatasetWriter {
    /// Checks `schema`, writes `NODE/datasets/<name>.toml`, and opens `NODE/data/<name>.csv`
    /// with a header naming every column in schema order.
    pub fn create(
        node_dir: &Path,
        name: &'static str,
        schema: &DatasetSchema,
    ) -> Result<DatasetWriter, SynthError> {
        schema
            .check()
            .map_err(|source| SynthError::Schema { dataset: name.to_string(), source })?;
        let toml = schema
            .to_toml()
            .map_err(|source| SynthError::Schema { dataset: name.to_string(), source })?;
        text(&node_dir.join("datasets").join(format!("{name}.toml")), &toml)?;
        let path = node_dir.join("data").join(format!("{name}.csv"));
        let mut writer = csv_writer(&path)?;
        writer
            .write_record(schema.columns.iter().map(|c| c.name.as_str()))
            .map_err(|source| SynthError::Csv { path: path.clone(), source })?;
        Ok(DatasetWriter {
            name,
            columns: schema.columns.len(),
            writer,
            path,
            rows: 0,
            fields: 0,
            failed: None,
            buf: String::new(),
            date_column: schema.columns.iter().position(|c| {
                matches!(
                    c.role,
                    ColumnRole::Dob | ColumnRole::EventDate | ColumnRole::EventDatetime
                )
            }),
            glitch: None,
        })
    }

    /// Damages the row about to be written (see [`Glitch`]).
    pub fn glitch_next_row(&mut self, glitch: Option<Glitch>) {
        self.glitch = glitch;
    }

    /// The next field of the current row.
    pub fn field(&mut self, value: impl AsRef<[u8]>) {
        let position = self.fields;
        self.fields += 1;
        let written = match self.glitch {
            Some(Glitch::Truncated) if position + 2 >= self.columns => return,
            Some(Glitch::ImpossibleDate) if Some(position) == self.date_column => {
                self.writer.write_field("2023-02-29")
            }
            _ => self.writer.write_field(value),
        };
        if let Err(e) = written {
            self.failed.get_or_insert(e);
        }
    }

    /// A number as the next field.
    pub fn num(&mut self, n: impl std::fmt::Display) {
        use std::fmt::Write as _;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let _ = write!(buf, "{n}");
        self.field(&buf);
        self.buf = buf;
    }

    /// An optional number (blank if None).
    pub fn opt(&mut self, n: Option<impl std::fmt::Display>) {
        match n {
            Some(n) => self.num(n),
            None => self.field(""),
        }
    }

    /// `Y` or `N`.
    pub fn yn(&mut self, b: bool) {
        self.field(if b { "Y" } else { "N" });
    }

    /// Ends the row, checking it has one field per column.
    pub fn end(&mut self) -> Result<(), SynthError> {
        if let Some(source) = self.failed.take() {
            return Err(SynthError::Csv { path: self.path.clone(), source });
        }
        if self.fields != self.columns {
            return Err(SynthError::RowShape {
                dataset: self.name.to_string(),
                expected: self.columns,
                found: self.fields,
            });
        }
        self.fields = 0;
        self.glitch = None;
        self.rows += 1;
        self.writer
            .write_record(None::<&[u8]>)
            .map_err(|source| SynthError::Csv { path: self.path.clone(), source })
    }

    /// Flushes the file; returns the rows written.
    pub fn finish(mut self) -> Result<u64, SynthError> {
        self.writer.flush().map_err(|e| SynthError::io(&self.path, e))?;
        Ok(self.rows)
    }
}

/// Writes `NODE/node-datasets.toml`: one `[[dataset]]` table per dataset, paths relative to
/// the node's folder, to append to the node's `node.toml`.
pub fn node_fragment(node_dir: &Path, datasets: &[&str]) -> Result<(), SynthError> {
    let mut s =
        String::from("# Datasets written by `fedlink synth`: append to this node's node.toml.\n");
    for d in datasets {
        s.push_str(&format!("\n[[dataset]]\nschema = \"datasets/{d}.toml\"\n"));
    }
    text(&node_dir.join("node-datasets.toml"), &s)
}
