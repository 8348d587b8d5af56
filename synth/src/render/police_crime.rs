//! The police node's crime extracts: `crimes` (one row per person in a crime, as victim,
//! suspect or witness, with HOCR code and DA/knife/drug/alcohol flags and the incident's
//! geography) and `da_incidents` (one row for the victim and one for the perpetrator of every
//! DA incident, crimed or not, with DASH risk).

use fedlink_node::dataset::schema::{GeographyLevel, Subject};

use crate::codes;
use crate::error::SynthError;
use crate::events::Events;
use crate::render::Truth;
use crate::render::columns::Columns;
use crate::render::police::{Ctx, NODE};
use crate::rng::stream;
use crate::write::{DatasetWriter, glitch_for};

const IC: [&str; 7] = ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"];

/// Writes `crimes` in committed order (`order` indexes `ev.crimes`).
pub fn crimes(
    ctx: &mut Ctx,
    ev: &Events,
    truth: &mut Truth,
    order: &[usize],
) -> Result<(), SynthError> {
    let w = ctx.world;
    let dir = ctx.node.dir.clone();
    let schema = Columns::new()
        .record_id("crime_person_id")
        .local_id("crime_ref")
        .local_id("nominal_id")
        .role("role", codes::CRIME_ROLES)
        .surname("surname")
        .forenames("forenames")
        .alias("aliases")
        .dob("dob")
        .sex("sex")
        .category("ethnicity_officer", IC)
        .nhs("nhs_number")
        .postcode("home_postcode")
        .uprn("home_uprn")
        .local_id("pnc_id")
        .category("hocr_code", codes::HOCR.iter().map(|(c, _, _)| *c))
        .category("offence_group", codes::OFFENCE_GROUPS)
        .event_datetime("committed_at")
        .ignore("reported_at")
        .geography("incident_ward", GeographyLevel::Ward)
        .geography("incident_lsoa", GeographyLevel::Lsoa)
        .geography("incident_la", GeographyLevel::LocalAuthority)
        .flag("da_flag")
        .flag("knife_flag")
        .flag("drug_flag")
        .flag("alcohol_flag")
        .category("outcome", codes::OUTCOMES)
        .schema(
            "crimes",
            "Police-recorded crimes, one row per person in the crime (victim, suspect, witness), \
             with HOCR code, offence group, DA/knife/drug/alcohol flags and where it happened. \
             knife_flag follows the Home Office selected-offences collection (possession \
             offences are not flagged). Synthetic.",
            Subject::Person,
        );
    let mut cw = DatasetWriter::create(&dir, "crimes", &schema)?;
    let mut rng = stream(w.seed(), "police-crimes", 0);
    for &i in order {
        let c = &ev.crimes[i];
        let (_, _, group) = codes::hocr(c.hocr);
        let crime_ref = ctx.crime_refs[i].clone();
        for (k, who) in c.people.iter().enumerate() {
            let id = format!("{crime_ref}-{}", k + 1);
            let n = ctx.nominal(
                &mut rng,
                who.person,
                c.committed.date,
                who.shown.as_deref(),
                who.role == "suspect",
            );
            if who.tag.is_none() {
                cw.glitch_next_row(glitch_for(&id, w.config.errors.export_glitch));
            }
            cw.field(&id);
            cw.field(&crime_ref);
            cw.field(&n.id);
            cw.field(who.role);
            cw.field(&n.surname);
            cw.field(&n.forenames);
            cw.field(&n.alias);
            cw.field(&n.dob);
            cw.field(n.sex);
            cw.field(n.ethnicity);
            cw.field(&n.nhs);
            cw.field(&n.postcode);
            cw.field(&n.uprn);
            cw.field(&n.pnc);
            cw.field(c.hocr);
            cw.field(group);
            cw.field(c.committed.iso());
            cw.field(c.reported.iso());
            match c.location {
                Some(a) => {
                    cw.field(w.geo.ward_code_of(a));
                    cw.field(w.geo.lsoa_code_of(a));
                    cw.field(w.geo.la_code_of(a));
                }
                None => {
                    for _ in 0..3 {
                        cw.field("");
                    }
                }
            }
            cw.yn(c.da);
            cw.yn(c.knife);
            cw.yn(c.drug);
            cw.yn(c.alcohol);
            cw.field(c.outcome);
            cw.end()?;
            truth.record(NODE, "crimes", &id, Some(who.person), n.address, Some(c.event))?;
            truth.member(who.tag, NODE, "crimes", &id, Some(who.person));
        }
    }
    ctx.node.done(cw)
}

/// Writes `da_incidents` in date order.
pub fn da(ctx: &mut Ctx, ev: &Events, truth: &mut Truth) -> Result<(), SynthError> {
    let w = ctx.world;
    let dir = ctx.node.dir.clone();
    let schema = Columns::new()
        .record_id("da_person_id")
        .local_id("incident_ref")
        .local_id("nominal_id")
        .role("role", codes::DA_ROLES)
        .surname("surname")
        .forenames("forenames")
        .alias("aliases")
        .dob("dob")
        .sex("sex")
        .category("ethnicity_officer", IC)
        .nhs("nhs_number")
        .postcode("postcode")
        .uprn("uprn")
        .parent_uprn("parent_uprn")
        .address_text("address")
        .local_id("pnc_id")
        .event_datetime("occurred_at")
        .category("dash_risk", codes::DASH)
        .category("relationship", ["partner", "ex_partner", "family"])
        .flag("crimed")
        .local_id("crime_ref")
        .geography("incident_ward", GeographyLevel::Ward)
        .geography("incident_lsoa", GeographyLevel::Lsoa)
        .geography("incident_la", GeographyLevel::LocalAuthority)
        .schema(
            "da_incidents",
            "Domestic abuse incidents attended by police, crimed or not: one row for the victim \
             and one for the perpetrator, with DASH risk and the crime reference when crimed. \
             Synthetic.",
            Subject::Person,
        );
    let mut dw = DatasetWriter::create(&dir, "da_incidents", &schema)?;
    let mut order: Vec<usize> = (0..ev.da.len()).collect();
    order.sort_by_key(|&i| (ev.da[i].at, ev.da[i].event));
    let mut rng = stream(w.seed(), "police-da", 0);
    for (seq, &i) in order.iter().enumerate() {
        let d = &ev.da[i];
        let incident = format!("DA-{:02}-{:06}", d.at.date.year() % 100, seq + 1);
        for (who, suffix) in [(&d.victim, "V"), (&d.perpetrator, "P")] {
            let id = format!("{incident}-{suffix}");
            let n =
                ctx.nominal(&mut rng, who.person, d.at.date, who.shown.as_deref(), suffix == "P");
            dw.field(&id);
            dw.field(&incident);
            dw.field(&n.id);
            dw.field(who.role);
            dw.field(&n.surname);
            dw.field(&n.forenames);
            dw.field(&n.alias);
            dw.field(&n.dob);
            dw.field(n.sex);
            dw.field(n.ethnicity);
            dw.field(&n.nhs);
            dw.field(&n.postcode);
            dw.field(&n.uprn);
            dw.field(&n.parent_uprn);
            dw.field(&n.address_text);
            dw.field(&n.pnc);
            dw.field(d.at.iso());
            dw.field(d.dash);
            dw.field(d.relationship);
            dw.yn(d.crime.is_some());
            dw.field(d.crime.map(|c| ctx.crime_refs[c].as_str()).unwrap_or(""));
            match d.location {
                Some(a) => {
                    dw.field(w.geo.ward_code_of(a));
                    dw.field(w.geo.lsoa_code_of(a));
                    dw.field(w.geo.la_code_of(a));
                }
                None => {
                    for _ in 0..3 {
                        dw.field("");
                    }
                }
            }
            dw.end()?;
            truth.record(NODE, "da_incidents", &id, Some(who.person), n.address, Some(d.event))?;
            truth.member(who.tag, NODE, "da_incidents", &id, Some(who.person));
        }
    }
    ctx.node.done(dw)
}
