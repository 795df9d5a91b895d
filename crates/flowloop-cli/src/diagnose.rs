//! Finding every problem of a graph file at once (what `flowloop check` reports), each with
//! its node, port and position in the file.

use std::collections::{BTreeMap, HashMap};

use flowloop_graph::kind::InputMode;
use flowloop_graph::spec::{FORMAT, GraphSpec};
use flowloop_graph::{Graph, GraphError, PortRef, Registry};
use serde::Serialize;

/// One problem of a graph file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based, in characters).
    pub column: usize,
    /// The node involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The port involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

/// Positions in the file's text.
struct Locator<'a> {
    text: &'a str,
}

impl Locator<'_> {
    /// The byte offset of the value of the `nth` `"key": "value"` pair.
    fn pair(&self, key: &str, value: &str, nth: usize) -> Option<usize> {
        let needle = serde_json::to_string(value).ok()?;
        let key = serde_json::to_string(key).ok()?;
        self.text
            .match_indices(&needle)
            .map(|(pos, _)| pos)
            .filter(|&pos| {
                let before = self.text[..pos].trim_end();
                before.strip_suffix(':').is_some_and(|b| b.trim_end().ends_with(&key))
            })
            .nth(nth)
    }

    /// The byte offset of the first `"name"` used as an object key.
    fn key(&self, name: &str) -> Option<usize> {
        let needle = serde_json::to_string(name).ok()?;
        self.text
            .match_indices(&needle)
            .map(|(pos, _)| pos)
            .find(|&pos| self.text[pos + needle.len()..].trim_start().starts_with(':'))
    }

    /// Offset → (line, column), 1-based.
    fn line_col(&self, offset: Option<usize>) -> (usize, usize) {
        let Some(offset) = offset else { return (1, 1) };
        let upto = &self.text[..offset.min(self.text.len())];
        let line = upto.matches('\n').count() + 1;
        let column = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn problem(&self, at: Option<usize>, err: &GraphError) -> Problem {
        let (line, column) = self.line_col(at);
        let (node, port) = culprit(err);
        Problem {
            line,
            column,
            node,
            port,
            message: err.to_string(),
        }
    }
}

/// The node and port a graph error names.
fn culprit(err: &GraphError) -> (Option<String>, Option<String>) {
    use GraphError as E;
    match err {
        E::UnknownKind { node, .. } | E::UnknownNode { node } | E::DuplicateId { node } | E::BadId { node } => {
            (Some(node.clone()), None)
        }
        E::UnknownInput { node, input, .. }
        | E::TypeMismatch { node, input, .. }
        | E::AlreadyConnected { node, input, .. }
        | E::StreamToPlain { node, input, .. }
        | E::PlainToStream { node, input, .. }
        | E::NotConnected { node, input }
        | E::BadConstant { node, input, .. }
        | E::StreamConstant { node, input }
        | E::Unconnected { node, input } => (Some(node.clone()), Some(input.clone())),
        E::UnknownOutput { node, output, .. } => (Some(node.clone()), Some(output.clone())),
        _ => (None, None),
    }
}

/// Every problem of the graph text: malformed JSON (then nothing else), unknown kinds, bad
/// ids, constants of the wrong type, dangling or mistyped edges, inputs left without a value,
/// bad declarations and limits, and cycles that no default can start.
pub fn diagnose(text: &str, registry: Registry) -> Vec<Problem> {
    let spec: GraphSpec = match serde_json::from_str(text) {
        Ok(spec) => spec,
        Err(e) => {
            return vec![Problem {
                line: e.line().max(1),
                column: e.column().max(1),
                node: None,
                port: None,
                message: format!("not a graph spec: {e}"),
            }];
        }
    };
    let at = Locator { text };
    if spec.format != FORMAT {
        let (line, column) = at.line_col(at.key("format"));
        let message = format!(
            "unsupported format {} (this flowloop reads format {FORMAT})",
            spec.format
        );
        return vec![Problem {
            line,
            column,
            node: None,
            port: None,
            message,
        }];
    }
    let mut graph = Graph::new(registry);
    let mut problems = add_nodes(&mut graph, &spec, &at);
    problems.extend(add_edges(&mut graph, &spec, &at));
    problems.extend(check_declarations(&mut graph, &spec, &at));
    problems.extend(unconnected(&graph, &spec, &at));
    problems.extend(cycles(&graph, &at));
    problems.sort_by_key(|p| (p.line, p.column));
    problems
}

fn add_nodes(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in &spec.nodes {
        let nth = *seen.entry(&n.id).and_modify(|c| *c += 1).or_insert(0);
        let pos = at.pair("id", &n.id, nth);
        if let Err(e) = g.add(&n.kind, Some(&n.id)) {
            problems.push(at.problem(pos, &e));
            continue;
        }
        for (input, value) in &n.inputs {
            if let Err(e) = g.set_constant(&n.id, input, value.clone()) {
                problems.push(at.problem(pos, &e));
            }
        }
    }
    problems
}

fn add_edges(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for e in &spec.edges {
        let (Some(from), Some(to)) = (PortRef::parse(&e.from), PortRef::parse(&e.to)) else {
            let (line, column) = at.line_col(at.pair("from", &e.from, 0));
            problems.push(Problem {
                line,
                column,
                node: None,
                port: None,
                message: format!("edge `{}` → `{}`: write both ends as `node.port`", e.from, e.to),
            });
            continue;
        };
        if let Some(problem) = dangling(g, spec, at, [("from", &e.from, &from), ("to", &e.to, &to)]) {
            problems.extend(problem);
            continue;
        }
        if let Err(err) = g.connect(&from.node, &from.port, &to.node, &to.port) {
            let from_side = matches!(err, GraphError::UnknownOutput { .. });
            let pos = if from_side {
                at.pair("from", &e.from, 0)
            } else {
                at.pair("to", &e.to, 0)
            };
            problems.push(at.problem(pos, &err));
        }
    }
    problems
}

/// An edge end naming a node that is not in the graph: `Some(None)` when that node is in the
/// file but failed to load (reported already), `Some(Some(problem))` when it is not in the
/// file at all, `None` when both ends exist.
fn dangling(
    g: &Graph,
    spec: &GraphSpec,
    at: &Locator<'_>,
    ends: [(&str, &String, &PortRef); 2],
) -> Option<Option<Problem>> {
    let (end, text, r) = ends.into_iter().find(|(_, _, r)| g.node(&r.node).is_none())?;
    if spec.nodes.iter().any(|n| n.id == r.node) {
        return Some(None);
    }
    let err = GraphError::UnknownNode { node: r.node.clone() };
    Some(Some(at.problem(at.pair(end, text, 0), &err)))
}

fn check_declarations(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let declared = [("input", &spec.inputs), ("output", &spec.outputs)];
    for (what, map) in declared {
        for (name, target) in map {
            let pos = at.pair(name, target, 0);
            let result = match PortRef::parse(target) {
                None => Err(GraphError::BadDeclaration {
                    what,
                    name: name.clone(),
                    problem: format!("`{target}` is not `node.port`"),
                }),
                Some(r) if what == "input" => g.declare_input(name, &r.node, &r.port),
                Some(r) => g.declare_output(name, &r.node, &r.port),
            };
            if let Err(e) = result {
                problems.push(at.problem(pos, &e));
            }
        }
    }
    problems.extend(check_limits(g, &spec.limits, at));
    problems
}

fn check_limits(g: &Graph, limits: &BTreeMap<String, Vec<u64>>, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (node, parts) in limits {
        let err = if g.node(node).is_none() {
            GraphError::UnknownNode { node: node.clone() }
        } else if !(1..=2).contains(&parts.len()) {
            GraphError::BadDeclaration {
                what: "limit",
                name: node.clone(),
                problem: "a generation is [run] or [run, chunk]".into(),
            }
        } else {
            continue;
        };
        problems.push(at.problem(at.key(node), &err));
    }
    problems
}

/// Inputs with neither an edge nor a value (every one, not just the first; an input whose
/// constant was refused is reported once, for the constant).
fn unconnected(g: &Graph, spec: &GraphSpec, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for n in g.nodes() {
        let given = spec.nodes.iter().find(|s| s.id == n.id()).map(|s| &s.inputs);
        for (i, port) in n.spec().inputs.iter().enumerate() {
            let connected = g.source_of(n.id(), &port.name).is_some();
            let refused = given.is_some_and(|c| c.contains_key(&port.name));
            if connected || refused || (port.mode != InputMode::Stream && n.input_value(i).is_some()) {
                continue;
            }
            let err = GraphError::Unconnected {
                node: n.id().to_string(),
                input: port.name.clone(),
            };
            problems.push(at.problem(at.pair("id", n.id(), 0), &err));
        }
    }
    problems
}

/// Cycles none of whose nodes can start: every member has an input from inside the cycle
/// without a value (FLOW_SEMANTICS §4).
fn cycles(g: &Graph, at: &Locator<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for component in crate::check::components(g) {
        let starters = component
            .iter()
            .filter(|n| inside_inputs_without_value(g, &component, n).is_empty());
        if starters.count() > 0 {
            continue;
        }
        let needs: Vec<String> = component
            .iter()
            .map(|n| {
                let inputs = inside_inputs_without_value(g, &component, n);
                format!("`{n}` (inputs {})", inputs.join(", "))
            })
            .collect();
        let first = &component[0];
        let (line, column) = at.line_col(at.pair("id", first, 0));
        problems.push(Problem {
            line,
            column,
            node: Some(first.clone()),
            port: inside_inputs_without_value(g, &component, first).first().cloned(),
            message: format!(
                "the cycle {} cannot start: give one of these inputs a value (a constant in the node's \"inputs\") to use until the cycle has data",
                needs.join(", ")
            ),
        });
    }
    problems
}

/// The inputs of `node` fed from inside `component` that have no value to start with.
fn inside_inputs_without_value(g: &Graph, component: &[String], node: &str) -> Vec<String> {
    let Some(n) = g.node(node) else { return Vec::new() };
    n.spec()
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            g.source_of(node, &p.name)
                .is_some_and(|src| component.contains(&src.node))
        })
        .filter(|(i, _)| n.input_value(*i).is_none())
        .map(|(_, p)| p.name.clone())
        .collect()
}
