//! [`GraphError`]: why an edit, a check or a build was refused.

use crate::{ConvertError, Type};

/// Why a graph edit or check was refused. Every variant names the node (and port).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// No kind with that name in the registry.
    #[error("node `{node}`: unknown kind `{kind}` (see the registry listing for the kinds there are)")]
    UnknownKind {
        /// The node.
        node: String,
        /// The kind asked for.
        kind: String,
    },
    /// No node with that id.
    #[error("no node `{node}` in the graph")]
    UnknownNode {
        /// The id.
        node: String,
    },
    /// Two nodes with one id.
    #[error("node id `{node}` is already taken")]
    DuplicateId {
        /// The id.
        node: String,
    },
    /// An id with characters other than letters, digits, `_` and `-`.
    #[error("`{node}` is not a valid node id (letters, digits, `_` and `-`, at most 128)")]
    BadId {
        /// The id.
        node: String,
    },
    /// The kind has no such input.
    #[error("node `{node}` ({kind}) has no input `{input}` (inputs: {available})")]
    UnknownInput {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
        /// The input asked for.
        input: String,
        /// The inputs it has.
        available: String,
    },
    /// The kind has no such output.
    #[error("node `{node}` ({kind}) has no output `{output}` (outputs: {available})")]
    UnknownOutput {
        /// The node.
        node: String,
        /// Its kind.
        kind: String,
        /// The output asked for.
        output: String,
        /// The outputs it has.
        available: String,
    },
    /// The output's type does not feed the input's.
    #[error("`{from}` gives {output_type}, but input `{input}` of node `{node}` takes {input_type}")]
    TypeMismatch {
        /// The source, `node.output`.
        from: String,
        /// Its type.
        output_type: Type,
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
        /// The input's type.
        input_type: Type,
    },
    /// The input already has an edge.
    #[error(
        "input `{input}` of node `{node}` is already connected to `{from}` (disconnect it, or connect with replace)"
    )]
    AlreadyConnected {
        /// The node.
        node: String,
        /// Its input.
        input: String,
        /// The current source.
        from: String,
    },
    /// A stream output into a plain input.
    #[error(
        "node `{from}` streams into plain input `{input}` of node `{node}`; connect its final value \
         instead, or put a stream consumer (streams.collect, streams.sum) between them"
    )]
    StreamToPlain {
        /// The streaming node.
        from: String,
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
    },
    /// A plain output into a stream input.
    #[error(
        "stream input `{input}` of node `{node}` needs the `stream` output of a streaming node, not a value of `{from}`"
    )]
    PlainToStream {
        /// The producer.
        from: String,
        /// The consumer.
        node: String,
        /// Its input.
        input: String,
    },
    /// No such edge to remove.
    #[error("input `{input}` of node `{node}` is not connected")]
    NotConnected {
        /// The node.
        node: String,
        /// Its input.
        input: String,
    },
    /// A constant of the wrong type.
    #[error("input `{input}` of node `{node}`: {source}")]
    BadConstant {
        /// The node.
        node: String,
        /// Its input.
        input: String,
        /// What did not convert.
        source: ConvertError,
    },
    /// Stream inputs take no constant.
    #[error("input `{input}` of node `{node}` is a stream input: connect a streaming output instead of a constant")]
    StreamConstant {
        /// The node.
        node: String,
        /// Its input.
        input: String,
    },
    /// An input with neither edge nor value.
    #[error("input `{input}` of node `{node}` is not connected and has no value (connect it or set a constant)")]
    Unconnected {
        /// The node.
        node: String,
        /// Its input.
        input: String,
    },
    /// A declared graph input or output that is not `node.port`, or points nowhere.
    #[error("graph {what} `{name}`: {problem}")]
    BadDeclaration {
        /// `input` or `output`.
        what: &'static str,
        /// The declared name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The executor refused the compiled graph for a reason other than those below.
    #[error("the graph cannot run: {0}")]
    Build(String),
    /// A cycle none of whose nodes can ever run first (none has defaults on all its inputs
    /// from inside the cycle); `node` is the first member of the first such cycle.
    #[error("the graph cannot run: {problem}")]
    CannotStart {
        /// The cycle's first node.
        node: String,
        /// Every such cycle, with the inputs that would need defaults.
        problem: String,
    },
    /// A composite kind includes itself.
    #[error("composite kind `{name}` includes itself (through {path})")]
    SelfInclusion {
        /// The composite.
        name: String,
        /// The chain of kinds.
        path: String,
    },
}
