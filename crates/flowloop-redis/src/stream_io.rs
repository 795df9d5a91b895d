//! The streams of a processor written as a plain async fn ([`Processor::stream`]): take each
//! declared input and output once, iterate the inputs, emit on the outputs. The same handles
//! work on both executors; only their source and sink differ.
//!
//! [`Processor::stream`]: crate::Processor::stream

use std::fmt;
use std::rc::Rc;

use serde::Serialize;

use crate::inproc::{LocalInput, LocalOutput};
use crate::names::{ProcessorName, StreamName};
use crate::processor::{Item, ProcessError, encode};
use crate::worker::{RedisInput, RedisOutput};

/// Where an [`InputStream`]'s entries come from.
pub(crate) enum Source {
    /// A queue of the in-process executor.
    Local(LocalInput),
    /// A Redis stream read from its start by one worker (boxed: it holds a connection).
    Redis(Box<RedisInput>),
}

/// Where an [`OutputStream`]'s entries go.
pub(crate) enum Sink {
    /// The consumers' queues of the in-process executor.
    Local(LocalOutput),
    /// A Redis worker's fenced, de-duplicated writer.
    Redis(RedisOutput),
}

/// The named inputs and outputs of one run of a stream processor. Each declared stream can be
/// taken once; asking for an undeclared stream (or one already taken) is an error naming the
/// processor and the stream.
pub struct StreamIo {
    processor: ProcessorName,
    inputs: Vec<(StreamName, Option<InputStream>)>,
    outputs: Vec<(StreamName, Option<OutputStream>)>,
}

impl fmt::Debug for StreamIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inputs: Vec<&str> = self.inputs.iter().map(|(s, _)| s.as_str()).collect();
        let outputs: Vec<&str> = self.outputs.iter().map(|(s, _)| s.as_str()).collect();
        f.debug_struct("StreamIo")
            .field("processor", &self.processor)
            .field("inputs", &inputs)
            .field("outputs", &outputs)
            .finish()
    }
}

impl StreamIo {
    pub(crate) fn new(processor: ProcessorName) -> StreamIo {
        StreamIo {
            processor,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    pub(crate) fn add_input(&mut self, stream: StreamName, source: Source) {
        let handle = InputStream {
            stream: stream.clone(),
            source,
            ended: false,
        };
        self.inputs.push((stream, Some(handle)));
    }

    pub(crate) fn add_output(&mut self, stream: StreamName, sink: Sink) {
        let handle = OutputStream {
            stream: stream.clone(),
            sink,
        };
        self.outputs.push((stream, Some(handle)));
    }

    /// The processor these streams belong to.
    pub fn processor(&self) -> &ProcessorName {
        &self.processor
    }

    /// Takes input stream `stream`.
    ///
    /// # Errors
    /// When the processor does not declare `stream` with `.reads(..)`, or it was taken before.
    pub fn input(&mut self, stream: &str) -> Result<InputStream, ProcessError> {
        let processor = self.processor.clone();
        take(&mut self.inputs, &processor, stream, "reads")
    }

    /// Takes output stream `stream`.
    ///
    /// # Errors
    /// When the processor does not declare `stream` with `.writes(..)`, or it was taken before.
    pub fn output(&mut self, stream: &str) -> Result<OutputStream, ProcessError> {
        let processor = self.processor.clone();
        take(&mut self.outputs, &processor, stream, "writes")
    }
}

fn take<T>(
    slots: &mut [(StreamName, Option<T>)],
    processor: &ProcessorName,
    stream: &str,
    declare: &str,
) -> Result<T, ProcessError> {
    let Some((_, slot)) = slots.iter_mut().find(|(s, _)| s.as_str() == stream) else {
        return Err(ProcessError(format!(
            "processor `{processor}` does not declare stream `{stream}`; add .{declare}(\"{stream}\")"
        )));
    };
    slot.take().ok_or_else(|| {
        ProcessError(format!(
            "processor `{processor}` took stream `{stream}` twice; take each stream once and keep the handle"
        ))
    })
}

/// One input stream of a stream processor, read in order from its first entry.
pub struct InputStream {
    stream: StreamName,
    source: Source,
    ended: bool,
}

impl fmt::Debug for InputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputStream")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish()
    }
}

impl InputStream {
    /// The stream's name.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }

    /// The next entry, waiting for it; `Ok(None)` once the producer ended the stream.
    ///
    /// # Errors
    /// When the executor can no longer read the stream (Redis unreachable past the reconnect
    /// deadline).
    pub async fn next(&mut self) -> Result<Option<Item>, ProcessError> {
        if self.ended {
            return Ok(None);
        }
        let payload = match &mut self.source {
            Source::Local(q) => q.next().await,
            Source::Redis(r) => r.next().await?,
        };
        match payload {
            Some(p) => Ok(Some(Item::new(self.stream.clone(), p, 1))),
            None => {
                self.ended = true;
                Ok(None)
            }
        }
    }
}

/// One output stream of a stream processor.
pub struct OutputStream {
    stream: StreamName,
    sink: Sink,
}

impl fmt::Debug for OutputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputStream").field("stream", &self.stream).finish()
    }
}

impl OutputStream {
    /// The stream's name.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }

    /// Appends `value`, waiting while the stream's consumers are at its cap.
    ///
    /// # Errors
    /// When `value` does not serialize to JSON, or the run can no longer be written (on Redis:
    /// another worker took the processor over, or the server stayed unreachable).
    pub async fn emit<T: Serialize>(&mut self, value: &T) -> Result<(), ProcessError> {
        let payload: Rc<[u8]> = encode(self.stream.as_str(), value)?.into();
        self.emit_raw(payload).await
    }

    /// [`OutputStream::emit`] with a payload that is already JSON.
    ///
    /// # Errors
    /// As [`OutputStream::emit`] (the payload is not checked).
    pub async fn emit_raw(&mut self, payload: Rc<[u8]>) -> Result<(), ProcessError> {
        match &mut self.sink {
            Sink::Local(s) => s.emit(payload).await,
            Sink::Redis(s) => s.emit(payload).await,
        }
    }
}
