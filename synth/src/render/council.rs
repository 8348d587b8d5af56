//! Each council node's extracts: `cin_referrals` (CIN census-like, with the case system's
//! names and NHS number), `adult_safeguarding` (concerns and s42 enquiries), `homelessness`
//! (H-CLIC-like cases with the last settled address), `school_exclusions` (suspensions and
//! permanent exclusions by UPN) and `llpg` (the council's gazetteer, one row per UPRN).

use fedlink_node::dataset::schema::{GeographyLevel, Subject};

use crate::codes;
use crate::date::Date;
use crate::error::SynthError;
use crate::events::{Events, Participant};
use crate::geography::{ADDRESS_KINDS, COUNCILS};
use crate::identity::{Agency, Opts, View};
use crate::render::columns::Columns;
use crate::render::{Counts, LocalIds, NodeOut, Truth};
use crate::rng::{Rng, chance, stream};
use crate::world::World;
use crate::write::DatasetWriter;

/// Record-id prefixes per council.
const PREFIX: [&str; 2] = ["E", "W"];

/// Stream labels per council: children's services, adult care, housing, education.
const LABELS: [[&str; 4]; 2] = [
    ["csc-east", "asc-east", "housing-east", "education-east"],
    ["csc-west", "asc-west", "housing-west", "education-west"],
];

/// Renders council `c`.
pub fn render(
    world: &World,
    ev: &Events,
    out: &std::path::Path,
    truth: &mut Truth,
    c: u8,
) -> Result<Counts, SynthError> {
    let council = COUNCILS[usize::from(c)];
    let mut node = NodeOut::new(out, council.member);
    cin(world, ev, &mut node, truth, c)?;
    asc(world, ev, &mut node, truth, c)?;
    homelessness(world, ev, &mut node, truth, c)?;
    exclusions(world, ev, &mut node, truth, c)?;
    llpg(world, &mut node, truth, c)?;
    node.finish()
}

fn geography(w: &mut DatasetWriter, world: &World, address: Option<u32>) {
    match address {
        Some(a) => {
            w.field(world.geo.ward_code_of(a));
            w.field(world.geo.lsoa_code_of(a));
        }
        None => {
            w.field("");
            w.field("");
        }
    }
}

fn sorted<T>(
    items: &[T],
    key: impl Fn(&T) -> (Date, u32),
    keep: impl Fn(&T) -> bool,
) -> Vec<usize> {
    let mut v: Vec<usize> = (0..items.len()).filter(|&i| keep(&items[i])).collect();
    v.sort_by_key(|&i| key(&items[i]));
    v
}

fn view(agency: &Agency, rng: &mut Rng, who: &Participant, on: Date) -> View {
    agency.view(who.person, on, rng, who.shown.as_deref(), Opts::default())
}

fn cin(
    world: &World,
    ev: &Events,
    node: &mut NodeOut,
    truth: &mut Truth,
    c: u8,
) -> Result<(), SynthError> {
    let member = COUNCILS[usize::from(c)].member;
    let schema = Columns::new()
        .record_id("CINdetailsID")
        .local_id("LAchildID")
        .local_id("UPN")
        .forenames("Forename")
        .surname("Surname")
        .dob("PersonBirthDate")
        .sex("GenderCurrent")
        .category("Ethnicity", ETHNICITY_DFE)
        .nhs("NHSNumber")
        .postcode("Postcode")
        .uprn("UPRN")
        .event_date("CINreferralDate")
        .category("ReferralSource", codes::REFERRAL_SOURCES.iter().map(|(c, _)| *c))
        .category("PrimaryNeedCode", codes::PRIMARY_NEED)
        .category("ReferralNFA", ["true", "false"])
        .category_open("AssessmentFactors")
        .flag("DomesticAbuseFactor")
        .geography("Ward", GeographyLevel::Ward)
        .geography("LSOA", GeographyLevel::Lsoa)
        .schema(
            "cin_referrals",
            "Children's social care referrals (CIN census-like: LAchildID, UPN, referral source, \
             primary need N0–N9, assessment factors separated by ';', 3A/3B = domestic abuse), \
             with the case system's names, NHS number and address. Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "cin_referrals", &schema)?;
    let agency = Agency::new(world, LABELS[usize::from(c)][0], &world.config.errors.children);
    let mut ids = LocalIds::starting_at(100_000);
    let mut rng = stream(world.seed(), LABELS[usize::from(c)][0], u64::MAX);
    let order = sorted(&ev.cin, |r| (r.date, r.event), |r| r.council == c);
    for (seq, &i) in order.iter().enumerate() {
        let r = &ev.cin[i];
        let id = format!("CIN-{}-{:06}", PREFIX[usize::from(c)], seq + 1);
        let v = view(&agency, &mut rng, &r.child, r.date);
        let age = world.age(r.child.person, r.date);
        let upn = match world.upns.get(&r.child.person) {
            Some(u) if chance(&mut rng, 0.9) => u.clone(),
            _ if age < 5 => "UN1".to_string(),
            _ => "UN4".to_string(),
        };
        let p = world.pop.person(r.child.person);
        w.field(&id);
        w.field(format!("{}{:06}", PREFIX[usize::from(c)], ids.of(r.child.person, v.registration)));
        w.field(&upn);
        w.field(&v.forename);
        w.field(&v.surname);
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        w.field(if chance(&mut rng, 0.003) {
            "0"
        } else if v.female {
            "2"
        } else {
            "1"
        });
        w.field(if v.ethnicity_unknown { "NOBT" } else { p.ethnicity.dfe_code() });
        w.opt(v.nhs);
        w.field(&v.postcode);
        w.opt(v.uprn);
        w.field(r.date.iso());
        w.field(r.source);
        w.field(r.need);
        w.field(if r.nfa { "true" } else { "false" });
        w.field(r.factors.join(";"));
        w.yn(r.factors.iter().any(|f| *f == "3A" || *f == "3B"));
        geography(&mut w, world, v.address);
        w.end()?;
        truth.record(
            member,
            "cin_referrals",
            &id,
            Some(r.child.person),
            v.address,
            Some(r.event),
        )?;
        truth.member(r.child.tag, member, "cin_referrals", &id, Some(r.child.person));
    }
    node.done(w)
}

/// DfE ethnicity codes plus refused/not obtained.
const ETHNICITY_DFE: [&str; 18] = [
    "WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB",
    "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
];

fn asc(
    world: &World,
    ev: &Events,
    node: &mut NodeOut,
    truth: &mut Truth,
    c: u8,
) -> Result<(), SynthError> {
    let member = COUNCILS[usize::from(c)].member;
    let schema = Columns::new()
        .record_id("ConcernID")
        .local_id("PersonID")
        .nhs("NHSNumber")
        .forenames("Forename")
        .surname("Surname")
        .dob("DateOfBirth")
        .sex("Gender")
        .postcode("Postcode")
        .uprn("UPRN")
        .event_date("ConcernDate")
        .flag("Section42Enquiry")
        .category("TypeOfRisk", codes::RISK_TYPES)
        .category("LocationOfRisk", codes::RISK_LOCATIONS)
        .category("SourceOfRisk", codes::RISK_SOURCES)
        .geography("Ward", GeographyLevel::Ward)
        .geography("LSOA", GeographyLevel::Lsoa)
        .schema(
            "adult_safeguarding",
            "Adult safeguarding concerns and whether each led to a Section 42 enquiry, with type, \
             location and source of risk. Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "adult_safeguarding", &schema)?;
    let agency = Agency::new(world, LABELS[usize::from(c)][1], &world.config.errors.adults);
    let mut ids = LocalIds::starting_at(2_000_000);
    let mut rng = stream(world.seed(), LABELS[usize::from(c)][1], u64::MAX);
    let order = sorted(&ev.asc, |r| (r.date, r.event), |r| r.council == c);
    for (seq, &i) in order.iter().enumerate() {
        let r = &ev.asc[i];
        let id = format!("ASC-{}-{:06}", PREFIX[usize::from(c)], seq + 1);
        let v = view(&agency, &mut rng, &r.adult, r.date);
        w.field(&id);
        w.field(format!("P{:07}", ids.of(r.adult.person, v.registration)));
        w.opt(v.nhs);
        w.field(&v.forename);
        w.field(&v.surname);
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        w.field(if v.female { "Female" } else { "Male" });
        w.field(&v.postcode);
        w.opt(v.uprn);
        w.field(r.date.iso());
        w.yn(r.s42);
        w.field(r.risk);
        w.field(r.location);
        w.field(r.source);
        geography(&mut w, world, v.address);
        w.end()?;
        truth.record(
            member,
            "adult_safeguarding",
            &id,
            Some(r.adult.person),
            r.address.or(v.address),
            Some(r.event),
        )?;
        truth.member(r.adult.tag, member, "adult_safeguarding", &id, Some(r.adult.person));
    }
    node.done(w)
}

fn homelessness(
    world: &World,
    ev: &Events,
    node: &mut NodeOut,
    truth: &mut Truth,
    c: u8,
) -> Result<(), SynthError> {
    let member = COUNCILS[usize::from(c)].member;
    let schema = Columns::new()
        .record_id("CaseRef")
        .forenames("ApplicantForename")
        .surname("ApplicantSurname")
        .dob("ApplicantDOB")
        .sex("ApplicantSex")
        .nhs("NHSNumber")
        .postcode("LastSettledPostcode")
        .uprn("LastSettledUPRN")
        .address_text("LastSettledAddress")
        .event_date("AssessmentDate")
        .category("DutyOwed", codes::DUTIES)
        .category("ReasonForLoss", codes::LOSS_REASONS)
        .category_open("SupportNeeds")
        .category("AccommodationAtApplication", codes::ACCOMMODATION_AT_APPLICATION)
        .flag("TempAccommodation")
        .flag("HouseholdWithChildren")
        .geography("Ward", GeographyLevel::Ward)
        .geography("LSOA", GeographyLevel::Lsoa)
        .schema(
            "homelessness",
            "Homelessness cases (H-CLIC-like): households owed a prevention, relief or main duty, \
             reason for loss of the last settled home (domestic_abuse among them), support needs \
             separated by ';', and the last settled address. Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "homelessness", &schema)?;
    let errors = &world.config.errors;
    let agency = Agency::new(world, LABELS[usize::from(c)][2], &errors.housing);
    let mut rng = stream(world.seed(), LABELS[usize::from(c)][2], u64::MAX);
    let order = sorted(&ev.homeless, |r| (r.date, r.event), |r| r.council == c);
    for (seq, &i) in order.iter().enumerate() {
        let r = &ev.homeless[i];
        let id = format!("HL-{}-{:06}", PREFIX[usize::from(c)], seq + 1);
        let v = view(&agency, &mut rng, &r.applicant, r.date);
        let m = agency.multiplier(r.applicant.person, r.date);
        let mut address = r.last_settled;
        if address.is_none() && chance(&mut rng, errors.institutional_default_address) {
            // Placeholder: the hospital the applicant was discharged from (F17 pitfall).
            address = world.geo.sites.iter().find(|s| s.council == Some(c)).and_then(|s| s.address);
        }
        w.field(&id);
        w.field(&v.forename);
        w.field(&v.surname);
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        w.field(if v.female { "F" } else { "M" });
        w.opt(v.nhs);
        match address {
            Some(a) => {
                w.field(world.geo.postcode_of(a));
                if chance(&mut rng, errors.housing.uprn_missing * m) {
                    w.field("");
                } else {
                    w.num(world.geo.address(a).uprn);
                }
                w.field(world.geo.address_text(a));
            }
            None => {
                w.field("");
                w.field("");
                w.field("");
            }
        }
        w.field(r.date.iso());
        w.field(r.duty);
        w.field(r.reason);
        w.field(r.needs.join(";"));
        w.field(r.accommodation);
        w.yn(r.temporary);
        w.yn(r.with_children);
        geography(&mut w, world, address);
        w.end()?;
        truth.record(
            member,
            "homelessness",
            &id,
            Some(r.applicant.person),
            r.last_settled,
            Some(r.event),
        )?;
        truth.member(r.applicant.tag, member, "homelessness", &id, Some(r.applicant.person));
    }
    node.done(w)
}

fn exclusions(
    world: &World,
    ev: &Events,
    node: &mut NodeOut,
    truth: &mut Truth,
    c: u8,
) -> Result<(), SynthError> {
    let member = COUNCILS[usize::from(c)].member;
    let urns: Vec<String> =
        world.geo.schools.iter().filter(|s| s.council == c).map(|s| s.urn.to_string()).collect();
    let schema = Columns::new()
        .record_id("ExclusionID")
        .local_id("UPN")
        .forenames("Forename")
        .surname("Surname")
        .dob("DOB")
        .sex("Gender")
        .postcode("Postcode")
        .category("SchoolURN", urns.iter().map(String::as_str))
        .category("Category", ["SUSP", "PERM"])
        .event_date("StartDate")
        .category("Reason", codes::EXCLUSION_REASONS.iter().map(|(c, _)| *c))
        .numeric("Sessions", 0.0, 400.0)
        .geography("Ward", GeographyLevel::Ward)
        .geography("LSOA", GeographyLevel::Lsoa)
        .schema(
            "school_exclusions",
            "Suspensions and permanent exclusions (school census-like) by UPN, with the DfE \
             reason code. Synthetic.",
            Subject::Person,
        );
    let mut w = DatasetWriter::create(&node.dir, "school_exclusions", &schema)?;
    let agency = Agency::new(world, LABELS[usize::from(c)][3], &world.config.errors.children);
    let mut rng = stream(world.seed(), LABELS[usize::from(c)][3], u64::MAX);
    let order = sorted(&ev.exclusions, |r| (r.date, r.event), |r| r.council == c);
    for (seq, &i) in order.iter().enumerate() {
        let r = &ev.exclusions[i];
        let id = format!("EX-{}-{:06}", PREFIX[usize::from(c)], seq + 1);
        let v = view(&agency, &mut rng, &r.pupil, r.date);
        let school = &world.geo.schools[r.school as usize];
        w.field(&id);
        w.field(world.upns.get(&r.pupil.person).map_or("UN4", String::as_str));
        w.field(&v.forename);
        w.field(&v.surname);
        w.field(v.dob.map(Date::iso).unwrap_or_default());
        w.field(if v.female { "F" } else { "M" });
        w.field(&v.postcode);
        w.num(school.urn);
        w.field(if r.permanent { "PERM" } else { "SUSP" });
        w.field(r.date.iso());
        w.field(r.reason);
        w.num(r.sessions);
        geography(&mut w, world, v.address);
        w.end()?;
        truth.record(
            member,
            "school_exclusions",
            &id,
            Some(r.pupil.person),
            v.address,
            Some(r.event),
        )?;
        truth.member(r.pupil.tag, member, "school_exclusions", &id, Some(r.pupil.person));
    }
    node.done(w)
}

fn llpg(world: &World, node: &mut NodeOut, truth: &mut Truth, c: u8) -> Result<(), SynthError> {
    let council = COUNCILS[usize::from(c)];
    let schema = Columns::new()
        .record_id("LPI_KEY")
        .uprn("UPRN")
        .parent_uprn("PARENT_UPRN")
        .address_text("ADDRESS")
        .postcode("POSTCODE")
        .category("CLASSIFICATION", ADDRESS_KINDS.iter().map(|k| k.classification()))
        .local_id("USRN")
        .geography("WARD_CODE", GeographyLevel::Ward)
        .geography("LSOA_CODE", GeographyLevel::Lsoa)
        .numeric("EASTING", 0.0, 700_000.0)
        .numeric("NORTHING", 0.0, 1_300_000.0)
        .category("LOGICAL_STATUS", ["1"])
        .schema(
            "llpg",
            "Local Land and Property Gazetteer: every address in the council with its UPRN, \
             parent UPRN (flats, hostel rooms), postcode, AddressBase-style classification and \
             geography. Synthetic UPRNs from 990100000000 up.",
            Subject::Address,
        );
    let mut w = DatasetWriter::create(&node.dir, "llpg", &schema)?;
    let geo = &world.geo;
    for (i, a) in geo.addresses.iter().enumerate() {
        let id = i as u32;
        if geo.lsoa_council(a.lsoa) != c {
            continue;
        }
        let key = format!("{}L{:09}", council.dfe_code, i + 1);
        w.field(&key);
        w.num(a.uprn);
        w.opt(geo.parent_uprn(id));
        w.field(geo.address_text(id));
        w.field(geo.postcode_of(id));
        w.field(a.kind.classification());
        w.num(geo.streets[a.street as usize].usrn);
        w.field(geo.ward_code_of(id));
        w.field(geo.lsoa_code_of(id));
        w.num(a.easting);
        w.num(a.northing);
        w.field("1");
        w.end()?;
        truth.record(council.member, "llpg", &key, None, Some(id), None)?;
    }
    node.done(w)
}
