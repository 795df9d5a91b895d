//! A small Redis client on flowloop's [`TcpStream`](flowloop::net::TcpStream).
//!
//! The wire codec is the `redis-protocol` crate; this module adds the connection handshake
//! (`HELLO 3` with `AUTH`, falling back to RESP2 and a plain `AUTH` when the server does not
//! speak RESP3), pipelining ([`Connection::pipeline`] writes every command, then reads every
//! reply), and [`Client`], which reconnects with exponential backoff and keeps Lua scripts
//! loaded across server restarts.
//!
//! ```no_run
//! use flowloop_redis::resp::{Client, Cmd, Config};
//!
//! flowloop::run(async {
//!     let config = Config::from_url("redis://127.0.0.1:6379").unwrap();
//!     let mut client = Client::new(config);
//!     let pong = client.call(&Cmd::new("PING")).await.unwrap();
//!     assert_eq!(pong.as_str(), Some("PONG"));
//! })
//! .unwrap();
//! ```

mod client;
mod cmd;
mod config;
mod conn;
mod reply;

pub use client::{Client, Script};
pub use cmd::Cmd;
pub use config::{Config, Protocol};
pub use conn::Connection;
pub use reply::Reply;

use std::io;

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RespError {
    /// The URL could not be parsed.
    #[error("bad Redis URL `{url}`: {reason} (expected redis://[user:password@]host:port[/db])")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A socket error talking to `addr`; the connection is dropped and the next call reconnects.
    #[error("connection to Redis at {addr} failed: {source}")]
    Io {
        /// The server's address as configured.
        addr: String,
        /// The socket error.
        #[source]
        source: io::Error,
    },
    /// The server sent bytes the codec could not decode.
    #[error("Redis at {addr} sent a malformed reply: {reason}")]
    Protocol {
        /// The server's address as configured.
        addr: String,
        /// The codec's message.
        reason: String,
    },
    /// The server refused the credentials.
    #[error("Redis at {addr} refused authentication: {message} (check the user and password in the URL)")]
    Auth {
        /// The server's address as configured.
        addr: String,
        /// The server's error text.
        message: String,
    },
    /// The server answered a command with an error reply.
    #[error("Redis command {command} failed: {message}")]
    Server {
        /// The command name.
        command: String,
        /// The server's error text.
        message: String,
    },
    /// Reconnecting kept failing until the configured deadline.
    #[error("gave up reconnecting to Redis at {addr} after {attempts} attempts: {last}")]
    GaveUp {
        /// The server's address as configured.
        addr: String,
        /// How many connection attempts were made.
        attempts: u32,
        /// The last error seen.
        last: String,
    },
}

impl RespError {
    /// True for errors after which a reconnect may help (socket errors).
    pub fn is_connection(&self) -> bool {
        matches!(self, RespError::Io { .. } | RespError::Protocol { .. })
    }
}
