//! HTTP/1.1 on the wire: reading one request (head parsed by `httparse`, body by
//! `Content-Length` or `chunked`, all within [`Limits`]) and writing one response.

use std::io;
use std::time::Duration;

use flowloop::net::{BufReader, ByteSink, ByteSource, Line};

/// Size and time limits of an HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line and headers), in bytes; more gets 431.
    pub max_head: usize,
    /// Largest request body, in bytes; more gets 413.
    pub max_body: usize,
    /// Most header lines; more gets 431.
    pub max_headers: usize,
    /// How long a connection may wait for (the rest of) a request before it is closed
    /// (a partial request gets 408 first).
    pub idle: Duration,
    /// How long the graph may take to answer a request before it gets 504.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16 * 1024,
            max_body: 1024 * 1024,
            max_headers: 64,
            idle: Duration::from_secs(30),
            deadline: Duration::from_secs(10),
        }
    }
}

/// One request as it came off the wire.
#[derive(Debug)]
pub(crate) struct RawRequest {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) keep_alive: bool,
}

impl RawRequest {
    /// The first header named `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// Why no request was read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// The request is unacceptable: answer with this status and message, then close.
    Reject(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::InvalidData {
            ReadError::Reject(431, "a request line or header is longer than the head limit".into())
        } else {
            ReadError::Io(e)
        }
    }
}

/// Reads the head lines up to the empty line that ends them.
async fn read_head<R: ByteSource>(r: &mut BufReader<R>, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match r.read_until(b'\n', &mut head).await? {
            Line::Eof if head.is_empty() => return Err(ReadError::Closed),
            Line::Complete(_) => {}
            _ => {
                return Err(ReadError::Reject(
                    400,
                    "the connection ended inside the request head".into(),
                ));
            }
        }
        if head.len() > limits.max_head {
            return Err(ReadError::Reject(
                431,
                format!("the request head is over {} bytes", limits.max_head),
            ));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                head.clear(); // a stray empty line between requests is allowed (RFC 9112 2.2)
                continue;
            }
            return Ok(head);
        }
    }
}

/// Reads one request: its head, then its body.
pub(crate) async fn read_request<R: ByteSource>(
    r: &mut BufReader<R>,
    limits: &Limits,
) -> Result<RawRequest, ReadError> {
    r.set_line_limit(limits.max_head);
    let head = read_head(r, limits).await?;
    let mut request = parse_head(&head, limits)?;
    request.body = read_body(r, &request.headers, limits).await?;
    Ok(request)
}

fn parse_head(head: &[u8], limits: &Limits) -> Result<RawRequest, ReadError> {
    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(ReadError::Reject(400, "incomplete request head".into())),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ReadError::Reject(
                431,
                format!("more than {} headers", limits.max_headers),
            ));
        }
        Err(e) => return Err(ReadError::Reject(400, format!("malformed request head: {e}"))),
    }
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let version = parsed.version.unwrap_or(1);
    let connection = headers
        .iter()
        .find(|(k, _)| k == "connection")
        .map(|(_, v)| v.to_ascii_lowercase());
    let keep_alive = match connection.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => version == 1,
    };
    Ok(RawRequest {
        method: parsed.method.unwrap_or("GET").to_string(),
        target: parsed.path.unwrap_or("/").to_string(),
        headers,
        body: Vec::new(),
        keep_alive,
    })
}

/// The first header named `name` (lowercase) in `headers`.
pub(crate) fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads a body framed by `Content-Length` or chunked encoding (empty when neither is given).
pub(crate) async fn read_body<R: ByteSource>(
    r: &mut BufReader<R>,
    headers: &[(String, String)],
    limits: &Limits,
) -> Result<Vec<u8>, ReadError> {
    let chunked = header(headers, "transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(r, limits).await;
    }
    let Some(len) = header(headers, "content-length") else {
        return Ok(Vec::new());
    };
    let len: usize = len
        .trim()
        .parse()
        .map_err(|_| ReadError::Reject(400, format!("Content-Length `{len}` is not a number")))?;
    if len > limits.max_body {
        return Err(too_large(limits));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.map_err(body_error)?;
    Ok(body)
}

fn too_large(limits: &Limits) -> ReadError {
    ReadError::Reject(413, format!("the request body is over {} bytes", limits.max_body))
}

fn body_error(e: io::Error) -> ReadError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ReadError::Reject(400, format!("the connection ended inside the body: {e}"))
    } else {
        ReadError::from(e)
    }
}

async fn read_chunk_line<R: ByteSource>(r: &mut BufReader<R>) -> Result<String, ReadError> {
    let mut line = Vec::new();
    match r.read_until(b'\n', &mut line).await? {
        Line::Complete(_) => Ok(String::from_utf8_lossy(&line).trim().to_string()),
        _ => Err(ReadError::Reject(
            400,
            "the connection ended inside a chunked body".into(),
        )),
    }
}

async fn read_chunked<R: ByteSource>(r: &mut BufReader<R>, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_chunk_line(r).await?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Reject(400, format!("chunk size `{size_text}` is not hexadecimal")))?;
        if size == 0 {
            while !read_chunk_line(r).await?.is_empty() {} // trailers, up to the empty line
            return Ok(body);
        }
        if body.len() + size > limits.max_body {
            return Err(too_large(limits));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).await.map_err(body_error)?;
        if !read_chunk_line(r).await?.is_empty() {
            return Err(ReadError::Reject(
                400,
                "a chunk is longer than its size line says".into(),
            ));
        }
    }
}

/// The reason phrase of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// One response ready to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    /// A JSON `{"error": message}` response.
    pub(crate) fn error(status: u16, message: &str) -> RawResponse {
        let body = serde_json::json!({ "error": message }).to_string().into_bytes();
        RawResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    /// The response's bytes (status line, headers, `Content-Length`, body).
    pub(crate) fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes());
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection") {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: {connection}\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

/// Writes `response` and flushes it.
pub(crate) async fn write_response<W: ByteSink>(w: &mut W, response: &RawResponse, keep_alive: bool) -> io::Result<()> {
    w.send_all(&response.encode(keep_alive)).await
}
