//! Composite kinds: a graph with declared inputs and outputs used as a kind of another graph
//! (nestable). A composite may not include itself, directly or through other composites.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use flowloop::flow::Outputs;

use crate::graph::{Graph, GraphError, PortRef, ports_output};
use crate::kind::{Call, InputMode, Inputs, Instance, Kind, KindSpec, PortSpec, pending, ready};
use crate::spec::{GraphSpec, SpecError};
use crate::{Registry, RegistryError};

/// A graph used as a kind: its declared inputs are the kind's inputs (type and default from
/// the inner port), its declared outputs the kind's outputs. Each run compiles the inner graph
/// with the input values as constants and runs it on the flow executor, inside the outer
/// node's body.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use flowloop_graph::composite::CompositeKind;
/// use flowloop_graph::{Graph, Registry, Value};
/// let mut inner = Graph::new(Registry::with_std());
/// inner.add("math.add", Some("inc")).unwrap();
/// inner.set_constant("inc", "b", Value::Int(1)).unwrap();
/// inner.declare_input("x", "inc", "a").unwrap();
/// inner.declare_output("y", "inc", "out").unwrap();
/// inner.set_name("my.inc", "Adds one.");
/// let mut reg = Registry::with_std();
/// reg.register_kind(Arc::new(CompositeKind::new(inner).unwrap())).unwrap();
///
/// let mut outer = Graph::new(reg);
/// outer.add("my.inc", Some("first")).unwrap();
/// outer.set_constant("first", "x", Value::Int(1)).unwrap();
/// outer.add("my.inc", Some("second")).unwrap();
/// outer.connect("first", "y", "second", "x").unwrap();
/// let mut run = outer.batch().unwrap();
/// run.run().unwrap();
/// assert_eq!(run.value("second", "y"), Some(Value::Int(3)));
/// ```
pub struct CompositeKind {
    spec: KindSpec,
    graph: Graph,
    inputs: Vec<PortRef>,
    outputs: Vec<PortRef>,
    includes: Vec<String>,
}

impl fmt::Debug for CompositeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompositeKind").field("name", &self.spec.name).finish()
    }
}

fn bad(what: &'static str, name: &str, problem: String) -> GraphError {
    GraphError::BadDeclaration {
        what,
        name: name.to_string(),
        problem,
    }
}

impl CompositeKind {
    /// Makes a kind of `graph`, named by [`Graph::set_name`] (or the spec's `name`).
    ///
    /// # Errors
    /// No name; a declared input that is connected inside or a stream input; a stream output;
    /// an inner input left without value that is not declared; a graph that includes a kind
    /// of its own name ([`GraphError::SelfInclusion`]).
    pub fn new(graph: Graph) -> Result<CompositeKind, GraphError> {
        let name = graph
            .name()
            .ok_or_else(|| bad("graph", "", "a composite kind needs a `name` (shelf.kind)".into()))?
            .to_string();
        let includes = check_inclusion(&graph, &name)?;
        let mut spec = KindSpec::new(&name).doc(&graph.meta.doc);
        let mut inputs = Vec::new();
        for (port_name, target) in graph.declared_inputs() {
            spec = spec.input(input_spec(&graph, port_name, target)?);
            inputs.push(target.clone());
        }
        let mut outputs = Vec::new();
        for (port_name, source) in graph.declared_outputs() {
            let n = graph.node(&source.node).ok_or_else(|| GraphError::UnknownNode {
                node: source.node.clone(),
            })?;
            let Some(i) = ports_output(n, &source.port)? else {
                return Err(bad(
                    "output",
                    port_name,
                    "a composite output cannot be a chunk stream".into(),
                ));
            };
            spec = spec.output(port_name, n.spec().outputs[i].ty);
            outputs.push(source.clone());
        }
        graph.validate()?;
        Ok(CompositeKind {
            spec,
            graph,
            inputs,
            outputs,
            includes,
        })
    }
}

fn input_spec(graph: &Graph, port_name: &str, target: &PortRef) -> Result<PortSpec, GraphError> {
    let n = graph.node(&target.node).ok_or_else(|| GraphError::UnknownNode {
        node: target.node.clone(),
    })?;
    let i = n
        .spec()
        .input_index(&target.port)
        .ok_or_else(|| bad("input", port_name, format!("no input `{target}`")))?;
    let inner = &n.spec().inputs[i];
    if inner.mode == InputMode::Stream || graph.source_of(&target.node, &target.port).is_some() {
        return Err(bad(
            "input",
            port_name,
            format!("`{target}` must be an unconnected value input"),
        ));
    }
    let mut port = PortSpec::new(port_name, inner.ty);
    port.default = n.input_value(i).cloned();
    Ok(port)
}

fn check_inclusion(graph: &Graph, name: &str) -> Result<Vec<String>, GraphError> {
    let mut includes = BTreeSet::from([name.to_string()]);
    for n in graph.nodes() {
        let kind = &n.spec().name;
        let nested = n.kind().includes();
        if kind == name || nested.iter().any(|k| k == name) {
            return Err(GraphError::SelfInclusion {
                name: name.to_string(),
                path: format!("{name} -> {kind}{}", if kind == name { "" } else { " -> ..." }),
            });
        }
        includes.extend(nested);
    }
    Ok(includes.into_iter().collect())
}

struct CompositeInstance {
    graph: Graph,
    inputs: Vec<PortRef>,
    outputs: Vec<PortRef>,
}

impl Instance for CompositeInstance {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        let mut g = self.graph.clone();
        for (i, target) in self.inputs.iter().enumerate() {
            let set = inputs
                .value(i)
                .map_err(Into::into)
                .and_then(|v| g.set_constant(&target.node, &target.port, v).map_err(Into::into));
            if let Err(e) = set {
                return ready(Err(e));
            }
        }
        let mut batch = match g.batch() {
            Ok(b) => b,
            Err(e) => return ready(Err(e.into())),
        };
        let outputs = self.outputs.clone();
        pending(async move {
            let options = batch.options();
            batch.run_async(options).await?;
            let mut values = Vec::with_capacity(outputs.len());
            for o in &outputs {
                let v = batch
                    .value(&o.node, &o.port)
                    .ok_or_else(|| format!("inner node `{}` produced no value for `{o}`", o.node))?;
                values.push(v);
            }
            Ok(match values.len() {
                1 => Outputs::One(values.remove(0)),
                _ => Outputs::Many(values),
            })
        })
    }
}

impl Kind for CompositeKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(CompositeInstance {
            graph: self.graph.clone(),
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
        })
    }

    fn includes(&self) -> Vec<String> {
        self.includes.clone()
    }
}

/// Why [`register_composites`] refused a set of specs (nothing is registered then).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CompositeError {
    /// A spec did not load.
    #[error("composite `{name}`: {source}")]
    Spec {
        /// The composite.
        name: String,
        /// Why.
        source: SpecError,
    },
    /// A spec is not a valid composite (no name, bad declarations, self-inclusion).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The registry refused the kind (a duplicate name, ...).
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Registers a set of composite specs that may use each other (in any order); all or nothing.
///
/// # Errors
/// A spec without name, one that does not load, a cycle of composites including each other
/// ([`GraphError::SelfInclusion`] with the path), or a name the registry already has.
pub fn register_composites(registry: &mut Registry, specs: &[GraphSpec]) -> Result<(), CompositeError> {
    let mut by_name = BTreeMap::new();
    for s in specs {
        let name = s
            .name
            .clone()
            .ok_or_else(|| bad("graph", "", "a composite kind needs a `name`".into()))?;
        by_name.insert(name, s);
    }
    let order = dependency_order(&by_name)?;
    let mut reg = registry.clone();
    for name in order {
        let spec = by_name[&name];
        let graph = Graph::from_spec(spec, reg.clone()).map_err(|source| CompositeError::Spec {
            name: name.clone(),
            source,
        })?;
        reg.register_kind(Arc::new(CompositeKind::new(graph)?))?;
    }
    *registry = reg;
    Ok(())
}

/// Names in an order where every composite comes after the composites it uses.
fn dependency_order(by_name: &BTreeMap<String, &GraphSpec>) -> Result<Vec<String>, GraphError> {
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    for name in by_name.keys() {
        visit(name, by_name, &mut Vec::new(), &mut done, &mut order)?;
    }
    Ok(order)
}

fn visit(
    name: &str,
    by_name: &BTreeMap<String, &GraphSpec>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
    order: &mut Vec<String>,
) -> Result<(), GraphError> {
    if done.contains(name) {
        return Ok(());
    }
    if let Some(start) = path.iter().position(|p| p == name) {
        let mut cycle = path[start..].to_vec();
        cycle.push(name.to_string());
        return Err(GraphError::SelfInclusion {
            name: name.to_string(),
            path: cycle.join(" -> "),
        });
    }
    path.push(name.to_string());
    for n in &by_name[name].nodes {
        if by_name.contains_key(&n.kind) {
            visit(&n.kind, by_name, path, done, order)?;
        }
    }
    path.pop();
    done.insert(name.to_string());
    order.push(name.to_string());
    Ok(())
}
