//! Planted domestic-abuse scenarios: escalation ending in intimate-partner homicide (S05) and in
//! suspected victim suicide (S06).

use crate::date::{Date, DateTime};
use crate::events::homicide::{Plan, record};
use crate::events::{
    CinReferral, DaIncident, EdReason, HomelessCase, NhsShown, Participant, Shown,
};
use crate::population::{Ethnicity, HouseholdKind};
use crate::scenarios::{Planter, clean};

/// One planted DA incident, with its crime if `code` is given.
fn incident(
    p: &mut Planter,
    s: u16,
    at: DateTime,
    location: Option<u32>,
    (victim, perp): (u32, u32),
    dash: &'static str,
    code: Option<&'static str>,
) -> u32 {
    let event = p.ev.event();
    let crime = code.map(|c| {
        p.crime(
            c,
            at,
            location,
            vec![
                Planter::who(victim, "victim", Planter::tag(s, "victim")),
                Planter::who(perp, "suspect", Planter::tag(s, "perpetrator")),
            ],
            false,
            true,
            "victim_declined",
            Some(event),
        )
    });
    p.ev.da.push(DaIncident {
        event,
        at,
        location,
        victim: Planter::who(victim, "victim", Planter::tag(s, "victim")),
        perpetrator: Planter::who(perp, "perpetrator", Planter::tag(s, "perpetrator")),
        dash,
        relationship: "partner",
        crime,
    });
    event
}

/// S05: six DA incidents escalating from standard to high DASH risk, two ED assault
/// attendances (one without an NHS number), a CIN referral for the child, a homelessness
/// application for DA relief, then intimate-partner homicide.
pub fn homicide(p: &mut Planter) {
    let s = p.scenario(
        "S05_da_homicide",
        "da_escalation_homicide",
        "H2 H3 H4 H6 H7 D7",
        "Leanne FAIRCLOUGH (b. 1993) is the victim of six DA incidents by her partner Dean \
         Anthony MALLORY from July 2023, DASH risk rising standard → medium → high, five \
         crimed (assault, ABH, non-fatal strangulation, stalking, coercive control); she attends \
         ED twice for assault (the second without an NHS number and with her surname \
         misspelled), their son is referred to children's social care twice by police, she \
         applies as homeless because of domestic abuse and leaves with him, returns, and is \
         killed by Mallory at home in November 2025 (Homicide Index sub-type 1)."
            .into(),
    );
    let west = 1u8;
    p.household(HouseholdKind::CoupleKids, 3);
    let x = p.person(
        "Dean",
        Some("Anthony"),
        "Mallory",
        Date::from_ymd(1990, 2, 17),
        false,
        Ethnicity::WhiteBritish,
        3,
    );
    let v = p.person(
        "Leanne",
        None,
        "Fairclough",
        Date::from_ymd(1993, 9, 5),
        true,
        Ethnicity::WhiteBritish,
        2,
    );
    let k = p.person(
        "Tyler",
        None,
        "Mallory",
        Date::from_ymd(2018, 6, 30),
        false,
        Ethnicity::WhiteBritish,
        2,
    );
    let home = p.vacant(west, false);
    let refuge = p.vacant(0, true);
    let since = p.shift(Date::from_ymd(2019, 3, 1));
    let left = p.date(2024, 8, 25);
    let back = p.date(2025, 6, 30);
    p.live(x, home, since, None);
    for person in [v, k] {
        let from = since.max(p.world.pop.person(person).dob);
        p.live(person, home, from, Some(left));
        p.live(person, refuge, left, Some(back));
        p.live(person, home, back, None);
    }
    let plan = [
        ((2023, 7, 15, 23, 10), "standard", None),
        ((2023, 11, 2, 21, 40), "medium", Some("105A")),
        ((2024, 3, 21, 22, 5), "medium", Some("8N")),
        ((2024, 8, 9, 0, 35), "high", Some("8S")),
        ((2025, 2, 14, 19, 20), "high", Some("8Q")),
        ((2025, 10, 3, 20, 45), "high", Some("8U")),
    ];
    for (i, ((y, m, d, hh, mm), dash, code)) in plan.into_iter().enumerate() {
        let at = p.at(y, m, d, hh, mm);
        let location = if i == 4 { refuge } else { home };
        let event = incident(p, s, at, Some(location), (v, x), dash, code);
        match i {
            1 | 3 => {
                let event = p.ev.event();
                p.ev.cin.push(CinReferral {
                    event,
                    child: Planter::who(k, "child", Planter::tag(s, "child_referral")),
                    date: at.date.add_days(4),
                    council: west,
                    source: "5C",
                    need: "N1",
                    factors: vec!["3A", "3B"],
                    nfa: false,
                });
            }
            _ => {}
        }
        if i == 2 {
            p.ed(
                v,
                at.add_minutes(95),
                EdReason::Assault("hit_kick_bodily_force"),
                "home",
                Some(home),
                "none",
                Planter::tag(s, "ed_assault"),
                Some(Box::new(Shown { clean: true, nhs: NhsShown::Present, ..Shown::default() })),
                Some(event),
            );
        }
        if i == 3 {
            p.ed(
                v,
                at.add_minutes(70),
                EdReason::Assault("strangulation_asphyxiation"),
                "home",
                Some(home),
                "none",
                Planter::tag(s, "ed_assault_no_nhs_number"),
                Some(Box::new(Shown {
                    clean: true,
                    surname: Some("Fairclogh".into()),
                    nhs: NhsShown::Missing,
                    ..Shown::default()
                })),
                Some(event),
            );
        }
    }
    let event = p.ev.event();
    p.ev.homeless.push(HomelessCase {
        event,
        applicant: Planter::who(v, "applicant", Planter::tag(s, "housing_da_relief")),
        date: p.date(2024, 8, 20),
        council: west,
        duty: "relief",
        reason: "domestic_abuse",
        needs: vec!["history_of_domestic_abuse"],
        accommodation: "social_rented",
        last_settled: Some(home),
        temporary: true,
        with_children: true,
    });
    p.reindex();
    let at = p.at(2025, 11, 28, 21, 30);
    let plan = Plan {
        victim: v,
        suspects: vec![x],
        at,
        relationship: "partner_ex_partner",
        method: "sharp_instrument",
        location: "victims_home",
        address: Some(home),
        circumstances: "quarrel_revenge_loss_of_temper",
        domestic: true,
    };
    record(
        p.world,
        p.ev,
        &mut p.rng,
        plan,
        (Planter::tag(s, "homicide_victim"), Planter::tag(s, "homicide_suspect")),
    );
    if let Some(d) = p.ev.deaths.last_mut() {
        d.da_history = true;
        d.person.shown = clean();
    }
}

/// S06: four DA incidents, an ED self-harm attendance, then death by suspected suicide recorded
/// not suspicious with a DA history flag (SVSDA, domain.md §2.1D).
pub fn suicide(p: &mut Planter) {
    let s = p.scenario(
        "S06_da_suicide",
        "da_escalation_svsda",
        "D7 H3",
        "Claire SHAWCROSS (née Lomax, b. 1983) is the victim of four DA incidents by her husband \
         Martin Gregory SHAWCROSS from September 2023 (DASH standard → high), attends ED after \
         self-harm in March 2025, and dies by suspected suicide at home in July 2025; the \
         death report is unexpected-not-suspicious with the DA history flag set (suspected \
         victim suicide following domestic abuse)."
            .into(),
    );
    let east = 0u8;
    p.household(HouseholdKind::Couple, 2);
    let y = p.person(
        "Martin",
        Some("Gregory"),
        "Shawcross",
        Date::from_ymd(1980, 5, 12),
        false,
        Ethnicity::WhiteBritish,
        2,
    );
    let w = p.person(
        "Claire",
        None,
        "Shawcross",
        Date::from_ymd(1983, 1, 28),
        true,
        Ethnicity::WhiteBritish,
        2,
    );
    let lomax = p.world.names.intern("Lomax");
    p.world.pop.persons[w as usize].birth_family = lomax;
    let home = p.vacant(east, false);
    let since = p.shift(Date::from_ymd(2010, 6, 1));
    p.live(y, home, since, None);
    p.live(w, home, since, None);
    let plan = [
        ((2023, 9, 30, 22, 0), "standard", None),
        ((2024, 4, 12, 20, 30), "medium", Some("105A")),
        ((2024, 12, 24, 23, 15), "high", Some("8U")),
        ((2025, 4, 2, 21, 5), "high", Some("8N")),
    ];
    for ((yy, m, d, hh, mm), dash, code) in plan {
        let at = p.at(yy, m, d, hh, mm);
        incident(p, s, at, Some(home), (w, y), dash, code);
    }
    let at = p.at(2025, 3, 15, 1, 40);
    p.ed(
        w,
        at,
        EdReason::SelfHarm("poisoning_drug_or_substance"),
        "home",
        Some(home),
        "alcohol",
        Planter::tag(s, "ed_self_harm"),
        clean(),
        None,
    );
    p.reindex();
    let found = p.at(2025, 7, 19, 8, 20);
    p.death(
        Planter::who(w, "deceased", Planter::tag(s, "svsda_death")),
        found,
        Some(home),
        "dwelling_own",
        "suspected_suicide",
        "prescription_medicine",
        vec![("unexpected_not_suspicious", found.add_minutes(240))],
        vec![Participant::new(y, "finder"), Participant::new(y, "next_of_kin")],
    );
    if let Some(d) = p.ev.deaths.last_mut() {
        d.da_history = true;
    }
}
