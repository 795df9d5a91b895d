//! Which outputs a run prints.

use std::collections::HashSet;

use flowloop_graph::{Graph, STREAM_OUTPUT};

/// One printed output port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPort {
    /// The node's id.
    pub node: String,
    /// The output's name.
    pub output: String,
}

/// The outputs a run prints, in graph order:
/// 1. the graph's declared `outputs`, if it declares any;
/// 2. otherwise every value output of every node whose outputs feed nothing (the sinks);
/// 3. otherwise (every node feeds another, as in a pure cycle) every value output of every node.
///
/// Stream outputs are never printed (their chunks are gone once consumed); a streaming node's
/// final value is.
pub fn output_ports(graph: &Graph) -> Vec<OutputPort> {
    let declared: HashSet<(&str, &str)> = graph
        .declared_outputs()
        .values()
        .map(|p| (p.node.as_str(), p.port.as_str()))
        .collect();
    let feeding: HashSet<&str> = graph.edges().map(|(from, _)| from.node.as_str()).collect();
    let all_feed = graph.nodes().all(|n| feeding.contains(n.id()));
    let wanted = |node: &str, output: &str| {
        if !declared.is_empty() {
            declared.contains(&(node, output))
        } else {
            all_feed || !feeding.contains(node)
        }
    };
    graph
        .nodes()
        .flat_map(|n| n.spec().outputs.iter().map(move |o| (n.id(), o.name.as_str())))
        .filter(|(node, output)| *output != STREAM_OUTPUT && wanted(node, output))
        .map(|(node, output)| OutputPort {
            node: node.to_string(),
            output: output.to_string(),
        })
        .collect()
}
