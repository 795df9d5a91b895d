//! The `main.rs` of a deployed graph: every node built with its kind's typed function.
//!
//! Nodes are created in graph order (the order that decides which node breaks a cycle). An
//! edge whose producer comes later in that order reads a forward reference, defined right
//! after the producer is created. An edge between two ports of the same type connects
//! directly; between different types (`int` into `number`, anything into or out of `any`) it
//! goes through a conversion node (`TypedBuilder::convert`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use flowloop_graph::kind::{InputMode, KindSpec};
use flowloop_graph::typed::TypedFn;
use flowloop_graph::{Graph, GraphNode, PortRef, STREAM_OUTPUT};

/// Why a graph cannot be deployed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The kind has no typed Rust function (it implements `Kind` by hand).
    #[error(
        "node `{node}`: kind `{kind}` has no typed Rust function (it is implemented by hand, not with #[kind]), \
         so it cannot be deployed; `flowloop run` runs it"
    )]
    Untyped {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
    },
    /// A stream input whose producer comes later in the file.
    #[error(
        "stream input `{input}` of node `{node}` reads node `{from}`, which comes later in the file; \
         move `{from}` before `{node}` in \"nodes\""
    )]
    StreamForward {
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
        /// The producer.
        from: String,
    },
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "graph", "t",
];

/// Unique Rust identifiers made from node ids and port names.
#[derive(Debug, Default)]
struct Names {
    taken: HashSet<String>,
}

impl Names {
    fn fresh(&mut self, base: &str) -> String {
        let mut id: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) || KEYWORDS.contains(&id.as_str()) {
            id = format!("n_{id}");
        }
        let mut candidate = id.clone();
        let mut k = 2;
        while !self.taken.insert(candidate.clone()) {
            candidate = format!("{id}_{k}");
            k += 1;
        }
        candidate
    }
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// What the generator knows about one node.
struct NodePlan<'g> {
    node: &'g GraphNode,
    typed: TypedFn,
    var: String,
}

/// The generator's state.
struct Gen<'g> {
    graph: &'g Graph,
    plans: Vec<NodePlan<'g>>,
    position: HashMap<&'g str, usize>,
    names: Names,
    /// Forward references: (producer, output) → variable.
    forwards: HashMap<PortRef, String>,
    uses_unconnected: bool,
    body: String,
}

/// The whole `main.rs` for `graph` read from `file`, as binary `name`.
///
/// # Errors
/// A node whose kind has no typed function, or a stream read before its producer.
pub fn main_rs(graph: &Graph, file: &str, name: &str) -> Result<String, DeployError> {
    let mut generator = Gen::new(graph)?;
    generator.forward_declarations()?;
    for i in 0..generator.plans.len() {
        generator.node(i);
    }
    Ok(generator.finish(file, name))
}

impl<'g> Gen<'g> {
    fn new(graph: &'g Graph) -> Result<Gen<'g>, DeployError> {
        let mut names = Names::default();
        let mut plans = Vec::new();
        for node in graph.nodes() {
            let typed = node.spec().typed.ok_or_else(|| DeployError::Untyped {
                node: node.id().to_string(),
                kind: node.spec().name.clone(),
            })?;
            let var = names.fresh(node.id());
            plans.push(NodePlan { node, typed, var });
        }
        let position = graph.nodes().enumerate().map(|(i, n)| (n.id(), i)).collect();
        Ok(Gen {
            graph,
            plans,
            position,
            names,
            forwards: HashMap::new(),
            uses_unconnected: false,
            body: String::new(),
        })
    }

    /// One forward reference per output read before its node is created.
    fn forward_declarations(&mut self) -> Result<(), DeployError> {
        let mut lines = String::new();
        for (i, plan) in self.plans.iter().enumerate() {
            for port in &plan.node.spec().inputs {
                let Some(src) = self.graph.source_of(plan.node.id(), &port.name) else {
                    continue;
                };
                if self.position[src.node.as_str()] < i || self.forwards.contains_key(src) {
                    continue;
                }
                if src.port == STREAM_OUTPUT {
                    return Err(DeployError::StreamForward {
                        node: plan.node.id().to_string(),
                        input: port.name.clone(),
                        from: src.node.clone(),
                    });
                }
                let var = self.names.fresh(&format!("{}_{}_later", src.node, src.port));
                let _ = writeln!(lines, "    let {var} = t.builder().forward({});", lit(&src.to_string()));
                self.forwards.insert(src.clone(), var);
            }
        }
        if !lines.is_empty() {
            self.body
                .push_str("    // Outputs read before their node is created (the cycles of the graph).\n");
            self.body.push_str(&lines);
        }
        Ok(())
    }

    /// The Rust expression of output `port` of the (already created) node `i`.
    fn output_expr(&self, i: usize, port: &str) -> String {
        let plan = &self.plans[i];
        if port == STREAM_OUTPUT {
            return format!("{}.stream()", plan.var);
        }
        let spec = plan.node.spec();
        match spec.output_index(port) {
            Some(o) if spec.outputs.len() > 1 => format!("{}.output::<{o}>()", plan.var),
            _ => format!("{}.out()", plan.var),
        }
    }

    /// The argument for input `p` of node `i`, after emitting the statements it needs.
    fn argument(&mut self, i: usize, p: usize) -> String {
        let node: &'g GraphNode = self.plans[i].node;
        let (id, port) = (node.id(), &node.spec().inputs[p]);
        let has_value = port.mode != InputMode::Stream && node.input_value(p).is_some();
        let mut stmts = String::new();
        let default = has_value.then(|| {
            let var = self.names.fresh(&format!("{id}_{}", port.name));
            let _ = writeln!(stmts, "    let {var} = t.constant({}, {})?;", lit(id), lit(&port.name));
            var
        });
        let Some(src) = self.graph.source_of(id, &port.name) else {
            self.body.push_str(&stmts);
            self.uses_unconnected = true;
            let var = default.expect("graph validation gives every unconnected plain input a value");
            return format!("unconnected_or({var})");
        };
        let producer = self.position[src.node.as_str()];
        let source = match self.forwards.get(src) {
            Some(fwd) if producer >= i => fwd.clone(),
            _ => self.output_expr(producer, &src.port),
        };
        let produced = output_type(self.plans[producer].node.spec(), &src.port);
        let connected = if src.port == STREAM_OUTPUT || produced == Some(port.ty) {
            source
        } else {
            let var = self.names.fresh(&format!("{id}_{}_converted", port.name));
            let _ = writeln!(
                stmts,
                "    let {var} = t.convert({}, {}, {source});",
                lit(id),
                lit(&port.name)
            );
            var
        };
        self.body.push_str(&stmts);
        match default {
            Some(d) => format!("{connected}.or({d})"),
            None => connected,
        }
    }

    /// The call that creates node `i` with `args`.
    fn call(&self, i: usize, args: &[String]) -> String {
        let args = match args.len() {
            1 => format!("({},)", args[0]),
            _ => format!("({})", args.join(", ")),
        };
        let typed = self.plans[i].typed;
        if typed.streaming {
            let method = if typed.fallible { "try_stream" } else { "stream" };
            format!("t.builder().{method}({}, {args})", typed.node_path())
        } else {
            format!("{}(t.builder(), {args})", typed.node_path())
        }
    }

    /// The statements that create node `i`, name it, register its outputs and define the
    /// forward references to it.
    fn node(&mut self, i: usize) {
        let node: &'g GraphNode = self.plans[i].node;
        let (id, spec) = (node.id(), node.spec());
        let _ = writeln!(self.body, "\n    // {id}: {}", spec.name);
        let args: Vec<String> = (0..spec.inputs.len()).map(|p| self.argument(i, p)).collect();
        let call = self.call(i, &args);
        let var = self.plans[i].var.clone();
        let inputs: Vec<String> = spec.inputs.iter().map(|p| lit(&p.name)).collect();
        let mut lines = format!("    let {var} = {call};\n");
        let _ = writeln!(lines, "    t.node({}, {var}, &[{}]);", lit(id), inputs.join(", "));
        for o in &spec.outputs {
            let _ = writeln!(
                lines,
                "    t.output({}, {}, {});",
                lit(id),
                lit(&o.name),
                self.output_expr(i, &o.name)
            );
        }
        let mut defined: Vec<(&PortRef, &String)> = self.forwards.iter().filter(|(r, _)| r.node == id).collect();
        defined.sort();
        for (r, fwd) in defined {
            let _ = writeln!(
                lines,
                "    t.builder().define({fwd}, {});",
                self.output_expr(i, &r.port)
            );
        }
        self.body.push_str(&lines);
    }

    fn finish(self, file: &str, name: &str) -> String {
        let doc = self.graph.to_spec().doc;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "//! `{name}`: the graph `{file}` as a standalone program, generated by `flowloop deploy`."
        );
        if !doc.is_empty() {
            out.push_str("//!\n");
            for line in doc.lines() {
                let _ = writeln!(out, "//! {line}");
            }
        }
        out.push_str(PREAMBLE);
        if self.uses_unconnected {
            out.push_str("use flowloop::flow::unconnected_or;\n");
        }
        out.push_str("use flowloop_graph::Graph;\nuse flowloop_run::typed::TypedBuilder;\nuse flowloop_run::{RunFailure, Target};\n\n");
        let _ = writeln!(
            out,
            "/// The graph file this program was generated from: `--set`, limits and the printed"
        );
        let _ = writeln!(
            out,
            "/// outputs are read from it, exactly as `flowloop run` reads them."
        );
        let _ = writeln!(
            out,
            "const GRAPH: &str = include_str!({});\n",
            lit(&format!("../{file}"))
        );
        out.push_str("fn main() -> ExitCode {\n");
        let _ = writeln!(
            out,
            "    flowloop_run::deployed_main({}, {}, GRAPH, build)",
            lit(name),
            lit(file)
        );
        out.push_str("}\n\n");
        out.push_str("/// Builds the typed flow: each node with its kind's typed function, constants taken from\n");
        out.push_str("/// `graph` (after `--set`).\n");
        out.push_str("fn build(graph: &Graph) -> Result<Box<dyn Target>, RunFailure> {\n");
        out.push_str("    let mut t = TypedBuilder::new(graph);\n");
        out.push_str(&self.body);
        out.push_str("\n    t.finish()\n}\n");
        out
    }
}

const PREAMBLE: &str = "//!
//! Each node is built with its kind's typed function, so the Rust compiler checks every edge;
//! edges between different port types go through a conversion node. The options and the output
//! are those of `flowloop run` (see `--help`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

";

/// The type of output `port` of a kind.
fn output_type(spec: &KindSpec, port: &str) -> Option<flowloop_graph::Type> {
    spec.output_index(port).map(|i| spec.outputs[i].ty)
}
