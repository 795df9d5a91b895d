//! The thread-local link from leaf futures to the running loop.
//!
//! While [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete) runs, the
//! thread-local points at the loop's [`Shared`] state. Leaf futures use it to take tickets,
//! write their command into the per-step slot, and read completions. The loop never holds a
//! borrow of its core while a task is polled, so these short borrows cannot conflict.

use std::cell::RefCell;
use std::rc::Rc;

use super::command::{Command, CommandKind};
use super::core::{Core, Shared};
use super::error::TaskId;
use super::wait::{Completion, Ticket};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

const OUTSIDE: &str = "flowloop primitive used outside a running EventLoop \
                       (await it inside a task of EventLoop::run_until_complete)";

/// Runs `f` with the current loop.
///
/// # Panics
/// Outside a running loop: using a flowloop primitive there is a programming error.
pub(crate) fn with<R>(f: impl FnOnce(&Shared) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref().expect(OUTSIDE)))
}

/// Runs `f` with the current loop, if there is one (used by `Drop` impls and wakers).
pub(crate) fn try_with<R>(f: impl FnOnce(&Shared) -> R) -> Option<R> {
    CURRENT.try_with(|c| c.borrow().as_ref().map(|s| f(s))).ok().flatten()
}

/// Runs `f` with the core of the current loop.
pub(crate) fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    with(|s| f(&mut s.core.borrow_mut()))
}

/// Like [`with_core`], but a no-op outside a loop (for `Drop` impls).
pub(crate) fn try_with_core<R>(f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    try_with(|s| s.core.try_borrow_mut().ok().map(|mut c| f(&mut c))).flatten()
}

/// The running loop's shared state, if any (sockets keep a weak link to their loop so that
/// dropping one deregisters it even outside `run_until_complete`).
pub(crate) fn shared() -> Option<Rc<Shared>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Whether a loop is running on this thread.
pub(crate) fn is_set() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Whether this thread's loop link is still usable (false only while the thread's locals are
/// being destroyed, once it is gone): an `EventLoop` dropped then cannot enter its context.
pub(crate) fn is_alive() -> bool {
    CURRENT.try_with(|_| ()).is_ok()
}

/// Installs `shared` as this thread's loop until the guard drops.
pub(crate) fn enter(shared: Rc<Shared>) -> EnterGuard {
    CURRENT.with(|c| *c.borrow_mut() = Some(shared));
    EnterGuard(())
}

pub(crate) struct EnterGuard(());

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.borrow_mut().take());
    }
}

/// The task being polled.
pub(crate) fn current_task() -> TaskId {
    with_core(|c| c.current().expect("no task is being polled"))
}

/// Takes a ticket for the current task and writes the command built from it into the
/// per-step slot.
pub(crate) fn issue(kind: CommandKind, make: impl FnOnce(Ticket) -> Command) -> Ticket {
    with(|s| {
        let (task, ticket) = {
            let mut core = s.core.borrow_mut();
            let task = core.current().expect("no task is being polled").key;
            (task, core.new_wait(task, kind))
        };
        s.commands.borrow_mut().push((task, make(ticket)));
        ticket
    })
}

/// Writes a command that needs no ticket (yield, exit) into the per-step slot.
pub(crate) fn issue_plain(cmd: Command) {
    with(|s| {
        let task = s.core.borrow().current().expect("no task is being polled").key;
        s.commands.borrow_mut().push((task, cmd));
    })
}

/// Makes the running task go to the back of the ready queue (`Command::Yield`); the caller
/// returns `Pending` and is polled again once every task ready before it has run.
pub(crate) fn yield_task() {
    issue_plain(Command::Yield);
}

/// Takes a ticket whose completion a primitive will deliver (`Command::Park`).
pub(crate) fn park() -> Ticket {
    issue(CommandKind::Park, |_| Command::Park)
}

/// Takes the completion if the command has completed (and frees the ticket).
pub(crate) fn take(t: Ticket) -> Option<Completion> {
    with_core(|c| c.take_completion(t))
}

/// Completes a parked ticket and wakes its task; `false` if the ticket was stale or done.
pub(crate) fn complete(t: Ticket) -> bool {
    with_core(|c| c.complete(t, Completion::Done))
}

/// Frees a ticket from a `Drop` impl; returns whether it had completed without being taken.
pub(crate) fn release(t: Ticket) -> bool {
    try_with_core(|c| c.release(t)).unwrap_or(false)
}
