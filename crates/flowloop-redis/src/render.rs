//! Mermaid and DOT renderings of a [`Flow`]: processors as boxes (partitions marked), streams
//! as edges labelled with their names, flow inputs and outputs as round nodes.

use std::fmt::Write;

use crate::flow::{Flow, Producer};

impl Flow {
    /// The flow as a Mermaid `flowchart LR`. Processor `p` is node `p_p`; a flow input or
    /// output stream `s` is node `s_s`; `wait` processors are drawn as hexagons, stream processors are labelled `(stream)`.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for p in self.processors() {
            let id = node_id("p", p.name().as_str());
            let shape = if p.is_wait() { ("{{", "}}") } else { ("[", "]") };
            let label = match (p.is_wait(), p.is_stream()) {
                (true, _) => format!("{} (wait)", p.name()),
                (_, true) => format!("{} (stream)", p.name()),
                _ => p.name().to_string(),
            };
            let _ = writeln!(out, "    {id}{}\"{}\"{}", shape.0, escape(&label), shape.1);
        }
        for (stream, info) in self.streams() {
            let from = match info.producer {
                Producer::FlowInput => {
                    let id = node_id("s", stream.as_str());
                    let _ = writeln!(out, "    {id}((\"{}\"))", escape(stream.as_str()));
                    id
                }
                Producer::Processor(i) => node_id("p", self.processor(i).name().as_str()),
            };
            let label = edge_label(stream.as_str(), info.cap);
            for c in &info.consumers {
                let to = node_id("p", self.processor(*c).name().as_str());
                let _ = writeln!(out, "    {from} -->|\"{}\"| {to}", escape(&label));
            }
            if info.is_output {
                let id = node_id("o", stream.as_str());
                let _ = writeln!(out, "    {id}((\"{}\"))", escape(stream.as_str()));
                let _ = writeln!(out, "    {from} -->|\"{}\"| {id}", escape(&label));
            }
        }
        out
    }

    /// The flow as a Graphviz `digraph`, with the same nodes and edges as
    /// [`Flow::to_mermaid`].
    pub fn to_dot(&self) -> String {
        let mut out = format!("digraph \"{}\" {{\n    rankdir=LR;\n", escape(self.name()));
        for p in self.processors() {
            let shape = if p.is_wait() { "hexagon" } else { "box" };
            let id = node_id("p", p.name().as_str());
            let _ = writeln!(
                out,
                "    {id} [label=\"{}\", shape={shape}];",
                escape(p.name().as_str())
            );
        }
        for (stream, info) in self.streams() {
            let from = match info.producer {
                Producer::FlowInput => {
                    let id = node_id("s", stream.as_str());
                    let _ = writeln!(out, "    {id} [label=\"{}\", shape=ellipse];", escape(stream.as_str()));
                    id
                }
                Producer::Processor(i) => node_id("p", self.processor(i).name().as_str()),
            };
            let label = edge_label(stream.as_str(), info.cap);
            let mut targets: Vec<String> = info
                .consumers
                .iter()
                .map(|c| node_id("p", self.processor(*c).name().as_str()))
                .collect();
            if info.is_output {
                let id = node_id("o", stream.as_str());
                let _ = writeln!(out, "    {id} [label=\"{}\", shape=ellipse];", escape(stream.as_str()));
                targets.push(id);
            }
            for to in targets {
                let _ = writeln!(out, "    {from} -> {to} [label=\"{}\"];", escape(&label));
            }
        }
        out.push_str("}\n");
        out
    }
}

fn edge_label(stream: &str, cap: Option<usize>) -> String {
    match cap {
        Some(cap) => format!("{stream} (cap {cap})"),
        None => stream.to_string(),
    }
}

fn node_id(prefix: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{safe}")
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "'")
}
