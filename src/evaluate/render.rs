//! The evaluation report as an aligned text table.

use std::fmt::Write as _;

use super::{Report, Scores};

/// The report as text: sides, the operating points side by side, subgroups, scenarios, the
/// calibration's comparisons and the time each stage took.
pub fn to_table(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.sides;
    let _ = writeln!(
        out,
        "Person linkage on a synthetic county (scale {}, seed {}): police nominals without NHS \
         numbers ({} rows, {} subjects) against ECDS ({} rows, {} subjects); {} quarantined",
        r.scale,
        r.seed,
        s.cohort_rows,
        s.cohort_subjects,
        s.partner_rows,
        s.partner_subjects,
        s.quarantined
    );
    let _ = writeln!(
        out,
        "{} correct links possible; {} true subject pairs, {} ({:.1}%) share no key",
        s.linkable,
        r.true_pairs,
        r.true_pairs_without_key,
        100.0 * r.true_pairs_without_key as f64 / (r.true_pairs.max(1)) as f64
    );
    let _ = writeln!(out, "key types ({}): {}", r.key_types.len(), r.key_types.join(" "));
    let _ = writeln!(out);
    let columns: Vec<&Scores> = [Some(&r.key_passes), Some(&r.calibrated), Some(&r.best_f1)]
        .into_iter()
        .chain([r.precision_995.as_ref()])
        .flatten()
        .collect();
    let _ = write!(out, "{:<24}", "");
    for c in &columns {
        let _ = write!(out, " {:>22}", c.name);
    }
    let _ = writeln!(out);
    let _ = write!(out, "{:<24}", "threshold (posterior)");
    for c in &columns {
        let t = c.threshold.map_or("-".to_string(), |t| format!("{t:.6}"));
        let _ = write!(out, " {t:>22}");
    }
    let _ = writeln!(out);
    let row = |out: &mut String, name: &str, get: &dyn Fn(&Scores) -> String| {
        let _ = write!(out, "{name:<24}");
        for c in &columns {
            let _ = write!(out, " {:>22}", get(c));
        }
        let _ = writeln!(out);
    };
    row(&mut out, "links (correct)", &|c| {
        format!("{} ({})", c.overall.predicted, c.overall.correct)
    });
    row(&mut out, "precision", &|c| format!("{:.4}", c.overall.precision));
    row(&mut out, "recall", &|c| format!("{:.4}", c.overall.recall));
    row(&mut out, "F1", &|c| format!("{:.4}", c.overall.f1));
    let _ = writeln!(out);
    let _ = writeln!(out, "recall (precision) by subgroup, links counted by the cohort person:");
    for name in r.key_passes.subgroups.keys() {
        row(&mut out, &format!("  {name}"), &|c| {
            c.subgroups.get(name).map_or("-".into(), |p| {
                format!("{:.3} ({:.3}) n={}", p.recall, p.precision, p.actual)
            })
        });
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "person-level recall: people on both sides with at least one correct link (n people):"
    );
    for name in r.key_passes.persons.keys() {
        row(&mut out, &format!("  {name}"), &|c| {
            c.persons.get(name).map_or("-".into(), |(linked, n)| {
                format!("{:.3} n={n}", if *n == 0 { 1.0 } else { *linked as f64 / *n as f64 })
            })
        });
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "planted scenarios: linked/possible, wrong links touching a member:");
    for (i, b) in r.key_passes.scenarios.iter().enumerate() {
        row(&mut out, &format!("  {}", b.scenario), &|c| {
            c.scenarios.get(i).map_or("-".into(), |b| {
                format!("{}/{} wrong {}", b.linked, b.linkable, b.false_links)
            })
        });
    }
    let _ = writeln!(out);
    let cal = &r.calibration;
    let _ = writeln!(
        out,
        "calibration: λ = {:.3e} over {:.3e} pairs ({} candidates), EM {} iterations{}, \
         threshold {:.6} (estimated precision {:.4})",
        cal.lambda,
        cal.all_pairs,
        cal.candidate_pairs,
        cal.iterations,
        if cal.converged { "" } else { " (not converged)" },
        cal.threshold,
        cal.estimated_precision
    );
    for comparison in &cal.comparisons {
        let _ = writeln!(out, "  {}:", comparison.family);
        for ((level, m), u) in comparison.levels.iter().zip(&comparison.m).zip(&comparison.u) {
            let _ =
                writeln!(out, "    {level:<22} m {m:.4}  u {u:.3e}  weight {:+.2}", (m / u).log2());
        }
    }
    let _ = writeln!(out);
    let times: Vec<String> =
        r.seconds.iter().map(|(stage, s)| format!("{stage} {s:.1}s")).collect();
    let total: f64 = r.seconds.values().sum();
    let _ = writeln!(out, "time: {} (total {total:.1}s)", times.join(", "));
    out
}
