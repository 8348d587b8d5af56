//! Blinding speed (issue 5, item 1). Run with `cargo bench --bench blind`.
//!
//! In one run: (a) the machine's limit, a variable-base scalar multiplication `k·P` on one
//! core, with its neighbours hash-to-group, compress and decompress; (b) blinding 100,000 match
//! keys (`k·H(m)`: hash, multiply, compress) one at a time on one core, with `blind_all` on one
//! core (batched compression) and with `blind_all` on all cores; (c) the same for reblinding
//! (`k·P`: decompress, multiply, compress), plus checking a received batch
//! (`PackedPoints::from_bytes`, and fused with reblinding in `reblind_received`). Each figure
//! is the best of 3 runs; the ratio divides by (a), so 1 core at 1.00 would mean the
//! multiplication is all the cost.
//!
//! On the project's 2-core machine (AMD EPYC Zen 5 under KVM, 2026-11-26), best of 3, in
//! ops/s and as a multiple of (a). IFMA is the build as configured (`.cargo/config.toml` forces
//! dalek's AVX-512 IFMA backend, still chosen at run time); AVX2 is the same code without that
//! flag. Two-core figures vary by about ±10 % between runs (other builds shared the machine);
//! ranges are over two runs.
//!
//! | what | IFMA | ×(a) | AVX2 | ×(a) |
//! |---|---|---|---|---|
//! | (a) variable-base `k·P`, 1 core | 68 k | 1.00 | 31 k | 1.00 |
//! | hash_to_ristretto255, 1 core | 100 k | 1.46 | 93 k | 3.0 |
//! | compress / decompress, 1 core | 230 k / 229 k | 3.4 | 221 k / 215 k | 7.0 |
//! | double_and_compress_batch, per point | 1.8 M | 27 | 1.8 M | 59 |
//! | (b) blind, `BlindingKey::blind` one at a time, 1 core | 35 k | 0.51 | 21 k | 0.67 |
//! | (b) blind, `blind_all`, 1 core | 40 k | 0.58 | 25 k | 0.82 |
//! | (b) blind, `blind_all`, 2 cores | 71–78 k | 1.05–1.14 | 49 k | 1.57 |
//! | (c) reblind, decode + `reblind` one at a time, 1 core | 43 k | 0.62 | 26 k | 0.85 |
//! | (c) reblind, `reblind_all`, 1 core | 51 k | 0.75 | 30 k | 0.98 |
//! | (c) reblind, `reblind_all`, 2 cores | 88–99 k | 1.28–1.45 | 55 k | 1.77 |
//! | `PackedPoints::from_bytes` (check), 2 cores | 346–391 k | 5.1–5.7 | 350 k | 11.3 |
//! | `from_bytes` then `reblind_all`, 2 cores | 79–80 k | 1.15–1.17 | 50 k | 1.61 |
//! | `reblind_received` (check + reblind), 2 cores | 101 k | 1.47 | – | – |
//!
//! Reading: with IFMA a blind step costs about 25 µs on one core (multiplication 15, hash 10,
//! compression 0.5 batched instead of 4.3), so hashing, not the multiplication, is now 40 % of
//! it. Batched compression gains 14–23 %; two cores give 1.7–1.9×. County scale
//! (design-review §8: 10⁶ points for B to blind and 10⁶ for A to reblind) is about 14 s and
//! 10 s on this machine.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Instant;

use fedlink_proto::blind::dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use fedlink_proto::blind::dalek::scalar::Scalar;
use fedlink_proto::blind::{
    BatchRules, BlindedPoint, BlindingKey, PackedPoints, blind_all, blind_all_with,
    default_threads, expand_message_xmd, hash_to_ristretto255, linkage_dst, reblind_all,
    reblind_all_with, reblind_received,
};

/// Messages blinded per run, as the issue asks.
const N: usize = 100_000;
/// Distinct points and scalars cycled through by the micro-benchmarks.
const DISTINCT: usize = 4096;

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

fn row(what: &str, rate: f64, base: f64) {
    println!("{what:<66} {:>8.0} ops/s  {:>5.2}× (a)", rate, rate / base);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cores = default_threads();
    let one = NonZeroUsize::MIN;
    println!("blinding benchmark: {N} messages, {} core(s) available", cores.get());

    let dst = linkage_dst(&[0x42; 16], 1);
    let msgs: Vec<String> = (0..N).map(|i| format!("nhs:{:010}", 4_000_000_000 + i)).collect();

    // Distinct points and scalars for the micro-benchmarks (hashes, not an RNG: reproducible).
    let points: Vec<RistrettoPoint> =
        msgs[..DISTINCT].iter().map(|m| hash_to_ristretto255(m.as_bytes(), &dst)).collect();
    let scalars = msgs[..DISTINCT]
        .iter()
        .map(|m| {
            let wide: [u8; 64] =
                expand_message_xmd(m.as_bytes(), &dst, 64)?.try_into().map_err(|_| "64 bytes")?;
            Ok(Scalar::from_bytes_mod_order_wide(&wide))
        })
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    let compressed: Vec<CompressedRistretto> = points.iter().map(|p| p.compress()).collect();

    // (a) and its neighbours, one core.
    let mul = best_of_3(N, || {
        for i in 0..N {
            black_box(black_box(points[i % DISTINCT]) * black_box(scalars[i % DISTINCT]));
        }
    });
    println!("\n(a) one core");
    row("variable-base k·P", mul, mul);
    let h2c = best_of_3(N, || {
        for m in &msgs {
            black_box(hash_to_ristretto255(black_box(m.as_bytes()), &dst));
        }
    });
    row("hash_to_ristretto255 (expand_message_xmd + map)", h2c, mul);
    let compress = best_of_3(N, || {
        for i in 0..N {
            black_box(black_box(points[i % DISTINCT]).compress());
        }
    });
    row("compress", compress, mul);
    let batch_compress = best_of_3(N, || {
        for chunk in points.chunks(256).cycle().take(N / 256) {
            black_box(RistrettoPoint::double_and_compress_batch(black_box(chunk)));
        }
    }) * (N / 256 * 256) as f64
        / N as f64;
    row("double_and_compress_batch (256 per batch), per point", batch_compress, mul);
    let decompress = best_of_3(N, || {
        for i in 0..N {
            black_box(black_box(compressed[i % DISTINCT]).decompress());
        }
    });
    row("decompress", decompress, mul);

    // (b) blinding: hash + multiply + compress.
    let key = BlindingKey::generate()?;
    println!("\n(b) blind k·H(m), {N} messages");
    let single = best_of_3(N, || {
        for m in &msgs {
            black_box(key.blind(m.as_bytes(), &dst));
        }
    });
    row("one core, BlindingKey::blind one at a time", single, mul);
    let batched = best_of_3(N, || {
        black_box(blind_all_with(&key, &msgs, &dst, one));
    });
    row("one core, blind_all (batched compression)", batched, mul);
    let all = best_of_3(N, || {
        black_box(blind_all(&key, &msgs, &dst));
    });
    row(&format!("all {} cores, blind_all", cores.get()), all, mul);

    // (c) reblinding: decompress + multiply + compress, on a checked batch.
    let packed = blind_all(&key, &msgs, &dst);
    let wire = packed.as_bytes().to_vec();
    let other = BlindingKey::generate()?;
    println!("\n(c) reblind k·P, {N} points");
    let single = best_of_3(N, || {
        for p in packed.iter() {
            if let Ok(valid) = p.decode() {
                black_box(other.reblind(&valid));
            }
        }
    });
    row("one core, decode + BlindingKey::reblind one at a time", single, mul);
    let batched = best_of_3(N, || {
        black_box(reblind_all_with(&other, &packed, one));
    });
    row("one core, reblind_all (batched compression)", batched, mul);
    let all = best_of_3(N, || {
        black_box(reblind_all(&other, &packed));
    });
    row(&format!("all {} cores, reblind_all", cores.get()), all, mul);
    let rules = BatchRules::exactly(N).unique();
    let check = best_of_3(N, || {
        black_box(PackedPoints::from_bytes(wire.clone(), &rules).map(|p| p.len()).ok());
    });
    row(&format!("all {} cores, PackedPoints::from_bytes (check)", cores.get()), check, mul);
    let received = best_of_3(N, || {
        if let Ok(p) = PackedPoints::from_bytes(wire.clone(), &rules) {
            black_box(reblind_all(&other, &p));
        }
    });
    let label = format!("all {} cores, from_bytes then reblind_all (decodes twice)", cores.get());
    row(&label, received, mul);
    let fused = best_of_3(N, || {
        black_box(reblind_received(&other, &wire, &rules).map(|p| p.len()).ok());
    });
    let label =
        format!("all {} cores, reblind_received (check + reblind, decodes once)", cores.get());
    row(&label, fused, mul);

    // Keep the optimiser honest about the outputs being used.
    let first: Option<BlindedPoint> = packed.get(0);
    println!("\nfirst blinded point: {first:?}");
    Ok(())
}
