//! Reading the links file, the extracts it names and the truth bundle, checking every link
//! names a real record before anything is scored.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use fedlink_node::dataset::schema::{ColumnRole, DatasetSchema};

use super::{EvaluateError, LINKS_HEADER};

/// A left and a right record id.
pub(super) type Link = (String, String);

/// A dataset: `(node, dataset)`.
pub(super) type Key = (String, String);

/// Record id → (NHS number filled in, date of birth filled in), each none when the dataset has
/// no such column.
type Extract = HashMap<String, (Option<bool>, Option<bool>)>;

/// One record of an extract, as the evaluation sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    /// The true person (none for gazetteer rows).
    pub person: Option<u64>,
    /// Whether the NHS number was filled in (none: the dataset has no such column).
    pub nhs: Option<bool>,
    /// Whether the date of birth was filled in (none: the dataset has no such column).
    pub dob: Option<bool>,
}

/// One dataset named in the links file.
#[derive(Debug)]
pub(super) struct Side {
    /// `node/dataset`.
    pub name: String,
    /// Records by record id.
    pub records: HashMap<String, Record>,
}

/// The links file, read and checked.
#[derive(Debug)]
pub(super) struct Loaded {
    /// Each dataset named.
    pub sides: HashMap<Key, Side>,
    /// Each dataset pair, in order of first appearance, with its distinct links.
    pub pairs: Vec<(Key, Key, BTreeSet<Link>)>,
}

/// A CSV reader and its header's column positions.
fn open(
    path: &Path,
    delimiter: u8,
) -> Result<(csv::Reader<File>, HashMap<String, usize>), EvaluateError> {
    let csv_err = |source| EvaluateError::Csv { path: path.to_path_buf(), source };
    let file =
        File::open(path).map_err(|source| EvaluateError::Io { path: path.into(), source })?;
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(file);
    let header = reader.headers().map_err(csv_err)?;
    let index = header.iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
    Ok((reader, index))
}

fn column(index: &HashMap<String, usize>, name: &str, path: &Path) -> Result<usize, EvaluateError> {
    index.get(name).copied().ok_or_else(|| EvaluateError::Truth {
        path: path.into(),
        message: format!("no column {name:?}"),
    })
}

fn field(row: &csv::StringRecord, column: usize) -> &str {
    row.get(column).unwrap_or("").trim()
}

/// Reads the links file and the datasets it names.
pub(super) fn links(county: &Path, path: &Path) -> Result<Loaded, EvaluateError> {
    let (mut reader, _) = open(path, b',')?;
    let header =
        reader.headers().map_err(|source| EvaluateError::Csv { path: path.into(), source })?;
    let found: Vec<&str> = header.iter().map(str::trim).collect();
    if found != LINKS_HEADER {
        return Err(EvaluateError::LinksHeader { path: path.into(), found: found.join(",") });
    }
    let mut rows = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|source| EvaluateError::Csv { path: path.into(), source })?;
        let line = row.position().map_or(0, |p| p.line());
        let f: Vec<String> = (0..6).map(|i| field(&row, i).to_string()).collect();
        rows.push((line, f));
    }
    if rows.is_empty() {
        return Err(EvaluateError::NoLinks(path.into()));
    }
    // Each dataset's extract, loaded once, in order of first mention.
    let mut extracts: HashMap<Key, Extract> = HashMap::new();
    for (line, f) in &rows {
        for key in [(&f[0], &f[1]), (&f[3], &f[4])] {
            let key = (key.0.clone(), key.1.clone());
            if let Entry::Vacant(slot) = extracts.entry(key) {
                let records = extract(county, slot.key(), *line)?;
                slot.insert(records);
            }
        }
    }
    let mut pairs: Vec<(Key, Key, BTreeSet<Link>)> = Vec::new();
    for (line, f) in rows {
        let mut left = (f[0].clone(), f[1].clone());
        let mut right = (f[3].clone(), f[4].clone());
        for (key, id) in [(&left, &f[2]), (&right, &f[5])] {
            if !extracts.get(key).is_some_and(|e| e.contains_key(id)) {
                return Err(EvaluateError::UnknownRecord {
                    line,
                    node: key.0.clone(),
                    dataset: key.1.clone(),
                    record_id: id.clone(),
                });
            }
        }
        if left == right {
            return Err(EvaluateError::SameDataset { line, node: left.0, dataset: left.1 });
        }
        let mut link = (f[2].clone(), f[5].clone());
        if pairs.iter().any(|(l, r, _)| *l == right && *r == left) {
            std::mem::swap(&mut left, &mut right);
            link = (link.1, link.0);
        }
        match pairs.iter_mut().find(|(l, r, _)| *l == left && *r == right) {
            Some((_, _, links)) => {
                links.insert(link);
            }
            None => pairs.push((left, right, BTreeSet::from([link]))),
        }
    }
    let persons = record_persons(county, &extracts.keys().cloned().collect())?;
    let map_path = county.join("truth").join("record_map.csv");
    let mut sides = HashMap::new();
    for (key, ids) in extracts {
        let name = format!("{}/{}", key.0, key.1);
        let truth = persons.get(&key);
        let mut records = HashMap::with_capacity(ids.len());
        for (id, (nhs, dob)) in ids {
            let Some(&person) = truth.and_then(|t| t.get(&id)) else {
                return Err(EvaluateError::Truth {
                    path: map_path,
                    message: format!("record {id:?} of {name} is not in the record map"),
                });
            };
            records.insert(id, Record { person, nhs, dob });
        }
        sides.insert(key, Side { name, records });
    }
    Ok(Loaded { sides, pairs })
}

/// Record id → (NHS number present, date of birth present) for one extract.
fn extract(county: &Path, key: &Key, line: u64) -> Result<Extract, EvaluateError> {
    let (node, dataset) = key;
    let safe = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let schema_path = county.join(node).join("datasets").join(format!("{dataset}.toml"));
    if !safe(node) || !safe(dataset) || !schema_path.is_file() {
        return Err(EvaluateError::UnknownDataset {
            line,
            node: node.clone(),
            dataset: dataset.clone(),
            schema: schema_path,
        });
    }
    let text = std::fs::read_to_string(&schema_path)
        .map_err(|source| EvaluateError::Io { path: schema_path.clone(), source })?;
    let schema = DatasetSchema::from_toml(&text)
        .map_err(|source| EvaluateError::Schema { path: schema_path.clone(), source })?;
    let named =
        |role: ColumnRole| schema.columns.iter().find(|c| c.role == role).map(|c| c.name.as_str());
    let data = county.join(node).join("data").join(format!("{dataset}.csv"));
    let delimiter = u8::try_from(schema.delimiter).unwrap_or(b',');
    let (mut reader, index) = open(&data, delimiter)?;
    let id_col = column(&index, named(ColumnRole::RecordId).unwrap_or("record_id"), &data)?;
    let optional = |role| named(role).map(|n| column(&index, n, &data)).transpose();
    let nhs_col = optional(ColumnRole::NhsNumber)?;
    let dob_col = optional(ColumnRole::Dob)?;
    let mut out = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|source| EvaluateError::Csv { path: data.clone(), source })?;
        let present = |c: Option<usize>| c.map(|c| !field(&row, c).is_empty());
        out.insert(field(&row, id_col).to_string(), (present(nhs_col), present(dob_col)));
    }
    Ok(out)
}

/// Record id → true person for the records of these datasets in `truth/record_map.csv`.
fn record_persons(
    county: &Path,
    keys: &HashSet<Key>,
) -> Result<HashMap<Key, HashMap<String, Option<u64>>>, EvaluateError> {
    let path = county.join("truth").join("record_map.csv");
    let (mut reader, index) = open(&path, b',')?;
    let [node, dataset, record, person] =
        ["node", "dataset", "record_id", "person_id"].map(|c| column(&index, c, &path));
    let (node, dataset, record, person) = (node?, dataset?, record?, person?);
    let mut out: HashMap<Key, HashMap<String, Option<u64>>> = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|source| EvaluateError::Csv { path: path.clone(), source })?;
        let key = (field(&row, node).to_string(), field(&row, dataset).to_string());
        if !keys.contains(&key) {
            continue;
        }
        let p = parse_person(field(&row, person), &path)?;
        out.entry(key).or_default().insert(field(&row, record).to_string(), p);
    }
    Ok(out)
}

fn parse_person(text: &str, path: &Path) -> Result<Option<u64>, EvaluateError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| EvaluateError::Truth {
        path: path.into(),
        message: format!("person_id {text:?} is not a number"),
    })
}

/// Person → the planted scenarios they are a member of (`truth/scenario_member.csv`).
pub(super) fn scenario_persons(county: &Path) -> Result<HashMap<u64, Vec<String>>, EvaluateError> {
    let path = county.join("truth").join("scenario_member.csv");
    let (mut reader, index) = open(&path, b',')?;
    let scenario = column(&index, "scenario_id", &path)?;
    let person = column(&index, "person_id", &path)?;
    let mut out: HashMap<u64, Vec<String>> = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(|source| EvaluateError::Csv { path: path.clone(), source })?;
        if let Some(p) = parse_person(field(&row, person), &path)? {
            let ids = out.entry(p).or_default();
            let id = field(&row, scenario).to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(out)
}
