//! [`TlsAcceptor`], [`TlsConnector`] and [`TlsStream`]: rustls (ring provider) over
//! [`TcpStream`].

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use super::registration::OpKind;
use super::tcp::TcpStream;
use crate::runtime::SocketEvent;
use crate::runtime::driver::net::Step;
use crate::runtime::driver::tls::{TlsSession, rustls};

/// Accepts TLS connections: runs the server side of the handshake on an accepted
/// [`TcpStream`].
///
/// # Examples
/// ```
/// use std::sync::Arc;
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
///     Ok(TlsAcceptor::new(Arc::new(config)))
/// }
///
/// /// Serves one TLS client: greets it and closes with close_notify.
/// async fn serve_one(acceptor: &TlsAcceptor, listener: &mut TcpListener) -> std::io::Result<()> {
///     let (tcp, _peer) = listener.accept().await?;
///     let mut tls = acceptor.accept(tcp).await?;
///     tls.send_all(b"hello").await?;
///     tls.shutdown().await
/// }
/// # let _ = (acceptor, serve_one);
/// ```
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<rustls::ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor using `config` (build it with an explicit crypto provider, e.g.
    /// `rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))`).
    pub fn new(config: Arc<rustls::ServerConfig>) -> TlsAcceptor {
        TlsAcceptor { config }
    }

    /// Runs the server handshake on `stream` without blocking the loop.
    ///
    /// # Errors
    /// An [`io::Error`] wrapping a [`TlsError`](super::TlsError): the client does not speak TLS,
    /// closed before the handshake finished, or aborted with an alert (e.g. it rejected our
    /// certificate); or a socket error.
    pub async fn accept(&self, stream: TcpStream) -> io::Result<TlsStream> {
        let peer = stream.peer_addr()?;
        let session = TlsSession::server(self.config.clone(), peer)?;
        TlsStream::handshake(stream, session).await
    }
}

/// Opens TLS connections: runs the client side of the handshake on a connected
/// [`TcpStream`].
#[derive(Debug, Clone)]
pub struct TlsConnector {
    config: Arc<rustls::ClientConfig>,
}

impl TlsConnector {
    /// A connector using `config`.
    pub fn new(config: Arc<rustls::ClientConfig>) -> TlsConnector {
        TlsConnector { config }
    }

    /// Runs the client handshake on `stream`, verifying the server's certificate against
    /// `server_name` (a DNS name or an IP address).
    ///
    /// # Errors
    /// An [`io::Error`] wrapping a [`TlsError`](super::TlsError): invalid server name, bad
    /// certificate, certificate not valid for `server_name`, server not speaking TLS, server
    /// closed before the handshake finished; or a socket error.
    pub async fn connect(&self, server_name: &str, stream: TcpStream) -> io::Result<TlsStream> {
        let peer = stream.peer_addr()?;
        let session = TlsSession::client(self.config.clone(), server_name, peer)?;
        TlsStream::handshake(stream, session).await
    }
}

/// A TLS session over a [`TcpStream`], with the same `recv` / `send` / `send_all` API.
///
/// Close it with [`TlsStream::shutdown`] (sends `close_notify`) so the peer can tell a complete
/// stream from a truncated one; merely dropping it closes the TCP connection without
/// `close_notify`, which the peer reports as [`TlsError::Truncated`](super::TlsError::Truncated).
#[derive(Debug)]
pub struct TlsStream {
    tcp: TcpStream,
    session: TlsSession,
    close_notify_sent: bool,
}

impl TlsStream {
    async fn handshake(mut tcp: TcpStream, mut session: TlsSession) -> io::Result<TlsStream> {
        let mut wait = tcp.reg.waiter();
        poll_fn(|_| {
            tcp.reg
                .poll_op(&mut wait, OpKind::Stream, |sys, ready| session.handshake(sys, ready))
        })
        .await?;
        drop(wait);
        tcp.reg.emit(SocketEvent::TlsHandshake {
            server_name: session.server_name(),
        });
        Ok(TlsStream {
            tcp,
            session,
            close_notify_sent: false,
        })
    }

    /// Reads decrypted bytes into `buf`. Returns `0` once the peer has closed the session with
    /// `close_notify` (or when `buf` is empty).
    ///
    /// Cancel-safe: no decrypted data is lost if the future is dropped.
    ///
    /// # Errors
    /// [`TlsError::Truncated`](super::TlsError::Truncated) (kind `UnexpectedEof`) if the peer
    /// closed the connection without `close_notify`; other TLS or socket errors.
    pub async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut wait = self.tcp.reg.waiter();
        let session = &mut self.session;
        let n = poll_fn(|_| {
            self.tcp
                .reg
                .poll_op(&mut wait, OpKind::Stream, |sys, ready| session.read(sys, ready, buf))
        })
        .await?;
        self.tcp.reg.emit(SocketEvent::Received { bytes: n });
        Ok(n)
    }

    /// Encrypts up to one buffer-full of `buf` (rustls' limit, 64 KiB by default) and writes
    /// the records to the socket; returns once they are all in the kernel's send buffer.
    /// Returns how many plaintext bytes were taken.
    ///
    /// # Errors
    /// Socket errors (broken pipe, reset, ...).
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut wait = self.tcp.reg.waiter();
        let session = &mut self.session;
        let mut taken: Option<usize> = None;
        let n = poll_fn(|_| {
            self.tcp.reg.poll_op(&mut wait, OpKind::Stream, |sys, ready| {
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
        self.tcp.reg.emit(SocketEvent::Sent { bytes: n });
        Ok(n)
    }

    /// Sends all of `buf` (see [`TlsStream::send`]).
    ///
    /// # Errors
    /// As [`TlsStream::send`].
    pub async fn send_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.send(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Ends the session cleanly: sends `close_notify`, flushes every pending record, then shuts
    /// down the TCP write half. The stream can still receive what the peer sends until it
    /// closes in turn. Calling it again only re-flushes.
    ///
    /// # Errors
    /// Socket errors while flushing.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        if !self.close_notify_sent {
            self.session.send_close_notify();
            self.close_notify_sent = true;
        }
        let mut wait = self.tcp.reg.waiter();
        let session = &mut self.session;
        poll_fn(|_| {
            self.tcp
                .reg
                .poll_op(&mut wait, OpKind::Stream, |sys, ready| session.flush(sys, ready))
        })
        .await?;
        match self.tcp.shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
            _ => Ok(()),
        }
    }

    /// [`shutdown`](TlsStream::shutdown), then close the socket.
    ///
    /// # Errors
    /// As [`TlsStream::shutdown`]; the socket is closed in every case.
    pub async fn close(mut self) -> io::Result<()> {
        self.shutdown().await
    }

    /// Whether records are still buffered for sending (only after a cancelled `send`).
    pub fn has_pending_output(&self) -> bool {
        self.session.wants_write()
    }

    /// The server name: the one the client connected with, or the SNI name the client sent.
    pub fn server_name(&self) -> Option<&str> {
        self.session.server_name()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.session.peer()
    }

    /// The underlying TCP stream (for socket options such as `set_nodelay`).
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }
}
