//! Diagrams of a [`Graph`]: Graphviz DOT and Mermaid, with node ids, kinds and port names.
//!
//! ```
//! use flowloop_graph::{Graph, Registry, diagram};
//! let mut g = Graph::new(Registry::with_std());
//! g.add("math.add", Some("a")).unwrap();
//! g.add("flow.passthrough", Some("show")).unwrap();
//! g.connect("a", "out", "show", "value").unwrap();
//! assert!(diagram::dot(&g).contains("\"a\" -> \"show\" [label=\"out → value\"];"));
//! assert!(diagram::mermaid(&g).contains("a -->|\"out → value\"| show"));
//! ```

use std::fmt::Write as _;

use crate::{Graph, STREAM_OUTPUT};

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Mermaid labels are quoted; a double quote inside becomes `#quot;`.
fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// The graph in Graphviz DOT: one box per node labelled `id` and `kind` (streaming kinds with
/// a double border), one edge per connection labelled `output → input`; stream edges dashed.
pub fn dot(graph: &Graph) -> String {
    let mut out = String::from("digraph flow {\n  rankdir=LR;\n  node [shape=box];\n");
    for n in graph.nodes() {
        let double = if n.spec().stream.is_some() {
            ", peripheries=2"
        } else {
            ""
        };
        let label = format!("{}\\n{}", dot_escape(n.id()), dot_escape(&n.spec().name));
        let _ = writeln!(out, "  \"{}\" [label=\"{label}\"{double}];", dot_escape(n.id()));
    }
    for (from, to) in graph.edges() {
        let style = if from.port == STREAM_OUTPUT {
            ", style=dashed"
        } else {
            ""
        };
        let label = dot_escape(&format!("{} → {}", from.port, to.port));
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{label}\"{style}];",
            dot_escape(&from.node),
            dot_escape(&to.node)
        );
    }
    out.push_str("}\n");
    out
}

/// The graph as a Mermaid flowchart: nodes `id["id<br/>kind"]` (streaming kinds as
/// subroutines `[[...]]`), edges labelled `output → input`; stream edges dotted.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in graph.nodes() {
        let label = mermaid_escape(&format!("{}<br/>{}", n.id(), n.spec().name));
        if n.spec().stream.is_some() {
            let _ = writeln!(out, "  {}[[\"{label}\"]]", n.id());
        } else {
            let _ = writeln!(out, "  {}[\"{label}\"]", n.id());
        }
    }
    for (from, to) in graph.edges() {
        let arrow = if from.port == STREAM_OUTPUT { "-.->" } else { "-->" };
        let label = mermaid_escape(&format!("{} → {}", from.port, to.port));
        let _ = writeln!(out, "  {} {arrow}|\"{label}\"| {}", from.node, to.node);
    }
    out
}
