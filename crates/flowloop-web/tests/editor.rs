//! The editor's JSON API over a plain `TcpStream`: palette, spec, validated edit batches with
//! revisions (bad JSON, unknown kind, type mismatch and stale revisions change nothing), undo,
//! batch run and save.

mod common;

use std::net::SocketAddr;

use common::*;
use flowloop_graph::{Graph, Registry};
use flowloop_web::{Access, GraphEditor, ServerConfig};
use serde_json::json;

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
fn undo_and_redo_walk_the_history_and_a_new_change_clears_redo() {
    let ed = editor();
    add_sum(ed.addr());
    for (rev, x) in [(1, 300.0), (2, 400.0)] {
        let r = edits(
            ed.addr(),
            rev,
            json!([{"op": "layout", "id": "sum", "x": x, "y": 40.0}]),
        );
        assert_eq!(r.status, 200);
    }
    assert_eq!(spec(ed.addr())["spec"]["layout"]["sum"]["x"], 400.0);
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 1}").status, 409, "stale");
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 3}").json()["revision"], 4);
    assert_eq!(spec(ed.addr())["spec"]["layout"]["sum"]["x"], 300.0);
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 4}").status, 200);
    assert_eq!(spec(ed.addr())["spec"]["layout"]["sum"]["x"], 10.0);
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 5}").status, 200);
    let s = spec(ed.addr());
    assert!(
        s["spec"]["nodes"].as_array().is_none_or(Vec::is_empty),
        "back to empty: {s}"
    );
    assert_eq!(
        (s["can_undo"].as_bool(), s["can_redo"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(
        post(ed.addr(), "/api/undo", "{\"revision\": 6}").status,
        409,
        "nothing to undo"
    );
    assert_eq!(post(ed.addr(), "/api/redo", "{\"revision\": 6}").status, 200);
    assert_eq!(post(ed.addr(), "/api/redo", "{\"revision\": 7}").status, 200);
    assert_eq!(spec(ed.addr())["spec"]["layout"]["sum"]["x"], 300.0);
    let r = edits(ed.addr(), 8, json!([{"op": "layout", "id": "sum", "x": 5.0, "y": 5.0}]));
    assert_eq!(r.status, 200);
    assert_eq!(
        post(ed.addr(), "/api/redo", "{\"revision\": 9}").status,
        409,
        "a new change clears redo"
    );
    assert_eq!(post(ed.addr(), "/api/redo", "{}").status, 400);
}

#[test]
fn the_undo_history_is_bounded() {
    let ed = editor();
    add_sum(ed.addr());
    let changes = GraphEditor::HISTORY as u64 + 20;
    for i in 0..changes {
        let r = edits(
            ed.addr(),
            1 + i,
            json!([{"op": "layout", "id": "sum", "x": i as f64, "y": 0.0}]),
        );
        assert_eq!(r.status, 200);
    }
    let mut rev = 1 + changes;
    let mut undone = 0;
    while post(ed.addr(), "/api/undo", &json!({ "revision": rev }).to_string()).status == 200 {
        rev += 1;
        undone += 1;
        assert!(undone <= changes, "undo never ends");
    }
    assert_eq!(
        undone,
        GraphEditor::HISTORY as u64,
        "only the last {} changes can be undone",
        GraphEditor::HISTORY as u64
    );
    assert_eq!(spec(ed.addr())["spec"]["layout"]["sum"]["x"], 19.0);
}

#[test]
fn load_replaces_the_graph_whole_or_refuses_with_line_and_column() {
    let ed = editor();
    add_sum(ed.addr());
    let load = |rev: u64, text: &str| {
        post(
            ed.addr(),
            "/api/load",
            &json!({ "revision": rev, "text": text }).to_string(),
        )
    };
    let r = load(1, "{\n  \"format\": 1,\n  \"nodes\": [oops]\n}");
    assert_eq!(r.status, 422);
    assert_eq!(
        (r.json()["line"].as_u64(), r.json()["column"].as_u64()),
        (Some(3), Some(13)),
        "{:?}",
        r.json()
    );
    let mut g = Graph::new(Registry::with_std());
    g.add("math.neg", Some("n")).expect("adds");
    g.set_constant("n", "x", flowloop_graph::Value::Int(4)).expect("sets");
    let good = g.to_json();
    let bad = good.replace("math.neg", "math.nope");
    let r = load(1, &bad);
    assert_eq!(r.status, 422);
    let body = r.json();
    assert!(body["error"].as_str().unwrap_or("").contains("math.nope"), "{body}");
    assert!(
        body["line"].as_u64().unwrap_or(0) > 1,
        "the line of the bad node: {body}"
    );
    assert_eq!(load(0, &good).status, 409, "stale revision");
    assert_eq!(spec(ed.addr())["revision"], 1, "refused loads change nothing");
    assert_eq!(load(1, &good).json()["revision"], 2);
    let s = spec(ed.addr());
    assert_eq!(s["spec"]["nodes"][0]["id"], "n");
    assert_eq!(
        post(ed.addr(), "/api/run", "{}").json()["nodes"]["n"]["outputs"]["out"],
        "-4"
    );
    assert_eq!(post(ed.addr(), "/api/undo", "{\"revision\": 2}").status, 200);
    assert!(
        spec(ed.addr())["spec"].to_string().contains("\"sum\""),
        "undo brings the old graph back"
    );
    assert_eq!(post(ed.addr(), "/api/load", "{\"text\": 1}").status, 400);
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
