//! Push evaluation: a live graph. Setting an input re-runs what depends on it; sets in the
//! same tick coalesce into one run, a run that sees new input is followed by one more, errors
//! reach whoever awaits [`idle`](LiveGraph::idle) (and the event listeners) and stay visible
//! on the node, and edits are validated as a whole and applied between runs.
//!
//! # Ticks
//! A tick reads the latest input values. In a graph without cycles and streams it runs only
//! the nodes whose inputs were set and everything downstream of them, in dependency order,
//! reusing the cached outputs of the rest (the first tick runs every node; the first after an
//! edit runs the nodes the edit added or changed — kind, edges into them, constants — and
//! everything downstream of them). A graph with a cycle or a stream runs on the flow executor
//! instead, where a tick is one run of the whole flow (every node runs once per generation, as
//! in a batch run). Either way a node that only feeds an untaken lazy branch (`flow.if`) is
//! skipped. Ticks are driven by [`idle`](LiveGraph::idle) (and [`inject`](LiveGraph::inject))
//! when the graph has unprocessed input, or by [`serve`](LiveGraph::serve) spawned as a task,
//! which ticks as soon as an input is set.
//!
//! State machine of the ticker: `Idle` (nothing pending) → `Dirty` (an input or edit arrived)
//! → `Ticking` (a run in progress; new input makes it `Ticking + Dirty`, so one more tick
//! follows) → `Idle`. [`close`](LiveGraph::close) ends `serve`.

mod branches;
mod direct;
mod edit;
mod engine;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use flowloop::flow::{BoxError, Failure, FlowError, NodeView, Outputs, RunBeacon, RunOptions};
use flowloop::sync::{AsyncQueue, Event};
use flowloop::{DropPolicy, TaskHandle};

pub use edit::Edit;

use self::direct::{Slot, Started};
use self::engine::Engine;
use crate::Value;
use crate::compile::SharedInstance;
use crate::graph::{Graph, GraphError, PortRef, ports_output};

/// One failure of a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFailure {
    /// The failed node (`None` for a failure of the loop itself).
    pub node: Option<String>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for LiveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What listeners ([`LiveGraph::on_event`]) hear.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveEvent {
    /// A tick finished.
    Ticked {
        /// How many ticks so far.
        tick: u64,
    },
    /// A node failed in a tick.
    Failed(LiveFailure),
}

/// Why [`LiveGraph::idle`] or [`LiveGraph::inject`] reports a problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// Nodes failed since the last `idle` (every failure, each naming its node).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Failed(Vec<LiveFailure>),
    /// The input could not be set.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

type Listener = Rc<dyn Fn(&LiveEvent)>;

struct State {
    graph: Graph,
    engine: Engine,
    /// An edit batch waiting for the running tick to end.
    next: Option<(Graph, Engine)>,
    dirty: bool,
    ticking: bool,
    closed: bool,
    failures: Vec<LiveFailure>,
    /// Visible error state: message, and the node's run count (in the current flow) when it
    /// failed; cleared once it ran again.
    errors: BTreeMap<String, (String, u64)>,
    /// Values and run counts carried over from flows replaced by edits.
    values: HashMap<String, Outputs<Value>>,
    runs: HashMap<String, u64>,
    listeners: Vec<Listener>,
    ticks: u64,
    /// Handed to every tick's run (see [`LiveGraph::beacon`]).
    beacon: Option<std::sync::Arc<RunBeacon>>,
}

struct Inner {
    state: RefCell<State>,
    /// Set when input arrives (wakes `serve`).
    wake: Event,
    /// Cleared when a tick starts, set when it ends.
    tick_done: Event,
}

/// A live graph; clones share it. See the [module docs](self).
///
/// # Examples
/// ```
/// use flowloop_graph::live::LiveGraph;
/// use flowloop_graph::{Graph, Registry, Value};
/// let mut g = Graph::new(Registry::with_std());
/// g.add("math.mul", Some("double")).unwrap();
/// g.set_constant("double", "a", Value::Int(1)).unwrap();
/// g.set_constant("double", "b", Value::Int(2)).unwrap();
/// let live = LiveGraph::new(g).unwrap();
/// flowloop::run(async move {
///     live.inject("double", "a", Value::Int(21)).await.unwrap();
///     assert_eq!(live.value("double", "out"), Some(Value::Int(42)));
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct LiveGraph {
    inner: Rc<Inner>,
}

impl fmt::Debug for LiveGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.borrow();
        f.debug_struct("LiveGraph")
            .field("nodes", &st.graph.len())
            .field("ticks", &st.ticks)
            .field("dirty", &st.dirty)
            .finish()
    }
}

impl LiveGraph {
    /// A live graph; the first tick (on the first `idle`, or at once under `serve`) runs
    /// every node.
    ///
    /// # Errors
    /// An input with neither edge nor value.
    pub fn new(graph: Graph) -> Result<LiveGraph, GraphError> {
        let engine = Engine::build(&graph, &HashMap::new())?;
        let state = State {
            graph,
            engine,
            next: None,
            dirty: true,
            ticking: false,
            closed: false,
            failures: Vec::new(),
            errors: BTreeMap::new(),
            values: HashMap::new(),
            runs: HashMap::new(),
            listeners: Vec::new(),
            ticks: 0,
            beacon: None,
        };
        let inner = Inner {
            state: RefCell::new(state),
            wake: Event::new(),
            tick_done: Event::new(),
        };
        inner.wake.set();
        Ok(LiveGraph { inner: Rc::new(inner) })
    }

    /// A copy of the current graph (with the latest set inputs as constants).
    pub fn graph(&self) -> Graph {
        let st = self.inner.state.borrow();
        st.next.as_ref().map_or_else(|| st.graph.clone(), |(g, _)| g.clone())
    }

    /// Sets an unconnected input; the next tick reads it. Sets before that tick coalesce.
    ///
    /// # Errors
    /// Unknown node or input, a value of the wrong type, or a connected input.
    pub fn set_input(&self, node: &str, input: &str, value: Value) -> Result<(), GraphError> {
        let mut st = self.inner.state.borrow_mut();
        let st = &mut *st;
        set_in(&mut st.graph, &mut st.engine, node, input, &value)?;
        if let Some((g, c)) = st.next.as_mut() {
            set_in(g, c, node, input, &value)?;
        }
        st.dirty = true;
        self.inner.wake.set();
        Ok(())
    }

    /// Resolves once no input is left unprocessed and no tick is running; drives the ticks
    /// itself when no [`serve`](LiveGraph::serve) task does.
    ///
    /// # Errors
    /// [`LiveError::Failed`] with every node failure since the previous `idle`.
    pub fn idle(&self) -> impl Future<Output = Result<(), LiveError>> + 'static {
        let inner = Rc::clone(&self.inner);
        async move {
            loop {
                let (dirty, ticking) = {
                    let st = inner.state.borrow();
                    (st.dirty, st.ticking)
                };
                if ticking {
                    inner.tick_done.wait().await;
                } else if dirty {
                    tick(&inner).await;
                } else {
                    break;
                }
            }
            let failures = std::mem::take(&mut inner.state.borrow_mut().failures);
            if failures.is_empty() {
                Ok(())
            } else {
                Err(LiveError::Failed(failures))
            }
        }
    }

    /// Sets an input and resolves once everything derived from it has settled.
    pub fn inject(
        &self,
        node: &str,
        input: &str,
        value: Value,
    ) -> impl Future<Output = Result<(), LiveError>> + 'static {
        let set = self.set_input(node, input, value);
        let idle = self.idle();
        async move {
            set?;
            idle.await
        }
    }

    /// Ticks whenever input arrives, until [`close`](LiveGraph::close); spawn it as a task.
    pub fn serve(&self) -> impl Future<Output = ()> + 'static {
        let inner = Rc::clone(&self.inner);
        async move {
            loop {
                inner.wake.wait().await;
                inner.wake.clear();
                let (closed, go) = {
                    let st = inner.state.borrow();
                    (st.closed, st.dirty && !st.ticking)
                };
                if closed {
                    break;
                }
                if go {
                    tick(&inner).await;
                }
            }
        }
    }

    /// Ends [`serve`](LiveGraph::serve) (after its current tick).
    pub fn close(&self) {
        self.inner.state.borrow_mut().closed = true;
        self.inner.wake.set();
    }

    /// The latest value of an output (kept across edits for untouched nodes).
    pub fn value(&self, node: &str, output: &str) -> Option<Value> {
        let st = self.inner.state.borrow();
        let n = st.graph.node(node)?;
        let i = ports_output(n, output).ok()??;
        st.engine
            .value(node, i)
            .or_else(|| st.values.get(node)?.get(i).cloned())
    }

    /// The node's visible error state: the message of its latest failure, until it runs
    /// successfully again.
    pub fn error(&self, node: &str) -> Option<String> {
        self.inner.state.borrow().errors.get(node).map(|(m, _)| m.clone())
    }

    /// How many times `node` ran (over all ticks).
    pub fn runs(&self, node: &str) -> u64 {
        let st = self.inner.state.borrow();
        st.runs.get(node).copied().unwrap_or(0) + st.engine.runs(node)
    }

    /// Every node's id and view (status, generation, and runs over all ticks), in graph
    /// order, read under one borrow: what a dashboard samples a few times a second. Call it
    /// from another task of the loop, never from inside a node body.
    pub fn node_views(&self) -> Vec<(String, NodeView)> {
        let st = self.inner.state.borrow();
        st.graph
            .nodes()
            .filter_map(|n| {
                let id = n.id();
                let mut view = st.engine.view(id)?;
                view.runs += st.runs.get(id).copied().unwrap_or(0);
                Some((id.to_string(), view))
            })
            .collect()
    }

    /// Every connected stream input's lag: how many chunks of its producer's stream run in
    /// progress the consumer has not taken yet (chunks published minus chunks taken), as
    /// [`Flow::stream_lags_into`](flowloop::flow::Flow::stream_lags_into) counts them, keyed
    /// by the consumer's input (an input has at most one edge), in flow edge order. Streams
    /// hand over one chunk at a time, so a lag is 0 or 1; it is 0 before a stream's first
    /// chunk and once its producer finished the run. Empty for a graph without streams (its
    /// ticks run no flow).
    /// Like [`node_views`](LiveGraph::node_views), call it from another task of the loop.
    ///
    /// # Examples
    /// ```
    /// use flowloop_graph::live::LiveGraph;
    /// use flowloop_graph::{Graph, PortRef, Registry, Value};
    /// let mut g = Graph::new(Registry::with_std());
    /// g.add("streams.range", Some("numbers")).unwrap();
    /// g.set_constant("numbers", "stop", Value::Int(3)).unwrap();
    /// g.add("streams.sum", Some("total")).unwrap();
    /// g.connect("numbers", "stream", "total", "items").unwrap();
    /// let live = LiveGraph::new(g).unwrap();
    /// flowloop::run(async move {
    ///     live.idle().await.unwrap();
    ///     // The tick ran the stream to its end: every chunk taken.
    ///     assert_eq!(live.stream_lags(), [(PortRef::new("total", "items"), 0)]);
    /// })
    /// .unwrap();
    /// ```
    pub fn stream_lags(&self) -> Vec<(PortRef, u64)> {
        self.inner.state.borrow().engine.stream_lags()
    }

    /// Records every node run start of the following ticks in `beacon` (one relaxed store per
    /// run), so another thread can name the node running when this loop stops answering.
    /// Read its marks with [`flow_keys`](LiveGraph::flow_keys).
    pub fn beacon(&self, beacon: std::sync::Arc<RunBeacon>) {
        self.inner.state.borrow_mut().beacon = Some(beacon);
    }

    /// The graph node id of every node by the index a [`RunBeacon`] mark's `node.index()`
    /// refers to (the flow index, or the graph position for graphs the incremental engine
    /// runs); it changes when an edit batch takes effect.
    pub fn flow_keys(&self) -> Vec<String> {
        let st = self.inner.state.borrow();
        st.engine.keys()
    }

    /// Ticks so far.
    pub fn ticks(&self) -> u64 {
        self.inner.state.borrow().ticks
    }

    /// Calls `listener` on every event (tick finished, node failed).
    pub fn on_event(&self, listener: impl Fn(&LiveEvent) + 'static) {
        self.inner.state.borrow_mut().listeners.push(Rc::new(listener));
    }

    /// Applies a batch of edits: all are checked together on a copy of the graph; an invalid
    /// batch changes nothing. A valid one takes effect at the next tick (after the running
    /// one); untouched nodes keep their state and their set inputs.
    ///
    /// # Errors
    /// The first edit that is refused, or an input left without value.
    pub fn apply(&self, edits: &[Edit]) -> Result<(), GraphError> {
        let mut st = self.inner.state.borrow_mut();
        let (base, base_engine) = match &st.next {
            Some((g, e)) => (g, e),
            None => (&st.graph, &st.engine),
        };
        let mut g = base.clone();
        for e in edits {
            e.apply_to(&mut g)?;
        }
        g.validate()?;
        let reuse: HashMap<String, SharedInstance> = g
            .nodes()
            .filter(|new| {
                base.node(new.id())
                    .is_some_and(|old| old.spec().name == new.spec().name)
            })
            .filter_map(|new| Some((new.id().to_string(), base_engine.instance(new.id())?)))
            .collect();
        let engine = Engine::build(&g, &reuse)?;
        st.errors.retain(|id, _| g.node(id).is_some());
        if st.ticking {
            st.next = Some((g, engine));
        } else {
            swap_flow(&mut st, g, engine);
        }
        st.dirty = true;
        self.inner.wake.set();
        Ok(())
    }
}

fn set_in(graph: &mut Graph, engine: &mut Engine, node: &str, input: &str, value: &Value) -> Result<(), GraphError> {
    if let Some(src) = graph.source_of(node, input) {
        return Err(GraphError::AlreadyConnected {
            node: node.to_string(),
            input: input.to_string(),
            from: src.to_string(),
        });
    }
    graph.set_constant(node, input, value.clone())?;
    engine.set(&PortRef::new(node, input), value);
    Ok(())
}

/// One tick with the latest inputs.
async fn tick(inner: &Rc<Inner>) {
    let run = {
        let mut st = inner.state.borrow_mut();
        if let Some((g, e)) = st.next.take() {
            swap_flow(&mut st, g, e);
        }
        st.ticking = true;
        st.dirty = false;
        inner.tick_done.clear();
        let beacon = st.beacon.clone();
        match &mut st.engine {
            Engine::Flow(c) => {
                let options = RunOptions::new().terminate_on_error(false);
                let options = match beacon {
                    Some(b) => options.beacon(b),
                    None => options,
                };
                Some(c.flow.run(options))
            }
            Engine::Direct(d) => {
                d.begin(beacon);
                None
            }
        }
    };
    let failures = match run {
        Some(run) => failures_of(run.await),
        None => direct_tick(inner).await,
    };
    let (events, listeners) = finish_tick(&mut inner.state.borrow_mut(), failures);
    inner.tick_done.set();
    for e in &events {
        for l in &listeners {
            l(e);
        }
    }
}

/// Runs the ready nodes of a [`Direct`](direct::Direct) tick inline; returns the calls that
/// continue as futures.
fn run_ready(inner: &Inner) -> Vec<(Slot, flowloop::flow::DynFuture<Value>)> {
    let mut st = inner.state.borrow_mut();
    let Engine::Direct(d) = &mut st.engine else {
        return Vec::new();
    };
    let mut pending = Vec::new();
    while let Some(started) = d.step() {
        if let Started::Pending(s, fut) = started {
            pending.push((s, fut));
        }
    }
    pending
}

type Arrival = (Slot, Result<Outputs<Value>, BoxError>);

/// A tick of the direct engine: ready nodes run inline, calls that continue as futures run
/// as tasks (dropped, and so cancelled, if the tick is) whose results arrive on a queue.
async fn direct_tick(inner: &Rc<Inner>) -> Vec<LiveFailure> {
    let queue: AsyncQueue<Arrival> = AsyncQueue::new();
    let mut tasks: Vec<TaskHandle<()>> = Vec::new();
    let mut in_flight = 0usize;
    loop {
        for (slot, fut) in run_ready(inner) {
            in_flight += 1;
            let queue = queue.clone();
            let task = async move {
                let result = crate::unwind::catch(fut)
                    .await
                    .unwrap_or_else(|msg| Err(BoxError::from(format!("panicked: {msg}"))));
                if queue.try_put((slot, result)).is_err() {
                    unreachable!("the arrival queue is unbounded and never closed");
                }
            };
            tasks.push(flowloop::spawn(task).await.on_drop(DropPolicy::Abort));
        }
        if in_flight == 0 {
            break;
        }
        let (slot, result) = queue.get().await.expect("the arrival queue is never closed");
        in_flight -= 1;
        if let Engine::Direct(d) = &mut inner.state.borrow_mut().engine {
            d.finish(slot, result);
        }
    }
    match &mut inner.state.borrow_mut().engine {
        Engine::Direct(d) => d.end(),
        Engine::Flow(_) => Vec::new(),
    }
}

fn failures_of(result: Result<flowloop::flow::Outcome, FlowError>) -> Vec<LiveFailure> {
    match result {
        Ok(_) => Vec::new(),
        Err(FlowError::Failed(fs)) => fs
            .iter()
            .map(|f| LiveFailure {
                node: match f {
                    Failure::Node { name, .. } => Some(name.clone()),
                    Failure::MissingDefault { cycle } => cycle.first().map(|m| m.name.clone()),
                    _ => None,
                },
                message: f.to_string(),
            })
            .collect(),
        Err(other) => vec![LiveFailure {
            node: None,
            message: other.to_string(),
        }],
    }
}

/// Replaces the engine after an edit, keeping the latest values and run counts of the old one
/// (read from the new engine once it ran).
fn swap_flow(st: &mut State, graph: Graph, mut engine: Engine) {
    if let (Engine::Direct(old), Engine::Direct(new)) = (&st.engine, &mut engine) {
        new.carry_over(old, &st.graph, &graph);
    }
    for (node, outputs, runs) in st.engine.states() {
        if graph.node(&node).is_none() {
            st.runs.remove(&node);
            continue;
        }
        *st.runs.entry(node.clone()).or_default() += runs;
        if let Some(out) = outputs {
            st.values.insert(node, out);
        }
    }
    st.values.retain(|id, _| graph.node(id).is_some());
    for (_, at) in st.errors.values_mut() {
        *at = 0;
    }
    st.graph = graph;
    st.engine = engine;
}

/// Records a finished tick: failures, error states (a node that ran since its failure is
/// cleared), events. Costs nothing per node when nothing failed.
fn finish_tick(st: &mut State, failures: Vec<LiveFailure>) -> (Vec<LiveEvent>, Vec<Listener>) {
    let engine = &st.engine;
    let runs_now = |node: &str| engine.runs(node);
    st.errors.retain(|node, (_, at)| runs_now(node) <= *at);
    let mut events = Vec::new();
    for f in &failures {
        if let Some(n) = &f.node {
            let at = runs_now(n);
            st.errors.insert(n.clone(), (f.message.clone(), at));
        }
        events.push(LiveEvent::Failed(f.clone()));
    }
    st.failures.extend(failures);
    st.ticking = false;
    st.ticks += 1;
    events.push(LiveEvent::Ticked { tick: st.ticks });
    (events, st.listeners.clone())
}
