//! Read and write halves of [`TcpStream`] and [`TlsStream`].
//!
//! # What may be pending at once
//! A stream has one waiter slot per direction. Its read half waits only for read readiness and
//! its write half only for write readiness, so **one pending read and one pending write** may
//! run at the same time, from the same task or from two tasks. Every half operation takes
//! `&mut self`, so two reads (or two writes) on one stream can never be pending together.
//!
//! * Borrowed halves ([`TcpStream::split`], [`TlsStream::split`]) live as long as the `&mut`
//!   borrow of the stream: handy inside one task, for example to wrap the read half in a
//!   [`BufReader`](super::BufReader) and the write half in a [`BufWriter`](super::BufWriter),
//!   or to poll a read and a write of one stream together.
//! * Owned halves ([`TcpStream::into_split`], [`TlsStream::into_split`]) move into two spawned
//!   tasks. The socket closes when both are dropped; `reunite` puts them back together.
//! * Half-close: [`OwnedTcpWriteHalf::shutdown`] / [`TcpWriteHalf::shutdown`] shut down the
//!   write direction (the peer reads end of stream; reading goes on).
//!   [`OwnedTlsWriteHalf::shutdown`] / [`TlsWriteHalf::shutdown`] first send `close_notify`.
//!   Dropping a write half does **not** half-close.
//! * TLS halves share one rustls session. It is borrowed only inside a single poll step, never
//!   across an `.await`, so the two directions do not block each other.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

use super::io::{ByteSink, ByteSource};
use super::tcp::{TcpCore, TcpStream};
use super::tls::{TlsCore, TlsStream};

/// The read half of a [`TcpStream`], borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct TcpReadHalf<'a> {
    core: &'a TcpCore,
}

/// The write half of a [`TcpStream`], borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct TcpWriteHalf<'a> {
    core: &'a TcpCore,
}

/// The read half of a [`TcpStream`], owned (from [`TcpStream::into_split`]).
#[derive(Debug)]
pub struct OwnedTcpReadHalf {
    core: Rc<TcpCore>,
}

/// The write half of a [`TcpStream`], owned (from [`TcpStream::into_split`]).
#[derive(Debug)]
pub struct OwnedTcpWriteHalf {
    core: Rc<TcpCore>,
}

/// The read half of a [`TlsStream`], borrowed by [`TlsStream::split`].
#[derive(Debug)]
pub struct TlsReadHalf<'a> {
    core: &'a TlsCore,
}

/// The write half of a [`TlsStream`], borrowed by [`TlsStream::split`].
#[derive(Debug)]
pub struct TlsWriteHalf<'a> {
    core: &'a TlsCore,
}

/// The read half of a [`TlsStream`], owned (from [`TlsStream::into_split`]).
#[derive(Debug)]
pub struct OwnedTlsReadHalf {
    core: Rc<TlsCore>,
}

/// The write half of a [`TlsStream`], owned (from [`TlsStream::into_split`]).
#[derive(Debug)]
pub struct OwnedTlsWriteHalf {
    core: Rc<TlsCore>,
}

/// `reunite` was given halves of two different streams; both are handed back.
///
/// Unlike the other socket errors it is not `Send`: it owns the halves, which belong to the
/// loop's thread.
pub struct ReuniteError<R, W> {
    /// The read half, as given.
    pub read: R,
    /// The write half, as given.
    pub write: W,
}

impl<R, W> fmt::Debug for ReuniteError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReuniteError").finish_non_exhaustive()
    }
}

impl<R, W> fmt::Display for ReuniteError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite the halves of two different streams (pass the halves one into_split returned)")
    }
}

impl<R, W> std::error::Error for ReuniteError<R, W> {}

macro_rules! tcp_read_ops {
    () => {
        /// Reads into `buf`, as [`TcpStream::recv`] (cancel-safe; `0` at end of stream).
        ///
        /// # Errors
        /// As [`TcpStream::recv`].
        pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.core.recv(buf).await
        }

        /// The peer's address.
        pub fn peer_addr(&self) -> SocketAddr {
            self.core.peer()
        }
    };
}

macro_rules! tcp_write_ops {
    () => {
        /// Writes some of `buf`, as [`TcpStream::send`].
        ///
        /// # Errors
        /// As [`TcpStream::send`].
        pub async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.core.send(buf).await
        }

        /// Writes all of `buf`, as [`TcpStream::send_all`].
        ///
        /// # Errors
        /// As [`TcpStream::send`].
        pub async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
            self.core.send_all(buf).await
        }

        /// Half-closes: shuts down the write direction, so the peer reads end of stream after
        /// the bytes sent so far. The read half keeps working.
        ///
        /// # Errors
        /// The OS error (for example, the socket is not connected).
        pub fn shutdown(&self) -> io::Result<()> {
            self.core.shutdown(Shutdown::Write)
        }

        /// The peer's address.
        pub fn peer_addr(&self) -> SocketAddr {
            self.core.peer()
        }
    };
}

macro_rules! tls_read_ops {
    () => {
        /// Reads decrypted bytes, as [`TlsStream::recv`] (cancel-safe; `0` after the peer's
        /// `close_notify`).
        ///
        /// # Errors
        /// As [`TlsStream::recv`].
        pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.core.recv(buf).await
        }

        /// The peer's address.
        pub fn peer_addr(&self) -> SocketAddr {
            self.core.peer()
        }
    };
}

macro_rules! tls_write_ops {
    () => {
        /// Encrypts and writes some of `buf`, as [`TlsStream::send`].
        ///
        /// # Errors
        /// As [`TlsStream::send`].
        pub async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.core.send(buf).await
        }

        /// Sends all of `buf`, as [`TlsStream::send_all`].
        ///
        /// # Errors
        /// As [`TlsStream::send`].
        pub async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
            self.core.send_all(buf).await
        }

        /// Ends the session's sending side: sends `close_notify`, flushes, then shuts down the
        /// TCP write direction. The read half keeps receiving until the peer closes.
        ///
        /// # Errors
        /// Socket errors while flushing.
        pub async fn shutdown(&mut self) -> io::Result<()> {
            self.core.shutdown().await
        }

        /// The peer's address.
        pub fn peer_addr(&self) -> SocketAddr {
            self.core.peer()
        }
    };
}

impl<'a> TcpReadHalf<'a> {
    pub(super) fn new(core: &'a TcpCore) -> Self {
        TcpReadHalf { core }
    }
    tcp_read_ops!();
}

impl<'a> TcpWriteHalf<'a> {
    pub(super) fn new(core: &'a TcpCore) -> Self {
        TcpWriteHalf { core }
    }
    tcp_write_ops!();
}

impl OwnedTcpReadHalf {
    pub(super) fn new(core: Rc<TcpCore>) -> Self {
        OwnedTcpReadHalf { core }
    }
    tcp_read_ops!();

    /// Puts the halves of one stream back together.
    ///
    /// # Errors
    /// [`ReuniteError`] (holding both halves) if `write` belongs to another stream.
    pub fn reunite(self, write: OwnedTcpWriteHalf) -> Result<TcpStream, ReuniteError<Self, OwnedTcpWriteHalf>> {
        if !Rc::ptr_eq(&self.core, &write.core) {
            return Err(ReuniteError { read: self, write });
        }
        drop(write);
        let core = Rc::try_unwrap(self.core).expect("only the two halves of a stream share its core");
        Ok(TcpStream::from_core(core))
    }
}

impl OwnedTcpWriteHalf {
    pub(super) fn new(core: Rc<TcpCore>) -> Self {
        OwnedTcpWriteHalf { core }
    }
    tcp_write_ops!();
}

impl<'a> TlsReadHalf<'a> {
    pub(super) fn new(core: &'a TlsCore) -> Self {
        TlsReadHalf { core }
    }
    tls_read_ops!();
}

impl<'a> TlsWriteHalf<'a> {
    pub(super) fn new(core: &'a TlsCore) -> Self {
        TlsWriteHalf { core }
    }
    tls_write_ops!();
}

impl OwnedTlsReadHalf {
    pub(super) fn new(core: Rc<TlsCore>) -> Self {
        OwnedTlsReadHalf { core }
    }
    tls_read_ops!();

    /// Puts the halves of one stream back together.
    ///
    /// # Errors
    /// [`ReuniteError`] (holding both halves) if `write` belongs to another stream.
    pub fn reunite(self, write: OwnedTlsWriteHalf) -> Result<TlsStream, ReuniteError<Self, OwnedTlsWriteHalf>> {
        if !Rc::ptr_eq(&self.core, &write.core) {
            return Err(ReuniteError { read: self, write });
        }
        drop(write);
        let core = Rc::try_unwrap(self.core).expect("only the two halves of a stream share its core");
        Ok(TlsStream::from_core(core))
    }
}

impl OwnedTlsWriteHalf {
    pub(super) fn new(core: Rc<TlsCore>) -> Self {
        OwnedTlsWriteHalf { core }
    }
    tls_write_ops!();
}

// Whole streams and halves all reach the socket through their `core`, so one body serves all.
macro_rules! byte_source {
    ($($t:ty),*) => {$(
        impl ByteSource for $t {
            async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.core.recv(buf).await
            }
        }
    )*};
}

macro_rules! byte_sink {
    ($($t:ty),*) => {$(
        impl ByteSink for $t {
            async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.core.send(buf).await
            }

            async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
                self.core.send_all(buf).await
            }

            async fn shutdown_write(&mut self) -> io::Result<()> {
                self.core.shutdown_write().await
            }
        }
    )*};
}

byte_source!(
    TcpStream,
    TlsStream,
    TcpReadHalf<'_>,
    OwnedTcpReadHalf,
    TlsReadHalf<'_>,
    OwnedTlsReadHalf
);
byte_sink!(
    TcpStream,
    TlsStream,
    TcpWriteHalf<'_>,
    OwnedTcpWriteHalf,
    TlsWriteHalf<'_>,
    OwnedTlsWriteHalf
);
