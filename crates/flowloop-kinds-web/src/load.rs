//! A small blocking HTTP/1.1 load generator for measuring a server: keep-alive clients, each
//! on its own thread, send requests one after another and time every response.
//!
//! The `todo_load` example and the benches' `todo_web` rows measure the todo API with it.
//!
//! ```no_run
//! use flowloop_kinds_web::load::{Load, todo};
//! let addr = "127.0.0.1:8080".parse().unwrap();
//! todo::seed(addr, 100).unwrap();
//! let report = Load::new(50, 200).run(addr, todo::get_request).unwrap();
//! println!("{} req/s, p99 {:?}", report.rps(), report.percentile(0.99));
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use flowloop_graph::Graph;

use crate::http::{Limits, Server};

/// How long a client waits for a response before it gives up.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `request` and reads one `Content-Length` framed response into `buf`; returns its
/// status.
///
/// # Errors
/// The socket's error, or `InvalidData` for a connection closed inside a response or a
/// response that is not HTTP.
pub fn call(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> io::Result<u16> {
    s.write_all(request)?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(bad("the server closed the connection inside a response"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(status) = complete_response(buf)? {
            return Ok(status);
        }
    }
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// The status of the response in `buf` once all of it arrived.
fn complete_response(buf: &[u8]) -> io::Result<Option<u16>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0);
    if buf.len() < end + 4 + len {
        return Ok(None);
    }
    let status = head.get(9..12).and_then(|s| s.parse().ok());
    status
        .map(Some)
        .ok_or_else(|| bad("the response has no HTTP status line"))
}

/// Serves `graph` on 127.0.0.1 (any free port) from a new thread with its own loop, for as
/// long as the process runs; returns the address.
///
/// # Errors
/// The graph cannot be served or the port not bound (the message says why).
pub fn serve_on_thread(graph: Graph) -> Result<SocketAddr, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let served = flowloop::run(async move {
            let server = match Server::bind(&graph, Some("127.0.0.1:0"), Limits::default()) {
                Ok(s) => s,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            let _ = tx.send(server.local_addr().map_err(|e| e.to_string()));
            if let Err(e) = server.run().await {
                eprintln!("the load test server stopped: {e}");
            }
        });
        if let Err(e) = served {
            eprintln!("the load test server's loop failed: {e}");
        }
    });
    rx.recv()
        .map_err(|_| "the server thread ended before it bound".to_string())?
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Report {
    /// Requests per second over the run.
    pub fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which fraction `p` (0 to 1) of the requests finished.
    pub fn percentile(&self, p: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        let i = ((self.latencies.len() as f64 * p) as usize).min(last);
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

/// A load: how many keep-alive clients, and how many requests each sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Concurrent clients (one thread and one connection each).
    pub clients: usize,
    /// Requests per client.
    pub per_client: usize,
}

impl Load {
    /// `clients` clients sending `per_client` requests each.
    pub fn new(clients: usize, per_client: usize) -> Load {
        Load { clients, per_client }
    }

    /// Runs the load against `addr`: client `c`'s request `i` is `request(c, i)`, and every
    /// response must have status 200.
    ///
    /// # Errors
    /// The first client's socket error, or `InvalidData` naming a status other than 200.
    pub fn run(self, addr: SocketAddr, request: fn(usize, usize) -> String) -> io::Result<Report> {
        let start = Instant::now();
        let threads: Vec<_> = (0..self.clients)
            .map(|c| std::thread::spawn(move || client(addr, c, self.per_client, request)))
            .collect();
        let mut latencies = Vec::with_capacity(self.clients * self.per_client);
        for t in threads {
            let times = t.join().map_err(|_| io::Error::other("a load client panicked"))??;
            latencies.extend(times);
        }
        let elapsed = start.elapsed();
        latencies.sort_unstable();
        Ok(Report { elapsed, latencies })
    }
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(RESPONSE_TIMEOUT))?;
    Ok(s)
}

fn client(
    addr: SocketAddr,
    c: usize,
    requests: usize,
    request: fn(usize, usize) -> String,
) -> io::Result<Vec<Duration>> {
    let mut s = connect(addr)?;
    let mut buf = Vec::new();
    (0..requests)
        .map(|i| {
            let req = request(c, i);
            let start = Instant::now();
            match call(&mut s, req.as_bytes(), &mut buf)? {
                200 => Ok(start.elapsed()),
                other => Err(bad(&format!("`{}` got status {other}", first_line(&req)))),
            }
        })
        .collect()
}

fn first_line(request: &str) -> &str {
    request.lines().next().unwrap_or("")
}

/// The todo API (`examples/graphs/todo_api.json`): its graph and its requests.
pub mod todo {
    use std::io;
    use std::net::SocketAddr;

    use flowloop_graph::{Graph, Registry, Value};

    use super::{bad, call, connect};

    /// The todo API graph as JSON.
    pub const GRAPH_JSON: &str = include_str!("../../../examples/graphs/todo_api.json");

    /// The todo API graph on the standard, `http` and `db` shelves, with its database at
    /// `db_path` (the node `db`).
    ///
    /// # Errors
    /// The graph's spec or the `db` node's path is refused (a message naming it).
    pub fn graph(db_path: &str) -> Result<Graph, String> {
        let mut registry = Registry::with_std();
        crate::register(&mut registry);
        let mut g = Graph::from_json(GRAPH_JSON, registry).map_err(|e| format!("todo_api.json: {e}"))?;
        g.set_constant("db", "path", Value::str(db_path))
            .map_err(|e| format!("todo_api.json: {e}"))?;
        Ok(g)
    }

    /// Creates `count` todos (`POST /todos`) titled `todo 0`, `todo 1`, ...; ids 1 to
    /// `count` on a fresh database.
    ///
    /// # Errors
    /// The socket's error, or `InvalidData` for a status other than 201.
    pub fn seed(addr: SocketAddr, count: usize) -> io::Result<()> {
        let mut s = connect(addr)?;
        let mut buf = Vec::new();
        for i in 0..count {
            let body = format!(r#"{{"title":"todo {i}"}}"#);
            let req = format!(
                "POST /todos HTTP/1.1\r\nhost: load\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let status = call(&mut s, req.as_bytes(), &mut buf)?;
            if status != 201 {
                return Err(bad(&format!("POST /todos got status {status}, not 201")));
            }
        }
        Ok(())
    }

    /// Client `c`'s request `i`: `GET /todos/{id}` for an id from 1 to 100.
    pub fn get_request(c: usize, i: usize) -> String {
        let id = (c * 7 + i) % 100 + 1;
        format!("GET /todos/{id} HTTP/1.1\r\nhost: load\r\n\r\n")
    }
}
