//! Builds the county's geography from the scale: wards and LSOAs per council, streets of houses
//! and blocks of flats in each LSOA with postcodes of ~15 addresses, then care homes, hostels,
//! hospitals, police stations, schools and public places.

use crate::config::Rates;
use crate::geography::{
    Address, AddressKind, BLOCK_SUFFIXES, COUNCILS, Geography, Lsoa, Postcode, SITES, School, Site,
    Street, Ward, street_roots,
};
use crate::names::data;
use crate::rng::{Rng, between, chance, index, pick, stream, unit, weighted};

/// Inward-code unit letters: never C, I, K, M, O or V (domain.md §3.3).
const UNIT_LETTERS: &[u8; 20] = b"ABDEFGHJLNPQRSTUWXYZ";

/// Ward-name endings.
const WARD_ENDINGS: [&str; 11] = [
    "Central", "North", "South", "East", "West", "Park", "Heath", "Green", "Village", "Moor",
    "Rural",
];

/// Saints for hostel names.
const SAINTS: [&str; 8] = ["Anne", "Luke", "Mary", "John", "Paul", "Bede", "Chad", "Werburgh"];

/// Builds the geography for `people` residents.
pub fn build(seed: u64, people: f64, rates: &Rates, scale: f64) -> Geography {
    let mut b = Builder {
        rng: stream(seed, "geography", 0),
        geo: Geography::default(),
        roots: street_roots(),
        suffixes: data::STREET_SUFFIXES
            .split_whitespace()
            .filter_map(|e| e.split_once(':'))
            .map(|(s, w)| (s, w.parse::<f64>().unwrap_or(1.0)))
            .collect(),
        next_uprn: 990_100_000_000,
        next_usrn: 99_000_000,
        district_counters: Vec::new(),
    };
    b.towns_and_districts();
    b.wards_and_lsoas(rates, scale);
    let dwellings = (people / 2.25 * (1.0 + rates.vacancy)).ceil();
    b.dwellings(dwellings, rates.flat_share);
    b.institutions(rates, scale, people);
    b.geo
}

struct Builder {
    rng: Rng,
    geo: Geography,
    roots: Vec<String>,
    suffixes: Vec<(&'static str, f64)>,
    next_uprn: u64,
    next_usrn: u32,
    /// Units used in each district (indexed like towns).
    district_counters: Vec<u32>,
}

impl Builder {
    fn towns_and_districts(&mut self) {
        let towns: Vec<String> =
            data::TOWNS.split_whitespace().map(|t| t.replace('_', " ")).collect();
        let mut t = 0;
        for council in COUNCILS {
            for _ in council.districts {
                self.geo.towns.push(towns.get(t).cloned().unwrap_or_else(|| format!("Town {t}")));
                self.district_counters.push(0);
                t += 1;
            }
        }
    }

    /// The first town index of a council.
    fn town_base(council: usize) -> usize {
        COUNCILS[..council].iter().map(|c| c.districts.len()).sum()
    }

    fn wards_and_lsoas(&mut self, rates: &Rates, scale: f64) {
        let wards = (rates.wards * scale).round().max(4.0) as usize;
        let east = ((wards as f64 * rates.east_share).round() as usize).clamp(2, wards - 2);
        let per_council = [east, wards - east];
        let lsoas = ((rates.lsoas * scale).round() as usize).max(wards * 2);
        let east_lsoas = ((lsoas as f64 * rates.east_share).round() as usize)
            .clamp(per_council[0] * 2, lsoas - per_council[1] * 2);
        let lsoas_per_council = [east_lsoas, lsoas - east_lsoas];
        let mut ward_code = 990_001;
        let mut lsoa_code = 990_001;
        for (c, &n_wards) in per_council.iter().enumerate() {
            let districts = COUNCILS[c].districts.len();
            let first_ward = self.geo.wards.len();
            for w in 0..n_wards {
                let town = (Self::town_base(c) + w % districts) as u32;
                let ending = WARD_ENDINGS[(w / districts) % WARD_ENDINGS.len()];
                let round = w / (districts * WARD_ENDINGS.len());
                let name = if round == 0 {
                    format!("{} {ending}", self.geo.towns[town as usize])
                } else {
                    format!("{} {ending} {}", self.geo.towns[town as usize], round + 1)
                };
                self.geo.wards.push(Ward {
                    code: format!("E05{ward_code:06}"),
                    name,
                    council: c as u8,
                    town,
                });
                ward_code += 1;
            }
            let bases: Vec<i64> = (0..n_wards).map(|_| between(&mut self.rng, 1, 10)).collect();
            for l in 0..lsoas_per_council[c] {
                let w = l % n_wards;
                let deprivation = (bases[w] + between(&mut self.rng, -2, 2)).clamp(1, 10) as u8;
                self.geo.lsoas.push(Lsoa {
                    code: format!("E01{lsoa_code:06}"),
                    ward: (first_ward + w) as u32,
                    deprivation,
                });
                lsoa_code += 1;
            }
        }
        self.geo.lsoa_dwellings = vec![Vec::new(); self.geo.lsoas.len()];
        self.geo.ward_public_places = vec![Vec::new(); self.geo.wards.len()];
    }

    /// A new postcode unit in the district of an LSOA's ward.
    fn postcode(&mut self, lsoa: u32) -> u32 {
        let ward = &self.geo.wards[self.geo.lsoas[lsoa as usize].ward as usize];
        let council = usize::from(ward.council);
        let districts = COUNCILS[council].districts;
        let base = Self::town_base(council);
        // The ward's own district first; when its 4,000 units run out, the council's next.
        let own = ward.town as usize - base;
        let mut d = own;
        for step in 0..districts.len() {
            d = (own + step) % districts.len();
            if self.district_counters[base + d] < 4000 {
                break;
            }
        }
        let n = self.district_counters[base + d];
        self.district_counters[base + d] += 1;
        let district = districts[d];
        // Spread units over sectors so neighbouring units differ in sector and letters. Past
        // 4,000 units in every district (scale > ~1.5) the letters wrap: refused by `check`.
        let unit = n % 4000;
        let sector = unit % 10;
        let letters = unit / 10;
        let a = UNIT_LETTERS[(letters / 20) as usize % 20] as char;
        let b = UNIT_LETTERS[(letters % 20) as usize] as char;
        let text = format!("{district} {sector}{a}{b}");
        self.geo.postcodes.push(Postcode { text, lsoa });
        (self.geo.postcodes.len() - 1) as u32
    }

    fn street(&mut self, lsoa: u32) -> u32 {
        let town = self.geo.wards[self.geo.lsoas[lsoa as usize].ward as usize].town;
        let root = pick(&mut self.rng, &self.roots).cloned().unwrap_or_default();
        let suffix = weighted(&mut self.rng, &self.suffixes);
        self.next_usrn += 1 + index(&mut self.rng, 40) as u32;
        self.geo.streets.push(Street {
            name: format!("{root} {suffix}"),
            town,
            usrn: self.next_usrn,
        });
        (self.geo.streets.len() - 1) as u32
    }

    fn building(&mut self, name: String) -> u32 {
        self.geo.building_names.push(name);
        (self.geo.building_names.len() - 1) as u32
    }

    fn centroid(&mut self, lsoa: u32) -> (u32, u32) {
        // A deterministic LSOA centroid: the council's half of the county, spread by ward.
        let l = &self.geo.lsoas[lsoa as usize];
        let ward = l.ward;
        let council = self.geo.wards[ward as usize].council;
        let h = crate::rng::mix(u64::from(ward) << 20 | u64::from(lsoa));
        let e0 = if council == 0 { 370_000 } else { 330_000 };
        let e = e0 + (h % 30_000) as u32;
        let n = 340_000 + ((h >> 20) % 50_000) as u32;
        let de = between(&mut self.rng, -400, 400);
        let dn = between(&mut self.rng, -400, 400);
        ((i64::from(e) + de) as u32, (i64::from(n) + dn) as u32)
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        kind: AddressKind,
        lsoa: u32,
        postcode: u32,
        street: u32,
        number: u16,
        sub: u16,
        building: u32,
        parent: Option<u32>,
    ) -> u32 {
        self.next_uprn += 1 + index(&mut self.rng, 12) as u64;
        let (easting, northing) = self.centroid(lsoa);
        self.geo.addresses.push(Address {
            uprn: self.next_uprn,
            parent,
            postcode,
            street,
            number,
            sub,
            building,
            kind,
            lsoa,
            capacity: 0,
            easting,
            northing,
        });
        (self.geo.addresses.len() - 1) as u32
    }

    fn dwellings(&mut self, total: f64, flat_share: f64) {
        let n = self.geo.lsoas.len();
        let weights: Vec<f64> = (0..n).map(|_| 0.8 + 0.4 * unit(&mut self.rng)).collect();
        let sum: f64 = weights.iter().sum();
        for (l, w) in weights.iter().enumerate() {
            let l = l as u32;
            let target = (total * w / sum).round() as usize;
            let dep = f64::from(self.geo.lsoas[l as usize].deprivation);
            let p_block = (flat_share * (1.6 - dep / 10.0) / 14.0 * 2.5).clamp(0.01, 0.5);
            let mut made = 0;
            while made < target {
                if chance(&mut self.rng, p_block) {
                    made += self.block(l, (target - made).max(6));
                } else {
                    made += self.houses(l, target - made);
                }
            }
        }
    }

    /// A street of houses (up to `max`), with a new postcode every 8–20 houses.
    fn houses(&mut self, lsoa: u32, max: usize) -> usize {
        let count = (between(&mut self.rng, 8, 45) as usize).min(max);
        let street = self.street(lsoa);
        let mut postcode = self.postcode(lsoa);
        let mut in_unit = 0;
        let unit_size = between(&mut self.rng, 8, 20) as usize;
        for i in 0..count {
            if in_unit == unit_size {
                postcode = self.postcode(lsoa);
                in_unit = 0;
            }
            let id = self.add(
                AddressKind::House,
                lsoa,
                postcode,
                street,
                (i + 1) as u16,
                0,
                u32::MAX,
                None,
            );
            self.geo.lsoa_dwellings[lsoa as usize].push(id);
            in_unit += 1;
        }
        count
    }

    /// A block of flats with a parent UPRN and one postcode.
    fn block(&mut self, lsoa: u32, max: usize) -> usize {
        let count = (between(&mut self.rng, 6, 30) as usize).min(max);
        let street = self.street(lsoa);
        let postcode = self.postcode(lsoa);
        let root = pick(&mut self.rng, &self.roots).cloned().unwrap_or_default();
        let suffix = pick(&mut self.rng, &BLOCK_SUFFIXES).copied().unwrap_or("House");
        let building = self.building(format!("{root} {suffix}"));
        let number = between(&mut self.rng, 1, 120) as u16;
        let parent =
            self.add(AddressKind::Block, lsoa, postcode, street, number, 0, building, None);
        for i in 0..count {
            let id = self.add(
                AddressKind::Flat,
                lsoa,
                postcode,
                street,
                number,
                (i + 1) as u16,
                building,
                Some(parent),
            );
            self.geo.lsoa_dwellings[lsoa as usize].push(id);
        }
        count
    }

    /// An LSOA of a council, preferring deprived ones when `deprived`.
    fn lsoa_in(&mut self, council: u8, deprived: bool) -> u32 {
        let candidates: Vec<u32> = (0..self.geo.lsoas.len() as u32)
            .filter(|&l| self.geo.lsoa_council(l) == council)
            .filter(|&l| !deprived || self.geo.lsoas[l as usize].deprivation <= 4)
            .collect();
        match pick(&mut self.rng, &candidates) {
            Some(&l) => l,
            None => (0..self.geo.lsoas.len() as u32)
                .find(|&l| self.geo.lsoa_council(l) == council)
                .unwrap_or(0),
        }
    }

    /// A named single-UPRN institution with its own postcode.
    fn institution(&mut self, kind: AddressKind, lsoa: u32, name: Option<String>) -> u32 {
        let street = self.street(lsoa);
        let postcode = self.postcode(lsoa);
        let building = match name {
            Some(n) => self.building(n),
            None => u32::MAX,
        };
        let number = if kind == AddressKind::Street { 0 } else { between(&mut self.rng, 1, 200) };
        self.add(kind, lsoa, postcode, street, number as u16, 0, building, None)
    }

    fn root(&mut self) -> String {
        pick(&mut self.rng, &self.roots).cloned().unwrap_or_default()
    }

    fn institutions(&mut self, rates: &Rates, scale: f64, people: f64) {
        let shares = [rates.east_share, 1.0 - rates.east_share];
        // Hospitals first, so their addresses are stable.
        for (code, name, council, dept) in SITES {
            let address = council.map(|c| {
                let l = self.lsoa_in(c, false);
                self.institution(AddressKind::Hospital, l, Some(name.to_string()))
            });
            self.geo.sites.push(Site { code, name, council, department_type: dept, address });
        }
        for (c, share) in shares.iter().enumerate() {
            let c8 = c as u8;
            for i in 0..2 {
                let l = self.lsoa_in(c8, false);
                let town = &self.geo.towns[Self::town_base(c) + i];
                let name = format!("{town} Police Station");
                let id = self.institution(AddressKind::PoliceStation, l, Some(name));
                self.geo.police_stations.push(id);
            }
            let homes = ((rates.care_homes * scale * share).round() as usize).max(3);
            for _ in 0..homes {
                let l = self.lsoa_in(c8, false);
                let kind = weighted(
                    &mut self.rng,
                    &[
                        ("Lodge Care Home", 3.0),
                        ("Manor Nursing Home", 2.0),
                        ("House Residential Home", 2.0),
                        ("Court Care Centre", 1.0),
                    ],
                );
                let name = format!("{} {kind}", self.root());
                let id = self.institution(AddressKind::CareHome, l, Some(name));
                let beds =
                    weighted(&mut self.rng, &[((20, 35), 6.0), ((35, 60), 3.0), ((60, 90), 1.0)]);
                self.geo.addresses[id as usize].capacity =
                    between(&mut self.rng, beds.0, beds.1) as u16;
                self.geo.care_homes.push(id);
            }
            let hostels = ((rates.hostels * scale * share).round() as usize).max(2);
            for h in 0..hostels {
                let l = self.lsoa_in(c8, true);
                let name = if h % 2 == 0 {
                    format!("{} House", self.root())
                } else {
                    format!("St {}'s Hostel", SAINTS[index(&mut self.rng, SAINTS.len())])
                };
                let parent = self.institution(AddressKind::Hostel, l, Some(name));
                let rooms = between(&mut self.rng, 14, 36) as u16;
                self.geo.addresses[parent as usize].capacity = rooms;
                let (postcode, street, number, building) = {
                    let a = &self.geo.addresses[parent as usize];
                    (a.postcode, a.street, a.number, a.building)
                };
                for r in 0..rooms {
                    self.add(
                        AddressKind::HostelRoom,
                        l,
                        postcode,
                        street,
                        number,
                        r + 1,
                        building,
                        Some(parent),
                    );
                }
                self.geo.hostels.push(parent);
            }
            let children = people * share;
            let secondary = ((children * 0.072 / 900.0).round() as usize).max(2);
            let primary = ((children * 0.085 / 250.0).round() as usize).max(3);
            for s in 0..secondary + primary {
                let is_secondary = s < secondary;
                let l = self.lsoa_in(c8, false);
                let kind = if is_secondary { "Academy" } else { "Primary School" };
                let name = format!("{} {kind}", self.root());
                let address = self.institution(AddressKind::School, l, Some(name));
                let n = self.geo.schools.len() as u32;
                let establishment =
                    if is_secondary { 4000 + (s as u16 % 999) } else { 2000 + (s as u16 % 1999) };
                self.geo.schools.push(School {
                    urn: 900_000 + n * 7 + 3,
                    establishment,
                    address,
                    council: c8,
                    secondary: is_secondary,
                });
            }
        }
        let pubs: Vec<String> =
            data::PUBS.split_whitespace().map(|p| p.replace('_', " ")).collect();
        for w in 0..self.geo.wards.len() as u32 {
            let lsoas: Vec<u32> = (0..self.geo.lsoas.len() as u32)
                .filter(|&l| self.geo.lsoas[l as usize].ward == w)
                .collect();
            let places = [
                (AddressKind::Pub, 3),
                (AddressKind::Park, 1),
                (AddressKind::Street, 2),
                (AddressKind::Shop, 1),
            ];
            for (kind, n) in places {
                for _ in 0..n {
                    let l = pick(&mut self.rng, &lsoas).copied().unwrap_or(0);
                    let name = match kind {
                        AddressKind::Pub => Some(format!(
                            "The {}",
                            pick(&mut self.rng, &pubs).cloned().unwrap_or_default()
                        )),
                        AddressKind::Park => Some(format!("{} Park", self.root())),
                        AddressKind::Shop => Some(format!("{} Shopping Precinct", self.root())),
                        _ => None,
                    };
                    let id = self.institution(kind, l, name);
                    self.geo.ward_public_places[w as usize].push(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_county_has_everything_and_valid_codes() {
        let rates = Rates::default();
        let geo = build(3, 11_000.0, &rates, 0.01);
        assert!(geo.wards.len() >= 4);
        assert!(geo.lsoas.len() >= 8);
        let dwellings: usize = geo.lsoa_dwellings.iter().map(Vec::len).sum();
        assert!(dwellings > 4_800, "{dwellings}");
        assert!(geo.care_homes.len() >= 6 && geo.hostels.len() >= 4);
        assert_eq!(geo.sites.len(), 8);
        let mut seen = std::collections::HashSet::new();
        for a in &geo.addresses {
            assert!(seen.insert(a.uprn), "duplicate UPRN");
            assert_eq!(a.uprn.to_string().len(), 12);
        }
        let mut pcs = std::collections::HashSet::new();
        for p in &geo.postcodes {
            assert!(pcs.insert(p.text.clone()), "duplicate postcode {}", p.text);
            let inward = &p.text[p.text.len() - 3..];
            assert!(inward.chars().skip(1).all(|c| !"CIKMOV".contains(c)), "{}", p.text);
        }
        let h = geo.hostels[0];
        assert!(!geo.hostel_rooms(h).is_empty());
        assert!(geo.address_text(geo.hostel_rooms(h)[0]).starts_with("Room 1, "));
    }
}
