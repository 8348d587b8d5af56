//! Domestic abuse: relationships (partners, ex-partners, adult family) with an intensity, their
//! incidents over the period with DASH risk that tends to escalate, the crimes recorded for
//! ~61% of them, and what follows: ED attendances for injuries, police-notified CIN referrals
//! for children in the household, adult safeguarding for older victims, and homelessness
//! applications for victims who must leave (domain.md §7, §9(a)5).

use crate::codes::hocr;
use crate::date::DateTime;
use crate::events::pick::{PersonPicker, tier_weight};
use crate::events::when::{self, Profile};
use crate::events::{
    AscConcern, CinReferral, Crime, DaIncident, EdAttendance, EdReason, Events, HomelessCase,
    Participant, site_for,
};
use crate::population::HouseholdKind;
use crate::rng::{Picker, between, chance, poisson, stream, weighted};
use crate::world::World;

/// Incidents per relationship per year: (rate, share) [assumption; mean ≈ 0.89, so roughly one
/// in three victims is a repeat victim within the year, as HMIC 2014 found in Cheshire].
const INTENSITY: [(f64, f64); 4] = [(0.4, 0.60), (1.0, 0.28), (2.5, 0.10), (6.0, 0.02)];

/// HOCR codes for DA crimes by DASH level (index 0 standard … 2 high) [assumption].
const DA_CRIMES: [[(&str, f64); 8]; 3] = [
    [
        ("105A", 0.40),
        ("8L", 0.20),
        ("58A", 0.15),
        ("8N", 0.15),
        ("8U", 0.05),
        ("8Q", 0.05),
        ("3B", 0.0),
        ("8S", 0.0),
    ],
    [
        ("105A", 0.25),
        ("8N", 0.25),
        ("8U", 0.15),
        ("8L", 0.10),
        ("58A", 0.10),
        ("8S", 0.05),
        ("3B", 0.05),
        ("8Q", 0.05),
    ],
    [
        ("8N", 0.25),
        ("8U", 0.20),
        ("8S", 0.15),
        ("5/1", 0.05),
        ("3B", 0.10),
        ("105A", 0.10),
        ("8Q", 0.10),
        ("17A", 0.05),
    ],
];

/// Whether an offence code involves injury.
pub fn injury_offence(code: &str) -> bool {
    matches!(code, "8N" | "8S" | "5/1" | "8F" | "2/0")
}

/// DA crime outcomes [assumption: most fail on evidential difficulties or victim withdrawal].
pub const DA_OUTCOMES: [(&str, f64); 5] = [
    ("charged", 0.15),
    ("evidential_difficulties_victim", 0.45),
    ("out_of_court", 0.05),
    ("under_investigation", 0.10),
    ("victim_declined", 0.25),
];

/// Generates DA relationships and everything that follows from them.
pub fn generate(world: &mut World, ev: &mut Events) {
    let world = &*world;
    let pop = &world.pop;
    let period = world.period;
    let start = period.start;
    let cfg = &world.config;
    let mut rng = stream(cfg.seed, "domestic", 0);
    let years = f64::from(period.years);
    let total = cfg.rates.da_incidents * cfg.scale * years;
    let mean: f64 = INTENSITY.iter().map(|(l, p)| l * p).sum();
    let dyads = (total / (mean * years)).round() as usize;

    let couple = Picker::new(pop.households.iter().map(|h| {
        let ok = matches!(
            h.kind,
            HouseholdKind::Couple
                | HouseholdKind::CoupleKids
                | HouseholdKind::FamilyAdultKids
                | HouseholdKind::Multigenerational
        ) && h.size >= 2;
        if !ok || pop.person(h.first).has(crate::population::flag::PLANTED) {
            return 0.0;
        }
        let age = pop.person(h.first).dob.age_on(start);
        let young = if (18..=55).contains(&age) { 1.0 } else { 0.15 };
        tier_weight(h.tier, 1.0) * young
    }));
    let family = Picker::new(pop.households.iter().map(|h| {
        if matches!(h.kind, HouseholdKind::FamilyAdultKids) && h.size >= 3 {
            tier_weight(h.tier, 1.0)
        } else {
            0.0
        }
    }));
    let ex_victims = PersonPicker::new(pop, |_, p| {
        let age = p.dob.age_on(start);
        let kind = pop.households[p.household as usize].kind;
        if !(18..=50).contains(&age)
            || !matches!(kind, HouseholdKind::Single | HouseholdKind::LoneParent)
        {
            return 0.0;
        }
        tier_weight(p.risk, 1.0) * if p.female { 5.5 } else { 1.0 }
    });
    let perpetrators = |female: bool| {
        PersonPicker::new(pop, move |_, p| {
            let age = p.dob.age_on(start);
            if p.female != female || !(18..=58).contains(&age) {
                return 0.0;
            }
            tier_weight(p.risk, 1.0)
        })
    };
    let male_perps = perpetrators(false);
    let female_perps = perpetrators(true);

    for _ in 0..dyads {
        let kind = weighted(&mut rng, &[("partner", 0.75), ("ex_partner", 0.15), ("family", 0.10)]);
        let pair = match kind {
            "partner" => couple.pick(&mut rng).map(|h| {
                let h = &pop.households[h];
                let (a, b) = (h.first, h.first + 1);
                let female_victim = chance(&mut rng, cfg.rates.da_victim_female_share);
                let (fa, fb) = (pop.person(a).female, pop.person(b).female);
                match (fa, fb) {
                    (false, true) if female_victim => (b, a),
                    (true, false) if female_victim => (a, b),
                    (false, true) => (a, b),
                    (true, false) => (b, a),
                    _ => (a, b),
                }
            }),
            "ex_partner" => ex_victims.draw(&mut rng, pop, start, true).and_then(|v| {
                let picker = if pop.person(v).female { &male_perps } else { &female_perps };
                picker
                    .draw_where(&mut rng, pop, start, false, |p| {
                        pop.person(p).household != pop.person(v).household
                    })
                    .map(|p| (v, p))
            }),
            _ => family.pick(&mut rng).map(|h| {
                let h = &pop.households[h];
                let parent = if chance(&mut rng, 0.55) { h.first + 1 } else { h.first };
                let child = h.first + 2 + between(&mut rng, 0, i64::from(h.size) - 3) as u32;
                (parent, child)
            }),
        };
        let Some((victim, perp)) = pair else { continue };
        let lambda = weighted(&mut rng, &INTENSITY);
        let n = poisson(&mut rng, lambda * years);
        if n == 0 {
            continue;
        }
        let mut moments: Vec<DateTime> = (0..n)
            .map(|_| {
                let y = crate::rng::index(&mut rng, period.years as usize) as u32;
                when::at(&mut rng, period, y, Profile::Evening)
            })
            .collect();
        moments.sort_unstable();
        let base = match lambda {
            l if l < 0.5 => [0.8, 0.17, 0.03],
            l if l < 1.5 => [0.6, 0.3, 0.1],
            l if l < 3.0 => [0.4, 0.4, 0.2],
            _ => [0.25, 0.45, 0.3],
        };
        let mut risk = weighted(&mut rng, &[(0usize, base[0]), (1, base[1]), (2, base[2])]);
        let mut last = None;
        let mut co_resident = false;
        for (i, t) in moments.iter().enumerate() {
            let (vp, pp) = (pop.person(victim), pop.person(perp));
            if !vp.alive_on(t.date) || !pp.alive_on(t.date) {
                break;
            }
            if i > 0 && risk < 2 && chance(&mut rng, 0.25) {
                risk += 1;
            }
            let location = pop.address_on(victim, t.date).or_else(|| pop.address_on(perp, t.date));
            co_resident = location.is_some() && pop.address_on(perp, t.date) == location;
            let event = ev.event();
            let crimed =
                chance(&mut rng, [0.5, 0.7, 0.85][risk] * cfg.rates.da_crimed_share / 0.61);
            let mut crime_index = None;
            let mut injured = false;
            if crimed {
                let code = weighted(&mut rng, &DA_CRIMES[risk]);
                injured = injury_offence(code);
                let knife = match code {
                    "5/1" | "3B" => chance(&mut rng, 0.3),
                    "8N" => chance(&mut rng, 0.03),
                    _ => false,
                };
                let mut people =
                    vec![Participant::new(victim, "victim"), Participant::new(perp, "suspect")];
                if let Some(a) = location {
                    let hh = pop.household_of(victim);
                    for m in hh.members() {
                        if m != victim && m != perp && chance(&mut rng, 0.08) {
                            let age = world.age(m, t.date);
                            if (8..18).contains(&age) && pop.address_on(m, t.date) == Some(a) {
                                people.push(Participant::new(m, "witness"));
                            }
                        }
                    }
                }
                ev.crimes.push(Crime {
                    event,
                    hocr: hocr(code).0,
                    committed: *t,
                    reported: t.add_minutes(between(&mut rng, 5, 600) as u32),
                    location,
                    da: true,
                    knife,
                    drug: chance(&mut rng, 0.05),
                    alcohol: chance(&mut rng, 0.3),
                    outcome: weighted(&mut rng, &DA_OUTCOMES),
                    people,
                });
                crime_index = Some(ev.crimes.len() - 1);
            }
            ev.da.push(DaIncident {
                event,
                at: *t,
                location,
                victim: Participant::new(victim, "victim"),
                perpetrator: Participant::new(perp, "perpetrator"),
                dash: crate::codes::DASH[risk],
                relationship: kind,
                crime: crime_index,
            });
            let p_ed = if injured { 0.07 } else { 0.004 };
            if chance(&mut rng, p_ed) {
                let mech = weighted(
                    &mut rng,
                    &[
                        ("hit_kick_bodily_force", 0.75),
                        ("blunt_object", 0.10),
                        ("strangulation_asphyxiation", 0.10),
                        ("cut_stab_sharp_object", 0.05),
                    ],
                );
                let arrival = period.clamp(t.add_minutes(between(&mut rng, 30, 300) as u32));
                ev.ed.push(EdAttendance {
                    event,
                    patient: Participant::new(victim, "patient"),
                    arrival,
                    injury: *t,
                    site: site_for(world, &mut rng, location),
                    reason: EdReason::Assault(mech),
                    place: "home",
                    location,
                    alcohol_drug: if chance(&mut rng, 0.3) { "alcohol" } else { "none" },
                    admitted: false,
                    died: false,
                });
            }
            if let Some(a) = location {
                let council = world.geo.council_of(a);
                if chance(&mut rng, 0.3) {
                    for m in pop.household_of(victim).members() {
                        if world.age(m, t.date) < 18
                            && pop.person(m).alive_on(t.date)
                            && pop.address_on(m, t.date) == Some(a)
                        {
                            let mut factors = vec!["3A"];
                            if chance(&mut rng, 0.5) {
                                factors.push("3B");
                            }
                            if chance(&mut rng, 0.2) {
                                factors.push("1B");
                            }
                            ev.cin.push(CinReferral {
                                event,
                                child: Participant::new(m, "child"),
                                date: period
                                    .clamp_date(t.date.add_days(between(&mut rng, 1, 10) as i32)),
                                council,
                                source: "5C",
                                need: if chance(&mut rng, 0.6) { "N1" } else { "N5" },
                                factors,
                                nfa: chance(&mut rng, 0.1),
                            });
                        }
                    }
                }
                if world.age(victim, t.date) >= 65 && chance(&mut rng, 0.3) {
                    ev.asc.push(AscConcern {
                        event,
                        adult: Participant::new(victim, "adult_at_risk"),
                        date: period.clamp_date(t.date.add_days(between(&mut rng, 0, 14) as i32)),
                        council,
                        s42: chance(&mut rng, 0.45),
                        risk: "domestic_abuse",
                        location: "own_home",
                        source: "known_to_individual",
                        address: None,
                    });
                }
            }
            last = Some((*t, location, risk));
        }
        if let Some((t, Some(home), risk)) = last
            && co_resident
            && (n >= 2 || risk == 2)
            && chance(&mut rng, 0.25)
        {
            let date = t.date.add_days(between(&mut rng, 1, 30) as i32);
            if period.contains(date) && pop.person(victim).alive_on(date) {
                let with_children =
                    pop.household_of(victim).members().any(|m| world.age(m, date) < 18);
                let mut needs = vec!["history_of_domestic_abuse"];
                if chance(&mut rng, 0.3) {
                    needs.push("mental_health");
                }
                let event = ev.event();
                ev.homeless.push(HomelessCase {
                    event,
                    applicant: Participant::new(victim, "applicant"),
                    date,
                    council: world.geo.council_of(home),
                    duty: if chance(&mut rng, 0.6) { "relief" } else { "prevention" },
                    reason: "domestic_abuse",
                    needs,
                    accommodation: weighted(
                        &mut rng,
                        &[("social_rented", 0.4), ("private_rented", 0.4), ("owner_occupier", 0.2)],
                    ),
                    last_settled: Some(home),
                    temporary: chance(&mut rng, 0.5),
                    with_children,
                });
            }
        }
    }
    ev.da.sort_by_key(|d| (d.at, d.event));
}
