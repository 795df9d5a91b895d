//! `flowloop test`: run cases (inputs, limits, expected outputs) against a graph.
//!
//! # The cases file
//!
//! ```json
//! {
//!   "cases": [
//!     {
//!       "name": "seed 4",
//!       "set": {"seed": 4, "right.b": 0},
//!       "expect": {"result": 50, "left.out": 50},
//!       "generations": {"join": [0]}
//!     },
//!     {"name": "counter stops at 2", "limits": {"next": [2]}, "outcome": "limit_reached", "expect": {"count.out": 3}},
//!     {"name": "bad divisor", "set": {"d.b": 0}, "error": "division by zero"}
//!   ]
//! }
//! ```
//!
//! Per case: `name` (required); `set`: inputs to set before the run, keyed `node.input` or by
//! a declared graph input name; `limits` (`node` → `[run]` or `[run, chunk]`) and `limit_all`
//! (`[run]`); `expect`: expected values keyed `node.output` or by a declared graph output
//! name; `generations`: expected node generations (`null` for a node that never ran);
//! `outcome`: `completed`, `limit_reached` or `failed`; `error`: a text every failing case's
//! error must contain (implies `"outcome": "failed"`). Numbers compare by value (`2` equals
//! `2.0`); everything else exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_graph::{Graph, PortRef, Value};
use flowloop_run::{Ending, InputSet, NodeLimit, Progress, Report, RunArgs, RunFailure};
use serde::Deserialize;

use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop test examples/graphs/diamond.json cases.json

A cases file (see `flowloop test --help` and the crate docs for every field):
  {\"cases\": [
    {\"name\": \"seed 4\", \"set\": {\"seed\": 4}, \"expect\": {\"result\": 50}},
    {\"name\": \"stops at 2\", \"limits\": {\"next\": [2]}, \"outcome\": \"limit_reached\",
     \"expect\": {\"count.out\": 3}, \"generations\": {\"count\": [2]}},
    {\"name\": \"fails\", \"set\": {\"d.b\": 0}, \"error\": \"division by zero\"}
  ]}
Keys of set/expect are node.port or declared graph input/output names. Exit code 0 when every
case passes, 1 when one fails or the graph is invalid, 2 when a file cannot be read or the
cases file is malformed.";

/// `flowloop test GRAPH.json CASES.json`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file.
    graph: PathBuf,
    /// The cases file.
    cases: PathBuf,
}

/// The cases file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    cases: Vec<Case>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    set: BTreeMap<String, Value>,
    #[serde(default)]
    limits: BTreeMap<String, Vec<u64>>,
    #[serde(default)]
    limit_all: Option<Vec<u64>>,
    #[serde(default)]
    expect: BTreeMap<String, Value>,
    #[serde(default)]
    generations: BTreeMap<String, Option<Vec<u64>>>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let loaded = input::read(&args.graph).and_then(|text| Ok((text, load_cases(&args.cases)?)));
    let (text, cases) = match loaded {
        Ok(both) => both,
        Err(e) => return input::fail(&args.graph, &e),
    };
    let file = input::display(&args.graph);
    if let Err(e) = flowloop_run::load(&file, &text, input::registry()) {
        return input::fail(&args.graph, &e);
    }
    let mut failed = 0;
    for case in &cases.cases {
        let problems = run_case(&file, &text, case);
        if problems.is_empty() {
            println!("PASS  {}", case.name);
        } else {
            failed += 1;
            println!("FAIL  {}", case.name);
            for p in problems {
                println!("      {}", p.replace('\n', "\n      "));
            }
        }
    }
    let total = cases.cases.len();
    println!("{total} cases: {} passed, {failed} failed", total - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn load_cases(path: &std::path::Path) -> Result<Cases, RunFailure> {
    let text = input::read(path)?;
    serde_json::from_str(&text).map_err(|e| {
        RunFailure::Usage(format!(
            "{}:{}:{}: not a cases file: {e} (see `flowloop test --help` for the format)",
            input::display(path),
            e.line(),
            e.column()
        ))
    })
}

/// Runs one case on a fresh copy of the graph; returns what did not match (empty: passed).
fn run_case(file: &str, text: &str, case: &Case) -> Vec<String> {
    let result = prepare(file, text, case).and_then(|(graph, args)| {
        let mut batch = graph.batch().map_err(|e| RunFailure::Graph(e.to_string()))?;
        let report = flowloop_run::run(&graph, &mut batch, &args, Progress::Off)?;
        Ok(compare(&graph, &batch, &report, case))
    });
    result.unwrap_or_else(|e| vec![e.to_string()])
}

/// The graph with the case's inputs set, and the run options.
fn prepare(file: &str, text: &str, case: &Case) -> Result<(Graph, RunArgs), RunFailure> {
    let mut graph = flowloop_run::load(file, text, input::registry())?;
    let mut sets = Vec::new();
    for (key, value) in &case.set {
        let target = resolve(&graph, key, "set", |g| g.declared_inputs())?;
        sets.push(InputSet {
            node: target.node,
            input: target.port,
            value: value.clone(),
        });
    }
    flowloop_run::apply_sets(&mut graph, &sets)?;
    let mut limits = Vec::new();
    for (node, parts) in &case.limits {
        limits.push(NodeLimit {
            node: node.clone(),
            generation: generation(parts, &format!("limits.{node}"))?,
        });
    }
    let limit_all = case
        .limit_all
        .as_ref()
        .map(|p| generation(p, "limit_all"))
        .transpose()?;
    let args = RunArgs {
        limits,
        limit_all,
        sets,
        ..RunArgs::default()
    };
    Ok((graph, args))
}

fn generation(parts: &[u64], what: &str) -> Result<flowloop::flow::Generation, RunFailure> {
    match parts {
        [r] => Ok(flowloop::flow::Generation::finished(*r)),
        [r, c] => Ok(flowloop::flow::Generation::chunk(*r, *c)),
        _ => Err(RunFailure::Usage(format!(
            "{what}: a generation is [run] or [run, chunk]"
        ))),
    }
}

/// `node.port`, or a declared name looked up in `declared`.
fn resolve(
    graph: &Graph,
    key: &str,
    what: &str,
    declared: impl Fn(&Graph) -> &BTreeMap<String, PortRef>,
) -> Result<PortRef, RunFailure> {
    if let Some(r) = declared(graph).get(key) {
        return Ok(r.clone());
    }
    PortRef::parse(key).ok_or_else(|| {
        let names: Vec<&String> = declared(graph).keys().collect();
        RunFailure::Usage(format!(
            "{what} `{key}`: not `node.port` and not a declared name (declared: {})",
            names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        ))
    })
}

fn compare(graph: &Graph, batch: &flowloop_graph::Batch, report: &Report, case: &Case) -> Vec<String> {
    let mut problems = outcome_problems(report, case);
    for (key, want) in &case.expect {
        let target = match resolve(graph, key, "expect", |g| g.declared_outputs()) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if graph.node(&target.node).is_none() {
            problems.push(format!("expect `{key}`: the graph has no node `{}`", target.node));
            continue;
        }
        let got = batch.value(&target.node, &target.port);
        if !got.as_ref().is_some_and(|g| same(g, want)) {
            problems.push(diff(key, want, got.as_ref()));
        }
    }
    for (node, want) in &case.generations {
        let got = batch.generation(node).map(|g| g.to_vec());
        if got != *want {
            problems.push(format!("generation of `{node}`: expected {want:?}, got {got:?}"));
        }
    }
    problems
}

fn outcome_problems(report: &Report, case: &Case) -> Vec<String> {
    let want = case.outcome.as_deref().or(case.error.as_ref().map(|_| "failed"));
    let got = report.ending.label();
    let mut problems = Vec::new();
    match (&report.ending, want) {
        (_, Some(w)) if w != got => problems.push(format!("outcome: expected {w}, got {got}{}", errors(report))),
        (Ending::Failed(_), None) => problems.push(format!("the run failed{}", errors(report))),
        _ => {}
    }
    if let (Some(text), Ending::Failed(errs)) = (&case.error, &report.ending) {
        if !errs.iter().any(|e| e.contains(text.as_str())) {
            problems.push(format!(
                "error: expected a message containing {text:?}{}",
                errors(report)
            ));
        }
    }
    problems
}

fn errors(report: &Report) -> String {
    match &report.ending {
        Ending::Failed(errs) => format!(" ({})", errs.join("; ")),
        _ => String::new(),
    }
}

/// Equal values; numbers by value (`2` equals `2.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_float(), b.as_float()) {
        (Some(x), Some(y)) if !matches!(a, Value::Bool(_)) && !matches!(b, Value::Bool(_)) => x == y,
        _ => a == b,
    }
}

fn diff(key: &str, want: &Value, got: Option<&Value>) -> String {
    let json = |v: &Value| serde_json::to_string(v).unwrap_or_else(|_| v.to_string());
    let got = got.map_or_else(|| "nothing (the node never produced a value)".to_string(), json);
    format!("{key}:\n- expected: {}\n+ actual:   {got}", json(want))
}
