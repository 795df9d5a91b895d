//! [`WebError`]: what can go wrong when starting or driving a dashboard server.

use std::net::SocketAddr;

/// Errors of the dashboard server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The server was asked to listen on an address other than loopback without a token.
    #[error(
        "refusing to serve the dashboard on {addr} without a token: anyone who can reach it could \
         control the flow; set ServerConfig::token, or bind 127.0.0.1"
    )]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server thread or its event loop could not be started.
    #[error("cannot start the dashboard server thread: {0}")]
    Start(String),
}
