//! Aggregate speed (issue 4: an aggregate over 1 M rows grouped by area × month answers in well
//! under a second). Run with `cargo bench --bench aggregate`.
//!
//! Imports the first 1,000,000 ECDS rows of the scale-1.0 synthetic county (cached under
//! `target/bench-data/`), then times the raw query (compile + SQLite) for attendances by LSOA ×
//! month, by financial year with a filter, and by LSOA × month with a per-subject bound.

mod common;

use std::time::Instant;

use fedlink_node::aggregate::compile::compile;
use fedlink_node::aggregate::run::execute;
use fedlink_node::dataset::import::import_csv;
use fedlink_node::dataset::store::DatasetStore;
use fedlink_proto::aggregate::{AggregateQuery, Filter, GroupBy, Metric, TimeBucket};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (extract, schema) = common::ecds_1m()?;
    let dir = tempfile::tempdir()?;
    let mut store = DatasetStore::open(&dir.path().join("datasets.db"))?;
    let imported = import_csv(&mut store, &schema, &extract, || 0, &|_| {})?;
    println!("imported {} rows", imported.counts.inserted);

    let area_month = AggregateQuery {
        dataset: schema.name.clone(),
        filters: vec![],
        group_by: vec![
            GroupBy::Column("Der_Postcode_LSOA_Code".into()),
            GroupBy::Time(TimeBucket::Month),
        ],
        metric: Metric::Rows,
        max_rows_per_subject: None,
    };
    let mut assault_by_year = area_month.clone();
    assault_by_year.group_by = vec![GroupBy::Time(TimeBucket::FinancialYear)];
    assault_by_year.filters = vec![Filter::Equals {
        column: "EC_Injury_Intent_SNOMED_CT".into(),
        value: "1240651000000109".into(),
    }];
    let mut bounded = area_month.clone();
    bounded.max_rows_per_subject = Some(3);

    for (name, query) in [
        ("LSOA x month, all rows", &area_month),
        ("assault by financial year", &assault_by_year),
        ("LSOA x month, <= 3 rows per subject", &bounded),
    ] {
        let mut best = f64::MAX;
        let mut cells = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let compiled = compile(&schema, query, false)?;
            let table = execute(store.connection(), &compiled)?;
            best = best.min(started.elapsed().as_secs_f64());
            cells = table.len();
        }
        println!("{name}: {cells} cells in {:.0} ms (best of 3)", best * 1000.0);
    }
    Ok(())
}
