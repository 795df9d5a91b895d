//! [`ServerConfig`] and [`Limits`]: where the server listens, who may use it, and how much a
//! client may ask of it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Whether clients may change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Access {
    /// Reads and commands (run, stop, edits).
    #[default]
    ReadWrite,
    /// Reads only: every `POST` is answered `403 Forbidden`.
    ReadOnly,
}

/// Bounds on what one client may cost the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request head (request line and headers), in bytes; more is `431`.
    pub max_head_bytes: usize,
    /// Most headers in one request; more is `431`.
    pub max_headers: usize,
    /// Largest request body, in bytes; more is `413`.
    pub max_body_bytes: usize,
    /// Time a client has to send a whole request once its first byte arrived (slow clients
    /// get `408` and are disconnected).
    pub request_timeout: Duration,
    /// Time a keep-alive connection may sit without a request before it is closed.
    pub idle_timeout: Duration,
    /// Time one response or event frame may take to be written; a client that does not read
    /// is disconnected after it.
    pub write_timeout: Duration,
    /// Interval of keep-alive comments on an idle event stream.
    pub keepalive: Duration,
    /// Most open connections; further ones are closed at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 48,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
            max_connections: 1024,
        }
    }
}

/// Where and how the dashboard server listens.
///
/// ```
/// use flowloop_web::{Access, ServerConfig};
/// let config = ServerConfig::new().access(Access::ReadOnly);
/// assert_eq!(config.addr().port(), 0); // 127.0.0.1, any free port
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(crate) addr: SocketAddr,
    pub(crate) token: Option<String>,
    pub(crate) access: Access,
    pub(crate) limits: Limits,
    pub(crate) sample_every: Duration,
    pub(crate) stall_after: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            token: None,
            access: Access::ReadWrite,
            limits: Limits::default(),
            sample_every: Duration::from_millis(100),
            stall_after: Duration::from_millis(500),
        }
    }
}

impl ServerConfig {
    /// 127.0.0.1 on a free port, no token, read-write, default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Listen on `addr`. Any address that is not loopback needs a [`token`](Self::token).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Require this token: as `Authorization: Bearer <token>` or as `?token=<token>` in the URL
    /// (the page passes it on to its own requests).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Read-only or read-write.
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Per-client bounds.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How often the flow's loop publishes a snapshot (default 100 ms).
    pub fn sample_every(mut self, every: Duration) -> Self {
        self.sample_every = every.max(Duration::from_millis(1));
        self
    }

    /// How long without a snapshot before the page reports the flow's loop as stalled and
    /// names the running node (default 500 ms).
    pub fn stall_after(mut self, after: Duration) -> Self {
        self.stall_after = after;
        self
    }

    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn check(&self) -> Result<(), crate::WebError> {
        if !self.addr.ip().is_loopback() && self.token.is_none() {
            return Err(crate::WebError::TokenRequired { addr: self.addr });
        }
        Ok(())
    }
}
