//! Graph export: Graphviz DOT and Mermaid.

use std::fmt::Write;

use super::run::Flow;
use super::state::Graph;

fn edges(g: &Graph) -> impl Iterator<Item = (u32, u32, usize, u8, bool)> + '_ {
    g.ports.iter().enumerate().filter_map(move |(pi, p)| {
        let first = g.nodes[p.node as usize].ports.0 as usize;
        p.producer.map(|src| (src, p.node, pi - first, p.level, p.has_default))
    })
}

fn label(g: &Graph, node: u32, input: usize) -> String {
    super::resolve::input_name(g, node, input)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Flow {
    /// The graph in Graphviz DOT: one box per node (streaming nodes doubled), one edge per
    /// connected input labelled with the input; stream edges dashed, defaulted inputs marked `?`.
    pub fn to_dot(&self) -> String {
        let g = self.state().graph.borrow();
        let mut out = String::from("digraph flow {\n  node [shape=box];\n");
        for (i, n) in g.nodes.iter().enumerate() {
            let shape = if n.streaming { ", peripheries=2" } else { "" };
            let _ = writeln!(
                out,
                "  n{i} [label=\"{}\"{shape}];",
                escape(&g.node_name(i as u32).to_string())
            );
        }
        for (src, dst, input, level, def) in edges(&g) {
            let style = if level == 1 { ", style=dashed" } else { "" };
            let mark = if def { "?" } else { "" };
            let _ = writeln!(
                out,
                "  n{src} -> n{dst} [label=\"{}{mark}\"{style}];",
                escape(&label(&g, dst, input))
            );
        }
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart (stream edges dotted, defaulted inputs marked `?`).
    pub fn to_mermaid(&self) -> String {
        let g = self.state().graph.borrow();
        let mut out = String::from("flowchart LR\n");
        for (i, n) in g.nodes.iter().enumerate() {
            let name = g.node_name(i as u32).to_string().replace('"', "'");
            if n.streaming {
                let _ = writeln!(out, "  n{i}[[\"{name}\"]]");
            } else {
                let _ = writeln!(out, "  n{i}[\"{name}\"]");
            }
        }
        for (src, dst, input, level, def) in edges(&g) {
            let arrow = if level == 1 { "-.->" } else { "-->" };
            let mark = if def { "?" } else { "" };
            let text = label(&g, dst, input).replace('"', "'");
            let _ = writeln!(out, "  n{src} {arrow}|\"{text}{mark}\"| n{dst}");
        }
        out
    }
}
