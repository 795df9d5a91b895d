//! Helpers shared by the graph tests.
#![allow(dead_code)]

use std::path::PathBuf;

use flowloop_graph::{Graph, Registry};

/// Path of an example graph in the repository's `examples/graphs/`.
pub fn example_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/graphs")
        .join(name)
}

/// The text of an example graph.
pub fn example_text(name: &str) -> String {
    std::fs::read_to_string(example_path(name)).expect("example graphs are in the repository")
}

/// An example graph loaded with the standard registry.
pub fn example(name: &str) -> Graph {
    Graph::from_json(&example_text(name), Registry::with_std()).expect("example graphs load")
}
