//! Health events: self-harm and accidental overdose ED attendances (with admissions for some),
//! and each person's count of background ED attendances, calibrated so the ED total is ~470,000
//! a year at scale 1 (domain.md §7), more for young children, the very old, higher risk tiers,
//! and people of no fixed abode, with a frailty term so a few people attend very often.

use crate::events::pick::{PersonPicker, tier_weight};
use crate::events::when::{self, Profile};
use crate::events::{Admission, EdAttendance, EdReason, Events, Participant, site_for};
use crate::population::flag;
use crate::rng::{Rng, between, chance, poisson, round_stochastic, stream, weighted};
use crate::world::World;

/// Generates self-harm and overdose attendances and background ED counts.
pub fn generate(world: &mut World, ev: &mut Events) {
    let world = &*world;
    let cfg = &world.config;
    let period = world.period;
    let start = period.start;
    let mut rng = stream(cfg.seed, "health", 0);
    let self_harm = PersonPicker::new(&world.pop, |_, p| {
        let age = p.dob.age_on(start);
        let base = match (p.female, age) {
            (_, 0..=11) => 0.0,
            (true, 12..=24) => 3.0,
            (true, 25..=44) => 1.5,
            (false, 15..=44) => 1.0,
            (_, 45..=64) => 0.6,
            _ => 0.15,
        };
        let place = if p.has(flag::NFA) || p.has(flag::HOSTEL) { 3.0 } else { 1.0 };
        base * tier_weight(p.risk, 0.8) * place
    });
    let overdose = PersonPicker::new(&world.pop, |_, p| {
        let age = p.dob.age_on(start);
        if !(16..=65).contains(&age) || p.risk < 1 {
            return 0.0;
        }
        let place = if p.has(flag::NFA) || p.has(flag::HOSTEL) { 5.0 } else { 1.0 };
        let sex = if p.female { 0.45 } else { 1.0 };
        tier_weight(p.risk, 1.0) * place * sex
    });
    for y in 0..period.years {
        let frac = f64::from(period.year_days(y)) / 365.25;
        let n = round_stochastic(&mut rng, cfg.rates.ed_self_harm * cfg.scale * frac);
        for _ in 0..n {
            attendance(world, ev, &mut rng, &self_harm, y, true);
        }
        let n = round_stochastic(&mut rng, cfg.rates.ed_overdose * cfg.scale * frac);
        for _ in 0..n {
            attendance(world, ev, &mut rng, &overdose, y, false);
        }
    }
    background(world, ev);
}

fn attendance(
    world: &World,
    ev: &mut Events,
    rng: &mut Rng,
    picker: &PersonPicker,
    year: u32,
    self_harm: bool,
) {
    let at = when::at(rng, world.period, year, Profile::Evening);
    let Some(p) = picker.draw(rng, &world.pop, at.date, false) else { return };
    let mech = if self_harm {
        weighted(
            rng,
            &[
                ("poisoning_drug_or_substance", 0.75),
                ("cut_stab_sharp_object", 0.20),
                ("other", 0.05),
            ],
        )
    } else {
        "poisoning_drug_or_substance"
    };
    let home = world.pop.address_on(p, at.date);
    let event = ev.event();
    let arrival = world.period.clamp(at.add_minutes(between(rng, 20, 300) as u32));
    let site = site_for(world, rng, home);
    let admitted = chance(rng, if self_harm { 0.25 } else { 0.3 });
    if admitted {
        let (external, diagnosis) = match (self_harm, mech) {
            (true, "cut_stab_sharp_object") => ("X78", "S518"),
            (true, _) => (if chance(rng, 0.6) { "X60" } else { "X62" }, "T391"),
            (false, _) => ("X42", if chance(rng, 0.6) { "T401" } else { "T405" }),
        };
        ev.apc.push(Admission {
            event,
            patient: Participant::new(p, "patient"),
            admitted: arrival.date,
            discharged: arrival.date.add_days(between(rng, 0, 4) as i32),
            method: "21",
            diagnosis,
            external,
            site,
        });
    }
    ev.ed.push(EdAttendance {
        event,
        patient: Participant::new(p, "patient"),
        arrival,
        injury: at,
        site,
        reason: if self_harm { EdReason::SelfHarm(mech) } else { EdReason::Overdose },
        place: if home.is_some() && chance(rng, 0.8) { "home" } else { "other" },
        location: home,
        alcohol_drug: if self_harm {
            if chance(rng, 0.3) { "alcohol" } else { "none" }
        } else if chance(rng, 0.3) {
            "alcohol_and_drugs"
        } else {
            "drugs"
        },
        admitted,
        died: false,
    });
}

/// Each person's number of background attendances over the period.
fn background(world: &World, ev: &mut Events) {
    let cfg = &world.config;
    let period = world.period;
    let mut rng = stream(cfg.seed, "ed-background-counts", 0);
    let days = f64::from(period.days());
    let weights: Vec<f64> = world
        .pop
        .persons
        .iter()
        .map(|p| {
            if p.has(flag::PLANTED) {
                return 0.0;
            }
            let age = p.dob.age_on(period.start);
            let base = match age {
                0..=4 => 0.65,
                5..=14 => 0.3,
                15..=29 => 0.42,
                30..=59 => 0.33,
                60..=79 => 0.4,
                _ => 0.95,
            };
            let frailty = weighted(&mut rng, &[(0.5, 0.5), (1.0, 0.3), (3.0, 0.2)]);
            let place = if p.has(flag::NFA) || p.has(flag::HOSTEL) {
                4.0
            } else if p.has(flag::CARE_HOME) {
                1.5
            } else {
                1.0
            };
            let alive = match p.death {
                Some(d) => (f64::from(d.since(period.start)) / days).clamp(0.0, 1.0),
                None => 1.0,
            };
            base * [1.0, 1.4, 2.2, 4.0][usize::from(p.risk.min(3))] * place * frailty * alive
        })
        .collect();
    let total: f64 = weights.iter().sum::<f64>().max(1e-9);
    let target =
        (cfg.rates.ed_all * cfg.scale * f64::from(period.years) - ev.ed.len() as f64).max(0.0);
    let per = target / total;
    ev.ed_background = weights.iter().map(|w| poisson(&mut rng, w * per).min(255) as u8).collect();
}
