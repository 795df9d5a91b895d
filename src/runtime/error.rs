//! Errors of the loop layer.

use std::fmt;

/// Why a task did not produce its value.
///
/// Returned by [`TaskHandle::join`](crate::runtime::TaskHandle::join) and by
/// [`offload`](crate::runtime::offload).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task was cancelled before it finished; its future was dropped.
    #[error("task was cancelled before it finished")]
    Cancelled,
    /// The task (or the offloaded closure) panicked; the payload message is kept.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// [`offload`](crate::runtime::offload) found no worker thread running and could not start
    /// one (the OS error is kept); the closure was dropped without running.
    #[error(
        "offload: no worker thread could be started ({0}); the process may be at its thread limit,          or the offload stack size is too large"
    )]
    NoOffloadThread(String),
}

/// Why [`EventLoop::run_until_complete`](crate::runtime::EventLoop::run_until_complete)
/// could not return the root future's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The root task failed (panicked or was cancelled).
    #[error("root task failed: {0}")]
    Root(#[from] TaskError),
    /// Every task is waiting, yet nothing (timer, socket, offload job, loop handle, waker) can
    /// ever wake one of them: the program would hang forever.
    #[error(
        "stalled: {waiting} task(s) wait for something that can never happen (no timer, socket, \
         offloaded job or outside handle is left to wake them)"
    )]
    Stalled {
        /// How many tasks were still waiting.
        waiting: usize,
    },
    /// [`exit`](crate::runtime::exit) was called with a value whose type is not the root
    /// future's output type.
    #[error("exit() was called with a {found} value, but the root future returns {expected}")]
    ExitTypeMismatch {
        /// Type name of the root future's output.
        expected: &'static str,
        /// What was passed to `exit`, if known.
        found: &'static str,
    },
    /// `run_until_complete` was called from inside a task of a running loop on this thread.
    #[error("an EventLoop is already running on this thread; nested run_until_complete is not allowed")]
    Nested,
    /// The operating system's event queue failed.
    #[error("event loop I/O failure: {0}")]
    Io(#[from] std::io::Error),
}

/// Returned by [`timeout`](crate::runtime::timeout) when the deadline passed first.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline elapsed before the operation finished")]
pub struct Elapsed(pub(crate) ());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Identifier of a task: a slab key plus a generation, so a stale id never names a newer task.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    pub(crate) key: u32,
    pub(crate) generation: u32,
}

impl TaskId {
    /// The slab slot this id refers to (reused by later tasks).
    pub fn slot(&self) -> u32 {
        self.key
    }
    /// The generation that distinguishes this task from other users of the same slot.
    pub fn generation(&self) -> u32 {
        self.generation
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task#{}.{}", self.key, self.generation)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
