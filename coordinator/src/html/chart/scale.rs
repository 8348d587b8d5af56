//! Axis scales: tick values at round numbers (1, 2 or 5 times a power of ten) covering the data
//! and zero, and the linear map from values to pixels. Counts get whole-number ticks only, so a
//! chart of 0–3 queries is not labelled 0.5, 1.5.

use crate::html::number::{decimals_for, format_fixed};

/// The ticks of one axis, lowest first, and how many decimals their labels need.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticks {
    pub values: Vec<f64>,
    decimals: usize,
}

impl Ticks {
    /// Ticks for values in `lo..=hi` (zero is always included), about `target` of them. With
    /// `whole`, the step is at least 1.
    pub fn covering(lo: f64, hi: f64, target: usize, whole: bool) -> Self {
        let (mut lo, mut hi) = (lo.min(0.0), hi.max(0.0));
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo <= 0.0 {
            hi = lo + 1.0;
        }
        let mut step = nice_step((hi - lo) / target.max(1) as f64);
        if whole {
            step = step.max(1.0);
        }
        let first = (lo / step).floor() as i64;
        let last = (hi / step).ceil() as i64;
        let values = (first..=last).map(|k| k as f64 * step).collect();
        let decimals = if step >= 1.0 { 0 } else { decimals_for(step, 1) };
        Self { values, decimals }
    }

    /// The lowest tick.
    pub fn min(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    /// The highest tick.
    pub fn max(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }

    /// A tick's label.
    pub fn label(&self, value: f64) -> String {
        format_fixed(value, self.decimals)
    }
}

/// The round number (1, 2 or 5 × 10ⁿ) at or just above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A linear map from the span of some ticks to a pixel range (which may run backwards, as a
/// vertical axis does).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scale {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Scale {
    /// Maps `ticks`' span onto `from..to` pixels.
    pub fn new(ticks: &Ticks, from: f64, to: f64) -> Self {
        Self { lo: ticks.min(), hi: ticks.max(), from, to }
    }

    /// The pixel position of `value`.
    pub fn at(&self, value: f64) -> f64 {
        let span = self.hi - self.lo;
        let t = if span > 0.0 { (value - self.lo) / span } else { 0.0 };
        self.from + t * (self.to - self.from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_data_and_zero() {
        let ticks = Ticks::covering(3.0, 87.0, 5, true);
        assert_eq!(ticks.values, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let ticks = Ticks::covering(0.0, 1234.0, 5, true);
        assert_eq!(ticks.values, vec![0.0, 500.0, 1000.0, 1500.0]);
        assert_eq!(ticks.label(1500.0), "1,500");
    }

    #[test]
    fn small_counts_get_whole_ticks() {
        let ticks = Ticks::covering(0.0, 3.0, 5, true);
        assert_eq!(ticks.values, vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn fractions_get_fractional_ticks_with_matching_labels() {
        let ticks = Ticks::covering(0.0, 0.35, 5, false);
        assert_eq!(ticks.values.len(), 5);
        let labels: Vec<String> = ticks.values.iter().map(|v| ticks.label(*v)).collect();
        assert_eq!(labels, ["0.0", "0.1", "0.2", "0.3", "0.4"]);
    }

    #[test]
    fn no_data_still_gives_an_axis() {
        assert_eq!(Ticks::covering(0.0, 0.0, 5, true).values, vec![0.0, 1.0]);
        assert_eq!(Ticks::covering(f64::NAN, 1.0, 5, true).values, vec![0.0, 1.0]);
    }

    #[test]
    fn negative_values_extend_below_zero() {
        let ticks = Ticks::covering(-4.0, 6.0, 5, true);
        assert_eq!(ticks.min(), -4.0);
        assert_eq!(ticks.max(), 6.0);
    }

    #[test]
    fn scale_maps_ends_and_runs_backwards() {
        let ticks = Ticks::covering(0.0, 10.0, 5, true);
        let scale = Scale::new(&ticks, 200.0, 0.0);
        assert_eq!(scale.at(0.0), 200.0);
        assert_eq!(scale.at(10.0), 0.0);
        assert_eq!(scale.at(5.0), 100.0);
    }
}
