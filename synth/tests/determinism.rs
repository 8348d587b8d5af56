//! Determinism: byte-identical output for a seed and scale, whatever the thread count.

use std::collections::BTreeMap;
use std::path::Path;

use fedlink_synth::{SynthConfig, SynthError, generate};

/// Every file's bytes under `dir`, by relative path; `summary.toml` without its timing line.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).expect("prefix").to_string_lossy().to_string();
            let mut bytes = std::fs::read(&p).expect("read");
            if rel == "summary.toml" {
                let text = String::from_utf8(bytes).expect("utf8");
                bytes = text
                    .lines()
                    .filter(|l| !l.starts_with("generation_seconds"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes();
            }
            out.insert(rel, bytes);
        }
    }
    out
}

fn run(scale: f64, seed: u64, threads: usize) -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("county");
    let mut config = SynthConfig::new(scale, seed);
    config.threads = threads;
    generate(&config, &out, &mut |_| {}).expect("generate");
    let snap = snapshot(&out);
    (dir, snap)
}

#[test]
fn same_seed_and_scale_give_the_same_bytes_whatever_the_thread_count() {
    let (_a, one) = run(0.005, 3, 1);
    let (_b, two) = run(0.005, 3, 2);
    assert_eq!(one.keys().collect::<Vec<_>>(), two.keys().collect::<Vec<_>>());
    for (path, bytes) in &one {
        assert!(bytes == &two[path], "{path} differs between runs");
    }
    // Every member folder, its fragment and the truth bundle are there.
    for f in [
        "police/node-datasets.toml",
        "icb/data/ecds.csv",
        "council-east/data/llpg.csv",
        "council-west/datasets/cin_referrals.toml",
        "truth/record_map.csv",
        "truth/README.md",
        "public/geography.csv",
        "public/ward_population.csv",
        "public/README.md",
        "summary.toml",
    ] {
        assert!(one.contains_key(f), "missing {f}");
    }
}

#[test]
fn another_seed_gives_another_county() {
    let (_a, one) = run(0.005, 3, 2);
    let (_b, other) = run(0.005, 4, 2);
    assert_ne!(one["icb/data/ecds.csv"], other["icb/data/ecds.csv"]);
}

#[test]
fn refuses_a_bad_scale_and_a_folder_in_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = generate(&SynthConfig::new(0.0, 1), &dir.path().join("x"), &mut |_| {});
    assert!(matches!(err, Err(SynthError::Config(_))));
    std::fs::write(dir.path().join("something"), "x").expect("write");
    let err = generate(&SynthConfig::new(0.001, 1), dir.path(), &mut |_| {});
    assert!(matches!(err, Err(SynthError::OutputNotEmpty(_))), "{err:?}");
}
