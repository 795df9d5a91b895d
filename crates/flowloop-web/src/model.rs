//! What the page shows, as JSON: the [`Topology`] (nodes, ports, edges and their layout) and
//! the [`Snapshot`] the flow's loop publishes about every 100 ms.

use flowloop::flow::{Generation, NodeStatus, NodeView};
use serde::Serialize;

/// A node's status on the page (its colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NodeState {
    /// Never ran in this run, and has no value.
    Idle,
    /// Queued, or waiting inside the flow (for a chunk, or for consumers to read).
    Waiting,
    /// Its body is being polled or waits outside the flow (a timer, a socket).
    Running,
    /// It failed.
    Error,
    /// Between runs with a value.
    Done,
}

/// Where the flow's run stands (the page header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunState {
    /// No run started yet.
    Idle,
    /// A run is in progress.
    Running,
    /// The last run completed: nothing was left to do.
    Completed,
    /// The last run stopped at a generation limit.
    LimitReached,
    /// The last run failed.
    Failed,
    /// The last run was stopped from the page (or by the program).
    Stopped,
}

/// One node of the [`Topology`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TopologyNode {
    /// Unique key (the name, with `#index` added when names repeat); the page's `data-node`.
    pub key: String,
    /// The node's name.
    pub name: String,
    /// Its input names, in order.
    pub inputs: Vec<String>,
    /// Left edge of its box, from the layered layout.
    pub x: f64,
    /// Top edge of its box.
    pub y: f64,
    /// Height of its box.
    pub height: f64,
}

/// One edge of the [`Topology`]: output of `from` into input `input` of `to`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TopologyEdge {
    /// Producer index.
    pub from: usize,
    /// Consumer index.
    pub to: usize,
    /// Consumer input index.
    pub input: usize,
    /// Consumer input name.
    pub input_name: String,
    /// A stream input.
    pub stream: bool,
    /// The input has a default (it can break a cycle).
    pub has_default: bool,
}

/// The graph as drawn: nodes with positions, edges, and the drawing's size.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Topology {
    /// Nodes in creation order.
    pub nodes: Vec<TopologyNode>,
    /// Edges, ordered by consumer and input.
    pub edges: Vec<TopologyEdge>,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// Width of every node box.
    pub node_width: f64,
}

/// One node's live state.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct NodeSnapshot {
    /// Status (colour).
    pub state: NodeState,
    /// Generation (JSON `[k]` or `[k, j]`); absent before the first value.
    #[serde(serialize_with = "generation_json")]
    pub generation: Option<Generation>,
    /// Runs started so far.
    pub runs: u64,
    /// Preview of the latest value (truncated), if the program asked for one.
    pub value: Option<String>,
    /// The latest error.
    pub error: Option<String>,
    /// Time spent polling the body so far, in microseconds (when poll timing is on).
    pub poll_total_us: Option<u64>,
    /// Poll time per run over the last sample interval, in microseconds (when poll timing is
    /// on and the node ran in it).
    pub poll_recent_us: Option<u64>,
    /// The recent poll time is over the slow-poll threshold.
    pub slow: bool,
}

/// One edge's live state.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EdgeSnapshot {
    /// The producer's generation (JSON `[k]` or `[k, j]`) while the consumer has not caught up
    /// with it.
    #[serde(serialize_with = "generation_json")]
    pub pending: Option<Generation>,
    /// Stream edges: chunks of the producer's run in progress that the consumer has not
    /// taken yet (`None` on plain edges).
    pub lag: Option<u64>,
    /// The input it feeds, as `node.port`, for a dynamic graph being edited (whose edges are
    /// not in a [`Topology`]); absent for a typed flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Everything live, published by the flow's loop about every 100 ms.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The run's state.
    pub state: RunState,
    /// Time since the run started, in milliseconds.
    pub elapsed_ms: u64,
    /// Generations every node has completed.
    pub generations: u64,
    /// Nodes, in topology order.
    pub nodes: Vec<NodeSnapshot>,
    /// Edges, in topology order.
    pub edges: Vec<EdgeSnapshot>,
    /// The error that ended the run, if it failed.
    pub error: Option<String>,
    /// The node ids `nodes` belongs to, for a dynamic graph being edited (whose nodes are not
    /// in a [`Topology`]); empty for a typed flow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

impl NodeState {
    /// The colour of a node the flow reports as `view`; `failed` when an error is recorded
    /// for it.
    pub(crate) fn of(view: &NodeView, failed: bool) -> NodeState {
        match view.status {
            NodeStatus::Failed => NodeState::Error,
            NodeStatus::Running => NodeState::Running,
            NodeStatus::Ready | NodeStatus::Waiting => NodeState::Waiting,
            _ if failed => NodeState::Error,
            _ if view.generation.is_some() => NodeState::Done,
            _ => NodeState::Idle,
        }
    }
}

/// Characters of a value preview.
pub(crate) const PREVIEW_CHARS: usize = 120;

impl NodeSnapshot {
    /// A node that has not run.
    pub(crate) fn idle() -> NodeSnapshot {
        NodeSnapshot {
            state: NodeState::Idle,
            generation: None,
            runs: 0,
            value: None,
            error: None,
            poll_total_us: None,
            poll_recent_us: None,
            slow: false,
        }
    }

    /// A node's snapshot from its view, error and value preview (no poll times).
    pub(crate) fn from_view(view: &NodeView, error: Option<&str>, value: Option<String>) -> NodeSnapshot {
        NodeSnapshot {
            state: NodeState::of(view, error.is_some()),
            generation: view.generation,
            runs: view.runs,
            value: value.map(|p| truncate(p, PREVIEW_CHARS)),
            error: error.map(|e| truncate(e.to_string(), 400)),
            poll_total_us: None,
            poll_recent_us: None,
            slow: false,
        }
    }
}

/// The producer's generation while its consumer has not run on it yet (the edge's pending
/// value): the producer is at a newer run than the consumer finished, or the consumer has no
/// value yet.
pub(crate) fn pending(from: &NodeView, to: &NodeView) -> Option<Generation> {
    match (from.generation, to.generation) {
        (Some(p), Some(c)) if p.run() >= c.run() + u64::from(c.is_finished()) => Some(p),
        (Some(p), None) => Some(p),
        _ => None,
    }
}

/// Generations every node has finished (0 until each has produced once).
pub(crate) fn generations_completed(views: &[NodeView]) -> u64 {
    views
        .iter()
        .map(|v| match v.generation {
            Some(g) if g.is_finished() => g.run() + 1,
            Some(g) => g.run(),
            None => 0,
        })
        .min()
        .unwrap_or(0)
}

/// Writes a generation as `[k]` or `[k, j]` (no allocation).
fn generation_json<S: serde::Serializer>(g: &Option<Generation>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u64; 2];
    match g {
        Some(g) => s.collect_seq(g.as_slice(&mut buf)),
        None => s.serialize_none(),
    }
}

/// Shortens `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max) {
        text.truncate(cut);
        text.push('…');
    }
    text
}
