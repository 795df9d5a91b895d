//! Compiling a [`Graph`] (or part of it) onto the flow executor, and batch runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use flowloop::flow::{
    DynArgs, DynBody, DynId, DynInput, DynNode, DynSource, DynamicBuilder, Flow, FlowBuilder, FlowError, Generation,
    InputCell, NodeId, Outcome, Outputs, RunOptions,
};

use crate::Value;
use crate::graph::{Graph, GraphError, GraphNode, PortRef};
use crate::kind::{Inputs, Instance, Kind};
use crate::lazy::{Gates, Regions, Skips};

/// A node's instance, shared between the flows a live graph rebuilds.
pub(crate) type SharedInstance = Rc<RefCell<Box<dyn Instance>>>;

/// A graph (or a part of it) installed in a flow.
pub(crate) struct Compiled {
    pub(crate) flow: Flow,
    /// Flow node id of each member, by graph node id.
    pub(crate) ids: FxHashMap<String, NodeId>,
    /// The cells of unconnected inputs, by `node.input` (kept with [`Handles::Keep`]).
    pub(crate) cells: HashMap<PortRef, InputCell<Value>>,
    /// Each member's instance, by graph node id (kept with [`Handles::Keep`]).
    pub(crate) instances: HashMap<String, SharedInstance>,
    /// Each member's kind, by flow node index.
    pub(crate) kinds: Vec<Arc<dyn Kind>>,
    /// How many runs the guard of a node in a lazy branch skipped, by flow node.
    pub(crate) skips: FxHashMap<NodeId, Skips>,
}

/// Whether a compile keeps the handles a live graph needs to set inputs and reuse instances
/// (a batch or pull run does not, and saves their allocations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handles {
    Keep,
    Skip,
}

/// What to compile: which nodes, and the known outputs of nodes left out.
pub(crate) struct Plan<'a> {
    pub(crate) members: Option<&'a [usize]>,
    pub(crate) boundary: &'a HashMap<String, Outputs<Value>>,
    /// Instances to keep, by node id (read with [`Handles::Keep`] only).
    pub(crate) reuse: &'a HashMap<String, SharedInstance>,
    pub(crate) handles: Handles,
}

impl Plan<'_> {
    fn member_list(&self, graph: &Graph) -> Vec<usize> {
        match self.members {
            Some(m) => m.to_vec(),
            None => (0..graph.len()).collect(),
        }
    }
}

/// The compile-wide lookups: members by id, and (when compiling the whole graph) each
/// connected input's source, indexed once; a part of a graph (pull) asks the graph per input
/// instead, so its cost follows the part's size, not the graph's.
pub(crate) struct Lookup<'g> {
    graph: &'g Graph,
    local: FxHashMap<&'g str, (DynId, usize)>,
    sources: Option<FxHashMap<(&'g str, &'g str), &'g PortRef>>,
}

impl<'g> Lookup<'g> {
    fn source(&self, node: &str, input: &str) -> Option<&'g PortRef> {
        match &self.sources {
            Some(map) => map.get(&(node, input)).copied(),
            None => self.graph.source_of(node, input),
        }
    }
}

pub(crate) fn compile(graph: &Graph, plan: &Plan<'_>) -> Result<Compiled, GraphError> {
    if plan.members.is_none() {
        graph.validate()?;
    }
    let members = plan.member_list(graph);
    let nodes = graph.nodes_slice();
    let look = Lookup {
        graph,
        local: members
            .iter()
            .enumerate()
            .map(|(k, &i)| (nodes[i].id(), (DynId::from(k), i)))
            .collect(),
        sources: plan
            .members
            .is_none()
            .then(|| graph.edges().map(|(from, to)| ((&*to.node, &*to.port), from)).collect()),
    };
    // Pull resolves lazy inputs itself; batch and live runs skip untaken branches by guards.
    let regions = match plan.members {
        None => Regions::of(graph),
        Some(_) => Regions::default(),
    };
    let mut gates = Gates::new(&regions, members.len());
    let mut d = DynamicBuilder::new();
    let mut parts = Parts::default();
    for &i in &members {
        let n = &nodes[i];
        parts.kinds.push(Arc::clone(n.kind()));
        let mut node = member_node(n, plan, &mut parts);
        for (p, port) in n.spec().inputs.iter().enumerate() {
            let (input, cell) = input_for(graph, n, p, &port.name, &look, plan)?;
            if let Some(cell) = cell {
                gates.keep_cell(i, p, &cell);
                if plan.handles == Handles::Keep {
                    parts.cells.insert(PortRef::new(n.id(), &port.name), cell);
                }
            }
            node = node.input(input);
        }
        if let Some(owner) = regions.owner.get(i).copied().flatten() {
            node = gates.guard(node, owner, i, &mut parts.skipped);
        }
        d.add(node);
    }
    for node in gates.nodes(graph, &regions, &look, plan)? {
        d.add(node);
    }
    install(d, members.iter().map(|&i| nodes[i].id()), parts)
}

/// What [`compile`] collects beside the nodes.
#[derive(Default)]
struct Parts {
    cells: HashMap<PortRef, InputCell<Value>>,
    instances: HashMap<String, SharedInstance>,
    kinds: Vec<Arc<dyn Kind>>,
    /// Skip counters of guarded members, by member position.
    skipped: Vec<(usize, Skips)>,
}

/// A member's dynamic node, its body calling the node's instance.
fn member_node(n: &GraphNode, plan: &Plan<'_>, parts: &mut Parts) -> DynNode<Value> {
    match plan.handles {
        Handles::Keep => {
            let inst = plan
                .reuse
                .get(n.id())
                .cloned()
                .unwrap_or_else(|| Rc::new(RefCell::new(n.kind().instance())));
            parts.instances.insert(n.id().to_string(), Rc::clone(&inst));
            dyn_node(n, move |args: DynArgs<Value>| inst.borrow_mut().call(Inputs::new(args)))
        }
        Handles::Skip => {
            // Nobody else holds the instance: the body owns it (no shared cell per run).
            let mut inst = n.kind().instance();
            dyn_node(n, move |args: DynArgs<Value>| inst.call(Inputs::new(args)))
        }
    }
}

/// Installs the nodes in a new flow; `ids` are the members' graph ids in member order.
fn install<'a>(
    d: DynamicBuilder<Value>,
    ids: impl Iterator<Item = &'a str>,
    parts: Parts,
) -> Result<Compiled, GraphError> {
    let mut b = FlowBuilder::new();
    let flow_ids = d.install(&mut b).map_err(|e| internal(&e.to_string()))?;
    let flow = b.build().map_err(build_error)?;
    let skips = parts
        .skipped
        .into_iter()
        .filter_map(|(k, s)| Some((*flow_ids.get(k)?, s)))
        .collect();
    Ok(Compiled {
        flow,
        ids: ids.zip(flow_ids).map(|(id, n)| (id.to_string(), n)).collect(),
        cells: parts.cells,
        instances: parts.instances,
        kinds: parts.kinds,
        skips,
    })
}

fn build_error(e: flowloop::flow::BuildError) -> GraphError {
    match e {
        flowloop::flow::BuildError::Unconnected { node, input } => GraphError::Unconnected { node, input },
        flowloop::flow::BuildError::MissingDefault { ref cycles } => match cycles.first().and_then(|c| c.first()) {
            Some(first) => GraphError::CannotStart {
                node: first.name.clone(),
                problem: e.to_string(),
            },
            None => GraphError::Build(e.to_string()),
        },
        other => GraphError::Build(other.to_string()),
    }
}

impl Compiled {
    /// How many times the body of flow node `id` ran (runs a guard skipped do not count).
    pub(crate) fn runs(&self, id: NodeId) -> u64 {
        let skipped = self.skips.get(&id).map_or(0, |s| s.get());
        self.flow.stats(id).runs.saturating_sub(skipped)
    }
}

/// A check the graph's own edits guarantee failed: report it as a declaration problem rather
/// than panic.
fn internal(problem: &str) -> GraphError {
    GraphError::BadDeclaration {
        what: "edge",
        name: String::new(),
        problem: problem.to_string(),
    }
}

fn dyn_node(n: &GraphNode, body: impl DynBody<Value>) -> DynNode<Value> {
    let spec = n.spec();
    let mut node = DynNode::new(n.id(), body).outputs(spec.outputs.len());
    if spec.stream.is_some() {
        node = node.streaming();
    }
    node
}

/// Input `p` of `n`, and its cell when it is unconnected.
pub(crate) fn input_for(
    graph: &Graph,
    n: &GraphNode,
    p: usize,
    name: &str,
    look: &Lookup<'_>,
    plan: &Plan<'_>,
) -> Result<(DynInput<Value>, Option<InputCell<Value>>), GraphError> {
    let value = n.input_value(p).cloned();
    let Some(src) = look.source(n.id(), name) else {
        let cell = InputCell::new(value);
        return Ok((DynInput::cell(name, cell.clone()), Some(cell)));
    };
    let local = look.local.get(src.node.as_str());
    let producer = match local {
        Some(&(_, i)) => &graph.nodes_slice()[i],
        None => graph
            .node(&src.node)
            .ok_or_else(|| GraphError::UnknownNode { node: src.node.clone() })?,
    };
    let out = crate::graph::ports_output(producer, &src.port)?;
    let input = match local {
        Some(&(id, _)) => {
            let source = match out {
                Some(i) => DynSource::output(id, i),
                None => DynSource::stream(id),
            };
            let input = DynInput::connect(name, source);
            match value {
                Some(v) => input.or(v),
                None => input,
            }
        }
        None => {
            let known = out.and_then(|i| plan.boundary.get(&src.node).and_then(|o| o.get(i)).cloned());
            DynInput::constant(name, known.or(value).unwrap_or(Value::Null))
        }
    };
    Ok((input, None))
}

/// A graph compiled for batch runs on the flow executor.
///
/// Runs continue from the generations the previous run reached, as typed flows do.
pub struct Batch {
    compiled: Compiled,
    limits: Vec<(NodeId, Generation)>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch").field("flow", &self.compiled.flow).finish()
    }
}

impl Graph {
    /// Compiles the whole graph onto the flow executor for batch runs.
    ///
    /// # Errors
    /// An input with neither edge nor value ([`GraphError::Unconnected`]).
    pub fn batch(&self) -> Result<Batch, GraphError> {
        let empty = HashMap::new();
        let reuse = HashMap::new();
        let compiled = compile(
            self,
            &Plan {
                members: None,
                boundary: &empty,
                reuse: &reuse,
                handles: Handles::Skip,
            },
        )?;
        let limits = self
            .meta
            .limits
            .iter()
            .filter_map(|(node, g)| compiled.ids.get(node).map(|&id| (id, *g)))
            .collect();
        Ok(Batch { compiled, limits })
    }
}

impl Batch {
    /// Run options with the graph's limits (add more with [`RunOptions::limit`] and
    /// [`node_id`](Batch::node_id)).
    pub fn options(&self) -> RunOptions {
        self.limits
            .iter()
            .fold(RunOptions::new(), |o, &(node, g)| o.limit(node, g))
    }

    /// Runs on a new event loop with the graph's limits until nothing is left to do, a limit
    /// is reached or a node fails.
    ///
    /// # Errors
    /// [`FlowError`] listing every failure, each naming its node (and input).
    pub fn run(&mut self) -> Result<Outcome, FlowError> {
        let options = self.options();
        self.compiled.flow.run_until_complete(options)
    }

    /// Runs with explicit options on a new event loop.
    ///
    /// # Errors
    /// As [`run`](Batch::run).
    pub fn run_with(&mut self, options: RunOptions) -> Result<Outcome, FlowError> {
        self.compiled.flow.run_until_complete(options)
    }

    /// The run as a future, to await inside a running loop.
    pub fn run_async(&mut self, options: RunOptions) -> impl Future<Output = Result<Outcome, FlowError>> + 'static {
        self.compiled.flow.run(options)
    }

    /// The flow node of graph node `node`, for limits and statistics.
    pub fn node_id(&self, node: &str) -> Option<NodeId> {
        self.compiled.ids.get(node).copied()
    }

    /// The latest value of output `output` of `node` (`None` before it produced one).
    pub fn value(&self, node: &str, output: &str) -> Option<Value> {
        let id = self.node_id(node)?;
        let kind = self.compiled.kinds.get(id.index())?;
        let i = kind.spec().outputs.iter().position(|o| o.name == output)?;
        self.compiled.flow.dyn_value::<Value>(id, i)
    }

    /// A node's generation (`None` if it never produced anything).
    pub fn generation(&self, node: &str) -> Option<Generation> {
        self.node_id(node).and_then(|id| self.compiled.flow.generation(id))
    }

    /// How many times a node ran, over all runs.
    pub fn runs(&self, node: &str) -> u64 {
        self.node_id(node).map_or(0, |id| self.compiled.runs(id))
    }

    /// The underlying flow.
    pub fn flow(&self) -> &Flow {
        &self.compiled.flow
    }
}
