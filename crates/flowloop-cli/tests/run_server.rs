//! `flowloop run` on a graph with an `http.listen` node serves it until SIGTERM: the todo API
//! example answers real requests; batch-only options and unplannable graphs are refused.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;

use common::{Spawned, example, file, flowloop, http, output, text};

#[test]
fn the_todo_api_serves_posts_and_gets_until_sigterm() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = dir.path().join("todos.sqlite3");
    let db_set = format!("db.path={}", serde_json::json!(db.display().to_string()));
    let graph = example("todo_api.json");
    let args = [
        OsStr::new("run"),
        graph.as_os_str(),
        OsStr::new("--set"),
        OsStr::new("in.addr=\"127.0.0.1:0\""),
        OsStr::new("--set"),
        OsStr::new(&db_set),
    ];
    let mut server = Spawned::start(&args, &[]);
    let first = server.line();
    let host = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("the first line names the address: {first:?}"))
        .to_string();
    let (status, body) = http(&host, "POST", "/todos", r#"{"title": "write the CLI"}"#);
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(&host, "GET", "/todos", "");
    assert_eq!(status, 200, "{body}");
    let todos: serde_json::Value = serde_json::from_str(&body).expect("the list is JSON");
    assert_eq!(todos[0]["title"], "write the CLI", "{todos}");
    assert_eq!(http(&host, "GET", "/nothing/here", "").0, 404);
    let (status, body) = http(&host, "POST", "/todos", r#"{"title": 7}"#);
    assert_eq!(status, 400, "a title of the wrong type is refused: {body}");
    let (code, stderr) = server.stop("TERM");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(db.exists(), "the graph wrote the database named by --set");
}

#[test]
fn batch_options_on_a_served_graph_are_usage_errors() {
    for option in [["--limit", "in=1"], ["--limit-all", "1"]] {
        let graph = example("todo_api.json");
        let out = output([
            OsStr::new("run"),
            graph.as_os_str(),
            OsStr::new(option[0]),
            OsStr::new(option[1]),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains(option[0]) && err.contains("http.listen"), "{err}");
    }
}

#[test]
fn a_graph_the_server_cannot_plan_is_refused_with_the_node_named() {
    let graph = r#"{"format": 1, "nodes": [
        {"id": "in", "kind": "http.listen", "inputs": {"addr": "127.0.0.1:0"}},
        {"id": "router", "kind": "http.route"}],
      "edges": [{"from": "in.request", "to": "router.request"}]}"#;
    let (_dir, path) = file("unplanned.json", graph);
    let out = output([OsStr::new("run"), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("unplanned.json") && err.contains("router"), "{err}");
}

#[test]
fn an_address_in_use_is_refused_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("bound").to_string();
    let out = flowloop()
        .arg("run")
        .arg(example("todo_api.json"))
        .arg("--set")
        .arg(format!("in.addr=\"{addr}\""))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&addr), "{}", text(&out.stderr));
}
