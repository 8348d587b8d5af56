//! A side's rows read from a real dataset store: identifiers survive the import and the read
//! back exactly (so do their match keys), filters and label columns are checked as aggregates
//! check them, and a hostile filter value is bound, never spliced.

use fedlink_node::aggregate::compile::CompileError;
use fedlink_node::dataset::import::import_csv;
use fedlink_node::dataset::row::subject_key;
use fedlink_node::dataset::store::DatasetStore;
use fedlink_node::linkage::{
    Labelling, SourceError, SourceRow, cohort_subjects, partner_subjects, read_rows,
};
use fedlink_node::matchkey::derive_keys;
use fedlink_proto::aggregate::Filter;

use super::*;

const SCHEMA: &str = r#"
name = "police"
description = "test"
subject = "person"
[[column]]
name = "id"
role = "record_id"
[[column]]
name = "nhs"
role = "nhs_number"
[[column]]
name = "nhs_status"
role = "nhs_number_status"
[[column]]
name = "first"
role = "forenames"
[[column]]
name = "last"
role = "surname"
[[column]]
name = "alias"
role = "alias"
[[column]]
name = "alias2"
role = "alias"
[[column]]
name = "dob"
role = "dob"
[[column]]
name = "sex"
role = "sex"
[[column]]
name = "pcd"
role = "postcode"
[[column]]
name = "uprn"
role = "uprn"
[[column]]
name = "puprn"
role = "parent_uprn"
[[column]]
name = "addr"
role = "address_text"
[[column]]
name = "when"
role = "event_date"
[[column]]
name = "role"
role = "subject_role"
codes = ["victim", "suspect"]
[[column]]
name = "offence"
role = "category"
[[column]]
name = "age"
role = "numeric"
min = 0
max = 120
"#;

/// Awkward identifiers on purpose: two-word surnames in aliases (one hyphenated, one in the
/// "SURNAME, FORENAMES" form), a particle surname, Mc/Mac, titles and suffixes, accents,
/// placeholders and sentinels (set aside at import), a sentinel event date, no event date.
const ROWS: &str = "\
id,nhs,nhs_status,first,last,alias,alias2,dob,sex,pcd,uprn,puprn,addr,when,role,offence,age
R1,943 476 5919,01,Mary-Jane,O'Neill-Smith,\"Mary Smith-Jones; Jones, Mary Ann\",Ana De Souza,02/01/1980,2,ch1 2ab,100012345678,100012345600,\"Flat 3, 14 Park Road\",2025-03-04,victim,assault,45
R2,,,Sean,Mc Donald,John Mac Donald,,1900-01-01,M,ZZ99 3VZ,,,12a High St,2025-01-01,suspect,theft,30
R3,401 023 2137,03,Dr Ann,Lee Jr,,,1975-12-31,9,EC1A 1BB,123,,,,victim,assault,50
R4,9434765919,02,Mary Jane,O'Neill Smith,,,1980-01-02,F,CH1 2AB,,,,2025-02-01,victim,assault,45
R5,,,Zoë,Brontë,,,31/12/1999,U,,,,,1900-01-01,,burglary,20
R6,,,UNKNOWN,Doe,,,,X,,,,,2024-12-31,suspect,theft,
";

fn store() -> (tempfile::TempDir, DatasetStore, DatasetSchema) {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("police.csv");
    std::fs::write(&csv, ROWS).expect("write");
    let schema = DatasetSchema::from_toml(SCHEMA).expect("schema");
    let mut store = DatasetStore::open(&dir.path().join("datasets.db")).expect("store");
    let summary = import_csv(&mut store, &schema, &csv, || 0, &|_| {}).expect("import");
    assert_eq!((summary.counts.inserted, summary.counts.quarantined), (6, 0));
    (dir, store, schema)
}

/// What the importer made of each record: `normalise_record` on the same CSV.
fn normalised(schema: &DatasetSchema) -> BTreeMap<String, NormalisedRow> {
    let mut reader = csv::ReaderBuilder::new().from_reader(ROWS.as_bytes());
    let header: Vec<String> =
        reader.headers().expect("header").iter().map(str::to_string).collect();
    let plan = ImportPlan::new(schema, &header).expect("plan");
    reader
        .byte_records()
        .map(|record| {
            let row = normalise_record(&plan, &record.expect("a record")).expect("accepted");
            (row.record_id.clone(), row)
        })
        .collect()
}

fn ids_of(rows: &[SourceRow]) -> Vec<&str> {
    rows.iter().map(|r| r.record_id.as_str()).collect()
}

#[test]
fn identifiers_and_keys_survive_the_store() {
    let (_dir, store, schema) = store();
    let expected = normalised(&schema);
    let rows = read_rows(store.connection(), &schema, &[], None).expect("rows");
    assert_eq!(rows.len(), expected.len());
    for row in &rows {
        let want = &expected[&row.record_id];
        assert_eq!(row.ids, want.ids, "{}", row.record_id);
        assert_eq!(derive_keys(&row.ids), derive_keys(&want.ids), "{}", row.record_id);
        assert_eq!(row.event_date, want.event_date, "{}", row.record_id);
        assert_eq!(row.subject, subject_key(&want.ids, &row.record_id), "{}", row.record_id);
        assert_eq!(row.label_value, None);
    }
    // The case a space-separated alias column would lose: two-word surnames.
    let r1 = &expected["R1"].ids;
    let aliases: Vec<(String, String)> =
        r1.aliases.iter().map(|(f, s)| (f.to_string(), s.to_string())).collect();
    assert_eq!(
        aliases,
        [
            ("MARY".into(), "SMITH JONES".into()),
            ("MARY ANN".into(), "JONES".into()),
            ("ANA".into(), "DE SOUZA".into())
        ]
    );
    // Set aside at import, so missing after the read too.
    let r2 = &rows.iter().find(|r| r.record_id == "R2").expect("R2").ids;
    assert_eq!((r2.dob, r2.postcode), (None, None));
    assert_eq!(format!("{:?}", rows[0]), "SourceRow(<redacted>)");
}

#[test]
fn rows_come_by_subject_then_date_then_record() {
    let (_dir, store, schema) = store();
    let rows = read_rows(store.connection(), &schema, &[], None).expect("rows");
    let key =
        |r: &SourceRow| (r.subject, r.event_date.is_none(), r.event_date, r.record_id.clone());
    let keys: Vec<_> = rows.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // R1 and R4 share an NHS number: one subject, the earlier event first.
    let r4 = rows.iter().position(|r| r.record_id == "R4").expect("R4");
    assert_eq!(rows[r4 + 1].record_id, "R1");
    assert_eq!(rows[r4].subject, rows[r4 + 1].subject);
}

#[test]
fn filters_are_the_aggregate_filters() {
    let (_dir, store, schema) = store();
    let conn = store.connection();
    let assault = Filter::Equals { column: "offence".into(), value: "assault".into() };
    let rows = read_rows(conn, &schema, &[assault], Some("role")).expect("rows");
    let mut got = ids_of(&rows);
    got.sort();
    assert_eq!(got, ["R1", "R3", "R4"]);
    assert!(rows.iter().all(|r| r.label_value.as_deref() == Some("victim")));
    let range = Filter::NumberRange { column: "age".into(), min: 40.0, max: 60.0 };
    let set = Filter::In { column: "role".into(), values: vec!["victim".into()] };
    let rows = read_rows(conn, &schema, &[range, set], Some("offence")).expect("rows");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.label_value.as_deref() == Some("assault")));
}

#[test]
fn a_hostile_filter_value_is_bound_not_spliced() {
    let (_dir, store, schema) = store();
    let conn = store.connection();
    assert_eq!(read_rows(conn, &schema, &[], None).expect("rows").len(), 6);
    for hostile in ["x' OR 1=1 --", "assault' OR '1'='1", "'); DROP TABLE ds_police; --"] {
        let equals = Filter::Equals { column: "offence".into(), value: hostile.into() };
        assert!(read_rows(conn, &schema, &[equals], None).expect("runs").is_empty(), "{hostile}");
        let set = Filter::In { column: "role".into(), values: vec![hostile.into()] };
        assert!(read_rows(conn, &schema, &[set], None).expect("runs").is_empty(), "{hostile}");
    }
    assert_eq!(read_rows(conn, &schema, &[], None).expect("rows").len(), 6);
}

#[test]
fn unknown_and_identifier_columns_are_refused() {
    let (_dir, store, schema) = store();
    let conn = store.connection();
    let on = |column: &str| Filter::Equals { column: column.into(), value: "x".into() };
    for column in ["nope", "nhs_number", "offence; --"] {
        assert!(
            matches!(
                read_rows(conn, &schema, &[on(column)], None),
                Err(SourceError::Filter(CompileError::UnknownColumn { .. }))
            ),
            "{column}"
        );
    }
    for column in ["nhs", "first", "dob", "pcd", "id"] {
        assert!(
            matches!(
                read_rows(conn, &schema, &[on(column)], None),
                Err(SourceError::Filter(CompileError::Identifier(c))) if c == column
            ),
            "{column}"
        );
    }
}

#[test]
fn a_label_column_must_be_one_aggregates_group_on() {
    let (_dir, store, schema) = store();
    let conn = store.connection();
    for column in ["nhs", "age", "nope", "alias"] {
        let err = read_rows(conn, &schema, &[], Some(column)).expect_err(column);
        assert!(
            matches!(&err, SourceError::LabelColumn { column: c, .. } if c == column),
            "{column}: {err}"
        );
        assert!(err.to_string().contains(column), "{err}");
    }
    let rows = read_rows(conn, &schema, &[], Some("sex")).expect("sex may label");
    assert!(rows.iter().all(|r| r.label_value.is_some()));
}

#[test]
fn stored_rows_become_subjects() {
    let (_dir, store, schema) = store();
    let victims = Filter::Equals { column: "role".into(), value: "victim".into() };
    let rows = read_rows(store.connection(), &schema, &[victims], Some("offence")).expect("rows");
    let selection = KeySelection::new([KeyType::Nhs]).expect("selection");
    let policy = LabelPolicy::new([label("assault"), label("all")], 1).expect("policy");
    let window = WindowTemplate::new("1m", Granularity::Month, 1, false).expect("window");
    let cohort =
        cohort_subjects(&rows, &selection, Some(&window), Labelling::Column, &policy).expect("ok");
    // R1 and R4 are one subject (January and February windows); R3 has no event date.
    assert_eq!((cohort.subjects.len(), cohort.rows, cohort.skipped_undated), (1, 2, 1));
    let slots: Vec<String> = cohort.subjects[0]
        .messages
        .iter()
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .collect();
    assert!(slots.iter().any(|s| s.ends_with("month:2025-01")), "{slots:?}");
    assert!(slots.iter().any(|s| s.ends_with("month:2025-02")), "{slots:?}");
    assert_eq!(slots.len(), 2);
    let partner = partner_subjects(&rows, &selection, None, Labelling::All, &policy).expect("ok");
    // R3's NHS status 03 means its number is not a key, but it is still a subject.
    assert_eq!(partner.subjects.len(), 2);
    assert_eq!(partner.subjects.iter().map(|s| s.messages.len()).sum::<usize>(), 1);
}
