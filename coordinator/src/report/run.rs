//! Running a report's plan through the coordinator library: `describe` every node first (the
//! header's partners, and which are down), then each query in catalogue order, one at a time
//! (each envelope states the node's log size the coordinator last verified, so two queries in
//! flight to one node would break the receipt chain). A partner that is down is not asked
//! again: its remaining queries are skipped with the reason, and the rest of the report runs.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::aggregate::{AggregateOutcome, aggregate_one};
use crate::coordinator::{Coordinator, QueryOverrides};
use crate::describe::{Row, describe_all};
use crate::link::{LinkOptions, LinkRun, run_link};
use crate::outcome::Outcome;

use super::plan::{Plan, PlannedQuery, Step};

/// What came of one step.
#[derive(Debug)]
pub enum StepOutcome {
    /// An aggregate query's outcome.
    Aggregate(Box<AggregateOutcome>),
    /// A linked query's run.
    Link(Box<LinkRun>),
    /// Not sent, and why (a partner known to be down).
    Skipped(String),
}

impl StepOutcome {
    /// `answered`, `refused`, `down`, `not_sent`, `untrusted`, `failed` or `skipped`.
    pub fn status(&self) -> &'static str {
        match self {
            StepOutcome::Aggregate(outcome) => match outcome.as_ref() {
                Outcome::Answered { .. } => "answered",
                Outcome::Refused { .. } => "refused",
                Outcome::Down(_) => "down",
                Outcome::NotSent(_) => "not_sent",
                Outcome::Untrusted(_) => "untrusted",
            },
            StepOutcome::Link(run) if run.ok() => "answered",
            StepOutcome::Link(_) => "failed",
            StepOutcome::Skipped(_) => "skipped",
        }
    }

    /// Why it gave nothing, one line per cause; empty when it answered.
    pub fn problems(&self) -> Vec<String> {
        match self {
            StepOutcome::Aggregate(outcome) => outcome.failure().into_iter().collect(),
            StepOutcome::Link(run) => run.failures(),
            StepOutcome::Skipped(reason) => vec![reason.clone()],
        }
    }
}

/// One step and what came of it.
#[derive(Debug)]
pub struct Executed {
    /// The step.
    pub step: Step,
    /// Its outcome.
    pub outcome: StepOutcome,
    /// Seconds it took.
    pub seconds: f64,
}

/// Everything a run produced.
#[derive(Debug)]
pub struct Execution {
    /// Each node's `describe` answer.
    pub partners: Vec<Row>,
    /// Each step, in plan order.
    pub steps: Vec<Executed>,
    /// Seconds the whole run took.
    pub seconds: f64,
}

/// A progress event, for a line on stderr.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Every node was asked to describe itself.
    Described {
        /// The nodes that answered, and those that did not with why.
        down: &'a [(String, String)],
        /// How many nodes.
        nodes: usize,
    },
    /// A query is about to be sent.
    Start {
        /// From 1.
        index: usize,
        /// Of this many.
        total: usize,
        /// The step.
        step: &'a Step,
    },
    /// A query ended.
    Done {
        /// From 1.
        index: usize,
        /// Of this many.
        total: usize,
        /// The step.
        step: &'a Step,
        /// Its status word.
        status: &'static str,
        /// Why it gave nothing, when it did not answer.
        problem: Option<String>,
        /// Seconds it took.
        seconds: f64,
    },
}

impl Progress<'_> {
    /// The line to print, or `None` for a start (printed by callers that want it).
    pub fn line(&self) -> Option<String> {
        match self {
            Progress::Described { down, nodes } => Some(if down.is_empty() {
                format!("partners: all {nodes} nodes answered describe")
            } else {
                let list: Vec<String> =
                    down.iter().map(|(n, why)| format!("{n} unavailable: {why}")).collect();
                format!(
                    "partners: {} of {nodes} answered describe; {}",
                    nodes - down.len(),
                    list.join("; ")
                )
            }),
            Progress::Start { .. } => None,
            Progress::Done { index, total, step, status, problem, seconds } => {
                let width = total.to_string().len();
                let what = match &step.query {
                    PlannedQuery::Aggregate(q) => format!("aggregate at {}", q.node),
                    PlannedQuery::Link(q) => format!(
                        "{} across {}",
                        crate::link::query::kind_name(q.request.kind),
                        q.schedule.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join("+")
                    ),
                };
                let mut line = format!(
                    "[{index:>width$}/{total}] {} ({what}, {}): {status} in {seconds:.1} s",
                    step.name, step.period_label
                );
                if let Some(problem) = problem {
                    line.push_str(&format!(" - {problem}"));
                }
                Some(line)
            }
        }
    }
}

/// Runs `plan`: describe, then every step in order.
pub async fn execute(
    coordinator: &Coordinator,
    plan: &Plan,
    options: &LinkOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Execution {
    let started = Instant::now();
    let partners = describe_all(coordinator, &QueryOverrides::default()).await;
    let mut down: BTreeMap<String, String> = partners
        .iter()
        .filter_map(|row| {
            let why = match &row.outcome {
                Outcome::Answered { .. } => return None,
                Outcome::Down(p) => p.clone(),
                other => other.failure().unwrap_or_default(),
            };
            Some((row.node.clone(), why))
        })
        .collect();
    let listed: Vec<(String, String)> = down.clone().into_iter().collect();
    progress(Progress::Described { down: &listed, nodes: partners.len() });

    let total = plan.steps.len();
    let mut steps = Vec::with_capacity(total);
    for (i, step) in plan.steps.iter().enumerate() {
        let index = i + 1;
        progress(Progress::Start { index, total, step });
        let t0 = Instant::now();
        let unavailable = step
            .query
            .nodes()
            .into_iter()
            .find_map(|n| down.get(&n).map(|why| format!("partner {n} unavailable: {why}")));
        let outcome = match (unavailable, &step.query) {
            (Some(reason), _) => StepOutcome::Skipped(reason),
            (None, PlannedQuery::Aggregate(query)) => {
                let overrides =
                    QueryOverrides { purpose: query.purpose.clone(), ..Default::default() };
                match coordinator.settings().federation.member(&query.node) {
                    Some(node) => StepOutcome::Aggregate(Box::new(
                        aggregate_one(coordinator, node, query.request.clone(), &overrides).await,
                    )),
                    None => StepOutcome::Skipped(format!("{} is not a member", query.node)),
                }
            }
            (None, PlannedQuery::Link(query)) => StepOutcome::Link(Box::new(
                run_link(coordinator, query, &QueryOverrides::default(), options, None).await,
            )),
        };
        // A node found down mid-run is not asked again.
        for (node, why) in newly_down(step, &outcome) {
            down.entry(node).or_insert(why);
        }
        let seconds = t0.elapsed().as_secs_f64();
        let status = outcome.status();
        let problem = outcome.problems().into_iter().next();
        progress(Progress::Done { index, total, step, status, problem, seconds });
        steps.push(Executed { step: step.clone(), outcome, seconds });
    }
    Execution { partners, steps, seconds: started.elapsed().as_secs_f64() }
}

/// Nodes an outcome shows to be down, with why.
fn newly_down(step: &Step, outcome: &StepOutcome) -> Vec<(String, String)> {
    match (outcome, &step.query) {
        (StepOutcome::Aggregate(outcome), PlannedQuery::Aggregate(query)) => match outcome.as_ref()
        {
            Outcome::Down(problem) => vec![(query.node.clone(), problem.clone())],
            _ => Vec::new(),
        },
        (StepOutcome::Link(run), _) => run
            .parts
            .iter()
            .filter_map(|p| match &p.status {
                crate::link::PartStatus::Down(why) => Some((p.member.clone(), why.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
