//! [`Reply`]: one decoded server reply, the same shape for RESP2 and RESP3.

use redis_protocol::resp2::types::OwnedFrame as Frame2;
use redis_protocol::resp3::types::OwnedFrame as Frame3;

use super::RespError;

/// One reply from the server. RESP2 and RESP3 frames both decode into this type, so callers
/// never see which protocol the connection speaks (a RESP3 map and a RESP2 flat array of
/// key/value pairs both answer [`Reply::pairs`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// The null reply (missing key, timed-out blocking read).
    Nil,
    /// An integer.
    Int(i64),
    /// A bulk or simple string, as bytes.
    Bytes(Vec<u8>),
    /// A double (RESP3 only).
    Double(f64),
    /// A boolean (RESP3 only).
    Bool(bool),
    /// An array, set or push frame.
    Array(Vec<Reply>),
    /// A map (RESP3 only), as key/value pairs.
    Map(Vec<(Reply, Reply)>),
    /// An error reply such as `ERR unknown command` or `NOSCRIPT ...`.
    Error(String),
}

impl Reply {
    /// The reply as text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Reply::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The reply as an integer; numeric strings count too (Lua and `XINFO` return both).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(n) => Some(*n),
            Reply::Bytes(_) => self.as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// The elements of an array reply (empty for `Nil`).
    pub fn items(&self) -> &[Reply] {
        match self {
            Reply::Array(items) => items,
            _ => &[],
        }
    }

    /// Consumes an array reply into its elements (empty for `Nil` and scalars).
    pub fn into_items(self) -> Vec<Reply> {
        match self {
            Reply::Array(items) => items,
            _ => Vec::new(),
        }
    }

    /// Key/value pairs of a RESP3 map or of a RESP2 flat array `[k1, v1, k2, v2, ...]`.
    pub fn pairs(self) -> Vec<(Reply, Reply)> {
        match self {
            Reply::Map(pairs) => pairs,
            Reply::Array(items) => {
                let mut it = items.into_iter();
                let mut out = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    out.push((k, v));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The error text when this is an error reply.
    pub fn error(&self) -> Option<&str> {
        match self {
            Reply::Error(e) => Some(e),
            _ => None,
        }
    }

    /// Turns an error reply into [`RespError::Server`], naming `command`.
    pub fn check(self, command: &str) -> Result<Reply, RespError> {
        match self {
            Reply::Error(message) => Err(RespError::Server {
                command: command.to_string(),
                message,
            }),
            other => Ok(other),
        }
    }

    pub(crate) fn from_resp2(frame: Frame2) -> Reply {
        match frame {
            Frame2::SimpleString(b) | Frame2::BulkString(b) => Reply::Bytes(b),
            Frame2::Error(e) => Reply::Error(e),
            Frame2::Integer(n) => Reply::Int(n),
            Frame2::Array(items) => Reply::Array(items.into_iter().map(Reply::from_resp2).collect()),
            Frame2::Null => Reply::Nil,
        }
    }

    pub(crate) fn from_resp3(frame: Frame3) -> Reply {
        match frame {
            Frame3::BlobString { data, .. }
            | Frame3::SimpleString { data, .. }
            | Frame3::BigNumber { data, .. }
            | Frame3::VerbatimString { data, .. }
            | Frame3::ChunkedString(data) => Reply::Bytes(data),
            Frame3::BlobError { data, .. } => Reply::Error(String::from_utf8_lossy(&data).into_owned()),
            Frame3::SimpleError { data, .. } => Reply::Error(data),
            Frame3::Boolean { data, .. } => Reply::Bool(data),
            Frame3::Null => Reply::Nil,
            Frame3::Number { data, .. } => Reply::Int(data),
            Frame3::Double { data, .. } => Reply::Double(data),
            Frame3::Array { data, .. } | Frame3::Push { data, .. } => {
                Reply::Array(data.into_iter().map(Reply::from_resp3).collect())
            }
            Frame3::Set { data, .. } => Reply::Array(data.into_iter().map(Reply::from_resp3).collect()),
            Frame3::Map { data, .. } => Reply::Map(
                data.into_iter()
                    .map(|(k, v)| (Reply::from_resp3(k), Reply::from_resp3(v)))
                    .collect(),
            ),
            Frame3::Hello { .. } => Reply::Nil,
        }
    }
}
