//! A small linked federation for the adversarial tests: a police node holding a crafted cohort
//! dataset and an ICB node holding crafted ED attendances, both with `[[linkage]]` rules, both
//! running as real `fedlink node serve` processes; the coordinator library on the test's side,
//! so a test can run a linked query through the honest relay or through a malicious transport
//! of its own ([`Mitm`]).

use std::fmt::Write as _;

use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::relay::{LinkTransport, NodeTransport};
use fedlink_coordinator::link::{LinkRun, NodePart, PartStatus, link_with};
use fedlink_proto::pb;
use fedlink_proto::refusal::REFUSAL_HEADER;

use crate::util::{NodeProcess, TestFederation, audit_entries, run, text};

/// The purpose every test query states and every test rule serves.
pub const PURPOSE: &str = "HMICFRS-R2-DEATH-ANALYSIS";

/// Both sides' datasets have one shape: the police cohort (one row per cohort member and index
/// date) and the ICB's ED attendances (the event date being the attendance).
fn schema(name: &str, description: &str) -> String {
    format!(
        r#"
name = "{name}"
description = "{description}"
subject = "person"

[[column]]
name = "ref"
role = "record_id"

[[column]]
name = "nhs"
role = "nhs_number"

[[column]]
name = "given"
role = "forenames"

[[column]]
name = "family"
role = "surname"

[[column]]
name = "dob"
role = "dob"

[[column]]
name = "postcode"
role = "postcode"

[[column]]
name = "day"
role = "event_date"

[[column]]
name = "grp"
role = "category"

[[column]]
name = "lbl"
role = "category"
"#
    )
}

/// The key types every test rule allows and most test queries ask for.
pub const KEY_TYPES: &str = r#"["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]"#;

/// A person's identifiers as an extract writes them; `None` is an empty field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub nhs: Option<String>,
    pub given: Option<String>,
    pub family: Option<String>,
    pub dob: Option<String>,
    pub postcode: Option<String>,
}

impl Person {
    /// Synthetic person number `i`: a valid NHS number, made-up names that no nickname table
    /// knows, a date of birth and a postcode, all distinct from every other `i`'s.
    pub fn synthetic(i: u32) -> Person {
        Person {
            nhs: Some(nhs_number(i)),
            given: Some(format!("Fore{}", letters(i))),
            family: Some(format!("Sur{}", letters(i + 7919))),
            dob: Some(format!("19{:02}-{:02}-{:02}", 50 + i % 45, 1 + i % 12, 1 + i % 28)),
            postcode: Some(format!("LS{} {}AB", 1 + i % 27, i % 10)),
        }
    }

    /// The same person with only the fields `keep` names (`nhs`, `given`, `family`, `dob`,
    /// `postcode`).
    pub fn only(&self, keep: &[&str]) -> Person {
        let pick = |name: &str, value: &Option<String>| {
            if keep.contains(&name) { value.clone() } else { None }
        };
        Person {
            nhs: pick("nhs", &self.nhs),
            given: pick("given", &self.given),
            family: pick("family", &self.family),
            dob: pick("dob", &self.dob),
            postcode: pick("postcode", &self.postcode),
        }
    }
}

/// `i` written in capital letters, base 26 (A, B, …, Z, BA, BB, …): names without digits.
fn letters(mut i: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// A valid NHS number (Modulus 11 check digit) derived from `i`, never all one digit.
pub fn nhs_number(i: u32) -> String {
    let mut base = 400_000_000u32 + i.wrapping_mul(7);
    loop {
        let digits: Vec<u32> = format!("{base:09}").bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = (11 - sum % 11) % 11;
        if check != 10 {
            return format!("{base:09}{check}");
        }
        // Check digit 10 is never issued: the next base number (distinct per `i` as long as
        // bases stay 7 apart, which one step of +1 keeps).
        base += 1;
    }
}

/// One extract row: who, when (the index date for the police, the attendance for the ICB),
/// a group used by filters, and a label column.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub person: Person,
    pub day: String,
    pub grp: String,
    pub lbl: String,
}

impl Row {
    pub fn new(id: impl Into<String>, person: Person, day: &str, grp: &str) -> Row {
        Row { id: id.into(), person, day: day.into(), grp: grp.into(), lbl: "all".into() }
    }

    pub fn labelled(mut self, lbl: &str) -> Row {
        self.lbl = lbl.into();
        self
    }
}

fn csv(rows: &[Row]) -> String {
    let mut out = "ref,nhs,given,family,dob,postcode,day,grp,lbl\n".to_string();
    for r in rows {
        let p = &r.person;
        let f = |v: &Option<String>| v.clone().unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            r.id,
            f(&p.nhs),
            f(&p.given),
            f(&p.family),
            f(&p.dob),
            f(&p.postcode),
            r.day,
            r.grp,
            r.lbl
        )
        .expect("write");
    }
    out
}

/// What a test federation holds and allows.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The police cohort extract.
    pub police: Vec<Row>,
    /// The ICB's attendances.
    pub icb: Vec<Row>,
    /// Label vocabulary and k of the police rule.
    pub police_labels: (Vec<&'static str>, usize),
    /// Label vocabulary and k of the ICB rule.
    pub icb_labels: (Vec<&'static str>, usize),
    /// The ICB releases linked tables exact (the `danger_exact_linked_counts` test seam).
    pub exact: bool,
    /// ε per linked table at the ICB (the quality figures spend as much again).
    pub epsilon: &'static str,
    /// The ICB's per-requester budget per period.
    pub requester_epsilon: &'static str,
    /// The ICB's per-coordinator budget per period.
    pub coordinator_epsilon: &'static str,
    /// The ICB's disclosure rules for linked outputs.
    pub disclosure: &'static str,
}

impl Setup {
    /// Exact counts, labels "all" (and "LABEL-ZEBRA") with k = 3 on both sides, a budget no
    /// test exhausts, no suppression or rounding.
    pub fn exact(police: Vec<Row>, icb: Vec<Row>) -> Setup {
        Setup {
            police,
            icb,
            police_labels: (vec!["all", "LABEL-ZEBRA"], 3),
            icb_labels: (vec!["all", "LABEL-ZEBRA"], 3),
            exact: true,
            epsilon: "0.5",
            requester_epsilon: "1000",
            coordinator_epsilon: "1000",
            disclosure: "{ min_cell = 1, rounding = { nearest = 1 } }",
        }
    }
}

/// `n` filler people (numbers `from..from + n`) with an index date or attendance on `day`.
pub fn fillers(prefix: &str, from: u32, n: u32, day: &str, grp: &str) -> Vec<Row> {
    (from..from + n)
        .map(|i| Row::new(format!("{prefix}{i}"), Person::synthetic(i), day, grp))
        .collect()
}

fn vocabulary(labels: &[&str]) -> String {
    let quoted: Vec<String> = labels.iter().map(|l| format!("{l:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn police_policy(setup: &Setup) -> String {
    format!(
        r#"
[[linkage]]
dataset = "cohort"
purposes = ["{PURPOSE}"]
roles = ["cohort"]
key_types = {KEY_TYPES}
labels = {{ vocabulary = {}, k_min = {} }}
windows = [{{ name = "12m-before", granularity = "month", units_before = 12 }}]
max_subjects_per_query = 1000
max_queries_per_day = 1000
privacy = {{ epsilon = "1" }}
"#,
        vocabulary(&setup.police_labels.0),
        setup.police_labels.1,
    )
}

fn icb_policy(setup: &Setup) -> String {
    format!(
        r#"
[budget]
period = "financial_year"
coordinator_epsilon = "{}"
requester_epsilon = "{}"

[[linkage]]
dataset = "ed"
purposes = ["{PURPOSE}"]
roles = ["partner", "computing"]
key_types = {KEY_TYPES}
labels = {{ vocabulary = {}, k_min = {} }}
windows = [{{ name = "12m-before", granularity = "month", units_before = 12 }}]
cohort_sources = ["police/cohort"]
max_subjects_per_query = 1000
max_queries_per_day = 1000
privacy = {{ epsilon = "{}" }}
disclosure = {}
flag_back = {{ purposes = ["{PURPOSE}"], max_rows_per_case = 1000, max_rows_per_day = 1000 }}
"#,
        setup.coordinator_epsilon,
        setup.requester_epsilon,
        vocabulary(&setup.icb_labels.0),
        setup.icb_labels.1,
        setup.epsilon,
        setup.disclosure,
    )
}

/// A running police + ICB federation and the coordinator library over it.
pub struct LinkFed {
    pub fed: TestFederation,
    pub coordinator: Coordinator,
    // Dropped after the coordinator; stopped with SIGTERM on drop.
    pub police: NodeProcess,
    /// Only kept running: dropping it stops the node.
    _icb: NodeProcess,
}

impl LinkFed {
    /// Writes both datasets and policies, imports, and starts both nodes.
    pub fn start(setup: &Setup) -> LinkFed {
        let fed = TestFederation::new();
        let nodes = [
            (
                "police",
                "cohort",
                schema("cohort", "adversarial test cohort"),
                csv(&setup.police),
                police_policy(setup),
            ),
            (
                "icb",
                "ed",
                schema("ed", "adversarial test ED attendances"),
                csv(&setup.icb),
                icb_policy(setup),
            ),
        ];
        for (node, dataset, schema, extract, rules) in nodes {
            let dir = fed.member_dir(node);
            std::fs::create_dir_all(dir.join("datasets")).expect("mkdir");
            std::fs::write(dir.join(format!("datasets/{dataset}.toml")), schema).expect("schema");
            std::fs::write(dir.join(format!("{dataset}.csv")), extract).expect("csv");
            if node == "icb" && setup.exact {
                fed.append_to_node_config(node, "danger_exact_linked_counts = true");
            }
            let config = fed.node_config(node);
            let mut text_ = std::fs::read_to_string(&config).expect("read");
            text_.push_str(&format!("\n[[dataset]]\nschema = \"datasets/{dataset}.toml\"\n"));
            std::fs::write(&config, text_).expect("write");
            let policy_path = dir.join("policy.toml");
            let policy = std::fs::read_to_string(&policy_path).expect("policy");
            let policy = policy
                .replace("linked_count = false", "linked_count = true")
                .replace("flag_back = false", "flag_back = true");
            std::fs::write(&policy_path, format!("{policy}\n{rules}")).expect("write policy");
            let out = run(&[
                "node",
                "import",
                "--config",
                config.to_str().expect("utf8"),
                "--dataset",
                dataset,
                "--operator",
                "tester",
                dir.join(format!("{dataset}.csv")).to_str().expect("utf8"),
            ]);
            assert!(out.status.success(), "import at {node}: {}", text(&out));
        }
        let police = fed.start_node("police");
        let icb = fed.start_node("icb");
        let settings =
            CoordinatorSettings::load(&fed.coordinator_config()).expect("coordinator settings");
        let coordinator = Coordinator::open(settings).expect("coordinator");
        LinkFed { fed, coordinator, police, _icb: icb }
    }

    /// The honest transport, over mTLS with the coordinator's identity.
    pub fn transport(&self) -> NodeTransport<'_> {
        NodeTransport::new(
            &self.coordinator.settings().federation,
            self.coordinator.client_tls(),
            std::time::Duration::from_secs(60),
        )
    }

    /// Runs `query` through `transport`, with an optional relay capture.
    pub async fn run_with<T: LinkTransport>(
        &self,
        query: &LinkQuery,
        transport: &mut T,
        capture: Option<&mut (dyn std::io::Write + Send)>,
    ) -> LinkRun {
        link_with(&self.coordinator, query, &QueryOverrides::default(), transport, capture, 16)
            .await
    }

    /// The same coordinator member acting for another analyst (`officer_id`), with its own
    /// log and receipt store: what a coordinator minting officer ids to buy budget would do.
    /// `instance` names its data folder, so one analyst can also have several (a coordinator
    /// running queries from several processes at once).
    pub fn coordinator_as(&self, officer_id: &str, instance: &str) -> Coordinator {
        let mut settings =
            CoordinatorSettings::load(&self.fed.coordinator_config()).expect("settings");
        settings.requester.officer_id = officer_id.into();
        settings.data_dir = self.fed.tmp.path().join(format!("coordinator-{instance}"));
        Coordinator::open(settings).expect("coordinator")
    }

    /// Every audit entry of `member`'s log with this rule and decision DENIED.
    pub fn denials(&self, member: &str, rule: &str) -> Vec<pb::AuditEntry> {
        audit_entries(&self.fed.audit_log(member))
            .into_iter()
            .filter(|e| e.decision == pb::Decision::Denied as i32 && e.rule == rule)
            .collect()
    }
}

/// A linked count of the police cohort (`filter` on its side, label column `label` if any)
/// against every ICB attendance, 12 months before each index date.
pub fn count_query(police_filter: &[&str], label: Option<&str>) -> LinkQuery {
    count_query_with(KEY_TYPES, police_filter, label, None)
}

/// [`count_query`] with other key types and an optional ICB label column.
pub fn count_query_with(
    key_types: &str,
    police_filter: &[&str],
    label: Option<&str>,
    icb_label: Option<&str>,
) -> LinkQuery {
    let filter: Vec<String> = police_filter.iter().map(|f| format!("{f:?}")).collect();
    let label = label.map(|l| format!("label = {l:?}\n")).unwrap_or_default();
    let icb_label = icb_label.map(|l| format!("label = {l:?}\n")).unwrap_or_default();
    let text = format!(
        r#"
title = "adversarial test count"
kind = "count"
unit = "person"
key_types = {key_types}
window = "12m-before"
purpose = "{PURPOSE}"

[[side]]
member = "police"
dataset = "cohort"
role = "cohort"
filter = [{}]
{label}
[[side]]
member = "icb"
dataset = "ed"
{icb_label}"#,
        filter.join(", ")
    );
    LinkQuery::from_toml(&text, std::path::Path::new("adversary.toml"), None).expect("query")
}

/// How one member's part ended, in a word, for assertion messages.
pub fn describe(run: &LinkRun) -> String {
    let mut out = format!("rounds {}, carried {:?}", run.rounds, run.carried);
    if let Some(f) = &run.failure {
        write!(out, "; failure {f}").expect("write");
    }
    for p in &run.parts {
        write!(out, "; {}: {}", p.member, status_word(p)).expect("write");
    }
    out
}

fn status_word(part: &NodePart) -> String {
    match &part.status {
        PartStatus::Done { .. } => "done".into(),
        PartStatus::Refused { at, rule, message, .. } => {
            format!("refused at {at} by {rule}: {message}")
        }
        PartStatus::Down(why) => format!("down: {why}"),
        PartStatus::Untrusted(why) => format!("untrusted: {why}"),
        PartStatus::Unfinished => "unfinished".into(),
    }
}

/// The (g, h) cell of the computing node's released table, as released.
pub fn released(run: &LinkRun, g: &str, h: &str) -> fedlink_coordinator::table::Released {
    let release = run.release().unwrap_or_else(|| panic!("no release: {}", describe(run)));
    let table = &release.table;
    let dims = table.dimensions();
    let gi = dims[0].position(g).expect("g level");
    let hi = dims[1].position(h).expect("h level");
    table.cell(&[gi, hi]).expect("cell")
}

/// The (g, h) cell as a number: the test seam makes it the exact count.
pub fn cell(run: &LinkRun, g: &str, h: &str) -> i64 {
    match released(run, g, h).count() {
        Some(n) => i64::try_from(n).expect("fits"),
        None => panic!("cell ({g}, {h}) is suppressed"),
    }
}

/// A LinkStep or LinkOpen failure as a test sees it: the refusal rule (empty when none) and
/// the message.
pub fn rule_of(status: &tonic::Status) -> (String, String) {
    let rule = status
        .metadata()
        .get(REFUSAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (rule, status.message().to_string())
}

/// One LinkStep the malicious transport made: where it went, what it carried, what came back.
pub struct Exchange {
    /// Who the step really went to.
    pub member: String,
    /// The request as the honest relay made it.
    pub original: pb::LinkStepRequest,
    /// The request as delivered.
    pub request: pb::LinkStepRequest,
    pub response: Result<pb::LinkStepResponse, (String, String)>,
}

/// What the malicious relay does to one LinkStep before sending it: it may rewrite the request
/// and return the member it really delivers it to.
pub type Tamper = Box<dyn FnMut(&str, &mut pb::LinkStepRequest) -> String + Send>;

/// A malicious coordinator's transport: the real mTLS transport underneath, every LinkStep
/// request first handed to `tamper`, and every exchange recorded.
pub struct Mitm<'a> {
    pub inner: NodeTransport<'a>,
    pub tamper: Tamper,
    pub exchanges: Vec<Exchange>,
}

impl<'a> Mitm<'a> {
    /// A recording transport that changes nothing.
    pub fn honest(inner: NodeTransport<'a>) -> Mitm<'a> {
        Mitm::new(inner, Box::new(|member: &str, _: &mut pb::LinkStepRequest| member.to_string()))
    }

    pub fn new(inner: NodeTransport<'a>, tamper: Tamper) -> Mitm<'a> {
        Mitm { inner, tamper, exchanges: Vec::new() }
    }
}

impl LinkTransport for Mitm<'_> {
    async fn open(
        &mut self,
        member: &str,
        envelope: pb::SignedEnvelope,
    ) -> Result<pb::LinkOpened, tonic::Status> {
        self.inner.open(member, envelope).await
    }

    async fn step(
        &mut self,
        member: &str,
        request: pb::LinkStepRequest,
    ) -> Result<pb::LinkStepResponse, tonic::Status> {
        let mut request = request;
        let original = request.clone();
        let to = (self.tamper)(member, &mut request);
        let response = self.inner.step(&to, request.clone()).await;
        self.exchanges.push(Exchange {
            member: to,
            original,
            request,
            response: response.as_ref().map_err(rule_of).cloned(),
        });
        response
    }
}

// --- Unit-level helpers: the node's linkage code, no processes ------------------------------

/// SplitMix64: a seeded stand-in for the OS generator, so a statistical test gives the same
/// answer on every run and cannot flake.
pub struct Seeded(pub u64);

impl fedlink_node::privacy::RandomBits for Seeded {
    fn next_u64(&mut self) -> Result<u64, fedlink_node::privacy::RandomError> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
}

/// The NHS-number slot messages of synthetic person `i` in `slots`.
pub fn nhs_messages(
    i: u32,
    slots: &[fedlink_node::linkage::SlotLabel],
) -> Vec<fedlink_node::linkage::SlotMessage> {
    use fedlink_node::linkage::{KeySelection, slot_messages};
    use fedlink_node::matchkey::{Identifiers, KeyType};
    use fedlink_node::normalise::nhs::NhsNumber;
    let ids = Identifiers {
        nhs_number: Some(NhsNumber::parse(&nhs_number(i)).expect("valid")),
        ..Identifiers::default()
    };
    let keys = KeySelection::new([KeyType::Nhs]).expect("selection").record_keys(&ids);
    assert_eq!(keys.len(), 1, "one NHS key");
    slot_messages(&keys, slots).expect("messages")
}

/// Pearson's chi-square statistic of `counts` against equal expected counts.
pub fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
}
