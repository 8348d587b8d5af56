//! Background homicides (4–12 a year at scale 1, with a year of 2; domain.md §7): victim sex,
//! relationship, method and circumstances from the England and Wales profile, each producing a
//! murder or manslaughter crime, a death report that moves from "under investigation" to
//! "homicide", a Homicide Index row and sometimes an ED attendance where the victim died.

use crate::date::DateTime;
use crate::events::deaths::{roles, set_death};
use crate::events::pick::{PersonPicker, tier_weight, violence_age_weight};
use crate::events::when::{self, Profile};
use crate::events::{
    Crime, Death, EdAttendance, EdReason, Events, Homicide, Participant, site_for,
};
use crate::population::{HouseholdKind, flag};
use crate::rng::{Picker, Rng, between, chance, round_stochastic, stream, weighted};
use crate::world::World;

/// A homicide decided but not yet written.
pub struct Plan {
    /// Victim.
    pub victim: u32,
    /// Suspects.
    pub suspects: Vec<u32>,
    /// When.
    pub at: DateTime,
    /// Relationship code.
    pub relationship: &'static str,
    /// Method code.
    pub method: &'static str,
    /// HI location code.
    pub location: &'static str,
    /// The address.
    pub address: Option<u32>,
    /// Circumstances code.
    pub circumstances: &'static str,
    /// Domestic.
    pub domestic: bool,
}

/// Generates the background homicides for every year.
pub fn generate(world: &mut World, ev: &mut Events) {
    let mut rng = stream(world.seed(), "homicide", 0);
    let period = world.period;
    let rates = world.config.rates.homicides_per_year.clone();
    for y in 0..period.years {
        let mean = rates[y as usize % rates.len()] * world.scale();
        let n = round_stochastic(&mut rng, mean);
        for _ in 0..n {
            if let Some(plan) = plan(world, &mut rng, y) {
                record(world, ev, &mut rng, plan, (None, None));
            }
        }
    }
}

fn plan(world: &World, rng: &mut Rng, year: u32) -> Option<Plan> {
    let pop = &world.pop;
    let start = world.period.start;
    let at = when::at(rng, world.period, year, Profile::Night);
    let female = chance(rng, 0.28);
    let relationship = if female {
        weighted(
            rng,
            &[
                ("partner_ex_partner", 0.45),
                ("son_daughter", 0.20),
                ("friend_acquaintance", 0.15),
                ("stranger", 0.08),
                ("no_suspect_not_known", 0.12),
            ],
        )
    } else {
        weighted(
            rng,
            &[
                ("partner_ex_partner", 0.07),
                ("son_daughter", 0.10),
                ("friend_acquaintance", 0.43),
                ("stranger", 0.22),
                ("no_suspect_not_known", 0.18),
            ],
        )
    };
    let housed_couples = |victim_female: bool| {
        Picker::new(pop.households.iter().map(move |h| {
            let kinds = matches!(h.kind, HouseholdKind::Couple | HouseholdKind::CoupleKids);
            let first = pop.person(h.first);
            if !kinds || h.size < 2 || first.has(flag::PLANTED) {
                return 0.0;
            }
            let second = pop.person(h.first + 1);
            if first.female == second.female || !(18..=70).contains(&first.dob.age_on(start)) {
                return 0.0;
            }
            let _ = victim_female;
            tier_weight(h.tier, 1.0)
        }))
    };
    let (victim, suspects, domestic) = match relationship {
        "partner_ex_partner" => {
            let h = &pop.households[housed_couples(female).pick(rng)?];
            let (a, b) = (h.first, h.first + 1);
            let (v, s) = if pop.person(a).female == female { (a, b) } else { (b, a) };
            (v, vec![s], true)
        }
        "son_daughter" => {
            let fam = Picker::new(pop.households.iter().map(|h| {
                if h.kind == HouseholdKind::FamilyAdultKids && h.size >= 3 {
                    tier_weight(h.tier, 1.0)
                } else {
                    0.0
                }
            }));
            let h = &pop.households[fam.pick(rng)?];
            let v = if pop.person(h.first).female == female { h.first } else { h.first + 1 };
            (v, vec![h.first + 2], true)
        }
        _ => {
            let victims = PersonPicker::new(pop, |_, p| {
                if p.female != female || p.has(flag::CARE_HOME) {
                    return 0.0;
                }
                violence_age_weight(p.dob.age_on(start), female) * tier_weight(p.risk, 1.0)
            });
            let v = victims.draw(rng, pop, at.date, false)?;
            let mut s = Vec::new();
            if relationship != "no_suspect_not_known" {
                let suspects = PersonPicker::new(pop, |_, p| {
                    let age = p.dob.age_on(start);
                    if p.female || !(15..=50).contains(&age) {
                        return 0.0;
                    }
                    tier_weight(p.risk, 1.0) * f64::from(p.risk >= 2) + 0.01
                });
                s.push(suspects.draw_where(rng, pop, at.date, false, |x| x != v)?);
                if chance(rng, 0.15)
                    && let Some(second) = suspects.draw_where(rng, pop, at.date, false, |x| x != v)
                {
                    s.push(second);
                }
            }
            (v, s, false)
        }
    };
    let vp = pop.person(victim);
    if !vp.alive_on(at.date) || suspects.iter().any(|&s| !pop.person(s).alive_on(at.date)) {
        return None;
    }
    let age = vp.dob.age_on(at.date);
    let method = if domestic && female {
        weighted(
            rng,
            &[
                ("sharp_instrument", 0.40),
                ("strangulation_asphyxiation", 0.25),
                ("hitting_kicking", 0.15),
                ("blunt_instrument", 0.10),
                ("other", 0.10),
            ],
        )
    } else if age < 20 {
        // ONS: 82% of teenage victims were killed with a knife or sharp instrument.
        weighted(rng, &[("sharp_instrument", 0.82), ("hitting_kicking", 0.10), ("other", 0.08)])
    } else {
        weighted(
            rng,
            &[
                ("sharp_instrument", 0.38),
                ("hitting_kicking", 0.22),
                ("blunt_instrument", 0.12),
                ("strangulation_asphyxiation", 0.05),
                ("shooting", 0.04),
                ("poison_drugs", 0.04),
                ("burning", 0.02),
                ("motor_vehicle", 0.04),
                ("not_known", 0.09),
            ],
        )
    };
    let home = pop.address_on(victim, at.date);
    let location = if domestic && home.is_some() {
        "victims_home"
    } else {
        weighted(rng, &[("street_public_place", 0.6), ("other_dwelling", 0.25), ("other", 0.15)])
    };
    let address = match (location, home) {
        ("victims_home", h) => h,
        ("other_dwelling", _) => suspects.first().and_then(|&s| pop.address_on(s, at.date)),
        (_, Some(h)) => world.geo.public_place_near(rng, h),
        _ => None,
    };
    let circumstances = weighted(
        rng,
        &[
            ("quarrel_revenge_loss_of_temper", 0.5),
            ("furtherance_of_theft_or_gain", 0.07),
            ("irrational_act", 0.08),
            ("other", 0.15),
            ("not_known", 0.2),
        ],
    );
    Some(Plan {
        victim,
        suspects,
        at,
        relationship,
        method,
        location,
        address,
        circumstances,
        domestic,
    })
}

/// The Home Office sub-type (Dec 2023) of a homicide.
pub fn subtype(female: bool, age: u32, domestic: bool, location: &str) -> &'static str {
    let public = location == "street_public_place";
    let residential = matches!(location, "victims_home" | "suspects_home" | "other_dwelling");
    match (domestic, female) {
        (true, true) => "1",
        (true, false) => "2",
        _ if age < 16 && !public => "7",
        (false, false) if age < 25 && public => "3",
        (false, true) if age >= 16 => "4",
        (false, false) if public => "5",
        (false, false) if residential => "6",
        _ => "other",
    }
}

/// Writes a homicide's events: crime, death report, HI row, maybe an ED attendance. `tags` are
/// the scenario tags of the victim's and the suspects' records when planted.
pub fn record(
    world: &mut World,
    ev: &mut Events,
    rng: &mut Rng,
    plan: Plan,
    tags: (Option<crate::events::Tag>, Option<crate::events::Tag>),
) {
    let (tag, suspect_tag) = tags;
    set_death(world, plan.victim, plan.at.date);
    let world = &*world;
    let event = ev.event();
    let victim_female = world.pop.person(plan.victim).female;
    let age = world.age(plan.victim, plan.at.date);
    let sharp = plan.method == "sharp_instrument";
    let mut people = vec![Participant { tag, ..Participant::new(plan.victim, "victim") }];
    people.extend(
        plan.suspects
            .iter()
            .map(|&s| Participant { tag: suspect_tag, ..Participant::new(s, "suspect") }),
    );
    ev.crimes.push(Crime {
        event,
        hocr: if chance(rng, 0.85) { "1/1" } else { "4/1" },
        committed: plan.at,
        reported: plan.at.add_minutes(between(rng, 5, 90) as u32),
        location: plan.address,
        da: plan.domestic,
        knife: sharp,
        drug: chance(rng, 0.1),
        alcohol: chance(rng, 0.3),
        outcome: if plan.suspects.is_empty() { "no_suspect_identified" } else { "charged" },
        people,
    });
    let crime = ev.crimes.len() - 1;
    let found = world.period.clamp(plan.at.add_minutes(between(rng, 5, 120) as u32));
    let location_type = match plan.location {
        "victims_home" => "dwelling_own",
        "other_dwelling" | "suspects_home" => "dwelling_other",
        _ => "public_place",
    };
    let mut linked = roles(world, rng, plan.victim, plan.at.date, location_type, "assault");
    linked.extend(plan.suspects.iter().map(|&s| Participant::new(s, "suspect")));
    ev.deaths.push(Death {
        event,
        person: Participant { tag, ..Participant::new(plan.victim, "deceased") },
        found,
        reported: world.period.clamp(found.add_minutes(between(rng, 2, 30) as u32)),
        location: plan.address,
        location_type,
        mechanism: "assault",
        substance: "none",
        categories: vec![
            ("unexpected_under_investigation", found),
            ("homicide", world.period.clamp(found.add_minutes(between(rng, 600, 4000) as u32))),
        ],
        da_history: plan.domestic && chance(rng, 0.6),
        pm_type: "forensic",
        supervisor_reviewed: true,
        people: linked,
    });
    if matches!(
        plan.method,
        "sharp_instrument" | "blunt_instrument" | "hitting_kicking" | "shooting"
    ) && plan.location != "victims_home"
        && chance(rng, 0.35)
    {
        let mech = match plan.method {
            "sharp_instrument" => "cut_stab_sharp_object",
            "blunt_instrument" => "blunt_object",
            "shooting" => "firearm",
            _ => "hit_kick_bodily_force",
        };
        let home = world.pop.address_on(plan.victim, plan.at.date.add_days(-1));
        ev.ed.push(EdAttendance {
            event,
            patient: Participant { tag, ..Participant::new(plan.victim, "patient") },
            arrival: world.period.clamp(plan.at.add_minutes(between(rng, 15, 50) as u32)),
            injury: plan.at,
            site: site_for(world, rng, home),
            reason: EdReason::Assault(mech),
            place: "street_public_highway",
            location: plan.address,
            alcohol_drug: "none",
            admitted: false,
            died: true,
        });
    }
    ev.homicides.push(Homicide {
        event,
        victim: Participant { tag, ..Participant::new(plan.victim, "victim") },
        suspects: plan.suspects.clone(),
        at: plan.at,
        method: plan.method,
        relationship: plan.relationship,
        circumstances: plan.circumstances,
        location: plan.location,
        domestic: plan.domestic,
        drug: chance(rng, 0.15),
        alcohol: chance(rng, 0.25),
        subtype: subtype(victim_female, age, plan.domestic, plan.location),
        crime,
    });
}
