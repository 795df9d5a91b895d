//! Errors of running a flow, on either executor.

use crate::names::{ProcessorName, StreamName};
use crate::resp::RespError;

/// Why a run (or a worker) failed. Every message names the stream, processor or server
/// involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Inputs were given for a stream that is not a flow input.
    #[error("flow `{flow}` has no input stream `{stream}`; its inputs are {known:?}")]
    UnknownInput {
        /// The flow.
        flow: String,
        /// The stream named by the caller.
        stream: StreamName,
        /// The flow's inputs.
        known: Vec<String>,
    },
    /// A stream was read that is not a flow output.
    #[error("flow `{flow}` has no output stream `{stream}`; its outputs are {known:?}")]
    UnknownOutput {
        /// The flow.
        flow: String,
        /// The stream named by the caller.
        stream: StreamName,
        /// The flow's outputs.
        known: Vec<String>,
    },
    /// A handler emitted on a stream its processor does not declare.
    #[error(
        "processor `{processor}` emitted on stream `{stream}`, which it does not declare; add .writes(\"{stream}\")"
    )]
    UndeclaredOutput {
        /// The processor.
        processor: ProcessorName,
        /// The stream.
        stream: StreamName,
    },
    /// A processor needs a context value nobody provided.
    #[error("processor `{processor}` needs a `{type_name}` but none is provided; add it with Provided::with")]
    MissingDependency {
        /// The processor.
        processor: ProcessorName,
        /// The Rust type it asked for.
        type_name: &'static str,
    },
    /// The producer of an input stream went away before ending it.
    #[error("the producer of stream `{stream}` ({producer}) was lost before it ended the stream; restart the run")]
    ProducerLost {
        /// The stream.
        stream: StreamName,
        /// The producer's id.
        producer: String,
    },
    /// An output could not be decoded.
    #[error("output stream `{stream}`: {message}")]
    Decode {
        /// The stream.
        stream: StreamName,
        /// What went wrong.
        message: String,
    },
    /// The run was not found in Redis (never started, or expired).
    #[error("run `{run}` does not exist in Redis (never started, or expired after it finished)")]
    NoSuchRun {
        /// The run id.
        run: String,
    },
    /// Waiting for the run exceeded the caller's limit.
    #[error("run `{run}` did not finish within {seconds:.1}s; unfinished processors: {unfinished:?}")]
    Timeout {
        /// The run id.
        run: String,
        /// The limit.
        seconds: f64,
        /// Processors not yet done.
        unfinished: Vec<String>,
    },
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] RespError),
    /// Redis answered something this crate's scripts never return.
    #[error("unexpected reply from Redis to {what}: {reply}")]
    Unexpected {
        /// The operation.
        what: String,
        /// The reply, debug-printed.
        reply: String,
    },
}
