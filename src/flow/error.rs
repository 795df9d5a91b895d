//! Errors of the flow layer: building, running, streams.

use std::fmt;

use super::handles::NodeId;
use crate::runtime::RunError;

/// A node body's error, boxed. `Send + Sync` so that a [`FlowError`] can travel to other
/// threads and convert with `?` into `Box<dyn Error + Send + Sync>` or `anyhow::Error`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why [`FlowBuilder::build`](super::FlowBuilder::build) refused the graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An input has no connection and no default.
    #[error("node `{node}`: input {input} is not connected and has no default (connect it or give it a default)")]
    Unconnected {
        /// The node's name.
        node: String,
        /// The input, by name if known, else by position.
        input: String,
    },
    /// A forward reference was used but never defined.
    #[error(
        "forward reference `{name}` (used by node `{node}`, input {input}) was never defined \
         (call FlowBuilder::define for it)"
    )]
    UndefinedForward {
        /// The reference's name.
        name: String,
        /// A node that uses it.
        node: String,
        /// The input of that node.
        input: String,
    },
    /// A forward reference was defined twice.
    #[error("forward reference `{name}` was defined twice")]
    DefinedTwice {
        /// The reference's name.
        name: String,
    },
    /// Cycles that can never start: no member has defaults on all its inputs from inside its
    /// cycle, so no member can ever run first. Every such cycle is listed.
    #[error("{}", display_cycles(.cycles))]
    MissingDefault {
        /// Each cycle's members (in creation order) and the inputs they would need defaults for.
        cycles: Vec<Vec<CycleMember>>,
    },
}

fn display_cycles(cycles: &[Vec<CycleMember>]) -> String {
    cycles
        .iter()
        .map(|c| CycleText(c).to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Formats one cycle without usable defaults.
struct CycleText<'a>(&'a [CycleMember]);

impl fmt::Display for CycleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing default: the cycle ")?;
        for (i, m) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}`{}` (inputs {})", m.name, m.inputs.join(", "))?;
        }
        write!(f, " cannot start; give one of these inputs a default")
    }
}

/// Returned by [`Emitter::emit`](super::Emitter::emit) once the stream's consumers cancelled
/// it. A producer may finish with a final value, or return this error (with `?`) to pass the
/// cancellation on to its own stream inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stream was cancelled by a consumer")]
pub struct StreamCancelled;

/// One cycle member and the inputs (inside the cycle) it would need defaults for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleMember {
    /// The node.
    pub node: NodeId,
    /// Its name.
    pub name: String,
    /// Its inputs from inside the cycle that have no default.
    pub inputs: Vec<String>,
}

/// What went wrong in a node.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeFault {
    /// The body returned an error.
    Body(BoxError),
    /// The body panicked; the message is kept.
    Panicked(String),
    /// An input could not be gathered: no data and no default.
    NoInput {
        /// The input, by name if known, else by position.
        input: String,
    },
    /// The body's future panicked while it was dropped (the run stopped while it waited, or it
    /// had panicked before); the message is kept.
    DropPanicked(String),
}

impl fmt::Display for NodeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeFault::Body(e) => write!(f, "{e}"),
            NodeFault::Panicked(m) => write!(f, "panicked: {m}"),
            NodeFault::NoInput { input } => write!(f, "input {input} has no data and no default"),
            NodeFault::DropPanicked(m) => write!(f, "panicked while its body was dropped: {m}"),
        }
    }
}

/// One failure of a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// A node failed.
    Node {
        /// The node.
        node: NodeId,
        /// Its name.
        name: String,
        /// What happened.
        fault: NodeFault,
    },
    /// A cycle has no member whose inputs from inside the cycle all have defaults.
    MissingDefault {
        /// Every member of the cycle, in creation order.
        cycle: Vec<CycleMember>,
    },
}

impl Failure {
    /// The failing node (the first member for a cycle).
    pub fn node(&self) -> Option<NodeId> {
        match self {
            Failure::Node { node, .. } => Some(*node),
            Failure::MissingDefault { cycle } => cycle.first().map(|m| m.node),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Node { name, fault, .. } => write!(f, "node `{name}` failed: {fault}"),
            Failure::MissingDefault { cycle } => CycleText(cycle).fmt(f),
        }
    }
}

/// Why [`Flow::run_until_complete`](super::Flow::run_until_complete) did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// One or more nodes failed (one with terminate-on-error, all of them without).
    #[error("{}", display_failures(.0))]
    Failed(Vec<Failure>),
    /// The event loop failed.
    #[error("event loop: {0}")]
    Loop(#[from] RunError),
    /// The flow is already running (a node tried to run its own flow).
    #[error("the flow is already running")]
    AlreadyRunning,
    /// The loop found that nothing can ever wake the flow again: these nodes' bodies wait for
    /// something (an event, a queue, a task) that no timer, socket or other task will deliver.
    #[error(
        "stalled: node(s) {} wait for something that can never happen (no timer, socket, task or \
         outside handle is left to wake them)",
        quoted(.nodes)
    )]
    Stalled {
        /// The names of the waiting nodes, in the order they were last polled.
        nodes: Vec<String>,
    },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

impl FlowError {
    /// The failures, if nodes failed.
    pub fn failures(&self) -> &[Failure] {
        match self {
            FlowError::Failed(f) => f,
            _ => &[],
        }
    }
}

fn display_failures(failures: &[Failure]) -> String {
    failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
