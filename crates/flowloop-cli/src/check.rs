//! `flowloop check`: every problem of a graph file, with node, port and position.

use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_graph::{GraphError, SpecError};
use serde::Serialize;

use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop check examples/graphs/counter.json
  flowloop check my-graph.json --json | jq '.problems[].message'

Reports every problem the loader finds, not just the first one `flowloop run` stops at, with
the same words and positions: malformed JSON, unknown kinds, duplicate or bad ids, constants
of the wrong type, edges to unknown nodes or ports, type mismatches, stream outputs into
plain inputs (and the reverse), inputs left without a value, bad declarations, limits and
layout entries; then, once the graph loads, what compiling it refuses, such as a cycle in
which no node has a value to start with. Each line reads
FILE:LINE:COLUMN: MESSAGE. Exit code 0 when the graph is fine, 1 when problems were found,
2 when the file cannot be read. --json prints {\"file\", \"ok\", \"problems\": [{\"line\",
\"column\", \"node\", \"port\", \"message\"}]}.";

/// One problem as printed: where, which node and port, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Problem {
    line: usize,
    column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    message: String,
}

impl From<&SpecError> for Problem {
    fn from(e: &SpecError) -> Problem {
        let (node, port) = e.graph.as_deref().map_or((None, None), culprit);
        Problem {
            line: e.line,
            column: e.column,
            node,
            port,
            message: e.message.clone(),
        }
    }
}

/// The node and port a graph error names.
fn culprit(err: &GraphError) -> (Option<String>, Option<String>) {
    use GraphError as E;
    let named = |node: &String, port: Option<&String>| (Some(node.clone()), port.cloned());
    match err {
        E::UnknownKind { node, .. } | E::UnknownNode { node } | E::DuplicateId { node } | E::BadId { node } => {
            named(node, None)
        }
        E::UnknownInput { node, input, .. }
        | E::TypeMismatch { node, input, .. }
        | E::AlreadyConnected { node, input, .. }
        | E::StreamToPlain { node, input, .. }
        | E::PlainToStream { node, input, .. }
        | E::NotConnected { node, input }
        | E::BadConstant { node, input, .. }
        | E::StreamConstant { node, input }
        | E::Unconnected { node, input } => named(node, Some(input)),
        E::UnknownOutput { node, output, .. } => named(node, Some(output)),
        _ => (None, None),
    }
}

/// `flowloop check GRAPH.json [--json]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file.
    graph: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let text = match input::read(&args.graph) {
        Ok(text) => text,
        Err(e) => return input::fail(&args.graph, &e),
    };
    let file = input::display(&args.graph);
    let problems: Vec<Problem> = flowloop_graph::spec::check_json(&text, input::registry())
        .iter()
        .map(Problem::from)
        .collect();
    if args.json {
        let report = serde_json::json!({ "file": file, "ok": problems.is_empty(), "problems": problems });
        println!("{report}");
    } else {
        print_text(&file, &problems);
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_text(file: &str, problems: &[Problem]) {
    if problems.is_empty() {
        println!("{file}: ok");
        return;
    }
    for p in problems {
        println!("{file}:{}:{}: {}", p.line, p.column, p.message);
    }
    let s = if problems.len() == 1 { "" } else { "s" };
    println!("{} problem{s} found", problems.len());
}
