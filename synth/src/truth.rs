//! The truth bundle the nodes never read: every person, address and residence as they really
//! are, every record's true subject, and the planted scenarios with their member records.
//! `README` is written next to the files and explains each.

use std::io::Write as _;
use std::path::Path;

use crate::error::SynthError;
use crate::population::flag;
use crate::render::Member;
use crate::world::World;
use crate::write::{csv_writer, text};

/// The record map's header.
pub const RECORD_MAP_HEADER: &str = "node,dataset,record_id,person_id,address_id,event_id\n";

/// Writes person.csv, address.csv and residence.csv.
pub fn world_files(world: &World, dir: &Path) -> Result<(), SynthError> {
    let csv_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Csv { path: path.clone(), source }
    };
    let path = dir.join("person.csv");
    let mut w = csv_writer(&path)?;
    w.write_record([
        "person_id",
        "given_name",
        "middle_name",
        "family_name",
        "birth_family_name",
        "dob",
        "sex",
        "ethnicity",
        "nhs_number",
        "previous_nhs_number",
        "household_id",
        "risk_tier",
        "nfa",
        "care_home_resident",
        "hostel_resident",
        "care_staff",
        "death_date",
    ])
    .map_err(csv_err(&path))?;
    let names = &world.names;
    for (i, p) in world.pop.persons.iter().enumerate() {
        let yn = |f: u8| if p.has(f) { "Y" } else { "N" };
        w.write_record([
            i.to_string().as_str(),
            names.text(p.given),
            p.middle.map_or("", |m| names.text(m)),
            names.text(p.family),
            names.text(p.birth_family),
            &p.dob.iso(),
            if p.female { "F" } else { "M" },
            p.ethnicity.nhs_code(),
            &p.nhs.map(|n| n.to_string()).unwrap_or_default(),
            &p.old_nhs.map(|n| n.to_string()).unwrap_or_default(),
            &p.household.to_string(),
            &p.risk.to_string(),
            yn(flag::NFA),
            yn(flag::CARE_HOME),
            yn(flag::HOSTEL),
            yn(flag::CARE_STAFF),
            &p.death.map(|d| d.iso()).unwrap_or_default(),
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;

    let path = dir.join("address.csv");
    let mut w = csv_writer(&path)?;
    w.write_record([
        "address_id",
        "uprn",
        "parent_uprn",
        "postcode",
        "lsoa",
        "ward",
        "la",
        "address_type",
        "capacity",
        "address_text",
    ])
    .map_err(csv_err(&path))?;
    let geo = &world.geo;
    for (i, a) in geo.addresses.iter().enumerate() {
        let id = i as u32;
        w.write_record([
            i.to_string().as_str(),
            &a.uprn.to_string(),
            &geo.parent_uprn(id).map(|u| u.to_string()).unwrap_or_default(),
            geo.postcode_of(id),
            geo.lsoa_code_of(id),
            geo.ward_code_of(id),
            geo.la_code_of(id),
            a.kind.label(),
            &a.capacity.to_string(),
            &geo.address_text(id),
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;

    let path = dir.join("residence.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(["person_id", "address_id", "from", "to"]).map_err(csv_err(&path))?;
    for r in &world.pop.residences {
        let death = world.pop.person(r.person).death;
        let to = match (r.to, death) {
            (Some(t), Some(d)) => Some(t.min(d)),
            (None, d) => d,
            (t, None) => t,
        };
        if to.is_some_and(|t| t < r.from) {
            continue;
        }
        w.write_record([
            r.person.to_string().as_str(),
            &r.address.to_string(),
            &r.from.iso(),
            &to.map(|d| d.iso()).unwrap_or_default(),
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))
}

/// Concatenates the record-map parts under one header and removes them.
pub fn record_map(dir: &Path, parts: &[std::path::PathBuf]) -> Result<(), SynthError> {
    let path = dir.join("record_map.csv");
    let file = std::fs::File::create(&path).map_err(|e| SynthError::io(&path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(RECORD_MAP_HEADER.as_bytes()).map_err(|e| SynthError::io(&path, e))?;
    for part in parts {
        let mut f = std::fs::File::open(part).map_err(|e| SynthError::io(part, e))?;
        std::io::copy(&mut f, &mut out).map_err(|e| SynthError::io(&path, e))?;
        std::fs::remove_file(part).map_err(|e| SynthError::io(part, e))?;
    }
    out.flush().map_err(|e| SynthError::io(&path, e))
}

/// Writes scenario.csv and scenario_member.csv; returns member counts per scenario.
pub fn scenarios(
    world: &World,
    dir: &Path,
    members: &mut [Member],
) -> Result<Vec<usize>, SynthError> {
    members.sort();
    let mut counts = vec![0usize; world.scenarios.len()];
    for m in members.iter() {
        if let Some(c) = counts.get_mut(usize::from(m.scenario)) {
            *c += 1;
        }
    }
    let path = dir.join("scenario.csv");
    let mut w = csv_writer(&path)?;
    let err = |source| SynthError::Csv { path: path.clone(), source };
    w.write_record(["scenario_id", "kind", "member_records", "expected_queries", "description"])
        .map_err(err)?;
    for (i, s) in world.scenarios.iter().enumerate() {
        w.write_record([s.id, s.kind, &counts[i].to_string(), s.expected_queries, &s.description])
            .map_err(|source| SynthError::Csv { path: path.clone(), source })?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;
    let path = dir.join("scenario_member.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(["scenario_id", "node", "dataset", "record_id", "role", "person_id"])
        .map_err(|source| SynthError::Csv { path: path.clone(), source })?;
    for m in members.iter() {
        let id = world.scenarios.get(usize::from(m.scenario)).map_or("", |s| s.id);
        w.write_record([
            id,
            m.node,
            m.dataset,
            &m.record_id,
            m.role,
            &m.person.map(|p| p.to_string()).unwrap_or_default(),
        ])
        .map_err(|source| SynthError::Csv { path: path.clone(), source })?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;
    Ok(counts)
}

/// Writes README.md.
pub fn readme(dir: &Path) -> Result<(), SynthError> {
    text(&dir.join("README.md"), README)
}

const README: &str = r#"# Truth bundle (never given to nodes)

Written by `fedlink synth`. The federation's nodes read only their own folders (`police/`,
`icb/`, `council-east/`, `council-west/`); this folder holds the answers, for tests, benchmarks
and for checking what an analysis found. Ids are plain integers: `person_id` and `address_id`
index the files below; `event_id` is one true event (an assault is one event whether the ED,
the police, both or neither recorded it). The county's public geography (LSOA → ward → local
authority lookup) and residents per LSOA and ward are not secret and live apart, in
`../public/`.

| file | one row per | columns |
|---|---|---|
| `person.csv` | person in the county (and planted people) | `person_id`, true `given_name`, `middle_name`, `family_name` (now) and `birth_family_name` (at birth: differs after marriage or adoption), `dob`, `sex` (M/F), `ethnicity` (NHS Ethnic Category A–S, self-described), `nhs_number` (from the 999 test range; assigned to everyone the range can cover, people who appear in any record first), `previous_nhs_number` (re-issued after adoption), `household_id`, latent `risk_tier` 0–3, flags `nfa`, `care_home_resident`, `hostel_resident`, `care_staff`, `death_date` (if they died in the period) |
| `address.csv` | address | `address_id`, 12-digit `uprn`, `parent_uprn` (block or hostel), `postcode`, `lsoa`, `ward`, `la` (synthetic E01/E05/E06 codes), `address_type` (house, flat, block, care_home, hostel, hostel_room, hospital, police_station, school, pub, park, shop, street), `capacity` (beds/rooms), `address_text` |
| `residence.csv` | stretch of living at an address | `person_id`, `address_id`, `from`, `to` (blank = still there at the end, or until death) |
| `record_map.csv` | record in any node's data file | `node`, `dataset`, `record_id`, the true `person_id` the record is about (blank for gazetteer rows), the true `address_id` the record's address fields point at (for death reports: the place of death; blank if none), `event_id` (blank for background ED attendances and their admissions) |
| `scenario.csv` | planted scenario | `scenario_id`, `kind`, `member_records`, `expected_queries` (domain.md §6.2 query ids that should find it), `description` (what was planted and what a correct analysis finds) |
| `scenario_member.csv` | record belonging to a planted scenario | `scenario_id`, `node`, `dataset`, `record_id`, `role` in the scenario, `person_id` |

Everything is synthetic: names are drawn from frequency tables, postcodes are in districts that
do not exist as far as we know, UPRNs come from the block 990 100 000 000 upwards, LSOA, ward
and LA codes are outside the ranges ONS has issued, NHS numbers are only from the test range
999 000 0000–999 999 9999. SNOMED-style ECDS codes other than 276853009 are placeholders (see
the fedlink-synth crate documentation).
"#;
