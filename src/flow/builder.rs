//! [`FlowBuilder`]: creating nodes, forward references and defaults; `build()` checks and wires.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use super::args::{CellArena, CellTable, IntoArgs, NodeFn, PortSpec, StateFn, StreamFn, new_cell};
use super::error::{BoxError, BuildError};
use super::handles::{AsNode, Forward, Node, Output, StreamNode};
use super::run::Flow;
use super::runner::{BodyRunner, Fallible, FnBody, Plain, Runner, StateBody, StreamBody};
use super::state::{FlowState, Graph, Names, NodeMeta, Port};

struct ForwardDef {
    name: String,
    def: Option<(u32, u8, Box<dyn Any>)>,
    defined_twice: bool,
}

/// Builds a [`Flow`]. Every node created here belongs to the flow; statement order is free
/// thanks to [forward references](FlowBuilder::forward). Sub-graphs are plain functions that
/// take `&mut FlowBuilder`.
///
/// # Examples
/// ```
/// use flowloop::flow::{FlowBuilder, RunOptions};
/// async fn inc(x: i64) -> i64 { x + 1 }
///
/// let mut b = FlowBuilder::new();
/// let x = b.forward::<i64>("x");
/// let i = b.node(inc, (x.or(41),)); // a self-loop, broken by the default 41
/// b.define(x, i);
/// let mut flow = b.build().unwrap();
/// flow.run_until_complete(RunOptions::new().limit(i, (0,))).unwrap();
/// assert_eq!(flow.value(i), Some(42));
/// ```
#[derive(Default)]
pub struct FlowBuilder {
    /// Every node's scheduler view, created with the node and moved into the flow by `build`
    /// (no second copy): its ports are the range `ports` of [`ports`](Self::ports).
    nodes: Vec<NodeMeta>,
    /// The nodes' name bases and given names, moved into the flow by `build`.
    names: Names,
    /// Every node's typed runner, by node index (moved into the flow by `build`).
    runners: Vec<Pin<Box<dyn Runner>>>,
    /// Given input names, by node (few nodes have them).
    input_names: HashMap<u32, Vec<String>>,
    /// Every node's input ports, node after node (one flat array), created with the node and
    /// moved into the flow by `build`, which fills in the producers of forward references.
    ports: Vec<Port>,
    /// The ports that read a forward reference: `(port index, forward id)`, in port order.
    forward_ports: Vec<(u32, u32)>,
    /// The first port that has neither a producer nor a default and reads no forward
    /// reference (the build error [`BuildError::Unconnected`], if no earlier problem).
    first_unconnected: Option<u32>,
    /// The ports connected to a node added after theirs (a runtime graph's nodes may come in
    /// any order): bound and counted by `build()`, not as their node is added.
    late_ports: Vec<u32>,
    /// Whether a streaming node was added.
    streaming: bool,
    /// A node's port specs while its ports are created (reused: no allocation per node).
    specs: Vec<PortSpec>,
    /// Every node's value cells, by node index (moved into the flow by `build`).
    cells: CellTable,
    /// Where typed nodes' value cells come from.
    arena: CellArena,
    forwards: Vec<ForwardDef>,
}

impl fmt::Debug for FlowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowBuilder")
            .field("nodes", &self.nodes.len())
            .field("forwards", &self.forwards.len())
            .finish()
    }
}

/// `module::path::name<..>` → `name`; closures become `closure` (a slice of the static type
/// name: no allocation).
fn short_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").find(|s| !s.starts_with('{')).unwrap_or(base);
    if base.ends_with("{{closure}}") { "closure" } else { last }
}

impl FlowBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node whose port specs are in `specs`, with what `build()` would otherwise find
    /// in passes over the whole graph done here, while the node's records are in cache: its
    /// ports connected to earlier nodes are bound (their producers' cells exist already), the
    /// producers' consumer counts are raised, every connected port starts stale (no value
    /// yet), and the first unconnected port is remembered. Only ports reading a forward
    /// reference or connected to a later node are left to `build()`.
    fn push(&mut self, base: fn() -> &'static str, mut runner: Pin<Box<dyn Runner>>, streaming: bool) -> u32 {
        let id = self.nodes.len() as u32;
        let first = self.ports.len() as u32;
        let mut stale = 0;
        for (i, spec) in self.specs.drain(..).enumerate() {
            let pi = self.ports.len() as u32;
            let (producer, level, has_default) = match spec {
                PortSpec::Own { has_default } => {
                    if !has_default && self.first_unconnected.is_none() {
                        self.first_unconnected = Some(pi);
                    }
                    (None, 0, has_default)
                }
                PortSpec::Node {
                    node,
                    level,
                    has_default,
                } => {
                    match self.nodes.get_mut(node as usize) {
                        Some(producer) => {
                            producer.count_consumer(level);
                            runner.as_mut().bind(i, None, &self.cells);
                        }
                        None => self.late_ports.push(pi),
                    }
                    stale += 1;
                    (Some(node), level, has_default)
                }
                PortSpec::Fwd { id: fwd, has_default } => {
                    self.forward_ports.push((pi, fwd));
                    (None, 0, has_default)
                }
            };
            self.ports.push(Port {
                node: id,
                producer,
                level,
                has_default,
                stitch: 0,
                // FLOW_SEMANTICS §3: a connected port is stale until its producer publishes.
                stale: producer.is_some(),
            });
        }
        let ports = (first, self.ports.len() as u32);
        let mut node = NodeMeta::new(self.names.base(base), ports, streaming);
        node.stale_inputs = stale;
        self.nodes.push(node);
        self.streaming |= streaming;
        self.runners.push(runner);
        id
    }

    /// Adds a node with a ready-made runner, named exactly `name` (runtime-arity nodes, see
    /// `dynamic.rs`).
    pub(crate) fn push_runner(
        &mut self,
        name: String,
        runner: Pin<Box<dyn Runner>>,
        ports: Vec<PortSpec>,
        value: Rc<dyn Any>,
        chunk: Option<Rc<dyn Any>>,
    ) -> super::NodeId {
        self.specs.clear();
        self.specs.extend(ports);
        let streaming = chunk.is_some();
        self.cells.push(value, 0, chunk);
        let id = self.push(|| "", runner, streaming);
        self.names.give(id, name.into_boxed_str());
        super::NodeId(id)
    }

    /// A node whose body is the `async fn` (or closure returning a future) `f`, called with
    /// `args`: a tuple with one argument per parameter (constants, outputs, forward references,
    /// defaults; see [`IntoInput`](super::IntoInput)).
    pub fn node<M: 'static, F: NodeFn<M>>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> Node<F::Output>
    where
        F::Output: Clone,
    {
        self.plain_node::<M, F, Plain>(f, args)
    }

    /// Like [`node`](FlowBuilder::node) for a body returning `Result<T, E>`: `Ok(v)` publishes
    /// `v`, `Err(e)` is the node's error.
    pub fn try_node<M: 'static, F, T, E>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> Node<T>
    where
        F: NodeFn<M, Output = Result<T, E>>,
        T: Clone + 'static,
        E: Into<BoxError> + 'static,
    {
        self.plain_node::<M, F, Fallible>(f, args)
    }

    fn plain_node<M: 'static, F: NodeFn<M>, K>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> Node<K::Value>
    where
        K: super::runner::Finish<F::Output>,
        K::Value: Clone,
    {
        self.specs.clear();
        let slots = args.into_slots(&mut self.specs);
        let cell = self.arena.cell::<K::Value>();
        self.cells.push_typed(&cell);
        let body = FnBody::<F, M, K> { f, _m: PhantomData };
        let runner = Box::pin(BodyRunner::new(body, slots, cell));
        Node::new(self.push(short_name::<F>, runner, false))
    }

    /// A streaming node: `f`'s first parameter is an [`Emitter<C>`](super::Emitter), the
    /// others come from `args`; its return value is the final value.
    pub fn stream<C, M: 'static, F>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> StreamNode<C, F::Output>
    where
        C: Clone + 'static,
        F: StreamFn<C, M>,
        F::Output: Clone,
    {
        self.stream_node::<C, M, F, Plain>(f, args)
    }

    /// Like [`stream`](FlowBuilder::stream) for a producer returning `Result<R, E>`.
    pub fn try_stream<C, M: 'static, F, T, E>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> StreamNode<C, T>
    where
        C: Clone + 'static,
        F: StreamFn<C, M, Output = Result<T, E>>,
        T: Clone + 'static,
        E: Into<BoxError> + 'static,
    {
        self.stream_node::<C, M, F, Fallible>(f, args)
    }

    fn stream_node<C, M: 'static, F, K>(&mut self, f: F, args: impl IntoArgs<F::Args>) -> StreamNode<C, K::Value>
    where
        C: Clone + 'static,
        F: StreamFn<C, M>,
        K: super::runner::Finish<F::Output>,
        K::Value: Clone,
    {
        self.specs.clear();
        let slots = args.into_slots(&mut self.specs);
        let cell = self.arena.cell::<K::Value>();
        let erased = cell.erased();
        let (chunk, chunk_erased) = new_cell::<C>();
        let body = StreamBody::<C, F, M, K> {
            f,
            chunk,
            _m: PhantomData,
        };
        let runner = Box::pin(BodyRunner::new(body, slots, cell));
        let (value, index) = erased;
        self.cells.push(value, index, Some(chunk_erased));
        StreamNode::new(self.push(short_name::<F>, runner, true))
    }

    /// A stateful node: `state` is kept by the node (never shared) and `f` — typically a method
    /// `async fn run(&mut self, ..) -> R` — runs with it on every run.
    pub fn stateful<S, M: 'static, F>(&mut self, state: S, f: F, args: impl IntoArgs<F::Args>) -> Node<F::Output>
    where
        S: 'static,
        F: StateFn<S, M>,
        F::Output: Clone,
    {
        self.state_node::<S, M, F, Plain>(state, f, args)
    }

    /// Like [`stateful`](FlowBuilder::stateful) for a method returning `Result<T, E>`.
    pub fn try_stateful<S, M: 'static, F, T, E>(&mut self, state: S, f: F, args: impl IntoArgs<F::Args>) -> Node<T>
    where
        S: 'static,
        F: StateFn<S, M, Output = Result<T, E>>,
        T: Clone + 'static,
        E: Into<BoxError> + 'static,
    {
        self.state_node::<S, M, F, Fallible>(state, f, args)
    }

    fn state_node<S: 'static, M: 'static, F, K>(
        &mut self,
        state: S,
        f: F,
        args: impl IntoArgs<F::Args>,
    ) -> Node<K::Value>
    where
        F: StateFn<S, M>,
        K: super::runner::Finish<F::Output>,
        K::Value: Clone,
    {
        self.specs.clear();
        let slots = args.into_slots(&mut self.specs);
        let cell = self.arena.cell::<K::Value>();
        self.cells.push_typed(&cell);
        let state = Rc::new(RefCell::new(Some(state)));
        let body = StateBody::<S, F, M, K> {
            state: Rc::clone(&state),
            f: Rc::new(f),
            _m: PhantomData,
        };
        let runner = Box::pin(BodyRunner::new(body, slots, cell));
        let id = self.push(short_name::<S>, runner, false);
        self.cells.set_state(id as usize, state);
        Node::new(id)
    }

    /// A reference to an output of type `T` defined later with [`define`](FlowBuilder::define).
    /// `name` appears in the build error if it is never defined.
    pub fn forward<T: 'static>(&mut self, name: &str) -> Forward<T> {
        let id = self.forwards.len() as u32;
        self.forwards.push(ForwardDef {
            name: name.to_string(),
            def: None,
            defined_twice: false,
        });
        Forward::new(id)
    }

    /// Defines a forward reference as `source` (a node, or one of its outputs).
    pub fn define<T: 'static>(&mut self, forward: Forward<T>, source: impl Into<Output<T>>) {
        let out: Output<T> = source.into();
        let def = &mut self.forwards[forward.id as usize];
        if def.def.is_some() {
            def.defined_twice = true;
        }
        def.def = Some((out.node, out.level, Box::new(out)));
    }

    /// Renames a node (the default name is `fn_name#index`).
    pub fn set_name(&mut self, node: impl AsNode, name: &str) {
        self.names.give(node.node_id().0, name.into());
    }

    /// Names a node's inputs (used in errors and exports instead of positions).
    pub fn set_input_names(&mut self, node: impl AsNode, names: &[&str]) {
        let names = names.iter().map(|s| s.to_string()).collect();
        self.input_names.insert(node.node_id().0, names);
    }

    /// Number of nodes so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was created yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn input_label(&self, node: usize, i: usize) -> String {
        match self.input_names.get(&(node as u32)).and_then(|names| names.get(i)) {
            Some(n) => n.clone(),
            None => format!("#{i}"),
        }
    }

    /// Checks every input and forward reference (first problem in creation order): an
    /// unconnected port was noted as its node was added, an undefined forward reference is
    /// found among the ports that read one.
    fn check(&self) -> Result<(), BuildError> {
        if let Some(f) = self.forwards.iter().find(|f| f.defined_twice) {
            return Err(BuildError::DefinedTwice { name: f.name.clone() });
        }
        let undefined = self
            .forward_ports
            .iter()
            .find(|&&(_, id)| self.forwards[id as usize].def.is_none());
        let (p, forward) = match (undefined, self.first_unconnected) {
            (Some(&(fp, id)), first) if first.is_none_or(|u| fp < u) => (fp, Some(id)),
            (_, Some(u)) => (u, None),
            _ => return Ok(()),
        };
        let n = self.ports[p as usize].node;
        let d = &self.nodes[n as usize];
        let node = self.names.of(n, d.base).to_string();
        let input = self.input_label(n as usize, (p - d.ports.0) as usize);
        Err(match forward {
            Some(id) => BuildError::UndefinedForward {
                name: self.forwards[id as usize].name.clone(),
                node,
                input,
            },
            None => BuildError::Unconnected { node, input },
        })
    }

    /// Checks the graph and wires it into a runnable [`Flow`].
    ///
    /// # Errors
    /// [`BuildError`] naming the node and input of an unconnected input without default, the
    /// forward reference (and a user) that was never defined, or every cycle that can never
    /// start because none of its members has defaults on its inputs from inside the cycle.
    pub fn build(mut self) -> Result<Flow, BuildError> {
        self.check()?;
        let cells = std::mem::take(&mut self.cells);
        let mut graph = Graph {
            nodes: std::mem::take(&mut self.nodes),
            names: std::mem::take(&mut self.names),
            input_names: std::mem::take(&mut self.input_names),
            ports: std::mem::take(&mut self.ports),
            ..Graph::default()
        };
        // Every connection bound by `push` goes from an earlier node to a later one; only a
        // forward reference or a connection to a later node can close a cycle (or a self-loop).
        let mut creation_ordered = self.late_ports.is_empty();
        // Binds global port `p`, now connected, and counts it on its producer.
        let mut connect = |graph: &mut Graph, p: u32, forward: Option<&dyn Any>| {
            let port = &graph.ports[p as usize];
            let (n, producer, level) = (port.node, port.producer.expect("connected"), port.level);
            let first = graph.nodes[n as usize].ports.0;
            self.runners[n as usize]
                .as_mut()
                .bind((p - first) as usize, forward, &cells);
            graph.nodes[producer as usize].count_consumer(level);
        };
        for &p in &self.late_ports {
            connect(&mut graph, p, None);
        }
        for &(p, id) in &self.forward_ports {
            let (producer, level, def) = self.forwards[id as usize].def.as_ref().expect("checked above");
            let port = &mut graph.ports[p as usize];
            let n = port.node;
            (port.producer, port.level, port.stale) = (Some(*producer), *level, true);
            graph.nodes[n as usize].stale_inputs += 1;
            connect(&mut graph, p, Some(&**def));
            creation_ordered &= *producer < n;
        }
        link_consumers(&mut graph);
        // Only streaming nodes leave others suspended without a body waiting to publish.
        graph.maybe_suspended = self.streaming;
        if graph.maybe_suspended {
            stream_state(&mut graph);
        }
        if cfg!(debug_assertions) {
            graph.check_initial_staleness();
        }
        let cycles = if creation_ordered {
            Vec::new()
        } else {
            super::resolve::Resolver::default().unstartable_cycles(&graph)
        };
        if !cycles.is_empty() {
            return Err(BuildError::MissingDefault { cycles });
        }
        let links = super::fuse::Links::plan(&mut graph);
        let state = FlowState {
            links,
            spare: std::cell::Cell::new(None),
            graph: RefCell::new(graph),
            runners: RefCell::new(std::mem::take(&mut self.runners)),
            running: std::cell::Cell::new(false),
            last_run: std::cell::Cell::new(Duration::ZERO),
            outside: RefCell::new(Vec::new()),
            context: RefCell::default(),
        };
        Ok(Flow::new(Rc::new(state), cells))
    }
}

/// The stream state of a flow with a streaming node: by port and by node, each node's with
/// what its chunk publication's fast path needs (see `Graph::publish_lone_chunk`). Out of
/// line: most flows do not stream.
#[inline(never)]
fn stream_state(graph: &mut Graph) {
    graph.stream_ports = vec![Default::default(); graph.ports.len()];
    graph.streams = vec![Default::default(); graph.nodes.len()];
    // Connected stream inputs of node `n`.
    let stream_inputs = |graph: &Graph, n: usize| {
        let node = &graph.nodes[n];
        graph.ports[node.ports.0 as usize..node.ports.1 as usize]
            .iter()
            .filter(|p| p.producer.is_some() && p.level == 1)
            .count()
    };
    for n in 0..graph.nodes.len() {
        let inputs = stream_inputs(graph, n);
        let (ca, cb) = graph.consumers_of(n as u32);
        let meta = &mut graph.streams[n];
        meta.stream_inputs = inputs > 0;
        if cb - ca == 1 {
            meta.lone_consumer = Some(graph.consumer_ports[ca as usize]);
        }
    }
    // Pairs (`pair.rs`): a producer without stream input whose one consumer port is a stream
    // port, the only stream input of a consumer that does not stream itself — one that streams,
    // or pulls another stream, would end pair mode at every chunk.
    for n in 0..graph.nodes.len() {
        let meta = &graph.streams[n];
        let Some(pi) = meta.lone_consumer.filter(|_| !meta.stream_inputs) else {
            continue;
        };
        let port = &graph.ports[pi as usize];
        let c = port.node as usize;
        graph.streams[n].pairs = port.level == 1 && !graph.nodes[c].streaming && stream_inputs(graph, c) == 1;
    }
}

/// Fills the consumer lists (grouped by producer): a counting sort through each producer's
/// own `consumers` index (no temporary per-node arrays beside the graph), whose counts were
/// raised as the consumers were added: range ends, then a backward fill that leaves each
/// range's start.
fn link_consumers(g: &mut Graph) {
    let mut end = 0;
    for node in &mut g.nodes {
        end += node.consumers;
        node.consumers = end;
    }
    g.consumer_ports = vec![0; end as usize];
    // Backwards, so that each producer's ports stay in ascending order.
    for (pi, port) in g.ports.iter().enumerate().rev() {
        if let Some(p) = port.producer {
            let node = &mut g.nodes[p as usize];
            node.consumers -= 1;
            g.consumer_ports[node.consumers as usize] = pi as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_names() {
        async fn inc(x: i64) -> i64 {
            x + 1
        }
        fn name_of<F>(_: &F) -> &'static str {
            super::short_name::<F>()
        }
        assert_eq!(name_of(&inc), "inc");
        assert_eq!(name_of(&|x: i64| async move { x }), "closure");
    }
}
