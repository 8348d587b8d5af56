//! Issue 6 item 3 at a small scale (the full-scale figures come from `fedlink linkage
//! evaluate`): police nominals without NHS numbers against ECDS, calibrated without labels,
//! must reach F1 ≥ 0.96 at the best operating point and recall ≥ 0.85 at precision 0.995, no
//! subgroup's recall more than 5 points below the overall at the best point (groups of at
//! least 100 possible links), and no planted decoy may be linked wrongly.

use fedlink::evaluate::{EvaluateConfig, evaluate};

#[test]
fn accuracy_thresholds_and_decoys_on_a_small_county() {
    let report = evaluate(&EvaluateConfig::new(0.01, 20_261_127), &mut |_| {}).unwrap();
    println!("{}", fedlink::evaluate::to_table(&report));
    let best = &report.best_f1.overall;
    assert!(best.f1 >= 0.96, "best F1 {}", best.f1);
    let p995 = report.precision_995.as_ref().expect("a precision-0.995 operating point");
    assert!(p995.overall.precision >= 0.995 && p995.overall.recall >= 0.85, "{:?}", p995.overall);
    for (group, point) in &report.best_f1.subgroups {
        if point.actual >= 100 {
            assert!(point.recall >= best.recall - 0.05, "{group}: recall {}", point.recall);
        }
    }
    for scores in [&report.key_passes, &report.calibrated, &report.best_f1, p995] {
        for s in scores.scenarios.iter().filter(|s| s.kind.starts_with("decoy")) {
            assert_eq!(s.false_links, 0, "{}: {} links a decoy wrongly", scores.name, s.scenario);
        }
    }
}
