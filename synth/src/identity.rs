//! How a person appears in one agency's record: the agency's error model (domain.md §9e)
//! applied to the truth. Some errors belong to the person's record in that agency's system and
//! recur in every record (a nickname, a wrong date of birth in the master index, a missing NHS
//! number, a duplicate registration); others are made afresh each time (typos, swapped names,
//! out-of-date postcodes). Every probability is multiplied for minority ethnic groups, people of
//! no fixed abode or in hostels, and young men (Harron 2017: errors are not independent).

use crate::config::{AgencyErrors, ErrorModel};
use crate::corrupt;
use crate::date::Date;
use crate::events::{NhsShown, Shown};
use crate::population::flag;
use crate::rng::{Rng, chance, pick, stream, weighted};
use crate::world::World;

/// The NFA pseudo-postcode NHS systems use (domain.md §3.3 placeholders).
pub const NFA_POSTCODE: &str = "ZZ99 3VZ";

/// One agency's view of people.
#[derive(Debug)]
pub struct Agency<'w> {
    /// Stream label (distinct per agency and council).
    label: &'static str,
    /// The agency's error rates.
    errors: &'w AgencyErrors,
    model: &'w ErrorModel,
    world: &'w World,
}

/// Per-record options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opts {
    /// ECDS: assault with intoxication, self-harm, homeless: NHS number often missing.
    pub vulnerable: bool,
    /// Use the NFA pseudo-postcode for people without an address (NHS).
    pub nfa_postcode: bool,
    /// Record an alias if the agency knows one (police).
    pub aliases: bool,
}

/// A person as one record shows them.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Forename as written (original case).
    pub forename: String,
    /// Middle name as written.
    pub middle: String,
    /// Surname as written (original case).
    pub surname: String,
    /// Date of birth as written (None = blank).
    pub dob: Option<Date>,
    /// Female.
    pub female: bool,
    /// NHS number as written.
    pub nhs: Option<u64>,
    /// NHS NUMBER STATUS INDICATOR CODE consistent with the number's presence.
    pub nhs_status: &'static str,
    /// The true address whose postcode, UPRN and text the record carries (current or old).
    pub address: Option<u32>,
    /// Postcode as written ("" = blank).
    pub postcode: String,
    /// UPRN as written.
    pub uprn: Option<u64>,
    /// Parent UPRN as written.
    pub parent_uprn: Option<u64>,
    /// Free-text address.
    pub address_text: String,
    /// LSOA of the written postcode ("" if none).
    pub lsoa: String,
    /// Ward of the written address.
    pub ward: String,
    /// Aliases, `FORENAMES SURNAME;…`.
    pub alias: String,
    /// Which local registration (nominal, MRN, case-system id) the record sits under: 0 the
    /// person's usual one, 1 their duplicate, 2–15 one a scenario fixed, 16+ a new one created
    /// because this record's identity was keyed wrongly and not matched to the existing one.
    pub registration: u32,
    /// Ethnicity recorded as not stated.
    pub ethnicity_unknown: bool,
}

impl<'w> Agency<'w> {
    /// An agency with its error rates.
    pub fn new(world: &'w World, label: &'static str, errors: &'w AgencyErrors) -> Agency<'w> {
        Agency { label, errors, model: &world.config.errors, world }
    }

    /// The subgroup multiplier for a person on a date.
    pub fn multiplier(&self, person: u32, on: Date) -> f64 {
        let p = self.world.pop.person(person);
        let mut m = 1.0;
        if p.ethnicity.minority() {
            m *= self.model.minority_multiplier;
        }
        if p.has(flag::NFA) || p.has(flag::HOSTEL) {
            m *= self.model.nfa_multiplier;
        }
        if !p.female && p.dob.age_on(on) < 25 {
            m *= self.model.young_male_multiplier;
        }
        m.min(self.model.multiplier_cap)
    }

    /// How `person` appears in a record dated `on`.
    pub fn view(
        &self,
        person: u32,
        on: Date,
        rng: &mut Rng,
        shown: Option<&Shown>,
        opts: Opts,
    ) -> View {
        let w = self.world;
        let p = w.pop.person(person);
        let e = self.errors;
        let clean = shown.is_some_and(|s| s.clean);
        let m = if clean { 0.0 } else { self.multiplier(person, on) };
        // Persistent: decided once per person in this agency.
        let mut pr = stream(w.seed(), self.label, u64::from(person));
        let mut forename = w.names.text(p.given).to_string();
        let mut surname = w.names.text(p.family).to_string();
        let nicknames = w.names.nicknames(p.given);
        if chance(&mut pr, e.nickname * m)
            && let Some(&n) = pick(&mut pr, nicknames)
        {
            forename = w.names.text(n).to_string();
        }
        if chance(&mut pr, e.name_variant * m)
            && let Some(&v) = pick(&mut pr, w.names.variants(p.given))
        {
            forename = w.names.text(v).to_string();
        }
        if chance(&mut pr, e.name_variant * m)
            && let Some(&v) = pick(&mut pr, w.names.variants(p.family))
        {
            surname = w.names.text(v).to_string();
        }
        if p.birth_family != p.family && chance(&mut pr, e.maiden_name * m) {
            surname = w.names.text(p.birth_family).to_string();
        }
        if surname.contains('-') && chance(&mut pr, 0.3 * m) {
            surname = corrupt::hyphen_variant(&surname, &mut pr);
        }
        // Coverage is the agency's, not an error: clean records follow it too.
        let coverage_m = if clean { 1.0 } else { m };
        let missing_nhs = (1.0 - e.nhs_present) * coverage_m;
        let has_nhs = !chance(&mut pr, missing_nhs.min(0.97));
        let master_dob = if chance(&mut pr, e.dob_error * m * 0.5) {
            corrupt::wrong_dob(p.dob, &mut pr)
        } else {
            p.dob
        };
        let has_duplicate = chance(&mut pr, e.duplicate_person * m);
        let dup_forename = if chance(&mut pr, 0.5) {
            w.names.text(p.given).to_string()
        } else {
            corrupt::typo(&forename, &mut pr)
        };
        let ethnicity_unknown = chance(&mut pr, self.model.ethnicity_not_stated * m.max(1.0));
        let alias = if opts.aliases && p.risk >= 2 && chance(&mut pr, self.model.police_alias_share)
        {
            let other = w.names.surname(&mut pr, p.ethnicity.origin(0.5));
            let given = pick(&mut pr, nicknames).copied().unwrap_or(p.given);
            format!("{} {}", w.names.text(given), w.names.text(other)).to_uppercase()
        } else {
            String::new()
        };

        // Per record.
        let duplicate = has_duplicate && chance(rng, 0.5);
        if duplicate {
            forename = dup_forename;
        }
        let mut dob = Some(master_dob);
        // A record whose identity is keyed wrongly is not matched to the person's existing
        // registration: the agency creates a new one (a within-agency missed match).
        let mut fresh = false;
        if chance(rng, e.dob_error * m * 0.5) {
            dob = Some(corrupt::wrong_dob(p.dob, rng));
            fresh = true;
        }
        if chance(rng, e.dob_placeholder * m) {
            fresh = true;
            dob = Some(match weighted(rng, &[(0u8, 0.4), (1, 0.1), (2, 0.5)]) {
                0 => Date::from_ymd(1900, 1, 1),
                1 => Date::from_ymd(1811, 11, 11),
                _ => corrupt::estimated_dob(p.dob, rng),
            });
        }
        if chance(rng, e.name_typo * m) {
            forename = corrupt::typo(&forename, rng);
            fresh = true;
        }
        if chance(rng, e.name_typo * m) {
            surname = corrupt::typo(&surname, rng);
            fresh = true;
        }
        if chance(rng, e.name_swap * m) {
            std::mem::swap(&mut forename, &mut surname);
            fresh = true;
        }
        if chance(rng, e.unknown_name * m) {
            forename = "UNKNOWN".into();
            surname = "UNKNOWN".into();
            fresh = true;
        }
        let registration = if fresh {
            16 + crate::rng::between(rng, 0, 999_999) as u32
        } else {
            u32::from(duplicate)
        };
        let mut nhs = if has_nhs && !duplicate { p.nhs } else { None };
        if nhs.is_some() && chance(rng, e.nhs_wrong_person * m) {
            let household = w.pop.household_of(person);
            let other =
                household.members().filter(|&o| o != person).find_map(|o| w.pop.person(o).nhs);
            if other.is_some() {
                nhs = other;
            }
        }
        let mut keyed = false;
        if let Some(n) = nhs
            && chance(rng, e.nhs_keying * m)
        {
            nhs = Some(corrupt::keyed_nhs(n, rng));
            keyed = true;
        }
        if opts.vulnerable && !clean && chance(rng, self.model.ecds_nhs_missing_vulnerable) {
            nhs = None;
        }

        // Address.
        let mut address = w.pop.address_on(person, on);
        if address.is_some()
            && chance(rng, e.postcode_outdated * m.min(2.0))
            && let Some(prev) = w.pop.previous_address(person, on)
        {
            address = Some(prev);
        }
        let mut view = View {
            forename,
            middle: p.middle.map(|n| w.names.text(n).to_string()).unwrap_or_default(),
            surname,
            dob,
            female: p.female,
            nhs,
            nhs_status: "",
            address,
            ethnicity_unknown,
            alias,
            registration,
            ..View::default()
        };
        if let Some(a) = address {
            let geo = &w.geo;
            view.postcode = geo.postcode_of(a).to_string();
            view.lsoa = geo.lsoa_code_of(a).to_string();
            view.ward = geo.ward_code_of(a).to_string();
            view.address_text = geo.address_text(a);
            let mover = w.pop.recent_mover(person, on);
            let p_uprn = e.uprn_missing * m * if mover { 3.3 } else { 1.0 };
            if !chance(rng, p_uprn) {
                view.uprn = Some(geo.address(a).uprn);
                view.parent_uprn = geo.parent_uprn(a);
            }
            if chance(rng, e.postcode_missing * m) {
                view.postcode.clear();
                view.lsoa.clear();
            } else if chance(rng, 0.04) {
                view.postcode = corrupt::postcode_format(&view.postcode, rng);
            }
        } else if opts.nfa_postcode {
            view.postcode = NFA_POSTCODE.to_string();
        }
        view.nhs_status = match (view.nhs, keyed) {
            (Some(_), true) => "02",
            (Some(_), false) => {
                if chance(rng, 0.92) {
                    "01"
                } else {
                    "02"
                }
            }
            (None, _) if p.dob.age_on(on) == 0 && on.since(p.dob) < 42 => "08",
            (None, _) => {
                weighted(rng, &[("03", 0.5), ("04", 0.2), ("07", 0.2), ("05", 0.05), ("06", 0.05)])
            }
        };
        if let Some(s) = shown {
            apply(w, person, &mut view, s);
        }
        view
    }
}

/// Applies a scenario's fixed appearance.
fn apply(w: &World, person: u32, view: &mut View, s: &Shown) {
    if let Some(f) = &s.forename {
        view.forename = f.clone();
    }
    if let Some(f) = &s.surname {
        view.surname = f.clone();
    }
    if let Some(d) = s.dob {
        view.dob = d;
    }
    if let Some(a) = &s.alias {
        view.alias = a.clone();
    }
    if s.registration > 0 {
        view.registration = u32::from(s.registration);
    }
    match s.nhs {
        NhsShown::Default => {}
        NhsShown::Missing => {
            view.nhs = None;
            view.nhs_status = "03";
        }
        NhsShown::OfPerson(other) => {
            view.nhs = w.pop.person(other).nhs;
            view.nhs_status = "01";
        }
        NhsShown::Old => {
            view.nhs = w.pop.person(person).old_nhs;
            view.nhs_status = "01";
        }
        NhsShown::Present => {
            view.nhs = w.pop.person(person).nhs;
            view.nhs_status = "01";
        }
    }
}
