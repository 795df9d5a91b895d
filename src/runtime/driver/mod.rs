//! The driver: the only module that talks to mio (and, in `net`, socket2 and rustls).
//!
//! It owns the `mio::Poll`, the cross-thread `mio::Waker`, and a table of socket
//! registrations. Each registration remembers the readiness last reported by the OS and at most
//! one waiting reader and one waiting writer (as wait tickets). Sockets are registered once,
//! for both directions, edge-triggered. Readiness is a hint: a leaf future always attempts the
//! syscall, and only on `WouldBlock` (or a short read) clears the readiness and parks.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use super::wait::Ticket;

pub(crate) mod net;
pub(crate) mod tls;

pub(crate) use net::Readiness;

const WAKER_TOKEN: Token = Token(usize::MAX);

/// Names one socket registration; the generation makes stale keys and stale OS events harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IoKey {
    key: u32,
    generation: u32,
}

impl IoKey {
    fn token(self) -> Token {
        Token(((self.generation as usize) << 32) | self.key as usize)
    }

    fn from_token(t: Token) -> IoKey {
        IoKey {
            key: (t.0 & 0xffff_ffff) as u32,
            generation: (t.0 >> 32) as u32,
        }
    }
}

/// Which direction a socket waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

#[derive(Default)]
struct Registration {
    generation: u32,
    readable: bool,
    writable: bool,
    /// The peer closed its write side (or the socket failed): reads return EOF or the error
    /// from now on, so read readiness is never cleared again (no further edge would come).
    read_closed: bool,
    /// Writes fail from now on (peer gone or socket error); write readiness stays set.
    write_closed: bool,
    read_waiter: Option<Ticket>,
    write_waiter: Option<Ticket>,
}

/// Interrupts the loop's blocking OS poll from any thread. The only way to the `mio::Waker`
/// outside the driver.
#[derive(Clone)]
pub(crate) struct LoopWaker(Arc<mio::Waker>);

impl LoopWaker {
    /// Wakes the OS poll (harmless if the loop is busy or gone).
    pub(crate) fn wake(&self) {
        let _ = self.0.wake();
    }
}

/// OS event queue plus socket registration table.
pub(crate) struct Driver {
    poll: Poll,
    events: Events,
    waker: LoopWaker,
    regs: Slab<Registration>,
    next_gen: u32,
}

impl Driver {
    pub(crate) fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = LoopWaker(Arc::new(mio::Waker::new(poll.registry(), WAKER_TOKEN)?));
        Ok(Driver {
            poll,
            events: Events::with_capacity(1024),
            waker,
            regs: Slab::new(),
            next_gen: 0,
        })
    }

    /// The waker other threads use to interrupt a blocking poll.
    pub(crate) fn waker(&self) -> LoopWaker {
        self.waker.clone()
    }

    /// Registers `source` for read and write readiness, edge-triggered.
    pub(crate) fn register<S: mio::event::Source + ?Sized>(&mut self, source: &mut S) -> io::Result<IoKey> {
        self.next_gen = self.next_gen.wrapping_add(1).max(1);
        let generation = self.next_gen;
        let entry = self.regs.vacant_entry();
        let io = IoKey {
            key: entry.key() as u32,
            generation,
        };
        self.poll
            .registry()
            .register(source, io.token(), Interest::READABLE | Interest::WRITABLE)?;
        entry.insert(Registration {
            generation,
            ..Registration::default()
        });
        Ok(io)
    }

    /// Removes the registration; returns the tickets that were still waiting on it.
    pub(crate) fn deregister<S: mio::event::Source + ?Sized>(&mut self, io: IoKey, source: &mut S) -> Vec<Ticket> {
        let _ = self.poll.registry().deregister(source);
        match self.regs.get(io.key as usize) {
            Some(r) if r.generation == io.generation => {
                let r = self.regs.remove(io.key as usize);
                r.read_waiter.into_iter().chain(r.write_waiter).collect()
            }
            _ => Vec::new(),
        }
    }

    fn reg_mut(&mut self, io: IoKey) -> Option<&mut Registration> {
        self.regs
            .get_mut(io.key as usize)
            .filter(|r| r.generation == io.generation)
    }

    /// Parks `wait` until `io` is ready in `dir`. Returns `true` if readiness is already known
    /// (the caller completes the ticket at once), or if the registration is gone.
    pub(crate) fn wait_ready(&mut self, io: IoKey, dir: Direction, wait: Ticket) -> bool {
        let Some(r) = self.reg_mut(io) else { return true };
        match dir {
            Direction::Read if r.readable => true,
            Direction::Write if r.writable => true,
            Direction::Read => {
                r.read_waiter = Some(wait);
                false
            }
            Direction::Write => {
                r.write_waiter = Some(wait);
                false
            }
        }
    }

    /// Forgets readiness in `dir` after a `WouldBlock` or a short read/write (except after the
    /// OS reported that direction closed: that state is final).
    pub(crate) fn clear_ready(&mut self, io: IoKey, dir: Direction) {
        if let Some(r) = self.reg_mut(io) {
            match dir {
                Direction::Read => r.readable = r.read_closed,
                Direction::Write => r.writable = r.write_closed,
            }
        }
    }

    /// Readiness last reported for `io` (a hint: the syscall decides), or `None` if `io` is not
    /// registered with this driver (dropped socket, or a socket of another loop).
    pub(crate) fn readiness(&self, io: IoKey) -> Option<Readiness> {
        let r = self
            .regs
            .get(io.key as usize)
            .filter(|r| r.generation == io.generation)?;
        Some(Readiness {
            read: r.readable,
            write: r.writable,
        })
    }

    /// Marks both directions ready, for a socket whose state is unknown right after it was
    /// created: its first operation then tries the syscall instead of waiting for an event.
    pub(crate) fn assume_ready(&mut self, io: IoKey) {
        if let Some(r) = self.reg_mut(io) {
            r.readable = true;
            r.writable = true;
        }
    }

    /// Removes `wait` from the registration's waiter slot for `dir` if it is still there (a
    /// leaf future dropped while waiting, e.g. because its task was cancelled).
    pub(crate) fn forget_waiter(&mut self, io: IoKey, dir: Direction, wait: Ticket) {
        if let Some(r) = self.reg_mut(io) {
            let slot = match dir {
                Direction::Read => &mut r.read_waiter,
                Direction::Write => &mut r.write_waiter,
            };
            if *slot == Some(wait) {
                *slot = None;
            }
        }
    }

    /// The ticket waiting on `io` in `dir`, if any (for tests of cancellation).
    #[cfg(test)]
    pub(crate) fn waiter(&self, io: IoKey, dir: Direction) -> Option<Ticket> {
        let r = self
            .regs
            .get(io.key as usize)
            .filter(|r| r.generation == io.generation)?;
        match dir {
            Direction::Read => r.read_waiter,
            Direction::Write => r.write_waiter,
        }
    }

    /// Number of live socket registrations.
    pub(crate) fn registrations(&self) -> usize {
        self.regs.len()
    }

    /// Asks the OS for events, waiting at most `timeout` (`None`: until one arrives). Tickets
    /// whose socket became ready are appended to `ready`. Returns whether the cross-thread waker
    /// fired.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>, ready: &mut Vec<Ticket>) -> io::Result<bool> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        }
        let mut woken = false;
        for ev in self.events.iter() {
            if ev.token() == WAKER_TOKEN {
                woken = true;
                continue;
            }
            let io = IoKey::from_token(ev.token());
            let Some(r) = self
                .regs
                .get_mut(io.key as usize)
                .filter(|r| r.generation == io.generation)
            else {
                continue;
            };
            r.read_closed |= ev.is_error() || ev.is_read_closed();
            r.write_closed |= ev.is_error() || ev.is_write_closed();
            let closed = ev.is_error() || ev.is_read_closed() || ev.is_write_closed();
            if ev.is_readable() || closed {
                r.readable = true;
                ready.extend(r.read_waiter.take());
            }
            if ev.is_writable() || closed {
                r.writable = true;
                ready.extend(r.write_waiter.take());
            }
        }
        Ok(woken)
    }
}
