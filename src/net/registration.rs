//! A socket registered with the loop's driver, and the generic leaf-future step that every
//! socket operation uses.

use std::io;
use std::rc::{Rc, Weak};
use std::task::Poll;

use crate::runtime::SocketEvent;
use crate::runtime::command::{Command, CommandKind};
use crate::runtime::context;
use crate::runtime::core::Shared;
use crate::runtime::driver::net::{Step, SysSocket};
use crate::runtime::driver::{Direction, IoKey, Readiness};
use crate::runtime::wait::Ticket;

/// Which loop command a blocked operation hands the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// Accepting on a listener: `Command::Accept`.
    Accept,
    /// Reading or writing a connected stream: `Command::Recv` / `Command::Send`.
    Stream,
    /// Waiting for a connect to finish: `Command::Connect`.
    Connect,
}

/// What the first operation on a newly registered socket does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstUse {
    /// Try the syscall at once (an accepted stream or a listener: their state is unknown, and
    /// data may already be waiting).
    TrySyscall,
    /// Wait for the OS to report readiness (a connect in progress).
    WaitForEvent,
}

fn command(kind: OpKind, dir: Direction, io: IoKey, wait: Ticket) -> Command {
    match (kind, dir) {
        (OpKind::Accept, _) => Command::Accept { io, wait },
        (OpKind::Connect, _) => Command::Connect { io, wait },
        (OpKind::Stream, Direction::Read) => Command::Recv { io, wait },
        (OpKind::Stream, Direction::Write) => Command::Send { io, wait },
    }
}

fn command_kind(kind: OpKind, dir: Direction) -> CommandKind {
    match (kind, dir) {
        (OpKind::Accept, _) => CommandKind::Accept,
        (OpKind::Connect, _) => CommandKind::Connect,
        (OpKind::Stream, Direction::Read) => CommandKind::Recv,
        (OpKind::Stream, Direction::Write) => CommandKind::Send,
    }
}

fn outside_loop() -> io::Error {
    io::Error::other("flowloop socket created outside a running EventLoop (create it inside a task)")
}

/// An OS socket plus its registration in the driver of the loop that created it. Dropping it
/// deregisters the socket (completing any ticket still parked on it) and closes it.
pub(crate) struct Registered<S: SysSocket> {
    pub(crate) sys: S,
    io: IoKey,
    loop_id: u64,
    home: Weak<Shared>,
    instrumented: bool,
}

impl<S: SysSocket> std::fmt::Debug for Registered<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("loop_id", &self.loop_id)
            .finish_non_exhaustive()
    }
}

impl<S: SysSocket> Registered<S> {
    /// Registers `sys` with the running loop; `first` says whether its first operation in each
    /// direction tries the syscall or waits for an event.
    pub(crate) fn new(mut sys: S, first: FirstUse) -> io::Result<Registered<S>> {
        let shared = context::shared().ok_or_else(outside_loop)?;
        let mut core = shared.core.try_borrow_mut().map_err(|_| outside_loop())?;
        let io = sys.register(&mut core.driver)?;
        if first == FirstUse::TrySyscall {
            core.driver.assume_ready(io);
        }
        let instrumented = core.instrument.is_some();
        drop(core);
        Ok(Registered {
            sys,
            io,
            loop_id: shared.loop_id,
            home: Rc::downgrade(&shared),
            instrumented,
        })
    }

    /// Reports a socket event to the loop's instrument, if one is installed.
    pub(crate) fn emit(&self, event: SocketEvent<'_>) {
        if self.instrumented {
            context::try_with_core(|c| {
                if let Some(i) = c.instrument.as_mut() {
                    i.socket_event(event);
                }
            });
        }
    }

    fn readiness(&self) -> io::Result<Readiness> {
        context::with(|s| {
            if s.loop_id != self.loop_id {
                return Err(io::Error::other(
                    "flowloop socket used in an event loop other than the one that created it",
                ));
            }
            s.core
                .borrow()
                .driver
                .readiness(self.io)
                .ok_or_else(|| io::Error::other("flowloop socket is closed"))
        })
    }

    /// One poll of a socket operation. If `wait` holds a ticket that has not completed, stays
    /// pending. Otherwise runs `op` with the known readiness, writes back the directions it
    /// drained, and on [`Step::Blocked`] issues the matching command and stays pending.
    ///
    /// Takes `&self`: the two halves of a split stream run operations on one registration, a
    /// reader in the read direction and a writer in the write direction.
    pub(crate) fn poll_op<R>(
        &self,
        wait: &mut IoWait,
        kind: OpKind,
        mut op: impl FnMut(&S, &mut Readiness) -> io::Result<Step<R>>,
    ) -> Poll<io::Result<R>> {
        if let Some((t, _)) = wait.pending {
            if context::take(t).is_none() {
                return Poll::Pending;
            }
            wait.pending = None;
        }
        let mut result = self.attempt(&mut op);
        if let Ok((Step::Blocked(dir), Some(still))) = result {
            if still.allows(dir) {
                // The OS already reported this direction closed (for example the FIN came with
                // the data the op just read): no edge will follow, so one more attempt sees the
                // end of stream or the error.
                result = self.attempt(&mut op);
            }
        }
        match result {
            Ok((Step::Ready(r), _)) => Poll::Ready(Ok(r)),
            Err(e) => Poll::Ready(Err(e)),
            Ok((Step::Blocked(dir), still)) => {
                if still.is_some_and(|r| r.allows(dir)) {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "socket was closed by the OS before the operation could complete",
                    )));
                }
                let io = self.io;
                let t = context::issue(command_kind(kind, dir), |w| command(kind, dir, io, w));
                wait.pending = Some((t, dir));
                Poll::Pending
            }
        }
    }

    /// Runs `op` once with the known readiness and writes back what it drained.
    // Inlined: this is the per-message path of every socket operation. Returns the
    /// step and the readiness left afterwards (`None` if the socket is gone).
    #[inline(always)]
    fn attempt<R>(
        &self,
        op: &mut impl FnMut(&S, &mut Readiness) -> io::Result<Step<R>>,
    ) -> io::Result<(Step<R>, Option<Readiness>)> {
        let before = self.readiness()?;
        let mut ready = before;
        let step = op(&self.sys, &mut ready);
        if let Ok(Step::Blocked(dir)) = step {
            // The op reports blocked only after seeing (or knowing) the direction drained.
            ready.clear(dir);
        }
        let still = match ready == before {
            true => Some(ready),
            false => context::with_core(|c| {
                for dir in [Direction::Read, Direction::Write] {
                    if before.allows(dir) && !ready.allows(dir) {
                        c.driver.clear_ready(self.io, dir);
                    }
                }
                c.driver.readiness(self.io)
            }),
        };
        step.map(|step| (step, still))
    }

    /// The driver key of this socket.
    #[cfg(test)]
    pub(crate) fn io(&self) -> IoKey {
        self.io
    }

    /// A wait slot for one operation on this socket.
    pub(crate) fn waiter(&self) -> IoWait {
        IoWait {
            io: self.io,
            pending: None,
        }
    }
}

impl<S: SysSocket> Drop for Registered<S> {
    fn drop(&mut self) {
        let Some(shared) = self.home.upgrade() else { return };
        let Ok(mut core) = shared.core.try_borrow_mut() else {
            return;
        };
        let core = &mut *core;
        for t in self.sys.deregister(&mut core.driver, self.io) {
            core.complete(t, crate::runtime::wait::Completion::Done);
        }
        if self.instrumented {
            if let Some(i) = core.instrument.as_mut() {
                i.socket_event(SocketEvent::Closed);
            }
        }
    }
}

/// The ticket of one pending socket operation. Dropping it (the operation's future was
/// dropped, e.g. its task was cancelled) frees the ticket and removes it from the socket's
/// registration at once.
#[derive(Debug)]
pub(crate) struct IoWait {
    io: IoKey,
    pending: Option<(Ticket, Direction)>,
}

impl Drop for IoWait {
    fn drop(&mut self) {
        if let Some((t, dir)) = self.pending.take() {
            context::release(t);
            context::try_with_core(|c| c.driver.forget_waiter(self.io, dir, t));
        }
    }
}
