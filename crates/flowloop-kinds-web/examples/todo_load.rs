//! Load numbers for the todo API graph: requests/s and p50/p99 latency of `GET /todos/{id}`
//! with 1 and 50 concurrent keep-alive clients (blocking client threads, one server loop).
//!
//! ```text
//! cargo run --release -p flowloop-kinds-web --example todo_load -- [REQUESTS_PER_CLIENT]
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use flowloop_graph::{Graph, Registry, Value};
use flowloop_kinds_web::http::{Limits, Server};

fn graph() -> Graph {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/graphs/todo_api.json"
    ))
    .expect("the example graph exists");
    let mut registry = Registry::with_std();
    flowloop_kinds_web::register(&mut registry);
    let mut g = Graph::from_json(&text, registry).expect("the example graph loads");
    let path = std::env::temp_dir().join(format!("flowloop-todo-load-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    g.set_constant("db", "path", Value::str(&path.to_string_lossy()))
        .expect("db node");
    g
}

/// Sends one request and reads one Content-Length framed response; returns the status.
fn call(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> u16 {
    s.write_all(request).expect("send");
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("receive");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: ").and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            return head[9..12].parse().expect("status");
        }
    }
}

fn client(addr: SocketAddr, requests: usize, seed: usize) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::new();
    (0..requests)
        .map(|i| {
            let id = (seed * 7 + i) % 100 + 1;
            let req = format!("GET /todos/{id} HTTP/1.1\r\nhost: bench\r\n\r\n");
            let start = Instant::now();
            assert_eq!(call(&mut s, req.as_bytes(), &mut buf), 200);
            start.elapsed()
        })
        .collect()
}

fn row(addr: SocketAddr, clients: usize, per_client: usize) {
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| std::thread::spawn(move || client(addr, per_client, c)))
        .collect();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().expect("client")).collect();
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "todo_get clients={clients} requests={} rps={:.0} p50_us={} p99_us={}",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_micros(),
        pct(0.99).as_micros()
    );
}

fn main() {
    let per_client: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        flowloop::run(async move {
            let server = Server::bind(&graph(), Some("127.0.0.1:0"), Limits::default()).expect("bind");
            tx.send(server.local_addr().expect("addr")).expect("main waits");
            server.run().await.expect("serve");
        })
        .expect("loop");
    });
    let addr = rx.recv().expect("server started");
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut buf = Vec::new();
    for i in 0..100 {
        let body = format!(r#"{{"title":"todo {i}"}}"#);
        let req = format!(
            "POST /todos HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(call(&mut s, req.as_bytes(), &mut buf), 201);
    }
    row(addr, 1, per_client);
    row(addr, 50, per_client / 10);
}
