//! Processors: named inputs and outputs, a handler, dependencies.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::names::{ProcessorName, StreamName};
use crate::stream_io::StreamIo;

/// An error from a processor's handler. The entry is retried; after the flow's delivery limit
/// it goes to the dead-letter stream with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProcessError(pub String);

impl ProcessError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> ProcessError {
        ProcessError(message.into())
    }
}

/// One entry read from an input stream: the stream it came from and its JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    stream: StreamName,
    payload: Rc<[u8]>,
    deliveries: u32,
}

impl Item {
    pub(crate) fn new(stream: StreamName, payload: Rc<[u8]>, deliveries: u32) -> Item {
        Item {
            stream,
            payload,
            deliveries,
        }
    }

    /// The input stream this entry came from.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }

    /// The payload as JSON bytes.
    pub fn raw(&self) -> &[u8] {
        &self.payload
    }

    /// How many times this entry has been handed to a handler, this time included.
    pub fn deliveries(&self) -> u32 {
        self.deliveries
    }

    /// The payload as a dynamic [`Value`](flowloop_graph::value::Value) (for processors that
    /// do not know the type, as graph nodes do).
    ///
    /// # Errors
    /// When the payload is not JSON.
    pub fn value(&self) -> Result<flowloop_graph::value::Value, ProcessError> {
        self.decode()
    }

    /// Decodes the payload.
    ///
    /// # Errors
    /// A [`ProcessError`] naming the stream and the expected type when the JSON does not fit.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ProcessError> {
        decode(&self.stream, &self.payload)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(stream: &StreamName, payload: &[u8]) -> Result<T, ProcessError> {
    serde_json::from_slice(payload)
        .map_err(|e| ProcessError(format!("entry of stream `{stream}` is not a {}: {e}", type_name::<T>())))
}

pub(crate) fn encode<T: Serialize>(stream: &str, value: &T) -> Result<Vec<u8>, ProcessError> {
    serde_json::to_vec(value)
        .map_err(|e| ProcessError(format!("value for stream `{stream}` does not serialize as JSON: {e}")))
}

/// The complete contents of a `wait` processor's input streams.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    streams: HashMap<StreamName, Vec<Rc<[u8]>>>,
}

impl Inputs {
    pub(crate) fn insert(&mut self, stream: StreamName, entries: Vec<Rc<[u8]>>) {
        self.streams.insert(stream, entries);
    }

    /// Every entry of `stream`, decoded, in order.
    ///
    /// # Errors
    /// When `stream` is not an input of this processor, or an entry does not decode as `T`.
    pub fn all<T: DeserializeOwned>(&self, stream: &str) -> Result<Vec<T>, ProcessError> {
        let name = StreamName::from(stream);
        let entries = self
            .streams
            .get(&name)
            .ok_or_else(|| ProcessError(format!("`{stream}` is not an input of this processor")))?;
        entries.iter().map(|p| decode(&name, p)).collect()
    }
}

/// What a handler emits: values for named output streams, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    pub(crate) items: Vec<(StreamName, Vec<u8>)>,
}

impl Outputs {
    /// Nothing emitted yet.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Emits `value` on output stream `stream`. Emitting on a stream the processor does not
    /// declare fails when the executor commits, naming processor and stream.
    ///
    /// # Errors
    /// When `value` does not serialize to JSON.
    pub fn emit<T: Serialize>(&mut self, stream: &str, value: &T) -> Result<&mut Outputs, ProcessError> {
        self.items.push((StreamName::from(stream), encode(stream, value)?));
        Ok(self)
    }

    /// How many values were emitted.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Values a worker (or the in-process executor) provides to processors, one per type: a
/// configuration, a client, a model. Processors declare what they need with
/// [`Processor::needs`] and read it with [`Context::get`].
#[derive(Clone, Default)]
pub struct Provided {
    values: HashMap<TypeId, (Rc<dyn Any>, &'static str)>,
}

impl fmt::Debug for Provided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.values().map(|(_, n)| n)).finish()
    }
}

impl Provided {
    /// Nothing provided.
    pub fn new() -> Provided {
        Provided::default()
    }

    /// Provides `value` for every processor asking for a `T` (replacing an earlier `T`).
    pub fn with<T: 'static>(mut self, value: T) -> Provided {
        self.values
            .insert(TypeId::of::<T>(), (Rc::new(value), type_name::<T>()));
        self
    }

    pub(crate) fn has(&self, id: TypeId) -> bool {
        self.values.contains_key(&id)
    }
}

/// What a handler sees besides its item: the processor's name and the provided values.
#[derive(Debug, Clone)]
pub struct Context {
    processor: ProcessorName,
    provided: Rc<Provided>,
}

impl Context {
    pub(crate) fn new(processor: ProcessorName, provided: Rc<Provided>) -> Context {
        Context { processor, provided }
    }

    /// The processor being run.
    pub fn processor(&self) -> &ProcessorName {
        &self.processor
    }

    /// The provided `T`.
    ///
    /// # Errors
    /// When nobody provided a `T` (declare it with [`Processor::needs`] so that workers
    /// check at start-up instead).
    pub fn get<T: 'static>(&self) -> Result<Rc<T>, ProcessError> {
        let missing = || {
            ProcessError(format!(
                "processor `{}` asked for a `{}` but none was provided; add it with Provided::with",
                self.processor,
                type_name::<T>()
            ))
        };
        let (value, _) = self.provided.values.get(&TypeId::of::<T>()).ok_or_else(missing)?;
        value.clone().downcast::<T>().map_err(|_| missing())
    }
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;
pub(crate) type EachFn = Rc<dyn Fn(Item, Context) -> LocalFuture<Result<Outputs, ProcessError>>>;
pub(crate) type PartitionFn = Rc<dyn Fn(Inputs, Context) -> LocalFuture<Result<Outputs, ProcessError>>>;
pub(crate) type StreamFn = Rc<dyn Fn(StreamIo, Context) -> LocalFuture<Result<(), ProcessError>>>;

/// How a processor consumes its inputs.
#[derive(Clone)]
pub(crate) enum Handler {
    /// Entry by entry, as they arrive; many workers share the work.
    Each(EachFn),
    /// Once, when every input is complete (a partition); one worker runs it.
    Wait(PartitionFn),
    /// Once, as a plain async fn iterating its inputs and emitting outputs; one worker runs
    /// it at a time (a new owner replays it from the start after a crash).
    Stream(StreamFn),
}

/// A named processor: input streams, output streams, needed context types, and a handler.
///
/// ```
/// use flowloop_redis::{Outputs, Processor};
///
/// let upper = Processor::new("upper").reads("words").writes("loud").each(|item, _ctx| async move {
///     let word: String = item.decode()?;
///     let mut out = Outputs::new();
///     out.emit("loud", &word.to_uppercase())?;
///     Ok(out)
/// });
/// assert_eq!(upper.name().as_str(), "upper");
/// ```
#[derive(Clone)]
pub struct Processor {
    pub(crate) name: ProcessorName,
    pub(crate) inputs: Vec<StreamName>,
    pub(crate) outputs: Vec<StreamName>,
    pub(crate) needs: Vec<(TypeId, &'static str)>,
    pub(crate) handler: Option<Handler>,
}

impl fmt::Debug for Processor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Processor")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("wait", &self.is_wait())
            .finish()
    }
}

impl Processor {
    /// A processor with no streams and no handler yet.
    pub fn new(name: &str) -> Processor {
        Processor {
            name: name.into(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            needs: Vec::new(),
            handler: None,
        }
    }

    /// The processor's name.
    pub fn name(&self) -> &ProcessorName {
        &self.name
    }

    /// Its input streams.
    pub fn inputs(&self) -> &[StreamName] {
        &self.inputs
    }

    /// Its output streams.
    pub fn outputs(&self) -> &[StreamName] {
        &self.outputs
    }

    /// True for a partition (`wait`) processor.
    pub fn is_wait(&self) -> bool {
        matches!(self.handler, Some(Handler::Wait(_)))
    }

    /// True for a processor written as a plain async fn over its streams
    /// ([`Processor::stream`] or [`Processor::flow`]).
    pub fn is_stream(&self) -> bool {
        matches!(self.handler, Some(Handler::Stream(_)))
    }

    /// True when the processor consumes its inputs entry by entry through consumer groups
    /// (acknowledging each), so its inputs can be bounded and trimmed.
    pub(crate) fn acks_entries(&self) -> bool {
        matches!(self.handler, Some(Handler::Each(_)))
    }

    /// Adds an input stream.
    pub fn reads(mut self, stream: &str) -> Processor {
        self.inputs.push(stream.into());
        self
    }

    /// Adds an output stream.
    pub fn writes(mut self, stream: &str) -> Processor {
        self.outputs.push(stream.into());
        self
    }

    /// Declares that the handler reads a `T` from its [`Context`]; workers that do not provide
    /// one refuse to start, naming this processor and the type.
    pub fn needs<T: 'static>(mut self) -> Processor {
        self.needs.push((TypeId::of::<T>(), type_name::<T>()));
        self
    }

    /// Handles entries one by one as they arrive, from any input.
    pub fn each<F, Fut>(mut self, f: F) -> Processor
    where
        F: Fn(Item, Context) -> Fut + 'static,
        Fut: Future<Output = Result<Outputs, ProcessError>> + 'static,
    {
        self.handler = Some(Handler::Each(Rc::new(move |item, ctx| Box::pin(f(item, ctx)))));
        self
    }

    /// Marks the processor `wait`: the handler runs once, with every entry of every input, when
    /// all inputs are complete (a partition).
    pub fn wait<F, Fut>(mut self, f: F) -> Processor
    where
        F: Fn(Inputs, Context) -> Fut + 'static,
        Fut: Future<Output = Result<Outputs, ProcessError>> + 'static,
    {
        self.handler = Some(Handler::Wait(Rc::new(move |inputs, ctx| Box::pin(f(inputs, ctx)))));
        self
    }

    /// A processor written as a plain async fn over its streams: it takes its declared inputs
    /// and outputs from the [`StreamIo`], iterates the inputs and emits on the outputs, and
    /// returns when it is done (its outputs are then ended).
    ///
    /// It runs once per run. On Redis one worker at a time runs it, holding a lock renewed
    /// with its lease; when that worker dies another one runs it again from the start and
    /// the outputs it already wrote are skipped (by sequence number), so outputs are
    /// exactly-once as long as the function is deterministic. An error ends its outputs and
    /// goes to the dead-letter stream (it is not retried: what it emitted stays emitted).
    ///
    /// ```
    /// use flowloop_redis::{Processor, ProcessError};
    ///
    /// let sums = Processor::new("running_sum").reads("numbers").writes("sums").stream(|mut io, _ctx| async move {
    ///     let mut numbers = io.input("numbers")?;
    ///     let mut sums = io.output("sums")?;
    ///     let mut total = 0i64;
    ///     while let Some(item) = numbers.next().await? {
    ///         total += item.decode::<i64>()?;
    ///         sums.emit(&total).await?;
    ///     }
    ///     Ok::<(), ProcessError>(())
    /// });
    /// assert!(sums.is_stream());
    /// ```
    pub fn stream<F, Fut>(mut self, f: F) -> Processor
    where
        F: Fn(StreamIo, Context) -> Fut + 'static,
        Fut: Future<Output = Result<(), ProcessError>> + 'static,
    {
        self.handler = Some(Handler::Stream(Rc::new(move |io, ctx| Box::pin(f(io, ctx)))));
        self
    }

    /// A one-in, one-out processor over typed values: `input` → `f` → `output`.
    pub fn map<I, O, F, Fut>(name: &str, input: &str, output: &str, f: F) -> Processor
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ProcessError>> + 'static,
    {
        let f = Rc::new(f);
        Processor::flat_map(name, input, output, move |value: I| {
            let f = f.clone();
            async move { f(value).await.map(|o| vec![o]) }
        })
    }

    /// Like [`Processor::map`] with any number of outputs per input.
    pub fn flat_map<I, O, F, Fut>(name: &str, input: &str, output: &str, f: F) -> Processor
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<O>, ProcessError>> + 'static,
    {
        let f = Rc::new(f);
        let out_name = output.to_string();
        Processor::new(name)
            .reads(input)
            .writes(output)
            .each(move |item, _ctx| {
                let (f, out_name) = (f.clone(), out_name.clone());
                async move {
                    let mut out = Outputs::new();
                    for value in f(item.decode::<I>()?).await? {
                        out.emit(&out_name, &value)?;
                    }
                    Ok(out)
                }
            })
    }
}
