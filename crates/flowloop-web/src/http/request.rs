//! Reading one request: head parsed by `httparse`, body by `Content-Length`, both bounded in
//! size and time.

use std::time::Instant;

use flowloop::net::TcpStream;

use super::response::Status;
use crate::config::Limits;

/// Request methods the server answers (others get `405`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// One parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// HTTP/1.0 without keep-alive, or `Connection: close`.
    pub(crate) close: bool,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of query parameter `name` (no percent-decoding beyond `+`; the server's own
    /// parameters are plain tokens).
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadFault {
    /// The peer closed (or reset) the connection between requests: nothing to answer.
    Closed,
    /// The connection sat idle past the idle timeout: close quietly.
    Idle,
    /// A bad or too-large request: answer with this status and close.
    Reject(Status, &'static str),
}

/// Reads the next request from `stream`, using and refilling `buf` (which may already hold
/// bytes of a pipelined request).
pub(crate) async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limits: &Limits,
) -> Result<Request, ReadFault> {
    let mut deadline = (!buf.is_empty()).then(|| Instant::now() + limits.request_timeout);
    loop {
        if !buf.is_empty() {
            if let Some((head_len, req)) = parse_head(buf, limits)? {
                buf.drain(..head_len);
                let deadline = deadline.unwrap_or_else(|| Instant::now() + limits.request_timeout);
                return read_body(stream, buf, limits, req, deadline).await;
            }
        }
        if buf.len() >= limits.max_head_bytes {
            return Err(ReadFault::Reject(Status::HeaderTooLarge, "request head too large"));
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => limits.idle_timeout,
        };
        let first = buf.is_empty();
        fill(stream, buf, wait, first).await?;
        deadline.get_or_insert_with(|| Instant::now() + limits.request_timeout);
    }
}

/// Reads more bytes into `buf` within `wait`.
async fn fill(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    wait: std::time::Duration,
    first: bool,
) -> Result<(), ReadFault> {
    let mut chunk = [0u8; 4096];
    match flowloop::timeout(wait, stream.recv(&mut chunk)).await {
        Err(_) if first => Err(ReadFault::Idle),
        Err(_) => Err(ReadFault::Reject(
            Status::RequestTimeout,
            "request not received in time",
        )),
        Ok(Ok(0)) | Ok(Err(_)) => Err(ReadFault::Closed),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}

/// Parses a complete head from `buf`; `Ok(None)` while it is incomplete.
fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(usize, Request)>, ReadFault> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ReadFault::Reject(Status::HeaderTooLarge, "too many request headers"));
        }
        Err(_) => return Err(ReadFault::Reject(Status::BadRequest, "malformed request")),
    };
    if head_len > limits.max_head_bytes {
        return Err(ReadFault::Reject(Status::HeaderTooLarge, "request head too large"));
    }
    Ok(Some((head_len, to_request(&parsed)?)))
}

fn to_request(parsed: &httparse::Request<'_, '_>) -> Result<Request, ReadFault> {
    let bad = |why| ReadFault::Reject(Status::BadRequest, why);
    let target = parsed.path.ok_or_else(|| bad("no request target"))?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    let method = match parsed.method {
        Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some("POST") => Method::Post,
        _ => Method::Other,
    };
    let conn = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("connection"));
    let conn = conn.map(|(_, v)| v.to_ascii_lowercase());
    let close = match parsed.version {
        Some(0) => conn.as_deref() != Some("keep-alive"),
        _ => conn.as_deref() == Some("close"),
    };
    Ok(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
        close,
    })
}

/// Reads the body announced by `Content-Length` (chunked bodies are refused).
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limits: &Limits,
    mut req: Request,
    deadline: Instant,
) -> Result<Request, ReadFault> {
    if req.header("transfer-encoding").is_some() {
        return Err(ReadFault::Reject(
            Status::LengthRequired,
            "chunked bodies are not accepted; send Content-Length",
        ));
    }
    let len = match req.header("content-length") {
        None => 0,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| ReadFault::Reject(Status::BadRequest, "invalid Content-Length"))?,
    };
    if len > limits.max_body_bytes {
        return Err(ReadFault::Reject(Status::PayloadTooLarge, "request body too large"));
    }
    while buf.len() < len {
        let wait = deadline.saturating_duration_since(Instant::now());
        fill(stream, buf, wait, false).await?;
    }
    req.body = buf.drain(..len).collect();
    Ok(req)
}
