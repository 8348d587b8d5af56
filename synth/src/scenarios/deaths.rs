//! Planted death scenarios: a Port-like series (S01), a care-home cluster (S02) with a decoy
//! care home (S03), and a hostel overdose hotspot (S04).

use crate::date::Date;
use crate::events::{EdReason, NhsShown, Participant, Shown};
use crate::geography::AddressKind;
use crate::population::{Ethnicity, HouseholdKind, flag};
use crate::rng::{between, index, pick};
use crate::scenarios::{Planter, clean, shown};

/// S01: four young men die of GHB over ~15 months around one address, all first categorised
/// not suspicious; one man is finder, last seen with, reporting person and person present
/// under name variants and an alias.
pub fn port_series(p: &mut Planter) {
    let s = p.scenario(
        "S01_port_series",
        "linked_death_series",
        "D3 D4 D6",
        "Four men aged 22-29 die of suspected GHB poisoning between June 2024 and September \
         2025, at or near one block of flats (its flat, its parent UPRN, and a park in the same \
         ward), each first categorised unexpected-not-suspicious with a routine post-mortem. The \
         same man (Stephen Michael ASHCROFT, the block's resident) is linked to every death: \
         finder, last seen with, reporting person (as Steven, date of birth with day and month \
         swapped) and person present (under the alias Joe DEAN, true name in the alias field). \
         He was a suspect in a 2023 drug-facilitated sexual assault report, and one victim \
         attended ED with a GHB overdose six weeks before his death."
            .into(),
    );
    let block_flat = p.vacant(0, true);
    let geo = &p.world.geo;
    let block = geo.address(block_flat).parent.unwrap_or(block_flat);
    let ward = geo.ward_of(block_flat) as usize;
    let park = geo.ward_public_places[ward]
        .iter()
        .copied()
        .find(|&a| geo.address(a).kind == AddressKind::Park)
        .unwrap_or(block);
    p.household(HouseholdKind::Single, 2);
    let dob = Date::from_ymd(1979, 3, 11);
    let associate =
        p.person("Stephen", Some("Michael"), "Ashcroft", dob, false, Ethnicity::WhiteBritish, 2);
    let start = p.shift(Date::from_ymd(2016, 5, 1));
    p.live(associate, block_flat, start, None);
    let dob = p.world.pop.person(associate).dob;
    let (y, m, d) = dob.ymd();
    let swapped = Date::from_ymd(y, d, m);
    let victims = [
        ("Daniel", "Whitfield", Date::from_ymd(1997, 8, 2)),
        ("Ryan", "Okafor", Date::from_ymd(2001, 1, 19)),
        ("Thomas", "Kowalczyk", Date::from_ymd(1995, 11, 30)),
        ("Liam", "Heywood", Date::from_ymd(1999, 6, 7)),
    ];
    let eth = [
        Ethnicity::WhiteBritish,
        Ethnicity::African,
        Ethnicity::WhiteOther,
        Ethnicity::WhiteBritish,
    ];
    let deaths = [
        p.at(2024, 6, 18, 7, 40),
        p.at(2024, 9, 2, 6, 15),
        p.at(2025, 1, 20, 8, 5),
        p.at(2025, 9, 14, 5, 50),
    ];
    // An earlier allegation against him (drug-facilitated sexual assault, no further action).
    let victim0 = {
        p.household(HouseholdKind::Single, 1);
        let v = p.person(
            "Callum",
            None,
            "Brereton",
            Date::from_ymd(2000, 2, 12),
            false,
            Ethnicity::WhiteBritish,
            1,
        );
        let home = p.vacant(1, true);
        p.live(v, home, p.shift(Date::from_ymd(2019, 1, 1)), None);
        v
    };
    let at = p.at(2023, 10, 8, 1, 30);
    let event = p.ev.event();
    p.ev.crimes.push(crate::events::Crime {
        event,
        hocr: "17A",
        committed: at,
        reported: at.add_minutes(2 * 24 * 60),
        location: Some(block_flat),
        da: false,
        knife: false,
        drug: true,
        alcohol: false,
        outcome: "evidential_difficulties_victim",
        people: vec![
            Participant {
                tag: Planter::tag(s, "prior_allegation_victim"),
                shown: clean(),
                ..Participant::new(victim0, "victim")
            },
            Participant {
                tag: Planter::tag(s, "prior_allegation_suspect"),
                shown: clean(),
                ..Participant::new(associate, "suspect")
            },
        ],
    });
    for (i, ((given, family, vdob), when)) in victims.iter().zip(deaths).enumerate() {
        p.household(HouseholdKind::LoneParent, 1);
        let mother_dob = vdob.plus_years(-27);
        let mother = p.person(
            ["Susan", "Grace", "Agnieszka", "Julie"][i],
            None,
            if i == 2 { "Kowalczyk" } else { family },
            mother_dob,
            true,
            eth[i],
            1,
        );
        let v = p.person(given, None, family, *vdob, false, eth[i], 1);
        let home = p.vacant((i % 2) as u8, i % 2 == 0);
        let since = p.shift(Date::from_ymd(2012, 9, 1));
        p.live(mother, home, since, None);
        p.live(v, home, since, Some(when.date));
        let (location, location_type) = match i {
            0 => (block_flat, "dwelling_other"),
            1 | 2 => (park, "open_land_water"),
            _ => (block, "public_place"),
        };
        // Each variant made the police create a new nominal record.
        let registered = |appearance: Option<Box<Shown>>, registration: u8| {
            appearance.map(|mut a| {
                a.registration = registration;
                a
            })
        };
        let (role, appearance) = match i {
            0 => ("finder", shown(Some("Stephen"), Some("Ashcroft"), None)),
            1 => ("last_seen_with", registered(shown(Some("Steve"), Some("Ashcroft"), None), 2)),
            2 => (
                "reporting_person",
                registered(shown(Some("Steven"), Some("Ashcroft"), Some(Some(swapped))), 3),
            ),
            _ => (
                "person_present",
                Some(Box::new(Shown {
                    clean: true,
                    forename: Some("Joe".into()),
                    surname: Some("Dean".into()),
                    alias: Some("STEVE ASHCROFT".into()),
                    registration: 4,
                    ..Shown::default()
                })),
            ),
        };
        let mut people = vec![
            Participant {
                tag: Planter::tag(s, "recurring_associate"),
                shown: appearance,
                ..Participant::new(associate, role)
            },
            Participant::new(mother, "next_of_kin"),
        ];
        if i == 0 {
            people.push(Participant {
                tag: Planter::tag(s, "recurring_associate"),
                shown: shown(Some("Stephen"), Some("Ashcroft"), None),
                ..Participant::new(associate, "reporting_person")
            });
        }
        let mut categories = vec![("unexpected_not_suspicious", when.add_minutes(180))];
        if i == 3 {
            categories.push(("unexpected_under_investigation", when.add_minutes(20 * 24 * 60)));
        }
        let substance = if i == 2 { "unknown" } else { "ghb" };
        p.death(
            Participant { tag: Planter::tag(s, "series_death"), ..Participant::new(v, "deceased") },
            when,
            Some(location),
            location_type,
            "drug_related",
            substance,
            categories,
            people,
        );
        if i == 2 {
            let arrival = p.at(2024, 12, 8, 2, 20);
            p.ed(
                v,
                arrival,
                EdReason::Overdose,
                "other",
                Some(block_flat),
                "drugs",
                Planter::tag(s, "prior_overdose"),
                clean(),
                None,
            );
        }
    }
    p.world.pop.persons[associate as usize].flags |= flag::PLANTED;
}

/// S02 and S03: nine deaths in twelve months at one care home with one staff member present at
/// seven; and a large nursing home with many deaths, all expected, attended by many staff.
pub fn care_homes(p: &mut Planter) {
    let s = p.scenario(
        "S02_care_home_cluster",
        "institution_cluster",
        "D4 D5",
        "Nine residents of one care home die between February 2024 and January 2025, most \
         recorded unexpected-not-suspicious; the same member of staff (carer Karen Louise \
         PRENTICE) is linked to seven of the deaths as carer, finder or person present, and \
         two adult safeguarding concerns were raised about the home in that year."
            .into(),
    );
    let decoy = p.scenario(
        "S03_care_home_decoy",
        "institution_decoy",
        "D5",
        "A 90-bed nursing home with 20 police-reported deaths over three years, all natural and \
         mostly expected, each attended by one of many different staff: high in absolute \
         numbers but not above what its size and frailty predict. Not a series."
            .into(),
    );
    let homes = p.world.geo.care_homes.clone();
    let west = 1u8;
    let cluster_home = homes
        .iter()
        .copied()
        .filter(|&h| p.world.geo.council_of(h) == west)
        .find(|&h| (25..60).contains(&p.world.geo.address(h).capacity))
        .or_else(|| homes.first().copied())
        .unwrap_or(0);
    let decoy_home = homes
        .iter()
        .copied()
        .filter(|&h| h != cluster_home)
        .max_by_key(|&h| (p.world.geo.address(h).capacity, std::cmp::Reverse(h)))
        .unwrap_or(cluster_home);
    p.world.geo.addresses[decoy_home as usize].capacity = 90;

    p.household(HouseholdKind::Single, 0);
    let staff = p.person(
        "Karen",
        Some("Louise"),
        "Prentice",
        Date::from_ymd(1986, 4, 23),
        true,
        Ethnicity::WhiteBritish,
        0,
    );
    let staff_home = p.vacant(west, false);
    p.live(staff, staff_home, p.shift(Date::from_ymd(2018, 1, 1)), None);
    p.world.pop.persons[staff as usize].flags |= flag::CARE_STAFF;
    let colleagues: Vec<u32> = homes
        .iter()
        .position(|&h| h == cluster_home)
        .and_then(|i| p.world.pop.care_staff.get(i).cloned())
        .unwrap_or_default();

    let residents = |p: &mut Planter, n: usize, home: u32| -> Vec<u32> {
        let h = p.household(HouseholdKind::CareHome, 0);
        let _ = h;
        let mut v = Vec::new();
        for k in 0..n {
            let female = k % 3 != 0;
            let given = if female {
                ["Margaret", "Joan", "Dorothy", "Irene", "Betty"][k % 5]
            } else {
                ["Arthur", "Kenneth", "Ronald", "Frank"][k % 4]
            };
            let family = [
                "Holt",
                "Bebbington",
                "Massey",
                "Leigh",
                "Platt",
                "Dutton",
                "Venables",
                "Lowndes",
                "Mellor",
                "Hulme",
            ][k % 10];
            let year = 1930 + (k as i32 * 7) % 12;
            let r = p.person(
                given,
                None,
                family,
                Date::from_ymd(year, 1 + (k as u32 * 5) % 12, 1 + (k as u32 * 11) % 28),
                female,
                Ethnicity::WhiteBritish,
                0,
            );
            p.world.pop.persons[r as usize].flags |= flag::CARE_HOME;
            p.live(r, home, p.shift(Date::from_ymd(2021, 1 + (k as u32 % 12), 10)), None);
            v.push(r);
        }
        v
    };
    let cluster = residents(p, 9, cluster_home);
    for (k, &r) in cluster.iter().enumerate() {
        let day = p.date(2024, 2, 3).add_days((k as i32) * 38 + between(&mut p.rng, 0, 9) as i32);
        let at = crate::date::DateTime::new(day, between(&mut p.rng, 60, 400) as u32);
        let mut people = Vec::new();
        if k != 2 && k != 6 {
            let role = ["carer", "finder", "person_present"][k % 3];
            people.push(Participant {
                tag: Planter::tag(s, "staff_present"),
                shown: clean(),
                ..Participant::new(staff, role)
            });
        } else if let Some(&c) = pick(&mut p.rng, &colleagues) {
            people.push(Participant::new(c, "carer"));
        }
        let (category, mechanism) = match k {
            1 | 4 | 7 => ("expected", "natural"),
            5 => ("unexpected_not_suspicious", "fall"),
            8 => ("unexpected_not_suspicious", "unknown"),
            _ => ("unexpected_not_suspicious", "natural"),
        };
        p.death(
            Participant {
                tag: Planter::tag(s, "cluster_death"),
                ..Participant::new(r, "deceased")
            },
            at,
            Some(cluster_home),
            "care_home",
            mechanism,
            "none",
            vec![(category, at.add_minutes(120))],
            people,
        );
    }
    for (k, (&r, risk)) in
        cluster.iter().skip(3).zip(["neglect_acts_of_omission", "organisational"]).enumerate()
    {
        let date = p.date(2024, 5 + 4 * k as u32, 12);
        let event = p.ev.event();
        p.ev.asc.push(crate::events::AscConcern {
            event,
            adult: Participant {
                tag: Planter::tag(s, "safeguarding_concern"),
                shown: clean(),
                ..Participant::new(r, "adult_at_risk")
            },
            date,
            council: west,
            s42: k == 1,
            risk,
            location: "care_home",
            source: "service_provider",
            address: Some(cluster_home),
        });
    }

    let decoy_staff: Vec<u32> = homes
        .iter()
        .position(|&h| h == decoy_home)
        .and_then(|i| p.world.pop.care_staff.get(i).cloned())
        .unwrap_or_default();
    let decoy_residents = residents(p, 20, decoy_home);
    for (k, &r) in decoy_residents.iter().enumerate() {
        let day = p.date(2023, 5, 1).add_days((k as i32) * 52 + between(&mut p.rng, 0, 20) as i32);
        let at = crate::date::DateTime::new(day, between(&mut p.rng, 60, 1300) as u32);
        let mut people = Vec::new();
        if !decoy_staff.is_empty() {
            let c = decoy_staff[(k + index(&mut p.rng, 3)) % decoy_staff.len()];
            people.push(Participant::new(c, if k % 2 == 0 { "carer" } else { "finder" }));
        }
        let category = if k % 5 == 4 { "unexpected_not_suspicious" } else { "expected" };
        p.death(
            Participant {
                tag: Planter::tag(decoy, "decoy_death"),
                ..Participant::new(r, "deceased")
            },
            at,
            Some(decoy_home),
            "care_home",
            "natural",
            "none",
            vec![(category, at.add_minutes(90))],
            people,
        );
    }
}

/// S04: repeated overdoses at one hostel: deaths and ED attendances in different rooms under one
/// parent UPRN.
pub fn hostel(p: &mut Planter) {
    let s = p.scenario(
        "S04_hostel_hotspot",
        "address_hotspot",
        "D3 D6",
        "Five residents of one hostel die of overdoses over three years, each in a different \
         room (different UPRNs, one parent UPRN), and residents attend ED fourteen times for \
         overdoses, often without an NHS number and with the ZZ99 3VZ or hostel postcode."
            .into(),
    );
    let east = 0u8;
    let hostels = p.world.geo.hostels.clone();
    let hostel = hostels
        .iter()
        .copied()
        .filter(|&h| p.world.geo.council_of(h) == east)
        .max_by_key(|&h| (p.world.geo.address(h).capacity, std::cmp::Reverse(h)))
        .unwrap_or(0);
    let rooms = p.world.geo.hostel_rooms(hostel);
    let names = [
        ("Paul", "Gallagher", 1981),
        ("Mark", "Nowak", 1988),
        ("Kyle", "Hughes", 1996),
        ("Shaun", "Doyle", 1979),
        ("Gary", "Platt", 1975),
        ("Dean", "Riley", 1990),
        ("Kelly", "Marsh", 1992),
        ("Craig", "Lowe", 1985),
    ];
    let mut residents = Vec::new();
    for (k, (given, family, year)) in names.iter().enumerate() {
        p.household(HouseholdKind::Hostel, 3);
        let female = *given == "Kelly";
        let eth = if *family == "Nowak" { Ethnicity::WhiteOther } else { Ethnicity::WhiteBritish };
        let r = p.person(
            given,
            None,
            family,
            Date::from_ymd(*year, 1 + k as u32, 3 + k as u32 * 3),
            female,
            eth,
            3,
        );
        p.world.pop.persons[r as usize].flags |= flag::HOSTEL;
        let room = rooms.get(rooms.len().saturating_sub(1 + k)).copied().unwrap_or(hostel);
        p.live(r, room, p.shift(Date::from_ymd(2022, 10 + (k as u32 % 3), 1)), None);
        residents.push((r, room));
    }
    let death_days = [(2023, 8, 14), (2024, 2, 2), (2024, 10, 27), (2025, 4, 9), (2025, 12, 1)];
    let substances =
        ["heroin_opioid", "synthetic_cannabinoid", "heroin_opioid", "methadone", "heroin_opioid"];
    for (k, &(y, m, d)) in death_days.iter().enumerate() {
        let (r, room) = residents[k];
        let at = p.at(y, m, d, 9, 10);
        p.death(
            Participant {
                tag: Planter::tag(s, "overdose_death"),
                ..Participant::new(r, "deceased")
            },
            at,
            Some(room),
            "hostel_hmo",
            "drug_related",
            substances[k],
            vec![("unexpected_not_suspicious", at.add_minutes(200))],
            Vec::new(),
        );
    }
    // Fourteen overdose attendances, before each death and by the survivors.
    let mut n = 0;
    for (k, &(r, room)) in residents.iter().enumerate() {
        let count = if k < 5 { 2 } else { 1 + (k % 2) };
        for j in 0..count {
            if n == 14 {
                break;
            }
            let death = p.world.pop.person(r).death;
            let base = death.map_or(p.date(2024, 6, 1), |d| d.add_days(-40 - 60 * j as i32));
            let day = base.max(p.date(2023, 4, 20));
            let at = crate::date::DateTime::new(day, 22 * 60 + 10 * n as u32);
            let appearance = if n % 3 == 0 {
                Some(Box::new(Shown { clean: true, nhs: NhsShown::Missing, ..Shown::default() }))
            } else {
                clean()
            };
            p.ed(
                r,
                at,
                EdReason::Overdose,
                "other",
                Some(room),
                "drugs",
                Planter::tag(s, "overdose_attendance"),
                appearance,
                None,
            );
            n += 1;
        }
    }
}
