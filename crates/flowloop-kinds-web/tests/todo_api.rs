//! The todo API graph served over real sockets.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use flowloop_kinds_web::http::Limits;
use serde_json::json;

#[test]
fn create_list_fetch_delete() {
    let server = serve(todo_graph(registry(), "crud"), Limits::default());
    let a = server.addr;
    assert_eq!(once(a, "GET", "/todos", None), (200, json!([])));
    let (status, milk) = once(a, "POST", "/todos", Some(r#"{"title":"milk"}"#));
    assert_eq!((status, &milk), (201, &json!({"id": 1, "title": "milk", "done": 0})));
    once(a, "POST", "/todos", Some(r#"{"title":"eggs"}"#));
    let (_, all) = once(a, "GET", "/todos", None);
    assert_eq!(
        all,
        json!([{"id":1,"title":"milk","done":0},{"id":2,"title":"eggs","done":0}])
    );
    assert_eq!(
        once(a, "GET", "/todos/2", None),
        (200, json!({"id":2,"title":"eggs","done":0}))
    );
    assert_eq!(once(a, "DELETE", "/todos/1", None), (200, milk));
    assert_eq!(once(a, "GET", "/todos/1", None), (404, json!({"error": "not found"})));
    assert_eq!(
        once(a, "DELETE", "/todos/1", None),
        (404, json!({"error": "not found"}))
    );
    assert_eq!(once(a, "GET", "/todos", None).1.as_array().map(Vec::len), Some(1));
}

#[test]
fn unknown_routes_and_bad_input() {
    let server = serve(todo_graph(registry(), "bad"), Limits::default());
    let a = server.addr;
    assert_eq!(
        once(a, "GET", "/nope", None),
        (404, json!({"error": "no route for GET /nope"}))
    );
    assert_eq!(once(a, "PUT", "/todos", None).0, 404, "method is part of the route");
    assert_eq!(
        once(a, "GET", "/todos/abc", None).0,
        404,
        "{{id:int}} refuses a non-number"
    );
    let (status, body) = once(a, "POST", "/todos", Some(r#"{"title": "#));
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("not valid JSON"), "{body}");
    let (status, body) = once(a, "POST", "/todos", Some(r#"{"name": "x"}"#));
    assert_eq!((status, body), (400, json!({"error": "field `title` is missing"})));
    let (status, body) = once(a, "POST", "/todos", Some(r#"{"title": 5}"#));
    assert_eq!(
        (status, body),
        (400, json!({"error": "field `title` must be string, not int"}))
    );
    let (status, _) = once(a, "POST", "/todos", Some(r#"[1]"#));
    assert_eq!(status, 400);
    // A title that looks like SQL is bound, never spliced.
    let evil = r#"{"title":"x'); DROP TABLE todos; --"}"#;
    assert_eq!(once(a, "POST", "/todos", Some(evil)).0, 201);
    assert_eq!(
        once(a, "GET", "/todos", None).1[0]["title"],
        json!("x'); DROP TABLE todos; --")
    );
    let mut s = connect(a);
    s.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).0, 400);
}

#[test]
fn keep_alive_and_chunked_bodies() {
    let server = serve(todo_graph(registry(), "chunked"), Limits::default());
    let mut s = connect(server.addr);
    let chunked = b"POST /todos HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n6\r\n{\"titl\r\na\r\ne\":\"tea\"}\r\n0\r\n\r\n";
    s.write_all(chunked).unwrap();
    let (status, body) = read_response(&mut s);
    assert_eq!((status, body.as_str()), (201, r#"{"id":1,"title":"tea","done":0}"#));
    for _ in 0..3 {
        assert_eq!(
            call(&mut s, "GET", "/todos/1", None).0,
            200,
            "same connection, next request"
        );
    }
}

#[test]
fn limits_answer_413_and_431() {
    let limits = Limits {
        max_body: 64,
        max_head: 512,
        ..Limits::default()
    };
    let server = serve(todo_graph(registry(), "limits"), limits);
    let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(100));
    assert_eq!(once(server.addr, "POST", "/todos", Some(&big)).0, 413);
    let mut s = connect(server.addr);
    s.write_all(format!("GET /todos HTTP/1.1\r\nx-long: {}\r\n\r\n", "y".repeat(1000)).as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut s).0, 431);
}

#[test]
fn two_hundred_concurrent_clients() {
    let server = serve(todo_graph(registry(), "many"), Limits::default());
    let a = server.addr;
    let clients: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || {
                let mut s = connect(a);
                let (status, created) = call(&mut s, "POST", "/todos", Some(&format!(r#"{{"title":"t{i}"}}"#)));
                assert_eq!(status, 201);
                let id = created["id"].as_i64().expect("id");
                let (status, got) = call(&mut s, "GET", &format!("/todos/{id}"), None);
                assert_eq!((status, got["title"].as_str()), (200, Some(format!("t{i}").as_str())));
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client succeeded");
    }
    assert_eq!(once(a, "GET", "/todos", None).1.as_array().map(Vec::len), Some(200));
}

#[test]
fn a_stalled_half_request_blocks_no_one() {
    let limits = Limits {
        idle: Duration::from_millis(1500),
        ..Limits::default()
    };
    let server = serve(todo_graph(registry(), "stall"), limits);
    let mut staller = connect(server.addr);
    staller
        .write_all(b"POST /todos HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{\"ti")
        .unwrap();
    for i in 0..20 {
        let (status, _) = once(server.addr, "POST", "/todos", Some(&format!(r#"{{"title":"n{i}"}}"#)));
        assert_eq!(status, 201);
    }
    assert_eq!(
        once(server.addr, "GET", "/todos", None).1.as_array().map(Vec::len),
        Some(20)
    );
    let (status, body) = read_response(&mut staller);
    assert_eq!(status, 408, "the staller is answered once its idle time is up: {body}");
}
