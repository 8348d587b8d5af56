//! S07: a youth knife network: six young people at one school sharing suspensions, permanent
//! exclusions and CIN referrals for criminal exploitation, among whom three stabbings happen
//! (one never reported to police, one fatal).

use crate::date::Date;
use crate::events::homicide::{Plan, record};
use crate::events::{Admission, CinReferral, EdReason, Exclusion, Shown};
use crate::population::{Ethnicity, HouseholdKind};
use crate::scenarios::{Planter, clean};

/// Plants S07.
pub fn knife_network(p: &mut Planter) {
    let s = p.scenario(
        "S07_youth_knife_network",
        "youth_knife_network",
        "H2 H3 H5 S5 S7",
        "Six young people (born 2007-2009) at one secondary school share suspensions, two \
         permanent exclusions and CIN referrals for criminal exploitation or gangs. Jaydon \
         CAMPBELL-REID is stabbed in June 2025 and attends ED (recorded as Campbell Reid), never \
         reported to police; Reece WHITLOW is stabbed by Hamza IQBAL in September 2025 (ED, \
         admission X99, crime with knife flag); Mason PICKERING is arrested with a blade in \
         November 2025; Tyrese GRANT (17) is stabbed to death by Kai BRENNAN in January 2026 \
         (Homicide Index sub-type 3)."
            .into(),
    );
    let east = 0u8;
    let youths = [
        (
            "Jaydon",
            "Campbell-Reid",
            Date::from_ymd(2008, 4, 11),
            Ethnicity::MixedWhiteBlackCaribbean,
            "Nicola",
        ),
        ("Kai", "Brennan", Date::from_ymd(2007, 10, 2), Ethnicity::WhiteBritish, "Kerry"),
        ("Reece", "Whitlow", Date::from_ymd(2008, 12, 19), Ethnicity::WhiteBritish, "Donna"),
        ("Hamza", "Iqbal", Date::from_ymd(2007, 6, 25), Ethnicity::Pakistani, "Shazia"),
        ("Tyrese", "Grant", Date::from_ymd(2008, 8, 8), Ethnicity::Caribbean, "Marcia"),
        ("Mason", "Pickering", Date::from_ymd(2009, 1, 15), Ethnicity::WhiteBritish, "Stacey"),
    ];
    let mut ids = Vec::new();
    let mut homes = Vec::new();
    for (i, (given, family, dob, eth, mother)) in youths.iter().enumerate() {
        p.household(HouseholdKind::LoneParent, 3);
        let m = p.person(mother, None, family, dob.plus_years(-24), true, *eth, 2);
        let y = p.person(given, None, family, *dob, false, *eth, 3);
        let home = p.vacant(east, i % 2 == 1);
        let since = p.shift(Date::from_ymd(2014, 8, 1));
        p.live(m, home, since, None);
        p.live(y, home, since, None);
        ids.push(y);
        homes.push(home);
    }
    let school =
        p.world.geo.schools.iter().position(|sc| sc.council == east && sc.secondary).unwrap_or(0)
            as u32;
    // (youth, date, permanent, reason)
    let exclusions = [
        (0, (2023, 10, 11), false, "PD"),
        (0, (2024, 3, 5), false, "VA"),
        (1, (2023, 11, 20), false, "PP"),
        (1, (2024, 2, 7), false, "PA"),
        (1, (2024, 6, 11), true, "OW"),
        (2, (2024, 1, 16), false, "PD"),
        (3, (2023, 9, 26), false, "PP"),
        (3, (2024, 5, 21), false, "DA"),
        (4, (2024, 4, 24), false, "VA"),
        (4, (2025, 1, 20), true, "OW"),
        (5, (2024, 11, 12), false, "PD"),
    ];
    for (who, (y, m, d), permanent, reason) in exclusions {
        let event = p.ev.event();
        let date = p.date(y, m, d);
        p.ev.exclusions.push(Exclusion {
            event,
            pupil: Planter::who(ids[who], "pupil", Planter::tag(s, "exclusion")),
            date,
            council: east,
            school,
            permanent,
            reason,
            sessions: if permanent { 0 } else { 6 },
        });
    }
    let referrals = [
        (0, (2023, 6, 14), "2A", vec!["22A"]),
        (1, (2024, 1, 9), "5C", vec!["24A", "22A"]),
        (4, (2024, 9, 18), "5C", vec!["22A"]),
        (5, (2025, 3, 4), "2A", vec!["6A"]),
    ];
    for (who, (y, m, d), source, factors) in referrals {
        let event = p.ev.event();
        let date = p.date(y, m, d);
        p.ev.cin.push(CinReferral {
            event,
            child: Planter::who(ids[who], "child", Planter::tag(s, "cin_referral")),
            date,
            council: east,
            source,
            need: "N1",
            factors,
            nfa: false,
        });
    }
    let near = |p: &mut Planter, home: u32| {
        let mut rng = crate::rng::stream(p.world.seed(), "youth-place", u64::from(home));
        p.world.geo.public_place_near(&mut rng, home)
    };
    // 1. Unreported stabbing.
    let at = p.at(2025, 6, 14, 23, 40);
    let place = near(p, homes[0]);
    p.ed(
        ids[0],
        at,
        EdReason::Assault("cut_stab_sharp_object"),
        "street_public_highway",
        place,
        "alcohol",
        Planter::tag(s, "unreported_stabbing"),
        Some(Box::new(Shown {
            clean: true,
            surname: Some("Campbell Reid".into()),
            ..Shown::default()
        })),
        None,
    );
    // 2. Reported stabbing with admission.
    let at = p.at(2025, 9, 27, 22, 15);
    let place = near(p, homes[2]);
    let event = p.ed(
        ids[2],
        at.add_minutes(35),
        EdReason::Assault("cut_stab_sharp_object"),
        "street_public_highway",
        place,
        "none",
        Planter::tag(s, "stabbing_victim"),
        clean(),
        None,
    );
    if let Some(a) = p.ev.ed.last_mut() {
        a.admitted = true;
    }
    let site = p.ev.ed.last().map_or(0, |a| a.site);
    p.ev.apc.push(Admission {
        event,
        patient: Planter::who(ids[2], "patient", Planter::tag(s, "stabbing_admission")),
        admitted: at.date,
        discharged: at.date.add_days(4),
        method: "21",
        diagnosis: "S311",
        external: "X99",
        site,
    });
    p.crime(
        "5/1",
        at,
        place,
        vec![
            Planter::who(ids[2], "victim", Planter::tag(s, "stabbing_victim")),
            Planter::who(ids[3], "suspect", Planter::tag(s, "stabbing_suspect")),
        ],
        true,
        false,
        "charged",
        Some(event),
    );
    // 3. Possession of a blade.
    let at = p.at(2025, 11, 3, 16, 30);
    let place = near(p, homes[5]);
    p.crime(
        "10D",
        at,
        place,
        vec![Planter::who(ids[5], "suspect", Planter::tag(s, "knife_possession"))],
        false,
        false,
        "charged",
        None,
    );
    // 4. Fatal stabbing.
    p.reindex();
    let at = p.at(2026, 1, 10, 20, 50);
    let place = near(p, homes[4]);
    let plan = Plan {
        victim: ids[4],
        suspects: vec![ids[1]],
        at,
        relationship: "friend_acquaintance",
        method: "sharp_instrument",
        location: "street_public_place",
        address: place,
        circumstances: "quarrel_revenge_loss_of_temper",
        domestic: false,
    };
    record(
        p.world,
        p.ev,
        &mut p.rng,
        plan,
        (Planter::tag(s, "fatal_stabbing_victim"), Planter::tag(s, "fatal_stabbing_suspect")),
    );
}
