//! The `io` shelf: files (read on an offload thread, so the loop keeps running) and one TCP
//! request/response exchange over flowloop's own sockets. Failures name the input at fault
//! (`path`, `address`) and the operating system's reason.

use std::io::Write;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use flowloop::net::TcpStream;

use crate::kind::{KindError, kind_error};
use crate::{Shelf, Value};

/// Runs a blocking file operation on an offload thread.
async fn offloaded<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
    port: &str,
) -> Result<T, KindError> {
    match flowloop::offload(f).await {
        Ok(result) => result.map_err(|problem| kind_error(port, &problem)),
        Err(e) => Err(kind_error(port, &format!("the file operation failed: {e}"))),
    }
}

/// The text of the file at `path` (UTF-8).
#[crate::kind(name = "io.read_text")]
pub async fn read_text(path: String) -> Result<String, KindError> {
    offloaded(
        move || std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{path}`: {e}")),
        "path",
    )
    .await
}

/// The bytes of the file at `path`.
#[crate::kind(name = "io.read_bytes")]
pub async fn read_bytes(path: String) -> Result<Vec<u8>, KindError> {
    offloaded(
        move || std::fs::read(&path).map_err(|e| format!("cannot read `{path}`: {e}")),
        "path",
    )
    .await
}

/// The bytes to write for `content`: a string's UTF-8, or bytes.
fn content_bytes(content: &Value) -> Result<Vec<u8>, KindError> {
    match content {
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        Value::Bytes(b) => Ok(b.to_vec()),
        other => Err(kind_error(
            "content",
            &format!("expected string or bytes, got {}", other.type_of()),
        )),
    }
}

/// Writes `content` (a string or bytes) to the file at `path`, replacing it, or appending
/// when `append`; outputs the number of bytes written.
#[crate::kind(name = "io.write_file")]
pub async fn write_file(path: String, content: Value, #[default(false)] append: bool) -> Result<i64, KindError> {
    let bytes = content_bytes(&content)?;
    offloaded(
        move || {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&path)
                .map_err(|e| format!("cannot open `{path}` for writing: {e}"))?;
            file.write_all(&bytes)
                .map_err(|e| format!("cannot write `{path}`: {e}"))?;
            Ok(bytes.len() as i64)
        },
        "path",
    )
    .await
}

/// Sends `request`, closes the sending side, and reads the reply until the peer closes.
async fn exchange(addr: SocketAddr, request: &[u8], limit: Duration, max: usize) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect_timeout(addr, limit)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .send_all(request)
        .await
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| format!("closing the request to {addr}: {e}"))?;
    let mut reply = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream
            .recv(&mut buf)
            .await
            .map_err(|e| format!("reading from {addr}: {e}"))?;
        if n == 0 {
            return Ok(reply);
        }
        if reply.len() + n > max {
            return Err(format!("the reply from {addr} is over {max} bytes (raise `max_bytes`)"));
        }
        reply.extend_from_slice(&buf[..n]);
    }
}

/// Connects to `address` (`host:port`, an IP address), sends `request` (string or bytes),
/// and outputs every byte the server sends back before closing; the whole exchange must end
/// within `timeout` ms and the reply fit in `max_bytes`.
#[crate::kind(name = "io.tcp_request")]
pub async fn tcp_request(
    address: String,
    request: Value,
    #[default(5000.0)] timeout: f64,
    #[default(16_777_216)] max_bytes: i64,
) -> Result<Vec<u8>, KindError> {
    let addr: SocketAddr = address
        .parse()
        .map_err(|e| kind_error("address", &format!("`{address}` is not an ip:port address: {e}")))?;
    let bytes = content_bytes(&request).map_err(|_| kind_error("request", "expected string or bytes"))?;
    let limit = Duration::try_from_secs_f64(timeout / 1000.0)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| kind_error("timeout", &format!("{timeout} ms is not a positive duration")))?;
    let max = usize::try_from(max_bytes).map_err(|_| kind_error("max_bytes", &format!("{max_bytes} is negative")))?;
    match flowloop::timeout(limit, exchange(addr, &bytes, limit, max)).await {
        Ok(result) => result.map_err(|problem| kind_error("address", &problem)),
        Err(_) => Err(kind_error(
            "address",
            &format!("no complete reply from {addr} within {timeout} ms"),
        )),
    }
}

/// The `io` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "io",
        "Files and sockets: read_text, read_bytes, write_file, tcp_request",
    )
    .with(read_text_kind())
    .with(read_bytes_kind())
    .with(write_file_kind())
    .with(tcp_request_kind())
}
