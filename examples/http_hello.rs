//! A minimal HTTP/1.1 server answering `GET /` with keep-alive, and a client that sends a few
//! requests over one connection. Requests are parsed with `httparse`.
//!
//! Run with `cargo run --example http_hello`.

use std::io;

use flowloop::net::{TcpListener, TcpStream};
use flowloop::spawn;

const BODY: &str = "Hello from flowloop!\n";

/// Parses one complete request from the front of `buf`; returns (method, path, keep-alive,
/// bytes used), or `None` if more bytes are needed.
fn parse_request(buf: &[u8]) -> io::Result<Option<(String, String, bool, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(used)) => {
            let close = req
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close"));
            let keep_alive = req.version == Some(1) && !close;
            let method = req.method.unwrap_or("").to_string();
            let path = req.path.unwrap_or("").to_string();
            Ok(Some((method, path, keep_alive, used)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad HTTP request: {e}"),
        )),
    }
}

fn response(method: &str, path: &str, keep_alive: bool) -> String {
    let (status, body) = match (method, path) {
        ("GET", "/") => ("200 OK", BODY),
        ("GET", _) => ("404 Not Found", "not found\n"),
        _ => ("405 Method Not Allowed", "only GET\n"),
    };
    let conn = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {conn}\r\n\r\n{body}",
        body.len()
    )
}

/// Serves requests on one connection until the client closes or asks to close.
async fn serve(mut conn: TcpStream) -> io::Result<usize> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut served = 0;
    loop {
        while let Some((method, path, keep_alive, used)) = parse_request(&buf)? {
            buf.drain(..used);
            println!("server: {method} {path}");
            conn.send_all(response(&method, &path, keep_alive).as_bytes()).await?;
            served += 1;
            if !keep_alive {
                return Ok(served);
            }
        }
        let n = conn.recv(&mut chunk).await?;
        if n == 0 {
            return Ok(served);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one response (headers + Content-Length body); returns (status, body).
async fn read_response(conn: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<(u16, String)> {
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = resp
            .parse(buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
        {
            let len = resp
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= head + len {
                let status = resp.code.unwrap_or(0);
                let body = String::from_utf8_lossy(&buf[head..head + len]).into_owned();
                buf.drain(..head + len);
                return Ok((status, body));
            }
        }
        let n = conn.recv(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed mid-response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    flowloop::run(async {
        let mut listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("HTTP server listening on http://{addr}/");
        let server = spawn(async move {
            let (conn, peer) = listener.accept().await?;
            println!("server: connection from {peer}");
            serve(conn).await
        })
        .await;
        let mut conn = TcpStream::connect(addr).await?;
        let mut buf = Vec::new();
        let requests = [
            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ];
        for req in requests {
            conn.send_all(req.as_bytes()).await?;
            let (status, body) = read_response(&mut conn, &mut buf).await?;
            println!("client: {} -> {status} {body:?}", req.lines().next().unwrap_or(""));
        }
        let served = server.join().await.map_err(io::Error::other)??;
        println!("served {served} requests on one keep-alive connection");
        io::Result::Ok(())
    })??;
    Ok(())
}
