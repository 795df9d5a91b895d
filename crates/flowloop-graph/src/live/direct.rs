//! The incremental push engine of a live graph: for graphs without cycles and without
//! streams, a tick runs only the nodes downstream of what changed, in dependency order,
//! reading the cached outputs of every other node.
//!
//! A tick is Kahn's algorithm over the *affected* nodes (the changed ones and everything
//! downstream): a node becomes ready once each affected producer it reads has finished; a
//! ready node is called inline, and a call that continues as a future runs as its own task
//! whose result comes back on a queue (so independent slow nodes overlap). A node that fails
//! keeps its previous outputs, and nothing downstream of it runs in that tick.
//!
//! Node states within a tick: unaffected (reads nothing, keeps its outputs) → waiting
//! (`waiting[n]` producers left) → ready → running (inline, or a spawned task) → done or
//! failed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use flowloop::flow::{
    BoxError, DynArg, DynCall, DynFuture, Generation, InputCell, NodeStatus, NodeView, Outputs, RunBeacon,
};

use super::LiveFailure;
use super::branches::Branches;
use crate::Value;
use crate::compile::SharedInstance;
use crate::graph::{Graph, GraphError, GraphNode, PortRef, ports_output};
use crate::kind::{InputMode, Inputs, Kind};
use crate::lazy::needed_mask;

/// Index of a node in a [`Direct`] engine (its position in the graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(u32);

impl Slot {
    pub(crate) fn at(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn of(position: usize) -> Slot {
        Slot(u32::try_from(position).expect("fewer than 2^32 nodes"))
    }
}

/// Whether a finished node gives its consumers new input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Touch {
    Yes,
    No,
}

/// Marks a node outside the running tick in `waiting`.
const UNAFFECTED: u32 = u32::MAX;

/// Where one input of a node reads its value.
enum Source {
    /// An unconnected input: the value set on it.
    Cell(InputCell<Value>),
    /// Output `output` of another node, or `default` while that node has no outputs.
    Edge {
        from: Slot,
        output: usize,
        default: Option<Value>,
    },
}

struct Node {
    id: String,
    kind: Arc<dyn Kind>,
    instance: SharedInstance,
    inputs: Vec<(String, Source)>,
    /// The distinct nodes reading this one.
    consumers: Vec<Slot>,
    outputs: Option<Outputs<Value>>,
    runs: u64,
    /// The tick of its latest outputs.
    generation: Option<Generation>,
    /// Its call continues as a future right now.
    running: bool,
    /// Its latest call failed.
    failed: bool,
}

/// What calling a ready node gave.
pub(crate) enum Started {
    /// It finished inline (or could not run); consumers were released or blocked.
    Done,
    /// It continues as this future; hand the result to [`Direct::finish`].
    Pending(Slot, DynFuture<Value>),
}

/// The direct engine of an acyclic, stream-free graph. See the [module docs](self).
pub(crate) struct Direct {
    nodes: Vec<Node>,
    index: HashMap<String, Slot>,
    cells: HashMap<PortRef, (Slot, InputCell<Value>)>,
    /// Nodes whose inputs were set since the last tick began.
    dirty: Vec<Slot>,
    /// Owned nodes to re-decide (a condition constant was set) since the last tick began.
    recheck: Vec<Slot>,
    /// Per node: it has new input in this tick (set, or a producer ran).
    touched: Vec<bool>,
    branches: Branches,
    everything_dirty: bool,
    /// Per node: affected producers not finished yet in this tick, or [`UNAFFECTED`].
    waiting: Vec<u32>,
    affected: Vec<Slot>,
    /// Ready nodes (a stack: a consumer released by a node runs right after it).
    ready: Vec<Slot>,
    failures: Vec<LiveFailure>,
    /// Ticks begun so far.
    ticks: u64,
    /// Where each call start is recorded (see [`LiveGraph::beacon`](super::LiveGraph::beacon)).
    beacon: Option<Arc<RunBeacon>>,
}

/// Whether node `now` of graph `after` reads exactly what `was` of `before` read: same kind,
/// and per input the same edge source and the same value.
fn unchanged(before: &Graph, was: &GraphNode, after: &Graph, now: &GraphNode) -> bool {
    was.spec().name == now.spec().name
        && now.spec().inputs.iter().enumerate().all(|(p, port)| {
            before.source_of(was.id(), &port.name) == after.source_of(now.id(), &port.name)
                && was.input_value(p) == now.input_value(p)
        })
}

/// The position of `node` in `engine` (past the end when absent).
fn p_slot(engine: &Direct, node: &str) -> usize {
    engine.index.get(node).map_or(usize::MAX, |s| s.at())
}

fn streams(n: &GraphNode) -> bool {
    let spec = n.spec();
    spec.stream.is_some() || spec.inputs.iter().any(|p| p.mode == InputMode::Stream)
}

impl Direct {
    /// The engine for `graph`, or `None` when the graph has a cycle or a stream (the flow
    /// executor runs those). Instances in `reuse` (by node id) are kept.
    ///
    /// # Errors
    /// An input with neither edge nor value.
    pub(crate) fn build(graph: &Graph, reuse: &HashMap<String, SharedInstance>) -> Result<Option<Direct>, GraphError> {
        graph.validate()?;
        let nodes = graph.nodes_slice();
        if nodes.iter().any(streams) {
            return Ok(None);
        }
        let index: HashMap<String, Slot> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id().to_string(), Slot(i as u32)))
            .collect();
        let mut d = Direct {
            nodes: Vec::with_capacity(nodes.len()),
            index,
            cells: HashMap::new(),
            dirty: Vec::new(),
            recheck: Vec::new(),
            touched: vec![false; nodes.len()],
            branches: Branches::default(),
            everything_dirty: true,
            waiting: vec![UNAFFECTED; nodes.len()],
            affected: Vec::new(),
            ready: Vec::new(),
            failures: Vec::new(),
            ticks: 0,
            beacon: None,
        };
        for (i, n) in nodes.iter().enumerate() {
            let instance = reuse
                .get(n.id())
                .cloned()
                .unwrap_or_else(|| Rc::new(RefCell::new(n.kind().instance())));
            let inputs = d.inputs_of(graph, n, Slot(i as u32))?;
            d.nodes.push(Node {
                id: n.id().to_string(),
                kind: Arc::clone(n.kind()),
                instance,
                inputs,
                consumers: Vec::new(),
                outputs: None,
                runs: 0,
                generation: None,
                running: false,
                failed: false,
            });
        }
        d.link_consumers();
        if !d.acyclic() {
            return Ok(None);
        }
        d.branches = Branches::of(graph, |l| d.producers(l));
        Ok(Some(d))
    }

    fn inputs_of(&mut self, graph: &Graph, n: &GraphNode, me: Slot) -> Result<Vec<(String, Source)>, GraphError> {
        let mut inputs = Vec::with_capacity(n.spec().inputs.len());
        for (p, port) in n.spec().inputs.iter().enumerate() {
            let value = n.input_value(p).cloned();
            let source = match graph.source_of(n.id(), &port.name) {
                None => {
                    let cell = InputCell::new(value);
                    self.cells.insert(PortRef::new(n.id(), &port.name), (me, cell.clone()));
                    Source::Cell(cell)
                }
                Some(src) => {
                    let from = self.slot(&src.node)?;
                    let producer = &graph.nodes_slice()[from.at()];
                    let output = ports_output(producer, &src.port)?.unwrap_or(0);
                    Source::Edge {
                        from,
                        output,
                        default: value,
                    }
                }
            };
            inputs.push((port.name.clone(), source));
        }
        Ok(inputs)
    }

    /// The producer of each input of node `l` (`None` for an unconnected input).
    fn producers(&self, l: usize) -> Vec<Option<Slot>> {
        self.nodes[l]
            .inputs
            .iter()
            .map(|(_, src)| match src {
                Source::Edge { from, .. } => Some(*from),
                Source::Cell(_) => None,
            })
            .collect()
    }

    fn slot(&self, node: &str) -> Result<Slot, GraphError> {
        self.index
            .get(node)
            .copied()
            .ok_or_else(|| GraphError::UnknownNode { node: node.to_string() })
    }

    fn link_consumers(&mut self) {
        for c in 0..self.nodes.len() {
            for k in 0..self.nodes[c].inputs.len() {
                if let Source::Edge { from, .. } = self.nodes[c].inputs[k].1 {
                    let list = &mut self.nodes[from.at()].consumers;
                    if !list.contains(&Slot(c as u32)) {
                        list.push(Slot(c as u32));
                    }
                }
            }
        }
    }

    /// Whether the graph has no cycle (Kahn's algorithm reaches every node).
    fn acyclic(&self) -> bool {
        let mut preds = vec![0u32; self.nodes.len()];
        for n in &self.nodes {
            for c in &n.consumers {
                preds[c.at()] += 1;
            }
        }
        let mut stack: Vec<usize> = (0..preds.len()).filter(|&i| preds[i] == 0).collect();
        let mut seen = 0;
        while let Some(i) = stack.pop() {
            seen += 1;
            for c in &self.nodes[i].consumers {
                preds[c.at()] -= 1;
                if preds[c.at()] == 0 {
                    stack.push(c.at());
                }
            }
        }
        seen == self.nodes.len()
    }

    /// Takes over the outputs of `old` (the engine of graph `before`; this one runs `after`)
    /// for every node the edit left as it was: same kind, same edges into it and the same
    /// constants, with outputs from a successful run. Only the other nodes (new or changed)
    /// and what is downstream of them run in the next tick.
    pub(crate) fn carry_over(&mut self, old: &Direct, before: &Graph, after: &Graph) {
        if old.everything_dirty {
            return;
        }
        self.everything_dirty = false;
        // Generations go on from the old engine's ticks.
        self.ticks = old.ticks;
        let pending: Vec<&str> = old
            .dirty
            .iter()
            .chain(&old.recheck)
            .map(|s| old.nodes[s.at()].id.as_str())
            .collect();
        for (i, n) in after.nodes_slice().iter().enumerate() {
            let kept =
                !pending.contains(&n.id()) && before.node(n.id()).is_some_and(|was| unchanged(before, was, after, n));
            let previous = old.index.get(n.id()).map(|s| &old.nodes[s.at()]);
            match previous {
                Some(p) if kept && !p.failed && p.outputs.is_some() => {
                    let node = &mut self.nodes[i];
                    node.outputs.clone_from(&p.outputs);
                    node.generation = p.generation;
                    self.branches.stale[i] = old.branches.stale.get(p_slot(old, n.id())).copied().unwrap_or(true);
                }
                _ => self.dirty.push(Slot::of(i)),
            }
        }
    }

    /// The cell of an unconnected input.
    pub(crate) fn cell(&self, port: &PortRef) -> Option<&InputCell<Value>> {
        self.cells.get(port).map(|(_, c)| c)
    }

    /// Notes that an input of `port.node` was set: the next tick runs it and its downstream.
    pub(crate) fn touch(&mut self, port: &PortRef) {
        if let Some(&(slot, _)) = self.cells.get(port) {
            self.dirty.push(slot);
            self.recheck.extend_from_slice(self.branches.dependents(slot));
        }
    }

    /// The latest outputs of `node`.
    pub(crate) fn outputs(&self, node: &str) -> Option<&Outputs<Value>> {
        let slot = self.index.get(node)?;
        self.nodes[slot.at()].outputs.as_ref()
    }

    /// How many times `node` was called by this engine.
    pub(crate) fn runs(&self, node: &str) -> u64 {
        self.index.get(node).map_or(0, |s| self.nodes[s.at()].runs)
    }

    /// The node ids with their current outputs and run counts.
    pub(crate) fn states(&self) -> impl Iterator<Item = (&str, Option<&Outputs<Value>>, u64)> {
        self.nodes.iter().map(|n| (n.id.as_str(), n.outputs.as_ref(), n.runs))
    }

    /// The instance running `node`.
    pub(crate) fn instance(&self, node: &str) -> Option<&SharedInstance> {
        self.index.get(node).map(|s| &self.nodes[s.at()].instance)
    }

    /// The status, generation (the tick of its latest outputs) and runs of `node`.
    pub(crate) fn view(&self, node: &str) -> Option<NodeView> {
        let n = &self.nodes[self.index.get(node)?.at()];
        let status = if n.running {
            NodeStatus::Running
        } else if n.failed {
            NodeStatus::Failed
        } else {
            NodeStatus::Idle
        };
        Some(NodeView::new(status, n.generation, n.runs))
    }

    /// Node ids by position (the index [`begin`](Direct::begin)'s beacon records).
    pub(crate) fn keys(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.id.clone()).collect()
    }

    /// Starts a tick: marks the dirty nodes and everything downstream as affected and
    /// queues those with no affected producer. Each call start of the tick is recorded in
    /// `beacon`.
    pub(crate) fn begin(&mut self, beacon: Option<Arc<RunBeacon>>) {
        self.beacon = beacon;
        self.ticks += 1;
        let mut stack: Vec<Slot> = if std::mem::take(&mut self.everything_dirty) {
            self.dirty.clear();
            (0..self.nodes.len() as u32).map(Slot).collect()
        } else {
            std::mem::take(&mut self.dirty)
        };
        for s in &stack {
            self.touched[s.at()] = true;
        }
        stack.append(&mut self.recheck);
        while let Some(s) = stack.pop() {
            if self.waiting[s.at()] == UNAFFECTED {
                self.waiting[s.at()] = 0;
                self.affected.push(s);
                stack.extend(self.nodes[s.at()].consumers.iter().copied());
                stack.extend(self.branches.followers[s.at()].iter().copied());
            }
        }
        for k in 0..self.affected.len() {
            let s = self.affected[k];
            let followers = &self.branches.followers[s.at()];
            for c in self.nodes[s.at()].consumers.iter().chain(followers) {
                self.waiting[c.at()] += 1;
            }
        }
        for &s in &self.affected {
            if self.waiting[s.at()] == 0 {
                self.ready.push(s);
            }
        }
    }

    /// Calls the next ready node; `None` once none is ready.
    pub(crate) fn step(&mut self) -> Option<Started> {
        let s = self.ready.pop()?;
        if !self.should_run(s) {
            self.release(s, Touch::No);
            return Some(Started::Done);
        }
        let Some(values) = self.gather(s) else {
            return Some(Started::Done);
        };
        let node = &mut self.nodes[s.at()];
        node.runs += 1;
        if let Some(b) = &self.beacon {
            b.record(s.at(), node.runs);
        }
        let call = catch_unwind(AssertUnwindSafe(|| {
            node.instance.borrow_mut().call(Inputs::from_args(values))
        }));
        Some(match call {
            Ok(DynCall::Ready(result)) => {
                self.finish(s, result);
                Started::Done
            }
            Ok(DynCall::Pending(fut)) => {
                self.nodes[s.at()].running = true;
                Started::Pending(s, fut)
            }
            Ok(_) => {
                self.fail(s, "answered with a call shape the live graph does not know".into());
                Started::Done
            }
            Err(payload) => {
                self.fail(s, format!("panicked: {}", crate::unwind::panic_text(payload.as_ref())));
                Started::Done
            }
        })
    }

    /// The input values of `s`, or `None` when a producer never produced (it failed; that
    /// failure was reported) and the input has no default.
    fn gather(&self, s: Slot) -> Option<Vec<DynArg<Value>>> {
        let node = &self.nodes[s.at()];
        let mut values = Vec::with_capacity(node.inputs.len());
        for (_, source) in &node.inputs {
            values.push(DynArg::Value(self.read(source)?));
        }
        Some(values)
    }

    /// The current value of an input: set, produced, or the default.
    fn read(&self, source: &Source) -> Option<Value> {
        match source {
            Source::Cell(cell) => cell.get(),
            Source::Edge { from, output, default } => {
                match self.nodes[from.at()].outputs.as_ref().and_then(|o| o.get(*output)) {
                    Some(v) => Some(v.clone()),
                    None => default.clone(),
                }
            }
        }
    }

    /// Records the result of a run of `s`; on success its affected consumers move on.
    pub(crate) fn finish(&mut self, s: Slot, result: Result<Outputs<Value>, BoxError>) {
        let tick = self.ticks.saturating_sub(1);
        let node = &mut self.nodes[s.at()];
        node.running = false;
        match result {
            Ok(out) => {
                node.outputs = Some(out);
                node.failed = false;
                node.generation = Some(Generation::finished(tick));
                self.branches.stale[s.at()] = false;
                self.release(s, Touch::Yes);
            }
            Err(e) => self.fail(s, e.to_string()),
        }
    }

    /// Whether `s`, ready, runs: always for a node outside lazy branches; for an owned node,
    /// when its owner needs it and it has new input or is stale (see [`Branches`]).
    fn should_run(&mut self, s: Slot) -> bool {
        if self.branches.owner[s.at()].is_none() {
            return true;
        }
        let touched = self.touched[s.at()];
        if !self.wanted(s.at()) {
            self.branches.stale[s.at()] |= touched;
            return false;
        }
        touched || self.branches.stale[s.at()]
    }

    /// Whether node `x` is needed: its owners (transitively) need the inputs it feeds, given
    /// their current eager values.
    fn wanted(&self, x: usize) -> bool {
        let Some(o) = self.branches.owner[x] else {
            return true;
        };
        if !self.wanted(o.lazy) {
            return false;
        }
        let l = &self.nodes[o.lazy];
        let spec = l.kind.spec();
        let eager: Vec<Option<Value>> = l
            .inputs
            .iter()
            .enumerate()
            .map(|(k, (_, src))| match spec.inputs.get(k).map(|p| p.mode) {
                Some(InputMode::Lazy) => None,
                _ => self.read(src),
            })
            .collect();
        needed_mask(&*l.kind, &eager) & o.mask != 0
    }

    /// Counts `s` as finished for the nodes waiting on it; `Touch::Yes` when it ran (its
    /// consumers then have new input).
    fn release(&mut self, s: Slot, touch: Touch) {
        let n = s.at();
        for k in 0..self.nodes[n].consumers.len() + self.branches.followers[n].len() {
            let (c, feeds) = match self.nodes[n].consumers.get(k) {
                Some(&c) => (c, true),
                None => (self.branches.followers[n][k - self.nodes[n].consumers.len()], false),
            };
            if feeds && touch == Touch::Yes {
                self.touched[c.at()] = true;
            }
            let left = &mut self.waiting[c.at()];
            *left -= 1;
            if *left == 0 {
                self.ready.push(c);
            }
        }
    }

    fn fail(&mut self, s: Slot, problem: String) {
        self.nodes[s.at()].failed = true;
        let name = self.nodes[s.at()].id.clone();
        self.failures.push(LiveFailure {
            message: format!("node `{name}` failed: {problem}"),
            node: Some(name),
        });
    }

    /// Ends the tick: clears the marks, returns the failures.
    pub(crate) fn end(&mut self) -> Vec<LiveFailure> {
        for s in self.affected.drain(..) {
            self.waiting[s.at()] = UNAFFECTED;
            self.touched[s.at()] = false;
        }
        self.ready.clear();
        std::mem::take(&mut self.failures)
    }
}
