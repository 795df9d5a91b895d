//! The event loop: tasks, commands, timers, cancellation, offloading, instrumentation.
//!
//! See [`EventLoop`] for the run loop and the [crate docs](crate) for a tutorial.

mod blocking;
pub(crate) mod command;
pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod driver;
mod error;
mod event_loop;
mod handle;
mod instrument;
mod ops;
pub(crate) mod poll_label;
mod remote;
pub(crate) mod task;
mod time;
mod timer;
#[cfg(feature = "tracing")]
mod trace;
pub(crate) mod wait;

pub use command::CommandKind;
pub(crate) use error::panic_message;
pub use error::{Elapsed, RunError, TaskError, TaskId};
pub use event_loop::{Builder, EventLoop};
pub use handle::{Cancel, DropPolicy, Join, Spawn, TaskHandle, TaskStatus, current_task, spawn, task_status};
pub use instrument::{FlowNode, Instrument, LoopStats, SocketEvent, TaskStats};
pub use ops::{Exit, Offload, exit, offload};
pub use remote::{LoopHandle, RemoteTask};
pub use time::{Sleep, sleep, sleep_until, timeout, yield_now};
#[cfg(feature = "tracing")]
pub use trace::{LOG_ENV, TracingInstrument, init_tracing};

/// Runs `future` to completion on a new [`EventLoop`] with default settings.
///
/// # Errors
/// See [`EventLoop::run_until_complete`]; also fails if the OS event queue cannot be created.
///
/// # Examples
/// ```
/// assert_eq!(flowloop::run(async { 1 + 1 }).unwrap(), 2);
/// ```
pub fn run<F: std::future::Future + 'static>(future: F) -> Result<F::Output, RunError> {
    EventLoop::new()?.run_until_complete(future)
}
