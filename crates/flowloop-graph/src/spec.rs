//! The JSON spec of a graph: load, save (canonical text), errors with line and column.
//!
//! ```text
//! {
//!   "format": 1,
//!   "nodes": [
//!     {"id":"a","inputs":{"a":40,"b":2},"kind":"math.add"},
//!     {"id":"show","kind":"flow.passthrough"}
//!   ],
//!   "edges": [
//!     {"from":"a.out","to":"show.value"}
//!   ],
//!   "layout": {
//!     "a": {"x":0.0,"y":0.0}
//!   }
//! }
//! ```
//! A spec may declare the composite and higher-order kinds its nodes use (`kinds`, see
//! [`KindDecl`]). The semantic part (`kinds`, `nodes`, `edges`, `inputs`, `outputs`, `limits`) is separate from
//! `layout`; keys are written in a fixed order, one node, edge or layout entry per line.
//! `docs/graph-spec.md` describes every field; `graph-spec.schema.json` is its JSON Schema.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::graph::{Graph, GraphError, Layout, PortRef};
use crate::{Registry, Value};

/// The spec format this build reads and writes.
pub const FORMAT: u64 = 1;

/// A graph spec as data (what the JSON text deserializes into).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    /// The format version ([`FORMAT`]).
    pub format: u64,
    /// The graph's name (its kind name when used as a composite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the graph does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// Kinds this spec declares for its own nodes (composites and higher-order kinds), in
    /// order: each may use the ones before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<KindDecl>,
    /// The nodes, in creation order.
    pub nodes: Vec<NodeSpec>,
    /// The edges.
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
    /// Declared graph inputs: name → `node.input`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// Declared graph outputs: name → `node.output`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// Generation limits for batch runs: node → `[run]` or `[run, chunk]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Vec<u64>>,
    /// Positions and labels; never changes what the graph computes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layout: BTreeMap<String, LayoutSpec>,
}

/// A kind declared inside a spec: a nested graph used as a composite kind, or (with `each`)
/// a higher-order kind running the nested graph once per list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindDecl {
    /// The kind's name, `shelf.kind`.
    pub name: String,
    /// `map`, `filter`, `reduce` or `find`: a higher-order kind over `body` (which declares
    /// input `item`, plus `acc` for `reduce`, and output `out`). Absent: `body` itself is the
    /// kind (a composite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    /// The nested graph (its own `format`, `nodes`, ...; without a `name`, the kind's name is
    /// used, with `.body` appended for a higher-order kind).
    pub body: GraphSpec,
}

/// One node of a spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node's id.
    pub id: String,
    /// The kind's full name.
    pub kind: String,
    /// Constants on inputs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, Value>,
}

/// One edge of a spec: `node.output` → `node.input`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// The source, `node.output`.
    pub from: String,
    /// The target, `node.input`.
    pub to: String,
}

/// A node's layout entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// A display label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Why a spec did not load: where (line and column, 1-based) and what (naming the node and
/// port when there is one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
#[non_exhaustive]
pub struct SpecError {
    /// The line of the problem (1-based; the top of the text when unknown).
    pub line: usize,
    /// The column (1-based, in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The graph-level error, when the JSON was well formed.
    pub graph: Option<Box<GraphError>>,
}

/// Where `"key": "value"` (the `nth` such pair, 0-based) starts in `text`, as a byte offset of
/// the value.
fn find_pair(text: &str, key: &str, value: &str, nth: usize) -> Option<usize> {
    let needle = serde_json::to_string(value).ok()?;
    let key = serde_json::to_string(key).ok()?;
    let mut seen = 0;
    for (pos, _) in text.match_indices(&needle) {
        let before = text[..pos].trim_end();
        let Some(before) = before.strip_suffix(':') else {
            continue;
        };
        if before.trim_end().ends_with(&key) {
            if seen == nth {
                return Some(pos);
            }
            seen += 1;
        }
    }
    None
}

/// Byte offset → (line, column), both 1-based.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let upto = &text[..offset.min(text.len())];
    let line = upto.matches('\n').count() + 1;
    let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

struct Locator<'a> {
    text: &'a str,
}

impl Locator<'_> {
    fn error(&self, at: Option<usize>, err: GraphError) -> SpecError {
        let (line, column) = at.map_or((1, 1), |o| line_col(self.text, o));
        SpecError {
            line,
            column,
            message: err.to_string(),
            graph: Some(Box::new(err)),
        }
    }

    fn node(&self, id: &str, nth: usize, err: GraphError) -> SpecError {
        self.error(find_pair(self.text, "id", id, nth), err)
    }

    fn edge(&self, end: &str, text: &str, err: GraphError) -> SpecError {
        self.error(find_pair(self.text, end, text, 0), err)
    }
}

impl Graph {
    /// Loads a graph from spec text; nothing is half-loaded: either the whole graph or an
    /// error.
    ///
    /// # Errors
    /// [`SpecError`] with line, column and a message naming the node and port: malformed
    /// JSON, an unknown field or format, unknown kinds, nodes or ports, duplicate ids, wrong
    /// types, dangling edges, inputs left without value. (The first of the problems
    /// [`check_json`] lists.)
    pub fn from_json(text: &str, registry: Registry) -> Result<Graph, SpecError> {
        let spec = parse(text)?;
        Graph::from_spec_located(&spec, registry, &Locator { text })
    }

    /// Builds a graph from a spec value (errors carry line 1, column 1).
    ///
    /// # Errors
    /// As [`from_json`](Graph::from_json).
    pub fn from_spec(spec: &GraphSpec, registry: Registry) -> Result<Graph, SpecError> {
        Graph::from_spec_located(spec, registry, &Locator { text: "" })
    }

    fn from_spec_located(spec: &GraphSpec, registry: Registry, at: &Locator<'_>) -> Result<Graph, SpecError> {
        let (g, problems) = load(spec, registry, at)?;
        match problems.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(g),
        }
    }

    /// The spec of this graph.
    pub fn to_spec(&self) -> GraphSpec {
        let nodes = self
            .nodes()
            .map(|n| NodeSpec {
                id: n.id().to_string(),
                kind: n.spec().name.clone(),
                inputs: n.constants().clone(),
            })
            .collect();
        let edges = self
            .edges()
            .map(|(from, to)| EdgeSpec {
                from: from.to_string(),
                to: to.to_string(),
            })
            .collect();
        let layout = self
            .nodes()
            .filter_map(|n| {
                n.layout().map(|l| {
                    let spec = LayoutSpec {
                        x: l.x,
                        y: l.y,
                        label: l.label.clone(),
                    };
                    (n.id().to_string(), spec)
                })
            })
            .collect();
        let refs = |m: &BTreeMap<String, PortRef>| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        GraphSpec {
            format: FORMAT,
            name: self.meta.name.clone(),
            doc: self.meta.doc.clone(),
            kinds: self.meta.kinds.clone(),
            nodes,
            edges,
            inputs: refs(&self.meta.inputs),
            outputs: refs(&self.meta.outputs),
            limits: self.meta.limits.iter().map(|(k, g)| (k.clone(), g.to_vec())).collect(),
            layout,
        }
    }

    /// The canonical JSON text: fixed key order, one node, edge or layout entry per line,
    /// semantic part first and `layout` last. Saving, loading and saving again gives the same
    /// text.
    pub fn to_json(&self) -> String {
        write_spec(&self.to_spec())
    }
}

/// Every problem of a graph spec text, worded and placed exactly as [`Graph::from_json`]
/// reports its first one: malformed JSON or a wrong format (then nothing else); every node,
/// constant, edge, declaration and layout problem; every input left without a value; and,
/// when the graph loads, what compiling it for a run refuses (such as a cycle none of whose
/// nodes can start). Empty when the graph loads and compiles.
///
/// ```
/// use flowloop_graph::{Registry, spec::check_json};
/// let text = r#"{"format": 1, "nodes": [
///   {"id": "a", "kind": "math.nope"},
///   {"id": "b", "kind": "math.add", "inputs": {"a": "text"}}]}"#;
/// let problems = check_json(text, Registry::with_std());
/// assert_eq!(problems.len(), 2);
/// assert_eq!((problems[0].line, problems[1].line), (2, 3));
/// assert!(problems[1].message.contains("input `a` of node `b`"));
/// ```
pub fn check_json(text: &str, registry: Registry) -> Vec<SpecError> {
    let at = Locator { text };
    let loaded = parse(text).and_then(|spec| load(&spec, registry, &at));
    let (g, mut problems) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return vec![e],
    };
    if problems.is_empty() {
        if let Err(e) = g.batch() {
            let at_node = match &e {
                GraphError::CannotStart { node, .. } => find_pair(text, "id", node, 0),
                _ => None,
            };
            problems.push(at.error(at_node, e));
        }
    }
    problems
}

/// The spec value of `text`, or where the JSON is wrong.
fn parse(text: &str) -> Result<GraphSpec, SpecError> {
    serde_json::from_str(text).map_err(|e| SpecError {
        line: e.line().max(1),
        column: e.column().max(1),
        message: e.to_string(),
        graph: None,
    })
}

/// Builds what can be built of `spec` and lists every problem met on the way, in the order
/// the steps meet them. A wrong format stops at once.
fn load(spec: &GraphSpec, registry: Registry, at: &Locator<'_>) -> Result<(Graph, Vec<SpecError>), SpecError> {
    if spec.format != FORMAT {
        return Err(SpecError {
            line: 1,
            column: 1,
            message: format!("unsupported format {} (this build reads format {FORMAT})", spec.format),
            graph: None,
        });
    }
    let registry = declare_kinds(spec, registry, at)?;
    let mut g = Graph::new(registry);
    g.meta.kinds = spec.kinds.clone();
    g.meta.name = spec.name.clone();
    g.meta.doc = spec.doc.clone();
    let mut problems = Vec::new();
    add_nodes(&mut g, spec, at, &mut problems);
    add_edges(&mut g, spec, at, &mut problems);
    add_declarations(&mut g, spec, at, &mut problems);
    add_layout(&mut g, spec, at, &mut problems);
    unconnected(&g, spec, at, &mut problems);
    Ok((g, problems))
}

/// `registry` with the kinds `spec` declares, each built on the ones before it.
fn declare_kinds(spec: &GraphSpec, mut registry: Registry, at: &Locator<'_>) -> Result<Registry, SpecError> {
    for decl in &spec.kinds {
        let located = |message: String, graph: Option<Box<GraphError>>| {
            let (line, column) = find_pair(at.text, "name", &decl.name, 0).map_or((1, 1), |o| line_col(at.text, o));
            SpecError {
                line,
                column,
                message: format!("kind `{}`: {message}", decl.name),
                graph,
            }
        };
        let kind = decl_kind(decl, &registry).map_err(|e| match e {
            DeclError::Body(e) => located(format!("body: {}", e.message), e.graph),
            DeclError::Graph(e) => located(e.to_string(), Some(Box::new(e))),
        })?;
        registry.register_kind(kind).map_err(|e| located(e.to_string(), None))?;
    }
    Ok(registry)
}

/// Why a declared kind could not be built.
enum DeclError {
    Body(SpecError),
    Graph(GraphError),
}

fn decl_kind(decl: &KindDecl, registry: &Registry) -> Result<std::sync::Arc<dyn crate::kind::Kind>, DeclError> {
    use crate::std::each::{Each, EachKind};
    if registry.get(&decl.name).is_some() {
        return Err(DeclError::Graph(GraphError::BadDeclaration {
            what: "kind",
            name: decl.name.clone(),
            problem: "a kind of this name is already registered (pick another name or shelf)".into(),
        }));
    }
    let op = match decl.each.as_deref() {
        None => None,
        Some("map") => Some(Each::Map),
        Some("filter") => Some(Each::Filter),
        Some("reduce") => Some(Each::Reduce),
        Some("find") => Some(Each::Find),
        Some(other) => {
            return Err(DeclError::Graph(GraphError::BadDeclaration {
                what: "kind",
                name: decl.name.clone(),
                problem: format!("`each` is `{other}`; expected map, filter, reduce or find"),
            }));
        }
    };
    let mut body = decl.body.clone();
    if body.name.is_none() {
        let suffix = if op.is_some() { ".body" } else { "" };
        body.name = Some(format!("{}{suffix}", decl.name));
    }
    let body = Graph::from_spec(&body, registry.clone()).map_err(DeclError::Body)?;
    Ok(match op {
        Some(op) => std::sync::Arc::new(EachKind::new(op, &decl.name, body).map_err(DeclError::Graph)?),
        None => {
            if body.name() != Some(decl.name.as_str()) {
                return Err(DeclError::Graph(GraphError::BadDeclaration {
                    what: "kind",
                    name: decl.name.clone(),
                    problem: "a composite's body must be named like the kind (or have no name)".into(),
                }));
            }
            std::sync::Arc::new(crate::composite::CompositeKind::new(body).map_err(DeclError::Graph)?)
        }
    })
}

fn add_nodes(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>, problems: &mut Vec<SpecError>) {
    let mut seen: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for n in &spec.nodes {
        let nth = *seen.entry(&n.id).and_modify(|c| *c += 1).or_insert(0);
        if let Err(e) = g.add(&n.kind, Some(&n.id)) {
            problems.push(at.node(&n.id, nth, e));
            continue;
        }
        for (input, value) in &n.inputs {
            if let Err(e) = g.set_constant(&n.id, input, value.clone()) {
                problems.push(at.node(&n.id, nth, e));
            }
        }
    }
}

fn parse_ref(text: &str, what: &'static str) -> Result<PortRef, GraphError> {
    PortRef::parse(text).ok_or_else(|| GraphError::BadDeclaration {
        what,
        name: text.to_string(),
        problem: "expected `node.port`".into(),
    })
}

/// Whether `node` is in the file but was refused (its problem is listed already).
fn refused(g: &Graph, spec: &GraphSpec, node: &str) -> bool {
    g.node(node).is_none() && spec.nodes.iter().any(|n| n.id == node)
}

fn add_edges(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>, problems: &mut Vec<SpecError>) {
    for e in &spec.edges {
        let ends = parse_ref(&e.from, "edge source")
            .map_err(|err| at.edge("from", &e.from, err))
            .and_then(|from| {
                Ok((
                    from,
                    parse_ref(&e.to, "edge target").map_err(|err| at.edge("to", &e.to, err))?,
                ))
            });
        let (from, to) = match ends {
            Ok(ends) => ends,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        if refused(g, spec, &from.node) || refused(g, spec, &to.node) {
            continue;
        }
        if let Err(err) = g.connect(&from.node, &from.port, &to.node, &to.port) {
            let from_side = matches!(&err, GraphError::UnknownNode { node } if *node == from.node)
                || matches!(err, GraphError::UnknownOutput { .. });
            problems.push(if from_side {
                at.edge("from", &e.from, err)
            } else {
                at.edge("to", &e.to, err)
            });
        }
    }
}

fn add_declarations(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>, problems: &mut Vec<SpecError>) {
    let declared = [("input", &spec.inputs), ("output", &spec.outputs)];
    for (what, map) in declared {
        for (name, target) in map {
            let result = parse_ref(target, what).and_then(|r| match what {
                "input" => g.declare_input(name, &r.node, &r.port),
                _ => g.declare_output(name, &r.node, &r.port),
            });
            if let Err(e) = result {
                problems.push(at.error(find_pair(at.text, name, target, 0), e));
            }
        }
    }
    for (node, parts) in &spec.limits {
        let result = match parts.as_slice() {
            [r] => g.set_limit(node, flowloop::flow::Generation::finished(*r)),
            [r, c] => g.set_limit(node, flowloop::flow::Generation::chunk(*r, *c)),
            _ => Err(GraphError::BadDeclaration {
                what: "limit",
                name: node.clone(),
                problem: "a generation is [run] or [run, chunk]".into(),
            }),
        };
        if let Err(e) = result {
            problems.push(at.error(at.text.find(&format!("\"{node}\"")), e));
        }
    }
}

fn add_layout(g: &mut Graph, spec: &GraphSpec, at: &Locator<'_>, problems: &mut Vec<SpecError>) {
    for (node, l) in &spec.layout {
        let layout = Layout {
            x: l.x,
            y: l.y,
            label: l.label.clone(),
        };
        if let Err(e) = g.set_layout(node, layout) {
            problems.push(at.error(at.text.rfind(&format!("\"{node}\"")), e));
        }
    }
}

/// Every input without an edge or a value ([`Graph::validate`]'s rule), placed at its node;
/// an input whose constant was refused is left out (its problem is listed already).
fn unconnected(g: &Graph, spec: &GraphSpec, at: &Locator<'_>, problems: &mut Vec<SpecError>) {
    for e in g.unconnected() {
        let GraphError::Unconnected { node, input } = &e else {
            continue;
        };
        let given = spec.nodes.iter().find(|n| n.id == *node);
        if given.is_some_and(|n| n.inputs.contains_key(input)) {
            continue;
        }
        problems.push(at.node(node, 0, e.clone()));
    }
}

fn compact<T: Serialize>(v: &T) -> String {
    // Through `serde_json::Value` so object keys come out sorted (a stable order).
    let value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    serde_json::to_string(&value).unwrap_or_else(|_| "null".into())
}

fn write_list<T: Serialize>(out: &mut String, key: &str, items: &[T], last: bool) {
    let _ = write!(out, "  \"{key}\": [");
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 == items.len() { "" } else { "," };
        let _ = write!(out, "\n    {}{sep}", compact(item));
    }
    let close = if items.is_empty() { "]" } else { "\n  ]" };
    let _ = writeln!(out, "{close}{}", if last { "" } else { "," });
}

fn write_map<T: Serialize>(out: &mut String, key: &str, items: &BTreeMap<String, T>, last: bool) {
    let _ = write!(out, "  \"{key}\": {{");
    for (i, (k, v)) in items.iter().enumerate() {
        let sep = if i + 1 == items.len() { "" } else { "," };
        let _ = write!(out, "\n    {}: {}{sep}", compact(k), compact(v));
    }
    let _ = writeln!(out, "\n  }}{}", if last { "" } else { "," });
}

/// Canonical text of a spec.
pub fn write_spec(spec: &GraphSpec) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"format\": {},", spec.format);
    if let Some(name) = &spec.name {
        let _ = writeln!(out, "  \"name\": {},", compact(name));
    }
    if !spec.doc.is_empty() {
        let _ = writeln!(out, "  \"doc\": {},", compact(&spec.doc));
    }
    let maps: Vec<(&str, BTreeMap<String, serde_json::Value>)> = vec![
        ("inputs", to_json_map(&spec.inputs)),
        ("outputs", to_json_map(&spec.outputs)),
        ("limits", to_json_map(&spec.limits)),
        ("layout", to_json_map(&spec.layout)),
    ];
    let maps: Vec<_> = maps.into_iter().filter(|(_, m)| !m.is_empty()).collect();
    if !spec.kinds.is_empty() {
        write_list(&mut out, "kinds", &spec.kinds, false);
    }
    write_list(&mut out, "nodes", &spec.nodes, false);
    write_list(&mut out, "edges", &spec.edges, maps.is_empty());
    for (i, (key, m)) in maps.iter().enumerate() {
        write_map(&mut out, key, m, i + 1 == maps.len());
    }
    out.push_str("}\n");
    out
}

fn to_json_map<T: Serialize>(m: &BTreeMap<String, T>) -> BTreeMap<String, serde_json::Value> {
    m.iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
        .collect()
}
