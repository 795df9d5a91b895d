//! Test helpers: a server on its own thread and loop, and a blocking raw-socket client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use flowloop_graph::{Graph, Registry, Value};
use flowloop_kinds_web::http::{Limits, Server, StopHandle};

pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Running {
    pub addr: SocketAddr,
    pub stop: StopHandle,
    pub log: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            t.join().expect("the server thread does not panic");
        }
    }
}

pub fn registry() -> Registry {
    let mut reg = Registry::with_std();
    flowloop_kinds_web::register(&mut reg);
    reg
}

/// The todo API graph with its database at a fresh path under the temp dir.
pub fn todo_graph(reg: Registry, name: &str) -> Graph {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/graphs/todo_api.json"
    ))
    .expect("the example graph exists");
    let mut g = Graph::from_json(&text, reg).expect("the example graph loads");
    let path = std::env::temp_dir().join(format!("flowloop-kinds-web-{name}-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    g.set_constant("db", "path", Value::str(&path.to_string_lossy()))
        .expect("db node exists");
    g
}

pub fn serve(graph: Graph, limits: Limits) -> Running {
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    let thread = std::thread::spawn(move || {
        flowloop::run(async move {
            let mut server = Server::bind(&graph, Some("127.0.0.1:0"), limits).expect("server binds");
            server.on_log(move |l| log2.lock().expect("log lock").push(l.to_string()));
            tx.send((server.local_addr().expect("bound"), server.stop_handle()))
                .expect("test waits");
            server.run().await.expect("server runs");
        })
        .expect("loop runs");
    });
    let (addr, stop) = rx.recv_timeout(CLIENT_TIMEOUT).expect("server started");
    Running {
        addr,
        stop,
        log,
        thread: Some(thread),
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(CLIENT_TIMEOUT)).expect("timeout");
    s
}

/// Reads one response (Content-Length framed): status and body text.
pub fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("response head");
        assert_eq!(
            n,
            1,
            "connection closed inside a response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).expect("utf8 head");
    let status: u16 = head[9..12].parse().expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().expect("len"))
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body).expect("body");
    (status, String::from_utf8(body).expect("utf8 body"))
}

pub fn request_bytes(method: &str, path: &str, body: Option<&str>) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nhost: test\r\n");
    if let Some(b) = body {
        r.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        r.push_str("\r\n");
    }
    r.into_bytes()
}

/// One request on a keep-alive connection.
pub fn call(s: &mut TcpStream, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    s.write_all(&request_bytes(method, path, body)).expect("send");
    let (status, text) = read_response(s);
    let json = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    (status, json)
}

/// One request on a fresh connection.
pub fn once(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    call(&mut connect(addr), method, path, body)
}
