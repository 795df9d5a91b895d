//! `flowloop run`: batch-run a graph file and print its outputs.

use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_graph::Graph;
use flowloop_run::{RunArgs, RunFailure, Target};

use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop run examples/graphs/counter.json
  flowloop run examples/graphs/counter.json --limit next=9 --json
  flowloop run examples/graphs/diamond.json --set src.a=4 --set right.b=0.5
  flowloop run examples/graphs/stream.json --limit-all 0,2

Prints each output's value and generation: the graph's declared outputs, else the nodes whose
outputs feed nothing, else every node. Exit code 0 when the run completed or reached a limit,
1 when a node failed, 2 for bad options, 130 after Ctrl-C (which prints what ran so far).";

/// `flowloop run GRAPH.json [options]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file.
    graph: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

fn compile(graph: &Graph) -> Result<Box<dyn Target>, RunFailure> {
    let batch = graph.batch().map_err(|e| RunFailure::Graph(e.to_string()))?;
    Ok(Box::new(batch))
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let text = match input::read(&args.graph) {
        Ok(text) => text,
        Err(e) => return input::fail(&args.graph, &e),
    };
    let file = input::display(&args.graph);
    flowloop_run::main_with(&file, &text, input::registry(), &args.run, Box::new(compile))
}
