//! The ICB node's extracts: `ecds` (every ED attendance, SUS-style column names, domain.md
//! §2.2A/§9d) and `apc` (admitted patient care spells with ICD-10 diagnoses and external causes,
//! X85–Y09 for assault). Background attendances are drawn here from each person's count;
//! significant ones (assault, self-harm, overdose) come from the event log. Both files are in
//! arrival/admission order, as an extract would be.

use fedlink_node::dataset::schema::{GeographyLevel, Subject};

use crate::codes::{self, ACCOMMODATION, ALCOHOL_DRUG, ARRIVAL_MODES, COMPLAINTS, DISCHARGES};
use crate::date::{Date, DateTime};
use crate::error::SynthError;
use crate::events::when::{self, Profile};
use crate::events::{EdReason, Events, Participant, site_for};
use crate::identity::{Agency, Opts};
use crate::population::flag;
use crate::render::columns::Columns;
use crate::render::{Counts, LocalIds, NodeOut, Truth};
use crate::rng::{Rng, between, chance, index, pick, stream, weighted};
use crate::world::World;
use crate::write::{DatasetWriter, glitch_for};

/// The NHS node's member name.
pub const NODE: &str = "icb";

/// Common emergency admission diagnoses (ICD-10, no dot) for background spells.
const BACKGROUND_DIAGNOSES: [&str; 15] = [
    "J189", "I219", "N390", "R074", "J441", "S720", "I500", "K358", "R55X", "F100", "A419", "I639",
    "E111", "K922", "R104",
];

/// What an ED row is.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `Events::ed[i]`.
    Special(u32),
    /// A background attendance.
    Background,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    arrival: DateTime,
    person: u32,
    source: Source,
}

/// An admission to write.
#[derive(Debug, Clone, Copy)]
struct Spell {
    date: Date,
    person: u32,
    site: u8,
    /// `Events::apc[i]`, or a background spell with its diagnosis and external cause.
    event: Option<u32>,
    diagnosis: &'static str,
    external: &'static str,
    stay: u16,
}

/// The value for a meaning in a `(code, meaning)` table.
fn code(table: &[(&'static str, &str)], meaning: &str) -> &'static str {
    table.iter().find(|(_, m)| *m == meaning).map_or(table[0].0, |(c, _)| c)
}

/// Renders the ICB node.
pub fn render(
    world: &World,
    ev: &Events,
    out: &std::path::Path,
    truth: &mut Truth,
    progress: &dyn Fn(String),
) -> Result<Counts, SynthError> {
    let mut node = NodeOut::new(out, NODE);
    let rows = ed_rows(world, ev);
    progress(format!("icb: {} ED attendances to write", rows.len()));
    let spells = ecds(world, ev, &rows, &mut node, truth, progress)?;
    drop(rows);
    apc(world, ev, spells, &mut node, truth)?;
    node.finish()
}

/// Every ED attendance, background and significant, in arrival order.
fn ed_rows(world: &World, ev: &Events) -> Vec<Row> {
    let period = world.period;
    let end = period.end();
    let mut rows: Vec<Row> = Vec::with_capacity(
        ev.ed_background.iter().map(|&c| c as usize).sum::<usize>() + ev.ed.len(),
    );
    for (p, &count) in ev.ed_background.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let person = world.pop.person(p as u32);
        let last = person.death.map_or(end, |d| d.add_days(1).min(end));
        let days = last.since(period.start).max(1) as usize;
        let mut rng = stream(world.seed(), "ed-background", p as u64);
        for _ in 0..count {
            let date = period.start.add_days(index(&mut rng, days) as i32);
            if date < person.dob {
                continue;
            }
            let profile = if chance(&mut rng, 0.7) { Profile::Day } else { Profile::Any };
            let arrival = DateTime::new(date, when::minute(&mut rng, profile));
            rows.push(Row { arrival, person: p as u32, source: Source::Background });
        }
    }
    for (i, a) in ev.ed.iter().enumerate() {
        rows.push(Row {
            arrival: a.arrival,
            person: a.patient.person,
            source: Source::Special(i as u32),
        });
    }
    rows.sort_by_key(|r| {
        let s = match r.source {
            Source::Special(i) => i + 1,
            Source::Background => 0,
        };
        (r.arrival, r.person, s)
    });
    rows
}

const ISTV_VAGUE: [&str; 8] = [
    "town centre",
    "outside a pub",
    "in the street",
    "at a party",
    "at home",
    "near the station",
    "nightclub",
    "not known",
];

fn ecds(
    world: &World,
    ev: &Events,
    rows: &[Row],
    node: &mut NodeOut,
    truth: &mut Truth,
    progress: &dyn Fn(String),
) -> Result<Vec<Spell>, SynthError> {
    let sites: Vec<&str> = world.geo.sites.iter().map(|s| s.code).collect();
    let schema = Columns::new()
        .record_id("EC_Ident")
        .nhs("NHS_Number")
        .nhs_status("NHS_Number_Status_Indicator_Code")
        .local_id("Local_Patient_Identifier")
        .forenames("Person_Given_Name")
        .surname("Person_Family_Name")
        .dob("PersonBirthDate")
        .numeric("Age_At_Arrival", 0.0, 120.0)
        .sex("Sex")
        .category(
            "Ethnic_Category",
            ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z"],
        )
        .postcode("Postcode_Usual_Address")
        .geography("Der_Postcode_LSOA_Code", GeographyLevel::Lsoa)
        .category("Accommodation_Status_SNOMED_CT", ACCOMMODATION.iter().map(|(c, _)| *c))
        .category("Der_Provider_Site_Code", sites.iter().copied())
        .category("EC_Department_Type", ["01", "03"])
        .event_datetime("Der_EC_Arrival_Date_Time")
        .category("EC_Arrival_Mode_SNOMED_CT", ARRIVAL_MODES.iter().map(|(c, _)| *c))
        .category("EC_Chief_Complaint_SNOMED_CT", COMPLAINTS.iter().map(|(c, _)| *c))
        .ignore("EC_Injury_Date")
        .ignore("EC_Injury_Time")
        .category("EC_Injury_Intent_SNOMED_CT", codes::INTENTS)
        .category("EC_Injury_Mechanism_SNOMED_CT", codes::MECHANISMS.iter().map(|(c, _)| *c))
        .category("EC_Place_Of_Injury_SNOMED_CT", codes::PLACES.iter().map(|(c, _)| *c))
        .category("Alcohol_Drug_Involvement", ALCOHOL_DRUG.iter().map(|(c, _)| *c))
        .ignore("Assault_Location_Description")
        .category("Discharge_Destination_SNOMED_CT", DISCHARGES.iter().map(|(c, _)| *c))
        .schema(
            "ecds",
            "Emergency Care Data Set attendances (identifiable feed), SUS-style column names. \
             Injury intent 276853009 = self-inflicted; 1240651000000109 = assault and every \
             other intent, mechanism, place, arrival, accommodation and discharge code here are \
             SNOMED-style placeholders, not verified ETOS values (see the fedlink-synth crate \
             docs). Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "ecds", &schema)?;
    let agency = Agency::new(world, "ecds", &world.config.errors.ecds);
    let mut mrns = [LocalIds::starting_at(0), LocalIds::starting_at(0), LocalIds::starting_at(0)];
    let mut spells = Vec::new();
    let admit = world.config.rates.ed_admitted_share;
    let mut rng = stream(world.seed(), "ecds", 0);
    for (seq, row) in rows.iter().enumerate() {
        if seq % 65_536 == 0 {
            rng = stream(world.seed(), "ecds", seq as u64 / 65_536);
            if seq > 0 && seq % (65_536 * 8) == 0 {
                progress(format!("icb: {seq} ED rows"));
            }
        }
        let id = format!("{}", 100_000_001 + seq);
        let person = row.person;
        let p = world.pop.person(person);
        let date = row.arrival.date;
        let home = world.pop.address_on(person, date);
        let age = p.dob.age_on(date);
        let special = match row.source {
            Source::Special(i) => ev.ed.get(i as usize),
            Source::Background => None,
        };
        // Attendance content.
        let (site, complaint, intent, mech, place, alcohol, injury, discharge, event, tag, shown) =
            match special {
                Some(a) => {
                    let (intent, mech, complaint) = match a.reason {
                        EdReason::Assault(m) => (codes::INTENT_ASSAULT, m, "injury_wound"),
                        EdReason::SelfHarm(m) => (
                            codes::INTENT_SELF_HARM,
                            m,
                            if m == "poisoning_drug_or_substance" {
                                "poisoning_overdose"
                            } else {
                                "injury_wound"
                            },
                        ),
                        EdReason::Overdose => (
                            codes::INTENT_ACCIDENTAL,
                            "poisoning_drug_or_substance",
                            "poisoning_overdose",
                        ),
                        EdReason::Injury(m) => (codes::INTENT_ACCIDENTAL, m, "injury_wound"),
                        EdReason::Illness(c) => ("", "", c),
                    };
                    let illness = matches!(a.reason, EdReason::Illness(_));
                    let discharge = if a.died {
                        "died_in_department"
                    } else if a.admitted {
                        "admitted"
                    } else {
                        weighted(
                            &mut rng,
                            &[
                                ("discharged_home", 0.8),
                                ("left_before_treatment", 0.1),
                                ("referred_to_other_service", 0.1),
                            ],
                        )
                    };
                    (
                        a.site,
                        complaint,
                        intent,
                        if illness { "" } else { codes::mechanism(mech) },
                        if illness { "" } else { codes::place(a.place) },
                        if illness { "" } else { code(&ALCOHOL_DRUG, a.alcohol_drug) },
                        (!illness).then_some(a.injury),
                        discharge,
                        Some(a.event),
                        a.patient.tag,
                        a.patient.shown.as_deref(),
                    )
                }
                None => {
                    let site = site_for(world, &mut rng, home);
                    let p_admit = admit
                        * if age >= 75 {
                            2.0
                        } else if age < 16 {
                            0.5
                        } else {
                            0.9
                        };
                    let admitted = chance(&mut rng, p_admit.min(0.9));
                    let discharge = if admitted {
                        "admitted"
                    } else {
                        weighted(
                            &mut rng,
                            &[
                                ("discharged_home", 0.8),
                                ("left_before_treatment", 0.05),
                                ("referred_to_other_service", 0.15),
                            ],
                        )
                    };
                    if chance(&mut rng, 0.28) {
                        let mech = weighted(
                            &mut rng,
                            &[
                                ("fall", 0.45),
                                ("blunt_object", 0.15),
                                ("cut_stab_sharp_object", 0.12),
                                ("burn", 0.05),
                                ("road_traffic_collision", 0.08),
                                ("other", 0.15),
                            ],
                        );
                        let place = weighted(
                            &mut rng,
                            &[
                                ("home", 0.5),
                                ("street_public_highway", 0.15),
                                ("workplace", 0.1),
                                ("educational_establishment", 0.08),
                                ("other", 0.17),
                            ],
                        );
                        let complaint = if mech == "fall" && chance(&mut rng, 0.5) {
                            "fracture_suspected"
                        } else {
                            "injury_wound"
                        };
                        let injury = DateTime::new(
                            date,
                            u32::from(row.arrival.minute)
                                .saturating_sub(between(&mut rng, 10, 120) as u32),
                        );
                        if admitted {
                            let external = match mech {
                                "fall" => "W19",
                                "road_traffic_collision" => "V89",
                                "burn" => "X19",
                                "cut_stab_sharp_object" => "W26",
                                "blunt_object" => "W20",
                                _ => "X59",
                            };
                            spells.push(Spell {
                                date,
                                person,
                                site,
                                event: None,
                                diagnosis: if mech == "fall" { "S720" } else { "T149" },
                                external,
                                stay: between(&mut rng, 0, 10) as u16,
                            });
                        }
                        (
                            site,
                            complaint,
                            codes::INTENT_ACCIDENTAL,
                            codes::mechanism(mech),
                            codes::place(place),
                            "",
                            Some(injury),
                            discharge,
                            None,
                            None,
                            None,
                        )
                    } else {
                        let complaint =
                            pick(&mut rng, &COMPLAINTS[..8]).map_or("29857009", |(c, _)| c);
                        if admitted {
                            let diagnosis =
                                pick(&mut rng, &BACKGROUND_DIAGNOSES).copied().unwrap_or("R69X");
                            spells.push(Spell {
                                date,
                                person,
                                site,
                                event: None,
                                diagnosis,
                                external: "",
                                stay: between(&mut rng, 0, 14) as u16,
                            });
                        }
                        let complaint = COMPLAINTS
                            .iter()
                            .find(|(c, _)| *c == complaint)
                            .map_or("chest_pain", |(_, m)| m);
                        (site, complaint, "", "", "", "", None, discharge, None, None, None)
                    }
                }
            };
        let vulnerable = p.has(flag::NFA)
            || p.has(flag::HOSTEL)
            || intent == codes::INTENT_SELF_HARM
            || (intent == codes::INTENT_ASSAULT
                && alcohol != code(&ALCOHOL_DRUG, "none")
                && !alcohol.is_empty());
        let v = agency.view(
            person,
            date,
            &mut rng,
            shown,
            Opts { vulnerable, nfa_postcode: true, aliases: false },
        );
        let trust =
            world.geo.sites.get(usize::from(site)).and_then(|s| s.council).map_or(2, usize::from);
        let site_info = &world.geo.sites[usize::from(site)];
        let mrn = format!("{}{:07}", &site_info.code[..3], mrns[trust].of(person, v.registration));
        if tag.is_none() {
            w.glitch_next_row(glitch_for(&id, world.config.errors.export_glitch));
        }
        w.field(&id);
        w.opt(v.nhs);
        w.field(v.nhs_status);
        w.field(&mrn);
        w.field(v.forename.to_uppercase());
        w.field(v.surname.to_uppercase());
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        match v.dob.map(|d| d.age_on(date)) {
            Some(a) if v.dob.is_some_and(|d| d <= date) && a <= 120 => w.num(a),
            _ => w.field(""),
        }
        w.field(if chance(&mut rng, 0.002) {
            "9"
        } else if v.female {
            "2"
        } else {
            "1"
        });
        w.field(if v.ethnicity_unknown { "Z" } else { p.ethnicity.nhs_code() });
        w.field(&v.postcode);
        w.field(&v.lsoa);
        let accommodation = if p.has(flag::NFA) {
            code(&ACCOMMODATION, "homeless_no_fixed_abode")
        } else if p.has(flag::HOSTEL) {
            code(&ACCOMMODATION, "hostel_temporary")
        } else if p.has(flag::CARE_HOME) {
            code(&ACCOMMODATION, "care_home")
        } else if chance(&mut rng, 0.6) {
            code(&ACCOMMODATION, "settled_accommodation")
        } else {
            ""
        };
        w.field(accommodation);
        w.field(site_info.code);
        w.field(site_info.department_type);
        w.field(row.arrival.iso());
        let ambulance = special.is_some_and(|a| a.died)
            || chance(&mut rng, if age >= 75 || special.is_some() { 0.5 } else { 0.22 });
        w.field(code(&ARRIVAL_MODES, if ambulance { "ambulance" } else { "own_transport" }));
        w.field(code(&COMPLAINTS, complaint));
        w.field(injury.map(|i| i.date.iso()).unwrap_or_default());
        w.field(injury.map(DateTime::time).unwrap_or_default());
        w.field(intent);
        w.field(mech);
        w.field(place);
        w.field(alcohol);
        let istv = match special {
            Some(a) if matches!(a.reason, EdReason::Assault(_)) => {
                match weighted(&mut rng, &[(0u8, 0.4), (1, 0.3), (2, 0.3)]) {
                    0 => a.location.map(|l| world.geo.address_text(l)).unwrap_or_default(),
                    1 => pick(&mut rng, &ISTV_VAGUE).copied().unwrap_or("").to_string(),
                    _ => String::new(),
                }
            }
            _ => String::new(),
        };
        w.field(&istv);
        w.field(code(&DISCHARGES, discharge));
        w.end()?;
        truth.record(NODE, "ecds", &id, Some(person), v.address, event)?;
        truth.member(tag, NODE, "ecds", &id, Some(person));
    }
    node.done(w)?;
    Ok(spells)
}

fn apc(
    world: &World,
    ev: &Events,
    mut spells: Vec<Spell>,
    node: &mut NodeOut,
    truth: &mut Truth,
) -> Result<(), SynthError> {
    let sites: Vec<&str> = world.geo.sites.iter().map(|s| s.code).collect();
    let schema = Columns::new()
        .record_id("APCS_Ident")
        .nhs("NHS_Number")
        .nhs_status("NHS_Number_Status_Indicator_Code")
        .local_id("Local_Patient_Identifier")
        .forenames("Person_Given_Name")
        .surname("Person_Family_Name")
        .dob("PersonBirthDate")
        .sex("Sex")
        .postcode("Postcode_Usual_Address")
        .geography("Der_Postcode_LSOA_Code", GeographyLevel::Lsoa)
        .category("Der_Provider_Site_Code", sites.iter().copied())
        .event_date("Admission_Date")
        .category(
            "Admission_Method",
            ["11", "12", "13", "21", "22", "23", "24", "25", "28", "2A", "2B", "2D", "81"],
        )
        .category_open("Der_Primary_Diagnosis_Code")
        .category_open("Der_External_Cause_Code")
        .ignore("Discharge_Date")
        .numeric("Age_At_Start_of_Spell_SUS", 0.0, 120.0)
        .schema(
            "apc",
            "Admitted patient care spells (emergency admissions): ICD-10 primary diagnosis and \
             external cause (X85–Y09 assault, X99 assault by sharp object, X60–X84 self-harm). \
             Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "apc", &schema)?;
    for (i, a) in ev.apc.iter().enumerate() {
        spells.push(Spell {
            date: a.admitted,
            person: a.patient.person,
            site: a.site,
            event: Some(i as u32),
            diagnosis: a.diagnosis,
            external: a.external,
            stay: a.discharged.since(a.admitted).max(0) as u16,
        });
    }
    spells.sort_by_key(|s| (s.date, s.person, s.event.map_or(0, |e| e + 1)));
    let agency = Agency::new(world, "apc", &world.config.errors.apc);
    let mut mrns = [LocalIds::starting_at(0), LocalIds::starting_at(0), LocalIds::starting_at(0)];
    let mut rng: Rng = stream(world.seed(), "apc", 0);
    for (seq, s) in spells.iter().enumerate() {
        let id = format!("{}", 500_000_001 + seq);
        let admission = s.event.and_then(|e| ev.apc.get(e as usize));
        let patient: Option<&Participant> = admission.map(|a| &a.patient);
        let shown = patient.and_then(|p| p.shown.as_deref());
        let p = world.pop.person(s.person);
        let vulnerable = p.has(flag::NFA) || p.has(flag::HOSTEL);
        let v = agency.view(
            s.person,
            s.date,
            &mut rng,
            shown,
            Opts { vulnerable, nfa_postcode: true, aliases: false },
        );
        let site_info = &world.geo.sites[usize::from(s.site)];
        let trust = site_info.council.map_or(2, usize::from);
        w.field(&id);
        w.opt(v.nhs);
        w.field(v.nhs_status);
        w.field(format!("{}{:07}", &site_info.code[..3], mrns[trust].of(s.person, v.registration)));
        w.field(v.forename.to_uppercase());
        w.field(v.surname.to_uppercase());
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        w.field(if v.female { "2" } else { "1" });
        w.field(&v.postcode);
        w.field(&v.lsoa);
        w.field(site_info.code);
        w.field(s.date.iso());
        w.field(admission.map_or("21", |a| a.method));
        w.field(s.diagnosis);
        w.field(s.external);
        w.field(s.date.add_days(i32::from(s.stay)).iso());
        w.num(p.dob.age_on(s.date).min(120));
        w.end()?;
        let event = admission.map(|a| a.event);
        truth.record(NODE, "apc", &id, Some(s.person), v.address, event)?;
        truth.member(patient.and_then(|p| p.tag), NODE, "apc", &id, Some(s.person));
    }
    node.done(w)
}
