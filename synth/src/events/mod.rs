//! The true event history: what really happened to whom, where and when, before any agency
//! writes it down. Each event has a truth `event` id shared by every agency record of it (an
//! assault is one event whether the ED, the police or neither recorded it).
//!
//! # Layout
//!
//! - [`when`]: dates and times with weekday, hour and season profiles.
//! - [`pick`]: weighted choice of people for events.
//! - [`domestic`]: DA relationships and their incidents, and what follows from them.
//! - [`violence`]: assaults (ED, police, admissions), knife crime.
//! - [`homicide`]: homicides: crime, death report, Homicide Index row.
//! - [`deaths`]: police death reports among the period's deaths.
//! - [`crime`]: the rest of police-recorded crime.
//! - [`health`]: self-harm and overdose attendances and the background ED volume.
//! - [`council`]: children's social care, adult safeguarding, homelessness, exclusions.

pub mod council;
pub mod crime;
pub mod deaths;
pub mod domestic;
pub mod health;
pub mod homicide;
pub mod pick;
pub mod violence;
pub mod when;

use crate::date::{Date, DateTime};
use crate::world::World;

/// A planted scenario's claim on a record: which scenario and in what role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// Index into `World::scenarios`.
    pub scenario: u16,
    /// The record's role in the scenario.
    pub role: &'static str,
}

/// How the NHS number shows in a record, when a scenario fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NhsShown {
    /// As the agency's error model decides.
    #[default]
    Default,
    /// Absent, with status 03 (trace required).
    Missing,
    /// Another person's number (valid but wrong: a parent's on a child's record).
    OfPerson(u32),
    /// The person's earlier number (before re-issue).
    Old,
    /// The person's own number, verified (status 01).
    Present,
}

/// Exactly how a scenario wants an identity to appear in one record. Unset fields show as the
/// truth; with `clean`, no random errors are added.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// No random errors.
    pub clean: bool,
    /// Forename as written.
    pub forename: Option<String>,
    /// Surname as written.
    pub surname: Option<String>,
    /// Date of birth as written (`Some(None)` = left blank).
    pub dob: Option<Option<Date>>,
    /// NHS number.
    pub nhs: NhsShown,
    /// Police alias text, `FORENAMES SURNAME;…`.
    pub alias: Option<String>,
    /// A separate local registration (nominal, MRN …) for this record: 0 = the person's usual
    /// one; 2 and up = another record the agency created because it did not find the first.
    pub registration: u8,
}

impl Shown {
    /// A clean record with the truth.
    pub fn clean() -> Box<Shown> {
        Box::new(Shown { clean: true, ..Shown::default() })
    }
}

/// A person in an event in a role.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Person id.
    pub person: u32,
    /// Role (from the event's role code list).
    pub role: &'static str,
    /// Scenario membership of this person's record.
    pub tag: Option<Tag>,
    /// Scenario-fixed appearance.
    pub shown: Option<Box<Shown>>,
}

impl Participant {
    /// A background participant.
    pub fn new(person: u32, role: &'static str) -> Participant {
        Participant { person, role, tag: None, shown: None }
    }
}

/// A death reported to police.
#[derive(Debug, Clone)]
pub struct Death {
    /// Truth event id.
    pub event: u32,
    /// The deceased.
    pub person: Participant,
    /// Found (or pronounced) at.
    pub found: DateTime,
    /// Reported to police at.
    pub reported: DateTime,
    /// Where (an address; None = not recorded).
    pub location: Option<u32>,
    /// Location type code.
    pub location_type: &'static str,
    /// Suspected mechanism code.
    pub mechanism: &'static str,
    /// Substance suspected code.
    pub substance: &'static str,
    /// Category history, oldest first (the last is current), with the date each applied from.
    pub categories: Vec<(&'static str, DateTime)>,
    /// Victim or household known for DA.
    pub da_history: bool,
    /// Post-mortem type.
    pub pm_type: &'static str,
    /// A supervisor reviewed the report.
    pub supervisor_reviewed: bool,
    /// Linked people (finder, next of kin …).
    pub people: Vec<Participant>,
}

/// A police-recorded crime.
#[derive(Debug, Clone)]
pub struct Crime {
    /// Truth event id.
    pub event: u32,
    /// HOCR code (see [`crate::codes::HOCR`]).
    pub hocr: &'static str,
    /// Committed at.
    pub committed: DateTime,
    /// Reported at.
    pub reported: DateTime,
    /// Where.
    pub location: Option<u32>,
    /// Domestic abuse flag.
    pub da: bool,
    /// Knife or sharp instrument (Home Office selected offences).
    pub knife: bool,
    /// Drug-related.
    pub drug: bool,
    /// Alcohol-related.
    pub alcohol: bool,
    /// Outcome code.
    pub outcome: &'static str,
    /// Victims, suspects, witnesses.
    pub people: Vec<Participant>,
}

/// A domestic-abuse incident attended by police.
#[derive(Debug, Clone)]
pub struct DaIncident {
    /// Truth event id.
    pub event: u32,
    /// When.
    pub at: DateTime,
    /// Where.
    pub location: Option<u32>,
    /// Victim.
    pub victim: Participant,
    /// Perpetrator.
    pub perpetrator: Participant,
    /// DASH risk.
    pub dash: &'static str,
    /// Relationship of perpetrator to victim (partner, ex_partner, family).
    pub relationship: &'static str,
    /// The crime recorded for it, an index into `Events::crimes`.
    pub crime: Option<usize>,
}

/// Why someone attended an ED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdReason {
    /// Assault with a mechanism meaning (see [`crate::codes::MECHANISMS`]).
    Assault(&'static str),
    /// Self-harm with a mechanism meaning.
    SelfHarm(&'static str),
    /// Accidental overdose or poisoning.
    Overdose,
    /// An accidental injury with a mechanism meaning (planted records).
    Injury(&'static str),
    /// An illness with a chief complaint meaning (planted records).
    Illness(&'static str),
}

/// A significant ED attendance (assault, self-harm, overdose); background attendances are
/// drawn at render time from per-person counts.
#[derive(Debug, Clone)]
pub struct EdAttendance {
    /// Truth event id.
    pub event: u32,
    /// The patient.
    pub patient: Participant,
    /// Arrival.
    pub arrival: DateTime,
    /// Injury time.
    pub injury: DateTime,
    /// Index into `Geography::sites`.
    pub site: u8,
    /// Why.
    pub reason: EdReason,
    /// Place of injury meaning (see [`crate::codes::PLACES`]).
    pub place: &'static str,
    /// Where the assault happened (ISTV location), if known.
    pub location: Option<u32>,
    /// Alcohol/drug involvement meaning.
    pub alcohol_drug: &'static str,
    /// Admitted (an APC spell follows).
    pub admitted: bool,
    /// Died in the department.
    pub died: bool,
}

/// A significant hospital admission (violence, or planted).
#[derive(Debug, Clone)]
pub struct Admission {
    /// Truth event id.
    pub event: u32,
    /// The patient.
    pub patient: Participant,
    /// Admission date.
    pub admitted: Date,
    /// Discharge date.
    pub discharged: Date,
    /// Admission method code (21 = emergency via A&E).
    pub method: &'static str,
    /// Primary diagnosis (ICD-10).
    pub diagnosis: &'static str,
    /// External cause (ICD-10 X85–Y09 for assault, X99 sharp object).
    pub external: &'static str,
    /// Site index.
    pub site: u8,
}

/// A children's social care referral.
#[derive(Debug, Clone)]
pub struct CinReferral {
    /// Truth event id.
    pub event: u32,
    /// The child.
    pub child: Participant,
    /// Referral date.
    pub date: Date,
    /// Council.
    pub council: u8,
    /// ReferralSource code.
    pub source: &'static str,
    /// PrimaryNeedCode.
    pub need: &'static str,
    /// Assessment factors.
    pub factors: Vec<&'static str>,
    /// No further action.
    pub nfa: bool,
}

/// An adult safeguarding concern.
#[derive(Debug, Clone)]
pub struct AscConcern {
    /// Truth event id.
    pub event: u32,
    /// The adult at risk.
    pub adult: Participant,
    /// Concern date.
    pub date: Date,
    /// Council.
    pub council: u8,
    /// Led to a Section 42 enquiry.
    pub s42: bool,
    /// Type of risk.
    pub risk: &'static str,
    /// Location of risk.
    pub location: &'static str,
    /// Source of risk.
    pub source: &'static str,
    /// Where (address) if the location is a care home.
    pub address: Option<u32>,
}

/// A homelessness case (household owed a duty).
#[derive(Debug, Clone)]
pub struct HomelessCase {
    /// Truth event id.
    pub event: u32,
    /// Lead applicant.
    pub applicant: Participant,
    /// Assessment date.
    pub date: Date,
    /// Council.
    pub council: u8,
    /// Duty owed.
    pub duty: &'static str,
    /// Reason for loss of last settled home.
    pub reason: &'static str,
    /// Support needs.
    pub needs: Vec<&'static str>,
    /// Accommodation at application.
    pub accommodation: &'static str,
    /// Last settled address.
    pub last_settled: Option<u32>,
    /// Placed in temporary accommodation.
    pub temporary: bool,
    /// Children in the household.
    pub with_children: bool,
}

/// A school suspension or permanent exclusion.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// Truth event id.
    pub event: u32,
    /// The pupil.
    pub pupil: Participant,
    /// Start date.
    pub date: Date,
    /// Council.
    pub council: u8,
    /// School index.
    pub school: u32,
    /// Permanent rather than a suspension.
    pub permanent: bool,
    /// Reason code.
    pub reason: &'static str,
    /// Sessions (half days).
    pub sessions: u16,
}

/// A homicide as the Home Office Homicide Index records it.
#[derive(Debug, Clone)]
pub struct Homicide {
    /// Truth event id (shared with the crime and the death report).
    pub event: u32,
    /// The victim.
    pub victim: Participant,
    /// Suspects.
    pub suspects: Vec<u32>,
    /// When.
    pub at: DateTime,
    /// Method.
    pub method: &'static str,
    /// Relationship of victim to principal suspect.
    pub relationship: &'static str,
    /// Apparent circumstances.
    pub circumstances: &'static str,
    /// Location.
    pub location: &'static str,
    /// Domestic.
    pub domestic: bool,
    /// Drug-related.
    pub drug: bool,
    /// Alcohol-related.
    pub alcohol: bool,
    /// Home Office sub-type.
    pub subtype: &'static str,
    /// Index into `Events::crimes`.
    pub crime: usize,
}

/// Everything that happened.
#[derive(Debug, Default)]
pub struct Events {
    /// Police death reports.
    pub deaths: Vec<Death>,
    /// Crimes.
    pub crimes: Vec<Crime>,
    /// DA incidents.
    pub da: Vec<DaIncident>,
    /// Significant ED attendances.
    pub ed: Vec<EdAttendance>,
    /// Significant admissions.
    pub apc: Vec<Admission>,
    /// CIN referrals.
    pub cin: Vec<CinReferral>,
    /// Adult safeguarding concerns.
    pub asc: Vec<AscConcern>,
    /// Homelessness cases.
    pub homeless: Vec<HomelessCase>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Homicides.
    pub homicides: Vec<Homicide>,
    /// Background ED attendances per person over the period.
    pub ed_background: Vec<u8>,
    /// The next truth event id.
    next_event: u32,
}

impl Events {
    /// A new truth event id.
    pub fn event(&mut self) -> u32 {
        self.next_event += 1;
        self.next_event
    }

    /// Every person any event names (for NHS number assignment).
    pub fn people(&self) -> Vec<u32> {
        let mut v = Vec::new();
        for d in &self.deaths {
            v.push(d.person.person);
            v.extend(d.people.iter().map(|p| p.person));
        }
        for c in &self.crimes {
            v.extend(c.people.iter().map(|p| p.person));
        }
        for d in &self.da {
            v.push(d.victim.person);
            v.push(d.perpetrator.person);
        }
        v.extend(self.ed.iter().map(|e| e.patient.person));
        v.extend(self.apc.iter().map(|e| e.patient.person));
        v.extend(self.cin.iter().map(|e| e.child.person));
        v.extend(self.asc.iter().map(|e| e.adult.person));
        v.extend(self.homeless.iter().map(|e| e.applicant.person));
        v.extend(self.exclusions.iter().map(|e| e.pupil.person));
        for (p, &n) in self.ed_background.iter().enumerate() {
            if n > 0 {
                v.push(p as u32);
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Generates the background events (after scenarios have planted theirs), in an order where
/// later kinds can refer to earlier ones: DA first (it drives CIN, housing and ED), then
/// violence and homicide, deaths, other crime, health, councils.
pub fn generate(world: &mut World, events: &mut Events) {
    domestic::generate(world, events);
    violence::generate(world, events);
    deaths::generate(world, events);
    crime::generate(world, events);
    health::generate(world, events);
    council::generate(world, events);
}

/// The ED site a resident of `address` attends: one of their council's two Type 1 EDs mostly,
/// sometimes its UTC, sometimes an out-of-area ED (domain.md §4 pitfall 7).
pub fn site_for(world: &World, rng: &mut crate::rng::Rng, address: Option<u32>) -> u8 {
    let council = match address {
        Some(a) => world.geo.council_of(a),
        None => crate::rng::index(rng, 2) as u8,
    };
    let base = council * 3;
    crate::rng::weighted(
        rng,
        &[(base, 0.44), (base + 1, 0.40), (base + 2, 0.08), (6, 0.04), (7, 0.04)],
    )
}

/// The council of an address, or of the person's last known address, or East.
pub fn council_for(world: &World, person: u32, on: Date) -> Option<u8> {
    world.pop.address_on(person, on).map(|a| world.geo.council_of(a))
}
