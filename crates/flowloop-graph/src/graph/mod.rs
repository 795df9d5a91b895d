//! [`Graph`]: nodes of registered kinds, addressed by id, wired by port name, checked at every
//! edit.

mod error;
mod ports;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use flowloop::flow::Generation;
use rustc_hash::{FxHashMap, FxHashSet};

pub use error::GraphError;
pub use ports::{PortRef, STREAM_OUTPUT};

use crate::kind::{InputMode, Kind, KindSpec};
use crate::{Registry, Value};

/// Where a node sits in an editor and what it is called there (the spec's `layout`; never
/// changes what the graph computes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// A display label.
    pub label: Option<String>,
}

/// One node of a [`Graph`].
#[derive(Clone)]
pub struct GraphNode {
    id: String,
    kind: Arc<dyn Kind>,
    constants: BTreeMap<String, Value>,
    layout: Option<Layout>,
}

impl fmt::Debug for GraphNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphNode")
            .field("id", &self.id)
            .field("kind", &self.kind.spec().name)
            .field("constants", &self.constants)
            .finish()
    }
}

impl GraphNode {
    /// The node's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node's kind.
    pub fn kind(&self) -> &Arc<dyn Kind> {
        &self.kind
    }

    /// The kind's description.
    pub fn spec(&self) -> &KindSpec {
        self.kind.spec()
    }

    /// Constants set on inputs (an unconnected input's value; a connected input's default).
    pub fn constants(&self) -> &BTreeMap<String, Value> {
        &self.constants
    }

    /// The value input `i` has without a connection: its constant, else the kind's default.
    pub fn input_value(&self, i: usize) -> Option<&Value> {
        let port = self.spec().inputs.get(i)?;
        self.constants.get(&port.name).or(port.default.as_ref())
    }

    /// Position and label, if set.
    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }
}

/// What [`Graph::connect`] does when the input already has an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConnected {
    /// Refuse with [`GraphError::AlreadyConnected`].
    Refuse,
    /// Replace the old edge.
    Replace,
}

/// A dataflow graph built by name: nodes of kinds from a [`Registry`], edges from an output
/// to an input, constants on inputs. Every edit is checked at once and either applies fully or
/// returns an error naming the node and port (and changes nothing).
///
/// # Examples
/// ```
/// use flowloop_graph::{Graph, Registry, Value};
/// let mut g = Graph::new(Registry::with_std());
/// let a = g.add("math.add", Some("a")).unwrap();
/// g.set_constant(&a, "a", Value::Int(40)).unwrap();
/// g.set_constant(&a, "b", Value::Int(2)).unwrap();
/// let b = g.add("flow.passthrough", None).unwrap();
/// g.connect(&a, "out", &b, "value").unwrap();
/// let err = g.connect(&a, "out", &b, "nope").unwrap_err();
/// assert_eq!(err.to_string(), "node `passthrough1` (flow.passthrough) has no input `nope` (inputs: value)");
/// let mut run = g.batch().unwrap();
/// run.run().unwrap();
/// assert_eq!(run.value(&b, "out"), Some(Value::Int(42)));
/// ```
#[derive(Clone)]
pub struct Graph {
    registry: Registry,
    nodes: Vec<GraphNode>,
    index: FxHashMap<String, usize>,
    /// Edges keyed by their input (an input has at most one edge), in canonical order.
    edges: BTreeMap<PortRef, PortRef>,
    pub(crate) meta: GraphMeta,
    next_auto: u64,
}

/// The spec parts beside nodes and edges: name, doc, declared inputs/outputs, limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GraphMeta {
    pub(crate) name: Option<String>,
    pub(crate) doc: String,
    /// The kinds the spec declared (registered in the graph's registry), kept for saving.
    pub(crate) kinds: Vec<crate::spec::KindDecl>,
    pub(crate) inputs: BTreeMap<String, PortRef>,
    pub(crate) outputs: BTreeMap<String, PortRef>,
    pub(crate) limits: BTreeMap<String, Generation>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("nodes", &self.nodes)
            .field("edges", &self.edges)
            .finish_non_exhaustive()
    }
}

/// Ids are letters, digits, `_` and `-` (so `node.port` is unambiguous).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Graph {
    /// An empty graph whose nodes come from `registry`.
    pub fn new(registry: Registry) -> Graph {
        Graph {
            registry,
            nodes: Vec::new(),
            index: FxHashMap::default(),
            edges: BTreeMap::new(),
            meta: GraphMeta::default(),
            next_auto: 1,
        }
    }

    /// The registry kinds are looked up in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Adds a node of `kind`, with id `id` or a fresh one (`add1`, `add2`, ... after the kind's
    /// last name part). Returns the id.
    ///
    /// # Errors
    /// Unknown kind, an invalid id, or an id already taken.
    pub fn add(&mut self, kind: &str, id: Option<&str>) -> Result<String, GraphError> {
        let id = match id {
            Some(id) => id.to_string(),
            None => self.fresh_id(kind),
        };
        if !valid_id(&id) {
            return Err(GraphError::BadId { node: id });
        }
        let Some(k) = self.registry.get(kind) else {
            return Err(GraphError::UnknownKind {
                node: id,
                kind: kind.to_string(),
            });
        };
        if self.index.contains_key(&id) {
            return Err(GraphError::DuplicateId { node: id });
        }
        let node = GraphNode {
            id: id.clone(),
            kind: Arc::clone(k),
            constants: BTreeMap::new(),
            layout: None,
        };
        self.index.insert(id.clone(), self.nodes.len());
        self.nodes.push(node);
        Ok(id)
    }

    fn fresh_id(&mut self, kind: &str) -> String {
        let base: String = kind
            .rsplit('.')
            .next()
            .unwrap_or(kind)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let base = if base.is_empty() { "node".to_string() } else { base };
        loop {
            let id = format!("{base}{}", self.next_auto);
            self.next_auto += 1;
            if !self.index.contains_key(&id) {
                return id;
            }
        }
    }

    /// Removes a node and every edge to or from it.
    ///
    /// # Errors
    /// Unknown node.
    pub fn remove(&mut self, id: &str) -> Result<(), GraphError> {
        let i = self.position(id)?;
        self.nodes.remove(i);
        self.index.remove(id);
        for (j, n) in self.nodes.iter().enumerate().skip(i) {
            self.index.insert(n.id.clone(), j);
        }
        self.edges.retain(|to, from| to.node != id && from.node != id);
        self.meta.inputs.retain(|_, p| p.node != id);
        self.meta.outputs.retain(|_, p| p.node != id);
        self.meta.limits.remove(id);
        Ok(())
    }

    pub(crate) fn position(&self, id: &str) -> Result<usize, GraphError> {
        self.index
            .get(id)
            .copied()
            .ok_or_else(|| GraphError::UnknownNode { node: id.to_string() })
    }

    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    /// Every node, in insertion order (the order the executor uses to break cycles).
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.nodes.iter()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every edge as `(from output, to input)`, ordered by input.
    pub fn edges(&self) -> impl Iterator<Item = (&PortRef, &PortRef)> {
        self.edges.iter().map(|(to, from)| (from, to))
    }

    /// The output feeding input `input` of `node`, if connected.
    pub fn source_of(&self, node: &str, input: &str) -> Option<&PortRef> {
        self.edges.get(&PortRef::new(node, input))
    }

    /// Connects output `output` of `from` to input `input` of `to`; refuses if the input is
    /// already connected (see [`connect_with`](Graph::connect_with)).
    ///
    /// # Errors
    /// Unknown node or port, type mismatch, stream/plain mismatch, input already connected.
    pub fn connect(&mut self, from: &str, output: &str, to: &str, input: &str) -> Result<(), GraphError> {
        self.connect_with(from, output, to, input, OnConnected::Refuse)
    }

    /// Like [`connect`](Graph::connect), choosing what happens to an existing edge.
    ///
    /// # Errors
    /// As [`connect`](Graph::connect).
    pub fn connect_with(
        &mut self,
        from: &str,
        output: &str,
        to: &str,
        input: &str,
        on_connected: OnConnected,
    ) -> Result<(), GraphError> {
        self.check_edge(from, output, to, input)?;
        let key = PortRef::new(to, input);
        if let (Some(old), OnConnected::Refuse) = (self.edges.get(&key), on_connected) {
            return Err(GraphError::AlreadyConnected {
                node: to.to_string(),
                input: input.to_string(),
                from: old.to_string(),
            });
        }
        self.edges.insert(key, PortRef::new(from, output));
        Ok(())
    }

    /// Removes the edge into `input` of `node` and returns its source.
    ///
    /// # Errors
    /// Unknown node or input, or the input is not connected.
    pub fn disconnect(&mut self, node: &str, input: &str) -> Result<PortRef, GraphError> {
        let n = self.node_checked(node)?;
        ports::input_index(n, input)?;
        self.edges
            .remove(&PortRef::new(node, input))
            .ok_or_else(|| GraphError::NotConnected {
                node: node.to_string(),
                input: input.to_string(),
            })
    }

    fn node_checked(&self, id: &str) -> Result<&GraphNode, GraphError> {
        self.position(id).map(|i| &self.nodes[i])
    }

    fn check_edge(&self, from: &str, output: &str, to: &str, input: &str) -> Result<(), GraphError> {
        let src = self.node_checked(from)?;
        let dst = self.node_checked(to)?;
        let out = ports::output_port(src, output)?;
        let i = ports::input_index(dst, input)?;
        ports::check_types(src, out, dst, &dst.spec().inputs[i])
    }

    /// Sets the constant of an input: the value of an unconnected input, the default of a
    /// connected one (used when its port is stale, as in a cycle).
    ///
    /// # Errors
    /// Unknown node or input, a stream input, or a value the input's type does not accept.
    pub fn set_constant(&mut self, node: &str, input: &str, value: Value) -> Result<(), GraphError> {
        let i = self.position(node)?;
        let port = &self.nodes[i].spec().inputs[ports::input_index(&self.nodes[i], input)?];
        if port.mode == InputMode::Stream {
            return Err(GraphError::StreamConstant {
                node: node.to_string(),
                input: input.to_string(),
            });
        }
        if !port.ty.accepts(&value) {
            return Err(GraphError::BadConstant {
                node: node.to_string(),
                input: input.to_string(),
                source: crate::ConvertError::mismatch(port.ty, &value),
            });
        }
        self.nodes[i].constants.insert(input.to_string(), value);
        Ok(())
    }

    /// Removes the constant of an input (the kind's default applies again).
    ///
    /// # Errors
    /// Unknown node or input.
    pub fn clear_constant(&mut self, node: &str, input: &str) -> Result<Option<Value>, GraphError> {
        let i = self.position(node)?;
        ports::input_index(&self.nodes[i], input)?;
        Ok(self.nodes[i].constants.remove(input))
    }

    /// Sets a node's position and label (layout only).
    ///
    /// # Errors
    /// Unknown node.
    pub fn set_layout(&mut self, node: &str, layout: Layout) -> Result<(), GraphError> {
        let i = self.position(node)?;
        self.nodes[i].layout = Some(layout);
        Ok(())
    }

    /// Declares a graph input `name` (for use as a composite kind) bound to an input port.
    ///
    /// # Errors
    /// Unknown node or input.
    pub fn declare_input(&mut self, name: &str, node: &str, input: &str) -> Result<(), GraphError> {
        ports::input_index(self.node_checked(node)?, input)?;
        self.meta.inputs.insert(name.to_string(), PortRef::new(node, input));
        Ok(())
    }

    /// Declares a graph output `name` bound to an output port.
    ///
    /// # Errors
    /// Unknown node or output.
    pub fn declare_output(&mut self, name: &str, node: &str, output: &str) -> Result<(), GraphError> {
        ports::output_port(self.node_checked(node)?, output)?;
        self.meta.outputs.insert(name.to_string(), PortRef::new(node, output));
        Ok(())
    }

    /// Sets the generation limit of a node for batch runs.
    ///
    /// # Errors
    /// Unknown node.
    pub fn set_limit(&mut self, node: &str, generation: Generation) -> Result<(), GraphError> {
        self.position(node)?;
        self.meta.limits.insert(node.to_string(), generation);
        Ok(())
    }

    /// The declared graph inputs.
    pub fn declared_inputs(&self) -> &BTreeMap<String, PortRef> {
        &self.meta.inputs
    }

    /// The declared graph outputs.
    pub fn declared_outputs(&self) -> &BTreeMap<String, PortRef> {
        &self.meta.outputs
    }

    /// The graph's name (its kind name when used as a composite).
    pub fn name(&self) -> Option<&str> {
        self.meta.name.as_deref()
    }

    /// Sets the graph's name and doc.
    pub fn set_name(&mut self, name: &str, doc: &str) {
        self.meta.name = Some(name.to_string());
        self.meta.doc = doc.to_string();
    }

    /// Checks what edits cannot: every input is connected, has a value (constant or default)
    /// or is a declared graph input, and every stream input is connected. (A declared input
    /// still needs a value to run this graph on its own; as a composite the outer node gives
    /// it one.)
    ///
    /// # Errors
    /// [`GraphError::Unconnected`] naming the first such node and input.
    pub fn validate(&self) -> Result<(), GraphError> {
        match self.unconnected().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every input [`validate`](Graph::validate) complains about, as
    /// [`GraphError::Unconnected`], in node order.
    pub fn unconnected(&self) -> Vec<GraphError> {
        let mut found = Vec::new();
        let inputs: FxHashSet<(&str, &str)> = self.edges.keys().map(|to| (&*to.node, &*to.port)).collect();
        for n in &self.nodes {
            for (i, port) in n.spec().inputs.iter().enumerate() {
                let connected = inputs.contains(&(&*n.id, &*port.name));
                let declared = || self.meta.inputs.values().any(|p| p.node == n.id && p.port == port.name);
                let ok = connected || (port.mode != InputMode::Stream && (n.input_value(i).is_some() || declared()));
                if !ok {
                    found.push(GraphError::Unconnected {
                        node: n.id.clone(),
                        input: port.name.clone(),
                    });
                }
            }
        }
        found
    }

    /// The ids of `start` and every node downstream of it.
    pub fn downstream(&self, start: &str) -> Vec<String> {
        let mut seen = std::collections::HashSet::from([start.to_string()]);
        let mut stack = vec![start.to_string()];
        while let Some(n) = stack.pop() {
            for (to, from) in &self.edges {
                if from.node == n && seen.insert(to.node.clone()) {
                    stack.push(to.node.clone());
                }
            }
        }
        seen.into_iter().collect()
    }

    pub(crate) fn nodes_slice(&self) -> &[GraphNode] {
        &self.nodes
    }
}

/// Output `port` of `n`: `Some(index)` of a final value, `None` for the chunk stream.
pub(crate) fn ports_output(n: &GraphNode, port: &str) -> Result<Option<usize>, GraphError> {
    Ok(match ports::output_port(n, port)? {
        ports::OutPort::Value(i, _) => Some(i),
        ports::OutPort::Stream(_) => None,
    })
}
