//! Builds the population: care-home and hostel residents and people of no fixed abode first,
//! then private households of realistic shapes placed in dwellings (higher risk tiers in more
//! deprived LSOAs), care staff, all deaths in the period, and household moves.

use crate::config::Rates;
use crate::date::{Date, Period};
use crate::geography::Geography;
use crate::names::{NameId, Names, Origin};
use crate::population::{Ethnicity, Household, HouseholdKind, Person, Population, Residence, flag};
use crate::rng::{Picker, Rng, between, chance, index, normal, stream, unit, weighted};

/// Household kinds with their share of private households [assumption, ONS families and
/// households order of magnitude; mean size ≈ 2.3].
const KINDS: [(HouseholdKind, f64); 7] = [
    (HouseholdKind::Single, 0.31),
    (HouseholdKind::Couple, 0.27),
    (HouseholdKind::CoupleKids, 0.18),
    (HouseholdKind::LoneParent, 0.07),
    (HouseholdKind::FamilyAdultKids, 0.08),
    (HouseholdKind::Shared, 0.06),
    (HouseholdKind::Multigenerational, 0.03),
];

/// Builds the population for the period.
pub fn build(
    seed: u64,
    geo: &Geography,
    names: &Names,
    rates: &Rates,
    scale: f64,
    period: Period,
) -> Population {
    let mut b = Builder {
        rng: stream(seed, "population", 0),
        names,
        geo,
        start: period.start,
        pop: Population::default(),
        current: Vec::new(),
        open: Vec::new(),
        tier_shares: rates.risk_tier_shares,
    };
    let target = (rates.population * scale).round() as usize;
    b.institutions(target, rates.nfa_share);
    b.private_households(target);
    b.care_staff();
    b.deaths(seed, rates.deaths * scale, period);
    b.moves(seed, rates.moves_per_household, period);
    b.pop.index();
    b.pop
}

struct Builder<'a> {
    rng: Rng,
    names: &'a Names,
    geo: &'a Geography,
    start: Date,
    pop: Population,
    /// Current address of each household (None = no fixed abode).
    current: Vec<Option<u32>>,
    /// Each person's open residence (index into `pop.residences`).
    open: Vec<Option<usize>>,
    tier_shares: [f64; 4],
}

/// A new member's description.
struct Member {
    age: f64,
    female: bool,
    ethnicity: Ethnicity,
    origin: Origin,
    family: NameId,
}

impl Builder<'_> {
    fn household(&mut self, kind: HouseholdKind, tier: u8) -> u32 {
        let id = self.pop.households.len() as u32;
        self.pop.households.push(Household {
            first: self.pop.persons.len() as u32,
            size: 0,
            tier,
            kind,
        });
        self.current.push(None);
        id
    }

    /// Adds a person to the newest household.
    fn member(&mut self, m: Member, tier: u8) -> u32 {
        let household = (self.pop.households.len() - 1) as u32;
        let days = (m.age * 365.25) as i32 + index(&mut self.rng, 365) as i32;
        let dob = self.start.add_days(-days);
        let given = self.names.forename(&mut self.rng, m.female, dob.year(), m.origin);
        let middle = if chance(&mut self.rng, 0.55) {
            let n = self.names.forename(&mut self.rng, m.female, dob.year() - 30, m.origin);
            (n != given).then_some(n)
        } else {
            None
        };
        let family = self.names.surname_for(&mut self.rng, m.family, m.female, m.origin);
        let mut risk = tier;
        let age = m.age as u32;
        if !m.female && (15..=30).contains(&age) && chance(&mut self.rng, 0.15) {
            risk = (risk + 1).min(3);
        }
        if age >= 70 {
            risk = risk.min(1);
        }
        if age < 18 {
            risk = risk.min(tier);
        }
        self.pop.persons.push(Person {
            given,
            middle,
            family,
            birth_family: family,
            dob,
            female: m.female,
            ethnicity: m.ethnicity,
            household,
            risk,
            flags: 0,
            death: None,
            nhs: None,
            old_nhs: None,
        });
        if let Some(h) = self.pop.households.last_mut() {
            h.size += 1;
        }
        (self.pop.persons.len() - 1) as u32
    }

    fn ethnicity(&mut self) -> Ethnicity {
        weighted(&mut self.rng, &Ethnicity::SHARES)
    }

    fn surname(&mut self, origin: Origin) -> NameId {
        self.names.surname(&mut self.rng, origin)
    }

    /// Living at `address` from `moved_in`, and before that somewhere else in the county.
    fn settle(&mut self, household: u32, address: Option<u32>, moved_in: Date) {
        self.current[household as usize] = address;
        let members = self.pop.households[household as usize].members();
        let council = address.map_or(index(&mut self.rng, 2) as u8, |a| self.geo.council_of(a));
        let previous = self.random_dwelling(council);
        let prev_from = moved_in.add_days(-(between(&mut self.rng, 365, 15 * 365) as i32));
        self.open.resize(self.pop.persons.len(), None);
        for p in members {
            let dob = self.pop.persons[p as usize].dob;
            if let Some(a) = address {
                self.open[p as usize] = Some(self.pop.residences.len());
                self.pop.residences.push(Residence {
                    person: p,
                    address: a,
                    from: moved_in.max(dob),
                    to: None,
                });
            }
            if dob < moved_in
                && let Some(prev) = previous
            {
                self.pop.residences.push(Residence {
                    person: p,
                    address: prev,
                    from: prev_from.max(dob),
                    to: Some(moved_in),
                });
            }
        }
    }

    fn random_dwelling(&mut self, council: u8) -> Option<u32> {
        for _ in 0..20 {
            let l = index(&mut self.rng, self.geo.lsoa_dwellings.len());
            if self.geo.lsoa_council(l as u32) != council {
                continue;
            }
            if let Some(&d) = crate::rng::pick(&mut self.rng, &self.geo.lsoa_dwellings[l]) {
                return Some(d);
            }
        }
        None
    }

    fn institutions(&mut self, target: usize, nfa_share: f64) {
        let homes = self.geo.care_homes.clone();
        for home in homes {
            let beds = u32::from(self.geo.address(home).capacity);
            let residents = (f64::from(beds) * (0.82 + 0.14 * unit(&mut self.rng))).round() as u32;
            let h = self.household(HouseholdKind::CareHome, 0);
            for _ in 0..residents {
                let female = chance(&mut self.rng, 0.7);
                let ethnicity = if chance(&mut self.rng, 0.97) {
                    Ethnicity::WhiteBritish
                } else {
                    self.ethnicity()
                };
                let origin = ethnicity.origin(unit(&mut self.rng));
                let family = self.surname(origin);
                let age = (85.0 + 6.0 * normal(&mut self.rng)).clamp(68.0, 103.0);
                let p = self.member(Member { age, female, ethnicity, origin, family }, 0);
                self.pop.persons[p as usize].flags |= flag::CARE_HOME;
            }
            let moved_in = self.start.add_days(-(between(&mut self.rng, 30, 1100) as i32));
            self.settle(h, Some(home), moved_in);
        }
        let hostels = self.geo.hostels.clone();
        for hostel in hostels {
            for room in self.geo.hostel_rooms(hostel) {
                if !chance(&mut self.rng, 0.85) {
                    continue;
                }
                let tier = if chance(&mut self.rng, 0.7) { 3 } else { 2 };
                let h = self.household(HouseholdKind::Hostel, tier);
                let female = chance(&mut self.rng, 0.25);
                let ethnicity = self.ethnicity();
                let origin = ethnicity.origin(unit(&mut self.rng));
                let family = self.surname(origin);
                let age = between(&mut self.rng, 18, 62) as f64;
                let p = self.member(Member { age, female, ethnicity, origin, family }, tier);
                self.pop.persons[p as usize].flags |= flag::HOSTEL;
                let moved_in = self.start.add_days(-(between(&mut self.rng, 20, 700) as i32));
                self.settle(h, Some(room), moved_in);
            }
        }
        let nfa = ((target as f64) * nfa_share).round().max(3.0) as usize;
        for _ in 0..nfa {
            let h = self.household(HouseholdKind::NoFixedAbode, 3);
            let female = chance(&mut self.rng, 0.15);
            let ethnicity = self.ethnicity();
            let origin = ethnicity.origin(unit(&mut self.rng));
            let family = self.surname(origin);
            let age = between(&mut self.rng, 19, 58) as f64;
            let p = self.member(Member { age, female, ethnicity, origin, family }, 3);
            self.pop.persons[p as usize].flags |= flag::NFA;
            // Their last settled address ended before the period.
            let left = self.start.add_days(-(between(&mut self.rng, 60, 1000) as i32));
            self.settle(h, None, left);
        }
    }

    fn tier(&mut self, kind: HouseholdKind, young: bool) -> u8 {
        let factor: [f64; 4] = match kind {
            HouseholdKind::LoneParent => [0.8, 1.3, 2.2, 2.5],
            HouseholdKind::Shared => [0.8, 1.2, 1.8, 2.0],
            HouseholdKind::Single if young => [0.8, 1.2, 1.8, 2.5],
            HouseholdKind::Couple if !young => [1.1, 0.8, 0.4, 0.2],
            _ => [1.0, 1.0, 1.0, 1.0],
        };
        let table: Vec<(u8, f64)> =
            (0..4).map(|t| (t as u8, self.tier_shares[t] * factor[t])).collect();
        weighted(&mut self.rng, &table)
    }

    fn private_households(&mut self, target: usize) {
        // Free dwellings per LSOA, in a random order.
        let mut free: Vec<Vec<u32>> = self.geo.lsoa_dwellings.clone();
        for list in &mut free {
            for i in (1..list.len()).rev() {
                let j = index(&mut self.rng, i + 1);
                list.swap(i, j);
            }
        }
        let capacity = Picker::new(free.iter().map(|l| l.len() as f64));
        let initial: Vec<f64> = free.iter().map(|l| l.len().max(1) as f64).collect();
        let vacant_floor = 0.03;
        while self.pop.persons.len() < target {
            let kind = weighted(&mut self.rng, &KINDS);
            let young = chance(&mut self.rng, 0.35);
            let tier = self.tier(kind, young);
            // Place: rejection-sample an LSOA by free dwellings and deprivation affinity.
            let mut chosen = None;
            for attempt in 0..200 {
                let Some(l) = capacity.pick(&mut self.rng) else { break };
                let left = free[l].len() as f64 / initial[l];
                if left <= vacant_floor && attempt < 150 {
                    continue;
                }
                let dep = f64::from(self.geo.lsoas[l].deprivation);
                let affinity = match tier {
                    0 => 0.3 + dep / 10.0,
                    1 => 0.8,
                    _ => (1.3 - dep / 10.0).powi(2),
                };
                if chance(&mut self.rng, affinity.min(1.0) * left.clamp(0.05, 1.0)) {
                    chosen = free[l].pop();
                    if chosen.is_some() {
                        break;
                    }
                }
            }
            let Some(address) = chosen else { break };
            let h = self.household(kind, tier);
            self.fill(kind, young, tier);
            let eldest_adult = self.pop.households[h as usize]
                .members()
                .map(|p| self.pop.persons[p as usize].dob)
                .min()
                .unwrap_or(self.start);
            let earliest = eldest_adult.plus_years(18).max(self.start.add_days(-25 * 365));
            let span = self.start.since(earliest).max(31);
            let moved_in =
                self.start.add_days(-(between(&mut self.rng, 30, i64::from(span)) as i32));
            self.settle(h, Some(address), moved_in);
        }
    }

    /// Creates the members of a household of `kind`.
    fn fill(&mut self, kind: HouseholdKind, young: bool, tier: u8) {
        let ethnicity = self.ethnicity();
        let origin = ethnicity.origin(unit(&mut self.rng));
        let family = self.surname(origin);
        let (parent_eth, parent_origin) = match ethnicity {
            Ethnicity::MixedWhiteBlackCaribbean => (Ethnicity::Caribbean, Origin::Caribbean),
            Ethnicity::MixedWhiteBlackAfrican => (Ethnicity::African, Origin::WestAfrican),
            Ethnicity::MixedWhiteAsian => (Ethnicity::Pakistani, Origin::SouthAsianMuslim),
            e => (e, origin),
        };
        let adult = |b: &mut Self, age: f64, female: bool, fam: NameId| {
            // In mixed households the second adult is of the other heritage.
            let (e, o) = if female { (ethnicity, origin) } else { (parent_eth, parent_origin) };
            let e = if matches!(
                e,
                Ethnicity::MixedWhiteBlackCaribbean
                    | Ethnicity::MixedWhiteBlackAfrican
                    | Ethnicity::MixedWhiteAsian
                    | Ethnicity::MixedOther
            ) {
                Ethnicity::WhiteBritish
            } else {
                e
            };
            b.member(Member { age, female, ethnicity: e, origin: o, family: fam }, tier)
        };
        match kind {
            HouseholdKind::Single => {
                let age = if young {
                    between(&mut self.rng, 18, 34) as f64
                } else if chance(&mut self.rng, 0.45) {
                    between(&mut self.rng, 35, 64) as f64
                } else {
                    between(&mut self.rng, 65, 96) as f64
                };
                let female = chance(&mut self.rng, if age > 64.0 { 0.65 } else { 0.45 });
                adult(self, age, female, family);
            }
            HouseholdKind::Couple
            | HouseholdKind::CoupleKids
            | HouseholdKind::FamilyAdultKids
            | HouseholdKind::Multigenerational => {
                let age = match kind {
                    HouseholdKind::Couple if young => between(&mut self.rng, 20, 39) as f64,
                    HouseholdKind::Couple => between(&mut self.rng, 40, 90) as f64,
                    HouseholdKind::CoupleKids => {
                        (38.0 + 7.0 * normal(&mut self.rng)).clamp(20.0, 60.0)
                    }
                    HouseholdKind::FamilyAdultKids => between(&mut self.rng, 44, 70) as f64,
                    _ => between(&mut self.rng, 28, 50) as f64,
                };
                let same_sex = chance(&mut self.rng, 0.03);
                let married = chance(&mut self.rng, if age > 50.0 { 0.85 } else { 0.6 });
                let man_age = age + 2.0 * normal(&mut self.rng).abs();
                let first_female = same_sex && chance(&mut self.rng, 0.5);
                let man = adult(self, man_age, first_female, family);
                let partner_family = if married { family } else { self.surname(origin) };
                let partner_age = (age + 3.0 * normal(&mut self.rng) - 1.5).max(18.0);
                let woman_female = !same_sex || self.pop.persons[man as usize].female;
                let woman = adult(self, partner_age, woman_female, partner_family);
                if married && woman_female {
                    // She took his name: her birth surname differs.
                    let birth = self.surname(origin);
                    self.pop.persons[woman as usize].birth_family = birth;
                }
                let mother_age = partner_age;
                let kids = match kind {
                    HouseholdKind::CoupleKids => {
                        weighted(&mut self.rng, &[(1, 0.43), (2, 0.40), (3, 0.13), (4, 0.04)])
                    }
                    HouseholdKind::Multigenerational => between(&mut self.rng, 1, 3) as u32,
                    HouseholdKind::FamilyAdultKids => between(&mut self.rng, 1, 2) as u32,
                    _ => 0,
                };
                self.children(
                    kids,
                    mother_age,
                    kind == HouseholdKind::FamilyAdultKids,
                    ethnicity,
                    origin,
                    family,
                    tier,
                );
                if kind == HouseholdKind::Multigenerational {
                    let g = (age + 27.0 + 3.0 * normal(&mut self.rng)).clamp(55.0, 98.0);
                    let female = chance(&mut self.rng, 0.7);
                    adult(self, g, female, family);
                }
            }
            HouseholdKind::LoneParent => {
                let age = (33.0 + 8.0 * normal(&mut self.rng)).clamp(18.0, 58.0);
                let female = chance(&mut self.rng, 0.9);
                adult(self, age, female, family);
                // Children often carry their other parent's surname (domain.md §4 pitfall 5).
                let kid_family =
                    if chance(&mut self.rng, 0.4) { self.surname(origin) } else { family };
                let kids = weighted(&mut self.rng, &[(1, 0.5), (2, 0.35), (3, 0.15)]);
                self.children(kids, age, false, ethnicity, origin, kid_family, tier);
            }
            HouseholdKind::Shared => {
                let n = between(&mut self.rng, 2, 4);
                for _ in 0..n {
                    let e = self.ethnicity();
                    let o = e.origin(unit(&mut self.rng));
                    let fam = self.surname(o);
                    let age = between(&mut self.rng, 19, 42) as f64;
                    let female = chance(&mut self.rng, 0.45);
                    self.member(Member { age, female, ethnicity: e, origin: o, family: fam }, tier);
                }
            }
            HouseholdKind::CareHome | HouseholdKind::Hostel | HouseholdKind::NoFixedAbode => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn children(
        &mut self,
        n: u32,
        mother_age: f64,
        adult: bool,
        ethnicity: Ethnicity,
        origin: Origin,
        family: NameId,
        tier: u8,
    ) {
        let mut previous: Option<f64> = None;
        for _ in 0..n {
            let max =
                if adult { (mother_age - 18.0).min(32.0) } else { (mother_age - 17.0).min(17.9) };
            let min = if adult { 18.0 } else { 0.0 };
            if max < min {
                continue;
            }
            // ~1.5% of births are twins: same date of birth, same surname.
            let age = match previous {
                Some(p) if chance(&mut self.rng, 0.015) => p,
                _ => min + (max - min) * unit(&mut self.rng),
            };
            let female = chance(&mut self.rng, 0.49);
            let before = self.pop.persons.len();
            self.member(Member { age, female, ethnicity, origin, family }, tier);
            // Twins: copy the sibling's exact date of birth.
            if let (Some(p), Some(prev)) = (previous, before.checked_sub(1))
                && (p - age).abs() < f64::EPSILON
            {
                let dob = self.pop.persons[prev].dob;
                self.pop.persons[before].dob = dob;
            }
            previous = Some(age);
        }
    }

    fn care_staff(&mut self) {
        let homes = self.geo.care_homes.clone();
        let n = self.pop.persons.len();
        for home in homes {
            let council = self.geo.council_of(home);
            let want = between(&mut self.rng, 6, 14) as usize;
            let mut staff = Vec::new();
            for _ in 0..want * 200 {
                if staff.len() >= want {
                    break;
                }
                let p = index(&mut self.rng, n) as u32;
                let person = &self.pop.persons[p as usize];
                let age = person.dob.age_on(self.start);
                let female_ok = person.female || chance(&mut self.rng, 0.25);
                let lives = self.current[person.household as usize];
                if (20..=62).contains(&age)
                    && female_ok
                    && person.flags == 0
                    && lives.is_some_and(|a| self.geo.council_of(a) == council)
                {
                    self.pop.persons[p as usize].flags |= flag::CARE_STAFF;
                    staff.push(p);
                }
            }
            self.pop.care_staff.push(staff);
        }
    }

    /// All deaths in the period (~11,500 a year at scale 1): weights from a Gompertz curve,
    /// higher for care-home residents and, below 70, for higher risk tiers.
    fn deaths(&mut self, seed: u64, per_year: f64, period: Period) {
        let mut rng = stream(seed, "deaths", 0);
        let weights: Vec<f64> = self
            .pop
            .persons
            .iter()
            .map(|p| {
                let age = f64::from(p.dob.age_on(period.start));
                let mut q = (0.00005 * (0.09 * age).exp()).min(0.6);
                if p.has(flag::CARE_HOME) {
                    q *= 3.0;
                }
                if age < 70.0 {
                    q *= [1.0, 1.4, 2.5, 5.0][usize::from(p.risk.min(3))];
                }
                if p.has(flag::NFA) || p.has(flag::HOSTEL) {
                    q *= 3.0;
                }
                q
            })
            .collect();
        let picker = Picker::new(weights);
        for y in 0..period.years {
            let count = crate::rng::round_stochastic(
                &mut rng,
                per_year * f64::from(period.year_days(y)) / 365.25,
            );
            for _ in 0..count {
                for _ in 0..20 {
                    let Some(p) = picker.pick(&mut rng) else { break };
                    let person = &mut self.pop.persons[p];
                    if person.death.is_none() {
                        let day = index(&mut rng, period.year_days(y) as usize) as i32;
                        person.death = Some(period.year_start(y).add_days(day));
                        break;
                    }
                }
            }
        }
    }

    /// Household moves during the period, in date order, into dwellings vacant at the time.
    fn moves(&mut self, seed: u64, rate: f64, period: Period) {
        let mut rng = stream(seed, "moves", 0);
        let mut occupied = vec![false; self.geo.addresses.len()];
        for a in self.current.iter().flatten() {
            occupied[*a as usize] = true;
        }
        let mut free: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
        for list in &self.geo.lsoa_dwellings {
            for &d in list {
                if !occupied[d as usize] {
                    free[usize::from(self.geo.council_of(d))].push(d);
                }
            }
        }
        let mut planned: Vec<(Date, u32)> = Vec::new();
        for (h, hh) in self.pop.households.iter().enumerate() {
            let factor = match hh.kind {
                HouseholdKind::Single | HouseholdKind::Shared => 1.8,
                HouseholdKind::LoneParent => 1.4,
                HouseholdKind::Couple | HouseholdKind::CoupleKids => 0.8,
                HouseholdKind::FamilyAdultKids | HouseholdKind::Multigenerational => 0.5,
                _ => 0.0,
            };
            let n = crate::rng::poisson(&mut rng, rate * factor * f64::from(period.years));
            for _ in 0..n {
                let day = index(&mut rng, period.days() as usize) as i32;
                planned.push((period.start.add_days(day), h as u32));
            }
        }
        planned.sort_unstable();
        for (date, h) in planned {
            let Some(old) = self.current[h as usize] else { continue };
            let members: Vec<u32> = self.pop.households[h as usize]
                .members()
                .filter(|&p| self.pop.persons[p as usize].alive_on(date))
                .collect();
            if members.is_empty() {
                continue;
            }
            let council = usize::from(self.geo.council_of(old));
            let target = if chance(&mut rng, 0.8) { council } else { 1 - council };
            if free[target].is_empty() {
                continue;
            }
            let i = index(&mut rng, free[target].len());
            let new = free[target].swap_remove(i);
            free[council].push(old);
            self.current[h as usize] = Some(new);
            for p in members {
                if let Some(r) = self.open[p as usize].and_then(|i| self.pop.residences.get_mut(i))
                {
                    r.to = Some(date);
                }
                self.open[p as usize] = Some(self.pop.residences.len());
                self.pop.residences.push(Residence {
                    person: p,
                    address: new,
                    from: date,
                    to: None,
                });
            }
        }
    }
}
