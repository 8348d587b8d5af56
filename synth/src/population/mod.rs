//! The true population: people with their true names, dates of birth, sex and ethnicity,
//! grouped in households, each with a latent risk tier (domain.md §9(a)5) and an address
//! history. Built by [`build`]; planted scenarios add people of their own.

pub mod build;

use crate::date::Date;
use crate::names::{NameId, Origin};

/// Person flags.
pub mod flag {
    /// Of no fixed abode.
    pub const NFA: u8 = 1;
    /// Lives in a care home.
    pub const CARE_HOME: u8 = 2;
    /// Lives in a hostel.
    pub const HOSTEL: u8 = 4;
    /// Belongs to a planted scenario: background events leave them alone.
    pub const PLANTED: u8 = 8;
    /// Works in a care home.
    pub const CARE_STAFF: u8 = 16;
}

/// Ethnicity as people describe themselves, by NHS Ethnic Category (2001 census) codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ethnicity {
    /// A: White British.
    WhiteBritish,
    /// B: White Irish.
    WhiteIrish,
    /// C: any other White background.
    WhiteOther,
    /// D: White and Black Caribbean.
    MixedWhiteBlackCaribbean,
    /// E: White and Black African.
    MixedWhiteBlackAfrican,
    /// F: White and Asian.
    MixedWhiteAsian,
    /// G: any other mixed background.
    MixedOther,
    /// H: Indian.
    Indian,
    /// J: Pakistani.
    Pakistani,
    /// K: Bangladeshi.
    Bangladeshi,
    /// L: any other Asian background.
    AsianOther,
    /// M: Caribbean.
    Caribbean,
    /// N: African.
    African,
    /// P: any other Black background.
    BlackOther,
    /// R: Chinese.
    Chinese,
    /// S: any other ethnic group.
    Other,
}

impl Ethnicity {
    /// Every ethnicity with its share of households [assumption: a county less diverse than
    /// England, Census 2021 order of magnitude].
    pub const SHARES: [(Ethnicity, f64); 16] = [
        (Ethnicity::WhiteBritish, 0.875),
        (Ethnicity::WhiteIrish, 0.010),
        (Ethnicity::WhiteOther, 0.040),
        (Ethnicity::MixedWhiteBlackCaribbean, 0.006),
        (Ethnicity::MixedWhiteBlackAfrican, 0.003),
        (Ethnicity::MixedWhiteAsian, 0.007),
        (Ethnicity::MixedOther, 0.004),
        (Ethnicity::Indian, 0.012),
        (Ethnicity::Pakistani, 0.008),
        (Ethnicity::Bangladeshi, 0.003),
        (Ethnicity::AsianOther, 0.004),
        (Ethnicity::Caribbean, 0.004),
        (Ethnicity::African, 0.008),
        (Ethnicity::BlackOther, 0.001),
        (Ethnicity::Chinese, 0.005),
        (Ethnicity::Other, 0.010),
    ];

    /// NHS Ethnic Category code (ECDS `Ethnic_Category`).
    pub fn nhs_code(self) -> &'static str {
        match self {
            Ethnicity::WhiteBritish => "A",
            Ethnicity::WhiteIrish => "B",
            Ethnicity::WhiteOther => "C",
            Ethnicity::MixedWhiteBlackCaribbean => "D",
            Ethnicity::MixedWhiteBlackAfrican => "E",
            Ethnicity::MixedWhiteAsian => "F",
            Ethnicity::MixedOther => "G",
            Ethnicity::Indian => "H",
            Ethnicity::Pakistani => "J",
            Ethnicity::Bangladeshi => "K",
            Ethnicity::AsianOther => "L",
            Ethnicity::Caribbean => "M",
            Ethnicity::African => "N",
            Ethnicity::BlackOther => "P",
            Ethnicity::Chinese => "R",
            Ethnicity::Other => "S",
        }
    }

    /// DfE ethnicity code (CIN census, school census).
    pub fn dfe_code(self) -> &'static str {
        match self {
            Ethnicity::WhiteBritish => "WBRI",
            Ethnicity::WhiteIrish => "WIRI",
            Ethnicity::WhiteOther => "WOTH",
            Ethnicity::MixedWhiteBlackCaribbean => "MWBC",
            Ethnicity::MixedWhiteBlackAfrican => "MWBA",
            Ethnicity::MixedWhiteAsian => "MWAS",
            Ethnicity::MixedOther => "MOTH",
            Ethnicity::Indian => "AIND",
            Ethnicity::Pakistani => "APKN",
            Ethnicity::Bangladeshi => "ABAN",
            Ethnicity::AsianOther => "AOTH",
            Ethnicity::Caribbean => "BCRB",
            Ethnicity::African => "BAFR",
            Ethnicity::BlackOther => "BOTH",
            Ethnicity::Chinese => "CHNE",
            Ethnicity::Other => "OOTH",
        }
    }

    /// The officer-identified IC code police most likely record (IC1 White North European, IC2
    /// White South European, IC3 Black, IC4 Asian, IC5 Chinese/Japanese/SE Asian, IC6 Arab/North
    /// African); mixed-heritage people are recorded by appearance, so not one-to-one (§3.2).
    pub fn police_ic(self, coin: bool) -> &'static str {
        match self {
            Ethnicity::WhiteBritish | Ethnicity::WhiteIrish => "IC1",
            Ethnicity::WhiteOther => {
                if coin {
                    "IC2"
                } else {
                    "IC1"
                }
            }
            Ethnicity::MixedWhiteBlackCaribbean | Ethnicity::MixedWhiteBlackAfrican => {
                if coin {
                    "IC3"
                } else {
                    "IC1"
                }
            }
            Ethnicity::MixedWhiteAsian | Ethnicity::MixedOther => {
                if coin {
                    "IC4"
                } else {
                    "IC1"
                }
            }
            Ethnicity::Indian
            | Ethnicity::Pakistani
            | Ethnicity::Bangladeshi
            | Ethnicity::AsianOther => "IC4",
            Ethnicity::Caribbean | Ethnicity::African | Ethnicity::BlackOther => "IC3",
            Ethnicity::Chinese => "IC5",
            Ethnicity::Other => "IC6",
        }
    }

    /// Whether the group is a minority for the error model (anything but White British).
    pub fn minority(self) -> bool {
        self != Ethnicity::WhiteBritish
    }

    /// The name pool people of this ethnicity mostly draw from (`coin` in 0–1 picks among
    /// several).
    pub fn origin(self, coin: f64) -> Origin {
        match self {
            Ethnicity::WhiteBritish => {
                if coin < 0.08 {
                    Origin::Celtic
                } else {
                    Origin::English
                }
            }
            Ethnicity::WhiteIrish => Origin::Celtic,
            Ethnicity::WhiteOther => {
                if coin < 0.55 {
                    Origin::Polish
                } else {
                    Origin::OtherEuropean
                }
            }
            Ethnicity::MixedWhiteBlackCaribbean
            | Ethnicity::MixedWhiteBlackAfrican
            | Ethnicity::MixedWhiteAsian
            | Ethnicity::MixedOther => Origin::English,
            Ethnicity::Indian => Origin::Indian,
            Ethnicity::Pakistani | Ethnicity::Bangladeshi => Origin::SouthAsianMuslim,
            Ethnicity::AsianOther => {
                if coin < 0.5 {
                    Origin::Indian
                } else {
                    Origin::SouthAsianMuslim
                }
            }
            Ethnicity::Caribbean | Ethnicity::BlackOther => Origin::Caribbean,
            Ethnicity::African => {
                if coin < 0.7 {
                    Origin::WestAfrican
                } else {
                    Origin::EastAfrican
                }
            }
            Ethnicity::Chinese => Origin::Chinese,
            Ethnicity::Other => Origin::MiddleEastern,
        }
    }
}

/// A person as they truly are.
#[derive(Debug, Clone)]
pub struct Person {
    /// First forename.
    pub given: NameId,
    /// Middle name, if any.
    pub middle: Option<NameId>,
    /// Surname now.
    pub family: NameId,
    /// Surname at birth (differs for people who took a spouse's name, or after adoption).
    pub birth_family: NameId,
    /// Date of birth.
    pub dob: Date,
    /// Female (the generator models two sexes; agencies code sex their own way).
    pub female: bool,
    /// Self-described ethnicity.
    pub ethnicity: Ethnicity,
    /// Household.
    pub household: u32,
    /// Latent risk tier 0–3.
    pub risk: u8,
    /// [`flag`] bits.
    pub flags: u8,
    /// Date of death, if they die in the period.
    pub death: Option<Date>,
    /// NHS number (assigned once it is known who appears in any dataset).
    pub nhs: Option<u64>,
    /// An earlier NHS number (re-issued after adoption, domain.md §3.1).
    pub old_nhs: Option<u64>,
}

impl Person {
    /// Whether a flag is set.
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Alive on a date.
    pub fn alive_on(&self, d: Date) -> bool {
        self.death.is_none_or(|death| d <= death)
    }
}

/// What kind of household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdKind {
    /// A care home's residents.
    CareHome,
    /// Couple without children at home.
    Couple,
    /// Couple with dependent children.
    CoupleKids,
    /// Parents with adult children.
    FamilyAdultKids,
    /// A hostel resident.
    Hostel,
    /// Lone parent with dependent children.
    LoneParent,
    /// Three generations.
    Multigenerational,
    /// Someone of no fixed abode.
    NoFixedAbode,
    /// Unrelated adults sharing.
    Shared,
    /// One person.
    Single,
}

/// A household: people with consecutive ids.
#[derive(Debug, Clone)]
pub struct Household {
    /// First member's person id.
    pub first: u32,
    /// Number of members.
    pub size: u32,
    /// Latent risk tier 0–3.
    pub tier: u8,
    /// Kind.
    pub kind: HouseholdKind,
}

impl Household {
    /// Member ids.
    pub fn members(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.size
    }
}

/// A stretch of living at an address.
#[derive(Debug, Clone, Copy)]
pub struct Residence {
    /// Person.
    pub person: u32,
    /// Address.
    pub address: u32,
    /// From (inclusive).
    pub from: Date,
    /// To (exclusive); None = still there at the end.
    pub to: Option<Date>,
}

/// The population.
#[derive(Debug, Default)]
pub struct Population {
    /// People, indexed by person id.
    pub persons: Vec<Person>,
    /// Households.
    pub households: Vec<Household>,
    /// Address history, sorted by person then date once [`Population::index`] has run.
    pub residences: Vec<Residence>,
    /// Where each person's residences start in `residences` (len = persons + 1).
    residence_start: Vec<u32>,
    /// Care staff per care home (parallel to `Geography::care_homes`).
    pub care_staff: Vec<Vec<u32>>,
}

impl Population {
    /// Sorts residences and builds the per-person index. Call after every change to
    /// `residences`.
    pub fn index(&mut self) {
        self.residences.sort_by_key(|r| (r.person, r.from, r.to.map_or(i32::MAX, Date::days)));
        self.residence_start = vec![0; self.persons.len() + 1];
        for r in &self.residences {
            if let Some(s) = self.residence_start.get_mut(r.person as usize + 1) {
                *s += 1;
            }
        }
        for i in 1..self.residence_start.len() {
            self.residence_start[i] += self.residence_start[i - 1];
        }
    }

    /// A person's residences in date order.
    pub fn residences_of(&self, person: u32) -> &[Residence] {
        let p = person as usize;
        match (self.residence_start.get(p), self.residence_start.get(p + 1)) {
            (Some(&a), Some(&b)) => &self.residences[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Where a person lived on a date.
    pub fn address_on(&self, person: u32, d: Date) -> Option<u32> {
        self.residences_of(person)
            .iter()
            .rev()
            .find(|r| r.from <= d && r.to.is_none_or(|t| d < t))
            .map(|r| r.address)
    }

    /// The address a person lived at before the one they lived at on `d`.
    pub fn previous_address(&self, person: u32, d: Date) -> Option<u32> {
        let rs = self.residences_of(person);
        let i = rs.iter().rposition(|r| r.from <= d && r.to.is_none_or(|t| d < t))?;
        i.checked_sub(1).and_then(|j| rs.get(j)).map(|r| r.address)
    }

    /// Whether the person moved in the year before `d` (recent movers have more unmatched
    /// addresses, domain.md §9e).
    pub fn recent_mover(&self, person: u32, d: Date) -> bool {
        self.residences_of(person).iter().any(|r| {
            r.from <= d && d.since(r.from) < 365 && r.from != self.persons[person as usize].dob
        })
    }

    /// A person by id.
    pub fn person(&self, id: u32) -> &Person {
        &self.persons[id as usize]
    }

    /// The household of a person.
    pub fn household_of(&self, id: u32) -> &Household {
        &self.households[self.person(id).household as usize]
    }
}
