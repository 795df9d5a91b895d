//! The `Command` enum: the one way a task asks the loop for anything.

use std::any::Any;
use std::time::Instant;

use super::driver::IoKey;
use super::error::TaskId;
use super::wait::Ticket;

/// A blocking closure shipped to the offload pool; returns its value boxed.
pub(crate) type Job = Box<dyn FnOnce() -> Box<dyn Any + Send> + Send>;

/// A request from a task to the loop.
///
/// A leaf future (the futures behind [`sleep`](super::sleep), [`spawn`](super::spawn),
/// [`TaskHandle::join`](super::TaskHandle::join), queue waits, socket operations, ...) writes one
/// `Command` into the loop's per-step slot and returns `Pending`. After the poll the loop takes
/// the command and carries it out; when the command completes, the loop stores a completion
/// under the command's ticket and re-queues the task. The task never touches loop state
/// directly beyond that slot and its tickets.
pub(crate) enum Command {
    /// Put the task at the back of the ready queue. Owns nothing; completes at once (the task
    /// is simply polled again after every task that was ready before it). Cancellation: nothing
    /// to release.
    Yield,
    /// Wake the task at `deadline`. Owns a timer-wheel entry; completes when the deadline has
    /// passed (never early; resolution is the OS poll's 1 ms). A deadline of `None` (or one
    /// more than `u64::MAX` ns away) never comes: no wheel entry, and the wait does not count
    /// as a live timer for the stall check. Cancellation: the wheel entry is removed at once.
    Sleep { deadline: Option<Instant>, wait: Ticket },
    /// Start a new task. The leaf future has already placed the child's future in the task slab
    /// (so it knows the child's id without a round trip); the loop queues the child and then
    /// re-queues the parent behind it, so the child runs first. Owns nothing; completes at once.
    /// Cancellation of the parent afterwards does not affect the child; if the leaf future is
    /// dropped before returning the handle, the child runs detached.
    Spawn { child: TaskId },
    /// Wait for `target` to finish. Owns nothing; completes when the target finishes, fails or
    /// is cancelled (at once if it already has). Cancellation: the target's joiner slot is
    /// cleared; the target keeps running.
    Join { target: TaskId, wait: Ticket },
    /// Cancel `target`: drop its future (which releases every wait, timer and registration it
    /// held), mark it cancelled and wake its joiner. Completes at once. A task cancelling
    /// itself is dropped after its current poll returns.
    Cancel { target: TaskId, wait: Ticket },
    /// Suspend until a primitive (queue, event, lock, latch, ...) completes the ticket taken
    /// with this command. The primitive keeps the ticket in its own waiter list; the loop owns
    /// nothing (the ticket may already be completed or released when the loop sees this). Cancellation:
    /// the leaf future's drop removes the ticket from the primitive's list (and passes on a
    /// wake it had received but not used).
    Park,
    /// Run a blocking closure on the offload pool. Owns the closure until a worker takes it;
    /// completes when the closure returns or panics (the result travels back over a channel and
    /// wakes the loop). Cancellation: the closure is **not** aborted; its result is discarded.
    Offload { job: Job, wait: Ticket },
    /// Stop `run_until_complete` now and return `value` as the root's result. Owns the value;
    /// never completes (the loop stops). The issuing task can never resume, so it is dropped
    /// (reported as cancelled); other tasks stay in the loop, unpolled.
    Exit { value: Box<dyn Any> },
    /// Wait until a listening socket may have a connection to accept. Owns nothing; completes on
    /// the next readable event (at once if readiness is already known). Cancellation: the
    /// registration's read waiter is cleared; the socket stays registered.
    Accept { io: IoKey, wait: Ticket },
    /// Wait until a stream socket may be read (data, EOF or error). Same ownership, completion
    /// and cancellation as `Accept`.
    Recv { io: IoKey, wait: Ticket },
    /// Wait until a stream socket may be written. Owns nothing; completes on the next writable
    /// event. Cancellation: the registration's write waiter is cleared.
    Send { io: IoKey, wait: Ticket },
    /// Wait until a non-blocking connect has finished (writable event). Same ownership,
    /// completion and cancellation as `Send`; the leaf future then reads the socket error.
    Connect { io: IoKey, wait: Ticket },
}

/// The kind of a `Command` (a request from a task to the loop), as reported to instruments and counted in
/// [`LoopStats`](super::LoopStats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandKind {
    /// `sleep(ZERO)` / `yield_now()`.
    Yield,
    /// A timer.
    Sleep,
    /// Spawning a task.
    Spawn,
    /// Waiting for a task to finish.
    Join,
    /// Cancelling a task.
    Cancel,
    /// Waiting on a queue or synchronisation primitive.
    Park,
    /// Running a closure on the offload pool.
    Offload,
    /// Stopping the loop early with a value.
    Exit,
    /// Waiting for a connection on a listener.
    Accept,
    /// Waiting for a socket to become readable.
    Recv,
    /// Waiting for a socket to become writable.
    Send,
    /// Waiting for an outgoing connection to finish.
    Connect,
}

impl CommandKind {
    /// Number of kinds (the length of [`LoopStats::commands`](super::LoopStats::commands)).
    pub const COUNT: usize = 12;

    /// Every kind, in the order used by [`LoopStats::commands`](super::LoopStats::commands).
    pub const ALL: [CommandKind; Self::COUNT] = [
        CommandKind::Yield,
        CommandKind::Sleep,
        CommandKind::Spawn,
        CommandKind::Join,
        CommandKind::Cancel,
        CommandKind::Park,
        CommandKind::Offload,
        CommandKind::Exit,
        CommandKind::Accept,
        CommandKind::Recv,
        CommandKind::Send,
        CommandKind::Connect,
    ];

    /// Position of this kind in [`CommandKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Command {
    pub(crate) fn kind(&self) -> CommandKind {
        match self {
            Command::Yield => CommandKind::Yield,
            Command::Sleep { .. } => CommandKind::Sleep,
            Command::Spawn { .. } => CommandKind::Spawn,
            Command::Join { .. } => CommandKind::Join,
            Command::Cancel { .. } => CommandKind::Cancel,
            Command::Park => CommandKind::Park,
            Command::Offload { .. } => CommandKind::Offload,
            Command::Exit { .. } => CommandKind::Exit,
            Command::Accept { .. } => CommandKind::Accept,
            Command::Recv { .. } => CommandKind::Recv,
            Command::Send { .. } => CommandKind::Send,
            Command::Connect { .. } => CommandKind::Connect,
        }
    }
}
