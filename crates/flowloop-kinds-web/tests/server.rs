//! Server behaviour beyond the todo API: 504 naming the node that held a request, 500 with a
//! JSON error naming the failing node, a slow request not delaying others, bad graphs refused.

mod common;

use std::time::{Duration, Instant};

use common::*;
use flowloop_graph::kind::KindError;
use flowloop_graph::{Graph, Registry, Shelf, Value, kind};
use flowloop_kinds_web::http::{Limits, Server, ServerError};
use serde_json::json;

/// Waits `ms` milliseconds, then passes `value` on.
#[kind(name = "test.slow")]
async fn slow(value: Value, ms: i64) -> Result<Value, KindError> {
    flowloop::sleep(Duration::from_millis(ms as u64)).await;
    Ok(value)
}

fn reg() -> Registry {
    let mut r = registry();
    r.register(Shelf::new("test", "test kinds").with(slow_kind())).unwrap();
    r
}

/// Routes: 0 = held by `test.slow` for `slow_ms`, 1 = answered at once, 2 = a bad SQL statement.
fn graph(slow_ms: i64) -> Graph {
    let mut g = Graph::new(reg());
    g.add("http.listen", Some("in")).unwrap();
    g.add("http.route", Some("router")).unwrap();
    g.set_constant(
        "router",
        "routes",
        Value::list(["GET /slow", "GET /fast", "GET /broken"]),
    )
    .unwrap();
    g.connect("in", "request", "router", "request").unwrap();
    g.add("test.slow", Some("sleeper")).unwrap();
    g.set_constant("sleeper", "ms", Value::Int(slow_ms)).unwrap();
    g.connect("router", "r0", "sleeper", "value").unwrap();
    g.add("http.respond", Some("slow_reply")).unwrap();
    g.connect("sleeper", "out", "slow_reply", "request").unwrap();
    g.add("http.respond", Some("fast_reply")).unwrap();
    g.connect("router", "r1", "fast_reply", "request").unwrap();
    g.set_constant("fast_reply", "body", Value::list(["quick"])).unwrap();
    g.add("db.open", Some("db")).unwrap();
    g.set_constant("db", "path", Value::str(":memory:")).unwrap();
    g.add("db.query", Some("bad_sql")).unwrap();
    g.connect("db", "out", "bad_sql", "conn").unwrap();
    g.set_constant("bad_sql", "sql", Value::str("SELECT * FROM missing_table"))
        .unwrap();
    g.add("http.respond", Some("broken_reply")).unwrap();
    g.connect("router", "r2", "broken_reply", "request").unwrap();
    g.connect("bad_sql", "out", "broken_reply", "body").unwrap();
    g
}

#[test]
fn no_answer_in_time_is_504_naming_the_holding_node() {
    let limits = Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = serve(graph(60_000), limits);
    let (status, body) = once(server.addr, "GET", "/slow", None);
    assert_eq!(
        (status, body),
        (504, json!({"error": "the request was not answered in time"}))
    );
    let log = server.log.lock().unwrap().clone();
    assert!(log.iter().any(|l| l.contains("held at node `sleeper`")), "{log:?}");
}

#[test]
fn a_failing_node_is_500_with_a_json_error_naming_it() {
    let server = serve(graph(0), Limits::default());
    let (status, body) = once(server.addr, "GET", "/broken", None);
    assert_eq!(status, 500);
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("bad_sql") && msg.contains("SELECT * FROM missing_table") && msg.contains("no such table"),
        "{msg}"
    );
}

#[test]
fn a_slow_request_does_not_block_the_others() {
    let server = serve(graph(5_000), Limits::default());
    let a = server.addr;
    let slow = std::thread::spawn(move || once(a, "GET", "/slow", None));
    let start = Instant::now();
    for _ in 0..20 {
        assert_eq!(once(a, "GET", "/fast", None), (200, json!(["quick"])));
    }
    assert!(
        !slow.is_finished(),
        "the 20 fast requests were all answered while the slow one was held"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(slow.join().unwrap().0, 200);
}

#[test]
fn graphs_that_cannot_be_served_are_refused() {
    let no_listener = Graph::new(reg());
    let err = Server::bind(&no_listener, None, Limits::default()).unwrap_err();
    assert!(matches!(err, ServerError::Listeners { count: 0 }), "{err}");
    let mut g = graph(0);
    g.remove("fast_reply").unwrap();
    let err = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "route `GET /fast` (output r1 of node `router`) reaches no http.respond node; connect one so its requests get an answer"
    );
    let mut g = graph(0);
    g.set_constant("router", "routes", Value::list(["GET todos"])).unwrap();
    let err = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("route `GET todos`: the path must start with `/`"),
        "{err}"
    );
}
