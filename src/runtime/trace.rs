//! `tracing` integration (feature `tracing`).

use std::time::Duration;

use super::command::CommandKind;
use super::error::{TaskError, TaskId};
use super::instrument::{Instrument, SocketEvent};

/// The environment variable that filters flowloop's `tracing` output (same syntax as
/// `RUST_LOG`, e.g. `FLOWLOOP_LOG=flowloop=debug`).
pub const LOG_ENV: &str = "FLOWLOOP_LOG";

/// An [`Instrument`] that turns every loop event into a `tracing` event with target
/// `flowloop`: task lifecycle at `debug`, commands and polls at `trace`, failures and slow polls
/// at `warn`.
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
    fn slow_poll(&mut self, task: TaskId, elapsed: Duration) {
        tracing::warn!(target: "flowloop", %task, elapsed_us = elapsed.as_micros() as u64, "slow poll");
    }
    fn socket_event(&mut self, event: SocketEvent<'_>) {
        tracing::debug!(target: "flowloop", ?event, "socket event");
    }
}

/// Installs a `tracing-subscriber` formatter that prints to stderr, filtered by the
/// [`FLOWLOOP_LOG`](LOG_ENV) environment variable (nothing is printed when it is unset).
/// Does nothing if a global subscriber is already installed.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
