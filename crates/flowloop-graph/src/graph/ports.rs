//! Port references and the checks of one edge.

use std::fmt;

use super::{GraphError, GraphNode};
use crate::Type;
use crate::kind::{InputMode, PortSpec};

/// The output name of a streaming kind's chunks (its other outputs are final values).
pub const STREAM_OUTPUT: &str = "stream";

/// A port of a node, written `node.port` in specs and errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRef {
    /// The node's id.
    pub node: String,
    /// The port's name.
    pub port: String,
}

impl PortRef {
    /// `node.port`.
    pub fn new(node: &str, port: &str) -> PortRef {
        PortRef {
            node: node.to_string(),
            port: port.to_string(),
        }
    }

    /// Parses `node.port` (the first `.` separates them).
    pub fn parse(text: &str) -> Option<PortRef> {
        let (node, port) = text.split_once('.')?;
        (!node.is_empty() && !port.is_empty()).then(|| PortRef::new(node, port))
    }
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.node, self.port)
    }
}

/// What an output port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutPort {
    /// Final value `i`.
    Value(usize, Type),
    /// The chunk stream.
    Stream(Type),
}

pub(crate) fn input_index(n: &GraphNode, input: &str) -> Result<usize, GraphError> {
    n.spec().input_index(input).ok_or_else(|| GraphError::UnknownInput {
        node: n.id().to_string(),
        kind: n.spec().name.clone(),
        input: input.to_string(),
        available: n
            .spec()
            .inputs
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

pub(crate) fn output_port(n: &GraphNode, output: &str) -> Result<OutPort, GraphError> {
    let spec = n.spec();
    if let Some(i) = spec.output_index(output) {
        return Ok(OutPort::Value(i, spec.outputs[i].ty));
    }
    match spec.stream {
        Some(chunk) if output == STREAM_OUTPUT => Ok(OutPort::Stream(chunk)),
        _ => {
            let mut names: Vec<&str> = spec.outputs.iter().map(|o| o.name.as_str()).collect();
            if spec.stream.is_some() {
                names.push(STREAM_OUTPUT);
            }
            Err(GraphError::UnknownOutput {
                node: n.id().to_string(),
                kind: spec.name.clone(),
                output: output.to_string(),
                available: names.join(", "),
            })
        }
    }
}

pub(crate) fn check_types(src: &GraphNode, out: OutPort, dst: &GraphNode, port: &PortSpec) -> Result<(), GraphError> {
    let edge = || (src.id().to_string(), dst.id().to_string(), port.name.clone());
    let out_ty = match (out, port.mode) {
        (OutPort::Stream(_), InputMode::Value | InputMode::Lazy) => {
            let (from, node, input) = edge();
            return Err(GraphError::StreamToPlain { from, node, input });
        }
        (OutPort::Value(..), InputMode::Stream) => {
            let (from, node, input) = edge();
            return Err(GraphError::PlainToStream { from, node, input });
        }
        (OutPort::Stream(t), _) | (OutPort::Value(_, t), _) => t,
    };
    if out_ty.feeds(port.ty) {
        return Ok(());
    }
    let (from, node, input) = edge();
    Err(GraphError::TypeMismatch {
        from,
        output_type: out_ty,
        node,
        input,
        input_type: port.ty,
    })
}
