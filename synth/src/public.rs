//! The county's public geography and population, written to `OUT/public/`: what real analysts
//! get from ONS and anyone may hold, unlike the agencies' extracts and the truth bundle.
//!
//! - `geography.csv`: one row per LSOA with its ward and local authority and their names, and
//!   the LSOA's residents on the reference date (the stand-in for the ONS LSOA (2021) → Ward →
//!   LAD lookup joined to the ONS mid-year population estimates).
//! - `ward_population.csv`: one row per ward, its residents the sum over its LSOAs.
//! - `README.md`: what the files are.
//!
//! Codes are exactly those the extracts use (police `incident_lsoa`, `ward_code`, `la_code`,
//! ECDS `Der_Postcode_LSOA_Code`, councils' `Ward` and `LSOA` …), so a node can count records
//! by ward from an LSOA and the coordinator can turn counts into rates per 1,000 residents.
//!
//! **Population** is a true count, not an estimate: the people of the true world who, on the
//! [`reference_date`] (the middle day of the period), are alive and living at an address in
//! the LSOA — in private households, care homes and hostel rooms alike, as ONS estimates
//! include communal establishments. People of no fixed abode live at no address and so are in
//! no LSOA's count; people not yet born, already dead, or living at another address that day
//! are counted where they are (or not at all). Each person counts once, at the address
//! [`Population::address_on`](crate::population::Population::address_on) gives.

use std::path::Path;

use crate::date::{Date, Period};
use crate::error::SynthError;
use crate::geography::{COUNCILS, Geography};
use crate::world::World;
use crate::write::{csv_writer, text};

/// The header of `geography.csv`.
pub const GEOGRAPHY_HEADER: [&str; 7] = [
    "lsoa",
    "lsoa_name",
    "ward",
    "ward_name",
    "local_authority",
    "local_authority_name",
    "population",
];

/// The header of `ward_population.csv`.
pub const WARD_POPULATION_HEADER: [&str; 4] =
    ["ward", "ward_name", "local_authority", "population"];

/// The day the population counts refer to: the middle day of the period (2024-09-30 for the
/// default three financial years from April 2023).
pub fn reference_date(period: Period) -> Date {
    period.start.add_days(period.days() / 2)
}

/// Residents of each LSOA (indexed like `Geography::lsoas`) on `on`: people alive that day (not
/// died on or before it) and living at an address in the LSOA.
pub fn lsoa_residents(world: &World, on: Date) -> Vec<u64> {
    let mut counts = vec![0u64; world.geo.lsoas.len()];
    for (id, person) in world.pop.persons.iter().enumerate() {
        if person.death.is_some_and(|d| d <= on) {
            continue;
        }
        let Some(address) = world.pop.address_on(id as u32, on) else { continue };
        let lsoa = world.geo.addresses.get(address as usize).map(|a| a.lsoa as usize);
        if let Some(c) = lsoa.and_then(|l| counts.get_mut(l)) {
            *c += 1;
        }
    }
    counts
}

/// A local authority's name as ONS gives LAD names: the council's name without "Council"
/// ("East Vale Council" → "East Vale").
pub fn local_authority_name(council: u8) -> &'static str {
    let name = COUNCILS.get(usize::from(council)).map_or("", |c| c.name);
    name.strip_suffix(" Council").unwrap_or(name)
}

/// ONS-style LSOA names, indexed like `Geography::lsoas`: the local authority's name, the
/// ward's number within its authority (in code order, three digits, standing in for the MSOA
/// number) and a letter for the LSOA within the ward (A, B, …, Z, AA, AB …), e.g.
/// "East Vale 004B".
pub fn lsoa_names(geo: &Geography) -> Vec<String> {
    // Ward numbers within each council, in code order.
    let mut wards: Vec<usize> = (0..geo.wards.len()).collect();
    wards.sort_by(|&a, &b| geo.wards[a].code.cmp(&geo.wards[b].code));
    let mut ward_number = vec![0usize; geo.wards.len()];
    let mut per_council = vec![0usize; COUNCILS.len()];
    for w in wards {
        if let Some(n) = per_council.get_mut(usize::from(geo.wards[w].council)) {
            *n += 1;
            ward_number[w] = *n;
        }
    }
    // LSOA letters within each ward, in code order.
    let mut lsoas: Vec<usize> = (0..geo.lsoas.len()).collect();
    lsoas.sort_by(|&a, &b| geo.lsoas[a].code.cmp(&geo.lsoas[b].code));
    let mut in_ward = vec![0usize; geo.wards.len()];
    let mut names = vec![String::new(); geo.lsoas.len()];
    for l in lsoas {
        let ward = geo.lsoas[l].ward as usize;
        let Some(k) = in_ward.get_mut(ward) else { continue };
        let council = geo.wards.get(ward).map_or(0, |w| w.council);
        names[l] =
            format!("{} {:03}{}", local_authority_name(council), ward_number[ward], letters(*k));
        *k += 1;
    }
    names
}

/// Bijective base-26 letters: 0 → A, 25 → Z, 26 → AA.
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `geography.csv`, `ward_population.csv` and `README.md` into `dir`; returns the
/// county's residents on the [`reference_date`] (the sum of the `population` column).
pub fn write(world: &World, dir: &Path) -> Result<u64, SynthError> {
    let geo = &world.geo;
    let residents = lsoa_residents(world, reference_date(world.period));
    let names = lsoa_names(geo);
    let csv_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Csv { path: path.clone(), source }
    };

    let path = dir.join("geography.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(GEOGRAPHY_HEADER).map_err(csv_err(&path))?;
    let mut lsoas: Vec<usize> = (0..geo.lsoas.len()).collect();
    lsoas.sort_by(|&a, &b| geo.lsoas[a].code.cmp(&geo.lsoas[b].code));
    let mut ward_population = vec![0u64; geo.wards.len()];
    for l in lsoas {
        let lsoa = &geo.lsoas[l];
        let Some(ward) = geo.wards.get(lsoa.ward as usize) else { continue };
        let Some(council) = COUNCILS.get(usize::from(ward.council)) else { continue };
        let population = residents[l];
        ward_population[lsoa.ward as usize] += population;
        w.write_record([
            lsoa.code.as_str(),
            &names[l],
            &ward.code,
            &ward.name,
            council.la_code,
            local_authority_name(ward.council),
            &population.to_string(),
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;

    let path = dir.join("ward_population.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(WARD_POPULATION_HEADER).map_err(csv_err(&path))?;
    let mut wards: Vec<usize> = (0..geo.wards.len()).collect();
    wards.sort_by(|&a, &b| geo.wards[a].code.cmp(&geo.wards[b].code));
    for i in wards {
        let ward = &geo.wards[i];
        let Some(council) = COUNCILS.get(usize::from(ward.council)) else { continue };
        w.write_record([
            ward.code.as_str(),
            &ward.name,
            council.la_code,
            &ward_population[i].to_string(),
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(|e| SynthError::io(&path, e))?;

    let date = reference_date(world.period).iso();
    text(&dir.join("README.md"), &README.replace("{DATE}", &date))?;
    Ok(ward_population.iter().sum())
}

const README: &str = r#"# Public geography and population

Written by `fedlink synth`. `geography.csv` is a lookup with one row per LSOA of the synthetic
county: `lsoa`, `lsoa_name`, its `ward` and `ward_name`, its `local_authority` and
`local_authority_name`, and `population`, the LSOA's residents on {DATE} (the middle day of
the period). `ward_population.csv` has one row per ward: `ward`, `ward_name`,
`local_authority` and `population`, the sum over the ward's LSOAs. Rows are sorted by code, and
the codes are exactly those the agencies' extracts use (police `incident_lsoa`,
`incident_ward`, `incident_la`, death reports' `ward_code`, ECDS `Der_Postcode_LSOA_Code`,
councils' `Ward` and `LSOA` …), so records that carry only an LSOA can be counted by ward, and
counts turned into rates per 1,000 residents.

These files are public, not personal data: they hold area codes, area names and head counts
only, nothing about any person, and every node and the coordinator may hold them. The
population is a true count from the synthetic world — people alive on that day and living at
an address in the LSOA, in private households, care homes and hostels alike — so people of no
fixed abode are in no LSOA's count.

They stand in for two ONS products real analysts use: the LSOA (2021) to Electoral Ward to
Local Authority District lookup (`LSOA21CD`, `LSOA21NM`, `WD22CD`, `WD22NM`, `LAD22CD`,
`LAD22NM`), and the mid-year population estimates for LSOAs and wards. The codes are synthetic
(E01/E05/E06 codes outside the ranges ONS has issued) and the names invented; LSOA names follow
the ONS pattern of authority name, a three-digit number (here the ward's number within its
authority) and a letter.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_count_like_spreadsheet_columns() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
        assert_eq!(letters(27), "AB");
        assert_eq!(letters(701), "ZZ");
        assert_eq!(letters(702), "AAA");
    }

    #[test]
    fn authority_names_drop_council() {
        assert_eq!(local_authority_name(0), "East Vale");
        assert_eq!(local_authority_name(1), "West Mersey");
    }

    #[test]
    fn the_reference_date_is_the_middle_of_the_period() {
        let period = Period::financial_years(2023, 3);
        assert_eq!(reference_date(period).iso(), "2024-09-30");
    }
}
