//! HTTP framing over a plain `std::net::TcpStream`: keep-alive, pipelining, bad and oversized
//! requests, slow and idle clients, tokens, read-only mode.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use flowloop_web::{Access, Limits, ServerConfig, WebError};

fn quick_limits() -> Limits {
    let mut l = Limits::default();
    l.request_timeout = Duration::from_millis(300);
    l.idle_timeout = Duration::from_millis(300);
    l
}

#[test]
fn page_graph_and_snapshot_are_served_on_one_kept_alive_connection() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    let mut s = connect(dash.addr());
    // Two pipelined requests, then a third after reading.
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /api/graph HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let page = read_reply(&mut r);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&page.body).contains("<svg id=\"graph\""));
    let graph = read_reply(&mut r).json();
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(graph["edges"].as_array().unwrap().len(), 2, "add takes `one` twice");
    s.write_all(b"GET /api/snapshot HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let snap = read_reply(&mut r);
    assert_eq!(snap.header("connection"), Some("close"));
    assert_eq!(snap.json()["snapshot"]["state"], "idle");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "closed after `Connection: close`");
}

#[test]
fn favicon_head_unknown_paths_and_wrong_methods() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    let a = dash.addr();
    let icon = get(a, "/favicon.ico");
    assert_eq!((icon.status, icon.header("content-type")), (200, Some("image/svg+xml")));
    let mut s = connect(a);
    s.write_all(b"HEAD /api/info HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut head = String::new();
    s.read_to_string(&mut head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "a HEAD reply has no body: {head}");
    assert_eq!(get(a, "/nope").status, 404);
    let del = exchange(a, b"DELETE /api/graph HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(del.status, 405);
    assert!(del.json()["error"].as_str().unwrap().contains("method"));
}

#[test]
fn malformed_requests_get_400_and_are_closed() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"POST /api/command HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ] {
        let mut s = connect(dash.addr());
        s.write_all(raw).unwrap();
        let mut r = BufReader::new(s);
        let reply = read_reply(&mut r);
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(raw));
        let mut rest = Vec::new();
        assert!(matches!(r.read_to_end(&mut rest), Ok(0) | Err(_)), "connection closed");
    }
}

#[test]
fn oversized_heads_too_many_headers_and_big_bodies_are_refused() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    let long = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(20_000));
    assert_eq!(exchange(dash.addr(), long.as_bytes()).status, 431);
    let endless = format!("GET / HTTP/1.1\r\nX-Fill: {}", "b".repeat(40_000));
    assert_eq!(
        exchange(dash.addr(), endless.as_bytes()).status,
        431,
        "no end of head in sight"
    );
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
    assert_eq!(exchange(dash.addr(), req.as_bytes()).status, 431);
    let big = b"POST /api/command HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
    assert_eq!(exchange(dash.addr(), big).status, 413);
    let chunked = b"POST /api/command HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(exchange(dash.addr(), chunked).status, 411);
}

#[test]
fn a_slowloris_client_gets_408_and_the_server_keeps_answering_others() {
    let (dash, _lp) = dashboard(ServerConfig::new().limits(quick_limits()));
    let addr = dash.addr();
    let mut slow = connect(addr);
    let t = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    // Trickle a header byte at a time while others are served.
    let mut replies = 0;
    for b in b"X-Slow: 1" {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        assert_eq!(get(addr, "/api/info").status, 200);
        replies += 1;
        std::thread::sleep(Duration::from_millis(60));
    }
    let reply = read_reply(&mut BufReader::new(slow));
    assert_eq!(reply.status, 408);
    assert!(replies > 0);
    assert!(t.elapsed() < Duration::from_secs(10), "bounded by the request timeout");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let (dash, _lp) = dashboard(ServerConfig::new().limits(quick_limits()));
    let mut s = connect(dash.addr());
    s.write_all(b"GET /api/info HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_reply(&mut r).status, 200);
    let mut rest = Vec::new();
    let t = Instant::now();
    assert_eq!(r.read_to_end(&mut rest).unwrap(), 0, "closed quietly, nothing sent");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn other_addresses_need_a_token_and_the_token_is_checked() {
    let lp = flowloop::EventLoop::new().unwrap();
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = flowloop_web::FlowDashboard::start(small_flow(), &lp, ServerConfig::new().bind(any)).unwrap_err();
    assert!(matches!(err, WebError::TokenRequired { .. }));
    assert!(err.to_string().contains("token"), "{err}");

    let (dash, _lp) = dashboard(ServerConfig::new().token("s3cret"));
    assert!(dash.url().ends_with("/?token=s3cret"));
    let a = dash.addr();
    assert_eq!(get(a, "/").status, 401);
    assert_eq!(get(a, "/api/graph?token=wrong").status, 401);
    assert_eq!(get(a, "/api/graph?token=s3cret").status, 200);
    let bearer = exchange(a, b"GET /api/info HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n");
    assert_eq!(bearer.status, 200);
}

#[test]
fn read_only_mode_refuses_commands_and_a_taken_port_is_a_bind_error() {
    let (dash, _lp) = dashboard(ServerConfig::new().access(Access::ReadOnly));
    let post = exchange(
        dash.addr(),
        b"POST /api/command HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"command\":\"stop\"}",
    );
    assert_eq!(post.status, 403);
    assert_eq!(get(dash.addr(), "/api/info").json()["read_only"], true);

    let lp = flowloop::EventLoop::new().unwrap();
    let err = flowloop_web::FlowDashboard::start(small_flow(), &lp, ServerConfig::new().bind(dash.addr())).unwrap_err();
    assert!(matches!(err, WebError::Bind { .. }), "{err}");
}

#[test]
fn bad_commands_are_answered_with_a_message() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    let post = |body: &str| {
        let raw = format!(
            "POST /api/command HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        exchange(dash.addr(), raw.as_bytes())
    };
    let reply = post("{not json");
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"].as_str().unwrap().contains("not JSON"));
}
