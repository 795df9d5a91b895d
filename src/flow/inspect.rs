//! Read-only views of a flow for tools such as dashboards: each node's status, the edges, and a
//! [`RunBeacon`] that names the node whose run started last, readable from other threads.
//!
//! Everything here reads state the scheduler keeps anyway, so a tool that samples it a few
//! times a second costs the flow nothing per node run. Call these between polls of the flow's
//! driver (from another task of the same loop, or after a run).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::handles::{AsNode, NodeId};
use super::run::Flow;
use super::state::Status;

/// What a node is doing, as a tool sees it (a coarse view of the scheduler's own states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeStatus {
    /// Between runs, or never ran.
    Idle,
    /// Queued to start, resume or publish.
    Ready,
    /// Its body is being polled or waits on something outside the flow (a timer, a socket).
    Running,
    /// Waits inside the flow: for a stream chunk, for its consumers to take a chunk, or for
    /// them to read its previous value.
    Waiting,
    /// Its body failed in the current (or last) run.
    Failed,
}

/// One connection of a flow: `from`'s output feeds input `input` of `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowEdge {
    /// The producer.
    pub from: NodeId,
    /// The consumer.
    pub to: NodeId,
    /// Index of the consumer's input.
    pub input: usize,
    /// Name of the consumer's input.
    pub input_name: String,
    /// Whether the input takes the producer's chunks as a stream.
    pub stream: bool,
    /// Whether the input has a default (it may break a cycle).
    pub has_default: bool,
}

/// A shared cell the flow's driver writes when a node starts a run (one relaxed store), so
/// another thread can tell which node is running when the flow's thread stops answering (a
/// node that hogs the CPU). Attach it with [`RunOptions::beacon`](super::RunOptions::beacon).
#[derive(Debug, Default)]
pub struct RunBeacon {
    cell: AtomicU64,
}

/// What a [`RunBeacon`] last saw: a node and the number of runs it had started by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeaconMark {
    /// The node whose run started last.
    pub node: NodeId,
    /// Its run count (low 32 bits) at that start: tells two runs of the same node apart.
    pub run: u32,
}

impl RunBeacon {
    /// A beacon that has seen nothing yet.
    pub fn new() -> Arc<RunBeacon> {
        Arc::new(RunBeacon::default())
    }

    /// Records that `node` started run number `runs` (called by the driver).
    pub(crate) fn mark(&self, node: u32, runs: u64) {
        self.cell
            .store(((runs & 0xffff_ffff) << 32) | (u64::from(node) + 1), Ordering::Relaxed);
    }

    /// Records that the node at index `node` started its run number `runs`: what an engine
    /// other than this crate's flow driver calls (a live graph's incremental engine, say),
    /// with `node` the index its readers map back to a name.
    pub fn record(&self, node: usize, runs: u64) {
        self.mark(u32::try_from(node).unwrap_or(u32::MAX - 1), runs);
    }

    /// The node whose run started last, if any.
    pub fn last(&self) -> Option<BeaconMark> {
        let v = self.cell.load(Ordering::Relaxed);
        let node = (v & 0xffff_ffff) as u32;
        (node != 0).then(|| BeaconMark {
            node: NodeId(node - 1),
            run: (v >> 32) as u32,
        })
    }
}

impl Flow {
    /// What `node` is doing now.
    ///
    /// # Panics
    /// If called from inside one of this flow's node bodies (the scheduler's state is borrowed
    /// then).
    pub fn status(&self, node: impl AsNode) -> NodeStatus {
        status_of(self.state().graph.borrow().nodes[node.node_id().index()].status)
    }

    /// Whether a run of this flow is in progress.
    pub fn is_running(&self) -> bool {
        self.state().running.get()
    }

    /// Every connection, ordered by consumer and input.
    pub fn edges(&self) -> Vec<FlowEdge> {
        let g = self.state().graph.borrow();
        let mut out = Vec::new();
        for (pi, p) in g.ports.iter().enumerate() {
            let Some(src) = p.producer else { continue };
            let input = pi - g.nodes[p.node as usize].ports.0 as usize;
            out.push(FlowEdge {
                from: NodeId(src),
                to: NodeId(p.node),
                input,
                input_name: super::resolve::input_name(&g, p.node, input),
                stream: p.level == 1,
                has_default: p.has_default,
            });
        }
        out
    }

    /// The names of `node`'s inputs, in order.
    pub fn input_names(&self, node: impl AsNode) -> Vec<String> {
        self.state().graph.borrow().input_names_of(node.node_id().0).to_vec()
    }
}

impl Flow {
    /// The failures recorded so far in the run in progress, as `(node, message)` (a failed
    /// run hands them over in its [`FlowError`](super::FlowError) when it ends).
    pub fn errors_so_far(&self) -> Vec<(NodeId, String)> {
        let g = self.state().graph.borrow();
        g.failures
            .iter()
            .filter_map(|f| f.node().map(|n| (n, f.to_string())))
            .collect()
    }
}

/// One node's counters and state, as read by [`Flow::node_views`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeView {
    /// What it is doing.
    pub status: NodeStatus,
    /// Its generation (`None` before its first value).
    pub generation: Option<super::Generation>,
    /// Runs started, over all runs of the flow.
    pub runs: u64,
    /// Time spent polling its body (only with [`RunOptions::time_nodes`](super::RunOptions::time_nodes)).
    pub run_time: std::time::Duration,
}

impl NodeView {
    /// A view for an engine other than this crate's flow driver (which fills `run_time`
    /// itself); `run_time` is zero.
    pub fn new(status: NodeStatus, generation: Option<super::Generation>, runs: u64) -> NodeView {
        NodeView {
            status,
            generation,
            runs,
            run_time: std::time::Duration::ZERO,
        }
    }
}

impl Flow {
    /// Every node's status, generation and counters in creation order, read under one borrow
    /// (what a sampler wants several times a second).
    pub fn node_views(&self) -> Vec<NodeView> {
        let mut out = Vec::new();
        self.node_views_into(&mut out);
        out
    }

    /// How many chunks of its producer's stream run in progress each stream input has not
    /// taken yet (chunks published minus chunks taken; 0 once the run finished or before it
    /// began), one entry per stream edge in [`edges`](Self::edges) order, into `out` (cleared
    /// first). Reads the counters the scheduler keeps anyway; allocates only to grow `out`.
    pub fn stream_lags_into(&self, out: &mut Vec<u64>) {
        let g = self.state().graph.borrow();
        out.clear();
        let stream_ports = g.ports.iter().zip(&g.stream_ports);
        out.extend(stream_ports.filter(|(p, _)| p.level == 1).filter_map(|(p, st)| {
            let producer = &g.nodes[p.producer? as usize];
            Some(stream_lag(producer.generation, st.run, st.taken))
        }));
    }

    /// [`node_views`](Self::node_views) into `out` (cleared first), reusing its capacity: a
    /// sampler that recycles its buffers allocates nothing per sample.
    pub fn node_views_into(&self, out: &mut Vec<NodeView>) {
        let g = self.state().graph.borrow();
        out.clear();
        out.extend(g.nodes.iter().enumerate().map(|(i, n)| NodeView {
            status: status_of(n.status),
            generation: n.generation,
            runs: n.runs,
            run_time: g.run_time(i),
        }));
    }
}

/// A node's status, generation and run count, without the poll time: 32 bytes against a
/// [`NodeView`]'s 48, copied field for field with the driver's own status word (decoded only
/// when read): what a sampler copies at the end of every run, where the copy is on the run's
/// own time. Read it back with [`view`](Self::view); fill a buffer with
/// [`Flow::packed_views_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct PackedView {
    generation: Option<super::Generation>,
    runs: u64,
    status: Status,
}

impl PackedView {
    /// What the node is doing.
    pub fn status(&self) -> NodeStatus {
        status_of(self.status)
    }

    /// Its generation (`None` before its first value).
    pub fn generation(&self) -> Option<super::Generation> {
        self.generation
    }

    /// Runs started, over all runs of the flow.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// The [`NodeView`] it packs, with `run_time` zero (read poll times with
    /// [`Flow::run_times_into`]).
    pub fn view(&self) -> NodeView {
        NodeView::new(self.status(), self.generation, self.runs)
    }
}

impl Flow {
    /// Every node's [`PackedView`] in creation order into `out` (cleared first), in one pass
    /// under one borrow, reusing `out`'s capacity: the cheapest full copy of the flow's node
    /// states, for a sampler that copies at the end of each run.
    pub fn packed_views_into(&self, out: &mut Vec<PackedView>) {
        let g = self.state().graph.borrow();
        out.clear();
        out.extend(g.nodes.iter().map(|n| PackedView {
            generation: n.generation,
            runs: n.runs,
            status: n.status,
        }));
    }

    /// Every node's time spent polling its body in creation order into `out` (cleared
    /// first): zero for every node unless the run had
    /// [`RunOptions::time_nodes`](super::RunOptions::time_nodes).
    pub fn run_times_into(&self, out: &mut Vec<std::time::Duration>) {
        let g = self.state().graph.borrow();
        out.clear();
        out.extend((0..g.nodes.len()).map(|i| g.run_time(i)));
    }
}

/// Chunks of the producer's run in progress (its latest generation) that a stream input
/// reading producer run `run`, whose last chunk taken is `taken`, has not taken.
fn stream_lag(latest: Option<super::Generation>, run: u64, taken: Option<u64>) -> u64 {
    let Some(published) = latest.and_then(|g| Some((g.run(), g.chunk_index()?))) else {
        return 0;
    };
    let (producer_run, last) = published;
    let taken_count = match taken {
        Some(t) if run == producer_run => t.saturating_add(1),
        _ if run > producer_run => return 0,
        _ => 0,
    };
    (last + 1).saturating_sub(taken_count)
}

fn status_of(s: Status) -> NodeStatus {
    match s {
        Status::Idle => NodeStatus::Idle,
        Status::Ready(_) => NodeStatus::Ready,
        Status::Running => NodeStatus::Running,
        Status::Stalled(_) | Status::EmitTaken | Status::EmitPull | Status::Publishing => NodeStatus::Waiting,
        Status::Failed => NodeStatus::Failed,
    }
}
