//! Choosing people for events: a weighted picker over the whole population (planted people
//! excluded) that retries until the person is alive, and housed if needed, on the event date.

use crate::date::Date;
use crate::population::{Person, Population, flag};
use crate::rng::{Picker, Rng};

/// Weighted choice of people.
#[derive(Debug)]
pub struct PersonPicker {
    picker: Picker,
}

impl PersonPicker {
    /// Weights every unplanted person by `weight(id, person)`.
    pub fn new(pop: &Population, weight: impl Fn(u32, &Person) -> f64) -> PersonPicker {
        let picker = Picker::new(
            pop.persons
                .iter()
                .enumerate()
                .map(|(i, p)| if p.has(flag::PLANTED) { 0.0 } else { weight(i as u32, p) }),
        );
        PersonPicker { picker }
    }

    /// Whether nobody can be picked.
    pub fn is_empty(&self) -> bool {
        self.picker.is_empty()
    }

    /// Someone alive on `on` (and with an address then, if `housed`), or None after 40 tries.
    pub fn draw(&self, rng: &mut Rng, pop: &Population, on: Date, housed: bool) -> Option<u32> {
        self.draw_where(rng, pop, on, housed, |_| true)
    }

    /// Like [`draw`](Self::draw), also requiring `ok(id)`.
    pub fn draw_where(
        &self,
        rng: &mut Rng,
        pop: &Population,
        on: Date,
        housed: bool,
        ok: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        for _ in 0..40 {
            let id = self.picker.pick(rng)? as u32;
            let p = pop.person(id);
            if !p.alive_on(on) || p.dob > on {
                continue;
            }
            if housed && pop.address_on(id, on).is_none() {
                continue;
            }
            if ok(id) {
                return Some(id);
            }
        }
        None
    }
}

/// Relative violence-victimisation weight by age and sex (NVSN: males 18–30 highest).
pub fn violence_age_weight(age: u32, female: bool) -> f64 {
    let w = match age {
        0..=9 => 0.02,
        10..=13 => 0.25,
        14..=15 => 0.6,
        16..=17 => 1.2,
        18..=24 => 3.0,
        25..=30 => 2.6,
        31..=40 => 1.5,
        41..=50 => 0.8,
        51..=64 => 0.4,
        _ => 0.1,
    };
    if female { w * 0.8 } else { w }
}

/// Risk-tier multiplier for a kind of event (`strength` 0 = none … 1 = strong).
pub fn tier_weight(tier: u8, strength: f64) -> f64 {
    let base = [1.0, 2.5, 8.0, 25.0][usize::from(tier.min(3))];
    1.0 + (base - 1.0) * strength
}
