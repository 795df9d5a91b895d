//! The `flowloop` command: run, check, export, list, test and deploy dataflow graph files.
//!
//! Each subcommand is one module with an `Args` struct (clap derive) and a `main` function
//! returning the exit code; adding a subcommand is one [`Command`] variant and one module.
//!
//! Exit codes: 0 success; 1 the graph failed, a check found problems or a test case failed;
//! 2 a usage error (bad option, missing file, unknown node in `--limit`, wrong type on
//! `--set`); 130 the run was stopped with Ctrl-C. Errors go to stderr and name the file, the
//! node and the port. `NO_COLOR` turns colours off; `FLOWLOOP_LOG` (like `RUST_LOG`, e.g.
//! `FLOWLOOP_LOG=debug`) prints the event loop's tracing output on stderr.
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod check;
mod deploy;
mod diagnose;
mod export;
mod input;
mod nodes;
mod run;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  flowloop run examples/graphs/counter.json
  flowloop run examples/graphs/diamond.json --set src.a=4 --json
  flowloop check examples/graphs/stream.json
  flowloop export examples/graphs/diamond.json --format mermaid
  flowloop nodes math
  flowloop test examples/graphs/diamond.json cases.json
  flowloop deploy examples/graphs/counter.json --out counter-app";

/// Run, check, export, test and deploy flowloop dataflow graphs (JSON graph files).
#[derive(Debug, Parser)]
#[command(name = "flowloop", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a graph until it completes or reaches a limit; print its outputs.
    Run(run::Args),
    /// Check a graph's wiring, types, cycles and kinds without running it.
    Check(check::Args),
    /// Print a graph as Graphviz DOT, Mermaid, or canonical JSON.
    Export(export::Args),
    /// List the registered node kinds with their ports and docs.
    Nodes(nodes::Args),
    /// Run test cases (inputs and expected outputs) against a graph.
    Test(test::Args),
    /// Generate a Cargo project that runs the graph as a standalone typed program.
    Deploy(deploy::Args),
}

impl Command {
    fn main(self) -> ExitCode {
        match self {
            Command::Run(args) => run::main(args),
            Command::Check(args) => check::main(args),
            Command::Export(args) => export::main(args),
            Command::Nodes(args) => nodes::main(args),
            Command::Test(args) => test::main(args),
            Command::Deploy(args) => deploy::main(args),
        }
    }
}

fn main() -> ExitCode {
    Cli::parse().command.main()
}
