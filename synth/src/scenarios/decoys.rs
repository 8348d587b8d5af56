//! False-match decoys (domain.md §4 pitfalls 1 and 5): records of different people that a
//! careless linkage would join — twins (S08), father and son of the same name at one address
//! (S09), a mother's NHS number on her child's ED record (S10), a number re-issued after
//! adoption (S11), and two unrelated people with a common name and the same birthday (S12).

use crate::date::Date;
use crate::events::{CinReferral, EdReason, NhsShown, Shown};
use crate::population::{Ethnicity, HouseholdKind};
use crate::scenarios::{Planter, clean};

fn fixed(nhs: NhsShown, surname: Option<&str>) -> Option<Box<Shown>> {
    Some(Box::new(Shown {
        clean: true,
        nhs,
        surname: surname.map(str::to_string),
        ..Shown::default()
    }))
}

/// S08: twins Jack and Jake, same surname, date of birth and address.
pub fn twins(p: &mut Planter) {
    let s = p.scenario(
        "S08_twins",
        "decoy_twins",
        "S8",
        "Twins Jack and Jake WHITWORTH (same surname, date of birth and address; Jake is also a \
         spelling variant of Jack): Jack attends ED after an assault, Jake is a public-order \
         suspect and attends ED after a fall. Two people, never to be merged."
            .into(),
    );
    p.household(HouseholdKind::FamilyAdultKids, 1);
    let dad = p.person(
        "Neil",
        None,
        "Whitworth",
        Date::from_ymd(1972, 6, 1),
        false,
        Ethnicity::WhiteBritish,
        1,
    );
    let mum = p.person(
        "Joanne",
        None,
        "Whitworth",
        Date::from_ymd(1974, 2, 9),
        true,
        Ethnicity::WhiteBritish,
        1,
    );
    let dob = Date::from_ymd(2004, 3, 9);
    let jack = p.person("Jack", None, "Whitworth", dob, false, Ethnicity::WhiteBritish, 1);
    let jake = p.person("Jake", None, "Whitworth", dob, false, Ethnicity::WhiteBritish, 1);
    let home = p.vacant(0, false);
    let since = p.shift(Date::from_ymd(2004, 4, 1));
    for person in [dad, mum, jack, jake] {
        p.live(person, home, since, None);
    }
    let at = p.at(2024, 5, 25, 2, 10);
    p.ed(
        jack,
        at,
        EdReason::Assault("hit_kick_bodily_force"),
        "licensed_premises",
        None,
        "alcohol",
        Planter::tag(s, "twin_a"),
        clean(),
        None,
    );
    let at = p.at(2024, 9, 14, 23, 30);
    p.crime(
        "9A",
        at,
        Some(home),
        vec![Planter::who(jake, "suspect", Planter::tag(s, "twin_b"))],
        false,
        false,
        "out_of_court",
        None,
    );
    let at = p.at(2025, 2, 3, 15, 45);
    p.ed(
        jake,
        at,
        EdReason::Injury("fall"),
        "home",
        Some(home),
        "none",
        Planter::tag(s, "twin_b"),
        clean(),
        None,
    );
}

/// S09: John Michael Taylor and his son John Taylor at the same address.
pub fn father_son(p: &mut Planter) {
    let s = p.scenario(
        "S09_father_son",
        "decoy_same_name_same_address",
        "S8",
        "John Michael TAYLOR (b. 1968) and his son John Paul TAYLOR (b. 1994) live at the same \
         address: the father attends ED with chest pain and is a burglary victim; the son is an \
         assault victim (police and ED, same event) and later attends ED after an injury. Same \
         name and address, different dates of birth: two people."
            .into(),
    );
    p.household(HouseholdKind::FamilyAdultKids, 0);
    let father = p.person(
        "John",
        Some("Michael"),
        "Taylor",
        Date::from_ymd(1968, 2, 10),
        false,
        Ethnicity::WhiteBritish,
        0,
    );
    let mother = p.person(
        "Susan",
        None,
        "Taylor",
        Date::from_ymd(1970, 11, 3),
        true,
        Ethnicity::WhiteBritish,
        0,
    );
    let son = p.person(
        "John",
        Some("Paul"),
        "Taylor",
        Date::from_ymd(1994, 7, 23),
        false,
        Ethnicity::WhiteBritish,
        0,
    );
    let home = p.vacant(1, false);
    let since = p.shift(Date::from_ymd(1996, 1, 1));
    for person in [father, mother, son] {
        p.live(person, home, since, None);
    }
    let at = p.at(2024, 2, 11, 10, 5);
    p.ed(
        father,
        at,
        EdReason::Illness("chest_pain"),
        "home",
        None,
        "none",
        Planter::tag(s, "father"),
        clean(),
        None,
    );
    let at = p.at(2024, 6, 22, 23, 50);
    let event = p.ev.event();
    p.crime(
        "8N",
        at,
        Some(home),
        vec![Planter::who(son, "victim", Planter::tag(s, "son"))],
        false,
        false,
        "no_suspect_identified",
        Some(event),
    );
    p.ed(
        son,
        at.add_minutes(50),
        EdReason::Assault("hit_kick_bodily_force"),
        "street_public_highway",
        None,
        "alcohol",
        Planter::tag(s, "son"),
        clean(),
        Some(event),
    );
    let at = p.at(2025, 1, 17, 3, 0);
    p.crime(
        "28E",
        at,
        Some(home),
        vec![Planter::who(father, "victim", Planter::tag(s, "father"))],
        false,
        false,
        "no_suspect_identified",
        None,
    );
    let at = p.at(2025, 8, 30, 14, 20);
    p.ed(
        son,
        at,
        EdReason::Injury("cut_stab_sharp_object"),
        "home",
        Some(home),
        "none",
        Planter::tag(s, "son"),
        clean(),
        None,
    );
}

/// S10: a child's ED record carrying the mother's (valid) NHS number.
pub fn mothers_number(p: &mut Planter) {
    let s = p.scenario(
        "S10_mothers_nhs_on_child",
        "decoy_wrong_nhs_number",
        "S8",
        "Alfie BARKER (b. 2021) attends ED with a fever and his record carries his mother \
         Chloe BARKER's valid NHS number; she has her own ED attendance, and Alfie a later one \
         with his own number. An exact NHS-number join would wrongly merge mother and child."
            .into(),
    );
    p.household(HouseholdKind::LoneParent, 1);
    let mother = p.person(
        "Chloe",
        None,
        "Barker",
        Date::from_ymd(1995, 3, 14),
        true,
        Ethnicity::WhiteBritish,
        1,
    );
    let child = p.person(
        "Alfie",
        None,
        "Barker",
        Date::from_ymd(2021, 5, 2),
        false,
        Ethnicity::WhiteBritish,
        1,
    );
    let home = p.vacant(0, true);
    p.live(mother, home, p.shift(Date::from_ymd(2019, 9, 1)), None);
    p.live(child, home, p.world.pop.person(child).dob, None);
    let at = p.at(2024, 10, 19, 19, 25);
    p.ed(
        child,
        at,
        EdReason::Illness("fever"),
        "home",
        None,
        "none",
        Planter::tag(s, "child_record_with_mothers_nhs_number"),
        fixed(NhsShown::OfPerson(mother), None),
        None,
    );
    let at = p.at(2025, 1, 7, 11, 40);
    p.ed(
        mother,
        at,
        EdReason::Injury("fall"),
        "home",
        Some(home),
        "none",
        Planter::tag(s, "mother"),
        fixed(NhsShown::Present, None),
        None,
    );
    let at = p.at(2025, 3, 22, 9, 15);
    p.ed(
        child,
        at,
        EdReason::Illness("breathlessness"),
        "home",
        None,
        "none",
        Planter::tag(s, "child"),
        fixed(NhsShown::Present, None),
        None,
    );
}

/// S11: an NHS number re-issued after adoption, with a change of surname and council.
pub fn reissued_number(p: &mut Planter) {
    let s = p.scenario(
        "S11_reissued_nhs_number",
        "decoy_reissued_nhs_number",
        "S8 H3",
        "Ruby (b. 2016) is referred to East's children's services and attends ED as Ruby RILEY \
         with her first NHS number; she is adopted in May 2024, re-issued a new NHS number and \
         appears in West's data and ED as Ruby HARTLEY. One person under two numbers and two \
         surnames (truth: nhs_number and previous_nhs_number)."
            .into(),
    );
    p.household(HouseholdKind::Single, 3);
    let birth_mother = p.person(
        "Danielle",
        None,
        "Riley",
        Date::from_ymd(1997, 10, 30),
        true,
        Ethnicity::WhiteBritish,
        3,
    );
    let first_home = p.vacant(0, true);
    p.live(birth_mother, first_home, p.shift(Date::from_ymd(2015, 1, 1)), None);
    p.household(HouseholdKind::CoupleKids, 0);
    let dad = p.person(
        "Mark",
        None,
        "Hartley",
        Date::from_ymd(1982, 8, 8),
        false,
        Ethnicity::WhiteBritish,
        0,
    );
    let mum = p.person(
        "Emma",
        None,
        "Hartley",
        Date::from_ymd(1984, 12, 1),
        true,
        Ethnicity::WhiteBritish,
        0,
    );
    let ruby = p.person(
        "Ruby",
        None,
        "Hartley",
        Date::from_ymd(2016, 7, 21),
        true,
        Ethnicity::WhiteBritish,
        1,
    );
    let riley = p.world.names.intern("Riley");
    p.world.pop.persons[ruby as usize].birth_family = riley;
    let new_home = p.vacant(1, false);
    let adopted = p.date(2024, 5, 15);
    p.live(dad, new_home, p.shift(Date::from_ymd(2012, 1, 1)), None);
    p.live(mum, new_home, p.shift(Date::from_ymd(2012, 1, 1)), None);
    let born = p.world.pop.person(ruby).dob;
    p.live(ruby, first_home, born, Some(adopted));
    p.live(ruby, new_home, adopted, None);
    p.reissued.push(ruby);
    let event = p.ev.event();
    let date = p.date(2023, 9, 12);
    p.ev.cin.push(CinReferral {
        event,
        child: crate::events::Participant {
            tag: Planter::tag(s, "pre_adoption_referral"),
            shown: fixed(NhsShown::Old, Some("Riley")),
            ..crate::events::Participant::new(ruby, "child")
        },
        date,
        council: 0,
        source: "4",
        need: "N1",
        factors: vec!["2B"],
        nfa: false,
    });
    let at = p.at(2023, 12, 2, 18, 10);
    p.ed(
        ruby,
        at,
        EdReason::Illness("fever"),
        "home",
        None,
        "none",
        Planter::tag(s, "pre_adoption_ed"),
        fixed(NhsShown::Old, Some("Riley")),
        None,
    );
    let at = p.at(2025, 2, 14, 16, 0);
    p.ed(
        ruby,
        at,
        EdReason::Injury("fall"),
        "educational_establishment",
        None,
        "none",
        Planter::tag(s, "post_adoption_ed"),
        fixed(NhsShown::Present, None),
        None,
    );
    let event = p.ev.event();
    let date = p.date(2025, 6, 10);
    p.ev.cin.push(CinReferral {
        event,
        child: Planter::who(ruby, "child", Planter::tag(s, "post_adoption_referral")),
        date,
        council: 1,
        source: "2A",
        need: "N9",
        factors: Vec::new(),
        nfa: true,
    });
}

/// S12: two unrelated Jack Smiths born on the same day.
pub fn birthday_collision(p: &mut Planter) {
    let s = p.scenario(
        "S12_birthday_collision",
        "decoy_common_name_same_dob",
        "S8",
        "Two unrelated men named Jack SMITH, both born 5 May 1999, one in each council: the \
         first attends ED after an assault, the second is a public-order suspect and attends ED \
         later. Name and date of birth agree; postcode, address and NHS number do not."
            .into(),
    );
    let mut people = Vec::new();
    for council in 0..2u8 {
        p.household(HouseholdKind::Single, 1);
        let j = p.person(
            "Jack",
            None,
            "Smith",
            Date::from_ymd(1999, 5, 5),
            false,
            Ethnicity::WhiteBritish,
            1,
        );
        let home = p.vacant(council, true);
        p.live(j, home, p.shift(Date::from_ymd(2020, 2, 1)), None);
        people.push((j, home));
    }
    let at = p.at(2024, 7, 13, 1, 15);
    p.ed(
        people[0].0,
        at,
        EdReason::Assault("hit_kick_bodily_force"),
        "street_public_highway",
        None,
        "alcohol",
        Planter::tag(s, "person_a"),
        fixed(NhsShown::Present, None),
        None,
    );
    let at = p.at(2024, 8, 2, 22, 40);
    p.crime(
        "9A",
        at,
        Some(people[1].1),
        vec![Planter::who(people[1].0, "suspect", Planter::tag(s, "person_b"))],
        false,
        false,
        "charged",
        None,
    );
    let at = p.at(2025, 3, 30, 13, 5);
    p.ed(
        people[1].0,
        at,
        EdReason::Illness("abdominal_pain"),
        "home",
        None,
        "none",
        Planter::tag(s, "person_b"),
        fixed(NhsShown::Present, None),
        None,
    );
}
