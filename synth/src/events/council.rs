//! Council events topped up to their targets after DA has driven its share: CIN referrals
//! (~12,000 a year), adult safeguarding concerns (~11,500, ~3,400 leading to s42 enquiries),
//! homelessness cases (~6,300 households owed a duty), suspensions (~14,000) and permanent
//! exclusions (~170) (domain.md §7). Higher risk tiers are far more likely to appear, which
//! makes the same families recur across agencies (domain.md §9(a)5).

use crate::date::Date;
use crate::events::pick::{PersonPicker, tier_weight};
use crate::events::when::{self, Profile};
use crate::events::{
    AscConcern, CinReferral, Events, Exclusion, HomelessCase, Participant, council_for,
};
use crate::population::{HouseholdKind, flag};
use crate::rng::{Rng, between, chance, index, mix, round_stochastic, stream, weighted};
use crate::world::World;

/// Generates the council events.
pub fn generate(world: &mut World, ev: &mut Events) {
    let world = &*world;
    let mut rng = stream(world.seed(), "council", 0);
    cin(world, ev, &mut rng);
    asc(world, ev, &mut rng);
    homelessness(world, ev, &mut rng);
    exclusions(world, ev, &mut rng);
}

/// Events still needed in financial year `y` for a per-year rate, given `have` already.
fn needed(world: &World, rng: &mut Rng, rate: f64, y: u32, have: usize) -> u64 {
    let frac = f64::from(world.period.year_days(y)) / 365.25;
    round_stochastic(rng, rate * world.scale() * frac).saturating_sub(have as u64)
}

fn cin(world: &World, ev: &mut Events, rng: &mut Rng) {
    let start = world.period.start;
    let pop = &world.pop;
    let children = PersonPicker::new(pop, |_, p| {
        let age = p.dob.age_on(start);
        if age >= 18 {
            return 0.0;
        }
        let infant = if age < 1 { 2.0 } else { 1.0 };
        [1.0, 6.0, 25.0, 60.0][usize::from(p.risk.min(3))] * infant
    });
    for y in 0..world.period.years {
        let have = ev.cin.iter().filter(|c| world.period.year_of(c.date) == Some(y)).count();
        for _ in 0..needed(world, rng, world.config.rates.cin_referrals, y, have) {
            let date = when::day(rng, world.period, y, Profile::Day);
            let Some(child) =
                children.draw_where(rng, pop, date, true, |c| world.age(c, date) < 18)
            else {
                continue;
            };
            let Some(council) = council_for(world, child, date) else { continue };
            let source = weighted(
                rng,
                &[
                    ("5C", 0.12),
                    ("2A", 0.20),
                    ("3A", 0.06),
                    ("3B", 0.05),
                    ("3E", 0.04),
                    ("3F", 0.05),
                    ("4", 0.10),
                    ("1A", 0.08),
                    ("1B", 0.08),
                    ("6", 0.10),
                    ("5B", 0.02),
                    ("8", 0.10),
                ],
            );
            let tier = pop.person(child).risk;
            let mut factors = Vec::new();
            for (f, p) in [("4B", 0.25), ("2B", 0.12), ("1B", 0.1), ("8B", 0.1), ("3B", 0.15)] {
                if chance(rng, p * f64::from(tier + 1) / 2.0) {
                    factors.push(f);
                }
            }
            let age = world.age(child, date);
            if age >= 12 {
                for (f, p) in [("6A", 0.08), ("9A", 0.03), ("22A", 0.04), ("24A", 0.02)] {
                    if chance(rng, p * f64::from(tier + 1) / 2.0) {
                        factors.push(f);
                    }
                }
            }
            let need = weighted(
                rng,
                &[
                    ("N1", 0.57),
                    ("N2", 0.03),
                    ("N3", 0.02),
                    ("N4", 0.07),
                    ("N5", 0.15),
                    ("N6", 0.02),
                    ("N7", 0.01),
                    ("N8", 0.01),
                    ("N9", 0.07),
                    ("N0", 0.05),
                ],
            );
            let event = ev.event();
            ev.cin.push(CinReferral {
                event,
                child: Participant::new(child, "child"),
                date,
                council,
                source,
                need,
                factors,
                nfa: chance(rng, 0.071),
            });
        }
    }
}

fn asc(world: &World, ev: &mut Events, rng: &mut Rng) {
    let start = world.period.start;
    let pop = &world.pop;
    let adults = PersonPicker::new(pop, |_, p| {
        let age = p.dob.age_on(start);
        let base = match age {
            0..=17 => return 0.0,
            18..=64 => 0.3,
            65..=74 => 1.0,
            75..=84 => 3.0,
            _ => 6.0,
        };
        let home = if p.has(flag::CARE_HOME) { 4.0 } else { 1.0 };
        base * home * [1.0, 1.5, 3.0, 5.0][usize::from(p.risk.min(3))]
    });
    let rates = &world.config.rates;
    let s42_share = rates.asc_s42 / rates.asc_concerns;
    for y in 0..world.period.years {
        let have = ev.asc.iter().filter(|c| world.period.year_of(c.date) == Some(y)).count();
        for _ in 0..needed(world, rng, rates.asc_concerns, y, have) {
            let date = when::day(rng, world.period, y, Profile::Day);
            let Some(adult) = adults.draw(rng, pop, date, true) else { continue };
            let Some(council) = council_for(world, adult, date) else { continue };
            let in_home = pop.person(adult).has(flag::CARE_HOME);
            let location = if in_home {
                "care_home"
            } else {
                weighted(
                    rng,
                    &[("own_home", 0.7), ("community", 0.15), ("hospital", 0.05), ("other", 0.1)],
                )
            };
            let risk = weighted(
                rng,
                &[
                    ("neglect_acts_of_omission", 0.31),
                    ("physical", 0.20),
                    ("psychological", 0.11),
                    ("financial_material", 0.14),
                    ("domestic_abuse", 0.05),
                    ("self_neglect", 0.10),
                    ("sexual", 0.03),
                    ("organisational", if in_home { 0.08 } else { 0.01 }),
                    ("discriminatory", 0.01),
                    ("modern_slavery", 0.005),
                ],
            );
            let source = if in_home && chance(rng, 0.6) {
                "service_provider"
            } else {
                weighted(
                    rng,
                    &[
                        ("known_to_individual", 0.7),
                        ("unknown_to_individual", 0.15),
                        ("service_provider", 0.15),
                    ],
                )
            };
            let event = ev.event();
            ev.asc.push(AscConcern {
                event,
                adult: Participant::new(adult, "adult_at_risk"),
                date,
                council,
                s42: chance(rng, s42_share),
                risk,
                location,
                source,
                address: if in_home { pop.address_on(adult, date) } else { None },
            });
        }
    }
}

fn homelessness(world: &World, ev: &mut Events, rng: &mut Rng) {
    let start = world.period.start;
    let pop = &world.pop;
    let applicants = PersonPicker::new(pop, |id, p| {
        let age = p.dob.age_on(start);
        if !(17..=70).contains(&age) || p.has(flag::CARE_HOME) {
            return 0.0;
        }
        let kind = pop.households[p.household as usize].kind;
        let young = if age <= 30 { 2.0 } else { 1.0 };
        let lead = pop.households[p.household as usize].first == id;
        let lone = if kind == HouseholdKind::LoneParent && lead { 3.0 } else { 1.0 };
        let place = if p.has(flag::NFA) || p.has(flag::HOSTEL) { 8.0 } else { 1.0 };
        [1.0, 4.0, 15.0, 40.0][usize::from(p.risk.min(3))] * young * lone * place
    });
    for y in 0..world.period.years {
        let have = ev.homeless.iter().filter(|c| world.period.year_of(c.date) == Some(y)).count();
        for _ in 0..needed(world, rng, world.config.rates.homelessness, y, have) {
            let date = when::day(rng, world.period, y, Profile::Day);
            let Some(a) = applicants.draw(rng, pop, date, false) else { continue };
            let p = pop.person(a);
            let current = pop.address_on(a, date);
            let last_settled = current.or_else(|| pop.residences_of(a).last().map(|r| r.address));
            let council = match (current, last_settled) {
                (Some(c), _) | (None, Some(c)) => world.geo.council_of(c),
                _ => index(rng, 2) as u8,
            };
            let accommodation = if p.has(flag::NFA) {
                if chance(rng, 0.4) { "rough_sleeping" } else { "no_fixed_abode" }
            } else if p.has(flag::HOSTEL) {
                "temporary_accommodation"
            } else {
                weighted(
                    rng,
                    &[
                        ("private_rented", 0.45),
                        ("living_with_family_friends", 0.3),
                        ("social_rented", 0.2),
                        ("owner_occupier", 0.05),
                    ],
                )
            };
            let reason = weighted(
                rng,
                &[
                    ("end_of_assured_shorthold_tenancy", 0.24),
                    ("family_friends_no_longer_willing", 0.27),
                    ("domestic_abuse", 0.06),
                    ("relationship_breakdown_non_violent", 0.09),
                    ("eviction_social_tenancy", 0.05),
                    ("left_institution", 0.06),
                    ("rent_arrears_private", 0.06),
                    ("other", 0.17),
                ],
            );
            let mut needs = Vec::new();
            for (n, q) in [
                ("mental_health", 0.25),
                ("drug_dependency", 0.08),
                ("alcohol_dependency", 0.06),
                ("offending_history", 0.07),
                ("history_of_domestic_abuse", 0.1),
            ] {
                if chance(rng, q * f64::from(p.risk + 1) / 2.0) {
                    needs.push(n);
                }
            }
            if world.age(a, date) < 18 {
                needs.push("young_person_16_17");
            }
            if needs.is_empty() {
                needs.push("none");
            }
            let with_children =
                pop.household_of(a).members().any(|m| world.age(m, date) < 18 && m != a);
            let event = ev.event();
            ev.homeless.push(HomelessCase {
                event,
                applicant: Participant::new(a, "applicant"),
                date,
                council,
                duty: if current.is_none() || chance(rng, 0.5) { "relief" } else { "prevention" },
                reason,
                needs,
                accommodation,
                last_settled,
                temporary: chance(rng, if with_children { 0.4 } else { 0.2 }),
                with_children,
            });
        }
    }
}

/// The school a pupil attends on a date (secondary from 11): a fixed choice among their
/// council's schools of that phase.
pub fn school_of(world: &World, pupil: u32, on: Date, council: u8) -> Option<u32> {
    let secondary = world.age(pupil, on) >= 11;
    let schools: Vec<u32> = world
        .geo
        .schools
        .iter()
        .enumerate()
        .filter(|(_, s)| s.council == council && s.secondary == secondary)
        .map(|(i, _)| i as u32)
        .collect();
    if schools.is_empty() {
        return None;
    }
    let h = mix(u64::from(pupil) ^ 0x5c4001);
    schools.get((h % schools.len() as u64) as usize).copied()
}

fn exclusions(world: &World, ev: &mut Events, rng: &mut Rng) {
    let start = world.period.start;
    let pop = &world.pop;
    let pupils = |concentration: f64| {
        PersonPicker::new(pop, move |_, p| {
            let age = p.dob.age_on(start);
            let base = match age {
                4..=10 => 0.4,
                11 => 1.5,
                12..=15 => 4.0,
                16 => 2.0,
                _ => return 0.0,
            };
            let sex = if p.female { 1.0 } else { 2.7 };
            base * sex * tier_weight(p.risk, concentration)
        })
    };
    let suspension = pupils(0.6);
    let permanent = pupils(1.0);
    let rates = &world.config.rates;
    for (picker, rate, perm) in
        [(&suspension, rates.suspensions, false), (&permanent, rates.permanent_exclusions, true)]
    {
        for y in 0..world.period.years {
            let have = ev
                .exclusions
                .iter()
                .filter(|e| e.permanent == perm && world.period.year_of(e.date) == Some(y))
                .count();
            for _ in 0..needed(world, rng, rate, y, have) {
                let date = when::school_day(rng, world.period, y);
                let ok = |p: u32| (5..=16).contains(&world.age(p, date));
                let Some(pupil) = picker.draw_where(rng, pop, date, true, ok) else { continue };
                let Some(council) = council_for(world, pupil, date) else { continue };
                let Some(school) = school_of(world, pupil, date, council) else { continue };
                let reason = weighted(
                    rng,
                    &[
                        ("PD", 0.45),
                        ("PP", 0.12),
                        ("PA", 0.06),
                        ("VA", 0.10),
                        ("VP", 0.06),
                        ("DA", 0.04),
                        ("DM", 0.03),
                        ("BU", 0.02),
                        ("OW", if perm { 0.06 } else { 0.01 }),
                        ("TH", 0.01),
                        ("RA", 0.01),
                        ("SM", 0.01),
                        ("OT", 0.08),
                    ],
                );
                let event = ev.event();
                ev.exclusions.push(Exclusion {
                    event,
                    pupil: Participant::new(pupil, "pupil"),
                    date,
                    council,
                    school,
                    permanent: perm,
                    reason,
                    sessions: if perm { 0 } else { between(rng, 1, 10) as u16 },
                });
            }
        }
    }
}
