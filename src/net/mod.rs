//! TCP and TLS sockets driven by the event loop.
//!
//! Every operation is a leaf future that first tries the non-blocking syscall and, only when
//! the socket cannot make progress, hands the loop one command ([`CommandKind::Accept`],
//! [`Recv`](crate::runtime::CommandKind::Recv), [`Send`](crate::runtime::CommandKind::Send) or
//! [`Connect`](crate::runtime::CommandKind::Connect)) and suspends until the OS reports readiness.
//!
//! * Sockets are non-blocking, registered once with the loop (both directions,
//!   edge-triggered) and deregistered when dropped.
//! * Readiness is a hint: after a `WouldBlock` or a short read the direction counts as drained
//!   and is not tried again until the OS reports an edge, so an echo round trip costs one read,
//!   one write and one OS poll per side.
//! * Dropping a pending operation (for example because its task was cancelled or a
//!   [`timeout`](crate::timeout) expired) releases its interest at once; no data is lost from
//!   the socket, though a cancelled [`TcpStream::send_all`] may have written a prefix.
//! * Sockets belong to the loop they were created in; using one in another loop fails with
//!   an error.
//!
//! # Reading and writing from two tasks
//! [`TcpStream::into_split`] and [`TlsStream::into_split`] give a read half and a write half
//! that can move into two tasks: one pending read and one pending write may run at once (see
//! [`split`] for exactly what may be pending together). [`BufReader`] and [`BufWriter`] add
//! line, record and exact reads and coalesced writes over any [`ByteSource`] / [`ByteSink`]:
//! streams, halves, or your own types.
//!
//! # Serving many clients
//! Accept in a loop and spawn one task per connection; run a TLS handshake inside that task
//! (with [`TlsAcceptor::with_handshake_timeout`]), never inline in the accept loop, or one
//! client that never finishes its handshake blocks all others (see [`TlsAcceptor`]). To feed
//! connections' requests into a flow and send each reply back to its connection, use
//! [`LineServer`] (or [`Requests::serve_lines`] for TLS or other halves): a source node takes
//! [`Request`]s from [`Requests::next`], and whichever node answers calls
//! [`ReplyTo::send`] — replies are written in request order per connection.
//!
//! # Examples
//! ```
//! use flowloop::net::{TcpListener, TcpStream};
//! # flowloop::run(async {
//! let mut listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = flowloop::spawn(async move {
//!     let (mut conn, _peer) = listener.accept().await?;
//!     let mut buf = [0u8; 64];
//!     let n = conn.recv(&mut buf).await?;
//!     conn.send_all(&buf[..n]).await?;
//!     std::io::Result::Ok(())
//! })
//! .await;
//! let mut client = TcpStream::connect(addr).await?;
//! client.send_all(b"ping").await?;
//! let mut buf = [0u8; 4];
//! let n = client.recv(&mut buf).await?;
//! assert_eq!(&buf[..n], b"ping");
//! server.join().await.unwrap()?;
//! # std::io::Result::Ok(())
//! # }).unwrap().unwrap();
//! ```
//!
//! [`CommandKind::Accept`]: crate::runtime::CommandKind::Accept
//! [`CommandKind`]: crate::runtime::CommandKind

mod buffered;
mod io;
mod registration;
mod serve;
pub mod split;
mod tcp;
mod tls;

pub use crate::runtime::driver::tls::{TlsError, rustls};
pub use buffered::{BufReader, BufWriter, DEFAULT_BUF_SIZE, DEFAULT_LINE_LIMIT, Line, LineTooLong};
pub use io::{ByteSink, ByteSource};
pub use serve::{ConnectionError, LineServer, ReplyError, ReplyTo, Request, Requests};
pub use split::{
    OwnedTcpReadHalf, OwnedTcpWriteHalf, OwnedTlsReadHalf, OwnedTlsWriteHalf, ReuniteError, TcpReadHalf, TcpWriteHalf,
    TlsReadHalf, TlsWriteHalf,
};
pub use tcp::{DEFAULT_BACKLOG, TcpListener, TcpStream};
pub use tls::{TlsAcceptor, TlsConnector, TlsStream};
