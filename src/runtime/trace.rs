//! `tracing` integration (feature `tracing`).

use std::time::Duration;

use super::command::CommandKind;
use super::error::{TaskError, TaskId};
use super::instrument::{Instrument, SocketEvent};

/// The environment variable that filters flowloop's `tracing` output (same syntax as
/// `RUST_LOG`, e.g. `FLOWLOOP_LOG=flowloop=debug`).
pub const LOG_ENV: &str = "FLOWLOOP_LOG";

/// An [`Instrument`] that turns every loop event into a `tracing` event with target
/// `flowloop`: task lifecycle at `debug`, commands and polls at `trace`, failures at `warn`.
/// Slow polls and flow events (target `flowloop::flow`) are emitted directly, with or without
/// this instrument. A loop built while `FLOWLOOP_LOG` is set and without an instrument of its
/// own gets this one automatically.
///
/// # Examples
/// ```
/// flowloop::runtime::init_tracing();
/// let mut lp = flowloop::EventLoop::builder()
///     .instrument(flowloop::runtime::TracingInstrument)
///     .build()
///     .unwrap();
/// lp.run_until_complete(async {}).unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingInstrument;

impl Instrument for TracingInstrument {
    fn task_spawned(&mut self, task: TaskId) {
        tracing::debug!(target: "flowloop", %task, "task spawned");
    }
    fn task_polled(&mut self, task: TaskId, elapsed: Option<Duration>) {
        tracing::trace!(target: "flowloop", %task, elapsed_ns = elapsed.map(|e| e.as_nanos() as u64), "task polled");
    }
    fn task_completed(&mut self, task: TaskId) {
        tracing::debug!(target: "flowloop", %task, "task completed");
    }
    fn task_failed(&mut self, task: TaskId, error: &TaskError) {
        tracing::warn!(target: "flowloop", %task, %error, "task failed");
    }
    fn task_cancelled(&mut self, task: TaskId) {
        tracing::debug!(target: "flowloop", %task, "task cancelled");
    }
    fn command_issued(&mut self, task: TaskId, kind: CommandKind) {
        tracing::trace!(target: "flowloop", %task, ?kind, "command issued");
    }
    fn command_completed(&mut self, task: TaskId, kind: CommandKind) {
        tracing::trace!(target: "flowloop", %task, ?kind, "command completed");
    }
    /// The loop itself emits the `slow poll` warning (naming the flow node that was polled, if
    /// any), so this does nothing: one warning per slow poll.
    fn slow_poll(&mut self, _task: TaskId, _elapsed: Duration) {}
    fn socket_event(&mut self, event: SocketEvent<'_>) {
        tracing::debug!(target: "flowloop", ?event, "socket event");
    }
}

/// Installs a `tracing-subscriber` formatter that prints to stderr, filtered by the
/// [`FLOWLOOP_LOG`](LOG_ENV) environment variable (nothing is printed when it is unset).
/// Does nothing if a global subscriber is already installed.
///
/// Calling it is optional: with the `tracing` feature on, creating an [`EventLoop`] (which
/// every [`Flow::run_until_complete`](crate::flow::Flow::run_until_complete) does) installs
/// the same subscriber by itself when `FLOWLOOP_LOG` is set and no global subscriber exists.
///
/// [`EventLoop`]: crate::EventLoop
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    install(filter);
}

fn install(filter: tracing_subscriber::EnvFilter) {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Whether `FLOWLOOP_LOG` asks for output.
fn env_wants_logs() -> bool {
    std::env::var_os(LOG_ENV).is_some_and(|v| !v.is_empty())
}

/// Called whenever a loop is built: with `FLOWLOOP_LOG` set and no global subscriber yet,
/// installs the stderr formatter (once per process) and returns `true`, so that the loop also
/// reports its own events through [`TracingInstrument`]. The variable alone is enough to see
/// output; a program that installs its own subscriber keeps it.
pub(crate) fn init_from_env() -> bool {
    static INIT: std::sync::Once = std::sync::Once::new();
    if !env_wants_logs() {
        return false;
    }
    INIT.call_once(|| {
        if !tracing::dispatcher::has_been_set() {
            if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV) {
                install(filter);
            }
        }
    });
    true
}
