//! The editor's JSON API over a plain `TcpStream`: palette, spec, validated edit batches with
//! revisions (bad JSON, unknown kind, type mismatch and stale revisions change nothing), undo,
//! batch run and save.

mod common;

use std::net::SocketAddr;

use common::*;
use flowloop_graph::{Graph, Registry};
use flowloop_web::{Access, GraphEditor, ServerConfig};
use serde_json::{Value as Json, json};

fn post(addr: SocketAddr, path: &str, body: &str) -> Reply {
    let raw = format!("POST {path} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    exchange(addr, raw.as_bytes())
}

fn edits(addr: SocketAddr, revision: u64, edits: Json) -> Reply {
    post(
        addr,
        "/api/edits",
        &json!({ "revision": revision, "edits": edits }).to_string(),
    )
}

fn spec(addr: SocketAddr) -> Json {
    let r = get(addr, "/api/spec");
    assert_eq!(r.status, 200);
    r.json()
}

fn editor() -> GraphEditor {
    GraphEditor::start(Graph::new(Registry::with_std()), None, ServerConfig::new()).expect("editor starts")
}

fn add_sum(addr: SocketAddr) {
    let r = edits(
        addr,
        0,
        json!([
            {"op": "add", "kind": "math.add", "id": "sum", "x": 10.0, "y": 20.0},
            {"op": "set", "to": {"node": "sum", "port": "a"}, "value": 2},
            {"op": "set", "to": {"node": "sum", "port": "b"}, "value": 3},
        ]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["revision"], 1);
}

#[test]
fn the_registry_lists_the_std_kinds_and_the_spec_starts_empty() {
    let ed = editor();
    let r = get(ed.addr(), "/api/registry");
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("math.add"));
    let s = spec(ed.addr());
    assert_eq!(s["revision"], 0);
    assert_eq!(get(ed.addr(), "/api/info").json()["editor"], true);
}

#[test]
fn an_accepted_batch_bumps_the_revision_and_a_run_computes_the_value() {
    let ed = editor();
    add_sum(ed.addr());
    let s = spec(ed.addr());
    assert_eq!(s["revision"], 1);
    assert!(s["spec"].to_string().contains("\"sum\""), "{s}");
    let run = post(ed.addr(), "/api/run", "{}");
    assert_eq!(run.status, 200);
    assert_eq!(run.json()["nodes"]["sum"]["outputs"]["out"], "5");
    let r = edits(
        ed.addr(),
        1,
        json!([{"op": "set", "to": {"node": "sum", "port": "b"}, "value": 40}]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        post(ed.addr(), "/api/run", "{}").json()["nodes"]["sum"]["outputs"]["out"],
        "42"
    );
}

#[test]
fn bad_json_and_unknown_ops_are_refused_with_400() {
    let ed = editor();
    assert_eq!(post(ed.addr(), "/api/edits", "{not json").status, 400);
    assert_eq!(edits(ed.addr(), 0, json!([{"op": "explode"}])).status, 400);
    assert_eq!(post(ed.addr(), "/api/edits", "{\"edits\": []}").status, 400);
    assert_eq!(spec(ed.addr())["revision"], 0);
}

#[test]
fn an_unknown_kind_refuses_the_whole_batch() {
    let ed = editor();
    let r = edits(
        ed.addr(),
        0,
        json!([
            {"op": "add", "kind": "math.add", "id": "ok"},
            {"op": "add", "kind": "math.nope", "id": "bad"},
        ]),
    );
    assert_eq!(r.status, 422);
    let body = r.json();
    assert_eq!(body["edit"], 1);
    assert_eq!(body["node"], "bad");
    assert!(body["error"].as_str().unwrap_or("").contains("math.nope"), "{body}");
    let s = spec(ed.addr());
    assert_eq!(s["revision"], 0);
    assert!(
        !s["spec"].to_string().contains("\"ok\""),
        "nothing of the batch was applied: {s}"
    );
}

#[test]
fn a_type_mismatched_connection_is_refused_naming_node_and_port() {
    let ed = editor();
    add_sum(ed.addr());
    let r = edits(
        ed.addr(),
        1,
        json!([
            {"op": "add", "kind": "streams.collect", "id": "list"},
            {"op": "connect", "from": {"node": "list", "port": "out"}, "to": {"node": "sum", "port": "a"}},
        ]),
    );
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["node"], "sum");
    assert_eq!(body["port"], "a");
    assert!(!spec(ed.addr())["spec"].to_string().contains("\"list\""));
    assert_eq!(spec(ed.addr())["revision"], 1);
}

#[test]
fn a_stale_revision_is_refused_with_409_and_not_merged() {
    let ed = editor();
    add_sum(ed.addr());
    let r = edits(ed.addr(), 0, json!([{"op": "add", "kind": "math.neg", "id": "late"}]));
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["revision"], 1);
    assert!(!spec(ed.addr())["spec"].to_string().contains("\"late\""));
}

#[test]
fn undo_restores_the_graph_before_the_last_change() {
    let ed = editor();
    add_sum(ed.addr());
    let r = edits(
        ed.addr(),
        1,
        json!([{"op": "layout", "id": "sum", "x": 300.0, "y": 40.0}]),
    );
    assert_eq!(r.status, 200);
    assert!(spec(ed.addr())["spec"].to_string().contains("300"));
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 1}").status, 409);
    let u = post(ed.addr(), "/api/undo", "{\"revision\": 2}");
    assert_eq!(u.status, 200);
    assert_eq!(u.json()["revision"], 3);
    let s = spec(ed.addr());
    assert!(!s["spec"].to_string().contains("300"), "{s}");
    assert_eq!(
        post(ed.addr(), "/api/undo", "{\"revision\": 3}").status,
        409,
        "only one step of undo"
    );
}

#[test]
fn save_writes_the_spec_only_when_asked_and_read_only_refuses() {
    let dir = std::env::temp_dir().join(format!("flowloop-web-editor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("graph.json");
    let _ = std::fs::remove_file(&file);
    let ed = GraphEditor::start(
        Graph::new(Registry::with_std()),
        Some(file.clone()),
        ServerConfig::new(),
    )
    .expect("editor starts");
    add_sum(ed.addr());
    assert!(!file.exists(), "edits alone do not save");
    assert_eq!(post(ed.addr(), "/api/save", "{}").status, 200);
    let text = std::fs::read_to_string(&file).expect("saved file");
    let loaded = Graph::from_json(&text, Registry::with_std()).expect("the saved spec loads");
    assert!(loaded.node("sum").is_some());
    assert_eq!(post(editor().addr(), "/api/save", "{}").status, 404);
    let ro = GraphEditor::start(
        Graph::new(Registry::with_std()),
        Some(file.clone()),
        ServerConfig::new().access(Access::ReadOnly),
    )
    .expect("editor starts");
    assert_eq!(post(ro.addr(), "/api/save", "{}").status, 403);
    assert_eq!(edits(ro.addr(), 0, json!([])).status, 403);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_with_an_unconnected_input_fails_naming_it_and_the_event_stream_carries_the_result() {
    let ed = editor();
    let mut events = open_events(ed.addr(), "");
    let _first = next_event(&mut events);
    let r = edits(ed.addr(), 0, json!([{"op": "add", "kind": "math.neg", "id": "lonely"}]));
    assert_eq!(r.status, 200, "an edit batch may leave inputs unconnected");
    let run = post(ed.addr(), "/api/run", "{}").json();
    assert_eq!(run["state"], "failed");
    assert!(run["error"].as_str().unwrap_or("").contains("lonely"), "{run}");
    add_sum_at(ed.addr(), 1);
    let run = post(ed.addr(), "/api/run", "{}").json();
    assert_eq!(run["state"], "failed", "lonely is still unconnected: {run}");
    let r = edits(
        ed.addr(),
        2,
        json!([{"op": "connect", "from": {"node": "sum", "port": "out"}, "to": {"node": "lonely", "port": "x"}}]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        post(ed.addr(), "/api/run", "{}").json()["nodes"]["lonely"]["outputs"]["out"],
        "-5"
    );
    let mut seen_completed = false;
    for _ in 0..20 {
        let (_, frame) = next_event(&mut events);
        if frame["snapshot"]["state"] == "completed" {
            seen_completed = frame["snapshot"]["nodes"].to_string().contains("-5");
            break;
        }
    }
    assert!(seen_completed, "the completed run's values reach the event stream");
}

fn add_sum_at(addr: SocketAddr, revision: u64) {
    let r = edits(
        addr,
        revision,
        json!([
            {"op": "add", "kind": "math.add", "id": "sum"},
            {"op": "set", "to": {"node": "sum", "port": "a"}, "value": 2},
            {"op": "set", "to": {"node": "sum", "port": "b"}, "value": 3},
        ]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}
