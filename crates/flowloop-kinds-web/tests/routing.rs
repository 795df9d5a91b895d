//! Routing: several routes, routers nested in routers, 404 for what no route takes, and many
//! requests of one route in flight at once.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use flowloop_graph::{Graph, Value};
use flowloop_kinds_web::http::{Limits, Route, Server, ServerError};
use serde_json::json;

/// `top` routes `GET /ping`, `/items/{id:int}` (any method, on to router `by_method`),
/// `GET /hello/{name}` and `GET /wait`; `by_method` splits GET and DELETE.
fn graph() -> Graph {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    router(
        &mut g,
        "top",
        ["GET /ping", "/items/{id:int}", "GET /hello/{name}", "GET /wait"],
    );
    g.connect("in", "request", "top", "request").unwrap();
    reply(&mut g, "pong", ("top", "r0"), Some(Value::str("pong")));
    router(&mut g, "by_method", ["GET /items/{id:int}", "DELETE /items/{id:int}"]);
    g.connect("top", "r1", "by_method", "request").unwrap();
    params_reply(&mut g, "item", ("by_method", "r0"));
    reply(&mut g, "removed", ("by_method", "r1"), None);
    g.set_constant("removed", "status", Value::Int(204)).unwrap();
    params_reply(&mut g, "hello", ("top", "r2"));
    g.add("test.wait", Some("waiter")).unwrap();
    g.set_constant("waiter", "ms", Value::Int(300)).unwrap();
    g.connect("top", "r3", "waiter", "value").unwrap();
    g.add("http.respond", Some("waited")).unwrap();
    g.connect("waiter", "out", "waited", "request").unwrap();
    g
}

fn router<const N: usize>(g: &mut Graph, id: &str, routes: [&str; N]) {
    g.add("http.route", Some(id)).unwrap();
    g.set_constant(id, "routes", Value::list(routes)).unwrap();
}

/// An `http.respond` node `id` answering the requests of `from` with `body`.
fn reply(g: &mut Graph, id: &str, from: (&str, &str), body: Option<Value>) {
    g.add("http.respond", Some(id)).unwrap();
    g.connect(from.0, from.1, id, "request").unwrap();
    if let Some(b) = body {
        g.set_constant(id, "body", b).unwrap();
    }
}

/// Answers the requests of `from` with their path parameters (node `<id>_params`, `<id>`).
fn params_reply(g: &mut Graph, id: &str, from: (&str, &str)) {
    let params = format!("{id}_params");
    g.add("http.params", Some(&params)).unwrap();
    g.connect(from.0, from.1, &params, "request").unwrap();
    reply(g, id, from, None);
    g.connect(&params, "out", id, "body").unwrap();
}

#[test]
fn several_routes_and_a_nested_router() {
    let server = serve(graph(), Limits::default());
    let a = server.addr;
    let mut s = connect(a);
    s.write_all(&request_bytes("GET", "/ping", None)).unwrap();
    assert_eq!(read_response(&mut s), (200, "pong".to_string()));
    assert_eq!(call(&mut s, "GET", "/items/7", None), (200, json!({"id": 7})));
    assert_eq!(call(&mut s, "DELETE", "/items/7", None), (204, json!(null)));
    assert_eq!(
        call(&mut s, "GET", "/hello/ada%20l", None),
        (200, json!({"name": "ada l"}))
    );
}

#[test]
fn what_no_route_takes_is_404() {
    let server = serve(graph(), Limits::default());
    let a = server.addr;
    assert_eq!(
        once(a, "GET", "/nope", None),
        (404, json!({"error": "no route for GET /nope"}))
    );
    assert_eq!(
        once(a, "PUT", "/items/7", None),
        (404, json!({"error": "no route for PUT /items/7"})),
        "the outer router takes any method, the nested one only GET and DELETE"
    );
    assert_eq!(once(a, "POST", "/ping", None).0, 404);
    assert_eq!(once(a, "GET", "/items/seven", None).0, 404);
    assert_eq!(once(a, "GET", "/items/1", None).0, 200, "the server still serves");
}

#[test]
fn many_requests_of_one_route_run_at_once() {
    const CLIENTS: usize = 40; // 300 ms each: one after another would take 12 s
    let server = serve(graph(), Limits::default());
    let a = server.addr;
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::thread::spawn(move || once(a, "GET", "/wait", None).0))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(
        took < Duration::from_secs(6),
        "the requests ran one after another: {took:?}"
    );
}

#[test]
fn a_router_must_be_the_only_consumer_of_its_requests() {
    let mut g = graph();
    g.add("http.respond", Some("extra")).unwrap();
    g.connect("top", "r1", "extra", "request").unwrap();
    let err = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap_err();
    assert!(matches!(err, ServerError::Routers { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "`top.r1` feeds an http.route node and other nodes; a router must be the only consumer of the requests it switches (chain routers for more routes)"
    );
}

#[test]
fn a_graph_without_a_router_answers_every_request_with_its_one_branch() {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    reply(&mut g, "echo", ("in", "request"), None);
    g.add("http.body", Some("body")).unwrap();
    g.connect("in", "request", "body", "request").unwrap();
    g.connect("body", "out", "echo", "body").unwrap();
    let server = serve(g, Limits::default());
    let a = server.addr;
    assert_eq!(
        once(a, "POST", "/anything", Some(r#"{"x": [1, 2]}"#)),
        (200, json!({"x": [1, 2]}))
    );
    assert_eq!(once(a, "GET", "/else", None), (200, json!(null)));
}

#[test]
fn route_patterns_parse_and_match() {
    let files = Route::parse("GET /files/{path*}").unwrap();
    let as_json = |m| serde_json::to_value(Value::from(m)).unwrap();
    assert_eq!(
        as_json(files.matches("GET", "/files/a/b%20c").unwrap()),
        json!({"path": "a/b c"})
    );
    assert_eq!(as_json(files.matches("GET", "/files").unwrap()), json!({"path": ""}));
    assert!(files.matches("POST", "/files/a").is_none());
    assert!(Route::parse("/{all*}").unwrap().matches("PUT", "/x/y").is_some());
    let item = Route::parse("/items/{id:int}").unwrap();
    assert!(item.matches("GET", "/items/1/2").is_none());
    assert!(item.matches("GET", "/items").is_none());
    let err = Route::parse("/{rest*}/tail").unwrap_err();
    assert_eq!(
        err.to_string(),
        "route `/{rest*}/tail`: a `{name*}` segment must be the last"
    );
    let err = Route::parse("/{bad-name}").unwrap_err();
    assert!(err.problem.contains("is not `name`"), "{err}");
}

/// Answers the requests of `from` with their path parameters, for each of `ids`.
fn params_replies(g: &mut Graph, router_id: &str, ids: &[&str]) {
    for (i, id) in ids.iter().enumerate() {
        params_reply(g, id, (router_id, &format!("r{i}")));
    }
}

#[test]
fn a_catch_all_route_chains_routers_past_eight_routes() {
    let mut g = Graph::new(test_registry());
    g.add("http.listen", Some("in")).unwrap();
    let first: Vec<String> = (0..7).map(|i| format!("GET /r{i}")).collect();
    let mut routes: Vec<&str> = first.iter().map(String::as_str).collect();
    routes.push("/{rest*}");
    g.add("http.route", Some("first")).unwrap();
    g.set_constant("first", "routes", Value::list(routes)).unwrap();
    g.connect("in", "request", "first", "request").unwrap();
    params_replies(&mut g, "first", &["a0", "a1", "a2", "a3", "a4", "a5", "a6"]);
    router(&mut g, "more", ["GET /r7", "GET /r8", "GET /files/{path*}"]);
    g.connect("first", "r7", "more", "request").unwrap();
    params_replies(&mut g, "more", &["b0", "b1", "b2"]);
    let server = serve(g, Limits::default());
    let a = server.addr;
    assert_eq!(once(a, "GET", "/r3", None), (200, json!({})));
    assert_eq!(once(a, "GET", "/r8", None), (200, json!({"rest": "r8"})));
    assert_eq!(
        once(a, "GET", "/files/a/b%20c", None),
        (200, json!({"rest": "files/a/b c", "path": "a/b c"}))
    );
    assert_eq!(
        once(a, "GET", "/r9", None),
        (404, json!({"error": "no route for GET /r9"}))
    );
}

#[test]
fn pipelined_requests_on_one_connection_are_answered_in_order() {
    let server = serve(graph(), Limits::default());
    let mut s = connect(server.addr);
    let mut burst = Vec::new();
    for path in ["/items/1", "/hello/bo", "/nope", "/items/2"] {
        burst.extend(request_bytes("GET", path, None));
    }
    s.write_all(&burst).unwrap();
    assert_eq!(read_response(&mut s), (200, r#"{"id":1}"#.to_string()));
    assert_eq!(read_response(&mut s), (200, r#"{"name":"bo"}"#.to_string()));
    assert_eq!(read_response(&mut s).0, 404);
    assert_eq!(read_response(&mut s), (200, r#"{"id":2}"#.to_string()));
}
