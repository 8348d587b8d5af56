//! Names: the true names people are given (by ethnicity, sex and birth cohort, from the tables
//! in [`data`]), and the variants agencies record (nicknames, spelling variants).
//!
//! Names are interned: a person holds [`NameId`]s into one [`Names`] pool, which keeps a
//! million-person population small.

pub mod data;

use std::collections::HashMap;

use crate::rng::{Picker, Rng, chance};

/// An interned name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(pub u32);

/// Name origin pools (not ethnicity: a Caribbean family has English-pool surnames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Caribbean.
    Caribbean,
    /// Irish and Scottish.
    Celtic,
    /// Chinese.
    Chinese,
    /// Somali, Eritrean, Ethiopian.
    EastAfrican,
    /// English and Welsh.
    English,
    /// Indian.
    Indian,
    /// Arab, Iranian, Afghan, Kurdish, Turkish.
    MiddleEastern,
    /// Romanian, Lithuanian, Portuguese.
    OtherEuropean,
    /// Polish.
    Polish,
    /// Pakistani and Bangladeshi.
    SouthAsianMuslim,
    /// West African.
    WestAfrican,
}

/// Female forms of surnames (Polish `-ski` → `-ska`).
fn feminine(surname: &str) -> Option<String> {
    for (m, f) in [("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")] {
        if let Some(stem) = surname.strip_suffix(m) {
            return Some(format!("{stem}{f}"));
        }
    }
    None
}

/// A weighted table of interned names.
#[derive(Debug, Clone)]
struct Table {
    ids: Vec<NameId>,
    picker: Picker,
}

/// The name pool and its frequency tables.
#[derive(Debug)]
pub struct Names {
    text: Vec<String>,
    lookup: HashMap<String, NameId>,
    surnames: HashMap<OriginKey, Table>,
    south_asian_women: Table,
    /// `[sex][cohort]` English forenames; sex 0 = male.
    english_given: [[Table; 5]; 2],
    other_given: HashMap<(OriginKey, u8), Table>,
    nicknames: HashMap<NameId, Vec<NameId>>,
    variants: HashMap<NameId, Vec<NameId>>,
    feminine: HashMap<NameId, NameId>,
}

/// `Origin` as a hash key.
type OriginKey = u8;

fn origin_key(o: Origin) -> OriginKey {
    o as u8
}

/// Parses a table's text into `(name, weight)` pairs.
fn parse(text: &str) -> Vec<(String, f64)> {
    text.split_whitespace()
        .enumerate()
        .map(|(rank, entry)| {
            let (name, weight) = match entry.split_once(':') {
                Some((n, w)) => (n, w.parse::<f64>().unwrap_or(1.0)),
                None => (entry, 100.0 / (rank as f64 + 3.0).powf(0.9)),
            };
            (name.replace('_', " "), weight)
        })
        .collect()
}

impl Names {
    /// Builds the pool from the tables in [`data`].
    pub fn new() -> Names {
        let mut names = Names {
            text: Vec::new(),
            lookup: HashMap::new(),
            surnames: HashMap::new(),
            south_asian_women: Table { ids: Vec::new(), picker: Picker::new([]) },
            english_given: std::array::from_fn(|_| {
                std::array::from_fn(|_| Table { ids: Vec::new(), picker: Picker::new([]) })
            }),
            other_given: HashMap::new(),
            nicknames: HashMap::new(),
            variants: HashMap::new(),
            feminine: HashMap::new(),
        };
        // English surnames: the listed ones, weighted per 100,000 people (~25% of people), and a
        // long toponymic tail for the rest.
        let mut english = parse(data::SURNAMES_ENGLISH);
        let listed: f64 = english.iter().map(|(_, w)| w).sum();
        let heads: Vec<&str> = data::SURNAME_HEADS.split_whitespace().collect();
        let tails: Vec<&str> = data::SURNAME_TAILS.split_whitespace().collect();
        let mut tail = Vec::new();
        for (i, h) in heads.iter().enumerate() {
            for (j, t) in tails.iter().enumerate() {
                let name = format!("{h}{t}");
                if english.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                // Deterministic uneven weights so some tail names are commoner than others.
                let w = 1.0 + ((i * 7 + j * 13) % 11) as f64;
                tail.push((name, w));
            }
        }
        let tail_total: f64 = tail.iter().map(|(_, w)| w).sum();
        let tail_share = (100_000.0 - listed).max(listed);
        english.extend(tail.into_iter().map(|(n, w)| (n, w / tail_total * tail_share)));
        let tables = [
            (Origin::English, english),
            (Origin::Celtic, parse(data::SURNAMES_CELTIC)),
            (Origin::Polish, parse(data::SURNAMES_POLISH)),
            (Origin::OtherEuropean, parse(data::SURNAMES_OTHER_EUROPEAN)),
            (Origin::SouthAsianMuslim, parse(data::SURNAMES_SOUTH_ASIAN_MUSLIM)),
            (Origin::Indian, parse(data::SURNAMES_INDIAN)),
            (Origin::Chinese, parse(data::SURNAMES_CHINESE)),
            (Origin::WestAfrican, parse(data::SURNAMES_WEST_AFRICAN)),
            (Origin::EastAfrican, parse(data::SURNAMES_EAST_AFRICAN)),
            (Origin::Caribbean, parse(data::SURNAMES_CARIBBEAN)),
            (Origin::MiddleEastern, parse(data::SURNAMES_MIDDLE_EASTERN)),
        ];
        for (origin, entries) in tables {
            let table = names.table(entries);
            names.surnames.insert(origin_key(origin), table);
        }
        names.south_asian_women = names.table(parse(data::SURNAMES_SOUTH_ASIAN_WOMEN));
        let english_given = [
            [data::MALE_1, data::MALE_2, data::MALE_3, data::MALE_4, data::MALE_5],
            [data::FEMALE_1, data::FEMALE_2, data::FEMALE_3, data::FEMALE_4, data::FEMALE_5],
        ];
        for (sex, cohorts) in english_given.iter().enumerate() {
            for (c, text) in cohorts.iter().enumerate() {
                names.english_given[sex][c] = names.table(parse(text));
            }
        }
        let others = [
            (Origin::Celtic, data::MALE_CELTIC, data::FEMALE_CELTIC),
            (Origin::Polish, data::MALE_POLISH, data::FEMALE_POLISH),
            (Origin::OtherEuropean, data::MALE_OTHER_EUROPEAN, data::FEMALE_OTHER_EUROPEAN),
            (
                Origin::SouthAsianMuslim,
                data::MALE_SOUTH_ASIAN_MUSLIM,
                data::FEMALE_SOUTH_ASIAN_MUSLIM,
            ),
            (Origin::Indian, data::MALE_INDIAN, data::FEMALE_INDIAN),
            (Origin::Chinese, data::MALE_CHINESE, data::FEMALE_CHINESE),
            (Origin::WestAfrican, data::MALE_WEST_AFRICAN, data::FEMALE_WEST_AFRICAN),
            (Origin::EastAfrican, data::MALE_EAST_AFRICAN, data::FEMALE_EAST_AFRICAN),
            (Origin::MiddleEastern, data::MALE_MIDDLE_EASTERN, data::FEMALE_MIDDLE_EASTERN),
        ];
        for (origin, male, female) in others {
            let m = names.table(parse(male));
            let f = names.table(parse(female));
            names.other_given.insert((origin_key(origin), 0), m);
            names.other_given.insert((origin_key(origin), 1), f);
        }
        for entry in data::NICKNAMES.split_whitespace() {
            if let Some((formal, informal)) = entry.split_once(':') {
                let f = names.intern(formal);
                let list: Vec<NameId> = informal.split(',').map(|n| names.intern(n)).collect();
                names.nicknames.entry(f).or_default().extend(list);
            }
        }
        for group in data::VARIANTS.split_whitespace() {
            let ids: Vec<NameId> =
                group.split(',').map(|n| names.intern(&n.replace('_', " "))).collect();
            for &id in &ids {
                let others: Vec<NameId> = ids.iter().copied().filter(|&o| o != id).collect();
                names.variants.entry(id).or_default().extend(others);
            }
        }
        names
    }

    fn table(&mut self, entries: Vec<(String, f64)>) -> Table {
        let ids: Vec<NameId> = entries.iter().map(|(n, _)| self.intern(n)).collect();
        // Feminine forms of Polish surnames, interned now so lookups never allocate later.
        for (n, _) in &entries {
            if let Some(f) = feminine(n) {
                let m = self.intern(n);
                let fid = self.intern(&f);
                self.feminine.insert(m, fid);
            }
        }
        Table { ids, picker: Picker::new(entries.iter().map(|(_, w)| *w)) }
    }

    /// The id of a name, adding it to the pool if new.
    pub fn intern(&mut self, name: &str) -> NameId {
        if let Some(&id) = self.lookup.get(name) {
            return id;
        }
        let id = NameId(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        self.text.push(name.to_string());
        self.lookup.insert(name.to_string(), id);
        id
    }

    /// The text of a name.
    pub fn text(&self, id: NameId) -> &str {
        self.text.get(id.0 as usize).map_or("", String::as_str)
    }

    /// A surname of an origin.
    pub fn surname(&self, rng: &mut Rng, origin: Origin) -> NameId {
        let table = self.surnames.get(&origin_key(origin));
        pick(rng, table)
    }

    /// The form of a household surname a woman or girl holds (Polish `-ska`; for South Asian
    /// Muslim women sometimes Begum/Bibi/Akhtar whatever the household's name).
    pub fn surname_for(
        &self,
        rng: &mut Rng,
        household: NameId,
        female: bool,
        origin: Origin,
    ) -> NameId {
        if !female {
            return household;
        }
        if origin == Origin::SouthAsianMuslim && chance(rng, 0.3) {
            return pick(rng, Some(&self.south_asian_women));
        }
        self.feminine.get(&household).copied().unwrap_or(household)
    }

    /// A forename for a sex (true = female), birth year and origin.
    pub fn forename(&self, rng: &mut Rng, female: bool, birth_year: i32, origin: Origin) -> NameId {
        let sex = usize::from(female);
        let english = |rng: &mut Rng| {
            let cohort = match birth_year {
                ..=1954 => 0,
                1955..=1974 => 1,
                1975..=1994 => 2,
                1995..=2009 => 3,
                _ => 4,
            };
            pick(rng, Some(&self.english_given[sex][cohort]))
        };
        match origin {
            Origin::English | Origin::Caribbean => english(rng),
            // Families with Irish or Scottish surnames mostly choose English-pool names;
            // second-generation European families often do.
            Origin::Celtic if chance(rng, 0.85) => english(rng),
            Origin::Polish | Origin::OtherEuropean if chance(rng, 0.5) => english(rng),
            _ if birth_year >= 1995 && chance(rng, 0.15) => english(rng),
            o => pick(rng, self.other_given.get(&(origin_key(o), u8::from(female)))),
        }
    }

    /// Informal forms of a forename.
    pub fn nicknames(&self, id: NameId) -> &[NameId] {
        self.nicknames.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Other spellings of a name.
    pub fn variants(&self, id: NameId) -> &[NameId] {
        self.variants.get(&id).map_or(&[], Vec::as_slice)
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

fn pick(rng: &mut Rng, table: Option<&Table>) -> NameId {
    table.and_then(|t| t.picker.pick(rng).and_then(|i| t.ids.get(i)).copied()).unwrap_or(NameId(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn tables_parse_and_draw_plausibly() {
        let names = Names::new();
        let mut rng = stream(1, "names", 0);
        let mut smiths = 0;
        for _ in 0..10_000 {
            let s = names.surname(&mut rng, Origin::English);
            if names.text(s) == "Smith" {
                smiths += 1;
            }
        }
        // ~1.15% of people.
        assert!((40..=160).contains(&smiths), "{smiths}");
        let kowalski = names.lookup["Kowalski"];
        assert_eq!(
            names.text(names.surname_for(&mut rng, kowalski, true, Origin::Polish)),
            "Kowalska"
        );
        let robert = names.lookup["Robert"];
        assert!(names.nicknames(robert).iter().any(|&n| names.text(n) == "Bob"));
        let f = names.forename(&mut rng, true, 2015, Origin::English);
        assert!(!names.text(f).is_empty());
    }
}
