//! Helpers for the server tests: a dashboard over a small flow, and a plain `std` HTTP client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use flowloop::EventLoop;
use flowloop::flow::{Emitter, Flow, FlowBuilder, Node, Stream};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn one() -> i64 {
    1
}

async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A three-node flow: one → add(one, one).
pub fn small_flow() -> Flow {
    let mut b = FlowBuilder::new();
    let o = b.node(one, ());
    b.node(add, (o, o));
    b.build().expect("small flow builds")
}

async fn count(out: Emitter<i64>, n: i64) -> i64 {
    for i in 0..n {
        out.emit(i).await.ok();
    }
    n
}

async fn total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        t += x;
    }
    t
}

async fn slow_total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        flowloop::sleep(Duration::from_millis(150)).await;
        t += x;
    }
    t
}

/// A stream of 0, 1, 2 read by a fast consumer and by a slow one (150 ms per chunk), which
/// lags a chunk behind while it works; returns the slow one (its sum is 3).
pub fn stream_fan(b: &mut FlowBuilder) -> Node<i64> {
    let src = b.stream(count, (3,));
    b.node(total, (src.stream(),));
    b.node(slow_total, (src.stream(),))
}

/// A dashboard for [`small_flow`] with `config`, and the loop it belongs to.
pub fn dashboard(config: ServerConfig) -> (FlowDashboard, EventLoop) {
    let lp = EventLoop::new().expect("loop");
    let dash = FlowDashboard::start(small_flow(), &lp, config).expect("dashboard starts");
    (dash, lp)
}

/// Connects with generous read/write timeouts, so no test can hang.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    s.set_write_timeout(Some(Duration::from_secs(20)))
        .expect("write timeout");
    s
}

/// One parsed response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Reads one response (head, then `Content-Length` bytes) from `r`.
pub fn read_reply(r: &mut BufReader<TcpStream>) -> Reply {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).expect("header line");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').expect("header has a colon");
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().expect("length"));
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    Reply { status, headers, body }
}

/// Sends `raw` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = connect(addr);
    s.write_all(raw).expect("send request");
    read_reply(&mut BufReader::new(s))
}

/// `GET path` on a new connection.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Reads event-stream lines until a whole event (`id`, `data`) arrived; returns (id, data).
pub fn next_event(r: &mut BufReader<TcpStream>) -> (u64, serde_json::Value) {
    let (mut id, mut data) = (None, None);
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        assert!(r.read_line(&mut line).expect("event line") > 0, "event stream ended");
        let l = line.trim_end();
        if let Some(v) = l.strip_prefix("id: ") {
            id = v.parse().ok();
        } else if let Some(v) = l.strip_prefix("data: ") {
            data = Some(serde_json::from_str(v).expect("event data is JSON"));
        } else if l.is_empty() {
            if let (Some(i), Some(d)) = (id, data.take()) {
                return (i, d);
            }
        }
    }
    panic!("no complete event in 10,000 lines");
}

/// Opens `/events` (with optional extra header lines) and checks the head.
pub fn open_events(addr: SocketAddr, extra: &str) -> BufReader<TcpStream> {
    let mut s = connect(addr);
    write!(
        s,
        "GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n{extra}\r\n"
    )
    .expect("send");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("status");
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    let mut ctype = None;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case("content-type") {
                ctype = Some(v.trim().to_string());
            }
        }
    }
    assert_eq!(ctype.as_deref(), Some("text/event-stream"));
    r
}

/// `POST path` with `body` on a new connection.
pub fn post(addr: SocketAddr, path: &str, body: &str) -> Reply {
    let raw = format!("POST {path} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    exchange(addr, raw.as_bytes())
}

/// Posts one edit batch against `revision`.
pub fn edits(addr: SocketAddr, revision: u64, edits: serde_json::Value) -> Reply {
    let body = serde_json::json!({ "revision": revision, "edits": edits });
    post(addr, "/api/edits", &body.to_string())
}

/// The editor's spec and revision.
pub fn spec(addr: SocketAddr) -> serde_json::Value {
    let r = get(addr, "/api/spec");
    assert_eq!(r.status, 200);
    r.json()
}

/// Reads frames until one satisfies `pred` (at most 200 frames: 20 s of samples).
pub fn wait_frame(
    r: &mut BufReader<TcpStream>,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..200 {
        let (_, frame) = next_event(r);
        if pred(&frame) {
            return frame;
        }
    }
    panic!("no frame with {what} in 200 frames");
}

/// A node of an editor frame's snapshot, by id.
pub fn frame_node<'a>(frame: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    let snap = &frame["snapshot"];
    let i = snap["keys"].as_array()?.iter().position(|k| k == id)?;
    snap["nodes"].get(i)
}

/// Runs the dashboard's flow on `lp` for `duration`, then stops it; returns how it ended.
pub fn run_for(dash: &FlowDashboard, lp: &mut EventLoop, duration: Duration) -> flowloop_web::RunEnd {
    let stopper = dash.stopper();
    let run = dash.run(flowloop::flow::RunOptions::new());
    lp.run_until_complete(async move {
        flowloop::spawn(async move {
            flowloop::sleep(duration).await;
            stopper.stop();
        })
        .await
        .detach();
        run.await
    })
    .expect("the loop runs")
    .expect("the run stops cleanly")
}

/// `ticks` = time.interval(20 ms, 5 ticks) streaming into `all` = streams.collect, whose list
/// feeds `n` = collections.len: one stream edge (`all.items`) and one plain (`n.collection`).
pub fn stream_edge_graph() -> flowloop_graph::Graph {
    let mut g = flowloop_graph::Graph::new(flowloop_graph::Registry::with_std());
    g.add("time.interval", Some("ticks")).expect("adds ticks");
    g.set_constant("ticks", "period", flowloop_graph::Value::Float(20.0))
        .expect("sets period");
    g.set_constant("ticks", "count", flowloop_graph::Value::Int(5))
        .expect("sets count");
    g.add("streams.collect", Some("all")).expect("adds all");
    g.connect("ticks", "stream", "all", "items")
        .expect("connects the stream");
    g.add("collections.len", Some("n")).expect("adds n");
    g.connect("all", "out", "n", "collection").expect("connects the list");
    g
}
