//! HTTP/1.1 on a flowloop [`TcpStream`](flowloop::net::TcpStream): reading requests within
//! [`Limits`](crate::Limits), writing responses, and the per-connection loop.

mod conn;
mod request;
mod response;

pub(crate) use conn::{serve_connection, write_all};
pub(crate) use request::{Method, Request};
pub(crate) use response::{EVENTS_HEAD, Reply, Response, Status};
