//! The fictional county: two unitary councils, wards, LSOAs, postcodes, streets and every
//! address with its UPRN (and parent UPRN for flats in blocks and rooms in hostels), plus the
//! institutions events happen at: care homes, hostels, hospitals, police stations, schools and
//! public places. Built by [`build`].
//!
//! All codes are synthetic but real in format: LA codes `E0600099x`, ward codes `E0599xxxx`,
//! LSOA codes `E0199xxxx` (outside the ranges ONS has issued), UPRNs from the block
//! 990 100 000 000 upwards, USRNs `99xxxxxx`, and postcodes in real-looking districts (CW14–19,
//! SK24–27, CH26–33, WA17–19) that do not exist as far as we know [verify]; any match to a real
//! postcode unit is coincidence.

pub mod build;

use crate::names::data;

/// A unitary council and the federation member that holds its data.
#[derive(Debug, Clone, Copy)]
pub struct Council {
    /// Display name.
    pub name: &'static str,
    /// The federation member name (the output folder).
    pub member: &'static str,
    /// ONS-style LA code (synthetic).
    pub la_code: &'static str,
    /// DfE-style 3-digit LA number used in UPNs (synthetic).
    pub dfe_code: u16,
    /// Postcode districts.
    pub districts: &'static [&'static str],
}

/// The two councils. East holds ~55% of the people.
pub const COUNCILS: [Council; 2] = [
    Council {
        name: "East Vale Council",
        member: "council-east",
        la_code: "E06000991",
        dfe_code: 991,
        districts: &[
            "CW14", "CW15", "CW16", "CW17", "CW18", "CW19", "SK24", "SK25", "SK26", "SK27",
        ],
    },
    Council {
        name: "West Mersey Council",
        member: "council-west",
        la_code: "E06000992",
        dfe_code: 992,
        districts: &[
            "CH26", "CH27", "CH28", "CH29", "CH30", "CH31", "CH32", "CH33", "WA17", "WA18", "WA19",
        ],
    },
];

/// An electoral ward.
#[derive(Debug, Clone)]
pub struct Ward {
    /// Synthetic ward code `E0599xxxx`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Index into [`COUNCILS`].
    pub council: u8,
    /// The town (postcode district) the ward is in.
    pub town: u32,
}

/// A lower-layer super output area.
#[derive(Debug, Clone)]
pub struct Lsoa {
    /// Synthetic LSOA code `E0199xxxx`.
    pub code: String,
    /// Its ward.
    pub ward: u32,
    /// Deprivation decile, 1 = most deprived (IMD-like, synthetic).
    pub deprivation: u8,
}

/// A postcode unit.
#[derive(Debug, Clone)]
pub struct Postcode {
    /// The postcode, `AAN NAA` form with one space.
    pub text: String,
    /// The LSOA it lies in.
    pub lsoa: u32,
}

/// What an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressKind {
    /// A block of flats (parent shell; nobody lives at the parent UPRN itself).
    Block,
    /// A care or nursing home (residents share the one UPRN).
    CareHome,
    /// A flat in a block (has a parent UPRN).
    Flat,
    /// A hospital with an emergency department.
    Hospital,
    /// A hostel or supported-housing building (parent of its rooms).
    Hostel,
    /// A room in a hostel (has a parent UPRN).
    HostelRoom,
    /// A house.
    House,
    /// A park, recreation ground or towpath.
    Park,
    /// A police station.
    PoliceStation,
    /// A pub or club.
    Pub,
    /// A school.
    School,
    /// A shop or shopping precinct.
    Shop,
    /// A stretch of street (street-level public place).
    Street,
}

impl AddressKind {
    /// The `address_type` in the truth bundle.
    pub fn label(self) -> &'static str {
        match self {
            AddressKind::Block => "block",
            AddressKind::CareHome => "care_home",
            AddressKind::Flat => "flat",
            AddressKind::Hospital => "hospital",
            AddressKind::Hostel => "hostel",
            AddressKind::HostelRoom => "hostel_room",
            AddressKind::House => "house",
            AddressKind::Park => "park",
            AddressKind::PoliceStation => "police_station",
            AddressKind::Pub => "pub",
            AddressKind::School => "school",
            AddressKind::Shop => "shop",
            AddressKind::Street => "street",
        }
    }

    /// AddressBase-style classification code for the gazetteer (approximate [verify]).
    pub fn classification(self) -> &'static str {
        match self {
            AddressKind::Block => "PP",
            AddressKind::CareHome => "RI01",
            AddressKind::Flat => "RD06",
            AddressKind::Hospital => "CM03",
            AddressKind::Hostel => "RI02",
            AddressKind::HostelRoom => "RH02",
            AddressKind::House => "RD03",
            AddressKind::Park => "LP01",
            AddressKind::PoliceStation => "CX01",
            AddressKind::Pub => "CR06",
            AddressKind::School => "CE01",
            AddressKind::Shop => "CR01",
            AddressKind::Street => "PS",
        }
    }

    /// Whether people live here.
    pub fn residential(self) -> bool {
        matches!(
            self,
            AddressKind::House
                | AddressKind::Flat
                | AddressKind::CareHome
                | AddressKind::HostelRoom
        )
    }
}

/// All addresses' kinds, for code lists.
pub const ADDRESS_KINDS: [AddressKind; 13] = [
    AddressKind::Block,
    AddressKind::CareHome,
    AddressKind::Flat,
    AddressKind::Hospital,
    AddressKind::Hostel,
    AddressKind::HostelRoom,
    AddressKind::House,
    AddressKind::Park,
    AddressKind::PoliceStation,
    AddressKind::Pub,
    AddressKind::School,
    AddressKind::Shop,
    AddressKind::Street,
];

/// A street.
#[derive(Debug, Clone)]
pub struct Street {
    /// Name, e.g. "Church Lane".
    pub name: String,
    /// The town.
    pub town: u32,
    /// Unique Street Reference Number (synthetic `99xxxxxx`).
    pub usrn: u32,
}

/// An address.
#[derive(Debug, Clone)]
pub struct Address {
    /// 12-digit UPRN.
    pub uprn: u64,
    /// The parent address (block or hostel) for flats and rooms.
    pub parent: Option<u32>,
    /// Index into [`Geography::postcodes`].
    pub postcode: u32,
    /// Index into [`Geography::streets`].
    pub street: u32,
    /// House number (0 for none).
    pub number: u16,
    /// Flat or room number (0 for none).
    pub sub: u16,
    /// Building name, an index into [`Geography::building_names`] (`u32::MAX` for none).
    pub building: u32,
    /// What it is.
    pub kind: AddressKind,
    /// LSOA.
    pub lsoa: u32,
    /// Beds or rooms for care homes and hostels.
    pub capacity: u16,
    /// Easting and northing in metres (synthetic, British National Grid-like).
    pub easting: u32,
    /// Northing.
    pub northing: u32,
}

/// A hospital emergency department or urgent treatment centre.
#[derive(Debug, Clone)]
pub struct Site {
    /// ODS-style site code (synthetic).
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Council area (None for out-of-area sites).
    pub council: Option<u8>,
    /// ECDS department type: 01 Type 1 ED, 03 UTC/MIU.
    pub department_type: &'static str,
    /// Its address, for in-county sites.
    pub address: Option<u32>,
}

/// The sites. Two Type 1 EDs and one UTC in each council, plus two out-of-area EDs that some
/// residents attend (domain.md §4 pitfall 7).
pub const SITES: [(&str, &str, Option<u8>, &str); 8] = [
    ("RZE01", "East Vale General Hospital", Some(0), "01"),
    ("RZE02", "Knottsford Infirmary", Some(0), "01"),
    ("RZE03", "Marbury Urgent Treatment Centre", Some(0), "03"),
    ("RZW01", "West Mersey Royal Hospital", Some(1), "01"),
    ("RZW02", "Saltwich District Hospital", Some(1), "01"),
    ("RZW03", "Tarvington Minor Injuries Unit", Some(1), "03"),
    ("RZX01", "Out of area: Northgate University Hospital", None, "01"),
    ("RZX02", "Out of area: Riverside Hospital", None, "01"),
];

/// A school.
#[derive(Debug, Clone)]
pub struct School {
    /// 6-digit URN (synthetic `9xxxxx`).
    pub urn: u32,
    /// 4-digit DfE establishment number (used in UPNs).
    pub establishment: u16,
    /// Address.
    pub address: u32,
    /// Council.
    pub council: u8,
    /// Secondary (11–16) rather than primary.
    pub secondary: bool,
}

/// The whole geography.
#[derive(Debug, Default)]
pub struct Geography {
    /// Wards.
    pub wards: Vec<Ward>,
    /// LSOAs.
    pub lsoas: Vec<Lsoa>,
    /// Postcode units.
    pub postcodes: Vec<Postcode>,
    /// Streets.
    pub streets: Vec<Street>,
    /// Towns, one per postcode district.
    pub towns: Vec<String>,
    /// Building names (blocks, care homes, hostels, pubs, parks).
    pub building_names: Vec<String>,
    /// Every address.
    pub addresses: Vec<Address>,
    /// Houses and flats (where households live), per LSOA.
    pub lsoa_dwellings: Vec<Vec<u32>>,
    /// Care homes.
    pub care_homes: Vec<u32>,
    /// Hostels (parents); their rooms follow them in `addresses`.
    pub hostels: Vec<u32>,
    /// Hospitals with EDs: `SITES[i]` for in-county sites, with their addresses.
    pub sites: Vec<Site>,
    /// Police stations per council.
    pub police_stations: Vec<u32>,
    /// Schools.
    pub schools: Vec<School>,
    /// Public places (pubs, parks, streets, shops) per ward.
    pub ward_public_places: Vec<Vec<u32>>,
}

impl Geography {
    /// The council of an LSOA.
    pub fn lsoa_council(&self, lsoa: u32) -> u8 {
        self.lsoas
            .get(lsoa as usize)
            .and_then(|l| self.wards.get(l.ward as usize))
            .map_or(0, |w| w.council)
    }

    /// The council of an address.
    pub fn council_of(&self, address: u32) -> u8 {
        self.addresses.get(address as usize).map_or(0, |a| self.lsoa_council(a.lsoa))
    }

    /// The ward of an address.
    pub fn ward_of(&self, address: u32) -> u32 {
        self.addresses
            .get(address as usize)
            .and_then(|a| self.lsoas.get(a.lsoa as usize))
            .map_or(0, |l| l.ward)
    }

    /// An address by id (panics on a bad id: ids only come from this geography).
    pub fn address(&self, id: u32) -> &Address {
        &self.addresses[id as usize]
    }

    /// The postcode text of an address.
    pub fn postcode_of(&self, address: u32) -> &str {
        &self.postcodes[self.address(address).postcode as usize].text
    }

    /// The LSOA code of an address.
    pub fn lsoa_code_of(&self, address: u32) -> &str {
        &self.lsoas[self.address(address).lsoa as usize].code
    }

    /// The ward code of an address.
    pub fn ward_code_of(&self, address: u32) -> &str {
        &self.wards[self.ward_of(address) as usize].code
    }

    /// The LA code of an address.
    pub fn la_code_of(&self, address: u32) -> &'static str {
        COUNCILS[usize::from(self.council_of(address))].la_code
    }

    /// The parent UPRN of an address, if it has one.
    pub fn parent_uprn(&self, address: u32) -> Option<u64> {
        self.address(address).parent.map(|p| self.address(p).uprn)
    }

    /// The rooms of a hostel (the addresses after it whose parent it is).
    pub fn hostel_rooms(&self, hostel: u32) -> Vec<u32> {
        let cap = u32::from(self.address(hostel).capacity);
        (hostel + 1..=hostel + cap)
            .filter(|&r| self.addresses.get(r as usize).is_some_and(|a| a.parent == Some(hostel)))
            .collect()
    }

    /// The address as one line of free text, e.g. "Flat 3, Beech Court, 12 Church Lane,
    /// Marbury".
    pub fn address_text(&self, id: u32) -> String {
        let a = self.address(id);
        let street = &self.streets[a.street as usize];
        let town = &self.towns[street.town as usize];
        let building = self.building_names.get(a.building as usize).map(String::as_str);
        let numbered = if a.number > 0 {
            format!("{} {}", a.number, street.name)
        } else {
            street.name.clone()
        };
        match (a.kind, building) {
            (AddressKind::Flat, Some(b)) => format!("Flat {}, {b}, {numbered}, {town}", a.sub),
            (AddressKind::HostelRoom, Some(b)) => {
                format!("Room {}, {b}, {numbered}, {town}", a.sub)
            }
            (AddressKind::Street, _) => format!("{}, {town}", street.name),
            (_, Some(b)) => format!("{b}, {numbered}, {town}"),
            (_, None) => format!("{numbered}, {town}"),
        }
    }

    /// A random address of a kind in an LSOA's ward, for event locations.
    pub fn public_place_near(&self, rng: &mut crate::rng::Rng, address: u32) -> Option<u32> {
        let ward = self.ward_of(address) as usize;
        crate::rng::pick(rng, self.ward_public_places.get(ward).map_or(&[], Vec::as_slice)).copied()
    }
}

/// Suffixes that turn street roots into building names.
pub(crate) const BLOCK_SUFFIXES: [&str; 5] = ["House", "Court", "Heights", "Lodge", "Point"];

/// Street roots, parsed from [`data::STREET_ROOTS`].
pub(crate) fn street_roots() -> Vec<String> {
    data::STREET_ROOTS.split_whitespace().map(|s| s.replace('_', " ")).collect()
}
