//! Non-domestic violence: assaults seen in EDs (calibrated to ~2,750 a year, M:F ≈ 2.4:1, with
//! 59% never known to police, Gray 2017), the police crimes for those reported, assault
//! admissions (X85–Y09, most via A&E), police-only violence with injury, and knife-enabled
//! crime topped up to its target. Homicides come first (see [`super::homicide`]).

use std::collections::HashSet;

use crate::date::DateTime;
use crate::events::domestic::injury_offence;
use crate::events::pick::{PersonPicker, tier_weight, violence_age_weight};
use crate::events::when::{self, Profile};
use crate::events::{Admission, Crime, EdAttendance, EdReason, Events, Participant, site_for};
use crate::population::{Population, flag};
use crate::rng::{Rng, between, chance, index, round_stochastic, stream, unit, weighted};
use crate::world::World;

/// ICD-10 external cause and primary diagnoses for an assault mechanism (PHOF B12a: X85–Y09;
/// X99 = assault by sharp object). Diagnoses are 4-character ICD-10 without the dot.
pub fn assault_codes(mechanism: &str) -> (&'static str, &'static [&'static str]) {
    match mechanism {
        "cut_stab_sharp_object" => ("X99", &["S211", "S311", "S411", "S518", "S018"]),
        "blunt_object" => ("Y00", &["S060", "S020", "S018"]),
        "strangulation_asphyxiation" => ("X91", &["T71X"]),
        "firearm" => ("X95", &["S211"]),
        "poisoning_drug_or_substance" => ("X85", &["T509"]),
        "hit_kick_bodily_force" => ("Y04", &["S026", "S060", "S008", "S099"]),
        _ => ("Y09", &["T149"]),
    }
}

/// Crime outcomes for non-domestic violence [assumption].
const OUTCOMES: [(&str, f64); 6] = [
    ("charged", 0.12),
    ("out_of_court", 0.05),
    ("evidential_difficulties_victim", 0.30),
    ("no_suspect_identified", 0.25),
    ("under_investigation", 0.10),
    ("victim_declined", 0.18),
];

/// An ED assault attendance before it is decided whether police hear of it.
struct Draft {
    att: EdAttendance,
    report_weight: f64,
    admit_weight: f64,
}

/// Generates homicides, then assaults, admissions and violent crime.
pub fn generate(world: &mut World, ev: &mut Events) {
    super::homicide::generate(world, ev);
    let world = &*world;
    let mut rng = stream(world.seed(), "violence", 0);
    let pickers = Pickers::new(&world.pop, world.period.start);
    ed_assaults(world, ev, &mut rng, &pickers);
    direct_admissions(world, ev, &mut rng, &pickers);
    knife_top_up(world, ev, &mut rng, &pickers);
    police_violence(world, ev, &mut rng, &pickers);
}

/// Victim and suspect pickers.
pub struct Pickers {
    /// Male victims.
    pub male: PersonPicker,
    /// Female victims.
    pub female: PersonPicker,
    /// Suspects (mostly young men with higher risk tiers).
    pub suspect: PersonPicker,
}

impl Pickers {
    /// Builds the pickers at the period start.
    pub fn new(pop: &Population, start: crate::date::Date) -> Pickers {
        let victim = |female: bool| {
            PersonPicker::new(pop, move |_, p| {
                if p.female != female || p.has(flag::CARE_HOME) {
                    return 0.0;
                }
                let age = p.dob.age_on(start);
                let place = if p.has(flag::NFA) || p.has(flag::HOSTEL) { 3.0 } else { 1.0 };
                violence_age_weight(age, female) * tier_weight(p.risk, 0.8) * place
            })
        };
        let suspect = PersonPicker::new(pop, |_, p| {
            let age = p.dob.age_on(start);
            if !(14..=55).contains(&age) || p.has(flag::CARE_HOME) {
                return 0.0;
            }
            let sex = if p.female { 0.12 } else { 1.0 };
            violence_age_weight(age, false) * tier_weight(p.risk, 1.0) * sex
        });
        Pickers { male: victim(false), female: victim(true), suspect }
    }

    /// A victim of a sex, alive on the date.
    pub fn victim(
        &self,
        rng: &mut Rng,
        pop: &Population,
        female: bool,
        on: crate::date::Date,
    ) -> Option<u32> {
        let p = if female { &self.female } else { &self.male };
        p.draw(rng, pop, on, false)
    }
}

/// Event ids police know about (crimes, DA incidents, death reports).
pub fn police_events(ev: &Events) -> HashSet<u32> {
    let mut s: HashSet<u32> = ev.crimes.iter().map(|c| c.event).collect();
    s.extend(ev.da.iter().map(|d| d.event));
    s.extend(ev.deaths.iter().map(|d| d.event));
    s
}

fn is_assault(a: &EdAttendance) -> bool {
    matches!(a.reason, EdReason::Assault(_))
}

fn place_and_location(
    world: &World,
    rng: &mut Rng,
    victim: u32,
    on: crate::date::Date,
) -> (&'static str, Option<u32>) {
    let home = world.pop.address_on(victim, on);
    let place = weighted(
        rng,
        &[
            ("street_public_highway", 0.35),
            ("licensed_premises", 0.28),
            ("home", 0.20),
            ("other", 0.12),
            ("educational_establishment", 0.03),
            ("workplace", 0.02),
        ],
    );
    let location = match (place, home) {
        ("home", h) => h,
        (_, Some(h)) => world.geo.public_place_near(rng, h),
        (_, None) => {
            let ward = index(rng, world.geo.wards.len());
            crate::rng::pick(rng, &world.geo.ward_public_places[ward]).copied()
        }
    };
    (place, location)
}

fn ed_assaults(world: &World, ev: &mut Events, rng: &mut Rng, pk: &Pickers) {
    let cfg = &world.config;
    let period = world.period;
    let female_share = 1.0 / (1.0 + cfg.rates.ed_violence_male_per_female);
    let mut drafts: Vec<Draft> = Vec::new();
    for y in 0..period.years {
        let target = round_stochastic(
            rng,
            cfg.rates.ed_violence * cfg.scale * f64::from(period.year_days(y)) / 365.25,
        ) as i64;
        let existing: Vec<&EdAttendance> = ev
            .ed
            .iter()
            .filter(|a| is_assault(a) && period.year_of(a.arrival.date) == Some(y))
            .collect();
        let existing_f =
            existing.iter().filter(|a| world.pop.person(a.patient.person).female).count();
        let n = (target - existing.len() as i64).max(0);
        let n_f = ((female_share * target as f64).round() as i64 - existing_f as i64).clamp(0, n);
        for k in 0..n {
            let female = k < n_f;
            let injury = when::at(rng, period, y, Profile::Night);
            let Some(victim) = pk.victim(rng, &world.pop, female, injury.date) else { continue };
            let age = world.age(victim, injury.date);
            let young_male = !female && (15..=24).contains(&age);
            let tier = world.pop.person(victim).risk;
            let sharp =
                0.06 * if young_male { 2.5 } else { 1.0 } * if tier == 3 { 1.5 } else { 1.0 };
            let mech = weighted(
                rng,
                &[
                    ("cut_stab_sharp_object", sharp),
                    ("blunt_object", 0.12),
                    ("strangulation_asphyxiation", if female { 0.03 } else { 0.005 }),
                    ("firearm", 0.002),
                    ("other", 0.06),
                    ("hit_kick_bodily_force", 0.76),
                ],
            );
            let (place, location) = place_and_location(world, rng, victim, injury.date);
            let alcohol = if place != "home" && (18..=40).contains(&age) { 0.5 } else { 0.2 };
            let alcohol_drug = if chance(rng, alcohol) {
                if chance(rng, 0.15) { "alcohol_and_drugs" } else { "alcohol" }
            } else if chance(rng, 0.05) {
                "drugs"
            } else {
                "none"
            };
            let home = world.pop.address_on(victim, injury.date);
            let arrival = period.clamp(injury.add_minutes(between(rng, 20, 240) as u32));
            let mut report_weight = 1.0;
            if !female && (18..=34).contains(&age) {
                report_weight *= 0.7;
            }
            if female {
                report_weight *= 1.4;
            }
            if place != "home" {
                report_weight *= 0.85;
            }
            let admit_weight = match mech {
                "cut_stab_sharp_object" => 2.5,
                "blunt_object" | "strangulation_asphyxiation" | "firearm" => 1.5,
                _ => 1.0,
            };
            if mech == "cut_stab_sharp_object" {
                report_weight *= 1.5;
            }
            let event = ev.event();
            drafts.push(Draft {
                att: EdAttendance {
                    event,
                    patient: Participant::new(victim, "patient"),
                    arrival,
                    injury,
                    site: site_for(world, rng, home),
                    reason: EdReason::Assault(mech),
                    place,
                    location,
                    alcohol_drug,
                    admitted: false,
                    died: false,
                },
                report_weight,
                admit_weight,
            });
        }
    }
    // Police hear of (1 − 59%) of all ED assault attendances; DA ones and planted ones already
    // count for what they are.
    let known = police_events(ev);
    let existing_total = ev.ed.iter().filter(|a| is_assault(a)).count();
    let existing_known = ev.ed.iter().filter(|a| is_assault(a) && known.contains(&a.event)).count();
    let total = (existing_total + drafts.len()) as f64;
    let want_known = (1.0 - cfg.rates.ed_violence_unknown_to_police) * total;
    let to_report = (want_known - existing_known as f64).max(0.0);
    // Admissions via A&E: 80.9% of the configured assault admissions. Decided first, because
    // admitted victims are likelier to be reported and the report weights must include that.
    let existing_adm = ev.apc.iter().filter(|a| is_assault_cause(a.external)).count() as f64;
    let via_ed = cfg.rates.violence_admissions_via_ed
        * cfg.rates.violence_admissions
        * cfg.scale
        * f64::from(period.years);
    let to_admit = (via_ed - existing_adm * cfg.rates.violence_admissions_via_ed).max(0.0);
    let admit_sum: f64 = drafts.iter().map(|d| d.admit_weight).sum::<f64>().max(1e-9);
    for d in &mut drafts {
        let EdReason::Assault(mech) = d.att.reason else { continue };
        if !chance(rng, d.admit_weight * to_admit / admit_sum) {
            continue;
        }
        let (external, diagnoses) = assault_codes(mech);
        let stay = between(rng, 0, if mech == "cut_stab_sharp_object" { 12 } else { 5 });
        ev.apc.push(Admission {
            event: d.att.event,
            patient: Participant::new(d.att.patient.person, "patient"),
            admitted: d.att.arrival.date,
            discharged: d.att.arrival.date.add_days(stay as i32),
            method: "21",
            diagnosis: crate::rng::pick(rng, diagnoses).copied().unwrap_or("T149"),
            external,
            site: d.att.site,
        });
        d.att.admitted = true;
        d.report_weight *= 1.3;
    }
    let weight_sum: f64 = drafts.iter().map(|d| d.report_weight).sum::<f64>().max(1e-9);
    for d in drafts {
        let p = (d.report_weight * to_report / weight_sum).min(0.95);
        if let EdReason::Assault(mech) = d.att.reason
            && chance(rng, p)
        {
            let code = match (mech, d.att.admitted) {
                ("cut_stab_sharp_object" | "blunt_object" | "firearm", true) => "5/1",
                ("strangulation_asphyxiation", _) => "8S",
                (_, true) => "8F",
                _ => "8N",
            };
            let crime = assault_crime(
                world,
                rng,
                pk,
                d.att.event,
                code,
                d.att.injury,
                d.att.patient.person,
                d.att.location,
                mech == "cut_stab_sharp_object",
                d.att.alcohol_drug != "none",
            );
            ev.crimes.push(crime);
        }
        ev.ed.push(d.att);
    }
}

/// Whether an ICD-10 external cause is assault (X85–Y09).
pub fn is_assault_cause(code: &str) -> bool {
    let c = code.as_bytes();
    if c.len() < 3 {
        return false;
    }
    let n: u32 = code[1..3].parse().unwrap_or(0);
    (c[0] == b'X' && n >= 85) || (c[0] == b'Y' && n <= 9)
}

/// A police crime for an assault on `victim`, with a suspect (55%) and a witness (20%).
#[allow(clippy::too_many_arguments)]
pub fn assault_crime(
    world: &World,
    rng: &mut Rng,
    pk: &Pickers,
    event: u32,
    code: &'static str,
    at: DateTime,
    victim: u32,
    location: Option<u32>,
    knife: bool,
    alcohol: bool,
) -> Crime {
    let mut people = vec![Participant::new(victim, "victim")];
    let identified = chance(rng, 0.55);
    if identified
        && let Some(s) = pk.suspect.draw_where(rng, &world.pop, at.date, false, |s| s != victim)
    {
        people.push(Participant::new(s, "suspect"));
    }
    if chance(rng, 0.2)
        && let Some(w) = pk.male.draw_where(rng, &world.pop, at.date, false, |w| w != victim)
    {
        people.push(Participant::new(w, "witness"));
    }
    let outcome =
        if identified { weighted(rng, &OUTCOMES[..3]) } else { weighted(rng, &OUTCOMES[3..]) };
    Crime {
        event,
        hocr: crate::codes::hocr(code).0,
        committed: at,
        reported: at.add_minutes(between(rng, 10, 2880) as u32),
        location,
        da: false,
        knife,
        drug: chance(rng, 0.05),
        alcohol,
        outcome,
        people,
    }
}

fn direct_admissions(world: &World, ev: &mut Events, rng: &mut Rng, pk: &Pickers) {
    let cfg = &world.config;
    let period = world.period;
    let total = cfg.rates.violence_admissions * cfg.scale * f64::from(period.years);
    let existing = ev.apc.iter().filter(|a| is_assault_cause(a.external)).count() as f64;
    let n = round_stochastic(rng, (total - existing).max(0.0));
    for _ in 0..n {
        let y = index(rng, period.years as usize) as u32;
        let at = when::at(rng, period, y, Profile::Night);
        let female = chance(rng, 0.2);
        let Some(victim) = pk.victim(rng, &world.pop, female, at.date) else { continue };
        let mech = weighted(
            rng,
            &[
                ("hit_kick_bodily_force", 0.6),
                ("cut_stab_sharp_object", 0.2),
                ("blunt_object", 0.15),
                ("other", 0.05),
            ],
        );
        let (external, diagnoses) = assault_codes(mech);
        let event = ev.event();
        let home = world.pop.address_on(victim, at.date);
        let site = site_for(world, rng, home);
        ev.apc.push(Admission {
            event,
            patient: Participant::new(victim, "patient"),
            admitted: at.date,
            discharged: at.date.add_days(between(rng, 1, 9) as i32),
            method: "28",
            diagnosis: crate::rng::pick(rng, diagnoses).copied().unwrap_or("T149"),
            external,
            site,
        });
        if chance(rng, 0.5) {
            let (_, location) = place_and_location(world, rng, victim, at.date);
            let knife = mech == "cut_stab_sharp_object";
            let code = if knife || mech == "blunt_object" { "5/1" } else { "8F" };
            let crime =
                assault_crime(world, rng, pk, event, code, at, victim, location, knife, false);
            ev.crimes.push(crime);
        }
    }
}

fn knife_top_up(world: &World, ev: &mut Events, rng: &mut Rng, pk: &Pickers) {
    let cfg = &world.config;
    let period = world.period;
    for y in 0..period.years {
        let target = round_stochastic(
            rng,
            cfg.rates.knife_crimes * cfg.scale * f64::from(period.year_days(y)) / 365.25,
        ) as i64;
        let have = ev
            .crimes
            .iter()
            .filter(|c| c.knife && period.year_of(c.committed.date) == Some(y))
            .count() as i64;
        for _ in 0..(target - have).max(0) {
            let at = when::at(rng, period, y, Profile::Night);
            let female = chance(rng, 0.15);
            let Some(victim) = pk.victim(rng, &world.pop, female, at.date) else { continue };
            let code = weighted(
                rng,
                &[
                    ("8N", 0.30),
                    ("5/1", 0.08),
                    ("34B", 0.30),
                    ("3B", 0.25),
                    ("2/0", 0.03),
                    ("17A", 0.04),
                ],
            );
            let (_, location) = place_and_location(world, rng, victim, at.date);
            let event = ev.event();
            let alcohol = chance(rng, 0.2);
            let crime =
                assault_crime(world, rng, pk, event, code, at, victim, location, true, alcohol);
            ev.crimes.push(crime);
        }
    }
}

fn police_violence(world: &World, ev: &mut Events, rng: &mut Rng, pk: &Pickers) {
    let cfg = &world.config;
    let period = world.period;
    for y in 0..period.years {
        let frac = f64::from(period.year_days(y)) / 365.25;
        let target =
            round_stochastic(rng, cfg.rates.violence_with_injury * cfg.scale * frac) as i64;
        let have = ev
            .crimes
            .iter()
            .filter(|c| {
                !c.da && injury_offence(c.hocr) && period.year_of(c.committed.date) == Some(y)
            })
            .count() as i64;
        for _ in 0..(target - have).max(0) {
            let at = when::at(rng, period, y, Profile::Night);
            let female = chance(rng, 0.35);
            let Some(victim) = pk.victim(rng, &world.pop, female, at.date) else { continue };
            let code = weighted(rng, &[("8N", 0.88), ("8F", 0.08), ("8S", 0.04)]);
            let (_, location) = place_and_location(world, rng, victim, at.date);
            let event = ev.event();
            let alcohol = unit(rng) < 0.35;
            let crime =
                assault_crime(world, rng, pk, event, code, at, victim, location, false, alcohol);
            ev.crimes.push(crime);
        }
    }
}
