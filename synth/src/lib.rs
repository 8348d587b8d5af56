//! fedlink-synth: a synthetic county with known answers (domain.md §9), for the demo, the tests
//! and benchmarks of fedlink.
//!
//! The generator builds a true world first — geography, people in households with a latent risk
//! tier, their address histories and deaths, and an event history (domestic abuse, assaults,
//! homicides, deaths reported to police, crime, ED attendances, admissions, children's and
//! adults' social care, homelessness, exclusions) with planted scenarios — and then renders
//! each agency's extract from it with the agency's own column names, codes, coverage and error
//! model (domain.md §9(e): errors more frequent for minority ethnic groups, people of no fixed
//! abode and young men). A truth bundle maps every record to its true person, address and
//! event, and lists each planted scenario's records. A public folder holds what anyone may
//! have: the LSOA → ward → local authority lookup with each area's residents (ONS's lookup and
//! mid-year estimates, [`public`]).
//!
//! ```text
//! OUT/police/        datasets/<dataset>.toml  data/<dataset>.csv  node-datasets.toml
//! OUT/icb/           (same)
//! OUT/council-east/  (same)
//! OUT/council-west/  (same)
//! OUT/truth/         person.csv address.csv residence.csv record_map.csv scenario.csv
//!                    scenario_member.csv README.md
//! OUT/public/        geography.csv ward_population.csv README.md
//! OUT/summary.toml
//! ```
//!
//! Output is a function of the seed and scale only: the same pair gives byte-identical files
//! (except `generation_seconds` in `summary.toml`), whatever the thread count.
//!
//! # Choices worth knowing
//!
//! - **Period**: three financial years, 2023-04-01 to 2026-03-31.
//! - **Geography**: two unitary councils (East ~55%, West), ~140 wards and ~690 LSOAs at scale
//!   1 with synthetic ONS-style codes (E0599…, E0199…, E0600099x), postcodes of ~15 addresses in
//!   districts CW14–19, SK24–27, CH26–33 and WA17–19, 12-digit UPRNs from 990 100 000 000.
//! - **NHS numbers**: only the 999 test range, valid Modulus 11 (checked with
//!   `fedlink_node::normalise::nhs::check_digit`); ~909,000 exist, so at scale 1 everyone who
//!   appears in a record has one and some people who never appear do not.
//! - **SNOMED codes**: only 276853009 (self-inflicted injury) is attested; the assault intent
//!   and mechanism codes in [`codes`] are placeholders in SNOMED form (domain.md §2.2A, §10).
//! - **Dates**: ISO `YYYY-MM-DD` and `YYYY-MM-DD HH:MM`, except police dates of birth, written
//!   `DD/MM/YYYY` as UK police systems export them.
//! - **Empty fields** mean "not recorded"; every non-empty categorical value is in its column's
//!   declared code list.
//!
//! # Layout
//!
//! - [`config`]: every rate and error probability, with its source.
//! - [`rng`]: seeded streams and samplers.
//! - [`date`]: dates, times and financial years.
//! - [`names`]: name frequency tables (in [`names::data`]), nicknames, spelling variants.
//! - [`ids`]: NHS numbers from the test range, UPNs, PNC IDs.
//! - [`geography`]: councils, wards, LSOAs, postcodes, addresses and institutions.
//! - [`population`]: people, households, risk tiers, deaths, moves.
//! - [`world`]: the true world and identifier assignment.
//! - [`events`]: the true event history.
//! - [`scenarios`]: planted scenarios with known answers.
//! - [`codes`]: code lists shared by events and schemas.
//! - [`corrupt`]: corruption primitives (typos, wrong dates, keyed NHS numbers …).
//! - [`identity`]: how a person appears in one agency's record.
//! - [`render`]: each agency's datasets and schemas.
//! - [`truth`]: the truth bundle.
//! - [`public`]: the public geography lookup and population.
//! - [`write`]: output folders, CSV writers, schema files, node config fragments.
//! - [`error`]: the error type.
//! - [`evaluate`]: scoring a linkage result against the truth bundle (development only).
#![forbid(unsafe_code)]

pub mod codes;
pub mod config;
pub mod corrupt;
pub mod date;
pub mod error;
pub mod evaluate;
pub mod events;
pub mod geography;
pub mod identity;
pub mod ids;
pub mod names;
pub mod population;
pub mod public;
pub mod render;
pub mod rng;
pub mod scenarios;
pub mod truth;
pub mod world;
pub mod write;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use serde::Serialize;

pub use config::{AgencyErrors, ErrorModel, Rates, SynthConfig};
pub use error::SynthError;

use crate::date::Period;
use crate::events::Events;
use crate::render::{Counts, Member, Truth};
use crate::world::World;

/// Rows written to one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetRows {
    /// Node (federation member).
    pub node: String,
    /// Dataset.
    pub dataset: String,
    /// Rows.
    pub rows: u64,
}

/// Member records of one planted scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecords {
    /// Scenario id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Member records in the data files.
    pub records: usize,
}

/// What was generated (also written to `summary.toml`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Seed.
    pub seed: u64,
    /// Scale.
    pub scale: f64,
    /// First day.
    pub period_start: String,
    /// Last day.
    pub period_end: String,
    /// Wall-clock seconds.
    pub generation_seconds: f64,
    /// People in the world.
    pub people: usize,
    /// Addresses.
    pub addresses: usize,
    /// The day `public/` counts residents on (the middle day of the period).
    pub population_date: String,
    /// Residents on `population_date`: people alive and living at an address in the county
    /// (the total of `public/geography.csv`; people of no fixed abode are not counted).
    pub residents: u64,
    /// Rows per node and dataset.
    pub datasets: Vec<DatasetRows>,
    /// Records per planted scenario.
    pub scenarios: Vec<ScenarioRecords>,
}

/// Builds the true world with its events (no files).
pub fn build_world(
    config: &SynthConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<(World, Events), SynthError> {
    config.check()?;
    let seed = config.seed;
    let period = Period::financial_years(config.first_year, config.years);
    let names = names::Names::new();
    let people = config.rates.population * config.scale;
    let geo = geography::build::build(seed, people, &config.rates, config.scale);
    progress(&format!(
        "geography: {} wards, {} LSOAs, {} addresses",
        geo.wards.len(),
        geo.lsoas.len(),
        geo.addresses.len()
    ));
    let pop = population::build::build(seed, &geo, &names, &config.rates, config.scale, period);
    progress(&format!(
        "population: {} people in {} households",
        pop.persons.len(),
        pop.households.len()
    ));
    let mut world = World {
        config: config.clone(),
        period,
        names,
        geo,
        pop,
        scenarios: Vec::new(),
        upns: Default::default(),
    };
    let mut events = Events::default();
    let reissued = scenarios::plant(&mut world, &mut events);
    world.pop.index();
    progress(&format!("scenarios: {} planted", world.scenarios.len()));
    events::generate(&mut world, &mut events);
    progress(&format!(
        "events: {} deaths reported, {} crimes, {} DA incidents, {} ED attendances",
        events.deaths.len(),
        events.crimes.len(),
        events.da.len(),
        events.ed.len() + events.ed_background.iter().map(|&c| c as usize).sum::<usize>()
    ));
    world.assign_nhs(&events.people(), &reissued)?;
    world.assign_upns();
    Ok((world, events))
}

/// Generates the county into `out` (which must be empty or absent). `progress` hears about each
/// stage.
pub fn generate(
    config: &SynthConfig,
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Summary, SynthError> {
    let started = Instant::now();
    config.check()?;
    write::prepare(out)?;
    let (world, events) = build_world(config, progress)?;
    let truth_dir = out.join("truth");
    std::fs::create_dir_all(&truth_dir).map_err(|e| SynthError::io(&truth_dir, e))?;
    let parts: Vec<PathBuf> = ["police", "councils", "icb"]
        .iter()
        .map(|p| truth_dir.join(format!(".record_map.{p}.part")))
        .collect();
    let (counts, mut members) = render_all(&world, &events, out, &parts, progress)?;
    truth::record_map(&truth_dir, &parts)?;
    let scenario_counts = truth::scenarios(&world, &truth_dir, &mut members)?;
    truth::readme(&truth_dir)?;
    progress("truth bundle written");
    let residents = public::write(&world, &out.join("public"))?;
    progress(&format!("public geography and population written ({residents} residents)"));
    let summary = Summary {
        seed: config.seed,
        scale: config.scale,
        period_start: world.period.start.iso(),
        period_end: world.period.last_day().iso(),
        generation_seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        people: world.pop.persons.len(),
        addresses: world.geo.addresses.len(),
        population_date: public::reference_date(world.period).iso(),
        residents,
        datasets: counts
            .into_iter()
            .map(|(n, d, r)| DatasetRows { node: n.to_string(), dataset: d.to_string(), rows: r })
            .collect(),
        scenarios: world
            .scenarios
            .iter()
            .zip(scenario_counts)
            .map(|(s, n)| ScenarioRecords { id: s.id.into(), kind: s.kind.into(), records: n })
            .collect(),
    };
    let toml = toml::to_string(&summary)
        .map_err(|e| SynthError::Toml { what: "summary.toml".into(), message: e.to_string() })?;
    write::text(&out.join("summary.toml"), &toml)?;
    Ok(summary)
}

type Rendered = (Counts, Vec<Member>);

/// Renders every node: the ICB (the largest) on one thread, police and councils on another
/// when `config.threads > 1`. Each writes its own record-map part, so output does not depend
/// on the thread count.
fn render_all(
    world: &World,
    events: &Events,
    out: &Path,
    parts: &[PathBuf],
    progress: &mut dyn FnMut(&str),
) -> Result<Rendered, SynthError> {
    let (tx, rx) = mpsc::channel::<String>();
    let police_and_councils = |tx: mpsc::Sender<String>| -> Result<Rendered, SynthError> {
        let say = |m: String| {
            let _ = tx.send(m);
        };
        let mut truth = Truth::new(&parts[0])?;
        let mut counts = render::police::render(world, events, out, &mut truth, &say)?;
        let mut members = truth.finish()?;
        let mut truth = Truth::new(&parts[1])?;
        for c in 0..2 {
            counts.extend(render::council::render(world, events, out, &mut truth, c)?);
            say(format!("{} written", geography::COUNCILS[usize::from(c)].member));
        }
        members.extend(truth.finish()?);
        // The truth's people, addresses and residences, while the ICB is still writing.
        truth::world_files(world, &out.join("truth"))?;
        say("truth: people, addresses and residences written".into());
        Ok((counts, members))
    };
    let icb = |tx: mpsc::Sender<String>| -> Result<Rendered, SynthError> {
        let say = |m: String| {
            let _ = tx.send(m);
        };
        let mut truth = Truth::new(&parts[2])?;
        let counts = render::nhs::render(world, events, out, &mut truth, &say)?;
        Ok((counts, truth.finish()?))
    };
    let (a, b) = if world.config.threads > 1 {
        std::thread::scope(|s| {
            let tx_a = tx.clone();
            let tx_b = tx.clone();
            drop(tx);
            let ha = s.spawn(move || police_and_councils(tx_a));
            let hb = s.spawn(move || icb(tx_b));
            for m in rx {
                progress(&m);
            }
            let join = |h: std::thread::ScopedJoinHandle<'_, Result<Rendered, SynthError>>| {
                h.join().map_err(|_| SynthError::Thread("rendering panicked".into()))?
            };
            Ok::<_, SynthError>((join(ha)?, join(hb)?))
        })?
    } else {
        let a = police_and_councils(tx.clone())?;
        let b = icb(tx)?;
        for m in rx.try_iter() {
            progress(&m);
        }
        (a, b)
    };
    let (mut counts, mut members) = a;
    counts.extend(b.0);
    members.extend(b.1);
    Ok((counts, members))
}
