//! The police node's extracts about deaths and people: `death_reports` (one row per report,
//! location fields for the place of death), `death_report_persons` (one row per person linked
//! in a role), `death_category_history` (each category a report held and from when),
//! `homicide_index` (one row per victim, Homicide Index-like) and `nominals` (the nominal
//! register). Crimes and DA incidents are in [`super::police_crime`]. Police systems upper-case surnames, drop diacritics, write dates of
//! birth as DD/MM/YYYY, record officer-identified ethnicity (IC codes) and hold NHS numbers for
//! ~5% of people.

use fedlink_node::dataset::schema::{GeographyLevel, Subject};

use crate::codes;
use crate::corrupt;
use crate::date::Date;
use crate::error::SynthError;
use crate::events::{Events, Shown};
use crate::identity::{Agency, Opts, View};
use crate::population::flag;
use crate::render::columns::Columns;
use crate::render::{Counts, LocalIds, NodeOut, Truth};
use crate::rng::{Rng, chance, mix, stream};
use crate::world::World;
use crate::write::DatasetWriter;

/// The police node's member name.
pub const NODE: &str = "police";

/// The first nominal id.
const FIRST_NOMINAL: u32 = 1_000_001;

/// Shared state while rendering the police node.
pub struct Ctx<'w> {
    /// The world.
    pub world: &'w World,
    /// The police error model.
    pub agency: Agency<'w>,
    /// Nominal ids.
    pub nominals: LocalIds,
    /// Crime references, by index into `Events::crimes`.
    pub crime_refs: Vec<String>,
    /// The node's output.
    pub node: NodeOut,
    /// Every nominal as first recorded: (nominal id, person, date, nominal).
    pub register: Vec<(u32, u32, Date, Nominal)>,
}

/// A person as a police record shows them, formatted.
#[derive(Debug, Default, Clone)]
pub struct Nominal {
    /// Nominal id.
    pub id: String,
    /// SURNAME.
    pub surname: String,
    /// Forenames.
    pub forenames: String,
    /// Aliases.
    pub alias: String,
    /// DD/MM/YYYY or blank.
    pub dob: String,
    /// M/F/U.
    pub sex: &'static str,
    /// IC code.
    pub ethnicity: &'static str,
    /// NHS number or blank.
    pub nhs: String,
    /// Home postcode.
    pub postcode: String,
    /// Home UPRN.
    pub uprn: String,
    /// Home parent UPRN.
    pub parent_uprn: String,
    /// Home address text.
    pub address_text: String,
    /// PNC ID (suspects with a record).
    pub pnc: String,
    /// The true address the record points at.
    pub address: Option<u32>,
}

impl Ctx<'_> {
    /// Formats a person for a police record.
    pub fn nominal(
        &mut self,
        rng: &mut Rng,
        person: u32,
        on: Date,
        shown: Option<&Shown>,
        suspect: bool,
    ) -> Nominal {
        let w = self.world;
        let v: View =
            self.agency.view(person, on, rng, shown, Opts { aliases: true, ..Opts::default() });
        let p = w.pop.person(person);
        let clean = shown.is_some_and(|s| s.clean);
        let mut surname = corrupt::strip_diacritics(&v.surname).to_uppercase();
        if !clean && chance(rng, 0.2) {
            surname = surname.replace('\'', "");
        }
        let forenames = corrupt::title_case(&corrupt::strip_diacritics(&v.forename));
        let coin = mix(u64::from(person)).is_multiple_of(2);
        let (nominal, new) = self.nominals.register(person, v.registration);
        let mut n = Nominal {
            id: format!("N{nominal:07}"),
            surname,
            forenames,
            alias: v.alias.clone(),
            dob: v.dob.map(Date::uk).unwrap_or_default(),
            sex: if !clean && chance(rng, 0.004) {
                "U"
            } else if v.female {
                "F"
            } else {
                "M"
            },
            ethnicity: if v.ethnicity_unknown { "IC9" } else { p.ethnicity.police_ic(coin) },
            nhs: v.nhs.map(|n| n.to_string()).unwrap_or_default(),
            postcode: v.postcode.clone(),
            uprn: v.uprn.map(|u| u.to_string()).unwrap_or_default(),
            parent_uprn: v.parent_uprn.map(|u| u.to_string()).unwrap_or_default(),
            address_text: v.address_text.clone(),
            pnc: String::new(),
            address: v.address,
        };
        // People of no fixed abode are often recorded at the police station (F17 placeholder).
        if v.address.is_none()
            && p.has(flag::NFA)
            && chance(rng, w.config.errors.institutional_default_address)
            && let Some(&station) = w.geo.police_stations.first()
        {
            n.postcode = w.geo.postcode_of(station).to_string();
            n.uprn = w.geo.address(station).uprn.to_string();
            n.address_text = w.geo.address_text(station);
            n.address = Some(station);
        }
        if suspect && p.risk >= 1 {
            let year = (p.dob.year() + 18).clamp(1990, 2023) as u16;
            let serial = (mix(w.seed() ^ u64::from(person) << 8) % 10_000_000) as u32;
            n.pnc = crate::ids::pnc_id(year, serial);
        }
        // The nominal register keeps each nominal as first recorded, with a PNC ID once known.
        // Nominal ids count up from FIRST_NOMINAL in the order they are pushed here.
        if new {
            self.register.push((nominal, person, on, n.clone()));
        } else if !n.pnc.is_empty()
            && let Some(entry) =
                self.register.get_mut(nominal.saturating_sub(FIRST_NOMINAL) as usize)
            && entry.0 == nominal
            && entry.3.pnc.is_empty()
        {
            entry.3.pnc = n.pnc.clone();
        }
        n
    }
}

/// Renders the police node.
pub fn render(
    world: &World,
    ev: &Events,
    out: &std::path::Path,
    truth: &mut Truth,
    progress: &dyn Fn(String),
) -> Result<Counts, SynthError> {
    let mut order: Vec<usize> = (0..ev.crimes.len()).collect();
    order.sort_by_key(|&i| (ev.crimes[i].committed, ev.crimes[i].event));
    let mut crime_refs = vec![String::new(); ev.crimes.len()];
    for (seq, &i) in order.iter().enumerate() {
        let yy = ev.crimes[i].committed.date.year() % 100;
        crime_refs[i] = format!("CR-{yy:02}-{:06}", seq + 1);
    }
    let mut ctx = Ctx {
        world,
        agency: Agency::new(world, "police", &world.config.errors.police),
        nominals: LocalIds::starting_at(FIRST_NOMINAL - 1),
        crime_refs,
        node: NodeOut::new(out, NODE),
        register: Vec::new(),
    };
    deaths(&mut ctx, ev, truth)?;
    progress(format!("police: {} death reports", ev.deaths.len()));
    crate::render::police_crime::crimes(&mut ctx, ev, truth, &order)?;
    progress(format!("police: {} crimes", ev.crimes.len()));
    crate::render::police_crime::da(&mut ctx, ev, truth)?;
    homicides(&mut ctx, ev, truth)?;
    nominals(&mut ctx, truth)?;
    ctx.node.finish()
}

fn deaths(ctx: &mut Ctx, ev: &Events, truth: &mut Truth) -> Result<(), SynthError> {
    let w = ctx.world;
    let dir = ctx.node.dir.clone();
    let mut order: Vec<usize> = (0..ev.deaths.len()).collect();
    order.sort_by_key(|&i| (ev.deaths[i].reported, ev.deaths[i].event));
    let reports = Columns::new()
        .record_id("dr_id")
        .event_datetime("reported_at")
        .ignore("found_at")
        .local_id("nominal_id")
        .surname("surname")
        .forenames("forenames")
        .dob("dob")
        .numeric("age_at_death", 0.0, 120.0)
        .sex("sex")
        .category("ethnicity_officer", ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"])
        .nhs("nhs_number")
        .uprn("location_uprn")
        .parent_uprn("location_parent_uprn")
        .postcode("location_postcode")
        .address_text("location_address")
        .category("location_type", codes::LOCATION_TYPES)
        .category("category_current", codes::DEATH_CATEGORIES)
        .category("suspected_mechanism", codes::DEATH_MECHANISMS)
        .category("substance_suspected", codes::SUBSTANCES)
        .category("pm_type", codes::PM_TYPES)
        .flag("da_history_flag")
        .flag("supervisor_reviewed")
        .geography("ward_code", GeographyLevel::Ward)
        .geography("lsoa_code", GeographyLevel::Lsoa)
        .geography("la_code", GeographyLevel::LocalAuthority)
        .ignore("home_postcode")
        .schema(
            "death_reports",
            "Police death reports (sudden, unexpected and unexplained deaths): the deceased, the \
             place of death (UPRN, parent UPRN, postcode, address), the current four-class \
             category, suspected mechanism and substance. Synthetic (fedlink synth).",
            Subject::Person,
        );
    let persons = Columns::new()
        .record_id("drp_id")
        .local_id("dr_id")
        .local_id("nominal_id")
        .role("role", codes::DEATH_ROLES)
        .surname("surname")
        .forenames("forenames")
        .alias("aliases")
        .dob("dob")
        .sex("sex")
        .postcode("postcode")
        .uprn("uprn")
        .local_id("pnc_id")
        .event_datetime("reported_at")
        .schema(
            "death_report_persons",
            "People linked to police death reports in a role (finder, last seen with, person \
             present, reporting person, carer, next of kin, suspect), with aliases. Synthetic.",
            Subject::Person,
        );
    let history = Columns::new()
        .record_id("history_id")
        .local_id("dr_id")
        .numeric("sequence", 1.0, 20.0)
        .category("category", codes::DEATH_CATEGORIES)
        .event_datetime("category_from")
        .schema(
            "death_category_history",
            "Every category a death report has held and from when (re-categorisations). \
             Synthetic.",
            Subject::Event,
        );
    let mut rw = DatasetWriter::create(&dir, "death_reports", &reports)?;
    let mut pw = DatasetWriter::create(&dir, "death_report_persons", &persons)?;
    let mut hw = DatasetWriter::create(&dir, "death_category_history", &history)?;
    let errors = &w.config.errors;
    let mut rng = stream(w.seed(), "police-deaths", 0);
    for (seq, &i) in order.iter().enumerate() {
        let d = &ev.deaths[i];
        let person = d.person.person;
        let dr_id = format!("DR-{}-{:06}", d.reported.date.year(), seq + 1);
        let date = d.found.date;
        let m = ctx.agency.multiplier(person, date);
        // Planted reports keep their key fields so that each scenario's answer is exact.
        let clean = d.person.shown.as_ref().is_some_and(|s| s.clean) || d.person.tag.is_some();
        let n = ctx.nominal(&mut rng, person, date.add_days(-1), d.person.shown.as_deref(), false);
        let dob = if !clean && chance(&mut rng, errors.death_report_dob_missing * m) {
            String::new()
        } else {
            n.dob.clone()
        };
        let category_missing = !clean && chance(&mut rng, errors.death_report_category_missing);
        let current = if category_missing {
            "not_recorded"
        } else {
            d.categories.last().map_or("not_recorded", |(c, _)| c)
        };
        let uprn_missing = !clean && chance(&mut rng, errors.death_report_uprn_missing);
        rw.field(&dr_id);
        rw.field(d.reported.iso());
        rw.field(d.found.iso());
        rw.field(&n.id);
        rw.field(&n.surname);
        rw.field(&n.forenames);
        rw.field(&dob);
        rw.num(w.age(person, date));
        rw.field(n.sex);
        rw.field(n.ethnicity);
        rw.field(&n.nhs);
        match d.location {
            Some(a) => {
                let addr = w.geo.address(a);
                if uprn_missing {
                    rw.field("");
                    rw.field("");
                } else {
                    rw.num(addr.uprn);
                    rw.opt(w.geo.parent_uprn(a));
                }
                rw.field(w.geo.postcode_of(a));
                rw.field(w.geo.address_text(a));
            }
            None => {
                for _ in 0..4 {
                    rw.field("");
                }
            }
        }
        rw.field(d.location_type);
        rw.field(current);
        rw.field(d.mechanism);
        rw.field(d.substance);
        rw.field(d.pm_type);
        rw.yn(d.da_history);
        rw.yn(d.supervisor_reviewed);
        let geo_of = d.location.or(n.address);
        match geo_of {
            Some(a) => {
                rw.field(w.geo.ward_code_of(a));
                rw.field(w.geo.lsoa_code_of(a));
                rw.field(w.geo.la_code_of(a));
            }
            None => {
                for _ in 0..3 {
                    rw.field("");
                }
            }
        }
        rw.field(&n.postcode);
        rw.end()?;
        truth.record(NODE, "death_reports", &dr_id, Some(person), d.location, Some(d.event))?;
        truth.member(d.person.tag, NODE, "death_reports", &dr_id, Some(person));

        for (k, who) in d.people.iter().enumerate() {
            let id = format!("{dr_id}-P{}", k + 1);
            let n = ctx.nominal(
                &mut rng,
                who.person,
                date,
                who.shown.as_deref(),
                who.role == "suspect",
            );
            pw.field(&id);
            pw.field(&dr_id);
            pw.field(&n.id);
            pw.field(who.role);
            pw.field(&n.surname);
            pw.field(&n.forenames);
            pw.field(&n.alias);
            pw.field(&n.dob);
            pw.field(n.sex);
            pw.field(&n.postcode);
            pw.field(&n.uprn);
            pw.field(&n.pnc);
            pw.field(d.reported.iso());
            pw.end()?;
            truth.record(
                NODE,
                "death_report_persons",
                &id,
                Some(who.person),
                n.address,
                Some(d.event),
            )?;
            truth.member(who.tag, NODE, "death_report_persons", &id, Some(who.person));
        }
        if !category_missing {
            for (k, (cat, from)) in d.categories.iter().enumerate() {
                let id = format!("{dr_id}-H{}", k + 1);
                hw.field(&id);
                hw.field(&dr_id);
                hw.num(k + 1);
                hw.field(cat);
                hw.field(from.iso());
                hw.end()?;
                truth.record(
                    NODE,
                    "death_category_history",
                    &id,
                    Some(person),
                    None,
                    Some(d.event),
                )?;
                truth.member(d.person.tag, NODE, "death_category_history", &id, Some(person));
            }
        }
    }
    ctx.node.done(rw)?;
    ctx.node.done(pw)?;
    ctx.node.done(hw)?;
    Ok(())
}

fn homicides(ctx: &mut Ctx, ev: &Events, truth: &mut Truth) -> Result<(), SynthError> {
    let w = ctx.world;
    let dir = ctx.node.dir.clone();
    let schema = Columns::new()
        .record_id("hi_id")
        .local_id("crime_ref")
        .local_id("nominal_id")
        .surname("surname")
        .forenames("forenames")
        .dob("dob")
        .sex("sex")
        .numeric("age", 0.0, 120.0)
        .category("ethnicity_officer", ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"])
        .category("method", codes::HI_METHODS)
        .category("relationship_to_principal_suspect", codes::HI_RELATIONSHIPS)
        .category("apparent_circumstances", codes::HI_CIRCUMSTANCES)
        .category("location", codes::HI_LOCATIONS)
        .flag("domestic_flag")
        .flag("drug_flag")
        .flag("alcohol_flag")
        .flag("sharp_instrument_flag")
        .category("ho_subtype", codes::HO_SUBTYPES)
        .numeric("suspects", 0.0, 20.0)
        .numeric("principal_suspect_age", 0.0, 120.0)
        .category("principal_suspect_sex", ["M", "F"])
        .event_date("offence_date")
        .schema(
            "homicide_index",
            "Homicide Index-like victim records: method, relationship to principal suspect, \
             circumstances, location, flags and Home Office sub-type 1–7. Synthetic.",
            Subject::Person,
        );
    let mut hw = DatasetWriter::create(&dir, "homicide_index", &schema)?;
    let mut order: Vec<usize> = (0..ev.homicides.len()).collect();
    order.sort_by_key(|&i| (ev.homicides[i].at, ev.homicides[i].event));
    let mut rng = stream(w.seed(), "police-hi", 0);
    for (seq, &i) in order.iter().enumerate() {
        let h = &ev.homicides[i];
        let id = format!("HI-{}-{:04}", h.at.date.year(), seq + 1);
        let victim = h.victim.person;
        let n = ctx.nominal(
            &mut rng,
            victim,
            h.at.date,
            Some(&Shown { clean: true, ..Shown::default() }),
            false,
        );
        hw.field(&id);
        hw.field(&ctx.crime_refs[h.crime]);
        hw.field(&n.id);
        hw.field(&n.surname);
        hw.field(&n.forenames);
        hw.field(&n.dob);
        hw.field(n.sex);
        hw.num(w.age(victim, h.at.date));
        hw.field(n.ethnicity);
        hw.field(h.method);
        hw.field(h.relationship);
        hw.field(h.circumstances);
        hw.field(h.location);
        hw.yn(h.domestic);
        hw.yn(h.drug);
        hw.yn(h.alcohol);
        hw.yn(h.method == "sharp_instrument");
        hw.field(h.subtype);
        hw.num(h.suspects.len());
        match h.suspects.first() {
            Some(&s) => {
                hw.num(w.age(s, h.at.date));
                hw.field(if w.pop.person(s).female { "F" } else { "M" });
            }
            None => {
                hw.field("");
                hw.field("");
            }
        }
        hw.field(h.at.date.iso());
        hw.end()?;
        truth.record(NODE, "homicide_index", &id, Some(victim), None, Some(h.event))?;
        truth.member(h.victim.tag, NODE, "homicide_index", &id, Some(victim));
    }
    ctx.node.done(hw)
}

/// The nominal register: one row per police nominal record, as first recorded (POLE person).
/// People recorded under a new nominal when their details were keyed wrongly have several.
fn nominals(ctx: &mut Ctx, truth: &mut Truth) -> Result<(), SynthError> {
    let dir = ctx.node.dir.clone();
    let schema = Columns::new()
        .record_id("nominal_id")
        .surname("surname")
        .forenames("forenames")
        .alias("aliases")
        .dob("dob")
        .sex("sex")
        .category("ethnicity_officer", ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"])
        .nhs("nhs_number")
        .local_id("pnc_id")
        .postcode("postcode")
        .uprn("uprn")
        .parent_uprn("parent_uprn")
        .address_text("address")
        .event_date("first_recorded")
        .schema(
            "nominals",
            "Police nominal register (POLE person): one row per nominal record with names, \
             aliases, date of birth, officer-identified ethnicity, PNC ID for people with a \
             record, NHS number (rarely) and address as first recorded. The same person may have \
             several nominals. Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&dir, "nominals", &schema)?;
    let register = std::mem::take(&mut ctx.register);
    for (_, person, first, n) in &register {
        w.field(&n.id);
        w.field(&n.surname);
        w.field(&n.forenames);
        w.field(&n.alias);
        w.field(&n.dob);
        w.field(n.sex);
        w.field(n.ethnicity);
        w.field(&n.nhs);
        w.field(&n.pnc);
        w.field(&n.postcode);
        w.field(&n.uprn);
        w.field(&n.parent_uprn);
        w.field(&n.address_text);
        w.field(first.iso());
        w.end()?;
        truth.record(NODE, "nominals", &n.id, Some(*person), n.address, None)?;
    }
    ctx.node.done(w)
}
