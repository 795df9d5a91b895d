//! Runtime-arity nodes (see [`DynamicBuilder`]).

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::args::{CellTable, Cells, GatherFault, PortSpec, StartCx, new_cell};
use super::builder::FlowBuilder;
use super::error::BoxError;
use super::handles::{NodeId, Output};
use super::run::Flow;
use super::runner::Runner;
use super::state::Mode;
use super::stream::{Emitter, Stream};

/// Index of a node inside one [`DynamicBuilder`] (its position in `add` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DynId(u32);

impl DynId {
    /// The position in `add` order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl From<usize> for DynId {
    fn from(i: usize) -> DynId {
        DynId(u32::try_from(i).expect("fewer than 2^32 dynamic nodes"))
    }
}

/// Where a connected input reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DynSource {
    /// Output `output` (final value) of a node: a plain, run-level-0 input.
    Output {
        /// The producer.
        node: DynId,
        /// Which of its outputs.
        output: usize,
    },
    /// The chunks of a streaming node: a run-level-1 input receiving a [`Stream`].
    Stream {
        /// The streaming producer.
        node: DynId,
    },
}

impl DynSource {
    /// Output `output` of `node`.
    pub fn output(node: DynId, output: usize) -> DynSource {
        DynSource::Output { node, output }
    }

    /// The chunk stream of `node`.
    pub fn stream(node: DynId) -> DynSource {
        DynSource::Stream { node }
    }

    fn node(self) -> DynId {
        match self {
            DynSource::Output { node, .. } | DynSource::Stream { node } => node,
        }
    }
}

/// A constant (or default) shared between a node and its owner, who may replace it between
/// runs (a live graph's `set_input`).
#[derive(Debug)]
pub struct InputCell<V>(Rc<RefCell<Option<V>>>);

impl<V> Clone for InputCell<V> {
    fn clone(&self) -> Self {
        InputCell(Rc::clone(&self.0))
    }
}

impl<V: Clone> InputCell<V> {
    /// A cell holding `value` (`None`: no value; the input then has no constant or default).
    pub fn new(value: Option<V>) -> InputCell<V> {
        InputCell(Rc::new(RefCell::new(value)))
    }

    /// Replaces the value; the next run of the node reads it.
    pub fn set(&self, value: Option<V>) {
        *self.0.borrow_mut() = value;
    }

    /// The current value.
    pub fn get(&self) -> Option<V> {
        self.0.borrow().clone()
    }
}

/// One input of a [`DynNode`]: a name (used in errors), an optional connection, and an
/// optional value (the constant of an unconnected input, or the default of a connected one).
#[derive(Debug)]
pub struct DynInput<V> {
    name: String,
    source: Option<DynSource>,
    value: InputCell<V>,
}

impl<V: Clone> DynInput<V> {
    /// An unconnected input with a constant.
    pub fn constant(name: &str, value: V) -> DynInput<V> {
        DynInput {
            name: name.to_string(),
            source: None,
            value: InputCell::new(Some(value)),
        }
    }

    /// A connected input without default.
    pub fn connect(name: &str, source: DynSource) -> DynInput<V> {
        DynInput {
            name: name.to_string(),
            source: Some(source),
            value: InputCell::new(None),
        }
    }

    /// An unconnected input whose value lives in `cell` (an empty cell makes the build fail
    /// like [`unconnected`](super::unconnected)).
    pub fn cell(name: &str, cell: InputCell<V>) -> DynInput<V> {
        DynInput {
            name: name.to_string(),
            source: None,
            value: cell,
        }
    }

    /// An input with neither connection nor value: building fails naming it.
    pub fn unconnected(name: &str) -> DynInput<V> {
        DynInput::cell(name, InputCell::new(None))
    }

    /// Gives a connected input a default (used when its port is stale, e.g. to break a cycle).
    pub fn or(self, default: V) -> DynInput<V> {
        self.value.set(Some(default));
        self
    }
}

/// The results of one run of a dynamic node: one value, or one per output.
#[derive(Debug, Clone, PartialEq)]
pub enum Outputs<V> {
    /// A single output (no allocation).
    One(V),
    /// Several outputs, in output order.
    Many(Vec<V>),
}

impl<V> Outputs<V> {
    /// Output `i`.
    pub fn get(&self, i: usize) -> Option<&V> {
        match self {
            Outputs::One(v) if i == 0 => Some(v),
            Outputs::One(_) => None,
            Outputs::Many(vs) => vs.get(i),
        }
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        match self {
            Outputs::One(_) => 1,
            Outputs::Many(vs) => vs.len(),
        }
    }

    /// Whether there is no output.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One gathered input.
#[derive(Debug)]
#[non_exhaustive]
pub enum DynArg<V> {
    /// A plain value: the producer's output, the constant, or the default.
    Value(V),
    /// A stream input's chunks.
    Stream(Stream<V>),
}

/// The inputs of one run, in input order, and the emitter of a streaming node.
#[derive(Debug)]
pub struct DynArgs<V> {
    args: Vec<DynArg<V>>,
    emitter: Option<Emitter<V>>,
}

impl<V> DynArgs<V> {
    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether the node has no input.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The inputs, to take apart.
    pub fn into_parts(self) -> (Vec<DynArg<V>>, Option<Emitter<V>>) {
        (self.args, self.emitter)
    }

    /// The plain values (stream inputs are skipped).
    pub fn into_values(self) -> Vec<V> {
        self.args
            .into_iter()
            .filter_map(|a| match a {
                DynArg::Value(v) => Some(v),
                DynArg::Stream(_) => None,
            })
            .collect()
    }
}

/// The future of a [`DynCall::Pending`] body.
pub type DynFuture<V> = Pin<Box<dyn Future<Output = Result<Outputs<V>, BoxError>>>>;

/// What a [`DynBody`] returns for one run.
#[non_exhaustive]
pub enum DynCall<V> {
    /// The body finished at once (a sync computation; nothing is boxed).
    Ready(Result<Outputs<V>, BoxError>),
    /// The body continues as a future (it may await timers, sockets, streams, emits).
    Pending(DynFuture<V>),
}

impl<V> fmt::Debug for DynCall<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DynCall::Ready(r) => write!(f, "Ready(ok: {})", r.is_ok()),
            DynCall::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// The body of a dynamic node, called once per run. Implemented for every
/// `FnMut(DynArgs<V>) -> DynCall<V> + 'static`.
pub trait DynBody<V>: 'static {
    /// Runs the node on `args`.
    fn call(&mut self, args: DynArgs<V>) -> DynCall<V>;
}

impl<V, F: FnMut(DynArgs<V>) -> DynCall<V> + 'static> DynBody<V> for F {
    fn call(&mut self, args: DynArgs<V>) -> DynCall<V> {
        self(args)
    }
}

/// A node with a runtime number of inputs and outputs.
pub struct DynNode<V> {
    name: String,
    inputs: Vec<DynInput<V>>,
    outputs: usize,
    streaming: bool,
    body: Box<dyn DynBody<V>>,
    guard: Option<(DynSource, Pass<V>)>,
}

/// The test of a [guard](DynNode::guard).
type Pass<V> = Rc<dyn Fn(&V) -> bool>;

impl<V> fmt::Debug for DynNode<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynNode")
            .field("name", &self.name)
            .field("inputs", &self.inputs.len())
            .field("outputs", &self.outputs)
            .field("streaming", &self.streaming)
            .finish()
    }
}

impl<V: Clone + 'static> DynNode<V> {
    /// A plain node named `name` (the name appears in errors and outcomes) with one output and
    /// no inputs yet.
    pub fn new(name: &str, body: impl DynBody<V>) -> DynNode<V> {
        DynNode {
            name: name.to_string(),
            inputs: Vec::new(),
            outputs: 1,
            streaming: false,
            body: Box::new(body),
            guard: None,
        }
    }

    /// Appends an input.
    pub fn input(mut self, input: DynInput<V>) -> DynNode<V> {
        self.inputs.push(input);
        self
    }

    /// Sets the number of outputs (default 1); the body returns that many.
    pub fn outputs(mut self, count: usize) -> DynNode<V> {
        self.outputs = count;
        self
    }

    /// Makes the node a streaming producer: [`DynArgs`] carries an [`Emitter`], consumers may
    /// read its chunks through [`DynSource::Stream`]; the returned outputs are the final value.
    pub fn streaming(mut self) -> DynNode<V> {
        self.streaming = true;
        self
    }

    /// Makes each run conditional: the node waits for output `output` of `node` like for an
    /// input (it is not passed to the body), and runs its body only when `pass` accepts that
    /// value. A run `pass` refuses is *skipped*: the body is not called, nothing is
    /// published, and consumers keep reading the previous outputs (or their defaults); the
    /// executor still counts the run and advances the generation. Lazy branches of a graph
    /// built by name (`flow.if`) use it so that the branch not taken never runs.
    pub fn guard(mut self, node: DynId, output: usize, pass: impl Fn(&V) -> bool + 'static) -> DynNode<V> {
        self.guard = Some((DynSource::output(node, output), Rc::new(pass)));
        self
    }
}

/// The name a guard's port has in errors.
const GUARD_PORT: &str = "<guard>";

/// Why [`DynamicBuilder::install`] refused the nodes. Each variant names the node and input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DynBuildError {
    /// An input names a node that was never added.
    #[error("node `{node}`, input `{input}`: no dynamic node #{target} (only {count} were added)")]
    UnknownNode {
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
        /// The missing index.
        target: usize,
        /// How many nodes exist.
        count: usize,
    },
    /// An input reads an output the producer does not have.
    #[error("node `{node}`, input `{input}`: node `{producer}` has {outputs} output(s), not output {output}")]
    NoSuchOutput {
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
        /// The producer.
        producer: String,
        /// The output asked for.
        output: usize,
        /// How many it has.
        outputs: usize,
    },
    /// A stream input reads a node that does not stream.
    #[error("node `{node}`, input `{input}`: node `{producer}` is not a streaming node")]
    NotStreaming {
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
        /// The producer.
        producer: String,
    },
}

/// Runtime-arity nodes: a node whose inputs and outputs are counted at run time and carry one
/// value type `V`, wired by index instead of by Rust types. This is how a graph built by name
/// (the `flowloop-graph` crate, or any other front end) runs on the same executor as typed
/// flows: same generations, cycles broken by defaults, streams, limits and errors.
///
/// A [`DynamicBuilder`] collects [`DynNode`]s whose inputs name other dynamic nodes by
/// [`DynId`] (in any order, so cycles are plain references), checks every reference, and
/// [installs](DynamicBuilder::install) them into a [`FlowBuilder`], next to typed nodes if any.
/// A node's body is a [`DynBody`]: it receives a [`DynArgs`] (one [`DynArg`] per input, plus
/// an [`Emitter`] for streaming nodes) and returns [`Outputs`], either at once
/// ([`DynCall::Ready`], no allocation) or as a boxed future ([`DynCall::Pending`]).
///
/// # Examples
/// ```
/// use flowloop::flow::{DynArgs, DynCall, DynInput, DynNode, DynSource, DynamicBuilder, FlowBuilder, Outputs,
///     RunOptions};
///
/// // A body from a closure: sum of all inputs.
/// let add = |args: DynArgs<i64>| DynCall::Ready(Ok(Outputs::One(args.into_values().iter().sum())));
/// let mut d = DynamicBuilder::new();
/// let x = d.add(DynNode::new("x", add).input(DynInput::constant("a", 40)));
/// let y = d.add(DynNode::new("y", add)
///     .input(DynInput::connect("a", DynSource::output(x, 0)))
///     .input(DynInput::constant("b", 2)));
/// let mut b = FlowBuilder::new();
/// let ids = d.install(&mut b).unwrap();
/// let mut flow = b.build().unwrap();
/// flow.run_until_complete(RunOptions::new()).unwrap();
/// assert_eq!(flow.dyn_value::<i64>(ids[y.index()], 0), Some(42));
/// ```
pub struct DynamicBuilder<V> {
    nodes: Vec<DynNode<V>>,
}

impl<V> fmt::Debug for DynamicBuilder<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicBuilder")
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

impl<V: Clone + 'static> Default for DynamicBuilder<V> {
    fn default() -> Self {
        DynamicBuilder { nodes: Vec::new() }
    }
}

impl<V: Clone + 'static> DynamicBuilder<V> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node; its inputs may name nodes added later.
    pub fn add(&mut self, node: DynNode<V>) -> DynId {
        let id = DynId::from(self.nodes.len());
        self.nodes.push(node);
        id
    }

    /// Number of nodes added.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn check(&self) -> Result<(), DynBuildError> {
        for node in &self.nodes {
            for input in &node.inputs {
                if let Some(source) = input.source {
                    self.check_source(node, &input.name, source)?;
                }
            }
            if let Some((source, _)) = &node.guard {
                self.check_source(node, GUARD_PORT, *source)?;
            }
        }
        Ok(())
    }

    fn check_source(&self, node: &DynNode<V>, input: &str, source: DynSource) -> Result<(), DynBuildError> {
        let Some(producer) = self.nodes.get(source.node().index()) else {
            return Err(DynBuildError::UnknownNode {
                node: node.name.clone(),
                input: input.to_string(),
                target: source.node().index(),
                count: self.nodes.len(),
            });
        };
        match source {
            DynSource::Output { output, .. } if output >= producer.outputs => Err(DynBuildError::NoSuchOutput {
                node: node.name.clone(),
                input: input.to_string(),
                producer: producer.name.clone(),
                output,
                outputs: producer.outputs,
            }),
            DynSource::Stream { .. } if !producer.streaming => Err(DynBuildError::NotStreaming {
                node: node.name.clone(),
                input: input.to_string(),
                producer: producer.name.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Checks every reference and adds the nodes to `b` (in `add` order, after the nodes `b`
    /// already has). Returns the flow node id of every dynamic node, indexed by [`DynId`].
    ///
    /// # Errors
    /// [`DynBuildError`] naming the node and input of the first bad reference; `b` is left
    /// unchanged then. Inputs without connection and value are reported by
    /// [`FlowBuilder::build`] (naming node and input).
    pub fn install(self, b: &mut FlowBuilder) -> Result<Vec<NodeId>, DynBuildError> {
        self.check()?;
        let base = b.len() as u32;
        let mut ids = Vec::with_capacity(self.nodes.len());
        for node in self.nodes {
            ids.push(install_node(b, base, node));
        }
        Ok(ids)
    }
}

fn install_node<V: Clone + 'static>(b: &mut FlowBuilder, base: u32, node: DynNode<V>) -> NodeId {
    let (cell, erased) = new_cell::<Outputs<V>>();
    let chunk = node.streaming.then(new_cell::<V>);
    let mut ports = Vec::with_capacity(node.inputs.len());
    let mut slots = Vec::with_capacity(node.inputs.len());
    let mut names = Vec::with_capacity(node.inputs.len());
    for input in node.inputs {
        let has_default = input.value.0.borrow().is_some();
        ports.push(port_spec(base, input.source, has_default));
        names.push(input.name);
        slots.push(Slot::new(input.source, input.value));
    }
    // The guard is the last port: it orders the node after its decider like an input.
    let guard = node.guard.map(|(source, pass)| {
        ports.push(port_spec(base, Some(source), false));
        names.push(GUARD_PORT.to_string());
        Guard {
            slot: Slot::new(Some(source), InputCell::new(None)),
            pass,
        }
    });
    let runner = DynRunner {
        body: node.body,
        slots,
        guard,
        base,
        fut: None,
        pending: None,
        cell,
        chunk: chunk.as_ref().map(|(c, _)| Rc::clone(c)),
    };
    let id = b.push_runner(node.name, Box::pin(runner), ports, erased, chunk.map(|(_, e)| e));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    b.set_input_names(id, &names);
    id
}

fn port_spec(base: u32, source: Option<DynSource>, has_default: bool) -> PortSpec {
    match source {
        None => PortSpec::Own { has_default },
        Some(s) => PortSpec::Node {
            node: base + s.node().0,
            level: u8::from(matches!(s, DynSource::Stream { .. })),
            has_default,
        },
    }
}

/// How a connected slot reads its producer, once bound.
enum Read<V> {
    Unbound,
    Value(Rc<RefCell<Option<Outputs<V>>>>, usize),
    Stream(Rc<RefCell<Option<V>>>),
}

struct Slot<V> {
    source: Option<DynSource>,
    value: InputCell<V>,
    read: Read<V>,
}

impl<V: Clone + 'static> Slot<V> {
    fn new(source: Option<DynSource>, value: InputCell<V>) -> Slot<V> {
        Slot {
            source,
            value,
            read: Read::Unbound,
        }
    }

    /// Appends this input's argument to `out` (built in place: returning it through a
    /// `Result` first cost a store-to-load stall on every run).
    #[inline]
    fn fetch_into(
        &self,
        mode: Mode,
        cx: &StartCx<'_>,
        input: usize,
        out: &mut Vec<DynArg<V>>,
    ) -> Result<(), GatherFault> {
        match (mode, &self.read) {
            (Mode::Read, Read::Value(cell, i)) => {
                if let Some(v) = cell.borrow().as_ref().and_then(|o| o.get(*i)) {
                    out.push(DynArg::Value(v.clone()));
                    return Ok(());
                }
            }
            (Mode::Stream, Read::Stream(chunk)) => {
                out.push(DynArg::Stream(Stream::open(
                    cx.shared,
                    cx.first_port + input as u32,
                    Rc::clone(chunk),
                )));
                return Ok(());
            }
            _ => {}
        }
        match &*self.value.0.borrow() {
            Some(v) => {
                out.push(DynArg::Value(v.clone()));
                Ok(())
            }
            None => Err(GatherFault { input }),
        }
    }

    fn bind(&mut self, base: u32, cells: &CellTable) -> bool {
        let Some(source) = self.source else { return false };
        let Some(c) = cells.get((base + source.node().0) as usize) else {
            return false;
        };
        self.read = match source {
            DynSource::Output { output, .. } => match Rc::clone(c.value()).downcast::<RefCell<Option<Outputs<V>>>>() {
                Ok(cell) => Read::Value(cell, output),
                Err(_) => return false,
            },
            DynSource::Stream { .. } => match c.chunk().map(|ch| Rc::clone(ch).downcast::<RefCell<Option<V>>>()) {
                Some(Ok(chunk)) => Read::Stream(chunk),
                _ => return false,
            },
        };
        true
    }
}

/// A node's [guard](DynNode::guard): where the decision is read, and the test.
struct Guard<V> {
    slot: Slot<V>,
    pass: Pass<V>,
}

impl<V> Guard<V> {
    /// Whether the decider's latest output lets the node run (no output yet: it does not).
    fn passes(&self) -> bool {
        match &self.slot.read {
            Read::Value(cell, i) => cell
                .borrow()
                .as_ref()
                .and_then(|o| o.get(*i))
                .is_some_and(|v| (self.pass)(v)),
            _ => false,
        }
    }
}

/// The [`Runner`] of a dynamic node: slots, body, running future, output cell.
///
/// A run: `start` (skipped at once when the guard refuses; else gather the arguments and call
/// the body: ready outputs wait in `pending`, a future in `fut`) → `poll_body` until the
/// future is done → `publish` moves `pending` into the output cell (nothing for a skipped run).
struct DynRunner<V> {
    body: Box<dyn DynBody<V>>,
    slots: Vec<Slot<V>>,
    guard: Option<Guard<V>>,
    base: u32,
    fut: Option<DynFuture<V>>,
    pending: Option<Outputs<V>>,
    cell: Rc<RefCell<Option<Outputs<V>>>>,
    chunk: Option<Rc<RefCell<Option<V>>>>,
}

// Nothing in a `DynRunner` is structurally pinned: its future is boxed.
impl<V> Unpin for DynRunner<V> {}

impl<V: Clone + 'static> DynRunner<V> {
    fn gather(&self, modes: &[Mode], cx: &StartCx<'_>) -> Result<DynArgs<V>, GatherFault> {
        let mut args = Vec::with_capacity(self.slots.len());
        for (i, slot) in self.slots.iter().enumerate() {
            slot.fetch_into(modes[i], cx, i, &mut args)?;
        }
        let emitter = self
            .chunk
            .as_ref()
            .map(|c| Emitter::new(Rc::clone(cx.shared), cx.node, Rc::clone(c)));
        Ok(DynArgs { args, emitter })
    }
}

impl<V: Clone + 'static> Runner for DynRunner<V> {
    fn start(self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>) -> Result<(), GatherFault> {
        let this = self.get_mut();
        if this.guard.as_ref().is_some_and(|g| !g.passes()) {
            return Ok(());
        }
        let args = this.gather(modes, cx)?;
        match this.body.call(args) {
            DynCall::Ready(Ok(out)) => this.pending = Some(out),
            DynCall::Ready(Err(e)) => this.fut = Some(Box::pin(std::future::ready(Err(e)))),
            DynCall::Pending(fut) => this.fut = Some(fut),
        }
        Ok(())
    }

    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let this = self.get_mut();
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let out = match fut.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(out) => out,
        };
        this.fut = None;
        this.pending = Some(out?);
        Poll::Ready(Ok(()))
    }

    fn publish(self: Pin<&mut Self>) {
        let this = self.get_mut();
        if this.pending.is_some() {
            // Swapped in place (moving it out through a temporary stalls the copy that
            // follows), then the previous outputs are dropped.
            std::mem::swap(&mut *this.cell.borrow_mut(), &mut this.pending);
            this.pending = None;
        }
    }

    fn abort(self: Pin<&mut Self>) {
        let this = self.get_mut();
        this.fut = None;
        this.pending = None;
    }

    fn bind(self: Pin<&mut Self>, port: usize, _forward: Option<&dyn Any>, cells: &CellTable) -> bool {
        let this = self.get_mut();
        let base = this.base;
        if port == this.slots.len() {
            return this.guard.as_mut().is_some_and(|g| g.slot.bind(base, cells));
        }
        this.slots.get_mut(port).is_some_and(|s| s.bind(base, cells))
    }
}

/// Reads a dynamic node's outputs whole (a typed node, or a dynamic node of another value
/// type, reads as never produced). Dynamic nodes keep a cell of their own, not a typed
/// node's block cell.
fn project_output<V: Clone + 'static>(cells: &Cells<'_>) -> super::args::Link<Outputs<V>> {
    match Rc::clone(cells.value()).downcast::<RefCell<Option<Outputs<V>>>>() {
        Ok(cell) => super::args::Link::Read(Rc::new(move |_, _| cell.borrow().clone())),
        Err(_) => super::args::Link::None,
    }
}

impl Flow {
    /// The latest value of output `output` of a node installed by a [`DynamicBuilder`] with
    /// value type `V`; `None` if it never produced one (or the node is not such a node).
    pub fn dyn_value<V: Clone + 'static>(&self, node: NodeId, output: usize) -> Option<V> {
        self.dyn_outputs::<V>(node).and_then(|o| o.get(output).cloned())
    }

    /// All latest outputs of a dynamic node.
    pub fn dyn_outputs<V: Clone + 'static>(&self, node: NodeId) -> Option<Outputs<V>> {
        if node.index() >= self.len() {
            return None;
        }
        self.value(Output {
            node: node.0,
            level: 0,
            project: project_output::<V>,
        })
    }
}
