//! What one query costs in group operations, and the machine's rates for them measured in the
//! same run, so each relay step can be priced and the run compared with the machine's limit.

use std::time::Instant;

use fedlink_proto::blind::dalek::scalar::Scalar;
use fedlink_proto::blind::{
    BatchRules, BlindingKey, PackedPoints, blind_all, default_threads, expand_message_xmd,
    hash_to_ristretto255, linkage_dst, random_points, reblind_received,
};

use super::timed::Call;
use super::{BoxError, MICRO};

/// Distinct points and scalars cycled through by the `k·P` measurement.
const DISTINCT: usize = 4096;

/// The machine's rates, measured in this run.
pub struct Rates {
    /// Variable-base `k·P`, one core, (a).
    pub mul: f64,
    /// Variable-base `k·P` on every core at once, one plain loop per thread, threads left to
    /// the OS scheduler.
    pub mul_all: f64,
    /// The same with each thread pinned to its own CPU (`sched_setaffinity`).
    pub mul_all_pinned: f64,
    /// `blind_all` (hash, multiply, compress) on all cores, as a node blinds its keys.
    pub blind: f64,
    /// `reblind_received` (check, multiply, compress) on all cores, as a node reblinds.
    pub reblind: f64,
    /// `random_points` on all cores, as a node fills missing slots and dummies.
    pub random: f64,
    /// `PackedPoints::from_bytes` (check only) on all cores: decoding a batch without
    /// multiplying it (B no longer does this for M3, which it only compares).
    pub check: f64,
}

/// Best-of-3 rate of `f`, which performs `ops` operations per call, in operations per second.
fn best_of_3(ops: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        f();
        best = best.min(started.elapsed().as_secs_f64());
    }
    ops as f64 / best
}

/// Measures [`Rates`], each the best of 3 runs of [`MICRO`] operations.
pub fn machine_rates() -> Result<Rates, BoxError> {
    use std::hint::black_box;
    let dst = linkage_dst(&[0x42; 16], 1);
    let msgs: Vec<String> =
        (0..MICRO).map(|i| format!("{:010}", 9_000_000_000u64 + i as u64)).collect();
    let points: Vec<_> =
        msgs[..DISTINCT].iter().map(|m| hash_to_ristretto255(m.as_bytes(), &dst)).collect();
    let scalars = msgs[..DISTINCT]
        .iter()
        .map(|m| {
            let wide: [u8; 64] =
                expand_message_xmd(m.as_bytes(), &dst, 64)?.try_into().map_err(|_| "64 bytes")?;
            Ok(Scalar::from_bytes_mod_order_wide(&wide))
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    let mul = best_of_3(MICRO, || {
        for i in 0..MICRO {
            black_box(black_box(points[i % DISTINCT]) * black_box(scalars[i % DISTINCT]));
        }
    });
    let cores = default_threads().get();
    let mul_loop = |pin: Option<usize>| {
        if let Some(cpu) = pin {
            pin_to(cpu);
        }
        for i in 0..MICRO {
            black_box(black_box(points[i % DISTINCT]) * black_box(scalars[i % DISTINCT]));
        }
    };
    let all_cores = |pinned: bool| {
        best_of_3(MICRO * cores, || {
            std::thread::scope(|scope| {
                for t in 0..cores {
                    let mul_loop = &mul_loop;
                    scope.spawn(move || mul_loop(pinned.then_some(t)));
                }
            });
        })
    };
    let mul_all = all_cores(false);
    let mul_all_pinned = all_cores(true);
    let key = BlindingKey::generate()?;
    let blind = best_of_3(MICRO, || {
        black_box(blind_all(&key, &msgs, &dst));
    });
    let wire = blind_all(&key, &msgs, &dst).as_bytes().to_vec();
    let rules = BatchRules::exactly(MICRO).unique();
    let other = BlindingKey::generate()?;
    let mut failed = false;
    let reblind = best_of_3(MICRO, || {
        failed |= black_box(reblind_received(&other, &wire, &rules)).is_err();
    });
    let check = best_of_3(MICRO, || {
        failed |= black_box(PackedPoints::from_bytes(wire.clone(), &rules)).is_err();
    });
    let random = best_of_3(MICRO, || {
        failed |= black_box(random_points(MICRO)).is_err();
    });
    if failed {
        return Err("a blinding primitive failed".into());
    }
    Ok(Rates { mul, mul_all, mul_all_pinned, blind, reblind, random, check })
}

impl Rates {
    /// The machine's scalar-multiplication limit in this run: raw variable-base `k·P` on all
    /// cores at once, pinned or not, whichever was faster.
    pub fn limit(&self) -> f64 {
        self.mul_all.max(self.mul_all_pinned)
    }
}

/// Pins the calling thread to `cpu` among the CPUs this process may use; best effort (a
/// failure leaves it where the OS put it).
fn pin_to(cpu: usize) {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let Ok(allowed) = sched_getaffinity(Pid::from_raw(0)) else { return };
    let Some(target) =
        (0..CpuSet::count()).filter(|&c| allowed.is_set(c).unwrap_or(false)).nth(cpu)
    else {
        return;
    };
    let mut set = CpuSet::new();
    if set.set(target).is_ok() {
        let _ = sched_setaffinity(Pid::from_raw(0), &set);
    }
}

/// The group operations of one query.
pub struct Work {
    /// Points in M1 (the cohort's tuples).
    pub m1_points: u64,
    /// Points in M2 (the partner's tuples), and again in M3.
    pub m2_points: u64,
    /// Real keys blinded: `k·H(m)`, both sides.
    pub hashed: u64,
    /// Points reblinded: M1 at B, M2 at A.
    pub reblinds: u64,
    /// Random points for missing slots and dummies, both sides.
    pub random: u64,
    /// Variable-base scalar multiplications: `hashed + reblinds`.
    pub mults: u64,
    /// Points made under a key: M1, b·M1, M2 and M3.
    pub points: u64,
}

impl Work {
    /// The work of a query with `people` real subjects a side, each with one key, and M1 and
    /// M2 of the given numbers of points: every other slot is a random point.
    pub fn of(people: u64, m1_points: u64, m2_points: u64) -> Self {
        let hashed = 2 * people;
        let reblinds = m1_points + m2_points;
        Work {
            m1_points,
            m2_points,
            hashed,
            reblinds,
            random: m1_points + m2_points - hashed,
            mults: hashed + reblinds,
            points: 2 * (m1_points + m2_points),
        }
    }
}

/// The crypto of each step at the rates measured in this run.
pub struct Model<'a> {
    work: &'a Work,
    rates: &'a Rates,
}

impl<'a> Model<'a> {
    pub fn new(work: &'a Work, rates: &'a Rates) -> Self {
        Model { work, rates }
    }

    /// The crypto of a LinkStep call, from who received it and which message it carried.
    pub fn price(&self, call: &Call) -> Option<f64> {
        if call.open {
            return None;
        }
        let (w, r) = (self.work, self.rates);
        let per_side = (w.hashed / 2) as f64;
        let own = |points: u64| per_side / r.blind + (points as f64 - per_side) / r.random;
        match (call.member.as_str(), call.received.first().map(String::as_str)) {
            // A's first step, after the hello: blind its keys, fill the rest, seal M1.
            ("police", None) => Some(own(w.m1_points)),
            ("icb", Some("M1")) => Some(w.m1_points as f64 / r.reblind + own(w.m2_points)),
            ("police", Some("M2")) => Some(w.m2_points as f64 / r.reblind),
            // B compares M3's points with its own without decoding them.
            ("icb", Some("M3")) => Some(0.0),
            _ => None,
        }
    }

    /// What the prices are made of, and the random points' share, one line each.
    pub fn notes(&self) -> Vec<String> {
        let (w, r) = (self.work, self.rates);
        let per_side = (w.hashed / 2) as f64;
        vec![
            format!(
                "crypto: M1 = {per_side:.0} blinds on {cores} cores + {} random points on all cores; \
                 M2 = {} reblinds + the same for B's side (B blinds its side from LinkOpen on, \
                 while A makes M1, so this call may find it done); M3 = {} reblinds; the table \
                 = no point decoded (M3 is only compared)",
                w.m1_points as f64 - per_side,
                w.m1_points,
                w.m2_points,
                cores = default_threads()
            ),
            format!(
                "random points alone: {} on all cores = {:.2} s per query",
                w.random,
                w.random as f64 / r.random
            ),
        ]
    }
}
