//! Observability: the [`Instrument`] trait and the built-in [`LoopStats`] counters.

use std::time::Duration;

use super::command::CommandKind;
use super::error::{TaskError, TaskId};

/// Receives loop events. Every method has an empty default, so an implementation overrides
/// only what it needs.
///
/// Install one with [`Builder::instrument`](super::Builder::instrument). When none is
/// installed the loop skips each call site with one branch. Methods run inside the loop with
/// its state borrowed: they must not call flowloop primitives.
pub trait Instrument {
    /// A task was inserted into the loop.
    fn task_spawned(&mut self, _task: TaskId) {}
    /// A task was polled once; `elapsed` is set when poll timing is enabled.
    fn task_polled(&mut self, _task: TaskId, _elapsed: Option<Duration>) {}
    /// A task returned its value.
    fn task_completed(&mut self, _task: TaskId) {}
    /// A task panicked.
    fn task_failed(&mut self, _task: TaskId, _error: &TaskError) {}
    /// A task was cancelled.
    fn task_cancelled(&mut self, _task: TaskId) {}
    /// A task handed the loop a command.
    fn command_issued(&mut self, _task: TaskId, _kind: CommandKind) {}
    /// A command completed and its task was re-queued.
    fn command_completed(&mut self, _task: TaskId, _kind: CommandKind) {}
    /// A poll took longer than the configured slow-poll threshold.
    fn slow_poll(&mut self, _task: TaskId, _elapsed: Duration) {}
    /// A socket event (see [`SocketEvent`]).
    fn socket_event(&mut self, _event: SocketEvent<'_>) {}
    /// Flow: a node was put on the resolution queue.
    fn flow_node_queued(&mut self, _node: FlowNode<'_>) {}
    /// Flow: a node started a run.
    fn flow_node_started(&mut self, _node: FlowNode<'_>) {}
    /// Flow: a node published the final value of a run (`node.generation` is the new one).
    fn flow_node_finished(&mut self, _node: FlowNode<'_>) {}
    /// Flow: a node waits on stream input `input` (no chunk yet).
    fn flow_node_stalled(&mut self, _node: FlowNode<'_>, _input: usize) {}
    /// Flow: a node failed with `error`.
    fn flow_node_errored(&mut self, _node: FlowNode<'_>, _error: &str) {}
    /// Flow: a streaming node published a chunk (`node.generation` is `(k, j)`).
    fn flow_stream_chunk(&mut self, _node: FlowNode<'_>) {}
    /// Flow: a node started with defaults on these inputs to break a cycle.
    fn flow_cycle_broken(&mut self, _node: FlowNode<'_>, _defaulted_inputs: &[usize]) {}
    /// Flow: a node reached its generation limit; the run stops.
    fn flow_limit_reached(&mut self, _node: FlowNode<'_>) {}
}

/// A flow node as reported to [`Instrument`]'s `flow_*` methods.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FlowNode<'a> {
    /// Index of the node in creation order.
    pub index: usize,
    /// The node's name.
    pub name: &'a str,
    /// Its generation: `None` before its first value, else `[k]` or `[k, j]`.
    pub generation: Option<&'a [u64]>,
}

impl<'a> FlowNode<'a> {
    /// Describes a node (used by the flow layer).
    pub fn new(index: usize, name: &'a str, generation: Option<&'a [u64]>) -> Self {
        FlowNode {
            index,
            name,
            generation,
        }
    }
}

/// Socket-level happenings reported to [`Instrument::socket_event`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SocketEvent<'a> {
    /// An outgoing connection was established.
    Connected {
        /// Peer address.
        peer: std::net::SocketAddr,
    },
    /// A listener accepted a connection.
    Accepted {
        /// Peer address.
        peer: std::net::SocketAddr,
    },
    /// Bytes were read from a socket.
    Received {
        /// How many.
        bytes: usize,
    },
    /// Bytes were written to a socket.
    Sent {
        /// How many.
        bytes: usize,
    },
    /// A TLS handshake finished.
    TlsHandshake {
        /// Negotiated server name, if any.
        server_name: Option<&'a str>,
    },
    /// A socket was closed or dropped.
    Closed,
}

/// Counters the loop keeps on every run, readable with
/// [`EventLoop::stats`](super::EventLoop::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopStats {
    /// Task polls.
    pub polls: u64,
    /// Commands issued, indexed by [`CommandKind::index`].
    pub commands: [u64; CommandKind::COUNT],
    /// Calls into the OS event queue (including non-blocking ones).
    pub os_polls: u64,
    /// Timers that fired while their wait was still pending.
    pub timers_fired: u64,
    /// Tasks inserted.
    pub tasks_spawned: u64,
    /// Tasks that returned a value.
    pub tasks_completed: u64,
    /// Tasks that panicked.
    pub tasks_failed: u64,
    /// Tasks that were cancelled.
    pub tasks_cancelled: u64,
    /// Total time spent inside task polls (only when poll timing is enabled).
    pub poll_time: Duration,
    /// Polls that exceeded the slow-poll threshold.
    pub slow_polls: u64,
    /// Task futures whose `Drop` panicked (contained; a cancelled task then reports the panic).
    pub drop_panics: u64,
    /// Wake-ups received from other threads (merged: while one is on its way for a task,
    /// further wakes of that task from other threads send nothing).
    pub remote_wakes: u64,
    /// Timers held in the timer wheel when the stats were read (a cancelled or dropped timer
    /// is removed at once, so these are the pending ones).
    pub timer_entries: u64,
}

impl LoopStats {
    /// How many commands of this kind were issued.
    pub fn commands_of(&self, kind: CommandKind) -> u64 {
        self.commands[kind.index()]
    }
}

/// Per-task counters, readable through [`TaskHandle::stats`](super::TaskHandle::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskStats {
    /// How many times the task was polled.
    pub polls: u64,
    /// Time spent in its polls (zero unless poll timing is enabled).
    pub poll_time: Duration,
}
