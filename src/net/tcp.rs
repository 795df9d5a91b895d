//! [`TcpListener`] and [`TcpStream`].

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::task::Poll;
use std::time::Duration;

use super::registration::{FirstUse, OpKind, Registered};
use super::split::{OwnedTcpReadHalf, OwnedTcpWriteHalf, TcpReadHalf, TcpWriteHalf};
use crate::runtime::SocketEvent;
use crate::runtime::driver::Direction;
use crate::runtime::driver::net::{ListenerSys, Step, StreamSys};

/// Default listen backlog of [`TcpListener::bind`].
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Maps `WouldBlock` to [`Step::Blocked`] in `dir`; passes everything else through.
fn step<T>(r: io::Result<T>, dir: Direction) -> io::Result<Step<T>> {
    match r {
        Ok(v) => Ok(Step::Ready(v)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Step::Blocked(dir)),
        Err(e) => Err(e),
    }
}

/// A TCP socket listening for connections, registered with the running loop.
///
/// Created with `SO_REUSEADDR` and a configurable backlog. Dropping it closes the socket and
/// deregisters it from the loop.
#[derive(Debug)]
pub struct TcpListener {
    pub(crate) reg: Registered<ListenerSys>,
    local: SocketAddr,
}

impl TcpListener {
    /// Binds to the first address `addr` resolves to, with a backlog of [`DEFAULT_BACKLOG`].
    /// Must be called inside a running [`EventLoop`](crate::EventLoop).
    ///
    /// # Errors
    /// Resolution, bind or listen failures, or no running loop.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_with_backlog(addr, DEFAULT_BACKLOG)
    }

    /// Like [`TcpListener::bind`] with an explicit listen backlog (the kernel may round or cap
    /// it).
    ///
    /// # Errors
    /// As [`TcpListener::bind`].
    pub fn bind_with_backlog(addr: impl ToSocketAddrs, backlog: u32) -> io::Result<TcpListener> {
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match ListenerSys::bind(a, backlog) {
                Ok(sys) => {
                    let local = sys.local_addr()?;
                    return Ok(TcpListener {
                        reg: Registered::new(sys, FirstUse::TrySyscall)?,
                        local,
                    });
                }
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("cannot bind TCP listener to {a}: {e}"),
                    ))
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "address resolved to nothing")))
    }

    /// Waits for the next connection (issues [`Command::Accept`](crate::runtime::CommandKind::Accept)
    /// while none is pending).
    /// Returns the connected stream and the peer's address.
    ///
    /// Cancel-safe: dropping the future loses no connection.
    ///
    /// # Errors
    /// Errors reported by `accept(2)` (for example, too many open files).
    pub async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut wait = self.reg.waiter();
        let (sys, peer) = poll_fn(|_| {
            self.reg.poll_op(&mut wait, OpKind::Accept, |sys, ready| {
                step(sys.accept(ready), Direction::Read)
            })
        })
        .await?;
        let stream = TcpStream {
            core: TcpCore {
                reg: Registered::new(sys, FirstUse::TrySyscall)?,
                peer,
            },
        };
        self.reg.emit(SocketEvent::Accepted { peer });
        Ok((stream, peer))
    }

    /// The address the listener is bound to (with the actual port when bound to port 0).
    ///
    /// # Errors
    /// Never in practice; kept for symmetry with `std`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// A connected TCP stream, registered with the running loop.
///
/// `recv` and `send` take `&mut self`, so one task (or one future at a time) drives a whole
/// stream. To read in one task and write in another, split it:
/// [`split`](TcpStream::split) borrows it, [`into_split`](TcpStream::into_split) gives owned
/// halves that can move into two tasks. Dropping the stream closes the socket and deregisters
/// it.
#[derive(Debug)]
pub struct TcpStream {
    pub(super) core: TcpCore,
}

/// The socket and peer address shared by a [`TcpStream`] and its halves. Reads use only the
/// read direction's waiter slot and writes only the write direction's, so one pending read and
/// one pending write may run at once (from two tasks); two reads (or two writes) may not, which
/// the `&mut self` of every public operation guarantees.
#[derive(Debug)]
pub(super) struct TcpCore {
    pub(super) reg: Registered<StreamSys>,
    peer: SocketAddr,
}

impl TcpCore {
    // `recv` and `send` are plain functions returning the leaf future (not `async fn`s), so
    // the public `async fn`s that await them build one state machine, not two: this is the
    // per-message path of every socket.
    pub(super) fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut wait = self.reg.waiter();
        poll_fn(move |_| {
            let r = self.reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                step(sys.guarded(ready).read(buf), Direction::Read)
            });
            if let Poll::Ready(Ok(n)) = r {
                self.reg.emit(SocketEvent::Received { bytes: n });
            }
            r
        })
    }

    pub(super) fn send<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut wait = self.reg.waiter();
        poll_fn(move |_| {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let r = self.reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                step(sys.guarded(ready).write(buf), Direction::Write)
            });
            if let Poll::Ready(Ok(n)) = r {
                self.reg.emit(SocketEvent::Sent { bytes: n });
            }
            r
        })
    }

    pub(super) async fn send_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.send(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    pub(super) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.reg.sys.shutdown(how)
    }

    pub(super) async fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    pub(super) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(super) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.sys.local_addr()
    }
}

impl TcpStream {
    /// Connects to `addr` without blocking the loop (issues
    /// [`Command::Connect`](crate::runtime::CommandKind::Connect) until the connection is
    /// established or fails). No DNS lookup is done; resolve names with
    /// [`offload`](crate::offload) if needed.
    ///
    /// # Errors
    /// Connection refused, unreachable network, ... (the OS error, naming `addr`).
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let named = |e: io::Error| io::Error::new(e.kind(), format!("connect to {addr} failed: {e}"));
        let sys = StreamSys::connect(addr).map_err(named)?;
        let reg = Registered::new(sys, FirstUse::WaitForEvent)?;
        let mut wait = reg.waiter();
        poll_fn(|_| {
            reg.poll_op(&mut wait, OpKind::Connect, |sys, ready| {
                if !ready.write {
                    return Ok(Step::Blocked(Direction::Write));
                }
                match sys.connect_finished()? {
                    true => Ok(Step::Ready(())),
                    false => Ok(Step::Blocked(Direction::Write)),
                }
            })
        })
        .await
        .map_err(named)?;
        drop(wait);
        reg.emit(SocketEvent::Connected { peer: addr });
        Ok(TcpStream {
            core: TcpCore { reg, peer: addr },
        })
    }

    pub(super) fn from_core(core: TcpCore) -> TcpStream {
        TcpStream { core }
    }

    /// Splits the stream into a read half and a write half that borrow it, so a read and a
    /// write can be pending at the same time (for example in two branches of one task, or in
    /// two scoped futures). Use [`into_split`](TcpStream::into_split) to move the halves into
    /// two spawned tasks.
    pub fn split(&mut self) -> (TcpReadHalf<'_>, TcpWriteHalf<'_>) {
        (TcpReadHalf::new(&self.core), TcpWriteHalf::new(&self.core))
    }

    /// Splits the stream into owned halves that can be moved into two tasks: one reads while
    /// the other writes. The socket closes when both halves are dropped; a write half can
    /// half-close with [`OwnedTcpWriteHalf::shutdown`]. Put the halves back together with
    /// [`OwnedTcpReadHalf::reunite`].
    ///
    /// # Examples
    /// ```
    /// use flowloop::net::{TcpListener, TcpStream};
    /// # flowloop::run(async {
    /// let mut listener = TcpListener::bind("127.0.0.1:0")?;
    /// let mut client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (conn, _) = listener.accept().await?;
    /// let (mut rx, mut tx) = conn.into_split();
    /// // The writer greets the peer while the reader waits for its message.
    /// let writer = flowloop::spawn(async move { tx.send_all(b"hello").await }).await;
    /// let reader = flowloop::spawn(async move {
    ///     let mut buf = [0u8; 4];
    ///     rx.recv(&mut buf).await.map(|n| buf[..n].to_vec())
    /// })
    /// .await;
    /// client.send_all(b"ping").await?;
    /// let mut got = [0u8; 5];
    /// let mut n = 0;
    /// while n < 5 {
    ///     n += client.recv(&mut got[n..]).await?;
    /// }
    /// assert_eq!(&got, b"hello");
    /// writer.join().await.unwrap()?;
    /// assert_eq!(reader.join().await.unwrap()?, b"ping");
    /// # std::io::Result::Ok(())
    /// # }).unwrap().unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedTcpReadHalf, OwnedTcpWriteHalf) {
        let core = std::rc::Rc::new(self.core);
        (OwnedTcpReadHalf::new(core.clone()), OwnedTcpWriteHalf::new(core))
    }

    /// [`TcpStream::connect`] with a time limit.
    ///
    /// # Errors
    /// Kind [`TimedOut`](io::ErrorKind::TimedOut) if the connection was not established within
    /// `limit` (the attempt is abandoned and its socket closed); otherwise as `connect`.
    pub async fn connect_timeout(addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
        match crate::timeout(limit, Self::connect(addr)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect to {addr} timed out after {limit:?}"),
            )),
        }
    }

    /// Reads into `buf`; returns how many bytes were read, `0` at end of stream (the peer shut
    /// down its write side or closed). Waits (issues
    /// [`Command::Recv`](crate::runtime::CommandKind::Recv)) only when no data is available.
    ///
    /// Cancel-safe: if the future is dropped before it completes, no data was consumed.
    ///
    /// # Errors
    /// Connection reset and other socket errors.
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.core.recv(buf).await
    }

    /// Writes some of `buf`; returns how many bytes the kernel took (at least one unless `buf`
    /// is empty). Waits (issues [`Command::Send`](crate::runtime::CommandKind::Send)) only
    /// while the send buffer is full.
    ///
    /// Cancel-safe: if the future is dropped before it completes, nothing was written.
    ///
    /// # Errors
    /// Broken pipe, connection reset and other socket errors.
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.core.send(buf).await
    }

    /// Writes all of `buf`, waiting whenever the send buffer is full (other tasks run
    /// meanwhile).
    ///
    /// If the future is dropped early, a prefix of `buf` may have been sent.
    ///
    /// # Errors
    /// As [`TcpStream::send`].
    pub async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.core.send_all(buf).await
    }

    /// Shuts down the read, write or both halves. After `shutdown(Shutdown::Write)` the peer
    /// reads end of stream once it has read everything sent before.
    ///
    /// # Errors
    /// The OS error (for example, the socket is not connected).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.core.shutdown(how)
    }

    /// Closes the stream (the same as dropping it: the socket is deregistered and closed; the
    /// peer sees end of stream, or a reset if [`set_linger`](TcpStream::set_linger) was set to
    /// zero).
    pub fn close(self) {
        drop(self);
    }

    /// Enables or disables Nagle's algorithm (`TCP_NODELAY`).
    ///
    /// # Errors
    /// The OS error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.core.reg.sys.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.core.reg.sys.nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the stream send a reset (RST)
    /// instead of a normal end of stream.
    ///
    /// # Errors
    /// The OS error.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.core.reg.sys.set_linger(linger)
    }

    /// Sets the kernel receive buffer size (`SO_RCVBUF`; the kernel may double or cap it).
    ///
    /// # Errors
    /// The OS error.
    pub fn set_recv_buffer_size(&self, bytes: usize) -> io::Result<()> {
        self.core.reg.sys.set_recv_buffer_size(bytes)
    }

    /// Sets the kernel send buffer size (`SO_SNDBUF`; the kernel may double or cap it).
    ///
    /// # Errors
    /// The OS error.
    pub fn set_send_buffer_size(&self, bytes: usize) -> io::Result<()> {
        self.core.reg.sys.set_send_buffer_size(bytes)
    }

    /// The peer's address.
    ///
    /// # Errors
    /// Never in practice (the address is remembered at connect/accept time).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.core.peer)
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.core.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::runtime::context;

    fn waiter(io: crate::runtime::driver::IoKey, dir: Direction) -> bool {
        context::with_core(|c| c.driver.waiter(io, dir).is_some())
    }

    // The sockets are shared with tasks that get cancelled while parked; the borrow held
    // across the await is released when the cancelled task's future is dropped.
    #[allow(clippy::await_holding_refcell_ref)]
    #[test]
    fn cancelling_a_blocked_accept_or_recv_clears_the_waiter_at_once() {
        crate::run(async {
            let l = Rc::new(RefCell::new(TcpListener::bind("127.0.0.1:0").unwrap()));
            let addr = l.borrow().local_addr().unwrap();
            let lio = l.borrow().reg.io();
            let l2 = l.clone();
            let t = crate::spawn(async move { l2.borrow_mut().accept().await.map(|_| ()) }).await;
            assert!(waiter(lio, Direction::Read), "accept parked on the listener");
            t.cancel().await;
            assert!(!waiter(lio, Direction::Read), "cancel released the accept interest");

            let c = Rc::new(RefCell::new(TcpStream::connect(addr).await.unwrap()));
            let _server_side = l.borrow_mut().accept().await.unwrap();
            let cio = c.borrow().core.reg.io();
            let c2 = c.clone();
            let t = crate::spawn(async move {
                let mut buf = [0u8; 8];
                c2.borrow_mut().recv(&mut buf).await.map(|_| ())
            })
            .await;
            assert!(waiter(cio, Direction::Read), "recv parked on the stream");
            t.cancel().await;
            assert!(!waiter(cio, Direction::Read), "cancel released the recv interest");
            let before = context::with_core(|core| core.driver.registrations());
            drop(c);
            let after = context::with_core(|core| core.driver.registrations());
            assert_eq!(after + 1, before, "dropping the stream deregistered it");
        })
        .unwrap();
    }
}
