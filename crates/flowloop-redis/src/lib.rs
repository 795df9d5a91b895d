//! # flowloop-redis
//!
//! Distributed streams for flowloop: the same flow runs in-process or across worker processes
//! over Redis (or Valkey) Streams.
//!
//! ## 1. Processors and flows
//!
//! A [`Processor`] reads named input streams and writes named output streams. A [`Flow`] is
//! resolved from a set of processors by matching those names; building fails, naming the
//! culprit, on a cycle, on two producers of one stream, or on a stream that is read but never
//! written.
//!
//! ```
//! use flowloop_redis::{FlowBuilder, FlowError, Outputs, Processor, ProcessError};
//!
//! let split = Processor::flat_map("split", "lines", "words", |line: String| async move {
//!     Ok::<_, ProcessError>(line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
//! });
//! // A `wait` processor (a partition) runs once, when its inputs are complete.
//! let count = Processor::new("count").reads("words").writes("counts").wait(|inputs, _ctx| async move {
//!     let words: Vec<String> = inputs.all("words")?;
//!     let mut out = Outputs::new();
//!     out.emit("counts", &words.len())?;
//!     Ok(out)
//! });
//! let flow = FlowBuilder::new("wc").input("lines").processor(split.clone()).processor(count)
//!     .output("counts").build().unwrap();
//! assert!(flow.to_mermaid().contains("count (wait)"));
//!
//! // Without an input declaration nobody writes `lines`:
//! let err = FlowBuilder::new("wc").processor(split).output("words").build().unwrap_err();
//! assert!(matches!(err, FlowError::Unproduced { .. }));
//! ```
//!
//! ## 2. Run it in-process
//!
//! [`InProcess`] runs every processor as a task on the current loop with bounded queues.
//! Processors ask their [`Context`] for values the executor [`Provided`] (typed dependency
//! injection).
//!
//! ```
//! use flowloop_redis::{FlowBuilder, FlowInputs, InProcess, Outputs, Processor, Provided};
//!
//! struct Greeting(String);
//! let greet = Processor::new("greet").reads("names").writes("greetings").needs::<Greeting>()
//!     .each(|item, ctx| async move {
//!         let name: String = item.decode()?;
//!         let mut out = Outputs::new();
//!         out.emit("greetings", &format!("{} {name}", ctx.get::<Greeting>()?.0))?;
//!         Ok(out)
//!     });
//! let flow = FlowBuilder::new("hello").input("names").processor(greet).output("greetings")
//!     .build().unwrap();
//! let out = flowloop::run(async move {
//!     let inputs = FlowInputs::new().feed("names", &["ada", "bob"]).unwrap();
//!     let provided = Provided::new().with(Greeting("hi".into()));
//!     InProcess::new(&flow).provide(provided).run(inputs).await.unwrap()
//! }).unwrap();
//! assert_eq!(out.get::<String>("greetings").unwrap(), ["hi ada", "hi bob"]);
//! ```
//!
//! Payloads are JSON through serde: typed processors use their own types, dynamic ones use
//! [`Value`] from `flowloop-graph` (see [`Item::value`]).
//!
//! A processor can also be a plain async fn over its streams ([`Processor::stream`]: take the
//! [`InputStream`]s and [`OutputStream`]s from its [`StreamIo`], iterate, emit) or a flowloop
//! flow whose stream nodes are bound to its named streams ([`Processor::flow`] with
//! [`FlowIo`]). While a run is going, [`InProcess::stats`] (like [`RedisRun::stats`]) reads
//! each stream's lag and pending counts per consumer.
//!
//! ```
//! use flowloop_redis::{FlowBuilder, FlowInputs, InProcess, Processor};
//!
//! let total = Processor::new("total").reads("n").writes("sum").stream(|mut io, _ctx| async move {
//!     let (mut n, mut sum) = (io.input("n")?, io.output("sum")?);
//!     let mut acc = 0i64;
//!     while let Some(item) = n.next().await? {
//!         acc += item.decode::<i64>()?;
//!     }
//!     sum.emit(&acc).await
//! });
//! let flow = FlowBuilder::new("t").input("n").processor(total).output("sum").build().unwrap();
//! let out = flowloop::run(async move {
//!     InProcess::new(&flow).run(FlowInputs::new().feed("n", &[1, 2, 3]).unwrap()).await.unwrap()
//! })
//! .unwrap();
//! assert_eq!(out.get::<i64>("sum").unwrap(), [6]);
//! ```
//!
//! ## 3. Run it on Redis
//!
//! Start workers that host the flow ([`Worker`], `flowloop worker --redis URL` in the CLI),
//! then start a run with [`RedisRun::start`], feed inputs and read outputs. Delivery is
//! at-least-once, effects inside Redis are exactly-once: each worker holds a lease renewed by a
//! timer; a live worker reclaims the pending entries of a worker whose lease expired; every
//! commit is one Lua script that checks the entries are still owned, writes the outputs and
//! acknowledges. Streams are bounded (a producer waits while a consumer group has `cap`
//! entries unacknowledged); an entry that fails `max_deliveries` times (or whose workers died
//! that many times while handling it) goes to the run's dead-letter stream. `wait` and stream
//! processors run on one worker at a time under a leased lock. See [`protocol`] for the keys and
//! scripts.
//!
//! For throughput, set [`RunSettings::bundle`]: the producer then packs that many values into
//! one stream entry, and `each` processors commit the outputs of such an entry as one entry per
//! output stream, so Redis reads, acknowledges and appends once per bundle instead of once per
//! value (the `throughput` example measures both). A bundle is delivered, reclaimed and fenced
//! as a whole; a value that keeps failing still goes to the dead-letter stream alone.
//!
//! ```no_run
//! # use flowloop_redis::*;
//! # fn flow() -> Flow { unimplemented!() }
//! let config = resp::Config::from_url("redis://127.0.0.1:6379").unwrap();
//! flowloop::run(async move {
//!     let mut run = RedisRun::start(config, &flow(), RunSettings::default()).await.unwrap();
//!     run.feed_all(&FlowInputs::new().feed("lines", &["a b", "c"]).unwrap()).await.unwrap();
//!     let outputs = run.collect().await.unwrap();
//!     println!("{:?}", outputs.get::<usize>("counts"));
//! }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod bound;
pub mod catalog;
mod error;
mod flow;
mod inproc;
mod io;
mod names;
mod processor;
pub mod protocol;
mod render;
pub mod resp;
mod run;
mod stream_io;
mod worker;

pub use bound::FlowIo;
pub use error::RunError;
pub use flow::{Flow, FlowBuilder, FlowError, ProcIndex, Producer, StreamInfo};
/// The dynamic payload type shared with `flowloop-graph`: any processor can read and emit it.
pub use flowloop_graph::value::Value;
pub use inproc::InProcess;
pub use io::{DeadLetter, FlowInputs, RunOutputs};
pub use names::{ProcessorName, StreamName};
pub use processor::{Context, Inputs, Item, Outputs, ProcessError, Processor, Provided};
pub use run::{OutputReader, RedisRun, RunSettings, StreamStats};
pub use stream_io::{InputStream, OutputStream, StreamIo};
pub use worker::{ShutdownSignal, Worker, WorkerOptions, WorkerReport};
