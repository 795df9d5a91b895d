//! The shared front end of `flowloop run` and of deployed graph binaries: the run options
//! ([`RunArgs`]), how they apply to a graph, driving the run (progress line, Ctrl-C), and the
//! printed [`Report`]. Both programs go through [`main_with`], so for one graph file and the
//! same options they print the same bytes.
//!
//! # Tutorial
//!
//! 1. Load a graph and compile it for batch runs; a [`Batch`] is a
//!    [`Target`].
//! 2. Call [`run`] with the options; it returns a [`Report`].
//! 3. Print the report as a table or as JSON.
//!
//! ```
//! use flowloop_graph::{Graph, Registry};
//! use flowloop_run::{Progress, RunArgs, run};
//!
//! let text = r#"{"format": 1, "nodes": [{"id": "a", "kind": "math.add", "inputs": {"a": 40, "b": 2}}]}"#;
//! let graph = Graph::from_json(text, Registry::with_std()).unwrap();
//! let mut batch = graph.batch().unwrap();
//! let report = run(&graph, &mut batch, &RunArgs::default(), Progress::Off).unwrap();
//! assert_eq!(report.to_json(), r#"{"outcome":"completed","node_runs":1,"outputs":{"a.out":{"generation":[0],"value":42}}}"#);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod args;
mod drive;
mod error;
mod outputs;
mod report;
pub mod typed;

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::pin::Pin;
use std::process::ExitCode;

use flowloop::flow::{Flow, FlowError, NodeId, Outcome, RunOptions};
use flowloop_graph::{Batch, Graph, Registry, Value};

pub use args::{InputSet, NodeLimit, RunArgs, apply_sets, limits, parse_generation, parse_limit, parse_set};
pub use drive::{DriveError, Driven, Progress, drive};
pub use error::RunFailure;
pub use outputs::{OutputPort, output_ports};
pub use report::{Ending, Format, OutputRow, Report};

/// The future of one flow run.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<Outcome, FlowError>>>>;

/// Something compiled from a graph that can run and be read back by node id: a dynamic
/// [`Batch`] or a deployed binary's typed flow ([`typed::TypedGraph`]).
pub trait Target {
    /// The flow (for statistics and generations).
    fn flow(&self) -> &Flow;
    /// Starts a run with `options`.
    fn start(&mut self, options: RunOptions) -> RunFuture;
    /// The flow node of graph node `node`.
    fn node_id(&self, node: &str) -> Option<NodeId>;
    /// The latest value of output `output` of `node`.
    fn value(&self, node: &str, output: &str) -> Option<Value>;
}

impl Target for Batch {
    fn flow(&self) -> &Flow {
        Batch::flow(self)
    }

    fn start(&mut self, options: RunOptions) -> RunFuture {
        Box::pin(self.run_async(options))
    }

    fn node_id(&self, node: &str) -> Option<NodeId> {
        Batch::node_id(self, node)
    }

    fn value(&self, node: &str, output: &str) -> Option<Value> {
        Batch::value(self, node, output)
    }
}

/// The run options for `graph` on `target`: the file's limits, `--limit`, `--limit-all` and
/// the error policy.
///
/// # Errors
/// A `--limit` on an unknown node.
pub fn run_options(graph: &Graph, target: &dyn Target, args: &RunArgs) -> Result<RunOptions, RunFailure> {
    let mut options = RunOptions::new().terminate_on_error(!args.no_terminate_on_error);
    if let Some(g) = args.limit_all {
        options = options.limit_all(g);
    }
    for l in limits(graph, args)? {
        let id = target.node_id(&l.node).ok_or_else(|| {
            RunFailure::Graph(format!(
                "node `{}` has a limit but was not compiled into the flow",
                l.node
            ))
        })?;
        options = options.limit(id, l.generation);
    }
    Ok(options)
}

/// Runs `target` (compiled from `graph`) with `args` and reads back the printed outputs.
///
/// # Errors
/// A `--limit` on an unknown node, or the event loop could not start.
pub fn run(graph: &Graph, target: &mut dyn Target, args: &RunArgs, progress: Progress) -> Result<Report, RunFailure> {
    let options = run_options(graph, target, args)?;
    let ending = match drive(target.start(options), progress) {
        Ok(Driven::Finished(result)) => ending(result),
        Ok(Driven::Interrupted) => Ending::Interrupted,
        Err(e) => Ending::Failed(vec![e.to_string()]),
    };
    Ok(report(graph, target, ending))
}

fn ending(result: Result<Outcome, FlowError>) -> Ending {
    match result {
        Ok(Outcome::LimitReached { name, generation, .. }) => Ending::LimitReached { node: name, generation },
        Ok(_) => Ending::Completed,
        Err(FlowError::Failed(failures)) => Ending::Failed(failures.iter().map(ToString::to_string).collect()),
        Err(other) => Ending::Failed(vec![other.to_string()]),
    }
}

/// The report of a finished (or stopped) run: the printed outputs and the node runs of the
/// graph's own nodes.
pub fn report(graph: &Graph, target: &dyn Target, ending: Ending) -> Report {
    let flow = target.flow();
    let outputs = output_ports(graph)
        .into_iter()
        .map(|p| OutputRow {
            value: target.value(&p.node, &p.output),
            generation: target.node_id(&p.node).and_then(|id| flow.generation(id)),
            node: p.node,
            output: p.output,
        })
        .collect();
    let node_runs = graph
        .nodes()
        .filter_map(|n| target.node_id(n.id()))
        .map(|id| flow.stats(id).runs)
        .sum();
    Report {
        ending,
        outputs,
        node_runs,
    }
}

/// How a graph becomes a [`Target`] (dynamic batch, or a deployed binary's typed flow).
pub type Compile<'a> = dyn FnOnce(&Graph) -> Result<Box<dyn Target>, RunFailure> + 'a;

/// Loads `text` (the graph file `file`), applies `args`, compiles it with `compile`, runs it
/// and prints the report to stdout. Errors go to stderr naming `file`. Returns the exit code:
/// 0 completed or limit reached, 1 a bad graph or a failed node, 2 a usage error, 130 Ctrl-C.
pub fn main_with(file: &str, text: &str, registry: Registry, args: &RunArgs, compile: Box<Compile<'_>>) -> ExitCode {
    match load_and_run(file, text, registry, args, compile) {
        Ok(report) => {
            let mut stdout = std::io::stdout().lock();
            if report
                .write(args.format(), &mut stdout)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            if let Ending::Failed(errors) = &report.ending {
                for e in errors {
                    print_error(file, e);
                }
            }
            ExitCode::from(report.ending.exit_code())
        }
        Err(failure) => {
            print_error(file, &failure.to_string());
            ExitCode::from(failure.exit_code())
        }
    }
}

fn load_and_run(
    file: &str,
    text: &str,
    registry: Registry,
    args: &RunArgs,
    compile: Box<Compile<'_>>,
) -> Result<Report, RunFailure> {
    let mut graph = load(file, text, registry)?;
    apply_sets(&mut graph, &args.sets)?;
    let mut target = compile(&graph)?;
    let progress = if args.json { Progress::Off } else { Progress::Terminal };
    run(&graph, target.as_mut(), args, progress)
}

/// Loads a graph from `text`; the error names `file` with line and column.
///
/// # Errors
/// [`RunFailure::Graph`] with `file:line:column: message`.
pub fn load(file: &str, text: &str, registry: Registry) -> Result<Graph, RunFailure> {
    Graph::from_json(text, registry)
        .map_err(|e| RunFailure::Graph(format!("{file}:{}:{}: {}", e.line, e.column, e.message)))
}

/// Whether stderr should be coloured: a terminal, and `NO_COLOR` unset or empty.
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints `error: <file>: <message>` to stderr (the file is left out when the message
/// already starts with it).
pub fn print_error(file: &str, message: &str) {
    let prefix = if color_stderr() {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    if message.starts_with(file) {
        eprintln!("{prefix}: {message}");
    } else {
        eprintln!("{prefix}: {file}: {message}");
    }
}

const DEPLOYED_HELP: &str = "\
Runs the graph this program was generated from (by `flowloop deploy`) and prints each
output's value and generation, exactly as `flowloop run` does for the same file and options.
Exit code 0 when the run completed or reached a limit, 1 when a node failed, 2 for bad
options, 130 after Ctrl-C.";

/// The `main` of a deployed graph binary: parses the same options as `flowloop run`, loads
/// the embedded graph `text` (for `--set`, limits and the printed outputs), builds the typed
/// flow with `build` and runs it.
pub fn deployed_main(
    name: &'static str,
    file: &str,
    text: &str,
    build: fn(&Graph) -> Result<Box<dyn Target>, RunFailure>,
) -> ExitCode {
    use clap::{Args as _, FromArgMatches as _};
    let command = RunArgs::augment_args(clap::Command::new(name))
        .about(format!("The graph {file}, compiled to a typed flowloop program"))
        .after_help(DEPLOYED_HELP);
    let args = match command.try_get_matches().and_then(|m| RunArgs::from_arg_matches(&m)) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    main_with(file, text, Registry::with_std(), &args, Box::new(build))
}
