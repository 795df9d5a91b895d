//! TCP sockets on the OS side: creation with socket2, non-blocking syscalls through mio.
//!
//! Nothing here waits. Every operation either succeeds, fails, or reports `WouldBlock`; the
//! leaf futures in `crate::net` turn `WouldBlock` into a loop command. Reads and writes go
//! through [`GuardedIo`], which consults and updates the registration's [`Readiness`] so that a
//! direction known to be drained is not tried again before the OS reports an edge (no extra
//! failed syscall per message).

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use mio::event::Source;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::{Direction, Driver, IoKey};
use crate::runtime::wait::Ticket;

/// Readiness of one registration as last reported by the OS, minus what was drained since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// A read may make progress.
    pub(crate) read: bool,
    /// A write may make progress.
    pub(crate) write: bool,
}

impl Readiness {
    /// Whether an operation in `dir` may make progress.
    pub(crate) fn allows(self, dir: Direction) -> bool {
        match dir {
            Direction::Read => self.read,
            Direction::Write => self.write,
        }
    }

    /// Marks `dir` drained.
    pub(crate) fn clear(&mut self, dir: Direction) {
        match dir {
            Direction::Read => self.read = false,
            Direction::Write => self.write = false,
        }
    }
}

/// Result of one non-blocking step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<T> {
    /// Done with this value.
    Ready(T),
    /// The socket cannot make progress in this direction right now.
    Blocked(Direction),
}

/// An OS socket that can be registered with the [`Driver`].
pub(crate) trait SysSocket {
    /// The mio source to (de)register.
    fn source(&mut self) -> &mut dyn Source;

    /// Registers the socket for both directions, edge-triggered.
    fn register(&mut self, driver: &mut Driver) -> io::Result<IoKey> {
        driver.register(self.source())
    }

    /// Removes the registration; returns the tickets still waiting on it.
    fn deregister(&mut self, driver: &mut Driver, io: IoKey) -> Vec<Ticket> {
        driver.deregister(io, self.source())
    }
}

/// A listening TCP socket.
#[derive(Debug)]
pub(crate) struct ListenerSys {
    inner: mio::net::TcpListener,
}

impl ListenerSys {
    /// Creates a non-blocking listener with `SO_REUSEADDR`, bound to `addr`, listening with
    /// `backlog`.
    pub(crate) fn bind(addr: SocketAddr, backlog: u32) -> io::Result<ListenerSys> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(backlog.min(i32::MAX as u32) as i32)?;
        let std_listener: std::net::TcpListener = socket.into();
        Ok(ListenerSys {
            inner: mio::net::TcpListener::from_std(std_listener),
        })
    }

    /// Accepts one pending connection (non-blocking).
    pub(crate) fn accept(&self, ready: &mut Readiness) -> io::Result<(StreamSys, SocketAddr)> {
        if !ready.read {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.inner.accept() {
            Ok((stream, peer)) => Ok((StreamSys { inner: stream }, peer)),
            Err(e) => {
                if e.kind() == io::ErrorKind::WouldBlock {
                    ready.read = false;
                }
                Err(e)
            }
        }
    }

    /// The bound address.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl SysSocket for ListenerSys {
    fn source(&mut self) -> &mut dyn Source {
        &mut self.inner
    }
}

/// A connected (or connecting) TCP stream socket.
#[derive(Debug)]
pub(crate) struct StreamSys {
    inner: mio::net::TcpStream,
}

impl StreamSys {
    /// Starts a non-blocking connect to `addr`; completion is signalled by write readiness.
    pub(crate) fn connect(addr: SocketAddr) -> io::Result<StreamSys> {
        Ok(StreamSys {
            inner: mio::net::TcpStream::connect(addr)?,
        })
    }

    /// After a writable event on a connecting socket: `Ok(true)` if connected, `Ok(false)` if the
    /// connect is still in progress, `Err` if it failed (refused, unreachable, ...).
    pub(crate) fn connect_finished(&self) -> io::Result<bool> {
        if let Some(e) = self.inner.take_error()? {
            return Err(e);
        }
        match self.inner.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads and writes through the readiness guard. Takes `&self`: the read and write halves
    /// of a split stream share the socket (each direction has its own waiter slot).
    pub(crate) fn guarded<'a>(&'a self, ready: &'a mut Readiness) -> GuardedIo<'a> {
        GuardedIo {
            sock: &self.inner,
            ready,
        }
    }

    /// Shuts down one or both directions.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Sets `TCP_NODELAY`.
    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.set_nodelay(on)
    }

    /// Reads `TCP_NODELAY`.
    pub(crate) fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets `SO_LINGER` (`Some(ZERO)` makes close send a reset).
    pub(crate) fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(&self.inner).set_linger(linger)
    }

    /// The local address.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Sets the kernel receive buffer size (`SO_RCVBUF`).
    pub(crate) fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(&self.inner).set_recv_buffer_size(size)
    }

    /// Sets the kernel send buffer size (`SO_SNDBUF`).
    pub(crate) fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(&self.inner).set_send_buffer_size(size)
    }
}

impl SysSocket for StreamSys {
    fn source(&mut self) -> &mut dyn Source {
        &mut self.inner
    }
}

/// `Read`/`Write` over a stream that skips directions known to be drained and marks a
/// direction drained after `WouldBlock` or a short transfer (a short read means the kernel
/// buffer is empty; edge-triggered polling reports the next arrival).
#[derive(Debug)]
pub(crate) struct GuardedIo<'a> {
    sock: &'a mio::net::TcpStream,
    ready: &'a mut Readiness,
}

impl GuardedIo<'_> {
    fn after(flag: &mut bool, want: usize, result: &io::Result<usize>) {
        match result {
            Ok(n) if *n > 0 && *n < want => *flag = false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => *flag = false,
            _ => {}
        }
    }
}

impl Read for GuardedIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.ready.read {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        loop {
            let r = (&mut &*self.sock).read(buf);
            if matches!(&r, Err(e) if e.kind() == io::ErrorKind::Interrupted) {
                continue;
            }
            Self::after(&mut self.ready.read, buf.len(), &r);
            return r;
        }
    }
}

impl Write for GuardedIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.ready.write {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        loop {
            // `send(2)` (with MSG_NOSIGNAL) is cheaper than `writev(2)` for one buffer.
            let r = (&mut &*self.sock).write(buf);
            if matches!(&r, Err(e) if e.kind() == io::ErrorKind::Interrupted) {
                continue;
            }
            Self::after(&mut self.ready.write, buf.len(), &r);
            return r;
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut nonempty = bufs.iter().filter(|b| !b.is_empty());
        match (nonempty.next(), nonempty.next()) {
            (None, _) => return Ok(0),
            (Some(one), None) => return self.write(one),
            _ => {}
        }
        if !self.ready.write {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        loop {
            let r = (&mut &*self.sock).write_vectored(bufs);
            if matches!(&r, Err(e) if e.kind() == io::ErrorKind::Interrupted) {
                continue;
            }
            Self::after(&mut self.ready.write, want, &r);
            return r;
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
