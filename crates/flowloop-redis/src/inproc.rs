//! The in-process executor: every processor is a task on the current flowloop loop and every
//! stream a bounded [`AsyncQueue`] per consumer, so a slow consumer holds its producer back.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use flowloop::sync::AsyncQueue;

use crate::error::RunError;
use crate::flow::{Flow, ProcIndex};
use crate::io::{DeadLetter, FlowInputs, RunOutputs};
use crate::names::{ProcessorName, StreamName};
use crate::processor::{Context, Handler, Inputs, Item, Outputs, ProcessError, Processor, Provided, StreamFn};
use crate::run::StreamStats;
use crate::stream_io::{self, StreamIo};

#[derive(Debug, Clone)]
enum Message {
    Data(Rc<[u8]>),
    End,
}

type Queue = AsyncQueue<Message>;

/// The entries of every flow output stream, shared by the tasks that write them.
type Collected = Rc<RefCell<BTreeMap<StreamName, Vec<Rc<[u8]>>>>>;

/// What happened to the entries of one stream for one consumer so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    /// Entries put in the consumer's queue.
    added: u64,
    /// Entries the consumer took from its queue.
    taken: u64,
    /// Entries the consumer finished with (handled and their outputs sent).
    done: u64,
}

/// Counts per stream and consumer, shared by the tasks of a run and the executor's
/// [`InProcess::stats`].
#[derive(Debug, Clone, Default)]
struct Counters(Rc<RefCell<BTreeMap<(StreamName, ProcIndex), Counts>>>);

impl Counters {
    fn reset(&self, flow: &Flow) {
        let mut map = self.0.borrow_mut();
        map.clear();
        for (name, info) in flow.streams() {
            for c in &info.consumers {
                map.insert((name.clone(), *c), Counts::default());
            }
        }
    }

    fn bump(&self, stream: &StreamName, consumer: ProcIndex, f: impl FnOnce(&mut Counts)) {
        if let Some(c) = self.0.borrow_mut().get_mut(&(stream.clone(), consumer)) {
            f(c);
        }
    }

    fn snapshot(&self, flow: &Flow) -> Vec<StreamStats> {
        let map = self.0.borrow();
        map.iter()
            .map(|((stream, consumer), c)| StreamStats {
                stream: stream.clone(),
                length: c.added - c.done,
                group: flow.processor(*consumer).name().to_string(),
                lag: Some(c.added - c.taken),
                pending: c.taken - c.done,
            })
            .collect()
    }
}

/// Runs a [`Flow`] on the current loop; nothing to install. The same flow runs unchanged on
/// Redis workers ([`crate::RedisRun`]).
///
/// ```
/// use flowloop_redis::{FlowBuilder, FlowInputs, InProcess, Processor, ProcessError};
///
/// let flow = FlowBuilder::new("double")
///     .input("numbers")
///     .processor(Processor::map("double", "numbers", "doubled", |n: i64| async move {
///         Ok::<_, ProcessError>(n * 2)
///     }))
///     .output("doubled")
///     .build()
///     .unwrap();
/// let outputs = flowloop::run(async move {
///     let inputs = FlowInputs::new().feed("numbers", &[1, 2, 3]).unwrap();
///     InProcess::new(&flow).run(inputs).await.unwrap()
/// })
/// .unwrap();
/// assert_eq!(outputs.get::<i64>("doubled").unwrap(), [2, 4, 6]);
/// ```
#[derive(Debug, Clone)]
pub struct InProcess {
    flow: Flow,
    provided: Rc<Provided>,
    capacity: usize,
    counters: Counters,
}

struct Wiring {
    /// For each stream: one queue per consumer.
    queues: BTreeMap<StreamName, Vec<(ProcIndex, Queue)>>,
    outputs: Collected,
    dead: Rc<RefCell<Vec<DeadLetter>>>,
    counters: Counters,
}

impl Wiring {
    fn sink(&self) -> Sink {
        Sink {
            queues: self.queues.clone(),
            outputs: self.outputs.clone(),
            counters: self.counters.clone(),
        }
    }
}

impl InProcess {
    /// An executor for `flow` with nothing provided and queues of 64 entries.
    pub fn new(flow: &Flow) -> InProcess {
        InProcess {
            flow: flow.clone(),
            provided: Rc::new(Provided::new()),
            capacity: 64,
            counters: Counters::default(),
        }
    }

    /// Lag and pending counts of every consumer of every stream, readable while
    /// [`InProcess::run`] is running (from another task holding a clone of this executor:
    /// clones share their counters). The same [`StreamStats`] as [`crate::RedisRun::stats`]:
    /// `group` is the consuming processor, `lag` the entries queued for it and not yet taken,
    /// `pending` the entries it took and has not finished, `length` their sum. After a run
    /// they show its final state (all zero once every processor finished).
    pub fn stats(&self) -> Vec<StreamStats> {
        self.counters.snapshot(&self.flow)
    }

    /// The values processors can ask their [`Context`] for.
    pub fn provide(mut self, provided: Provided) -> InProcess {
        self.provided = Rc::new(provided);
        self
    }

    /// Entries each stream's queue holds before its producer waits.
    pub fn queue_capacity(mut self, capacity: usize) -> InProcess {
        self.capacity = capacity.max(1);
        self
    }

    /// Feeds `inputs` (each followed by end-of-stream), runs every processor to the end and
    /// returns the output streams and dead letters.
    ///
    /// # Errors
    /// Unknown input streams, missing dependencies, a handler emitting on an undeclared stream.
    pub async fn run(&self, inputs: FlowInputs) -> Result<RunOutputs, RunError> {
        inputs.check(&self.flow)?;
        check_dependencies(&self.flow, self.flow.processors().iter(), &self.provided)?;
        self.counters.reset(&self.flow);
        let wiring = self.wire();
        let mut tasks = Vec::new();
        for (i, p) in self.flow.processors().iter().enumerate() {
            let i = ProcIndex::from_usize(i);
            let job = self.processor_job(i, p, &wiring);
            tasks.push(flowloop::spawn(job).await);
        }
        for stream in self.flow.inputs() {
            let values = inputs.values(stream);
            publish_all(&wiring, stream, values).await;
        }
        let mut first_error = None;
        for task in tasks {
            let result = task.join().await.unwrap_or_else(|e| {
                Err(RunError::Unexpected {
                    what: "an in-process processor task".into(),
                    reply: e.to_string(),
                })
            });
            if let (Err(e), None) = (result, &first_error) {
                first_error = Some(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let streams = std::mem::take(&mut *wiring.outputs.borrow_mut());
        let dead = std::mem::take(&mut *wiring.dead.borrow_mut());
        Ok(RunOutputs::new(streams, dead))
    }

    fn wire(&self) -> Wiring {
        let mut queues = BTreeMap::new();
        let mut outputs = BTreeMap::new();
        for (name, info) in self.flow.streams() {
            let per_consumer = info
                .consumers
                .iter()
                .map(|c| (*c, AsyncQueue::bounded(self.capacity)))
                .collect();
            queues.insert(name.clone(), per_consumer);
            if info.is_output {
                outputs.insert(name.clone(), Vec::new());
            }
        }
        Wiring {
            queues,
            outputs: Rc::new(RefCell::new(outputs)),
            dead: Rc::new(RefCell::new(Vec::new())),
            counters: self.counters.clone(),
        }
    }

    fn processor_job(
        &self,
        me: ProcIndex,
        p: &Processor,
        wiring: &Wiring,
    ) -> impl std::future::Future<Output = Result<(), RunError>> + 'static {
        let sink = wiring.sink();
        let inputs: Vec<(StreamName, Queue)> = p
            .inputs
            .iter()
            .map(|s| {
                let q = wiring.queues[s].iter().find(|(c, _)| *c == me).map(|(_, q)| q.clone());
                (s.clone(), q.expect("every consumer has a queue on each of its inputs"))
            })
            .collect();
        let job = Job {
            me,
            processor: p.clone(),
            ctx: Context::new(p.name.clone(), self.provided.clone()),
            max_deliveries: self.flow.max_deliveries(),
            dead: wiring.dead.clone(),
            sink,
        };
        async move {
            let queues: Vec<Queue> = inputs.iter().map(|(_, q)| q.clone()).collect();
            let result = match job.processor.handler.clone() {
                Some(Handler::Each(f)) => job.run_each(inputs, f).await,
                Some(Handler::Wait(f)) => job.run_wait(inputs, f).await,
                Some(Handler::Stream(f)) => job.run_stream(inputs, f).await,
                None => Ok(()),
            };
            if result.is_err() {
                // Unblock producers and end consumers so the other tasks finish too.
                queues.iter().for_each(|q| q.close());
                job.finish().await?;
            }
            result
        }
    }
}

pub(crate) fn check_dependencies<'a>(
    flow: &Flow,
    processors: impl Iterator<Item = &'a Processor>,
    provided: &Provided,
) -> Result<(), RunError> {
    let _ = flow;
    for p in processors {
        if let Some((_, type_name)) = p.needs.iter().find(|(id, _)| !provided.has(*id)) {
            return Err(RunError::MissingDependency {
                processor: p.name.clone(),
                type_name,
            });
        }
    }
    Ok(())
}

async fn publish_all(wiring: &Wiring, stream: &StreamName, values: Vec<Rc<[u8]>>) {
    let sink = wiring.sink();
    for v in values {
        sink.send(stream, Message::Data(v)).await;
    }
    sink.send(stream, Message::End).await;
}

#[derive(Clone)]
struct Sink {
    queues: BTreeMap<StreamName, Vec<(ProcIndex, Queue)>>,
    outputs: Collected,
    counters: Counters,
}

impl Sink {
    async fn send(&self, stream: &StreamName, message: Message) {
        let data = matches!(message, Message::Data(_));
        if let (Message::Data(d), Some(out)) = (&message, self.outputs.borrow_mut().get_mut(stream)) {
            out.push(d.clone());
        }
        for (consumer, q) in &self.queues[stream] {
            // put only fails on a queue closed by a consumer that stopped; drop the entry.
            if q.put(message.clone()).await.is_ok() && data {
                self.counters.bump(stream, *consumer, |c| c.added += 1);
            }
        }
    }
}

/// The in-process source of a stream processor's [`crate::InputStream`]: its queue.
pub(crate) struct LocalInput {
    stream: StreamName,
    me: ProcIndex,
    queue: Queue,
    counters: Counters,
}

impl LocalInput {
    /// The next payload; `None` at the end marker (or when the queue was closed).
    pub(crate) async fn next(&mut self) -> Option<Rc<[u8]>> {
        // The entry handed out last is finished once the processor asks for the next one.
        self.counters.bump(&self.stream, self.me, |c| c.done = c.taken);
        match self.queue.get().await {
            Ok(Message::Data(d)) => {
                self.counters.bump(&self.stream, self.me, |c| c.taken += 1);
                Some(d)
            }
            Ok(Message::End) | Err(_) => None,
        }
    }
}

/// The in-process sink of a stream processor's [`crate::OutputStream`].
pub(crate) struct LocalOutput {
    stream: StreamName,
    sink: Sink,
}

impl LocalOutput {
    pub(crate) async fn emit(&mut self, payload: Rc<[u8]>) -> Result<(), ProcessError> {
        self.sink.send(&self.stream, Message::Data(payload)).await;
        Ok(())
    }
}

struct Job {
    me: ProcIndex,
    processor: Processor,
    ctx: Context,
    max_deliveries: u32,
    dead: Rc<RefCell<Vec<DeadLetter>>>,
    sink: Sink,
}

impl Job {
    async fn run_each(&self, inputs: Vec<(StreamName, Queue)>, f: crate::processor::EachFn) -> Result<(), RunError> {
        let merged: AsyncQueue<(StreamName, Message)> = AsyncQueue::bounded(inputs.len().max(1));
        let mut forwarders = Vec::new();
        for (stream, q) in inputs.iter().cloned() {
            let merged = merged.clone();
            forwarders.push(flowloop::spawn(forward(stream, q, merged)).await);
        }
        let result = self.consume(&merged, &f, inputs.len()).await;
        merged.close(); // releases forwarders still waiting to put
        result?;
        self.finish().await
    }

    async fn consume(
        &self,
        merged: &AsyncQueue<(StreamName, Message)>,
        f: &crate::processor::EachFn,
        mut open: usize,
    ) -> Result<(), RunError> {
        while open > 0 {
            let Ok((stream, message)) = merged.get().await else {
                break;
            };
            match message {
                Message::End => open -= 1,
                Message::Data(payload) => {
                    self.counters().bump(&stream, self.me, |c| c.taken += 1);
                    self.handle_one(f, stream.clone(), payload).await?;
                    self.counters().bump(&stream, self.me, |c| c.done += 1);
                }
            }
        }
        Ok(())
    }

    async fn handle_one(
        &self,
        f: &crate::processor::EachFn,
        stream: StreamName,
        payload: Rc<[u8]>,
    ) -> Result<(), RunError> {
        let mut last_error = String::new();
        for delivery in 1..=self.max_deliveries {
            let item = Item::new(stream.clone(), payload.clone(), delivery);
            match f(item, self.ctx.clone()).await {
                Ok(out) => return self.emit(out).await,
                Err(e) => last_error = e.0,
            }
        }
        self.dead.borrow_mut().push(DeadLetter {
            processor: self.processor.name.clone(),
            stream,
            payload: payload.to_vec(),
            error: last_error,
            deliveries: self.max_deliveries,
        });
        Ok(())
    }

    async fn run_wait(
        &self,
        inputs: Vec<(StreamName, Queue)>,
        f: crate::processor::PartitionFn,
    ) -> Result<(), RunError> {
        let mut all = Inputs::default();
        for (stream, q) in &inputs {
            let mut entries = Vec::new();
            while let Ok(Message::Data(d)) = q.get().await {
                self.counters().bump(stream, self.me, |c| c.taken += 1);
                entries.push(d);
            }
            all.insert(stream.clone(), entries);
        }
        let result = self.partition(all, f).await;
        for (stream, _) in &inputs {
            self.counters().bump(stream, self.me, |c| c.done = c.taken);
        }
        result
    }

    async fn partition(&self, all: Inputs, f: crate::processor::PartitionFn) -> Result<(), RunError> {
        let mut last_error = String::new();
        for _ in 0..self.max_deliveries {
            match f(all.clone(), self.ctx.clone()).await {
                Ok(out) => {
                    self.emit(out).await?;
                    return self.finish().await;
                }
                Err(e) => last_error = e.0,
            }
        }
        let letter = partition_letter(&self.processor.name, last_error, self.max_deliveries);
        self.dead.borrow_mut().push(letter);
        self.finish().await
    }

    fn counters(&self) -> &Counters {
        &self.sink.counters
    }

    /// Runs a stream processor once over its queues; an error is a dead letter (the stream
    /// processor is not retried) and its outputs end either way.
    async fn run_stream(&self, inputs: Vec<(StreamName, Queue)>, f: StreamFn) -> Result<(), RunError> {
        let mut io = StreamIo::new(self.processor.name.clone());
        for (stream, queue) in &inputs {
            let source = LocalInput {
                stream: stream.clone(),
                me: self.me,
                queue: queue.clone(),
                counters: self.counters().clone(),
            };
            io.add_input(stream.clone(), stream_io::Source::Local(source));
        }
        for stream in &self.processor.outputs {
            let sink = LocalOutput {
                stream: stream.clone(),
                sink: self.sink.clone(),
            };
            io.add_output(stream.clone(), stream_io::Sink::Local(sink));
        }
        let result = f(io, self.ctx.clone()).await;
        // Entries the function never read are dropped: close the queues so producers go on.
        for (stream, queue) in &inputs {
            queue.close();
            self.counters().bump(stream, self.me, |c| c.done = c.taken);
        }
        if let Err(e) = result {
            self.dead
                .borrow_mut()
                .push(partition_letter(&self.processor.name, e.0, 1));
        }
        self.finish().await
    }

    async fn emit(&self, out: Outputs) -> Result<(), RunError> {
        check_outputs(&self.processor.name, &self.processor.outputs, &out)?;
        for (stream, payload) in out.items {
            self.sink.send(&stream, Message::Data(payload.into())).await;
        }
        Ok(())
    }

    async fn finish(&self) -> Result<(), RunError> {
        for stream in &self.processor.outputs {
            self.sink.send(stream, Message::End).await;
        }
        Ok(())
    }
}

/// The dead letter of a processor that failed as a whole (a `wait` or stream processor).
fn partition_letter(processor: &ProcessorName, error: String, deliveries: u32) -> DeadLetter {
    DeadLetter {
        processor: processor.clone(),
        stream: StreamName::from(""),
        payload: Vec::new(),
        error,
        deliveries,
    }
}

pub(crate) fn check_outputs(processor: &ProcessorName, declared: &[StreamName], out: &Outputs) -> Result<(), RunError> {
    match out.items.iter().find(|(s, _)| !declared.contains(s)) {
        Some((stream, _)) => Err(RunError::UndeclaredOutput {
            processor: processor.clone(),
            stream: stream.clone(),
        }),
        None => Ok(()),
    }
}

async fn forward(stream: StreamName, from: Queue, to: AsyncQueue<(StreamName, Message)>) {
    while let Ok(message) = from.get().await {
        let end = matches!(message, Message::End);
        if to.put((stream.clone(), message)).await.is_err() || end {
            return;
        }
    }
}
