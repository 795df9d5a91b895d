//! [`GraphRunner`]: runs the edited graph on the flow thread, as a batch or live, and
//! publishes a snapshot of every node (status, generation, runs, value, error) and every edge
//! (the pending generation, and a stream edge's lag) each sample interval while it runs, and
//! once more when it ends.
//!
//! State machine: `Idle` → `Batch` (until the run ends or is stopped) → `Idle`, or `Idle` →
//! `Live` (until stopped) → `Idle`. An undo, a redo or a load reaches a live run as one edit
//! batch; only a change no edit can express restarts it (`Live` → `Live`). Only
//! one run at a time: starting another while one is on is refused.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowloop::flow::{FlowEdge, FlowError, Generation, NodeId, NodeView, RunBeacon};
use flowloop::sync::Event;
use flowloop_graph::live::{Edit, LiveGraph};
use flowloop_graph::{Batch, Graph, PortRef, Value};
use serde_json::{Map, Value as Json, json};

use crate::graph_diff::live_edits_between;
use crate::model::{self, EdgeSnapshot, NodeSnapshot, RunState, Snapshot, generations_completed};
use crate::select::{Either, first};
use crate::server::{Publication, ServerLink};
use crate::web_edit::Set;

/// One edge of the graph: output of node `from` into input `port` of node `to`.
#[derive(Debug, Clone)]
struct GraphEdge {
    from: String,
    to: String,
    port: String,
    /// `to.port`: how the editor page names the edge (an input has at most one).
    key: String,
}

/// The graph's node ids and output names, in graph order, and its edges.
#[derive(Debug, Clone)]
struct Nodes {
    ids: Vec<String>,
    outputs: Vec<Vec<String>>,
    edges: Vec<GraphEdge>,
}

impl Nodes {
    fn of(graph: &Graph) -> Nodes {
        Nodes {
            ids: graph.nodes().map(|n| n.id().to_string()).collect(),
            outputs: graph
                .nodes()
                .map(|n| n.spec().outputs.iter().map(|o| o.name.clone()).collect())
                .collect(),
            edges: graph
                .edges()
                .map(|(from, to)| GraphEdge {
                    from: from.node.clone(),
                    to: to.node.clone(),
                    port: to.port.clone(),
                    key: format!("{}.{}", to.node, to.port),
                })
                .collect(),
        }
    }

    /// The first output of node `id` (its value preview).
    fn first_output(&self, id: &str) -> Option<&str> {
        let i = self.ids.iter().position(|n| n == id)?;
        self.outputs[i].first().map(String::as_str)
    }
}

/// The run in progress.
#[derive(Debug)]
struct Current {
    id: u64,
    stop: Event,
    live: Option<LiveGraph>,
    /// Edits the live run could not take yet (they left the graph invalid, for example a new
    /// node with an input still unconnected); retried with the next batch.
    pending: RefCell<Vec<Edit>>,
}

/// Why a run did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Another run is on.
    Busy,
    /// The graph cannot run (the message names the node and input).
    Invalid(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Busy => f.write_str("a run is in progress: stop it first"),
            Refusal::Invalid(m) => f.write_str(m),
        }
    }
}

/// What a live run made of an accepted edit batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiveChange {
    /// Nothing runs live.
    NotLive,
    /// The live run took it (at its next tick).
    Applied,
    /// The live run keeps its last valid graph until later edits make this one valid.
    Waiting(String),
    /// The live run restarted on the new graph (the reason no edit batch could do it).
    Restarted(String),
    /// The live run ended: the new graph cannot run live (the reason).
    Ended(String),
}

/// Runs the graph on the flow thread. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct GraphRunner {
    link: RefCell<Option<ServerLink>>,
    sample_every: Duration,
    /// Names the node whose run started last, for the server's stall report.
    beacon: Arc<RunBeacon>,
    current: RefCell<Option<Current>>,
    next_id: Cell<u64>,
}

impl GraphRunner {
    pub(crate) fn new(sample_every: Duration, beacon: Arc<RunBeacon>) -> GraphRunner {
        GraphRunner {
            link: RefCell::new(None),
            sample_every,
            beacon,
            current: RefCell::new(None),
            next_id: Cell::new(1),
        }
    }

    /// Where snapshots go.
    pub(crate) fn set_link(&self, link: ServerLink) {
        *self.link.borrow_mut() = Some(link);
    }

    fn publish(&self, snapshot: Snapshot) {
        self.send(Publication::Snapshot(snapshot));
    }

    fn send(&self, p: Publication) {
        if let Some(link) = self.link.borrow().as_ref() {
            link.publish(p);
        }
    }

    /// Registers a new run; `Err` when one is already on.
    fn begin(&self, live: Option<LiveGraph>) -> Result<(u64, Event), Refusal> {
        let mut cur = self.current.borrow_mut();
        if cur.is_some() {
            return Err(Refusal::Busy);
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let stop = Event::new();
        *cur = Some(Current {
            id,
            stop: stop.clone(),
            live,
            pending: RefCell::new(Vec::new()),
        });
        Ok((id, stop))
    }

    fn end(&self, id: u64) {
        let mut cur = self.current.borrow_mut();
        if cur.as_ref().is_some_and(|c| c.id == id) {
            cur.take();
        }
    }

    /// Stops the run in progress; returns whether there was one.
    pub(crate) fn stop(&self) -> bool {
        match self.current.borrow_mut().take() {
            Some(c) => {
                c.stop.set();
                true
            }
            None => false,
        }
    }

    /// Runs `graph` as a batch to its end (or until stopped); the reply lists every node's
    /// state, runs, error and output values.
    pub(crate) async fn run_batch(self: Rc<Self>, graph: Graph) -> Result<Json, Refusal> {
        let nodes = Nodes::of(&graph);
        let started = Instant::now();
        let batch = match graph.batch() {
            Ok(b) => b,
            Err(e) => {
                let snap = idle_snapshot(&nodes, RunState::Failed, Some(e.to_string()));
                self.publish(snap);
                return Ok(json!({ "state": RunState::Failed, "error": e.to_string(), "nodes": {} }));
            }
        };
        let batch = Rc::new(RefCell::new(batch));
        let (id, stop) = self.begin(None)?;
        self.send(Publication::Keys(flow_keys(&batch.borrow(), &nodes)));
        let run = {
            let mut b = batch.borrow_mut();
            let options = b.options().beacon(Arc::clone(&self.beacon));
            b.run_async(options)
        };
        self.publish(batch_snapshot(
            &batch.borrow(),
            &nodes,
            RunState::Running,
            Duration::ZERO,
            None,
        ));
        let sampler = {
            let (me, batch, nodes) = (Rc::clone(&self), Rc::clone(&batch), nodes.clone());
            flowloop::spawn(async move {
                loop {
                    flowloop::sleep(me.sample_every).await;
                    let snap = batch_snapshot(&batch.borrow(), &nodes, RunState::Running, started.elapsed(), None);
                    me.publish(snap);
                }
            })
            .await
        };
        let ended = first(run, stop.wait()).await;
        sampler.cancel().await;
        self.end(id);
        let (state, failure) = match ended {
            Either::Left(Ok(o)) if o.is_completed() => (RunState::Completed, None),
            Either::Left(Ok(_)) => (RunState::LimitReached, None),
            Either::Left(Err(e)) => (RunState::Failed, Some(e)),
            Either::Right(()) => (RunState::Stopped, None),
        };
        let batch = batch.borrow();
        let snap = batch_snapshot(&batch, &nodes, state, started.elapsed(), failure.as_ref());
        let reply = batch_reply(&batch, &nodes, &snap);
        self.publish(snap);
        Ok(reply)
    }

    /// Starts `graph` live (it runs once, then again whenever an input is set or the graph is
    /// edited) and returns at once.
    pub(crate) async fn start_live(self: Rc<Self>, graph: Graph) -> Result<(), Refusal> {
        let live = LiveGraph::new(graph).map_err(|e| Refusal::Invalid(e.to_string()))?;
        live.beacon(Arc::clone(&self.beacon));
        let (id, stop) = self.begin(Some(live.clone()))?;
        let started = Instant::now();
        let me = Rc::clone(&self);
        let task = async move {
            let sampler = {
                let (me, live) = (Rc::clone(&me), live.clone());
                flowloop::spawn(async move {
                    loop {
                        // (The flow behind a live graph changes with edits: its keys go along.)
                        me.send(Publication::Keys(live.flow_keys()));
                        me.publish(live_snapshot(&live, RunState::Running, started.elapsed()));
                        flowloop::sleep(me.sample_every).await;
                    }
                })
                .await
            };
            first(live.serve(), stop.wait()).await;
            live.close();
            sampler.cancel().await;
            me.end(id);
            me.publish(live_snapshot(&live, RunState::Stopped, started.elapsed()));
        };
        flowloop::spawn(task).await.detach();
        Ok(())
    }

    /// Hands an accepted edit batch to the live run, if one is on: sets of inputs alone are
    /// pushed (coalesced into the next tick); anything else is applied, with the edits still
    /// pending, as one validated batch between ticks.
    pub(crate) fn live_edits(&self, mut edits: Vec<Edit>, sets: Vec<Set>) -> LiveChange {
        let cur = self.current.borrow();
        let Some((live, pending)) = cur.as_ref().and_then(|c| Some((c.live.clone()?, &c.pending))) else {
            return LiveChange::NotLive;
        };
        let mut pending = pending.borrow_mut();
        let mut sets = sets.into_iter();
        if pending.is_empty() && edits.is_empty() {
            for (node, port, value) in sets.by_ref() {
                if live.set_input(&node, &port, value.clone()).is_err() {
                    edits.push(set_edit(node, port, value));
                    break;
                }
            }
        }
        edits.extend(sets.map(|(n, p, v)| set_edit(n, p, v)));
        if edits.is_empty() {
            return LiveChange::Applied;
        }
        pending.extend(edits);
        match live.apply(&pending) {
            Ok(()) => {
                pending.clear();
                LiveChange::Applied
            }
            Err(e) => LiveChange::Waiting(e.to_string()),
        }
    }

    /// After an undo, a redo or a load: a live run takes the change as one edit batch, so the
    /// nodes it does not touch keep their state (see [`live_edits_between`]). A change no
    /// live edit can express (a constant removed, or a kind only the loaded spec declares)
    /// restarts the run on `graph`; a graph that cannot run waits, as edits do, for later
    /// edits to make it valid.
    pub(crate) async fn replace_live(self: Rc<Self>, graph: Graph) -> LiveChange {
        let Some(live) = self.current.borrow().as_ref().and_then(|c| c.live.clone()) else {
            return LiveChange::NotLive;
        };
        let why = match live_edits_between(&live.graph(), &graph) {
            Ok(edits) => match self.take_edits(&live, edits) {
                Err(e) if graph.validate().is_ok() => e,
                taken => return taken.unwrap_or_else(LiveChange::Waiting),
            },
            Err(why) => why,
        };
        self.stop();
        let nodes = Nodes::of(&graph);
        match Rc::clone(&self).start_live(graph).await {
            Ok(()) => LiveChange::Restarted(why),
            Err(e) => {
                self.publish(idle_snapshot(&nodes, RunState::Failed, Some(e.to_string())));
                LiveChange::Ended(e.to_string())
            }
        }
    }

    /// Applies `edits` (the whole difference to the editor's graph, so they replace whatever
    /// was pending); when the live run refuses them they stay pending, as with edits.
    fn take_edits(&self, live: &LiveGraph, edits: Vec<Edit>) -> Result<LiveChange, String> {
        let cur = self.current.borrow();
        let Some(pending) = cur.as_ref().map(|c| &c.pending) else {
            return Ok(LiveChange::NotLive);
        };
        let result = live.apply(&edits).map_err(|e| e.to_string());
        *pending.borrow_mut() = if result.is_ok() { Vec::new() } else { edits };
        result.map(|()| LiveChange::Applied)
    }
}

/// Every flow node's graph id, by flow index.
fn flow_keys(batch: &Batch, nodes: &Nodes) -> Vec<String> {
    let mut keys = vec![String::new(); batch.flow().len()];
    for id in &nodes.ids {
        if let Some(slot) = batch.node_id(id).and_then(|n| keys.get_mut(n.index())) {
            slot.clone_from(id);
        }
    }
    keys
}

/// A snapshot of a graph that did not start (every node idle).
fn idle_snapshot(nodes: &Nodes, state: RunState, error: Option<String>) -> Snapshot {
    let snaps = nodes.ids.iter().map(|_| NodeSnapshot::idle()).collect();
    let edges = nodes.edges.iter().map(|e| edge_snapshot(e, None, None)).collect();
    snapshot(nodes, state, Duration::ZERO, (snaps, edges), 0, error)
}

fn snapshot(
    nodes: &Nodes,
    state: RunState,
    elapsed: Duration,
    (snaps, edges): (Vec<NodeSnapshot>, Vec<EdgeSnapshot>),
    generations: u64,
    error: Option<String>,
) -> Snapshot {
    Snapshot {
        state,
        elapsed_ms: elapsed.as_millis() as u64,
        generations,
        nodes: snaps,
        edges,
        error,
        keys: nodes.ids.clone(),
    }
}

fn edge_snapshot(e: &GraphEdge, pending: Option<Generation>, lag: Option<u64>) -> EdgeSnapshot {
    EdgeSnapshot {
        pending,
        lag,
        to: Some(e.key.clone()),
    }
}

/// The edge's pending generation between two views (none on a node feeding itself).
fn pending_between(e: &GraphEdge, from: Option<&NodeView>, to: Option<&NodeView>) -> Option<Generation> {
    match (from, to) {
        (Some(f), Some(t)) if e.from != e.to => model::pending(f, t),
        _ => None,
    }
}

/// Every graph edge of a batch run, with the same pending rule and stream lag as a typed
/// flow's dashboard: the batch's flow has one node per graph node, and its stream edges'
/// lags come in [`Flow::edges`](flowloop::flow::Flow::edges) order.
fn batch_edges(batch: &Batch, nodes: &Nodes, views: &[NodeView]) -> Vec<EdgeSnapshot> {
    let flow = batch.flow();
    let mut lags = Vec::new();
    flow.stream_lags_into(&mut lags);
    let streams: Vec<FlowEdge> = if lags.is_empty() {
        Vec::new()
    } else {
        flow.edges().into_iter().filter(|e| e.stream).collect()
    };
    nodes
        .edges
        .iter()
        .map(|e| {
            let (from, to) = (batch.node_id(&e.from), batch.node_id(&e.to));
            let view = |n: Option<NodeId>| n.and_then(|n| views.get(n.index()));
            let lag = streams
                .iter()
                .position(|s| Some(s.from) == from && Some(s.to) == to && s.input_name == e.port)
                .and_then(|i| lags.get(i).copied());
            edge_snapshot(e, pending_between(e, view(from), view(to)), lag)
        })
        .collect()
}

/// Every graph edge of a live run: the pending generation (a tick's producer ran, its
/// consumer has not yet) and, on a stream edge, its lag as the live graph reports it by the
/// consumer's input ([`LiveGraph::stream_lags`], the same count as a batch's).
fn live_edges(nodes: &Nodes, views: &[(String, NodeView)], lags: &[(PortRef, u64)]) -> Vec<EdgeSnapshot> {
    let view = |id: &str| views.iter().find(|(n, _)| n == id).map(|(_, v)| v);
    nodes
        .edges
        .iter()
        .map(|e| {
            let lag = lags
                .iter()
                .find(|(p, _)| p.node == e.to && p.port == e.port)
                .map(|&(_, lag)| lag);
            edge_snapshot(e, pending_between(e, view(&e.from), view(&e.to)), lag)
        })
        .collect()
}

/// The batch's nodes now; `failure` is the error that ended the run (its node failures are no
/// longer in the flow's own list).
fn batch_snapshot(
    batch: &Batch,
    nodes: &Nodes,
    state: RunState,
    elapsed: Duration,
    failure: Option<&FlowError>,
) -> Snapshot {
    let flow = batch.flow();
    let views = flow.node_views();
    let mut errors: Vec<(NodeId, String)> = flow.errors_so_far();
    if let Some(e) = failure {
        errors.extend(e.failures().iter().filter_map(|f| f.node().map(|n| (n, f.to_string()))));
    }
    let snaps = nodes
        .ids
        .iter()
        .map(|id| {
            let nid = batch.node_id(id);
            let Some(view) = nid.and_then(|n| views.get(n.index())) else {
                return NodeSnapshot::idle();
            };
            let error = errors
                .iter()
                .rev()
                .find(|(n, _)| Some(*n) == nid)
                .map(|(_, m)| m.as_str());
            let value = nodes
                .first_output(id)
                .and_then(|o| batch.value(id, o))
                .map(|v| v.to_string());
            NodeSnapshot::from_view(view, error, value)
        })
        .collect();
    let error = failure.map(ToString::to_string);
    let edges = batch_edges(batch, nodes, &views);
    snapshot(
        nodes,
        state,
        elapsed,
        (snaps, edges),
        generations_completed(&views),
        error,
    )
}

/// The live graph's nodes now (its node set follows the edits).
fn live_snapshot(live: &LiveGraph, state: RunState, elapsed: Duration) -> Snapshot {
    let nodes = Nodes::of(&live.graph());
    let views = live.node_views();
    let snaps = views
        .iter()
        .map(|(id, view)| {
            let error = live.error(id);
            let value = nodes
                .first_output(id)
                .and_then(|o| live.value(id, o))
                .map(|v| v.to_string());
            NodeSnapshot::from_view(view, error.as_deref(), value)
        })
        .collect();
    let edges = live_edges(&nodes, &views, &live.stream_lags());
    let live_nodes = Nodes {
        ids: views.into_iter().map(|(id, _)| id).collect(),
        outputs: Vec::new(),
        edges: Vec::new(),
    };
    snapshot(&live_nodes, state, elapsed, (snaps, edges), live.ticks(), None)
}

/// The HTTP reply of a batch run: state, error, and per node its state, runs, error and every
/// output's value (as text).
fn batch_reply(batch: &Batch, nodes: &Nodes, snap: &Snapshot) -> Json {
    let per_node: Map<String, Json> = nodes
        .ids
        .iter()
        .zip(&nodes.outputs)
        .zip(&snap.nodes)
        .map(|((id, outs), s)| {
            let outputs: Map<String, Json> = outs
                .iter()
                .filter_map(|o| batch.value(id, o).map(|v| (o.clone(), Json::String(v.to_string()))))
                .collect();
            let v = json!({ "state": s.state, "runs": s.runs, "error": s.error, "outputs": outputs });
            (id.clone(), v)
        })
        .collect();
    json!({ "state": snap.state, "error": snap.error, "nodes": per_node })
}

fn set_edit(node: String, port: String, value: Value) -> Edit {
    Edit::Set {
        to: PortRef::new(&node, &port),
        value,
    }
}
