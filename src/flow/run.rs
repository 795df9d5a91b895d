//! [`Flow`]: running a built graph and reading its results.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::args::{CellTable, StartCx};
use super::current::{ContextSource, NodeInfo};
use super::error::FlowError;
use super::generation::Generation;
use super::handles::{AsNode, NodeId, Output, StreamNode};
use super::scheduler::{NodeStats, Scheduler};
use super::state::FlowState;
use crate::runtime::{EventLoop, RunError, context};

/// How a run ended when no node failed.
///
/// Both variants list the nodes the run left inside their bodies ([`Outcome::suspended`]), so
/// "completed" never hides work left undone: a stream producer nobody pulled to the end, a
/// consumer that waits for a chunk, a value waiting to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Nothing was left to do: no node running, queued or about to be resumed.
    Completed {
        /// Nodes left suspended inside their bodies (in creation order).
        suspended: Vec<Suspended>,
    },
    /// A node reached its generation limit; other nodes were left where they were.
    LimitReached {
        /// The node.
        node: NodeId,
        /// Its name.
        name: String,
        /// The generation it reached.
        generation: Generation,
        /// Nodes left suspended inside their bodies (in creation order).
        suspended: Vec<Suspended>,
    },
}

impl Outcome {
    /// Whether the run completed (no limit reached). Check [`suspended`](Outcome::suspended)
    /// too if unfinished streams matter.
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed { .. })
    }

    /// The nodes the run left inside their bodies.
    pub fn suspended(&self) -> &[Suspended] {
        match self {
            Outcome::Completed { suspended } | Outcome::LimitReached { suspended, .. } => suspended,
        }
    }
}

/// A node that a run left inside its body (see [`Outcome::suspended`]). A later run picks it
/// up where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Suspended {
    /// The node.
    pub node: NodeId,
    /// Its name.
    pub name: String,
    /// What it waits for.
    pub waiting: Waiting,
}

impl Suspended {
    pub(crate) fn new(node: NodeId, name: String, waiting: Waiting) -> Self {
        Suspended { node, name, waiting }
    }
}

/// What a [`Suspended`] node waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// A streaming producer inside `emit`: chunk `generation` was published and nobody pulled
    /// the producer again (no stream consumer, or consumers that stopped before the end).
    Pull {
        /// The last chunk it published.
        generation: Generation,
    },
    /// A stream consumer waiting for the next chunk on this input.
    Chunk {
        /// The input, by name if known, else by position.
        input: String,
    },
    /// A body that returned; its value waits until every plain consumer read the previous one.
    Read,
    /// A body that was about to be resumed when a limit stopped the run.
    Resume,
}

impl fmt::Display for Suspended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.waiting {
            Waiting::Pull { generation } => write!(f, "`{}` emitted {generation} and waits to be pulled", self.name),
            Waiting::Chunk { input } => write!(f, "`{}` waits for a chunk on input {input}", self.name),
            Waiting::Read => write!(f, "`{}` waits until its previous value is read", self.name),
            Waiting::Resume => write!(f, "`{}` was about to be resumed", self.name),
        }
    }
}

/// Options of one run: generation limits and the error policy.
///
/// ```
/// use flowloop::flow::RunOptions;
/// let opts = RunOptions::new().limit_all((10,)).terminate_on_error(false);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct RunOptions {
    limit_all: Option<Generation>,
    limits: Vec<(NodeId, Generation)>,
    pub(crate) terminate_on_error: bool,
    pub(crate) time_nodes: bool,
    pub(crate) beacon: Option<std::sync::Arc<super::RunBeacon>>,
    pub(crate) context: Option<ContextSource>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            limit_all: None,
            limits: Vec::new(),
            terminate_on_error: true,
            time_nodes: false,
            beacon: None,
            context: None,
        }
    }
}

impl RunOptions {
    /// No limits, terminate on the first error.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run once `node` published a generation `>= generation` (`(k,)`, or `(k, j)`
    /// for chunk `j` of run `k`).
    pub fn limit(mut self, node: impl AsNode, generation: impl Into<Generation>) -> Self {
        self.limits.push((node.node_id(), generation.into()));
        self
    }

    /// The same limit for every node (a per-node [`limit`](RunOptions::limit) wins).
    pub fn limit_all(mut self, generation: impl Into<Generation>) -> Self {
        self.limit_all = Some(generation.into());
        self
    }

    /// With `true` (the default) the first node error ends the run. With `false` the nodes that
    /// depend on a failed node do not run, everything else continues, and all errors are
    /// reported at the end.
    pub fn terminate_on_error(mut self, on: bool) -> Self {
        self.terminate_on_error = on;
        self
    }

    /// Measure the time spent polling each node's body ([`NodeStats::run_time`]; two clock reads
    /// per poll).
    pub fn time_nodes(mut self, on: bool) -> Self {
        self.time_nodes = on;
        self
    }

    /// Record every run start in `beacon` (one relaxed atomic store per run), so another thread
    /// can name the running node while this flow's thread is busy.
    pub fn beacon(mut self, beacon: std::sync::Arc<super::RunBeacon>) -> Self {
        self.beacon = Some(beacon);
        self
    }

    /// A context value for this run, shared by every node; bodies read it with
    /// [`context::<T>()`](super::context).
    pub fn context<T: 'static>(mut self, value: T) -> Self {
        self.context = Some(ContextSource::Value(Rc::new(value)));
        self
    }

    /// Makes a context value per node for this run (like Flowno's `context_factory`): `make`
    /// is called with the node's [`NodeInfo`] the first time its body asks for
    /// [`context::<T>()`](super::context) in the run.
    pub fn context_factory<T: 'static>(mut self, make: impl Fn(&NodeInfo) -> T + 'static) -> Self {
        let make = move |info: &NodeInfo| -> Rc<dyn Any> { Rc::new(make(info)) };
        self.context = Some(ContextSource::Factory(Rc::new(make)));
        self
    }

    /// Whether any generation limit is set (one for all nodes, or per node).
    pub(crate) fn has_limits(&self) -> bool {
        self.limit_all.is_some() || !self.limits.is_empty()
    }

    pub(crate) fn limit_for(&self, node: NodeId) -> Option<Generation> {
        self.limits
            .iter()
            .rev()
            .find(|(n, _)| *n == node)
            .map(|(_, g)| *g)
            .or(self.limit_all)
    }
}

thread_local! {
    /// The loop [`Flow::run_until_complete`] keeps between calls on this thread, so that a
    /// small flow run many times does not open (and close) an OS event queue per run. Taken out
    /// while a run uses it; a call from inside a running loop neither takes nor keeps one.
    static SPARE_LOOP: RefCell<SpareLoop> = const { RefCell::new(SpareLoop(None)) };
}

/// The kept loop. Dropping an [`EventLoop`] needs the runtime's thread-local context; when the
/// thread ends after that context was destroyed, the loop is forgotten instead (the OS reclaims
/// it with the thread's process). [`Flow::run_until_complete`] touches the context before this
/// slot, so the context is normally destroyed after it and the loop is dropped properly.
struct SpareLoop(Option<EventLoop>);

impl Drop for SpareLoop {
    fn drop(&mut self) {
        if let Some(lp) = self.0.take() {
            if context::is_alive() {
                drop(lp);
            } else {
                std::mem::forget(lp);
            }
        }
    }
}

/// Whether a loop that just finished a run holds no task any more (every task spawned on it
/// completed, failed or was cancelled), so a later run may reuse it. A run that stalled or
/// ended through `exit` may leave tasks behind: such a loop is dropped with them.
fn is_idle(lp: &EventLoop) -> bool {
    let s = lp.stats();
    s.tasks_completed + s.tasks_failed + s.tasks_cancelled == s.tasks_spawned
}

/// A built dataflow graph, ready to run (again and again: each run continues from the
/// generations the previous one reached).
pub struct Flow {
    state: Rc<FlowState>,
    cells: CellTable,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed { .. } => f.write_str("completed")?,
            Outcome::LimitReached { name, generation, .. } => {
                write!(f, "limit reached: {name} at generation {generation}")?
            }
        }
        let suspended = self.suspended();
        for (i, s) in suspended.iter().enumerate() {
            let lead = if i == 0 { "; left suspended: " } else { ", " };
            write!(f, "{lead}{s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow").field("nodes", &self.cells.len()).finish()
    }
}

impl Flow {
    pub(crate) fn new(state: Rc<FlowState>, cells: CellTable) -> Flow {
        Flow { state, cells }
    }

    /// A new builder.
    pub fn builder() -> super::FlowBuilder {
        super::FlowBuilder::new()
    }

    /// Runs the flow on an [`EventLoop`] of its own until nothing is left to do, a limit is
    /// reached or (with terminate-on-error) a node fails. The loop is kept for the next call on
    /// this thread (by any flow) when the run left no task in it; a run that stalled or left
    /// tasks behind drops its loop.
    ///
    /// # Errors
    /// [`FlowError::Failed`] with every failure (each naming its node), or a loop error.
    pub fn run_until_complete(&mut self, options: RunOptions) -> Result<Outcome, FlowError> {
        // Registers the runtime's thread-local before `SPARE_LOOP` (see `SpareLoop`).
        let nested = context::is_set();
        let spare = if nested {
            None
        } else {
            SPARE_LOOP.with(|spare| spare.borrow_mut().0.take())
        };
        let mut lp = match spare {
            Some(lp) => lp,
            None => EventLoop::new().map_err(|e| FlowError::Loop(e.into()))?,
        };
        let result = self.run_on(&mut lp, options);
        if !nested && is_idle(&lp) {
            SPARE_LOOP.with(|spare| spare.borrow_mut().0 = Some(lp));
        }
        result
    }

    /// Like [`run_until_complete`](Flow::run_until_complete) on an existing loop (for example
    /// one with an [`Instrument`](crate::runtime::Instrument)).
    ///
    /// # Errors
    /// As [`run_until_complete`](Flow::run_until_complete); when the loop finds that nothing
    /// can ever wake the flow, [`FlowError::Stalled`] names the nodes that were waiting.
    pub fn run_on(&mut self, lp: &mut EventLoop, options: RunOptions) -> Result<Outcome, FlowError> {
        self.state.outside.borrow_mut().clear();
        match lp.run_until_complete(self.run(options)) {
            Ok(result) => result,
            Err(RunError::Stalled { .. }) => Err(FlowError::Stalled {
                nodes: self.waiting_outside(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of the nodes whose bodies waited outside the flow when it last yielded.
    fn waiting_outside(&self) -> Vec<String> {
        let g = self.state.graph.borrow();
        let outside = self.state.outside.borrow();
        outside.iter().map(|&n| g.node_name(n).to_string()).collect()
    }

    /// The run as a future, to await inside a task of a running loop (beside sockets and other
    /// tasks). Only one run of a flow may be in progress at a time.
    pub fn run(&mut self, options: RunOptions) -> impl Future<Output = Result<Outcome, FlowError>> + 'static {
        Scheduler::new(Rc::clone(&self.state), options)
    }

    /// The latest value of an output (a node handle, or one of its outputs); `None` if the node
    /// never produced one (or for a stream output).
    pub fn value<T>(&self, output: impl Into<Output<T>>) -> Option<T> {
        let out: Output<T> = output.into();
        if out.level != 0 {
            return None;
        }
        (out.project)(&self.cells.at(out.node as usize)).read(
            &StartCx {
                shared: &self.state,
                node: out.node,
                first_port: 0,
            },
            0,
        )
    }

    /// The latest chunk a streaming node emitted (in this or an earlier run), `None` if it
    /// never emitted one. Its final value is [`value`](Flow::value).
    pub fn latest_chunk<C: Clone + 'static, R>(&self, node: StreamNode<C, R>) -> Option<C> {
        let cell = self.cells.get(node.id as usize)?.chunk()?;
        let cell = cell.downcast_ref::<RefCell<Option<C>>>()?;
        cell.borrow().clone()
    }

    /// Calls `f` with the state of a stateful node (made by
    /// [`FlowBuilder::stateful`](super::FlowBuilder::stateful)) and returns its result; `None`
    /// if the node is not stateful with state type `S`, or its body holds the state right now
    /// (inside a run).
    ///
    /// ```
    /// use flowloop::flow::{FlowBuilder, RunOptions};
    /// struct Count(u32);
    /// impl Count {
    ///     async fn bump(&mut self, by: u32) -> u32 { self.0 += by; self.0 }
    /// }
    /// let mut b = FlowBuilder::new();
    /// let c = b.stateful(Count(0), Count::bump, (5,));
    /// let mut flow = b.build().unwrap();
    /// flow.run_until_complete(RunOptions::new()).unwrap();
    /// assert_eq!(flow.with_state(c, |s: &Count| s.0), Some(5));
    /// ```
    pub fn with_state<S: 'static, T>(&self, node: impl AsNode, f: impl FnOnce(&S) -> T) -> Option<T> {
        let cell = self.cells.get(node.node_id().index())?.state()?;
        let cell = cell.downcast_ref::<RefCell<Option<S>>>()?;
        let state = cell.try_borrow().ok()?;
        state.as_ref().map(f)
    }

    /// A node's generation: `None` if it never produced anything.
    pub fn generation(&self, node: impl AsNode) -> Option<Generation> {
        self.state.graph.borrow().nodes[node.node_id().index()].generation
    }

    /// A node's name.
    pub fn name(&self, node: impl AsNode) -> String {
        self.state.graph.borrow().node_name(node.node_id().0).to_string()
    }

    /// Run counts (and body time, if measured) of a node over all runs.
    pub fn stats(&self, node: impl AsNode) -> NodeStats {
        let g = self.state.graph.borrow();
        let i = node.node_id().index();
        NodeStats {
            runs: g.nodes[i].runs,
            run_time: g.run_time(i),
        }
    }

    /// Wall time of the last run.
    pub fn last_run_time(&self) -> Duration {
        self.state.last_run.get()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the flow has no node.
    pub fn is_empty(&self) -> bool {
        self.cells.len() == 0
    }

    /// The ids of all nodes, in creation order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.cells.len() as u32).map(NodeId)
    }

    pub(crate) fn state(&self) -> &Rc<FlowState> {
        &self.state
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        // Suspended bodies hold emitters and streams that point back at the state: drop them
        // to break the cycle.
        if self.state.running.get() {
            return;
        }
        if let Ok(mut runners) = self.state.runners.try_borrow_mut() {
            for r in runners.iter_mut() {
                // Nobody is left to report a panic in a body's `Drop` to: contain it so that
                // the other bodies are still dropped.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.as_mut().abort()));
            }
        }
    }
}
