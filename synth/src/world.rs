//! The true world: configuration, period, names, geography, population and the planted
//! scenarios' descriptions. Agencies' extracts are renderings of it; the truth bundle is a dump
//! of it.

use std::collections::HashMap;

use crate::config::SynthConfig;
use crate::date::Period;
use crate::geography::Geography;
use crate::names::Names;
use crate::population::Population;

/// A planted scenario's description (its member records come from tags at render time).
#[derive(Debug, Clone)]
pub struct ScenarioInfo {
    /// Stable id, e.g. `S01_port_series`.
    pub id: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// What was planted and what a correct analysis finds.
    pub description: String,
    /// The queries (domain.md §6.2 ids) expected to detect it.
    pub expected_queries: &'static str,
}

/// Everything true about the county.
#[derive(Debug)]
pub struct World {
    /// Settings.
    pub config: SynthConfig,
    /// The period.
    pub period: Period,
    /// The name pool.
    pub names: Names,
    /// Geography.
    pub geo: Geography,
    /// People.
    pub pop: Population,
    /// Planted scenarios.
    pub scenarios: Vec<ScenarioInfo>,
    /// UPNs of children of school age during the period.
    pub upns: HashMap<u32, String>,
}

impl World {
    /// The scale.
    pub fn scale(&self) -> f64 {
        self.config.scale
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// A person's age on a date.
    pub fn age(&self, person: u32, on: crate::date::Date) -> u32 {
        self.pop.person(person).dob.age_on(on)
    }

    /// Registers a scenario and returns its index for tags.
    pub fn scenario(&mut self, info: ScenarioInfo) -> u16 {
        self.scenarios.push(info);
        (self.scenarios.len() - 1) as u16
    }
}

impl World {
    /// Gives NHS numbers from the 999 test range: first to everyone who appears in any record
    /// (in person order), then to everyone else while numbers last; then earlier numbers to
    /// people whose number was re-issued. The range holds ~909,000 valid numbers, fewer than a
    /// 1.1-million county, which is why people who never appear may have none.
    pub fn assign_nhs(
        &mut self,
        seen: &[u32],
        reissued: &[u32],
    ) -> Result<(), crate::error::SynthError> {
        let mut pool = crate::ids::NhsPool::new(&mut crate::rng::stream(self.seed(), "nhs", 0));
        let needed = seen.len() + reissued.len();
        if needed > pool.capacity() {
            return Err(crate::error::SynthError::NhsNumbersExhausted {
                needed,
                available: pool.capacity(),
            });
        }
        let mut has = vec![false; self.pop.persons.len()];
        for &p in seen {
            has[p as usize] = true;
        }
        for &p in reissued {
            if let Some(person) = self.pop.persons.get_mut(p as usize) {
                person.old_nhs = pool.take();
            }
        }
        for &p in seen {
            if let Some(person) = self.pop.persons.get_mut(p as usize) {
                person.nhs = pool.take();
            }
        }
        for (i, person) in self.pop.persons.iter_mut().enumerate() {
            if !has[i] {
                match pool.take() {
                    Some(n) => person.nhs = Some(n),
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Gives a Unique Pupil Number to every child of school age (4–18) during the period, from
    /// the school they started at, in person order.
    pub fn assign_upns(&mut self) {
        let start = self.period.start;
        let end = self.period.end();
        let mut serials: HashMap<(u16, u16, u16), u16> = HashMap::new();
        let mut upns = HashMap::new();
        for id in 0..self.pop.persons.len() as u32 {
            let p = self.pop.person(id);
            if p.dob.age_on(end) < 4 || p.dob.age_on(start) > 18 {
                continue;
            }
            let Some(address) = self.pop.residences_of(id).first().map(|r| r.address) else {
                continue;
            };
            let council = self.geo.council_of(address);
            let la = crate::geography::COUNCILS[usize::from(council)].dfe_code;
            // Reception year: the September after the fourth birthday.
            let (y, m, _) = p.dob.ymd();
            let entry = if m >= 9 { y + 5 } else { y + 4 };
            let school = self
                .geo
                .schools
                .iter()
                .filter(|s| s.council == council && !s.secondary)
                .nth((crate::rng::mix(u64::from(id)) % 7) as usize)
                .or_else(|| self.geo.schools.iter().find(|s| s.council == council));
            let est = school.map_or(2000, |s| s.establishment);
            let yy = (entry % 100) as u16;
            let serial = serials.entry((la, est, yy)).or_insert(0);
            *serial += 1;
            upns.insert(id, crate::ids::upn(la, est, yy, *serial % 1000));
        }
        self.upns = upns;
    }
}
