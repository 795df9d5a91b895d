//! One connection: requests in order (keep-alive, pipelining), until the client closes, times
//! out, sends something bad, or switches to an event stream.

use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::time::Duration;

use flowloop::net::TcpStream;

use super::request::{Method, ReadFault, read_request};
use super::response::{Reply, Response};
use crate::server::App;

/// Serves requests on `stream` until it closes.
pub(crate) async fn serve_connection(mut stream: TcpStream, app: Rc<App>) {
    let limits = app.config().limits.clone();
    let mut buf = Vec::new();
    loop {
        let req = match read_request(&mut stream, &mut buf, &limits).await {
            Ok(r) => r,
            Err(ReadFault::Closed | ReadFault::Idle) => return,
            Err(ReadFault::Reject(status, why)) => {
                let bytes = Response::error(status, why).encode(true, false);
                if write_all(&mut stream, &bytes, limits.write_timeout).await.is_ok() {
                    linger_close(&mut stream).await;
                }
                return;
            }
        };
        match app.route(&req).await {
            Reply::Plain(resp) => {
                let bytes = resp.encode(req.close, req.method == Method::Head);
                if write_all(&mut stream, &bytes, limits.write_timeout).await.is_err() || req.close {
                    return;
                }
            }
            Reply::Events => {
                crate::sse::stream_events(stream, &app).await;
                return;
            }
        }
    }
}

/// Writes all of `bytes` within `limit`; a client that does not read fails with `TimedOut`.
pub(crate) async fn write_all(stream: &mut TcpStream, bytes: &[u8], limit: Duration) -> io::Result<()> {
    match flowloop::timeout(limit, stream.send_all(bytes)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "client did not read in time")),
    }
}

/// After an error response: stop writing and read (and drop) what the client still sends for
/// a moment, so closing does not reset the connection before the client read the response.
async fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match flowloop::timeout(Duration::from_millis(200), stream.recv(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => continue,
            _ => return,
        }
    }
}
