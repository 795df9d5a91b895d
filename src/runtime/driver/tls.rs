//! TLS on the driver side: the rustls state machine pumped over a non-blocking stream.
//!
//! A [`TlsSession`] never waits. Each step moves as much data as the socket allows and then
//! reports [`Step::Ready`] or [`Step::Blocked`] with the direction it needs; the leaf futures
//! in `crate::net::tls` turn `Blocked` into a loop command. rustls errors become [`TlsError`]s
//! that name the peer.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

pub use rustls;
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::Direction;
use super::net::{GuardedIo, Readiness, Step, StreamSys};

/// A TLS failure on one connection. Converted into an [`io::Error`] (kind `InvalidData`,
/// `UnexpectedEof` for the two early-close cases, `TimedOut` for a handshake timeout) whose inner error is this value, so it can be
/// recovered with `err.get_ref().and_then(|e| e.downcast_ref::<TlsError>())`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The peer's certificate does not cover the server name we asked for.
    #[error("TLS handshake with {peer}: the server's certificate is not valid for the name {server_name:?}")]
    WrongServerName {
        /// The peer.
        peer: SocketAddr,
        /// The name the client connected with.
        server_name: String,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },
    /// The peer's certificate was rejected (unknown issuer, expired, malformed, ...).
    #[error("TLS handshake with {peer}: the peer's certificate was rejected: {source}")]
    BadCertificate {
        /// The peer.
        peer: SocketAddr,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },
    /// The peer aborted the session with a fatal alert (for example, it rejected our
    /// certificate).
    #[error("TLS with {peer}: the peer aborted with alert {source}")]
    PeerAlert {
        /// The peer.
        peer: SocketAddr,
        /// The alert, as reported by rustls.
        #[source]
        source: rustls::Error,
    },
    /// The peer sent bytes that are not a TLS record: it probably speaks plaintext.
    #[error("TLS with {peer}: the peer does not speak TLS (it sent data that is not a TLS record; plaintext client?)")]
    NotTls {
        /// The peer.
        peer: SocketAddr,
    },
    /// The peer closed the connection before the handshake finished.
    #[error("TLS handshake with {peer}: the peer closed the connection before the handshake finished")]
    HandshakeEof {
        /// The peer.
        peer: SocketAddr,
    },
    /// The handshake did not finish within the acceptor's or connector's handshake timeout
    /// (a slow or stalled peer); its connection was closed.
    #[error(
        "TLS handshake with {peer}: not finished after {limit:?} (handshake timeout); the peer is too slow or stalled"
    )]
    HandshakeTimeout {
        /// The peer.
        peer: SocketAddr,
        /// The time limit that expired.
        limit: std::time::Duration,
    },
    /// The peer closed the TCP connection without sending `close_notify`; data may have been
    /// cut off.
    #[error("TLS with {peer}: the peer closed the connection without close_notify (possible truncation)")]
    Truncated {
        /// The peer.
        peer: SocketAddr,
    },
    /// The server name given to the connector is not a valid DNS name or IP address.
    #[error("invalid TLS server name {name:?}: {reason}")]
    InvalidServerName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Any other TLS protocol error.
    #[error("TLS with {peer}: {source}")]
    Protocol {
        /// The peer.
        peer: SocketAddr,
        /// What rustls reported.
        #[source]
        source: rustls::Error,
    },
}

impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> io::Error {
        let kind = match e {
            TlsError::HandshakeEof { .. } | TlsError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            TlsError::InvalidServerName { .. } => io::ErrorKind::InvalidInput,
            TlsError::HandshakeTimeout { .. } => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// One TLS connection's state machine (client or server side).
#[derive(Debug)]
pub(crate) struct TlsSession {
    conn: Connection,
    peer: SocketAddr,
    server_name: Option<String>,
}

impl TlsSession {
    /// A client session that will verify the server against `server_name`.
    pub(crate) fn client(config: Arc<ClientConfig>, server_name: &str, peer: SocketAddr) -> io::Result<TlsSession> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|e| TlsError::InvalidServerName {
            name: server_name.to_owned(),
            reason: e.to_string(),
        })?;
        let conn = ClientConnection::new(config, name).map_err(|source| TlsError::Protocol { peer, source })?;
        Ok(TlsSession {
            conn: Connection::Client(conn),
            peer,
            server_name: Some(server_name.to_owned()),
        })
    }

    /// A server session.
    pub(crate) fn server(config: Arc<ServerConfig>, peer: SocketAddr) -> io::Result<TlsSession> {
        let conn = ServerConnection::new(config).map_err(|source| TlsError::Protocol { peer, source })?;
        Ok(TlsSession {
            conn: Connection::Server(conn),
            peer,
            server_name: None,
        })
    }

    /// The server name: the one connected to (client side) or sent by the client via SNI
    /// (server side).
    pub(crate) fn server_name(&self) -> Option<&str> {
        match &self.conn {
            Connection::Client(_) => self.server_name.as_deref(),
            Connection::Server(s) => s.server_name(),
        }
    }

    /// The peer's address.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Runs the handshake as far as the socket allows.
    pub(crate) fn handshake(&mut self, sock: &StreamSys, ready: &mut Readiness) -> io::Result<Step<()>> {
        let mut io = sock.guarded(ready);
        loop {
            if let Step::Blocked(d) = self.flush_io(&mut io)? {
                return Ok(Step::Blocked(d));
            }
            if !self.conn.is_handshaking() {
                return Ok(Step::Ready(()));
            }
            match self.conn.read_tls(&mut io) {
                Ok(0) => return Err(TlsError::HandshakeEof { peer: self.peer }.into()),
                Ok(_) => self.process(&mut io)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Blocked(Direction::Read)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads decrypted bytes into `buf`. `Ready(0)` means the peer closed the session with
    /// `close_notify` (or `buf` is empty).
    pub(crate) fn read(&mut self, sock: &StreamSys, ready: &mut Readiness, buf: &mut [u8]) -> io::Result<Step<usize>> {
        if buf.is_empty() {
            return Ok(Step::Ready(0));
        }
        let mut io = sock.guarded(ready);
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(Step::Ready(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(TlsError::Truncated { peer: self.peer }.into());
                }
                Err(e) => return Err(e),
            }
            // Records rustls wants to send (alerts, key updates) go out on a best-effort basis;
            // whatever is left is flushed by the next send.
            self.flush_io(&mut io)?;
            match self.conn.read_tls(&mut io) {
                Ok(_) => self.process(&mut io)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Blocked(Direction::Read)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands up to rustls' buffer limit of `buf` to the session for encryption; returns how many
    /// bytes were taken. Call [`TlsSession::flush`] afterwards.
    pub(crate) fn write_plain(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.writer().write(buf)
    }

    /// Writes pending TLS records to the socket until none is left.
    pub(crate) fn flush(&mut self, sock: &StreamSys, ready: &mut Readiness) -> io::Result<Step<()>> {
        self.flush_io(&mut sock.guarded(ready))
    }

    /// Whether encrypted records are waiting to be written.
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Queues a `close_notify` alert (flush it with [`TlsSession::flush`]).
    pub(crate) fn send_close_notify(&mut self) {
        self.conn.send_close_notify();
    }

    fn flush_io(&mut self, io: &mut GuardedIo<'_>) -> io::Result<Step<()>> {
        while self.conn.wants_write() {
            match self.conn.write_tls(io) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Blocked(Direction::Write)),
                Err(e) => return Err(e),
            }
        }
        Ok(Step::Ready(()))
    }

    /// Processes received records; on a protocol error, tries to send the alert rustls queued
    /// and returns the mapped error.
    fn process(&mut self, io: &mut GuardedIo<'_>) -> io::Result<()> {
        let handshaking = self.conn.is_handshaking();
        match self.conn.process_new_packets() {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = self.flush_io(io);
                Err(self.map_error(e, handshaking).into())
            }
        }
    }

    fn map_error(&self, source: rustls::Error, handshaking: bool) -> TlsError {
        let peer = self.peer;
        match &source {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => TlsError::WrongServerName {
                peer,
                server_name: self.server_name.clone().unwrap_or_default(),
                source,
            },
            rustls::Error::InvalidCertificate(_) => TlsError::BadCertificate { peer, source },
            rustls::Error::AlertReceived(_) => TlsError::PeerAlert { peer, source },
            rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType | rustls::InvalidMessage::UnknownProtocolVersion,
            ) if handshaking => TlsError::NotTls { peer },
            _ => TlsError::Protocol { peer, source },
        }
    }
}
