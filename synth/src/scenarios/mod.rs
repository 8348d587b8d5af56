//! Planted scenarios with known answers (domain.md §9(a)6): their people, addresses and
//! events are created here, before background events, and every record they produce carries a
//! tag naming the scenario and the record's role, which `truth/scenario_member.csv` lists.
//! Planted people are flagged so background events leave them alone, which keeps each answer
//! exact.
//!
//! Dates are written for the default period (2023-04-01 to 2026-03-31) and shifted with it.
//!
//! # Layout
//!
//! - [`deaths`]: the Port-like series, the care-home cluster and its decoy, the hostel hotspot.
//! - [`domestic`]: DA escalation ending in homicide, and in suspected victim suicide.
//! - [`youth`]: the youth knife network.
//! - [`decoys`]: false-match decoys (twins, father and son, a mother's NHS number on a child's
//!   record, a re-issued NHS number, a birthday collision).

pub mod deaths;
pub mod decoys;
pub mod domestic;
pub mod youth;

use std::collections::HashSet;

use crate::date::{Date, DateTime};
use crate::events::{Death, EdAttendance, EdReason, Events, Participant, Shown, Tag, site_for};
use crate::geography::AddressKind;
use crate::population::{Ethnicity, Household, HouseholdKind, Person, Residence, flag};
use crate::rng::{Rng, index, stream};
use crate::world::{ScenarioInfo, World};

/// Plants every scenario; returns people whose NHS number was re-issued.
pub fn plant(world: &mut World, events: &mut Events) -> Vec<u32> {
    let occupied: HashSet<u32> = world
        .pop
        .residences
        .iter()
        .filter(|r| r.to.is_none_or(|t| t >= world.period.start))
        .map(|r| r.address)
        .collect();
    let mut p = Planter {
        rng: stream(world.seed(), "scenarios", 0),
        world,
        ev: events,
        occupied,
        planted: Vec::new(),
        reissued: Vec::new(),
    };
    deaths::port_series(&mut p);
    deaths::care_homes(&mut p);
    deaths::hostel(&mut p);
    domestic::homicide(&mut p);
    domestic::suicide(&mut p);
    youth::knife_network(&mut p);
    decoys::twins(&mut p);
    decoys::father_son(&mut p);
    decoys::mothers_number(&mut p);
    decoys::reissued_number(&mut p);
    decoys::birthday_collision(&mut p);
    p.reissued
}

/// Tools for planting.
pub struct Planter<'a> {
    /// The world.
    pub world: &'a mut World,
    /// The event log.
    pub ev: &'a mut Events,
    /// The scenarios' random stream.
    pub rng: Rng,
    occupied: HashSet<u32>,
    /// Residences of planted people (the population index does not cover them yet).
    planted: Vec<Residence>,
    /// People whose NHS number was re-issued.
    pub reissued: Vec<u32>,
}

/// A scenario-fixed appearance with no random errors.
pub fn clean() -> Option<Box<Shown>> {
    Some(Shown::clean())
}

/// A clean appearance with some fields fixed.
pub fn shown(
    forename: Option<&str>,
    surname: Option<&str>,
    dob: Option<Option<Date>>,
) -> Option<Box<Shown>> {
    Some(Box::new(Shown {
        clean: true,
        forename: forename.map(str::to_string),
        surname: surname.map(str::to_string),
        dob,
        ..Shown::default()
    }))
}

impl Planter<'_> {
    /// Registers a scenario.
    pub fn scenario(
        &mut self,
        id: &'static str,
        kind: &'static str,
        expected: &'static str,
        description: String,
    ) -> u16 {
        self.world.scenario(ScenarioInfo { id, kind, description, expected_queries: expected })
    }

    /// A tag.
    pub fn tag(s: u16, role: &'static str) -> Option<Tag> {
        Some(Tag { scenario: s, role })
    }

    /// A date of the default period, shifted to the configured one and kept inside it.
    pub fn date(&self, y: i32, m: u32, d: u32) -> Date {
        let nominal = Date::from_ymd(y, m, d);
        let shifted = self.shift(nominal);
        shifted.min(self.world.period.last_day()).max(self.world.period.start)
    }

    /// A date (of birth, say) shifted with the period but not clamped.
    pub fn shift(&self, nominal: Date) -> Date {
        let base = Date::from_ymd(2023, 4, 1);
        self.world.period.start.add_days(nominal.since(base))
    }

    /// A moment in the default period, shifted.
    pub fn at(&self, y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime {
        DateTime::new(self.date(y, m, d), hh * 60 + mm)
    }

    /// A new household.
    pub fn household(&mut self, kind: HouseholdKind, tier: u8) -> u32 {
        let pop = &mut self.world.pop;
        pop.households.push(Household { first: pop.persons.len() as u32, size: 0, tier, kind });
        (pop.households.len() - 1) as u32
    }

    /// A new planted person in the newest household.
    #[allow(clippy::too_many_arguments)]
    pub fn person(
        &mut self,
        given: &str,
        middle: Option<&str>,
        family: &str,
        dob: Date,
        female: bool,
        ethnicity: Ethnicity,
        risk: u8,
    ) -> u32 {
        let names = &mut self.world.names;
        let given = names.intern(given);
        let middle = middle.map(|m| names.intern(m));
        let family = names.intern(family);
        let pop = &mut self.world.pop;
        let household = (pop.households.len() - 1) as u32;
        pop.persons.push(Person {
            given,
            middle,
            family,
            birth_family: family,
            dob: self.world.period.start.add_days(dob.since(Date::from_ymd(2023, 4, 1))),
            female,
            ethnicity,
            household,
            risk,
            flags: flag::PLANTED,
            death: None,
            nhs: None,
            old_nhs: None,
        });
        if let Some(h) = pop.households.last_mut() {
            h.size += 1;
        }
        (pop.persons.len() - 1) as u32
    }

    /// Records that `person` lived at `address` from `from` (until `to`).
    pub fn live(&mut self, person: u32, address: u32, from: Date, to: Option<Date>) {
        let r = Residence { person, address, from, to };
        self.world.pop.residences.push(r);
        self.planted.push(r);
        self.occupied.insert(address);
    }

    /// A dwelling nobody lives in during the period: in the council and of the kind asked for
    /// if one is free, else any free dwelling in the council, else anywhere.
    pub fn vacant(&mut self, council: u8, flat: bool) -> u32 {
        let geo = &self.world.geo;
        let mut tiers: [Vec<u32>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (l, list) in geo.lsoa_dwellings.iter().enumerate() {
            let here = geo.lsoa_council(l as u32) == council;
            for &d in list {
                if self.occupied.contains(&d) {
                    continue;
                }
                let kind_ok = (geo.address(d).kind == AddressKind::Flat) == flat;
                let tier = match (here, kind_ok) {
                    (true, true) => 0,
                    (true, false) => 1,
                    _ => 2,
                };
                tiers[tier].push(d);
            }
        }
        let chosen = tiers
            .iter()
            .find(|t| !t.is_empty())
            .map(|t| t[index(&mut self.rng, t.len())])
            // Every dwelling taken (never at the default vacancy): share the first one.
            .unwrap_or_else(|| geo.lsoa_dwellings.iter().flatten().copied().next().unwrap_or(0));
        self.occupied.insert(chosen);
        chosen
    }

    /// Rebuilds the population's residence index (after adding planted residences, before
    /// code that looks addresses up through it).
    pub fn reindex(&mut self) {
        self.world.pop.index();
    }

    /// A planted crime; returns its index.
    #[allow(clippy::too_many_arguments)]
    pub fn crime(
        &mut self,
        hocr: &'static str,
        at: DateTime,
        location: Option<u32>,
        people: Vec<Participant>,
        knife: bool,
        da: bool,
        outcome: &'static str,
        event: Option<u32>,
    ) -> usize {
        let event = event.unwrap_or_else(|| self.ev.event());
        self.ev.crimes.push(crate::events::Crime {
            event,
            hocr,
            committed: at,
            reported: at.add_minutes(90),
            location,
            da,
            knife,
            drug: false,
            alcohol: false,
            outcome,
            people,
        });
        self.ev.crimes.len() - 1
    }

    /// A tagged, clean participant.
    pub fn who(person: u32, role: &'static str, tag: Option<Tag>) -> Participant {
        Participant { tag, shown: clean(), ..Participant::new(person, role) }
    }

    /// Sets a death date.
    pub fn dies(&mut self, person: u32, on: Date) {
        crate::events::deaths::set_death(self.world, person, on);
    }

    /// A planted ED attendance.
    #[allow(clippy::too_many_arguments)]
    pub fn ed(
        &mut self,
        person: u32,
        arrival: DateTime,
        reason: EdReason,
        place: &'static str,
        location: Option<u32>,
        alcohol_drug: &'static str,
        tag: Option<Tag>,
        shown: Option<Box<Shown>>,
        event: Option<u32>,
    ) -> u32 {
        let event = event.unwrap_or_else(|| self.ev.event());
        let home = self.home(person, arrival.date);
        let site = site_for(self.world, &mut self.rng, home.or(location));
        self.ev.ed.push(EdAttendance {
            event,
            patient: Participant { person, role: "patient", tag, shown },
            arrival,
            injury: DateTime::new(arrival.date, u32::from(arrival.minute).saturating_sub(45)),
            site,
            reason,
            place,
            location,
            alcohol_drug,
            admitted: false,
            died: false,
        });
        event
    }

    /// A planted death report.
    #[allow(clippy::too_many_arguments)]
    pub fn death(
        &mut self,
        deceased: Participant,
        found: DateTime,
        location: Option<u32>,
        location_type: &'static str,
        mechanism: &'static str,
        substance: &'static str,
        categories: Vec<(&'static str, DateTime)>,
        people: Vec<Participant>,
    ) -> u32 {
        let event = self.ev.event();
        self.dies(deceased.person, found.date);
        self.ev.deaths.push(Death {
            event,
            person: deceased,
            found,
            reported: found.add_minutes(25),
            location,
            location_type,
            mechanism,
            substance,
            categories,
            da_history: false,
            pm_type: "routine",
            supervisor_reviewed: true,
            people,
        });
        event
    }

    /// Where a planted person lived on a date.
    pub fn home(&self, person: u32, on: Date) -> Option<u32> {
        self.planted
            .iter()
            .rev()
            .find(|r| r.person == person && r.from <= on && r.to.is_none_or(|t| on < t))
            .map(|r| r.address)
    }
}
