//! A minimal HTTP/1.1 server answering `GET /` with keep-alive, and a client that sends a few
//! requests over one connection. Requests are parsed with `httparse`.
//!
//! Run with `cargo run --example http_hello`.

use std::io;

use flowloop::net::{BufReader, BufWriter, ByteSink, ByteSource, TcpListener, TcpStream};
use flowloop::spawn;

const BODY: &str = "Hello from flowloop!\n";

/// Longest request or response head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// Reads one message head, up to and including the blank line; `None` if the peer closed
/// before sending another one.
async fn read_head<R: ByteSource>(r: &mut BufReader<R>) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        if !r.read_until(b'\n', &mut head).await?.is_complete() {
            return match head.is_empty() {
                true => Ok(None),
                false => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed mid-head")),
            };
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "message head too long"));
        }
    }
}

fn bad(e: httparse::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bad HTTP message: {e}"))
}

/// Parses a complete request head; returns (method, path, keep-alive).
fn parse_request(head: &[u8]) -> io::Result<(String, String, bool)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).map_err(bad)?;
    let close = req
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close"));
    let keep_alive = req.version == Some(1) && !close;
    let method = req.method.unwrap_or("").to_string();
    let path = req.path.unwrap_or("").to_string();
    Ok((method, path, keep_alive))
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

/// Serves requests on one connection until the client closes or asks to close. Pipelined
/// requests are answered with one flush.
async fn serve(mut conn: TcpStream) -> io::Result<usize> {
    let (rx, tx) = conn.split();
    let (mut requests, mut out) = (BufReader::new(rx), BufWriter::new(tx));
    let mut served = 0;
    while let Some(head) = read_head(&mut requests).await? {
        let (method, path, keep_alive) = parse_request(&head)?;
        println!("server: {method} {path}");
        out.write_all(response(&method, &path, keep_alive).as_bytes()).await?;
        served += 1;
        if !keep_alive {
            break;
        }
        if requests.buffer().is_empty() {
            out.flush().await?;
        }
    }
    out.flush().await?;
    Ok(served)
}

/// Reads one response (head + Content-Length body); returns (status, body).
async fn read_response<R: ByteSource>(conn: &mut BufReader<R>) -> io::Result<(u16, String)> {
    let head = read_head(conn)
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "server closed before responding"))?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    resp.parse(&head).map_err(bad)?;
    let len = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).await?;
    Ok((resp.code.unwrap_or(0), String::from_utf8_lossy(&body).into_owned()))
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
        // The client reads through a buffer; `send_all` passes straight through to the stream.
        let mut conn = BufReader::new(TcpStream::connect(addr).await?);
        let requests = [
            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ];
        for req in requests {
            conn.send_all(req.as_bytes()).await?;
            let (status, body) = read_response(&mut conn).await?;
            println!("client: {} -> {status} {body:?}", req.lines().next().unwrap_or(""));
        }
        let served = server.join().await.map_err(io::Error::other)??;
        println!("served {served} requests on one keep-alive connection");
        io::Result::Ok(())
    })??;
    Ok(())
}
