//! [`RunFailure`]: why a run could not start or print, with the exit code it maps to.

/// Why a graph could not be loaded, prepared or run. Messages name the file, node and port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunFailure {
    /// A bad option or argument: a missing file, `--set` on an unknown input or with a value
    /// of the wrong type, `--limit` on an unknown node. Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The graph file is not a valid graph (malformed JSON, unknown kind, bad edge). Exit
    /// code 1.
    #[error("{0}")]
    Graph(String),
}

impl RunFailure {
    /// The process exit code: 2 for usage errors, 1 for bad graphs.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunFailure::Usage(_) => 2,
            RunFailure::Graph(_) => 1,
        }
    }
}
