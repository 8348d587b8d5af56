//! Every rate and error probability the generator uses, in one place, with its source. Rates are
//! for a 1.1-million-person county at `scale = 1.0` and are multiplied by the scale; error
//! probabilities do not scale. Sources are sections of `shared/reference/domain.md`; numbers it
//! marks [derived] or [assumption] keep that mark here.

use crate::error::SynthError;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Size relative to a 1.1-million-person county (0.1 for the demo).
    pub scale: f64,
    /// Master seed: the same seed and scale give the same files, byte for byte.
    pub seed: u64,
    /// Calendar year of the first 1 April (three financial years from 2023-04-01 by default).
    pub first_year: i32,
    /// Number of financial years.
    pub years: u32,
    /// Worker threads for rendering (the output does not depend on it).
    pub threads: usize,
    /// Event rates.
    pub rates: Rates,
    /// Per-agency error model.
    pub errors: ErrorModel,
}

impl SynthConfig {
    /// The defaults at a scale and seed: 2023-04-01 to 2026-03-31.
    pub fn new(scale: f64, seed: u64) -> SynthConfig {
        SynthConfig {
            scale,
            seed,
            first_year: 2023,
            years: 3,
            threads: 2,
            rates: Rates::default(),
            errors: ErrorModel::default(),
        }
    }

    /// Refuses settings the generator cannot honour.
    pub fn check(&self) -> Result<(), SynthError> {
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale <= 1.5) {
            return Err(SynthError::Config(format!(
                "scale must be above 0 and at most 1.5 (the NHS test range limits the population); \
                 got {}",
                self.scale
            )));
        }
        if !(1..=5).contains(&self.years) {
            return Err(SynthError::Config(format!("years must be 1–5; got {}", self.years)));
        }
        if self.rates.homicides_per_year.is_empty() {
            return Err(SynthError::Config("homicides_per_year needs at least one value".into()));
        }
        Ok(())
    }
}

/// Event rates per year at scale 1.0 (a county of 1.1 million).
#[derive(Debug, Clone)]
pub struct Rates {
    /// People. domain.md §7: Cheshire police force area ≈ 1.1 m.
    pub population: f64,
    /// Share of people in the East council (the rest in West). [assumption] 55/45.
    pub east_share: f64,
    /// Electoral wards. domain.md §7 geography: ~140 [assumption].
    pub wards: f64,
    /// LSOAs. domain.md §7 geography: ~690 (~1,600 people each) [assumption].
    pub lsoas: f64,
    /// Share of dwellings vacant at the start (room for moves). [assumption] ~6%.
    pub vacancy: f64,
    /// Share of dwellings that are flats in blocks with a parent UPRN. [assumption] ~20%.
    pub flat_share: f64,
    /// Care homes. domain.md §7: "a few hundred care homes and supported-housing units".
    pub care_homes: f64,
    /// Hostels / supported housing with many rooms under one parent UPRN. [assumption]
    pub hostels: f64,
    /// Share of people of no fixed abode (rough sleeping, sofa surfing). [assumption] 0.1%.
    pub nfa_share: f64,
    /// Share of households that move house each year. [assumption] ~9% (English Housing Survey
    /// order of magnitude).
    pub moves_per_household: f64,
    /// Share of households in risk tiers 0–3 (latent risk driving correlated events across
    /// agencies, domain.md §9(a)5). [assumption]
    pub risk_tier_shares: [f64; 4],

    /// All deaths. domain.md §7: ~11,000–12,000/yr [derived; older county].
    pub deaths: f64,
    /// Police death reports. domain.md §7: ~2,300–2,500/yr (~21% of registered deaths, Met).
    pub police_death_reports: f64,
    /// Background homicides per financial year (planted scenarios add two in the last year).
    /// domain.md §7: 4–12/yr, mean ~6, with at least one year of 2.
    pub homicides_per_year: Vec<f64>,

    /// DA incidents and crimes. domain.md §7: ~16,000–27,000/yr [derived].
    pub da_incidents: f64,
    /// Share of DA incidents recorded as crimes. domain.md §7: 889,918 of 1,453,867 (61%).
    pub da_crimed_share: f64,
    /// Share of DA victims who are female. domain.md §7: 72% (CWaC DA strategy).
    pub da_victim_female_share: f64,

    /// Violence-related ED attendances. domain.md §7: ~2,500–3,000/yr [derived, NVSN].
    pub ed_violence: f64,
    /// Male:female ratio of violence-related ED attendances. domain.md §7: ≈ 2.4:1 (NVSN 4.6
    /// vs 1.9 per 1,000).
    pub ed_violence_male_per_female: f64,
    /// Share of ED assault attendances unknown to police. domain.md §4/§9e: 59% (Gray 2017).
    pub ed_violence_unknown_to_police: f64,
    /// All ED/UTC attendances. domain.md §7: ~470,000/yr [derived].
    pub ed_all: f64,
    /// ED self-harm attendances. [assumption] ~3,600/yr (≈ 200k/yr in England × 1.85%).
    pub ed_self_harm: f64,
    /// ED attendances for accidental drug poisoning/overdose. [assumption] ~1,200/yr.
    pub ed_overdose: f64,
    /// Share of background ED attendances admitted (an APC spell follows). [assumption] ~20%.
    pub ed_admitted_share: f64,
    /// Violence admissions (ICD-10 X85–Y09). domain.md §7: ~380/yr [derived, PHOF B12a].
    pub violence_admissions: f64,
    /// Share of assault admissions that arrived via A&E. domain.md §7: 80.9% (2012/13).
    pub violence_admissions_via_ed: f64,
    /// Assault-by-sharp-object admissions (X99). domain.md §7: ~40–70/yr [derived].
    pub sharp_admissions: f64,

    /// Knife-enabled crimes (Home Office selected offences). domain.md §7: ~400–600/yr.
    pub knife_crimes: f64,
    /// Non-domestic violence with injury recorded by police. [assumption] ~6,000/yr (HMIC 2014:
    /// 4,649 assaults with injury in Cheshire, 1,323 DA-related; grown since).
    pub violence_with_injury: f64,
    /// Non-domestic violence without injury. [assumption] ~8,000/yr.
    pub violence_without_injury: f64,
    /// Non-domestic stalking and harassment. [assumption] ~5,000/yr.
    pub stalking_harassment: f64,
    /// Sexual offences. [assumption] ~3,000/yr (E&W ~3.3 per 1,000, lower here).
    pub sexual_offences: f64,
    /// Robbery without a knife. [assumption] ~800/yr.
    pub robbery: f64,
    /// Residential burglary. [assumption] ~3,500/yr.
    pub burglary: f64,
    /// Theft with a person victim. [assumption] ~15,000/yr.
    pub theft: f64,
    /// Criminal damage and arson. [assumption] ~7,000/yr.
    pub criminal_damage: f64,
    /// Drug offences (possession, supply). [assumption] ~3,000/yr.
    pub drug_offences: f64,
    /// Possession of weapons. [assumption] ~800/yr.
    pub weapon_possession: f64,
    /// Public order offences. [assumption] ~7,000/yr.
    pub public_order: f64,

    /// Children's social care referrals. domain.md §7: ~12,000/yr (~53 per 1,000 children).
    pub cin_referrals: f64,
    /// Adult safeguarding concerns. domain.md §7: ~11,000–12,000/yr [derived].
    pub asc_concerns: f64,
    /// Section 42 enquiries among them. domain.md §7: ~3,400/yr [derived].
    pub asc_s42: f64,
    /// Households owed a homelessness duty. domain.md §7: ~6,000–6,700/yr [derived].
    pub homelessness: f64,
    /// Permanent exclusions. domain.md §7: ~170/yr.
    pub permanent_exclusions: f64,
    /// Suspensions. domain.md §7: ~14,000/yr.
    pub suspensions: f64,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            population: 1_100_000.0,
            east_share: 0.55,
            wards: 140.0,
            lsoas: 690.0,
            vacancy: 0.06,
            flat_share: 0.20,
            care_homes: 280.0,
            hostels: 16.0,
            nfa_share: 0.001,
            moves_per_household: 0.09,
            risk_tier_shares: [0.72, 0.19, 0.07, 0.02],
            deaths: 11_500.0,
            police_death_reports: 2_400.0,
            homicides_per_year: vec![7.0, 2.0, 6.0],
            da_incidents: 20_000.0,
            da_crimed_share: 0.61,
            da_victim_female_share: 0.72,
            ed_violence: 2_750.0,
            ed_violence_male_per_female: 2.4,
            ed_violence_unknown_to_police: 0.59,
            ed_all: 470_000.0,
            ed_self_harm: 3_600.0,
            ed_overdose: 1_200.0,
            ed_admitted_share: 0.20,
            violence_admissions: 380.0,
            violence_admissions_via_ed: 0.809,
            sharp_admissions: 55.0,
            knife_crimes: 500.0,
            violence_with_injury: 6_000.0,
            violence_without_injury: 8_000.0,
            stalking_harassment: 5_000.0,
            sexual_offences: 3_000.0,
            robbery: 800.0,
            burglary: 3_500.0,
            theft: 15_000.0,
            criminal_damage: 7_000.0,
            drug_offences: 3_000.0,
            weapon_possession: 800.0,
            public_order: 7_000.0,
            cin_referrals: 12_000.0,
            asc_concerns: 11_500.0,
            asc_s42: 3_400.0,
            homelessness: 6_300.0,
            permanent_exclusions: 170.0,
            suspensions: 14_000.0,
        }
    }
}

/// How one agency's records differ from the truth. Probabilities are per record unless they say
/// per person; each is multiplied by the subgroup multiplier (see [`ErrorModel`]) and capped.
#[derive(Debug, Clone)]
pub struct AgencyErrors {
    /// The agency holds the person's NHS number (per person).
    pub nhs_present: f64,
    /// An NHS number keyed with one wrong digit or two swapped (fails Modulus 11). domain.md
    /// §9e: 0.2% [assumption].
    pub nhs_keying: f64,
    /// A valid NHS number belonging to someone else (a family member). domain.md §9e: 0.1%.
    pub nhs_wrong_person: f64,
    /// Date of birth wrong (a digit, a day/month swap, a year off). domain.md §9e: 0.11% in health
    /// (Harron 2017).
    pub dob_error: f64,
    /// Date of birth a placeholder (1900-01-01, 1811-11-11) or an estimate (1 January of the
    /// estimated year). domain.md §9e: 2–5% in police [assumption].
    pub dob_placeholder: f64,
    /// Postcode out of date: the person's previous address (per record). domain.md §9e: ~50% in
    /// health (Harron 2017: 53%).
    pub postcode_outdated: f64,
    /// Postcode missing.
    pub postcode_missing: f64,
    /// UPRN missing (address not matched). domain.md §9e: 1.4% overall, 4.6% recent movers.
    pub uprn_missing: f64,
    /// A typing error in a name (substitution, insertion, deletion, transposition).
    pub name_typo: f64,
    /// The person is known by a nickname (per person: "Bob" for Robert).
    pub nickname: f64,
    /// A spelling variant of a name (Steven/Stephen, McDonald/MacDonald) (per person).
    pub name_variant: f64,
    /// Forename and surname swapped.
    pub name_swap: f64,
    /// A married woman recorded under her birth surname (per person).
    pub maiden_name: f64,
    /// The person has a second, duplicate local record (missed within-agency match, per person).
    /// domain.md §9e: 0.4–4% (Hagger-Johnson).
    pub duplicate_person: f64,
    /// Names recorded as "UNKNOWN".
    pub unknown_name: f64,
}

impl AgencyErrors {
    fn base() -> AgencyErrors {
        AgencyErrors {
            nhs_present: 0.0,
            nhs_keying: 0.002,
            nhs_wrong_person: 0.001,
            dob_error: 0.0011,
            dob_placeholder: 0.0,
            postcode_outdated: 0.10,
            postcode_missing: 0.02,
            uprn_missing: 0.014,
            name_typo: 0.01,
            nickname: 0.02,
            name_variant: 0.02,
            name_swap: 0.002,
            maiden_name: 0.02,
            duplicate_person: 0.01,
            unknown_name: 0.0,
        }
    }
}

/// The error model of every agency (domain.md §9e defaults).
#[derive(Debug, Clone)]
pub struct ErrorModel {
    /// Multiplier for minority ethnic groups. domain.md §9e: ×2–3 (Cooper 2007; Hagger-Johnson).
    pub minority_multiplier: f64,
    /// Multiplier for people of no fixed abode or in hostels. domain.md §9e: ×2–3.
    pub nfa_multiplier: f64,
    /// Multiplier for males under 25. domain.md §9e: ×2–3.
    pub young_male_multiplier: f64,
    /// Cap on the product of multipliers.
    pub multiplier_cap: f64,
    /// Police (nominals on crimes, DA incidents, death reports).
    pub police: AgencyErrors,
    /// ECDS attendances.
    pub ecds: AgencyErrors,
    /// ECDS: NHS number missing for homeless/NFA, assault with intoxication, self-harm.
    /// domain.md §9e: 30–45% (Cooper 2007: 55–73% present).
    pub ecds_nhs_missing_vulnerable: f64,
    /// Admitted patient care.
    pub apc: AgencyErrors,
    /// Children's social care and education.
    pub children: AgencyErrors,
    /// Adult social care.
    pub adults: AgencyErrors,
    /// Housing (homelessness).
    pub housing: AgencyErrors,
    /// Police aliases: share of suspects in risk tier 3 with one or more aliases. [assumption]
    pub police_alias_share: f64,
    /// Ethnicity not stated. domain.md §9e: ~10–20% [assumption].
    pub ethnicity_not_stated: f64,
    /// Death reports missing the deceased's DOB. domain.md §9e: 5–15% [assumption].
    pub death_report_dob_missing: f64,
    /// Death reports missing the location UPRN. domain.md §9e: 5–15% [assumption].
    pub death_report_uprn_missing: f64,
    /// Death reports with no current category. domain.md §9e: 5–15% [assumption].
    pub death_report_category_missing: f64,
    /// Records (police, housing, adult care) of people of no fixed abode that carry the
    /// hospital's or police station's UPRN as a default address (F17 placeholder pitfall).
    pub institutional_default_address: f64,
    /// Rows an export damages (an impossible date, or cut short), in the large operational
    /// extracts (ED attendances, crimes): they exercise the importer's quarantine. [assumption]
    pub export_glitch: f64,
}

impl Default for ErrorModel {
    fn default() -> ErrorModel {
        let base = AgencyErrors::base();
        ErrorModel {
            minority_multiplier: 2.0,
            nfa_multiplier: 3.0,
            young_male_multiplier: 2.0,
            multiplier_cap: 4.0,
            police: AgencyErrors {
                // domain.md §9e: police NHS number present 5% [assumption].
                nhs_present: 0.05,
                dob_error: 0.01,
                dob_placeholder: 0.03,
                postcode_outdated: 0.15,
                postcode_missing: 0.08,
                uprn_missing: 0.10,
                // [assumption] Each wrongly keyed record becomes a new nominal (a missed
                // match); with the DOB estimates above, ~7% of police records do.
                name_typo: 0.015,
                nickname: 0.06,
                name_variant: 0.04,
                name_swap: 0.005,
                maiden_name: 0.05,
                duplicate_person: 0.03,
                unknown_name: 0.002,
                ..base.clone()
            },
            ecds: AgencyErrors {
                // domain.md §9e: ECDS NHS number missing 2% (CUREd: 98% linked).
                nhs_present: 0.98,
                postcode_outdated: 0.45,
                postcode_missing: 0.03,
                name_typo: 0.015,
                nickname: 0.02,
                duplicate_person: 0.02,
                unknown_name: 0.002,
                ..base.clone()
            },
            ecds_nhs_missing_vulnerable: 0.38,
            apc: AgencyErrors {
                nhs_present: 0.99,
                postcode_outdated: 0.40,
                postcode_missing: 0.01,
                duplicate_person: 0.01,
                ..base.clone()
            },
            children: AgencyErrors {
                // domain.md §9e: council (CSC/ASC) NHS number present 60–80% [assumption].
                nhs_present: 0.65,
                dob_error: 0.004,
                postcode_outdated: 0.08,
                uprn_missing: 0.03,
                name_typo: 0.01,
                nickname: 0.03,
                duplicate_person: 0.02,
                ..base.clone()
            },
            adults: AgencyErrors {
                nhs_present: 0.78,
                dob_error: 0.004,
                postcode_outdated: 0.08,
                uprn_missing: 0.03,
                ..base.clone()
            },
            housing: AgencyErrors {
                // domain.md §2.3: NHS number rarely held by housing [assumption].
                nhs_present: 0.08,
                dob_error: 0.006,
                postcode_outdated: 0.05,
                uprn_missing: 0.05,
                name_typo: 0.015,
                nickname: 0.04,
                duplicate_person: 0.03,
                ..base
            },
            police_alias_share: 0.3,
            ethnicity_not_stated: 0.15,
            death_report_dob_missing: 0.06,
            death_report_uprn_missing: 0.10,
            death_report_category_missing: 0.05,
            institutional_default_address: 0.25,
            export_glitch: 0.0002,
        }
    }
}
