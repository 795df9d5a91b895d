//! [`WebEdit`]: one change as the page posts it, applied to the editor's graph and, while the
//! graph runs live, translated for the live run.

use flowloop_graph::live::Edit;
use flowloop_graph::{Graph, GraphError, Layout, OnConnected, PortRef, Value};
use serde::Deserialize;

/// A port named in an edit.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Port {
    node: String,
    port: String,
}

impl Port {
    fn to_ref(&self) -> PortRef {
        PortRef::new(&self.node, &self.port)
    }
}

/// One edit as posted by the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum WebEdit {
    Add {
        kind: String,
        id: String,
        x: Option<f64>,
        y: Option<f64>,
    },
    Remove {
        id: String,
    },
    Connect {
        from: Port,
        to: Port,
    },
    Disconnect {
        to: Port,
    },
    Set {
        to: Port,
        value: Value,
    },
    Layout {
        id: String,
        x: f64,
        y: f64,
    },
}

/// A set of one input's value, for a live run (pushed, coalesced into its next tick).
pub(crate) type Set = (String, String, Value);

impl WebEdit {
    pub(crate) fn apply(&self, g: &mut Graph) -> Result<(), GraphError> {
        match self {
            WebEdit::Add { kind, id, x, y } => {
                g.add(kind, Some(id))?;
                match (x, y) {
                    (Some(x), Some(y)) => g.set_layout(id, layout(*x, *y)),
                    _ => Ok(()),
                }
            }
            WebEdit::Remove { id } => g.remove(id),
            WebEdit::Connect { from, to } => g.connect(&from.node, &from.port, &to.node, &to.port),
            WebEdit::Disconnect { to } => g.disconnect(&to.node, &to.port).map(drop),
            WebEdit::Set { to, value } => g.set_constant(&to.node, &to.port, value.clone()),
            WebEdit::Layout { id, x, y } => g.set_layout(id, layout(*x, *y)),
        }
    }

    /// The node and port the edit is about (for the page to show an error next to it).
    pub(crate) fn target(&self) -> (&str, Option<&str>) {
        match self {
            WebEdit::Add { id, .. } | WebEdit::Remove { id } | WebEdit::Layout { id, .. } => (id, None),
            WebEdit::Connect { to, .. } | WebEdit::Disconnect { to } | WebEdit::Set { to, .. } => {
                (&to.node, Some(&to.port))
            }
        }
    }

    /// The edit for a live run; `None` for a move (positions never restart anything).
    fn to_live(&self) -> Option<Edit> {
        Some(match self {
            WebEdit::Add { kind, id, .. } => Edit::Add {
                kind: kind.clone(),
                id: id.clone(),
            },
            WebEdit::Remove { id } => Edit::Remove { id: id.clone() },
            WebEdit::Connect { from, to } => Edit::Connect {
                from: from.to_ref(),
                to: to.to_ref(),
                on_connected: OnConnected::Refuse,
            },
            WebEdit::Disconnect { to } => Edit::Disconnect { to: to.to_ref() },
            WebEdit::Set { to, value } => Edit::Set {
                to: to.to_ref(),
                value: value.clone(),
            },
            WebEdit::Layout { .. } => return None,
        })
    }
}

/// A batch for a live run: only sets (and moves) become pushed input values; anything else
/// becomes one edit batch (moves dropped).
pub(crate) fn for_live(edits: &[WebEdit]) -> (Vec<Edit>, Vec<Set>) {
    let sets: Option<Vec<Set>> = edits
        .iter()
        .filter(|e| !matches!(e, WebEdit::Layout { .. }))
        .map(|e| match e {
            WebEdit::Set { to, value } => Some((to.node.clone(), to.port.clone(), value.clone())),
            _ => None,
        })
        .collect();
    match sets {
        Some(sets) => (Vec::new(), sets),
        None => (edits.iter().filter_map(WebEdit::to_live).collect(), Vec::new()),
    }
}

fn layout(x: f64, y: f64) -> Layout {
    Layout { x, y, label: None }
}
