//! [`Edit`]: one change of a live edit batch.

use crate::Value;
use crate::graph::{Graph, GraphError, Layout, OnConnected, PortRef};

/// One change in a batch given to [`LiveGraph::apply`](super::LiveGraph::apply).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Edit {
    /// Add a node of `kind` with id `id`.
    Add {
        /// The kind.
        kind: String,
        /// The new node's id.
        id: String,
    },
    /// Remove a node and its edges.
    Remove {
        /// The node.
        id: String,
    },
    /// Connect an output to an input.
    Connect {
        /// `node.output`.
        from: PortRef,
        /// `node.input`.
        to: PortRef,
        /// What to do with an existing edge.
        on_connected: OnConnected,
    },
    /// Remove the edge into an input.
    Disconnect {
        /// `node.input`.
        to: PortRef,
    },
    /// Set a constant.
    Set {
        /// `node.input`.
        to: PortRef,
        /// The value.
        value: Value,
    },
    /// Move or relabel a node.
    Layout {
        /// The node.
        id: String,
        /// Position and label.
        layout: Layout,
    },
}

impl Edit {
    pub(crate) fn apply_to(&self, g: &mut Graph) -> Result<(), GraphError> {
        match self {
            Edit::Add { kind, id } => g.add(kind, Some(id)).map(drop),
            Edit::Remove { id } => g.remove(id),
            Edit::Connect { from, to, on_connected } => {
                g.connect_with(&from.node, &from.port, &to.node, &to.port, *on_connected)
            }
            Edit::Disconnect { to } => g.disconnect(&to.node, &to.port).map(drop),
            Edit::Set { to, value } => g.set_constant(&to.node, &to.port, value.clone()),
            Edit::Layout { id, layout } => g.set_layout(id, layout.clone()),
        }
    }
}
