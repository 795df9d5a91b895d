//! A stream processor in one worker: take its lock, run the function once over its inputs
//! (read whole from their first entry with `XREAD`), write its outputs through a flusher task
//! with the fenced `emit` script, then commit its end with the `partition` script.
//!
//! States of one attempt:
//! - **Waiting**: another worker holds the lock; poll until it is done or the lock is free
//!   (its holder died: this worker then replays the function from the start).
//! - **Running**: emitted payloads queue up for the flusher, which writes whatever queued while
//!   its previous write was in flight, one `emit` call per output, each payload numbered so a
//!   replay writes nothing twice; at a cap it waits and sends the rest again.
//! - **Fenced**: `emit` found the lock held by someone else (this worker stalled past its
//!   lease): the flusher stops, emits fail, and the attempt ends without committing.
//! - **Committed**: the function returned and every output was written: the `partition`
//!   script ends the outputs (with a dead letter if the function failed) and marks it done.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use flowloop::sync::AsyncQueue;

use super::partition::{self, Ending, Start};
use super::shared::{Backoff, RunContext};
use crate::error::RunError;
use crate::names::StreamName;
use crate::processor::{ProcessError, Processor, StreamFn};
use crate::protocol::{self, Body, parse_read};
use crate::resp::{Client, Cmd};
use crate::stream_io::{self, StreamIo};

/// Payloads the function may queue ahead of the flusher before `emit` waits.
const QUEUED: usize = 4096;

pub(crate) async fn serve(ctx: RunContext, p: &Processor, f: StreamFn) -> Result<(), RunError> {
    let shared = ctx.clone();
    let job = |mut client: Client| async move { run_once(&shared, &mut client, p, &f).await };
    partition::with_lock(&ctx, p, Start::AtOnce, job).await
}

/// Why the flusher stopped before the function finished.
#[derive(Debug)]
enum Stop {
    /// Another worker holds the lock now.
    Fenced,
    /// Redis failed past the reconnect deadline.
    Failed(RunError),
}

async fn run_once(ctx: &RunContext, client: &mut Client, p: &Processor, f: &StreamFn) -> Result<(), RunError> {
    let queue: AsyncQueue<(usize, Rc<[u8]>)> = AsyncQueue::bounded(QUEUED);
    let stopped = Rc::new(RefCell::new(None::<String>));
    let io = open(ctx, p, &queue, &stopped);
    let flusher = Flusher::new(ctx, p, queue.clone(), stopped);
    let flushing = flowloop::spawn(flusher.run()).await;
    let result = f(io, ctx.context(p.name())).await;
    queue.close(); // the flusher writes what is queued, then ends
    let flushed = flushing.join().await.map_err(|e| RunError::Unexpected {
        what: format!("the output writer of stream processor `{}`", p.name()),
        reply: e.to_string(),
    })?;
    match flushed {
        Err(Stop::Fenced) => return Ok(()),
        Err(Stop::Failed(e)) => return Err(e),
        Ok(()) if ctx.leaving() => return Ok(()), // shutting down: the next owner replays it
        Ok(()) => {}
    }
    let ending = match result {
        Ok(()) => Ending::Succeeded(crate::Outputs::new()),
        Err(e) => Ending::Failed {
            error: e.0,
            deliveries: 1,
        },
    };
    partition::commit(ctx, client, p, ending).await
}

fn open(
    ctx: &RunContext,
    p: &Processor,
    queue: &AsyncQueue<(usize, Rc<[u8]>)>,
    stopped: &Rc<RefCell<Option<String>>>,
) -> StreamIo {
    let mut io = StreamIo::new(p.name().clone());
    for input in p.inputs() {
        let source = RedisInput {
            ctx: ctx.clone(),
            client: ctx.client(),
            key: ctx.keys.stream(input.as_str()),
            last: "0".to_string(),
            buffer: VecDeque::new(),
            read_field: protocol::read_field(p.name().as_str(), input.as_str()),
            read: 0,
        };
        io.add_input(input.clone(), stream_io::Source::Redis(Box::new(source)));
    }
    for (index, output) in p.outputs().iter().enumerate() {
        let sink = RedisOutput {
            index,
            queue: queue.clone(),
            stopped: stopped.clone(),
        };
        io.add_output(output.clone(), stream_io::Sink::Redis(sink));
    }
    io
}

/// The Redis source of a stream processor's [`crate::InputStream`]: `XREAD` from the stream's
/// first entry on a connection of its own (its reads block).
pub(crate) struct RedisInput {
    ctx: RunContext,
    client: Client,
    key: String,
    last: String,
    /// Entries read and not handed out yet; `None` is the end marker.
    buffer: VecDeque<Option<Rc<[u8]>>>,
    /// The meta field where the count of entries read is published, and that count.
    read_field: String,
    read: u64,
}

impl RedisInput {
    /// The next payload; `None` at the end marker.
    pub(crate) async fn next(&mut self) -> Result<Option<Rc<[u8]>>, ProcessError> {
        loop {
            if let Some(entry) = self.buffer.pop_front() {
                return Ok(entry);
            }
            if self.ctx.leaving() {
                return Err(ProcessError::new(
                    "the worker is leaving the run; the next owner replays it",
                ));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), ProcessError> {
        let block = self.ctx.options.block.as_millis().max(1) as i64;
        let cmd = Cmd::new("XREAD").arg("COUNT").int(self.ctx.options.batch as i64);
        let cmd = cmd
            .arg("BLOCK")
            .int(block)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.last);
        let reply = self.client.call_retrying(&cmd).await;
        let reply = reply
            .and_then(|r| r.check("XREAD"))
            .map_err(|e| ProcessError(format!("reading `{}`: {e}", self.key)))?;
        for (_, entries) in parse_read(reply) {
            self.published_read(entries.len() as u64).await?;
            for e in entries {
                self.last = e.id;
                match e.body {
                    Body::End => self.buffer.push_back(None),
                    body => self.buffer.extend(body.payloads().into_iter().map(Some)),
                }
            }
        }
        Ok(())
    }

    /// Publishes that `more` entries were read (for [`crate::RedisRun::stats`]).
    async fn published_read(&mut self, more: u64) -> Result<(), ProcessError> {
        if more == 0 {
            return Ok(());
        }
        self.read += more;
        let cmd = Cmd::new("HSET")
            .arg(self.ctx.keys.meta())
            .arg(&self.read_field)
            .int(self.read as i64);
        let reply = self.client.call_retrying(&cmd).await.and_then(|r| r.check("HSET"));
        reply
            .map(drop)
            .map_err(|e| ProcessError(format!("recording progress on `{}`: {e}", self.key)))
    }
}

/// The Redis sink of a stream processor's [`crate::OutputStream`]: queues payloads for the
/// processor's flusher.
pub(crate) struct RedisOutput {
    index: usize,
    queue: AsyncQueue<(usize, Rc<[u8]>)>,
    stopped: Rc<RefCell<Option<String>>>,
}

impl RedisOutput {
    pub(crate) async fn emit(&mut self, payload: Rc<[u8]>) -> Result<(), ProcessError> {
        if self.queue.put((self.index, payload)).await.is_ok() {
            return Ok(());
        }
        let why = self.stopped.borrow().clone();
        Err(ProcessError(
            why.unwrap_or_else(|| "the stream processor already returned".to_string()),
        ))
    }
}

/// Writes a stream processor's queued outputs with the `emit` script.
struct Flusher {
    ctx: RunContext,
    client: Client,
    lock: String,
    outputs: Vec<StreamName>,
    /// Payloads of each output written so far (the next one is numbered `seqs[i] + 1`).
    seqs: Vec<u64>,
    queue: AsyncQueue<(usize, Rc<[u8]>)>,
    stopped: Rc<RefCell<Option<String>>>,
}

impl Flusher {
    fn new(
        ctx: &RunContext,
        p: &Processor,
        queue: AsyncQueue<(usize, Rc<[u8]>)>,
        stopped: Rc<RefCell<Option<String>>>,
    ) -> Flusher {
        Flusher {
            ctx: ctx.clone(),
            client: ctx.client(),
            lock: ctx.keys.plock(p.name().as_str()),
            outputs: p.outputs().to_vec(),
            seqs: vec![0; p.outputs().len()],
            queue,
            stopped,
        }
    }

    async fn run(mut self) -> Result<(), Stop> {
        while let Ok(first) = self.queue.get().await {
            let mut per_output: Vec<VecDeque<Rc<[u8]>>> = vec![VecDeque::new(); self.outputs.len()];
            per_output[first.0].push_back(first.1);
            while let Ok((i, payload)) = self.queue.try_get() {
                per_output[i].push_back(payload);
            }
            if let Err(stop) = self.write(per_output).await {
                let why = match &stop {
                    Stop::Fenced => {
                        "another worker took this stream processor over (this one stalled past its lease)".to_string()
                    }
                    Stop::Failed(e) => e.to_string(),
                };
                *self.stopped.borrow_mut() = Some(why);
                self.queue.close();
                return Err(stop);
            }
        }
        Ok(())
    }

    /// Writes every queued payload, pausing while an output is at its cap.
    async fn write(&mut self, mut per_output: Vec<VecDeque<Rc<[u8]>>>) -> Result<(), Stop> {
        let mut backoff = Backoff::new(Duration::from_micros(200), Duration::from_millis(20));
        loop {
            let pending: Vec<usize> = (0..per_output.len()).filter(|i| !per_output[*i].is_empty()).collect();
            if pending.is_empty() {
                return Ok(());
            }
            let calls: Vec<_> = pending.iter().map(|i| self.call(*i, &per_output[*i])).collect();
            let replies = self
                .client
                .eval_many(&protocol::EMIT, &calls)
                .await
                .map_err(|e| Stop::Failed(e.into()))?;
            let mut full = false;
            for (i, reply) in pending.into_iter().zip(replies) {
                let accepted = reply.as_int().unwrap_or(0);
                if accepted < 0 {
                    return Err(Stop::Fenced);
                }
                per_output[i].drain(..accepted as usize);
                self.seqs[i] += accepted as u64;
                full |= !per_output[i].is_empty();
            }
            if full {
                backoff.wait().await;
            }
        }
    }

    fn call(&self, i: usize, payloads: &VecDeque<Rc<[u8]>>) -> (Vec<String>, Vec<Vec<u8>>) {
        let name = self.outputs[i].as_str();
        let keys = vec![self.ctx.keys.meta(), self.lock.clone(), self.ctx.keys.stream(name)];
        let mut args = vec![self.ctx.me.as_bytes().to_vec(), name.as_bytes().to_vec()];
        args.push((self.seqs[i] + 1).to_string().into_bytes());
        args.extend(payloads.iter().map(|p| p.to_vec()));
        (keys, args)
    }
}
