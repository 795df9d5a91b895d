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
use crate::processor::{Context, Handler, Inputs, Item, Outputs, Processor, Provided};

#[derive(Debug, Clone)]
enum Message {
    Data(Rc<[u8]>),
    End,
}

type Queue = AsyncQueue<Message>;

/// The entries of every flow output stream, shared by the tasks that write them.
type Collected = Rc<RefCell<BTreeMap<StreamName, Vec<Rc<[u8]>>>>>;

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
}

struct Wiring {
    /// For each stream: one queue per consumer.
    queues: BTreeMap<StreamName, Vec<(ProcIndex, Queue)>>,
    outputs: Collected,
    dead: Rc<RefCell<Vec<DeadLetter>>>,
}

impl InProcess {
    /// An executor for `flow` with nothing provided and queues of 64 entries.
    pub fn new(flow: &Flow) -> InProcess {
        InProcess {
            flow: flow.clone(),
            provided: Rc::new(Provided::new()),
            capacity: 64,
        }
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
        }
    }

    fn processor_job(
        &self,
        me: ProcIndex,
        p: &Processor,
        wiring: &Wiring,
    ) -> impl std::future::Future<Output = Result<(), RunError>> + 'static {
        let sink = Sink {
            queues: wiring.queues.clone(),
            outputs: wiring.outputs.clone(),
        };
        let inputs: Vec<(StreamName, Queue)> = p
            .inputs
            .iter()
            .map(|s| {
                let q = wiring.queues[s].iter().find(|(c, _)| *c == me).map(|(_, q)| q.clone());
                (s.clone(), q.expect("every consumer has a queue on each of its inputs"))
            })
            .collect();
        let job = Job {
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
    let sink = Sink {
        queues: wiring.queues.clone(),
        outputs: wiring.outputs.clone(),
    };
    for v in values {
        sink.send(stream, Message::Data(v)).await;
    }
    sink.send(stream, Message::End).await;
}

#[derive(Clone)]
struct Sink {
    queues: BTreeMap<StreamName, Vec<(ProcIndex, Queue)>>,
    outputs: Collected,
}

impl Sink {
    async fn send(&self, stream: &StreamName, message: Message) {
        if let (Message::Data(d), Some(out)) = (&message, self.outputs.borrow_mut().get_mut(stream)) {
            out.push(d.clone());
        }
        for (_, q) in &self.queues[stream] {
            // A consumer that finished early closed nothing; put only fails on a closed queue.
            let _ = q.put(message.clone()).await;
        }
    }
}

struct Job {
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
                Message::Data(payload) => self.handle_one(f, stream, payload).await?,
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
        for (stream, q) in inputs {
            let mut entries = Vec::new();
            while let Ok(Message::Data(d)) = q.get().await {
                entries.push(d);
            }
            all.insert(stream, entries);
        }
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
        self.dead.borrow_mut().push(DeadLetter {
            processor: self.processor.name.clone(),
            stream: StreamName::from(""),
            payload: Vec::new(),
            error: last_error,
            deliveries: self.max_deliveries,
        });
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
