//! Reading the files named on the command line.

use std::path::Path;

use flowloop_graph::{Graph, Registry};
use flowloop_run::RunFailure;

/// The registry every subcommand uses: the standard shelves.
pub fn registry() -> Registry {
    Registry::with_std()
}

/// How a file is named in messages: the path as given.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Reads a file named on the command line.
///
/// # Errors
/// [`RunFailure::Usage`] naming the file and saying why it could not be read.
pub fn read(path: &Path) -> Result<String, RunFailure> {
    std::fs::read_to_string(path)
        .map_err(|e| RunFailure::Usage(format!("{}: cannot read the file: {e} (check the path)", display(path))))
}

/// Reads and loads a graph file.
///
/// # Errors
/// The file cannot be read (usage error) or is not a valid graph (graph error with line and
/// column).
pub fn graph(path: &Path) -> Result<Graph, RunFailure> {
    let text = read(path)?;
    flowloop_run::load(&display(path), &text, registry())
}

/// Prints `failure` for `path` and returns its exit code.
pub fn fail(path: &Path, failure: &RunFailure) -> std::process::ExitCode {
    flowloop_run::print_error(&display(path), &failure.to_string());
    std::process::ExitCode::from(failure.exit_code())
}
