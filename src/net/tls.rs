//! [`TlsAcceptor`], [`TlsConnector`] and [`TlsStream`]: rustls (ring provider) over
//! [`TcpStream`].

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::registration::OpKind;
use super::split::{OwnedTlsReadHalf, OwnedTlsWriteHalf, TlsReadHalf, TlsWriteHalf};
use super::tcp::TcpStream;
use crate::runtime::SocketEvent;
use crate::runtime::driver::net::Step;
use crate::runtime::driver::tls::{TlsError, TlsSession, rustls};

/// Accepts TLS connections: runs the server side of the handshake on an accepted
/// [`TcpStream`].
///
/// Run each handshake in the connection's own task (task per connection), never inline in the
/// accept loop: a client that connects and then sends nothing would otherwise stop every
/// other client from being accepted. Give the acceptor a
/// [`handshake_timeout`](TlsAcceptor::with_handshake_timeout) so such a client also cannot keep
/// its task (and socket) for ever.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use flowloop::net::rustls::{self, pki_types::{CertificateDer, PrivateKeyDer}};
/// use flowloop::net::{TcpListener, TlsAcceptor};
///
/// /// An acceptor for a certificate chain and its key, with the ring crypto provider.
/// fn acceptor(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<TlsAcceptor, rustls::Error> {
///     let provider = Arc::new(rustls::crypto::ring::default_provider());
///     let config = rustls::ServerConfig::builder_with_provider(provider)
///         .with_safe_default_protocol_versions()?
///         .with_no_client_auth()
///         .with_single_cert(certs, key)?;
///     Ok(TlsAcceptor::new(Arc::new(config)).with_handshake_timeout(Duration::from_secs(10)))
/// }
///
/// /// The accept loop: one task per connection, which handshakes and then serves.
/// async fn serve(acceptor: TlsAcceptor, mut listener: TcpListener) -> std::io::Result<()> {
///     loop {
///         let (tcp, peer) = listener.accept().await?;
///         let acceptor = acceptor.clone();
///         flowloop::spawn(async move {
///             let mut tls = match acceptor.accept(tcp).await {
///                 Ok(tls) => tls,
///                 Err(e) => return eprintln!("{peer}: {e}"), // slow, plaintext, bad client...
///             };
///             if let Err(e) = tls.send_all(b"hello").await {
///                 return eprintln!("{peer}: {e}");
///             }
///             let _ = tls.shutdown().await;
///         })
///         .await;
///     }
/// }
/// # let _ = (acceptor, serve);
/// ```
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<rustls::ServerConfig>,
    handshake_timeout: Option<Duration>,
}

impl TlsAcceptor {
    /// An acceptor using `config` (build it with an explicit crypto provider, e.g.
    /// `rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))`).
    /// Handshakes have no time limit until one is set with
    /// [`with_handshake_timeout`](TlsAcceptor::with_handshake_timeout).
    pub fn new(config: Arc<rustls::ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            config,
            handshake_timeout: None,
        }
    }

    /// Limits every handshake run by [`accept`](TlsAcceptor::accept) to `limit`; a client
    /// that has not finished by then gets [`TlsError::HandshakeTimeout`] and its socket is
    /// closed.
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsAcceptor {
        self.handshake_timeout = Some(limit);
        self
    }

    /// The handshake time limit, if one is set.
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// Runs the server handshake on `stream` without blocking the loop.
    ///
    /// # Errors
    /// An [`io::Error`] wrapping a [`TlsError`]: the client does not speak TLS, closed before
    /// the handshake finished, did not finish within the
    /// [handshake timeout](TlsAcceptor::with_handshake_timeout) (kind `TimedOut`), or aborted
    /// with an alert (e.g. it rejected our certificate); or a socket error.
    pub async fn accept(&self, stream: TcpStream) -> io::Result<TlsStream> {
        let peer = stream.peer_addr()?;
        let session = TlsSession::server(self.config.clone(), peer)?;
        limited(self.handshake_timeout, peer, TlsCore::handshake(stream, session)).await
    }
}

/// Opens TLS connections: runs the client side of the handshake on a connected
/// [`TcpStream`].
#[derive(Debug, Clone)]
pub struct TlsConnector {
    config: Arc<rustls::ClientConfig>,
    handshake_timeout: Option<Duration>,
}

impl TlsConnector {
    /// A connector using `config`, without a handshake time limit.
    pub fn new(config: Arc<rustls::ClientConfig>) -> TlsConnector {
        TlsConnector {
            config,
            handshake_timeout: None,
        }
    }

    /// Limits every handshake run by [`connect`](TlsConnector::connect) to `limit`
    /// ([`TlsError::HandshakeTimeout`] when exceeded).
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsConnector {
        self.handshake_timeout = Some(limit);
        self
    }

    /// The handshake time limit, if one is set.
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// Runs the client handshake on `stream`, verifying the server's certificate against
    /// `server_name` (a DNS name or an IP address).
    ///
    /// # Errors
    /// An [`io::Error`] wrapping a [`TlsError`]: invalid server name, bad certificate,
    /// certificate not valid for `server_name`, server not speaking TLS, server closed before
    /// the handshake finished or did not finish it in time; or a socket error.
    pub async fn connect(&self, server_name: &str, stream: TcpStream) -> io::Result<TlsStream> {
        let peer = stream.peer_addr()?;
        let session = TlsSession::client(self.config.clone(), server_name, peer)?;
        limited(self.handshake_timeout, peer, TlsCore::handshake(stream, session)).await
    }
}

/// Runs `handshake` within `limit` (if any).
async fn limited(
    limit: Option<Duration>,
    peer: SocketAddr,
    handshake: impl Future<Output = io::Result<TlsCore>>,
) -> io::Result<TlsStream> {
    let core = match limit {
        None => handshake.await?,
        Some(limit) => crate::timeout(limit, handshake)
            .await
            .map_err(|_| TlsError::HandshakeTimeout { peer, limit })??,
    };
    Ok(TlsStream::from_core(core))
}

/// A TLS session over a [`TcpStream`], with the same `recv` / `send` / `send_all` API.
///
/// Close it with [`TlsStream::shutdown`] (sends `close_notify`) so the peer can tell a complete
/// stream from a truncated one; merely dropping it closes the TCP connection without
/// `close_notify`, which the peer reports as [`TlsError::Truncated`](super::TlsError::Truncated).
///
/// Like [`TcpStream`], it splits into a read half and a write half
/// ([`split`](TlsStream::split), [`into_split`](TlsStream::into_split)) so one task can read
/// while another writes; the halves share the one TLS session.
#[derive(Debug)]
pub struct TlsStream {
    pub(super) core: TlsCore,
}

/// The TCP stream and TLS session shared by a [`TlsStream`] and its halves.
///
/// The session is borrowed only inside one synchronous poll step (never across an `.await`),
/// so a pending read in one task and a pending write in another never conflict: reads wait
/// only in the read direction and writes only in the write direction. A read may also send
/// records rustls queued (alerts, key updates) when the socket takes them at once.
#[derive(Debug)]
pub(super) struct TlsCore {
    tcp: TcpStream,
    session: RefCell<TlsSession>,
    close_notify_sent: Cell<bool>,
    /// The server name once the handshake is done (kept outside the `RefCell` so that
    /// [`TlsStream::server_name`] can lend it).
    server_name: Option<String>,
}

impl TlsCore {
    async fn handshake(tcp: TcpStream, session: TlsSession) -> io::Result<TlsCore> {
        let mut core = TlsCore {
            tcp,
            session: RefCell::new(session),
            close_notify_sent: Cell::new(false),
            server_name: None,
        };
        let reg = &core.tcp.core.reg;
        let mut wait = reg.waiter();
        poll_fn(|_| {
            reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                core.session.borrow_mut().handshake(sys, ready)
            })
        })
        .await?;
        drop(wait);
        core.server_name = core.session.get_mut().server_name().map(str::to_owned);
        core.tcp.core.reg.emit(SocketEvent::TlsHandshake {
            server_name: core.server_name.as_deref(),
        });
        Ok(core)
    }

    pub(super) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let reg = &self.tcp.core.reg;
        let mut wait = reg.waiter();
        let n = poll_fn(|_| {
            reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                self.session.borrow_mut().read(sys, ready, buf)
            })
        })
        .await?;
        reg.emit(SocketEvent::Received { bytes: n });
        Ok(n)
    }

    pub(super) async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let reg = &self.tcp.core.reg;
        let mut wait = reg.waiter();
        let mut taken: Option<usize> = None;
        let n = poll_fn(|_| {
            reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                let mut session = self.session.borrow_mut();
                let n = match taken {
                    Some(n) => n,
                    None => {
                        // Earlier records first, so the buffer has room for this one.
                        if let Step::Blocked(d) = session.flush(sys, ready)? {
                            return Ok(Step::Blocked(d));
                        }
                        *taken.insert(session.write_plain(buf)?)
                    }
                };
                Ok(match session.flush(sys, ready)? {
                    Step::Ready(()) => Step::Ready(n),
                    Step::Blocked(d) => Step::Blocked(d),
                })
            })
        })
        .await?;
        reg.emit(SocketEvent::Sent { bytes: n });
        Ok(n)
    }

    pub(super) async fn send_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.send(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    pub(super) async fn shutdown(&self) -> io::Result<()> {
        if !self.close_notify_sent.replace(true) {
            self.session.borrow_mut().send_close_notify();
        }
        let reg = &self.tcp.core.reg;
        let mut wait = reg.waiter();
        poll_fn(|_| {
            reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
                self.session.borrow_mut().flush(sys, ready)
            })
        })
        .await?;
        match self.tcp.shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
            _ => Ok(()),
        }
    }

    pub(super) async fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown().await
    }

    pub(super) fn peer(&self) -> SocketAddr {
        self.session.borrow().peer()
    }
}

impl TlsStream {
    /// Reads decrypted bytes into `buf`. Returns `0` once the peer has closed the session with
    /// `close_notify` (or when `buf` is empty).
    ///
    /// Cancel-safe: no decrypted data is lost if the future is dropped.
    ///
    /// # Errors
    /// [`TlsError::Truncated`](super::TlsError::Truncated) (kind `UnexpectedEof`) if the peer
    /// closed the connection without `close_notify`; other TLS or socket errors.
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.core.recv(buf).await
    }

    /// Encrypts up to one buffer-full of `buf` (rustls' limit, 64 KiB by default) and writes
    /// the records to the socket; returns once they are all in the kernel's send buffer.
    /// Returns how many plaintext bytes were taken.
    ///
    /// If the future is dropped while waiting, the bytes it took may still be sent (see
    /// [`has_pending_output`](TlsStream::has_pending_output)).
    ///
    /// # Errors
    /// Socket errors (broken pipe, reset, ...).
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.core.send(buf).await
    }

    /// Sends all of `buf` (see [`TlsStream::send`]).
    ///
    /// # Errors
    /// As [`TlsStream::send`].
    pub async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.core.send_all(buf).await
    }

    /// Ends the session cleanly: sends `close_notify`, flushes every pending record, then shuts
    /// down the TCP write half. The stream can still receive what the peer sends until it
    /// closes in turn. Calling it again only re-flushes.
    ///
    /// # Errors
    /// Socket errors while flushing.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.core.shutdown().await
    }

    /// [`shutdown`](TlsStream::shutdown), then close the socket.
    ///
    /// # Errors
    /// As [`TlsStream::shutdown`]; the socket is closed in every case.
    pub async fn close(self) -> io::Result<()> {
        self.core.shutdown().await
    }

    /// Splits the stream into a read half and a write half that borrow it, so a read and a
    /// write can be pending at the same time. Use [`into_split`](TlsStream::into_split) to move
    /// the halves into two tasks.
    pub fn split(&mut self) -> (TlsReadHalf<'_>, TlsWriteHalf<'_>) {
        (TlsReadHalf::new(&self.core), TlsWriteHalf::new(&self.core))
    }

    /// Splits the stream into owned halves that can move into two tasks. The connection closes
    /// when both are dropped; end the session with [`OwnedTlsWriteHalf::shutdown`] (sends
    /// `close_notify`, then half-closes TCP). Put them back together with
    /// [`OwnedTlsReadHalf::reunite`].
    pub fn into_split(self) -> (OwnedTlsReadHalf, OwnedTlsWriteHalf) {
        let core = Rc::new(self.core);
        (OwnedTlsReadHalf::new(core.clone()), OwnedTlsWriteHalf::new(core))
    }

    pub(super) fn from_core(core: TlsCore) -> TlsStream {
        TlsStream { core }
    }

    /// Whether records are still buffered for sending (only after a cancelled `send`).
    pub fn has_pending_output(&self) -> bool {
        self.core.session.borrow().wants_write()
    }

    /// The server name: the one the client connected with, or the SNI name the client sent.
    pub fn server_name(&self) -> Option<&str> {
        self.core.server_name.as_deref()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.core.peer()
    }

    /// The underlying TCP stream (for socket options such as `set_nodelay`).
    pub fn get_ref(&self) -> &TcpStream {
        &self.core.tcp
    }
}
