use super::*;

const QUERY_ID: [u8; 16] = [
    0x01, 0x90, 0xc2, 0xa4, 0x7b, 0x1e, 0x7c, 0xc0, 0x8a, 0x53, 0x2d, 0x1f, 0x0e, 0x9b, 0x6a, 0x11,
];

/// An aggregate disclosure by DC 4821 of force DEMO-POLICE, charged to dataset `ed`.
fn disclosure() -> pb::AuditEntry {
    pb::AuditEntry {
        origin: "fedlink.audit/demo/icb".into(),
        index: 7,
        time_ms: 1_764_215_112_345, // 2025-11-27T03:45:12.345Z
        event_type: pb::EventType::Disclosure as i32,
        decision: pb::Decision::Allowed as i32,
        rule: "dp+supp<=7;round5".into(),
        reason: "aggregate answer released".into(),
        actor: Some(pb::Actor {
            member: "coordinator".into(),
            cert_fingerprint: "ab".repeat(32),
            auth_method: "mtls+ed25519".into(),
            requester: Some(pb::Requester {
                officer_id: "4821".into(),
                role: "analyst".into(),
                organisation: "DEMO-POLICE".into(),
            }),
        }),
        query: Some(pb::QueryRecord {
            query_id: QUERY_ID.to_vec(),
            mode: pb::Mode::Aggregate as i32,
            role: pb::NodeRole::Responder as i32,
            audience: "icb".into(),
            purpose: "SVD-SNA".into(),
            lawful_basis: Some(pb::LawfulBasis {
                regime: "DPA-Part3".into(),
                article: "DPA s35(2)(b)".into(),
                gateway: "CDA s115".into(),
            }),
            ..Default::default()
        }),
        output: Some(pb::OutputRecord {
            output_class: "AGGREGATE_DP".into(),
            result_hash: vec![0xcd; 32],
            records_released: 12,
            ..Default::default()
        }),
        recipients: vec!["coordinator".into()],
        request_index: Some(6),
        budget: Some(pb::BudgetCharge {
            coordinator: "coordinator".into(),
            requester: "4821@DEMO-POLICE".into(),
            dataset: "ed".into(),
            period: "2025/26".into(),
            epsilon_micro: 250_000,
        }),
        ..Default::default()
    }
}

/// An import by operator `tester`: a COLLECTION entry naming its dataset in its reason.
fn import() -> pb::AuditEntry {
    pb::AuditEntry {
        index: 0,
        time_ms: 1_764_201_600_000, // 2025-11-27T00:00:00Z
        event_type: pb::EventType::Collection as i32,
        decision: pb::Decision::Allowed as i32,
        reason: "imported /data/ed.csv into dataset ed".into(),
        actor: Some(pb::Actor {
            requester: Some(pb::Requester {
                officer_id: "tester".into(),
                organisation: "ICB".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn selects(filter: &EntryFilter) -> [bool; 2] {
    [filter.matches(&disclosure()), filter.matches(&import())]
}

#[test]
fn each_criterion_selects_what_its_documentation_says() {
    let f = |edit: fn(&mut EntryFilter)| {
        let mut filter = EntryFilter::default();
        edit(&mut filter);
        selects(&filter)
    };
    assert_eq!(f(|_| {}), [true, true]);
    // Time bounds are inclusive, to the millisecond.
    assert_eq!(f(|x| x.since_ms = Some(1_764_215_112_345)), [true, false]);
    assert_eq!(f(|x| x.since_ms = Some(1_764_215_112_346)), [false, false]);
    assert_eq!(f(|x| x.until_ms = Some(1_764_201_600_000)), [false, true]);
    // Requester: officer id alone, or officer@organisation (of the actor or the budget).
    assert_eq!(f(|x| x.requester = Some("4821".into())), [true, false]);
    assert_eq!(f(|x| x.requester = Some("4821@demo-police".into())), [true, false]);
    assert_eq!(f(|x| x.requester = Some("4821@ICB".into())), [false, false]);
    assert_eq!(f(|x| x.requester = Some("tester".into())), [false, true]);
    assert_eq!(f(|x| x.requester = Some("482".into())), [false, false]);
    assert_eq!(f(|x| x.organisation = Some("ICB".into())), [false, true]);
    assert_eq!(f(|x| x.purpose = Some("svd-sna".into())), [true, false]);
    // Lawful basis: a substring of regime, article or gateway.
    assert_eq!(f(|x| x.lawful_basis = Some("cda s115".into())), [true, false]);
    assert_eq!(f(|x| x.lawful_basis = Some("Part3".into())), [true, false]);
    assert_eq!(f(|x| x.lawful_basis = Some("s35(2)".into())), [true, false]);
    assert_eq!(f(|x| x.lawful_basis = Some("UK-GDPR".into())), [false, false]);
    // Kind: a mode (of the entry's query) or an event type.
    assert_eq!(f(|x| x.kind = Some(EntryKind::Mode(pb::Mode::Aggregate))), [true, false]);
    assert_eq!(f(|x| x.kind = Some(EntryKind::Mode(pb::Mode::Describe))), [false, false]);
    assert_eq!(f(|x| x.kind = Some(EntryKind::Event(pb::EventType::Collection))), [false, true]);
    assert_eq!(f(|x| x.decision = Some(pb::Decision::Allowed)), [true, true]);
    assert_eq!(f(|x| x.decision = Some(pb::Decision::Denied)), [false, false]);
    assert_eq!(f(|x| x.query_id = Some(QUERY_ID)), [true, false]);
    assert_eq!(f(|x| x.query_id = Some([0; 16])), [false, false]);
    // Dataset: the budget charge's, or a reason's `dataset NAME`, never a longer name.
    assert_eq!(f(|x| x.dataset = Some("ed".into())), [true, true]);
    assert_eq!(f(|x| x.dataset = Some("e".into())), [false, false]);
    // Every criterion must hold.
    assert_eq!(
        f(|x| {
            x.dataset = Some("ed".into());
            x.kind = Some(EntryKind::Event(pb::EventType::Collection));
        }),
        [false, true]
    );
}

#[test]
fn a_dataset_is_matched_as_a_whole_name_in_a_reason() {
    let reason = |text: &str| pb::AuditEntry { reason: text.into(), ..Default::default() };
    let named = |text: &str, name: &str| {
        EntryFilter { dataset: Some(name.into()), ..Default::default() }.matches(&reason(text))
    };
    assert!(named("this node holds no dataset \"ecds\"", "ecds"));
    assert!(named("import of x.csv into dataset ecds started", "ecds"));
    assert!(named("imported into dataset ecds.", "ecds"));
    assert!(!named("imported into dataset ecds_2024", "ecds"));
    assert!(!named("imported into dataset ecds.v2", "ecds"));
    assert!(!named("this node holds no dataset \"ecds2\"", "ecds"));
    assert!(!named("ecds", "ecds"));
}

#[test]
fn kinds_decisions_and_query_ids_parse_from_their_names() {
    assert_eq!("linked-count".parse(), Ok(EntryKind::Mode(pb::Mode::LinkedCount)));
    assert_eq!("flag_back".parse(), Ok(EntryKind::Mode(pb::Mode::FlagBack)));
    assert_eq!("LOG-EXPORT".parse(), Ok(EntryKind::Event(pb::EventType::LogExport)));
    assert_eq!("query-issued".parse(), Ok(EntryKind::Event(pb::EventType::QueryIssued)));
    let unknown = "nonsense".parse::<EntryKind>().expect_err("not a kind");
    assert!(unknown.expected.contains(&"calibrate".to_string()), "{unknown}");
    assert!(unknown.expected.contains(&"disclosure".to_string()), "{unknown}");
    assert!(!unknown.expected.contains(&"unspecified".to_string()), "{unknown}");
    for kind in EntryKind::names() {
        assert_eq!(kind.parse::<EntryKind>().map(EntryKind::name), Ok(kind));
    }
    assert_eq!(parse_decision("Denied"), Ok(pb::Decision::Denied));
    assert!(parse_decision("maybe").is_err());
    assert_eq!(parse_query_id("0190c2a4-7b1e-7cc0-8a53-2d1f0e9b6a11"), Ok(QUERY_ID));
    assert_eq!(parse_query_id("0190c2a47b1e7cc08a532d1f0e9b6a11"), Ok(QUERY_ID));
    assert!(parse_query_id("42").is_err());
}

#[test]
fn the_view_decodes_every_field_under_its_documented_name() {
    let entry = disclosure();
    let bytes = crate::audit::entry::encode_entry(&entry);
    let view = EntryView::from_bytes(&bytes).expect("decodes");
    let json = serde_json::to_value(&view).expect("json");
    assert_eq!(json["time"], "2025-11-27T03:45:12.345Z");
    assert_eq!(json["event"], "disclosure");
    assert_eq!(json["decision"], "allowed");
    assert_eq!(json["actor"]["requester"]["officer_id"], "4821");
    assert_eq!(json["query"]["query_id"], "0190c2a4-7b1e-7cc0-8a53-2d1f0e9b6a11");
    assert_eq!(json["query"]["mode"], "aggregate");
    assert_eq!(json["query"]["role"], "responder");
    assert_eq!(json["query"]["lawful_basis"]["gateway"], "CDA s115");
    assert_eq!(json["output"]["result_hash"], "cd".repeat(32));
    assert_eq!(json["budget"]["epsilon"], "0.25");
    assert_eq!(json["request_index"], 6);
    assert_eq!(json["leaf_hash"], leaf_hash(&bytes).to_hex());
    assert_eq!(json["payload_commitment"], "");
    // serde_json's map is sorted; the struct's order is what `to_writer` writes.
    let keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
    let mut documented = [
        "index",
        "origin",
        "time_ms",
        "time",
        "event",
        "decision",
        "rule",
        "reason",
        "actor",
        "query",
        "output",
        "recipients",
        "request_index",
        "detail",
        "budget",
        "relay_digests",
        "payload_commitment",
        "subject_count",
        "leaf_hash",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented);
    let written = serde_json::to_string(&view).expect("json");
    assert!(written.starts_with("{\"index\":7,\"origin\":"), "{written}");
    // An entry with no query or actor has nulls there, and unknown enum values are named.
    let bare = pb::AuditEntry { event_type: 99, ..Default::default() };
    let json = serde_json::to_value(EntryView::new(&bare, &leaf_hash(b""))).expect("json");
    assert_eq!(json["query"], serde_json::Value::Null);
    assert_eq!(json["event"], "unknown(99)");
    assert_eq!(json["decision"], "unspecified");
}

#[test]
fn the_summary_row_has_the_table_columns() {
    let view = EntryView::new(&disclosure(), &leaf_hash(b""));
    let row = view.summary();
    let cell = |name: &str| {
        let at = SUMMARY_COLUMNS.iter().position(|c| *c == name).expect("column");
        row[at].as_str()
    };
    assert_eq!(cell("index"), "7");
    assert_eq!(cell("requester"), "4821@DEMO-POLICE");
    assert_eq!(cell("mode"), "aggregate");
    assert_eq!(cell("to"), "coordinator");
    assert_eq!(cell("output_class"), "AGGREGATE_DP");
    assert_eq!(cell("records_released"), "12");
    let unspecified =
        pb::AuditEntry { query: Some(pb::QueryRecord::default()), ..Default::default() };
    let row = EntryView::new(&unspecified, &leaf_hash(b"")).summary();
    assert_eq!(row[7], "", "an unspecified mode shows as empty, not as `unspecified`");
}

#[test]
fn a_filter_describes_itself_for_the_log_export_entry() {
    assert_eq!(EntryFilter::default().describe(), "(none)");
    let filter = EntryFilter {
        since_ms: Some(1_764_201_600_000),
        kind: Some(EntryKind::Mode(pb::Mode::FlagBack)),
        decision: Some(pb::Decision::Denied),
        query_id: Some(QUERY_ID),
        ..Default::default()
    };
    assert_eq!(
        filter.describe(),
        "--since \"2025-11-27T00:00:00.000Z\" --kind \"flag-back\" --decision \"denied\" \
         --query-id \"0190c2a4-7b1e-7cc0-8a53-2d1f0e9b6a11\""
    );
}
