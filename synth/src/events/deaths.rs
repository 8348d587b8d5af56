//! Police death reports (~2,400 a year at scale 1, ~21% of deaths; domain.md §7): chosen among
//! the period's deaths with unexpected deaths (younger people, higher risk tiers, people of no
//! fixed abode) far more likely to be reported; each with a suspected mechanism, location, the
//! four-class category and its revisions, post-mortem type, DA history and the people linked to
//! it (finder, next of kin, last seen with …).

use std::collections::HashMap;

use crate::date::{Date, DateTime};
use crate::events::when::{self, Profile};
use crate::events::{Death, Events, Participant};
use crate::population::flag;
use crate::rng::{Picker, Rng, between, chance, index, round_stochastic, stream, weighted};
use crate::world::World;

/// Records a death (for people killed in scenarios or homicides).
pub fn set_death(world: &mut World, person: u32, date: Date) {
    if let Some(p) = world.pop.persons.get_mut(person as usize) {
        p.death = Some(date);
    }
}

/// A random adult in an age range, alive and housed in `council` on `on` (or anywhere if
/// None), not planted and not in `exclude`.
pub fn random_adult(
    world: &World,
    rng: &mut Rng,
    council: Option<u8>,
    ages: (u32, u32),
    on: Date,
    exclude: &[u32],
) -> Option<u32> {
    let n = world.pop.persons.len();
    for _ in 0..80 {
        let id = index(rng, n) as u32;
        let p = world.pop.person(id);
        if p.flags & (flag::PLANTED | flag::CARE_HOME) != 0 || exclude.contains(&id) {
            continue;
        }
        let age = p.dob.age_on(on);
        if age < ages.0 || age > ages.1 || !p.alive_on(on) {
            continue;
        }
        match (world.pop.address_on(id, on), council) {
            (Some(a), Some(c)) if world.geo.council_of(a) == c => return Some(id),
            (Some(_), None) => return Some(id),
            _ => {}
        }
    }
    None
}

/// The people linked to a death: next of kin, finder, reporting person and, for drug deaths
/// and suicides, sometimes the person last seen with them or present.
pub fn roles(
    world: &World,
    rng: &mut Rng,
    deceased: u32,
    on: Date,
    location_type: &str,
    mechanism: &str,
) -> Vec<Participant> {
    let pop = &world.pop;
    let home = pop.address_on(deceased, on.add_days(-1));
    let council = home.map(|a| world.geo.council_of(a));
    let age = world.age(deceased, on);
    let household: Vec<u32> = pop
        .household_of(deceased)
        .members()
        .filter(|&m| {
            m != deceased
                && pop.person(m).alive_on(on)
                && world.age(m, on) >= 16
                && home.is_some()
                && pop.address_on(m, on) == home
                && !pop.person(m).has(flag::CARE_HOME)
        })
        .collect();
    let mut people = Vec::new();
    let nok = match household.first() {
        Some(&m) => Some(m),
        None => {
            let (lo, hi) =
                if age > 45 { (age.saturating_sub(40), age.saturating_sub(18)) } else { (18, 75) };
            random_adult(world, rng, council, (lo.max(18), hi.max(19)), on, &[deceased])
        }
    };
    if let Some(n) = nok
        && chance(rng, 0.9)
    {
        people.push(Participant::new(n, "next_of_kin"));
    }
    if location_type == "care_home" {
        return people;
    }
    let finder = match (location_type, household.first()) {
        ("dwelling_own", Some(&m)) if chance(rng, 0.6) => Some(m),
        ("dwelling_own", _) => nok
            .filter(|_| chance(rng, 0.4))
            .or_else(|| random_adult(world, rng, council, (18, 85), on, &[deceased])),
        _ => random_adult(world, rng, council, (16, 80), on, &[deceased]),
    };
    if let Some(f) = finder {
        people.push(Participant::new(f, "finder"));
        if !chance(rng, 0.6)
            && let Some(r) = random_adult(world, rng, council, (18, 80), on, &[deceased, f])
        {
            people.push(Participant::new(r, "reporting_person"));
        }
    }
    if matches!(mechanism, "drug_related" | "suspected_suicide") && chance(rng, 0.25) {
        let ages = (age.saturating_sub(10).max(16), age + 10);
        if let Some(l) = random_adult(world, rng, council, ages, on, &[deceased]) {
            people.push(Participant::new(l, "last_seen_with"));
        }
    }
    if mechanism == "drug_related" && chance(rng, 0.15) {
        let ages = (age.saturating_sub(10).max(16), age + 10);
        if let Some(l) = random_adult(world, rng, council, ages, on, &[deceased]) {
            people.push(Participant::new(l, "person_present"));
        }
    }
    people
}

/// Category history for a mechanism: the initial category at `found`, and a revision if one
/// falls before the end of the period (the extract date).
pub fn categories(
    rng: &mut Rng,
    mechanism: &str,
    age: u32,
    found: DateTime,
    end: Date,
) -> Vec<(&'static str, DateTime)> {
    let (p_investigate, p_expected) = match mechanism {
        "natural" if age >= 65 => (0.05, 0.35),
        "natural" => (0.12, 0.05),
        "drug_related" => (0.25, 0.0),
        "suspected_suicide" => (0.35, 0.0),
        "unknown" => (0.6, 0.0),
        _ => (0.2, 0.0),
    };
    if chance(rng, p_expected) {
        return vec![("expected", found)];
    }
    if !chance(rng, p_investigate) {
        return vec![("unexpected_not_suspicious", found)];
    }
    let mut history = vec![("unexpected_under_investigation", found)];
    let days = match mechanism {
        "unknown" => between(rng, 20, 240),
        "natural" => between(rng, 3, 40),
        _ => between(rng, 10, 150),
    };
    let resolved = DateTime::new(found.date.add_days(days as i32), 9 * 60 + index(rng, 480) as u32);
    if resolved.date < end && chance(rng, 0.9) {
        history.push(("unexpected_not_suspicious", resolved));
    }
    history
}

/// Chooses the period's police death reports among its deaths.
pub fn generate(world: &mut World, ev: &mut Events) {
    let world = &*world;
    let cfg = &world.config;
    let period = world.period;
    let mut rng = stream(cfg.seed, "death-reports", 0);
    let mut da_first: HashMap<u32, Date> = HashMap::new();
    for d in &ev.da {
        let e = da_first.entry(d.victim.person).or_insert(d.at.date);
        *e = (*e).min(d.at.date);
    }
    let taken: std::collections::HashSet<u32> = ev.deaths.iter().map(|d| d.person.person).collect();
    for y in 0..period.years {
        let frac = f64::from(period.year_days(y)) / 365.25;
        let target = round_stochastic(&mut rng, cfg.rates.police_death_reports * cfg.scale * frac);
        let have = ev.deaths.iter().filter(|d| period.year_of(d.found.date) == Some(y)).count();
        let candidates: Vec<u32> = world
            .pop
            .persons
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                !p.has(flag::PLANTED)
                    && !taken.contains(&(*i as u32))
                    && p.death.is_some_and(|d| period.year_of(d) == Some(y))
            })
            .map(|(i, _)| i as u32)
            .collect();
        let weights: Vec<f64> = candidates
            .iter()
            .map(|&c| {
                let p = world.pop.person(c);
                let age = p.dob.age_on(period.start);
                let mut w = if age < 65 { 4.0 } else { 1.0 };
                if p.risk == 3 {
                    w *= 2.0;
                }
                if p.has(flag::NFA) || p.has(flag::HOSTEL) {
                    w *= 4.0;
                }
                if p.has(flag::CARE_HOME) {
                    w *= 0.25;
                }
                w
            })
            .collect();
        let picker = Picker::new(weights);
        let mut chosen = vec![false; candidates.len()];
        let mut made = have as u64;
        let mut tries = 0;
        while made < target && tries < target * 20 + 100 {
            tries += 1;
            let Some(i) = picker.pick(&mut rng) else { break };
            if chosen[i] {
                continue;
            }
            chosen[i] = true;
            let person = candidates[i];
            let death = report(world, &mut rng, ev.event(), person, &da_first);
            ev.deaths.push(death);
            made += 1;
        }
    }
}

fn report(
    world: &World,
    rng: &mut Rng,
    event: u32,
    person: u32,
    da_first: &HashMap<u32, Date>,
) -> Death {
    let p = world.pop.person(person);
    let date = p.death.unwrap_or(world.period.start);
    let age = p.dob.age_on(date);
    let troubled = p.risk >= 2 || p.has(flag::NFA) || p.has(flag::HOSTEL);
    let mechanism = if age < 40 {
        weighted(
            rng,
            &[
                ("natural", 0.25),
                ("drug_related", if troubled { 0.45 } else { 0.15 }),
                ("suspected_suicide", 0.25),
                ("rtc", 0.10),
                ("fall", 0.02),
                ("drowning", 0.03),
                ("unknown", 0.05),
            ],
        )
    } else if age < 65 {
        weighted(
            rng,
            &[
                ("natural", 0.55),
                ("drug_related", if troubled { 0.30 } else { 0.06 }),
                ("suspected_suicide", 0.15),
                ("rtc", 0.05),
                ("fall", 0.05),
                ("drowning", 0.02),
                ("fire", 0.01),
                ("unknown", 0.05),
            ],
        )
    } else {
        weighted(
            rng,
            &[
                ("natural", 0.85),
                ("fall", 0.08),
                ("suspected_suicide", 0.02),
                ("fire", 0.005),
                ("drowning", 0.005),
                ("rtc", 0.01),
                ("unknown", 0.03),
            ],
        )
    };
    let home = world.pop.address_on(person, date);
    let location_type = if p.has(flag::CARE_HOME) {
        "care_home"
    } else {
        match mechanism {
            "rtc" => "public_place",
            "drowning" => "open_land_water",
            "suspected_suicide" => weighted(
                rng,
                &[
                    ("dwelling_own", 0.6),
                    ("open_land_water", 0.2),
                    ("public_place", 0.15),
                    ("hotel", 0.05),
                ],
            ),
            "drug_related" => weighted(
                rng,
                &[
                    ("dwelling_own", 0.6),
                    ("dwelling_other", 0.15),
                    ("public_place", 0.2),
                    ("hotel", 0.05),
                ],
            ),
            "natural" => weighted(
                rng,
                &[
                    ("dwelling_own", 0.88),
                    ("public_place", 0.05),
                    ("workplace", 0.02),
                    ("dwelling_other", 0.05),
                ],
            ),
            _ => weighted(rng, &[("dwelling_own", 0.8), ("public_place", 0.2)]),
        }
    };
    let location_type = match (location_type, home) {
        ("dwelling_own", Some(_)) if p.has(flag::HOSTEL) => "hostel_hmo",
        ("dwelling_own", None) => "public_place",
        (t, _) => t,
    };
    let location = match location_type {
        "dwelling_own" | "care_home" | "hostel_hmo" => home,
        "dwelling_other" => home.and_then(|h| {
            let lsoa = world.geo.address(h).lsoa as usize;
            crate::rng::pick(rng, &world.geo.lsoa_dwellings[lsoa]).copied()
        }),
        _ => match home {
            Some(h) => world.geo.public_place_near(rng, h),
            None => {
                let ward = index(rng, world.geo.wards.len());
                crate::rng::pick(rng, &world.geo.ward_public_places[ward]).copied()
            }
        },
    };
    let substance = if mechanism == "drug_related" {
        weighted(
            rng,
            &[
                ("heroin_opioid", 0.42),
                ("cocaine", 0.15),
                ("methadone", 0.08),
                ("benzodiazepine", 0.08),
                ("synthetic_cannabinoid", 0.06),
                ("alcohol", 0.05),
                ("ghb", 0.03),
                ("prescription_medicine", 0.05),
                ("unknown", 0.08),
            ],
        )
    } else {
        "none"
    };
    let found = DateTime::new(date, when::minute(rng, Profile::Day));
    let history = categories(rng, mechanism, age, found, world.period.end());
    let current = history.last().map_or("unexpected_not_suspicious", |(c, _)| c);
    let pm_type = match current {
        "expected" => weighted(rng, &[("none", 0.7), ("routine", 0.3)]),
        "unexpected_under_investigation" => weighted(rng, &[("forensic", 0.4), ("routine", 0.6)]),
        _ if history.len() > 1 => weighted(rng, &[("forensic", 0.25), ("routine", 0.75)]),
        _ => weighted(rng, &[("none", 0.35), ("routine", 0.65)]),
    };
    let da_history = da_first.get(&person).is_some_and(|&d| d < date);
    let mut people = roles(world, rng, person, date, location_type, mechanism);
    if location_type == "care_home"
        && let Some(home) = home
        && let Some(i) = world.geo.care_homes.iter().position(|&c| c == home)
    {
        let staff = &world.pop.care_staff[i];
        if let Some(&s) = crate::rng::pick(rng, staff) {
            people.push(Participant::new(s, "carer"));
            if chance(rng, 0.5) {
                people.push(Participant::new(s, "finder"));
            }
        }
    }
    Death {
        event,
        person: Participant::new(person, "deceased"),
        found,
        reported: world.period.clamp(found.add_minutes(between(rng, 10, 180) as u32)),
        location,
        location_type,
        mechanism,
        substance,
        categories: history,
        da_history,
        pm_type,
        supervisor_reviewed: chance(rng, 0.8),
        people,
    }
}
