//! The rest of police-recorded crime, so that violence is found among ordinary volumes: violence
//! without injury, stalking and harassment, sexual offences, robbery, burglary, theft, criminal
//! damage, drug offences, weapon possession and public order (rates in [`crate::config::Rates`]
//! [assumption]).

use crate::events::pick::{PersonPicker, tier_weight};
use crate::events::violence::Pickers;
use crate::events::when::{self, Profile};
use crate::events::{Crime, Events, Participant};
use crate::population::flag;
use crate::rng::{Rng, between, chance, round_stochastic, stream, weighted};
use crate::world::World;

/// One group of offences: rate, codes, who the victim is, how often a suspect is named.
struct Group {
    rate: fn(&crate::config::Rates) -> f64,
    codes: &'static [(&'static str, f64)],
    victim: bool,
    at_home: bool,
    suspect: f64,
    female_victim: f64,
    drug: bool,
}

const GROUPS: [Group; 10] = [
    Group {
        rate: |r| r.violence_without_injury,
        codes: &[("105A", 0.9), ("3B", 0.1)],
        victim: true,
        at_home: false,
        suspect: 0.5,
        female_victim: 0.45,
        drug: false,
    },
    Group {
        rate: |r| r.stalking_harassment,
        codes: &[("8L", 0.75), ("8Q", 0.25)],
        victim: true,
        at_home: true,
        suspect: 0.7,
        female_victim: 0.65,
        drug: false,
    },
    Group {
        rate: |r| r.sexual_offences,
        codes: &[("17A", 0.6), ("19C", 0.4)],
        victim: true,
        at_home: false,
        suspect: 0.6,
        female_victim: 0.85,
        drug: false,
    },
    Group {
        rate: |r| r.robbery,
        codes: &[("34B", 1.0)],
        victim: true,
        at_home: false,
        suspect: 0.3,
        female_victim: 0.25,
        drug: false,
    },
    Group {
        rate: |r| r.burglary,
        codes: &[("28E", 1.0)],
        victim: true,
        at_home: true,
        suspect: 0.1,
        female_victim: 0.5,
        drug: false,
    },
    Group {
        rate: |r| r.theft,
        codes: &[("39", 0.2), ("45", 0.35), ("49", 0.45)],
        victim: true,
        at_home: false,
        suspect: 0.12,
        female_victim: 0.5,
        drug: false,
    },
    Group {
        rate: |r| r.criminal_damage,
        codes: &[("58A", 1.0)],
        victim: true,
        at_home: true,
        suspect: 0.2,
        female_victim: 0.5,
        drug: false,
    },
    Group {
        rate: |r| r.drug_offences,
        codes: &[("92D", 0.8), ("92A", 0.2)],
        victim: false,
        at_home: false,
        suspect: 1.0,
        female_victim: 0.0,
        drug: true,
    },
    Group {
        rate: |r| r.weapon_possession,
        codes: &[("10D", 1.0)],
        victim: false,
        at_home: false,
        suspect: 1.0,
        female_victim: 0.0,
        drug: false,
    },
    Group {
        rate: |r| r.public_order,
        codes: &[("9A", 1.0)],
        victim: false,
        at_home: false,
        suspect: 0.85,
        female_victim: 0.0,
        drug: false,
    },
];

/// Generates the other crime groups.
pub fn generate(world: &mut World, ev: &mut Events) {
    let world = &*world;
    let cfg = &world.config;
    let period = world.period;
    let start = period.start;
    let mut rng = stream(cfg.seed, "crime", 0);
    let pickers = Pickers::new(&world.pop, start);
    let adults = |female: bool| {
        PersonPicker::new(&world.pop, move |_, p| {
            let age = p.dob.age_on(start);
            if p.female != female || age < 12 || p.has(flag::CARE_HOME) {
                return 0.0;
            }
            tier_weight(p.risk, 0.3)
        })
    };
    let victims = [adults(false), adults(true)];
    for group in &GROUPS {
        for y in 0..period.years {
            let frac = f64::from(period.year_days(y)) / 365.25;
            let n = round_stochastic(&mut rng, (group.rate)(&cfg.rates) * cfg.scale * frac);
            for _ in 0..n {
                if let Some(c) = crime(world, ev, &mut rng, &pickers, &victims, group, y) {
                    ev.crimes.push(c);
                }
            }
        }
    }
}

fn crime(
    world: &World,
    ev: &mut Events,
    rng: &mut Rng,
    pickers: &Pickers,
    victims: &[PersonPicker; 2],
    group: &Group,
    year: u32,
) -> Option<Crime> {
    let profile = if group.victim && !group.at_home { Profile::Night } else { Profile::Any };
    let at = when::at(rng, world.period, year, profile);
    let mut people = Vec::new();
    let mut location = None;
    if group.victim {
        let female = chance(rng, group.female_victim);
        let v = victims[usize::from(female)].draw(rng, &world.pop, at.date, group.at_home)?;
        let home = world.pop.address_on(v, at.date);
        location = if group.at_home {
            home
        } else {
            home.and_then(|h| world.geo.public_place_near(rng, h))
        };
        people.push(Participant::new(v, "victim"));
    }
    if chance(rng, group.suspect) {
        let exclude = people.first().map(|p| p.person);
        if let Some(s) =
            pickers.suspect.draw_where(rng, &world.pop, at.date, false, |s| Some(s) != exclude)
        {
            if location.is_none() {
                location = world
                    .pop
                    .address_on(s, at.date)
                    .and_then(|h| world.geo.public_place_near(rng, h));
            }
            people.push(Participant::new(s, "suspect"));
        }
    }
    if people.is_empty() {
        return None;
    }
    let code = weighted(rng, group.codes);
    let outcome = if people.iter().any(|p| p.role == "suspect") {
        weighted(
            rng,
            &[
                ("charged", 0.3),
                ("out_of_court", 0.2),
                ("evidential_difficulties_victim", 0.3),
                ("under_investigation", 0.2),
            ],
        )
    } else {
        "no_suspect_identified"
    };
    Some(Crime {
        event: ev.event(),
        hocr: code,
        committed: at,
        reported: at.add_minutes(between(rng, 10, 4000) as u32),
        location,
        da: false,
        knife: false,
        drug: group.drug || chance(rng, 0.03),
        alcohol: chance(rng, 0.15),
        outcome,
        people,
    })
}
