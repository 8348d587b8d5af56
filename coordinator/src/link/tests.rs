//! A linked query end to end inside the coordinator: the envelopes it builds for each
//! participant, and a whole run against in-memory nodes that keep real audit logs, so every
//! receipt is verified exactly as a real node's would be.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{MockClock, UnixMillis};
use fedlink_proto::envelope::{Envelope, LawfulBasis, Mode, Requester, SignedEnvelope};
use fedlink_proto::federation::{Federation, log_origin};
use fedlink_proto::identity::{IdentityKey, PublicKey};
use fedlink_proto::link::LinkRequest;
use fedlink_proto::pb::link_outcome::Result as WireResult;
use fedlink_proto::pb::released_count::Value;
use fedlink_proto::refusal::{RECEIPT_HEADER, REFUSAL_HEADER};
use futures::executor::block_on;
use prost::Message as _;
use tonic::Status;

use super::*;
use crate::config::{CoordinatorSettings, QueryDefaults};
use crate::table::Released;
use crate::table::render::Format;

const NODES: [&str; 3] = ["police", "icb", "council"];

/// A coordinator and three nodes' keys and logs, in a temporary folder.
struct Fixture {
    _tmp: tempfile::TempDir,
    coordinator: Coordinator,
    coordinator_key: PublicKey,
    node_keys: BTreeMap<String, IdentityKey>,
    clock: MockClock,
    dir: std::path::PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let coordinator_key = IdentityKey::generate().expect("key");
        let node_keys: BTreeMap<String, IdentityKey> =
            NODES.iter().map(|n| (n.to_string(), IdentityKey::generate().expect("key"))).collect();
        let member = |name: &str, role: &str, key: PublicKey| {
            format!(
                "[[member]]\nname = \"{name}\"\nrole = \"{role}\"\norganisation = \"{name}\"\n\
                 endpoint = \"https://127.0.0.1:1\"\ncert_sha256 = \"{}\"\npublic_key = \"{}\"\n",
                "ab".repeat(32),
                key.to_base64()
            )
        };
        let mut text = format!(
            "name = \"demo\"\n{}",
            member("analyst", "coordinator", coordinator_key.public_key())
        );
        for (name, key) in &node_keys {
            text.push_str(&member(name, "node", key.public_key()));
        }
        let authoriser_key = IdentityKey::generate().expect("authoriser key");
        text.push_str(&format!(
            "[[authoriser]]\nid = \"DI-1\"\nrole = \"Detective Inspector\"\n\
             organisation = \"DC\"\npublic_key = \"{}\"\n",
            authoriser_key.public_key().to_base64()
        ));
        let federation = Federation::from_toml(&text).expect("federation");
        let settings = CoordinatorSettings {
            authoriser: Some(crate::config::AuthoriserKey {
                id: "DI-1".into(),
                role: "Detective Inspector".into(),
                key: authoriser_key,
            }),
            witnesses: Vec::new(),
            me: federation.member("analyst").expect("analyst").clone(),
            federation,
            data_dir: tmp.path().join("coordinator"),
            identity: coordinator_key.try_clone().expect("clone"),
            ca_pem: String::new(),
            cert_pem: String::new(),
            key_pem: String::new(),
            requester: Requester {
                officer_id: "A123".into(),
                role: "analyst".into(),
                organisation: "DC".into(),
            },
            query: QueryDefaults {
                purpose: "HMICFRS-R2-DEATH-ANALYSIS".into(),
                lawful_basis: LawfulBasis {
                    regime: "DPA-Part3".into(),
                    article: "DPA s35".into(),
                    gateway: "CDA s115".into(),
                },
                dsa_ref: "DSA-1@1".into(),
                justification: "test".into(),
                envelope_lifetime_s: 120,
            },
        };
        let clock = MockClock::new(UnixMillis(1_780_000_000_000));
        let coordinator =
            Coordinator::open_with_clock(settings, Arc::new(clock.clone())).expect("coordinator");
        let dir = tmp.path().to_path_buf();
        Self {
            _tmp: tmp,
            coordinator,
            coordinator_key: coordinator_key.public_key(),
            node_keys,
            clock,
            dir,
        }
    }

    /// A node's audit log, as the node keeps it.
    fn log(&self, member: &str) -> AuditLog {
        let key = self.node_keys[member].try_clone().expect("clone");
        let path = self.dir.join(format!("{member}.db"));
        AuditLog::open(&path, &log_origin("demo", member), key, Arc::new(self.clock.clone()))
            .expect("node log")
    }

    fn nodes(&self, script: Script) -> Nodes {
        let logs = NODES.iter().map(|n| (n.to_string(), self.log(n))).collect();
        Nodes { coordinator_key: self.coordinator_key, logs, envelopes: BTreeMap::new(), script }
    }
}

fn query(text: &str) -> LinkQuery {
    LinkQuery::from_toml(text, Path::new("q.toml"), None).expect("query")
}

const COUNT: &str = r#"
kind = "count"
unit = "person"
key_types = ["nhs", "name_dob"]
window = "12m-before"
[[side]]
member = "police"
dataset = "death_reports"
role = "cohort"
filter = ["category=homicide"]
[[side]]
member = "icb"
dataset = "ecds"
"#;

fn overlap() -> LinkQuery {
    query(
        "kind = \"overlap\"\nunit = \"person\"\nkey_types = [\"nhs\"]\ncomputing = \"police\"\n\
         [[side]]\nmember = \"police\"\ndataset = \"crimes\"\n\
         [[side]]\nmember = \"icb\"\ndataset = \"ecds\"\n\
         [[side]]\nmember = \"council\"\ndataset = \"referrals\"\n",
    )
}

#[test]
fn every_participant_gets_its_own_envelope_of_one_shared_query() {
    let f = Fixture::new();
    for (q, case_ref) in [
        (query(COUNT), None),
        (
            query(&format!("case_ref = \"OP-1\"\n{}", COUNT.replace("\"count\"", "\"flag_back\""))),
            Some("OP-1"),
        ),
        (overlap(), None),
    ] {
        let overrides =
            QueryOverrides { case_ref: case_ref.map(str::to_string), ..Default::default() };
        let envelopes =
            f.coordinator.envelopes_for_link(&q.request, &q.schedule, &overrides).expect("built");
        let audiences: Vec<(&str, NodeRole)> =
            envelopes.iter().map(|e| (e.audience.as_str(), e.role)).collect();
        let schedule: Vec<(&str, NodeRole)> =
            q.schedule.iter().map(|(m, r)| (m.as_str(), *r)).collect();
        assert_eq!(audiences, schedule, "one envelope per participant, in schedule order");
        let first = &envelopes[0];
        for e in &envelopes {
            assert_eq!(e.shared_digest(), first.shared_digest(), "{} differs", e.audience);
            assert_eq!((e.query_id, e.session_id), (first.query_id, first.session_id));
            assert_eq!(e.mode, q.request.kind.mode());
            assert_eq!(e.case_ref.as_deref(), case_ref);
            assert_eq!(e.body, fedlink_proto::envelope::QueryBody::Link(q.request.clone()));
            let listed: Vec<(&str, NodeRole)> =
                e.participants.iter().map(|p| (p.member.as_str(), p.role)).collect();
            assert_eq!(listed, schedule, "participants in schedule order, computing last");
            assert_eq!(listed.last().map(|p| p.1), Some(NodeRole::Computing));
        }
        assert_ne!(first.hash(), envelopes[1].hash(), "audience and role are signed per node");
    }
    // Overlap: the computing node moves to the end, the others blind.
    let roles: Vec<(String, NodeRole)> = overlap().schedule;
    assert_eq!(
        roles,
        [
            ("icb".to_string(), NodeRole::Blinder),
            ("council".to_string(), NodeRole::Blinder),
            ("police".to_string(), NodeRole::Computing)
        ]
    );
}

#[test]
fn a_schedule_that_does_not_fit_the_query_is_refused_before_anything_is_logged() {
    let f = Fixture::new();
    let q = query(COUNT);
    let role = |m: &str, r: NodeRole| (m.to_string(), r);
    let bad: Vec<(Vec<(String, NodeRole)>, &str)> = vec![
        (vec![role("icb", NodeRole::Computing), role("police", NodeRole::Cohort)], "scheduled"),
        (
            vec![role("police", NodeRole::Cohort), role("analyst", NodeRole::Computing)],
            "not a node",
        ),
        (vec![role("police", NodeRole::Cohort), role("police", NodeRole::Computing)], "twice"),
        (vec![role("police", NodeRole::Cohort), role("council", NodeRole::Computing)], "no side"),
        (vec![role("police", NodeRole::Cohort)], "not a participant"),
    ];
    for (schedule, expected) in bad {
        match f.coordinator.envelopes_for_link(&q.request, &schedule, &QueryOverrides::default()) {
            Err(crate::error::CoordinatorError::Plan(problem)) => {
                assert!(problem.contains(expected), "{schedule:?}: {problem}")
            }
            other => panic!("{schedule:?}: expected a plan error, got {other:?}"),
        }
    }
    // A request the node would not parse (an overlap of two sides) is refused too.
    let mut two = overlap();
    two.request.sides.pop();
    two.schedule.remove(1);
    assert!(
        f.coordinator
            .envelopes_for_link(&two.request, &two.schedule, &QueryOverrides::default())
            .is_err()
    );
}

/// What each in-memory node does when its part ends.
#[derive(Clone)]
struct Script {
    /// The result each member ends with.
    results: BTreeMap<String, WireResult>,
    /// Log the hash of something else than what is sent.
    tamper: Option<String>,
    /// This member refuses its second step, logging the refusal.
    refuse: Option<String>,
}

/// In-memory nodes running the two-party flow; each keeps a real audit log and answers with
/// real receipts.
struct Nodes {
    coordinator_key: PublicKey,
    logs: BTreeMap<String, AuditLog>,
    envelopes: BTreeMap<String, Envelope>,
    script: Script,
}

impl Nodes {
    /// Logs `entry` for `member`'s query and returns its receipt from the size the coordinator
    /// said it last saw.
    fn log(&mut self, member: &str, entry: pb::AuditEntry) -> pb::Receipt {
        let envelope = &self.envelopes[member];
        let log = self.logs.get_mut(member).expect("log");
        let entry = pb::AuditEntry {
            query: Some(pb::QueryRecord {
                query_id: envelope.query_id.as_bytes().to_vec(),
                ..Default::default()
            }),
            ..entry
        };
        let appended = log.append(entry, None).expect("append");
        log.receipt(appended.index, envelope.known_log_size).expect("receipt")
    }

    fn finish(&mut self, member: &str) -> pb::LinkOutcome {
        let result = self.script.results[member].clone();
        let logged = if self.script.tamper.as_deref() == Some(member) {
            WireResult::Contributed(pb::LinkContribution { digests: vec!["other".into()] })
        } else {
            result.clone()
        };
        let entry = pb::AuditEntry {
            output: Some(pb::OutputRecord {
                result_hash: result_hash(&logged).to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        };
        pb::LinkOutcome { result: Some(result), receipt: Some(self.log(member, entry)) }
    }
}

fn sealed(step: u32, sender: &str, receiver: &str) -> pb::RelayMessage {
    pb::RelayMessage {
        step,
        sender: sender.into(),
        receiver: receiver.into(),
        ..Default::default()
    }
}

impl LinkTransport for Nodes {
    async fn open(
        &mut self,
        member: &str,
        signed: pb::SignedEnvelope,
    ) -> Result<pb::LinkOpened, Status> {
        let verified = SignedEnvelope::from(signed)
            .verify("analyst", &self.coordinator_key)
            .map_err(|e| Status::internal(format!("{e:?}")))?;
        let envelope = verified.envelope().clone();
        assert_eq!(envelope.audience, member);
        let peers = envelope.participants.iter().filter(|p| p.member != member);
        let hellos = peers
            .map(|p| pb::RelayHello {
                sender: member.into(),
                receiver: p.member.clone(),
                ..Default::default()
            })
            .collect();
        self.envelopes.insert(member.to_string(), envelope);
        Ok(pb::LinkOpened { hellos })
    }

    async fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> Result<pb::LinkStepResponse, Status> {
        let step = request.messages.last().map_or(0, |m| m.step);
        if step > 0 && self.script.refuse.as_deref() == Some(member) {
            let entry =
                pb::AuditEntry { decision: pb::Decision::Denied as i32, ..Default::default() };
            let receipt = self.log(member, entry);
            let mut status = Status::permission_denied("no flag-back for this purpose");
            status
                .metadata_mut()
                .insert(REFUSAL_HEADER, "policy.linkage.flag_back".parse().expect("ascii"));
            status.metadata_mut().insert_bin(
                RECEIPT_HEADER,
                tonic::metadata::MetadataValue::from_bytes(&receipt.encode_to_vec()),
            );
            return Err(status);
        }
        let (cohort, partner) = ("police", "icb");
        Ok(match (member, step) {
            (m, 0) if m == cohort => {
                pb::LinkStepResponse { outgoing: vec![sealed(1, cohort, partner)], outcome: None }
            }
            (m, 1) if m == partner => {
                pb::LinkStepResponse { outgoing: vec![sealed(2, partner, cohort)], outcome: None }
            }
            (m, 2) if m == cohort => pb::LinkStepResponse {
                outgoing: vec![sealed(3, cohort, partner)],
                outcome: Some(self.finish(member)),
            },
            (m, 3) if m == partner => {
                pb::LinkStepResponse { outgoing: vec![], outcome: Some(self.finish(member)) }
            }
            _ => pb::LinkStepResponse::default(),
        })
    }
}

fn count(value: u64) -> pb::ReleasedCount {
    pb::ReleasedCount { value: Some(Value::Count(value)) }
}

fn suppressed() -> pb::ReleasedCount {
    pb::ReleasedCount { value: Some(Value::Suppressed(true)) }
}

fn linked_table() -> WireResult {
    WireResult::Table(pb::LinkedTable {
        table: Some(pb::ProtectedTable {
            dataset: "ecds".into(),
            metric: "distinct_subjects".into(),
            dimensions: vec![pb::TableDimension {
                name: "g".into(),
                levels: vec!["female".into(), "male".into()],
            }],
            cells: vec![count(15), suppressed()],
            applied_rules: vec!["dp.laplace".into(), "suppress<8".into(), "round5".into()],
            ..Default::default()
        }),
        quality: vec![
            pb::LinkQuality { pass: "nhs".into(), links: Some(count(10)) },
            pb::LinkQuality { pass: "name_dob".into(), links: Some(suppressed()) },
        ],
        sizes: vec![
            pb::SideSize { member: "police".into(), tuples: 40 },
            pb::SideSize { member: "icb".into(), tuples: 5200 },
        ],
        matcher: "key-passes".into(),
        ..Default::default()
    })
}

fn contributed() -> WireResult {
    WireResult::Contributed(pb::LinkContribution {
        digests: vec!["1:aa".into(), "2:bb".into(), "3:cc".into()],
    })
}

fn count_script() -> Script {
    Script {
        results: [("police".to_string(), contributed()), ("icb".to_string(), linked_table())]
            .into(),
        tamper: None,
        refuse: None,
    }
}

fn run_with(f: &Fixture, q: &LinkQuery, script: Script) -> LinkRun {
    let mut nodes = f.nodes(script);
    let overrides = QueryOverrides::default();
    block_on(link_with(&f.coordinator, q, &overrides, &mut nodes, None, MAX_ROUNDS))
}

#[test]
fn a_linked_count_ends_with_the_computing_nodes_table_and_every_receipt_verified() {
    let f = Fixture::new();
    let run = run_with(&f, &query(COUNT), count_script());
    assert!(run.ok(), "{:?}", run.failures());
    let release = run.release().expect("a release");
    assert_eq!(release.table.cells(), [Released::Count(15), Released::Suppressed]);
    assert_eq!(
        release.quality,
        [("nhs".to_string(), Released::Count(10)), ("name_dob".to_string(), Released::Suppressed)]
    );
    assert_eq!(release.sizes, [("police".to_string(), 40), ("icb".to_string(), 5200)]);
    assert_eq!(release.table.provenance().node, "icb");
    match &run.parts[0].status {
        PartStatus::Done { answer: PartAnswer::Contributed { digests: 3 }, receipt } => {
            assert_eq!(receipt.leaf_index, 0)
        }
        other => panic!("police: {other:?}"),
    }
    assert_eq!((run.rounds, run.carried), (4, (2, 3)));
    // Both receipts were stored: the next query tells each node the size it proved.
    let next = f
        .coordinator
        .envelopes_for_link(&run.query.request, &run.query.schedule, &QueryOverrides::default())
        .expect("next");
    assert!(
        next.iter().all(|e| e.known_log_size == 1),
        "{:?}",
        next.iter().map(|e| e.known_log_size).collect::<Vec<_>>()
    );
}

#[test]
fn an_outcome_whose_logged_hash_differs_is_not_trusted() {
    let f = Fixture::new();
    let run = run_with(&f, &query(COUNT), Script { tamper: Some("icb".into()), ..count_script() });
    assert!(!run.ok());
    assert!(run.release().is_none(), "no table is shown from an unverified outcome");
    match &run.parts[1].status {
        PartStatus::Untrusted(problem) => assert!(problem.contains("result hash"), "{problem}"),
        other => panic!("icb: {other:?}"),
    }
    assert_eq!(run.failures().len(), 1, "{:?}", run.failures());
}

#[test]
fn a_node_that_sends_what_its_role_does_not_give_is_not_trusted() {
    let f = Fixture::new();
    let mut script = count_script();
    script.results.insert("icb".into(), contributed());
    let run = run_with(&f, &query(COUNT), script);
    match &run.parts[1].status {
        PartStatus::Untrusted(problem) => {
            assert_eq!(problem, "its part gives a table, but it sent a contribution")
        }
        other => panic!("icb: {other:?}"),
    }
    // A quality figure for a key type the query did not name.
    let mut script = count_script();
    if let Some(WireResult::Table(t)) = script.results.get_mut("icb") {
        t.quality[0].pass = "uprn".into();
    }
    let run = run_with(&f, &query(COUNT), script);
    assert!(
        matches!(&run.parts[1].status, PartStatus::Untrusted(p) if p.contains("uprn")),
        "{:?}",
        run.parts[1].status
    );
}

#[test]
fn a_refusal_ends_the_query_with_the_rule_and_its_verified_receipt() {
    let f = Fixture::new();
    let run = run_with(&f, &query(COUNT), Script { refuse: Some("icb".into()), ..count_script() });
    assert!(!run.ok());
    match &run.parts[1].status {
        PartStatus::Refused { at, rule, receipt, .. } => {
            assert_eq!(
                (at.as_str(), rule.as_str()),
                ("LinkStep (round 2)", "policy.linkage.flag_back")
            );
            assert_eq!(receipt.as_ref().map(|r| r.leaf_index), Some(0));
        }
        other => panic!("icb: {other:?}"),
    }
    assert!(matches!(run.parts[0].status, PartStatus::Unfinished));
    assert_eq!(
        run.failures(),
        ["node icb: REFUSED at LinkStep (round 2) by rule policy.linkage.flag_back: no flag-back \
          for this purpose (refusal logged at entry 0, receipt verified)"]
    );
}

#[test]
fn a_flag_back_ends_with_the_cohort_nodes_flags() {
    let f = Fixture::new();
    let q = query(&format!(
        "case_ref = \"OP-HARBOUR-0042\"\n{}",
        COUNT.replace("\"count\"", "\"flag_back\"")
    ));
    let flags = WireResult::Flags(pb::FlagBackResult {
        rows: vec![
            pb::FlagRow { record_id: "DR-0001".into(), flag: true, label: "assault".into() },
            pb::FlagRow { record_id: "DR-0002".into(), flag: false, label: String::new() },
        ],
    });
    let script = Script {
        results: [("police".to_string(), flags), ("icb".to_string(), contributed())].into(),
        tamper: None,
        refuse: None,
    };
    let run = run_with(&f, &q, script);
    assert!(run.ok(), "{:?}", run.failures());
    let rows = run.flags().expect("flags");
    assert_eq!(
        rows[0],
        FlagRow { record_id: "DR-0001".into(), flag: true, label: Some("assault".into()) }
    );
    assert_eq!(rows[1].label, None);
    let csv = run.render(Format::Csv);
    assert!(
        csv.starts_with("# flags\nrecord_id,flag,label\nDR-0001,true,assault\nDR-0002,false,\n"),
        "{csv}"
    );
    assert!(run.render(Format::Table).contains("case OP-HARBOUR-0042"));
}

#[test]
fn suppressed_figures_render_as_suppressed_never_as_zero() {
    let f = Fixture::new();
    let run = run_with(&f, &query(COUNT), count_script());
    let text = run.render(Format::Table);
    let line = |first: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    assert_eq!(line("male").as_deref(), Some("male [c]"), "{text}");
    assert_eq!(line("name_dob").as_deref(), Some("name_dob [c]"), "{text}");
    assert_eq!(line("nhs").as_deref(), Some("nhs 10"), "{text}");
    assert_eq!(line("icb").as_deref().map(|l| l.starts_with("icb 5,200")), Some(true), "{text}");
    assert!(text.contains("icb     computing  released the table; receipt: entry 0"), "{text}");
    let csv = run.render(Format::Csv);
    assert!(
        csv.contains("# quality\npass,links,suppressed\nnhs,10,false\nname_dob,,true\n"),
        "{csv}"
    );
    let nodes = "\n# nodes\nmember,role,status,receipt_entry,receipt_log_size,detail\n\
                 police,cohort,done,0,1,";
    assert!(csv.contains(nodes), "{csv}");
    let json = run.to_json();
    assert_eq!(json["ok"], true);
    assert_eq!(
        json["quality"][1]["links"],
        serde_json::json!({ "count": null, "suppressed": true })
    );
    assert_eq!(json["table"]["cells"][1]["count"], serde_json::Value::Null);
    assert_eq!(json["nodes"][1]["receipt"]["entry"], 0);
}

#[test]
fn the_request_the_nodes_parse_is_the_one_the_file_states() {
    // The envelope's body must parse at the node to exactly the file's request.
    let f = Fixture::new();
    let q = query(COUNT);
    let envelopes = f
        .coordinator
        .envelopes_for_link(&q.request, &q.schedule, &QueryOverrides::default())
        .expect("built");
    let parsed = Envelope::parse(&envelopes[0].encode()).expect("parses");
    assert_eq!(parsed.mode, Mode::LinkedCount);
    assert_eq!(
        parsed.body,
        fedlink_proto::envelope::QueryBody::Link(
            LinkRequest::from_pb(q.request.to_pb(), Mode::LinkedCount).expect("request")
        )
    );
}
