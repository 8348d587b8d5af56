//! Code lists shared by the event generators and the dataset schemas, so every value written is
//! in its column's declared list.
//!
//! SNOMED CT-style codes: only `276853009` (self-inflicted injury) is attested (domain.md §2.2A,
//! used by ICB mental-health filters). The assault intent and the mechanism, place, arrival,
//! accommodation and discharge codes below are **placeholders in SNOMED form, unverified**: the
//! real values must come from the ECDS ETOS refsets (intent 991431000000101, mechanism
//! 991281000000103; domain.md §10). Analysts and tests should use the names in this file.

/// ECDS injury intent: self-inflicted injury (attested).
pub const INTENT_SELF_HARM: &str = "276853009";
/// ECDS injury intent: assault (placeholder, unverified; same value as the node's test schema).
pub const INTENT_ASSAULT: &str = "1240651000000109";
/// ECDS injury intent: accidental (placeholder, unverified).
pub const INTENT_ACCIDENTAL: &str = "1240641000000106";
/// All intent codes.
pub const INTENTS: [&str; 3] = [INTENT_SELF_HARM, INTENT_ASSAULT, INTENT_ACCIDENTAL];

/// ECDS injury mechanism codes (placeholders, unverified) with their meaning.
pub const MECHANISMS: [(&str, &str); 10] = [
    ("1240591000000101", "hit_kick_bodily_force"),
    ("1240601000000107", "blunt_object"),
    ("1240611000000109", "cut_stab_sharp_object"),
    ("1240621000000100", "firearm"),
    ("1240631000000103", "fall"),
    ("1240671000000100", "poisoning_drug_or_substance"),
    ("1240681000000103", "burn"),
    ("1240691000000101", "road_traffic_collision"),
    ("1240701000000101", "strangulation_asphyxiation"),
    ("1240711000000103", "other"),
];

/// The mechanism code for a meaning in [`MECHANISMS`].
pub fn mechanism(meaning: &str) -> &'static str {
    MECHANISMS.iter().find(|(_, m)| *m == meaning).map_or(MECHANISMS[9].0, |(c, _)| c)
}

/// ECDS place of injury (placeholders, unverified).
pub const PLACES: [(&str, &str); 6] = [
    ("1240721000000109", "home"),
    ("1240731000000106", "street_public_highway"),
    ("1240741000000102", "licensed_premises"),
    ("1240751000000104", "educational_establishment"),
    ("1240761000000101", "workplace"),
    ("1240771000000108", "other"),
];

/// The place code for a meaning in [`PLACES`].
pub fn place(meaning: &str) -> &'static str {
    PLACES.iter().find(|(_, m)| *m == meaning).map_or(PLACES[5].0, |(c, _)| c)
}

/// ECDS accommodation status: (code, meaning) (placeholders except the idea: homeless is coded).
pub const ACCOMMODATION: [(&str, &str); 4] = [
    ("1240781000000105", "settled_accommodation"),
    ("1240791000000107", "homeless_no_fixed_abode"),
    ("1240801000000106", "hostel_temporary"),
    ("1240811000000108", "care_home"),
];

/// ECDS arrival mode (placeholders).
pub const ARRIVAL_MODES: [(&str, &str); 3] = [
    ("1048031000000100", "ambulance"),
    ("1048041000000109", "own_transport"),
    ("1048061000000105", "police"),
];

/// ECDS discharge destination (placeholders).
pub const DISCHARGES: [(&str, &str); 6] = [
    ("306689006", "discharged_home"),
    ("306706006", "admitted"),
    ("1066331000000109", "died_in_department"),
    ("1066391000000105", "left_before_treatment"),
    ("306136006", "referred_to_other_service"),
    ("1066321000000107", "police_custody"),
];

/// ECDS chief complaint (placeholders): (code, meaning).
pub const COMPLAINTS: [(&str, &str); 12] = [
    ("29857009", "chest_pain"),
    ("21522001", "abdominal_pain"),
    ("267036007", "breathlessness"),
    ("386661006", "fever"),
    ("25064002", "headache"),
    ("271594007", "collapse_syncope"),
    ("422400008", "vomiting"),
    ("248062006", "confusion"),
    ("417163006", "injury_wound"),
    ("125605004", "fracture_suspected"),
    ("72431002", "poisoning_overdose"),
    ("35489007", "mental_health_crisis"),
];

/// The complaint code for a meaning.
pub fn complaint(meaning: &str) -> &'static str {
    COMPLAINTS.iter().find(|(_, m)| *m == meaning).map_or(COMPLAINTS[0].0, |(c, _)| c)
}

/// ECDS alcohol or drug involvement (placeholders): (code, meaning).
pub const ALCOHOL_DRUG: [(&str, &str); 4] = [
    ("1240821000000101", "alcohol"),
    ("1240831000000104", "drugs"),
    ("1240841000000108", "alcohol_and_drugs"),
    ("1240851000000106", "none"),
];

/// NHS NUMBER STATUS INDICATOR CODE values (domain.md §2.2A).
pub const NHS_STATUS: [&str; 8] = ["01", "02", "03", "04", "05", "06", "07", "08"];

/// Police death-report categories (post-Port four classes, domain.md §1) plus a value for a
/// report whose category was never recorded.
pub const DEATH_CATEGORIES: [&str; 5] = [
    "expected",
    "unexpected_not_suspicious",
    "unexpected_under_investigation",
    "homicide",
    "not_recorded",
];

/// Suspected mechanism of death (domain.md §2.1A).
pub const DEATH_MECHANISMS: [&str; 10] = [
    "natural",
    "drug_related",
    "suspected_suicide",
    "fall",
    "fire",
    "drowning",
    "rtc",
    "assault",
    "unknown",
    "not_recorded",
];

/// Location type of a death (domain.md §2.1A [assumption] local code list).
pub const LOCATION_TYPES: [&str; 10] = [
    "dwelling_own",
    "dwelling_other",
    "care_home",
    "hospital",
    "hostel_hmo",
    "hotel",
    "public_place",
    "open_land_water",
    "custody",
    "workplace",
];

/// Substance suspected in a death.
pub const SUBSTANCES: [&str; 10] = [
    "none",
    "heroin_opioid",
    "cocaine",
    "ghb",
    "benzodiazepine",
    "methadone",
    "alcohol",
    "synthetic_cannabinoid",
    "prescription_medicine",
    "unknown",
];

/// Roles of people linked to a death report (domain.md §2.1A).
pub const DEATH_ROLES: [&str; 7] = [
    "finder",
    "last_seen_with",
    "person_present",
    "reporting_person",
    "carer",
    "next_of_kin",
    "suspect",
];

/// Post-mortem type.
pub const PM_TYPES: [&str; 3] = ["none", "routine", "forensic"];

/// Roles of people in crimes.
pub const CRIME_ROLES: [&str; 3] = ["victim", "suspect", "witness"];

/// Roles in DA incidents.
pub const DA_ROLES: [&str; 2] = ["victim", "perpetrator"];

/// DASH risk levels.
pub const DASH: [&str; 3] = ["standard", "medium", "high"];

/// Offence groups.
pub const OFFENCE_GROUPS: [&str; 13] = [
    "homicide",
    "violence_with_injury",
    "violence_without_injury",
    "stalking_harassment",
    "sexual_offences",
    "robbery",
    "burglary",
    "theft",
    "criminal_damage",
    "drug_offences",
    "possession_of_weapons",
    "public_order",
    "death_or_injury_by_driving",
];

/// Home Office Counting Rules-like classifications: (code, description, group). Codes follow
/// the HOCR numbering domain.md §2.1B cites; labels simplified [verify against current HOCR].
pub const HOCR: [(&str, &str, &str); 24] = [
    ("1/1", "Murder", "homicide"),
    ("4/1", "Manslaughter", "homicide"),
    ("2/0", "Attempted murder", "violence_with_injury"),
    ("5/1", "Wounding with intent to do grievous bodily harm", "violence_with_injury"),
    ("8F", "Inflicting grievous bodily harm without intent", "violence_with_injury"),
    ("8N", "Assault with injury", "violence_with_injury"),
    ("8S", "Non-fatal strangulation or suffocation", "violence_with_injury"),
    ("105A", "Assault without injury", "violence_without_injury"),
    ("3B", "Threats to kill", "violence_without_injury"),
    ("8U", "Controlling or coercive behaviour", "stalking_harassment"),
    ("8L", "Harassment", "stalking_harassment"),
    ("8Q", "Stalking", "stalking_harassment"),
    ("19C", "Rape of a female aged 16 or over", "sexual_offences"),
    ("17A", "Sexual assault on a female aged 13 and over", "sexual_offences"),
    ("34B", "Robbery of personal property", "robbery"),
    ("28E", "Burglary residential", "burglary"),
    ("39", "Theft from the person", "theft"),
    ("45", "Theft from a vehicle", "theft"),
    ("49", "Other theft", "theft"),
    ("58A", "Criminal damage to a dwelling", "criminal_damage"),
    ("92A", "Trafficking in controlled drugs", "drug_offences"),
    ("92D", "Possession of controlled drugs", "drug_offences"),
    ("10D", "Possession of article with blade or point", "possession_of_weapons"),
    ("9A", "Public fear, alarm or distress", "public_order"),
];

/// The HOCR entry for a code.
pub fn hocr(code: &str) -> (&'static str, &'static str, &'static str) {
    HOCR.iter().copied().find(|(c, _, _)| *c == code).unwrap_or(HOCR[5])
}

/// Crime outcomes.
pub const OUTCOMES: [&str; 6] = [
    "charged",
    "out_of_court",
    "evidential_difficulties_victim",
    "no_suspect_identified",
    "under_investigation",
    "victim_declined",
];

/// Homicide Index method of killing (domain.md §2.1B [verify labels]).
pub const HI_METHODS: [&str; 10] = [
    "sharp_instrument",
    "blunt_instrument",
    "hitting_kicking",
    "strangulation_asphyxiation",
    "shooting",
    "poison_drugs",
    "burning",
    "motor_vehicle",
    "other",
    "not_known",
];

/// Homicide Index relationship to principal suspect.
pub const HI_RELATIONSHIPS: [&str; 7] = [
    "partner_ex_partner",
    "parent",
    "son_daughter",
    "other_family",
    "friend_acquaintance",
    "stranger",
    "no_suspect_not_known",
];

/// Homicide Index apparent circumstances.
pub const HI_CIRCUMSTANCES: [&str; 5] = [
    "quarrel_revenge_loss_of_temper",
    "furtherance_of_theft_or_gain",
    "irrational_act",
    "other",
    "not_known",
];

/// Homicide Index location.
pub const HI_LOCATIONS: [&str; 5] =
    ["victims_home", "suspects_home", "other_dwelling", "street_public_place", "other"];

/// Home Office homicide sub-types 1–7 (Dec 2023) and `other` for the 5% outside them.
pub const HO_SUBTYPES: [&str; 8] = ["1", "2", "3", "4", "5", "6", "7", "other"];

/// CIN census referral sources (DfE codes [verify against the CIN census guide]).
pub const REFERRAL_SOURCES: [(&str, &str); 18] = [
    ("1A", "individual"),
    ("1B", "family member"),
    ("1C", "acquaintance"),
    ("2A", "schools"),
    ("2B", "education services"),
    ("3A", "GP"),
    ("3B", "health visitor"),
    ("3C", "school nurse"),
    ("3D", "other primary health"),
    ("3E", "A&E"),
    ("3F", "other health"),
    ("4", "LA services"),
    ("5A", "legal agency: courts"),
    ("5B", "probation"),
    ("5C", "police"),
    ("5D", "other legal agency"),
    ("6", "other"),
    ("8", "unknown"),
];

/// CIN primary need codes N0–N9.
pub const PRIMARY_NEED: [&str; 10] = ["N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"];

/// CIN assessment factor codes used here [verify against the CIN census guide]: 1B alcohol
/// misuse (parent), 2B drug misuse (parent), 3A domestic abuse concerning the child, 3B
/// domestic abuse concerning the parent, 4B mental health (parent), 6A self-harm, 8B neglect,
/// 9A child sexual exploitation, 22A child criminal exploitation, 24A gangs.
pub const FACTORS: [&str; 10] = ["1B", "2B", "3A", "3B", "4B", "6A", "8B", "9A", "22A", "24A"];

/// Adult safeguarding type of risk.
pub const RISK_TYPES: [&str; 10] = [
    "neglect_acts_of_omission",
    "physical",
    "psychological",
    "financial_material",
    "domestic_abuse",
    "self_neglect",
    "sexual",
    "organisational",
    "discriminatory",
    "modern_slavery",
];

/// Adult safeguarding location of risk.
pub const RISK_LOCATIONS: [&str; 5] = ["own_home", "care_home", "hospital", "community", "other"];

/// Adult safeguarding source of risk.
pub const RISK_SOURCES: [&str; 3] =
    ["service_provider", "known_to_individual", "unknown_to_individual"];

/// H-CLIC-like duty owed at assessment.
pub const DUTIES: [&str; 3] = ["prevention", "relief", "main"];

/// H-CLIC-like reason for loss (or threat of loss) of last settled home.
pub const LOSS_REASONS: [&str; 8] = [
    "end_of_assured_shorthold_tenancy",
    "family_friends_no_longer_willing",
    "domestic_abuse",
    "relationship_breakdown_non_violent",
    "eviction_social_tenancy",
    "left_institution",
    "rent_arrears_private",
    "other",
];

/// H-CLIC-like support needs.
pub const SUPPORT_NEEDS: [&str; 8] = [
    "history_of_domestic_abuse",
    "offending_history",
    "drug_dependency",
    "alcohol_dependency",
    "mental_health",
    "care_leaver",
    "young_person_16_17",
    "none",
];

/// H-CLIC-like accommodation at application.
pub const ACCOMMODATION_AT_APPLICATION: [&str; 7] = [
    "no_fixed_abode",
    "rough_sleeping",
    "living_with_family_friends",
    "private_rented",
    "social_rented",
    "owner_occupier",
    "temporary_accommodation",
];

/// DfE exclusion reasons.
pub const EXCLUSION_REASONS: [(&str, &str); 13] = [
    ("PP", "physical assault against a pupil"),
    ("PA", "physical assault against an adult"),
    ("VP", "verbal abuse/threatening behaviour against a pupil"),
    ("VA", "verbal abuse/threatening behaviour against an adult"),
    ("BU", "bullying"),
    ("RA", "racist abuse"),
    ("SM", "sexual misconduct"),
    ("DA", "drug and alcohol related"),
    ("DM", "damage"),
    ("TH", "theft"),
    ("PD", "persistent disruptive behaviour"),
    ("OW", "use or threat of use of an offensive weapon"),
    ("OT", "other"),
];
