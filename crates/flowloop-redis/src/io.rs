//! Flow inputs and outputs, shared by both executors.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RunError;
use crate::flow::Flow;
use crate::names::{ProcessorName, StreamName};
use crate::processor::{ProcessError, decode, encode};

/// Initial values for a run's input streams; each stream is ended after its values.
#[derive(Debug, Clone, Default)]
pub struct FlowInputs {
    streams: BTreeMap<StreamName, Vec<Rc<[u8]>>>,
}

impl FlowInputs {
    /// No inputs (every input stream is ended empty).
    pub fn new() -> FlowInputs {
        FlowInputs::default()
    }

    /// Appends `values` to input stream `stream`.
    ///
    /// # Errors
    /// When a value does not serialize to JSON.
    pub fn feed<T: Serialize>(mut self, stream: &str, values: &[T]) -> Result<FlowInputs, ProcessError> {
        let entry = self.streams.entry(stream.into()).or_default();
        for v in values {
            entry.push(encode(stream, v)?.into());
        }
        Ok(self)
    }

    pub(crate) fn check(&self, flow: &Flow) -> Result<(), RunError> {
        match self.streams.keys().find(|s| !flow.inputs().contains(s)) {
            Some(stream) => Err(RunError::UnknownInput {
                flow: flow.name().to_string(),
                stream: stream.clone(),
                known: flow.inputs().iter().map(|s| s.to_string()).collect(),
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn values(&self, stream: &StreamName) -> Vec<Rc<[u8]>> {
        self.streams.get(stream).cloned().unwrap_or_default()
    }
}

/// An entry that failed `max_deliveries` times and was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The processor whose handler failed.
    pub processor: ProcessorName,
    /// The input stream the entry came from (empty for a `wait` processor's whole partition).
    pub stream: StreamName,
    /// The entry's JSON payload.
    pub payload: Vec<u8>,
    /// The handler's last error.
    pub error: String,
    /// How many times it was delivered.
    pub deliveries: u32,
}

/// Everything a finished run produced: each output stream in order, and the dead letters.
#[derive(Debug, Clone, Default)]
pub struct RunOutputs {
    streams: BTreeMap<StreamName, Vec<Rc<[u8]>>>,
    dead: Vec<DeadLetter>,
}

impl RunOutputs {
    pub(crate) fn new(streams: BTreeMap<StreamName, Vec<Rc<[u8]>>>, dead: Vec<DeadLetter>) -> RunOutputs {
        RunOutputs { streams, dead }
    }

    /// The entries of output stream `stream`, decoded, in the order they were written.
    ///
    /// # Errors
    /// [`RunError::UnknownOutput`] for a stream that is not an output; [`RunError::Decode`]
    /// when an entry is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, stream: &str) -> Result<Vec<T>, RunError> {
        let name = StreamName::from(stream);
        let entries = self.streams.get(&name).ok_or_else(|| RunError::UnknownOutput {
            flow: String::new(),
            stream: name.clone(),
            known: self.streams.keys().map(|s| s.to_string()).collect(),
        })?;
        entries
            .iter()
            .map(|e| {
                decode(&name, e).map_err(|e| RunError::Decode {
                    stream: name.clone(),
                    message: e.0,
                })
            })
            .collect()
    }

    /// The raw JSON entries of `stream` (empty for an unknown stream).
    pub fn raw(&self, stream: &str) -> &[Rc<[u8]>] {
        self.streams
            .get(&StreamName::from(stream))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Entries that exhausted their deliveries.
    pub fn dead_letters(&self) -> &[DeadLetter] {
        &self.dead
    }
}
