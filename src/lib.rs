//! # flowloop
//!
//! Dataflow programs on a single-threaded, command-driven event loop.
//!
//! flowloop drives `!Send` tasks on one hand-written event loop. Every primitive operation a
//! task awaits is a small *leaf future* that hands the loop one [`Command`](runtime) value; the
//! loop carries it out and resumes the task. On top of the loop, [`flow`] runs dataflow graphs
//! whose nodes are plain `async fn`s. This tutorial walks from tasks to flows.
//!
//! ## 1. Run a future, spawn tasks
//!
//! [`run`] creates an [`EventLoop`] and drives a root future to completion. Inside it,
//! [`spawn`] starts a child task — the child runs before the spawner resumes — and
//! [`TaskHandle::join`] waits for its value.
//!
//! ```
//! use flowloop::{run, spawn};
//!
//! let answer = run(async {
//!     let child = spawn(async { 6 * 7 }).await;
//!     child.join().await.unwrap()
//! })
//! .unwrap();
//! assert_eq!(answer, 42);
//! ```
//!
//! ## 2. Commands: sleeping, cancelling, timeouts
//!
//! `sleep` issues a `Sleep` command; `cancel` issues a `Cancel` command, which drops the
//! target's future and so releases its timer at once. A panic in a task becomes that task's
//! error; the loop carries on.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use flowloop::{TaskError, run, sleep, spawn, timeout};
//!
//! run(async {
//!     let start = Instant::now();
//!     let sleeper = spawn(sleep(Duration::from_secs(10))).await;
//!     sleeper.cancel().await;
//!     assert_eq!(sleeper.join().await, Err(TaskError::Cancelled));
//!
//!     let panicky = spawn(async { panic!("boom") }).await;
//!     assert_eq!(panicky.join().await, Err::<(), _>(TaskError::Panicked("boom".into())));
//!
//!     assert!(timeout(Duration::from_millis(2), sleep(Duration::from_secs(5))).await.is_err());
//!     assert!(start.elapsed() < Duration::from_secs(5));
//! })
//! .unwrap();
//! ```
//!
//! ## 3. Queues and async iteration
//!
//! [`sync::AsyncQueue`] is bounded or unbounded; `put` waits while it is full, `get` while it is
//! empty, and `close` ends iteration once the queue is drained. [`sync::azip`] walks several
//! async iterators in lockstep.
//!
//! ```
//! use flowloop::sync::{AsyncIterator, AsyncQueue, azip};
//!
//! flowloop::run(async {
//!     let (names, ages) = (AsyncQueue::bounded(2), AsyncQueue::new());
//!     let feeder = {
//!         let names = names.clone();
//!         flowloop::spawn(async move {
//!             for n in ["ada", "bob", "cy"] {
//!                 names.put(n).await.unwrap();
//!             }
//!             names.close();
//!         })
//!         .await
//!     };
//!     for a in [36, 41] {
//!         ages.put(a).await.unwrap();
//!     }
//!     ages.close();
//!     let pairs = azip((names.clone(), ages.clone())).collect_vec().await;
//!     assert_eq!(pairs, [("ada", 36), ("bob", 41)]);
//!     feeder.cancel().await;
//! })
//! .unwrap();
//! ```
//!
//! ## 4. Blocking work and other threads
//!
//! [`offload`] runs a blocking closure on a small thread pool and resumes the task with its
//! value; a [`LoopHandle`] lets other threads spawn `Send` futures into the loop.
//!
//! ```
//! let n = flowloop::run(async { flowloop::offload(|| 2u64.pow(20)).await.unwrap() }).unwrap();
//! assert_eq!(n, 1 << 20);
//! ```
//!
//! ## 5. Sockets
//!
//! [`net::TcpListener`] and [`net::TcpStream`] wait through the loop's `Accept`, `Recv`, `Send`
//! and `Connect` commands: a socket operation tries the system call first and only parks the task
//! when the socket is not ready. [`net::TlsAcceptor`] and [`net::TlsConnector`] wrap a TCP
//! stream in rustls with the same API.
//!
//! ```
//! use std::net::Shutdown;
//! use flowloop::net::{TcpListener, TcpStream};
//! use flowloop::spawn;
//!
//! flowloop::run(async {
//!     let mut listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = spawn(async move {
//!         let (mut conn, _peer) = listener.accept().await.unwrap();
//!         let mut buf = [0u8; 64];
//!         let n = conn.recv(&mut buf).await.unwrap();
//!         conn.send_all(&buf[..n]).await.unwrap(); // echo
//!     })
//!     .await;
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.send_all(b"ping").await.unwrap();
//!     client.shutdown(Shutdown::Write).unwrap();
//!     let mut reply = [0u8; 4];
//!     let mut got = 0;
//!     while got < 4 {
//!         got += client.recv(&mut reply[got..]).await.unwrap();
//!     }
//!     assert_eq!(&reply, b"ping");
//!     server.join().await.unwrap();
//! })
//! .unwrap();
//! ```
//!
//! ## 6. A flow with a cycle
//!
//! A node is an `async fn`; [`flow::FlowBuilder::node`] wires its parameters to constants,
//! other nodes' outputs, or forward references, and the compiler checks every edge's type. A
//! cycle is written with a forward reference and broken by a default value; a generation limit
//! stops it.
//!
//! ```
//! use flowloop::flow::{FlowBuilder, Generation, Outcome, RunOptions};
//!
//! async fn inc(x: i64) -> i64 { x + 1 }
//!
//! let mut b = FlowBuilder::new();
//! let back = b.forward::<i64>("counter");
//! let counter = b.node(inc, (back.or(0),)); // counter = inc(counter), starting from 0
//! b.define(back, counter);
//! let mut flow = b.build().unwrap();
//! let outcome = flow.run_until_complete(RunOptions::new().limit(counter, (2,))).unwrap();
//! assert!(matches!(outcome, Outcome::LimitReached { .. }));
//! assert_eq!(flow.value(counter), Some(3));
//! assert_eq!(flow.generation(counter), Some(Generation::finished(2)));
//! ```
//!
//! ## 7. Streams
//!
//! A streaming node gets an [`flow::Emitter`]; each `emit` waits until every stream consumer has
//! taken the chunk. A consumer takes `producer.stream()` and iterates it lazily; a plain consumer
//! of the same producer gets only its final value.
//!
//! ```
//! use flowloop::flow::{Emitter, FlowBuilder, RunOptions, Stream};
//!
//! async fn words(out: Emitter<String>) -> String {
//!     for w in ["hello", "world"] {
//!         out.emit(w.to_string()).await.ok();
//!     }
//!     "helloworld".to_string()
//! }
//! async fn count(mut s: Stream<String>) -> usize {
//!     let mut n = 0;
//!     while s.next().await.is_some() { n += 1; }
//!     n
//! }
//! async fn upper(s: String) -> String { s.to_uppercase() }
//!
//! let mut b = FlowBuilder::new();
//! let w = b.stream(words, ());
//! let n = b.node(count, (w.stream(),));
//! let u = b.node(upper, (w,));
//! let mut flow = b.build().unwrap();
//! flow.run_until_complete(RunOptions::new()).unwrap();
//! assert_eq!(flow.value(n), Some(2));
//! assert_eq!(flow.value(u).as_deref(), Some("HELLOWORLD"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]

pub mod flow;
pub mod net;
pub mod runtime;
pub mod sync;

pub use runtime::{
    Builder, DropPolicy, Elapsed, EventLoop, LoopHandle, RunError, TaskError, TaskHandle, TaskId, current_task, exit,
    offload, run, sleep, sleep_until, spawn, timeout, yield_now,
};

/// The names most programs need, for `use flowloop::prelude::*`.
pub mod prelude {
    pub use crate::flow::{Emitter, Flow, FlowBuilder, Outcome, RunOptions, Stream};
    pub use crate::runtime::{EventLoop, TaskError, TaskHandle, offload, run, sleep, spawn, timeout, yield_now};
    pub use crate::sync::{AsyncIterator, AsyncQueue, azip};
}

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
struct ReadmeDoctests;
