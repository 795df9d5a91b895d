//! # flowloop
//!
//! Dataflow programs on a single-threaded, command-driven event loop.
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]

pub mod net;
pub mod runtime;
pub mod sync;

pub use runtime::{
    Builder, DropPolicy, Elapsed, EventLoop, LoopHandle, RunError, TaskError, TaskHandle, TaskId, current_task, exit,
    offload, run, sleep, sleep_until, spawn, timeout, yield_now,
};
