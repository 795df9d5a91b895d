//! Server behaviour beyond the todo API: 504 naming the node that held a request, 500 with a
//! JSON error naming the failing node, a slow request not delaying others, bad graphs refused.

mod common;

use std::time::{Duration, Instant};

use common::*;
use flowloop_graph::{Graph, Value};
use flowloop_kinds_web::http::{Limits, Server, ServerError};
use serde_json::json;

/// Routes: 0 = held by `test.wait` for `slow_ms`, 1 = answered at once, 2 = a bad SQL statement.
fn graph(slow_ms: i64) -> Graph {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    g.add("http.route", Some("router")).unwrap();
    g.set_constant(
        "router",
        "routes",
        Value::list(["GET /slow", "GET /fast", "GET /broken"]),
    )
    .unwrap();
    g.connect("in", "request", "router", "request").unwrap();
    g.add("test.wait", Some("sleeper")).unwrap();
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
    let no_listener = Graph::new(test_registry());
    let err = Server::bind(&no_listener, None, Limits::default()).unwrap_err();
    assert!(matches!(err, ServerError::Listeners { count: 0 }), "{err}");
    let mut g = graph(0);
    g.remove("fast_reply").unwrap();
    let err = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "route `GET /fast` (output router.r1) reaches no http.respond node; connect one so its requests get an answer"
    );
    let mut g = graph(0);
    g.clear_constant("bad_sql", "sql").unwrap();
    let err = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap_err();
    assert!(matches!(err, ServerError::Graph(_)), "{err}");
    assert!(
        err.to_string().contains("bad_sql") && err.to_string().contains("sql"),
        "{err}"
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

#[test]
fn a_response_header_with_a_line_break_is_500_not_a_split_response() {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    g.add("http.respond", Some("reply")).unwrap();
    g.connect("in", "request", "reply", "request").unwrap();
    let mut headers = flowloop_graph::Map::new();
    headers.insert("x-note", "fine\r\nset-cookie: stolen=1");
    g.set_constant("reply", "headers", Value::from(headers)).unwrap();
    let server = serve(g, Limits::default());
    let (status, body) = once(server.addr, "GET", "/", None);
    assert_eq!(status, 500);
    assert_eq!(body, json!({"error": "response header `x-note` holds a line break"}));
}

/// `GET /wait/{ms:int}`: held by node `waiter` for `ms` milliseconds, then answered.
fn wait_graph() -> Graph {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    g.add("http.route", Some("router")).unwrap();
    g.set_constant("router", "routes", Value::list(["GET /wait/{ms:int}"]))
        .unwrap();
    g.connect("in", "request", "router", "request").unwrap();
    g.add("http.params", Some("params")).unwrap();
    g.connect("router", "r0", "params", "request").unwrap();
    g.add("collections.get", Some("ms")).unwrap();
    g.connect("params", "out", "ms", "collection").unwrap();
    g.set_constant("ms", "key", Value::str("ms")).unwrap();
    g.add("test.wait", Some("waiter")).unwrap();
    g.connect("router", "r0", "waiter", "value").unwrap();
    g.connect("ms", "out", "waiter", "ms").unwrap();
    g.add("http.respond", Some("reply")).unwrap();
    g.connect("waiter", "out", "reply", "request").unwrap();
    g
}

#[test]
fn a_504_on_a_reused_branch_names_the_node_that_held_this_request() {
    let limits = Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = serve(wait_graph(), limits);
    let a = server.addr;
    let mut s = connect(a);
    for _ in 0..3 {
        assert_eq!(call(&mut s, "GET", "/wait/0", None).0, 200); // one compiled copy, reused
    }
    assert_eq!(call(&mut s, "GET", "/wait/60000", None).0, 504);
    let log = server.log.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].ends_with("held at node `waiter`"), "{log:?}");
    assert_eq!(call(&mut s, "GET", "/wait/0", None).0, 200, "a fresh copy serves on");
}
