//! Reading a generated county the way the nodes would: each extract through the node's own
//! import path (schema → import plan → `normalise_record`, without the store), into the
//! [`SourceRow`]s a linked query reads; and, separately, the truth bundle the nodes never see.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use fedlink_node::dataset::plan::ImportPlan;
use fedlink_node::dataset::row::{normalise_record, subject_key};
use fedlink_node::dataset::schema::DatasetSchema;
use fedlink_node::linkage::SourceRow;

use super::EvaluateError;

/// A dataset's rows as a linked query would read them (every row qualifies, no label), and how
/// many rows the import would quarantine. With `drop_nhs`, NHS numbers are removed before the
/// subject hash is taken, as if the extract had no NHS number column.
pub fn read_rows(
    county: &Path,
    node: &str,
    dataset: &str,
    drop_nhs: bool,
) -> Result<(Vec<SourceRow>, usize), EvaluateError> {
    let schema_path = county.join(node).join("datasets").join(format!("{dataset}.toml"));
    let text =
        std::fs::read_to_string(&schema_path).map_err(|e| EvaluateError::io(&schema_path, e))?;
    let schema = DatasetSchema::from_toml(&text)
        .map_err(|e| EvaluateError::County(format!("{}: {e}", schema_path.display())))?;
    let delimiter = u8::try_from(u32::from(schema.delimiter))
        .map_err(|_| EvaluateError::County(format!("{}: delimiter", schema_path.display())))?;
    let data = county.join(node).join("data").join(format!("{dataset}.csv"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_path(&data)
        .map_err(|e| EvaluateError::csv(&data, e))?;
    let mut records = reader.byte_records();
    let header = records
        .next()
        .ok_or_else(|| EvaluateError::County(format!("{}: no header", data.display())))?
        .map_err(|e| EvaluateError::csv(&data, e))?;
    let header: Vec<String> =
        header.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let plan = ImportPlan::new(&schema, &header)
        .map_err(|e| EvaluateError::County(format!("{}: {e}", data.display())))?;
    let (mut rows, mut quarantined) = (Vec::new(), 0);
    for record in records {
        let record = record.map_err(|e| EvaluateError::csv(&data, e))?;
        match normalise_record(&plan, &record) {
            Ok(row) => {
                let mut ids = row.ids;
                if drop_nhs {
                    ids.nhs_number = None;
                    ids.nhs_status = None;
                }
                rows.push(SourceRow {
                    subject: subject_key(&ids, &row.record_id),
                    record_id: row.record_id,
                    ids,
                    event_date: row.event_date,
                    label_value: None,
                });
            }
            Err(_) => quarantined += 1,
        }
    }
    Ok((rows, quarantined))
}

/// What the truth bundle says about the people behind the records.
#[derive(Debug, Default)]
pub struct Truth {
    /// (node, dataset, record id) → person id.
    pub person_of: HashMap<(String, String, String), u32>,
    /// Person id → (age band, sex, no fixed abode).
    pub attributes: HashMap<u32, Attributes>,
    /// Scenario id → (kind, member person ids).
    pub scenarios: BTreeMap<String, (String, Vec<u32>)>,
}

/// A true person's subgroups.
#[derive(Debug, Clone)]
pub struct Attributes {
    /// Age band at the end of the county's period.
    pub age_band: &'static str,
    /// "F" or "M".
    pub sex: String,
    /// Of no fixed abode at some point.
    pub nfa: bool,
}

/// Age bands of the subgroup breakdown.
pub const AGE_BANDS: [&str; 5] = ["0-17", "18-24", "25-44", "45-64", "65+"];

/// Reads `truth/record_map.csv`, `person.csv`, `scenario.csv` and `scenario_member.csv`;
/// ages are taken on `on` (ISO date).
pub fn read_truth(county: &Path, on: (i32, u32, u32)) -> Result<Truth, EvaluateError> {
    let mut truth = Truth::default();
    let dir = county.join("truth");
    let path = dir.join("record_map.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| EvaluateError::csv(&path, e))?;
    for record in reader.records() {
        let r = record.map_err(|e| EvaluateError::csv(&path, e))?;
        if let Some(person) = r.get(3).and_then(|p| p.parse::<u32>().ok()) {
            let field = |i: usize| r.get(i).unwrap_or_default().to_owned();
            truth.person_of.insert((field(0), field(1), field(2)), person);
        }
    }
    let path = dir.join("person.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| EvaluateError::csv(&path, e))?;
    for record in reader.records() {
        let r = record.map_err(|e| EvaluateError::csv(&path, e))?;
        let Some(person) = r.get(0).and_then(|p| p.parse::<u32>().ok()) else { continue };
        let dob = r.get(5).unwrap_or_default();
        let age = age_on(dob, on).unwrap_or(-1);
        let age_band = match age {
            i32::MIN..=17 => AGE_BANDS[0],
            18..=24 => AGE_BANDS[1],
            25..=44 => AGE_BANDS[2],
            45..=64 => AGE_BANDS[3],
            _ => AGE_BANDS[4],
        };
        truth.attributes.insert(
            person,
            Attributes {
                age_band,
                sex: r.get(6).unwrap_or_default().to_owned(),
                nfa: r.get(12) == Some("Y"),
            },
        );
    }
    let path = dir.join("scenario.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| EvaluateError::csv(&path, e))?;
    for record in reader.records() {
        let r = record.map_err(|e| EvaluateError::csv(&path, e))?;
        let id = r.get(0).unwrap_or_default().to_owned();
        truth.scenarios.insert(id, (r.get(1).unwrap_or_default().to_owned(), Vec::new()));
    }
    let path = dir.join("scenario_member.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| EvaluateError::csv(&path, e))?;
    for record in reader.records() {
        let r = record.map_err(|e| EvaluateError::csv(&path, e))?;
        if let (Some(id), Some(person)) = (r.get(0), r.get(5).and_then(|p| p.parse::<u32>().ok()))
            && let Some((_, members)) = truth.scenarios.get_mut(id)
            && !members.contains(&person)
        {
            members.push(person);
        }
    }
    Ok(truth)
}

/// Whole years from an ISO date of birth to `on`.
fn age_on(dob: &str, on: (i32, u32, u32)) -> Option<i32> {
    let mut parts = dob.split('-').map(|p| p.parse::<i32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let (oy, om, od) = (on.0, on.1 as i32, on.2 as i32);
    Some(oy - y - i32::from((om, od) < (m, d)))
}
