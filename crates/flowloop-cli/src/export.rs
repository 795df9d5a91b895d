//! `flowloop export`: a graph as Graphviz DOT, Mermaid, or canonical JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_graph::diagram;

use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop export examples/graphs/diamond.json --format dot | dot -Tsvg > diamond.svg
  flowloop export examples/graphs/stream.json --format mermaid
  flowloop export my-graph.json --format json > my-graph.canonical.json

json is the canonical form: fixed key order, one node, edge or layout entry per line;
exporting it again gives the same text.";

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// The canonical JSON spec.
    Json,
}

/// `flowloop export GRAPH.json --format dot|mermaid|json`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file.
    graph: PathBuf,
    /// What to print.
    #[arg(long, value_enum)]
    format: ExportFormat,
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let graph = match input::graph(&args.graph) {
        Ok(g) => g,
        Err(e) => return input::fail(&args.graph, &e),
    };
    let text = match args.format {
        ExportFormat::Dot => diagram::dot(&graph),
        ExportFormat::Mermaid => diagram::mermaid(&graph),
        ExportFormat::Json => graph.to_json(),
    };
    print!("{text}");
    ExitCode::SUCCESS
}
