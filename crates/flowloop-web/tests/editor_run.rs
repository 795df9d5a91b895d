//! The editor's runs on its flow thread, over a plain `TcpStream`: a batch run publishes live
//! statuses while it runs and can be stopped; a live run re-runs when an input is set, takes
//! structural edits once they leave a valid graph, takes an undo, a redo or a load as one
//! edit batch (its nodes keep their run counts: nothing restarts), and stops.

mod common;

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};

use common::*;
use flowloop_graph::{Graph, OnConnected, Registry, Value};
use flowloop_web::{GraphEditor, ServerConfig};
use serde_json::{Value as Json, json};

fn editor_with(g: Graph) -> GraphEditor {
    GraphEditor::start(g, None, ServerConfig::new()).expect("editor starts")
}

/// `sum` = math.add(a = 2, b = 3).
fn sum_graph() -> Graph {
    sum_graph_named("sum")
}

/// Node `id` = math.add(a = 2, b = 3).
fn sum_graph_named(id: &str) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some(id)).expect("adds");
    g.set_constant(id, "a", Value::Int(2)).expect("sets a");
    g.set_constant(id, "b", Value::Int(3)).expect("sets b");
    g
}

fn node_is(frame: &Json, id: &str, key: &str, want: &str) -> bool {
    frame_node(frame, id).is_some_and(|n| n[key] == want)
}

fn state_is(frame: &Json, state: &str) -> bool {
    frame["snapshot"]["state"] == state
}

fn start_live(addr: SocketAddr) -> BufReader<TcpStream> {
    let mut events = open_events(addr, "");
    let r = post(addr, "/api/run", "{\"mode\": \"live\"}");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["mode"], "live");
    wait_frame(&mut events, "sum = 5 while live", |f| {
        state_is(f, "running") && node_is(f, "sum", "value", "5")
    });
    events
}

#[test]
fn a_batch_run_shows_a_running_node_live_and_stop_ends_it() {
    let mut g = Graph::new(Registry::with_std());
    g.add("time.sleep", Some("nap")).expect("adds");
    g.set_constant("nap", "ms", Value::Float(60_000.0)).expect("sets ms");
    let ed = editor_with(g);
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let run = std::thread::spawn(move || post(addr, "/api/run", "{\"mode\": \"batch\"}"));
    let frame = wait_frame(&mut events, "nap running", |f| node_is(f, "nap", "state", "running"));
    assert!(state_is(&frame, "running"), "{frame}");
    assert_eq!(frame_node(&frame, "nap").expect("nap")["runs"], 1);
    assert_eq!(post(addr, "/api/run", "{}").status, 409, "one run at a time");
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
    let reply = run.join().expect("run request");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["state"], "stopped");
    wait_frame(&mut events, "the stopped state", |f| state_is(f, "stopped"));
    assert_eq!(post(addr, "/api/stop", "{}").status, 409, "nothing left to stop");
    assert_eq!(post(addr, "/api/run", "{\"mode\": \"sideways\"}").status, 400);
}

#[test]
fn a_live_run_re_runs_when_an_input_is_set_and_stops() {
    let ed = editor_with(sum_graph());
    let mut events = start_live(ed.addr());
    let r = edits(
        ed.addr(),
        0,
        json!([{"op": "set", "to": {"node": "sum", "port": "b"}, "value": 40}]),
    );
    assert_eq!(r.status, 200);
    assert!(r.json().get("live_waiting").is_none(), "{:?}", r.json());
    let f = wait_frame(&mut events, "sum = 42", |f| node_is(f, "sum", "value", "42"));
    let node = frame_node(&f, "sum").expect("sum");
    assert_eq!(
        (node["runs"].as_u64(), node["state"].as_str()),
        (Some(2), Some("done")),
        "{f}"
    );
    assert!(
        f["snapshot"]["generations"].as_u64() >= Some(2),
        "ticks count as generations: {f}"
    );
    let moved = edits(
        ed.addr(),
        1,
        json!([{"op": "layout", "id": "sum", "x": 50.0, "y": 50.0}]),
    );
    assert_eq!(moved.status, 200);
    assert_eq!(
        post(ed.addr(), "/api/run", "{}").status,
        409,
        "a batch waits for the live run"
    );
    assert_eq!(post(ed.addr(), "/api/stop", "{}").status, 200);
    let f = wait_frame(&mut events, "the stopped state", |f| state_is(f, "stopped"));
    assert_eq!(
        frame_node(&f, "sum").expect("sum")["runs"],
        2,
        "a move re-ran nothing: {f}"
    );
}

/// `sum` and `n`'s run counts in `frame` (a restarted live run counts from 1 again).
fn runs_of(frame: &Json) -> (u64, u64) {
    let runs = |id| frame_node(frame, id).and_then(|n| n["runs"].as_u64()).unwrap_or(0);
    (runs("sum"), runs("n"))
}

/// Posts `path` (undo, redo or load) with `body`; checks the live run took it as edits.
fn change_taken_live(addr: SocketAddr, path: &str, body: Json) {
    let r = post(addr, path, &body.to_string());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let reply = r.json();
    for key in ["live_waiting", "live_restarted", "live_ended"] {
        assert!(reply.get(key).is_none(), "{path}: {reply}");
    }
}

#[test]
fn live_edits_wait_for_a_valid_graph_and_undo_and_redo_reach_the_live_run_as_edits() {
    let ed = editor_with(sum_graph());
    let mut events = start_live(ed.addr());
    let r = edits(ed.addr(), 0, json!([{"op": "add", "kind": "math.neg", "id": "n"}]));
    assert_eq!(r.status, 200, "the editor takes the node");
    let waiting = r.json()["live_waiting"].as_str().unwrap_or("").to_string();
    assert!(waiting.contains('n'), "the live run says why it waits: {waiting}");
    let r = edits(
        ed.addr(),
        1,
        json!([{"op": "connect", "from": {"node": "sum", "port": "out"}, "to": {"node": "n", "port": "x"}}]),
    );
    assert_eq!(r.status, 200);
    assert!(r.json().get("live_waiting").is_none(), "{:?}", r.json());
    wait_frame(&mut events, "n = -5", |f| node_is(f, "n", "value", "-5"));
    let r = edits(
        ed.addr(),
        2,
        json!([{"op": "set", "to": {"node": "sum", "port": "a"}, "value": 10}]),
    );
    assert_eq!(r.status, 200);
    let mut f = wait_frame(&mut events, "n = -13", |f| node_is(f, "n", "value", "-13"));
    for (path, revision, n) in [("/api/undo", 3, "-5"), ("/api/redo", 4, "-13")] {
        let before = runs_of(&f);
        change_taken_live(ed.addr(), path, json!({ "revision": revision }));
        f = wait_frame(&mut events, &format!("n = {n} after {path}"), |f| {
            state_is(f, "running") && node_is(f, "n", "value", n)
        });
        let after = runs_of(&f);
        assert!(
            after.0 > before.0 && after.1 > before.1,
            "the same live run went on (a restart counts from 1): {before:?} then {after:?}"
        );
    }
    assert_eq!(post(ed.addr(), "/api/stop", "{}").status, 200);
}

#[test]
fn a_loaded_spec_reaches_the_live_run_as_edits_and_only_a_lost_constant_restarts_it() {
    let ed = editor_with(sum_graph());
    let mut events = start_live(ed.addr());
    let mut g = sum_graph();
    g.set_constant("sum", "b", Value::Int(40)).expect("sets b");
    g.add("math.neg", Some("n")).expect("adds");
    g.connect("sum", "out", "n", "x").expect("connects");
    g.add("math.add", Some("k")).expect("adds");
    g.set_constant("k", "a", Value::Int(0)).expect("sets");
    g.set_constant("k", "b", Value::Int(1)).expect("sets");
    change_taken_live(ed.addr(), "/api/load", json!({"revision": 0, "text": g.to_json()}));
    let f = wait_frame(&mut events, "n = -42", |f| node_is(f, "n", "value", "-42"));
    assert!(
        runs_of(&f).0 >= 2,
        "sum re-ran in the same live run (a restart counts from 1): {f}"
    );
    g.connect_with("k", "out", "sum", "a", OnConnected::Replace)
        .expect("connects");
    g.clear_constant("sum", "a").expect("clears the stale default");
    let body = json!({"revision": 1, "text": g.to_json()});
    let r = post(ed.addr(), "/api/load", &body.to_string());
    assert_eq!(r.status, 200);
    let why = r.json()["live_restarted"].as_str().unwrap_or("").to_string();
    assert!(
        why.contains("sum.a"),
        "names the input no edit can clear: {:?}",
        r.json()
    );
    let f = wait_frame(&mut events, "n = -41 in the restarted run", |f| {
        node_is(f, "n", "value", "-41")
    });
    assert_eq!(runs_of(&f), (1, 1), "a restart counts from 1: {f}");
    assert_eq!(post(ed.addr(), "/api/stop", "{}").status, 200);
}

#[test]
fn a_graph_that_cannot_run_live_is_refused_naming_the_input() {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.neg", Some("lonely")).expect("adds");
    let ed = editor_with(g);
    let r = post(ed.addr(), "/api/run", "{\"mode\": \"live\"}");
    assert_eq!(r.status, 422);
    assert!(
        r.json()["error"].as_str().unwrap_or("").contains("lonely"),
        "{:?}",
        r.json()
    );
    assert_eq!(post(ed.addr(), "/api/stop", "{}").status, 409);
}

/// Spins on the flow thread for `ms` milliseconds (never yields): a node that hogs the CPU.
#[flowloop_graph::kind(name = "test.spin")]
async fn spin(ms: f64) -> f64 {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(ms / 1000.0);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
    ms
}

/// An editor over `hog` = test.spin(ms), reporting stalls after 300 ms.
fn hog_editor(ms: f64) -> GraphEditor {
    let mut reg = Registry::with_std();
    reg.register(flowloop_graph::Shelf::new("test", "test kinds").with(spin_kind()))
        .expect("registers");
    let mut g = Graph::new(reg);
    g.add("test.spin", Some("hog")).expect("adds");
    g.set_constant("hog", "ms", Value::Float(ms)).expect("sets ms");
    let config = ServerConfig::new().stall_after(std::time::Duration::from_millis(300));
    GraphEditor::start(g, None, config).expect("editor starts")
}

/// Waits for a stall report naming `hog`, checks the server answers meanwhile, and returns
/// once the stall has cleared.
fn expect_hog_named(addr: SocketAddr, events: &mut BufReader<TcpStream>) {
    let frame = wait_frame(events, "a stall naming hog", |f| {
        f["stall"]["key"] == "hog" && f["stall"]["running_ms"].as_u64() >= Some(300)
    });
    assert!(frame["stall"]["silent_ms"].as_u64() >= Some(300), "{frame}");
    assert_eq!(get(addr, "/api/info").status, 200, "the server answers meanwhile");
    wait_frame(events, "the stall cleared", |f| f["stall"].is_null());
}

#[test]
fn a_node_hogging_the_flow_thread_is_named_while_the_server_answers() {
    let ed = hog_editor(2500.0);
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let run = std::thread::spawn(move || post(addr, "/api/run", "{}"));
    expect_hog_named(addr, &mut events);
    assert_eq!(run.join().expect("run request").json()["state"], "completed");
}

#[test]
fn a_hogging_node_of_a_live_run_is_named_too() {
    let ed = hog_editor(1.0);
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    assert_eq!(post(addr, "/api/run", "{\"mode\": \"live\"}").status, 200);
    wait_frame(&mut events, "the first tick", |f| node_is(f, "hog", "state", "done"));
    let r = edits(
        addr,
        0,
        json!([{"op": "set", "to": {"node": "hog", "port": "ms"}, "value": 2500.0}]),
    );
    assert_eq!(r.status, 200);
    expect_hog_named(addr, &mut events);
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
}

/// `src` = math.add(2, 3) feeding `nap` = time.sleep(value, 60 s): while `nap` sleeps, the edge
/// into it carries a value `nap` has not run on.
fn pending_edge_graph() -> Graph {
    let mut g = sum_graph_named("src");
    g.add("time.sleep", Some("nap")).expect("adds nap");
    g.set_constant("nap", "ms", Value::Float(60_000.0)).expect("sets ms");
    g.connect("src", "out", "nap", "value").expect("connects");
    g
}

/// The edge snapshot feeding `to` (`node.port`) in an editor frame.
fn frame_edge<'a>(frame: &'a Json, to: &str) -> Option<&'a Json> {
    frame["snapshot"]["edges"].as_array()?.iter().find(|e| e["to"] == to)
}

#[test]
fn batch_and_live_runs_publish_each_edges_pending_generation_by_the_input_it_feeds() {
    let ed = editor_with(pending_edge_graph());
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let run = std::thread::spawn(move || post(addr, "/api/run", "{\"mode\": \"batch\"}"));
    let f = wait_frame(&mut events, "the batch's pending edge", |f| {
        node_is(f, "nap", "state", "running") && frame_edge(f, "nap.value").is_some_and(|e| !e["pending"].is_null())
    });
    let edge = frame_edge(&f, "nap.value").expect("the edge");
    assert_eq!(edge["pending"], json!([0]), "src's first value waits for nap: {f}");
    assert!(edge["lag"].is_null(), "a plain edge has no lag: {f}");
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
    assert_eq!(run.join().expect("run request").json()["state"], "stopped");

    let r = post(addr, "/api/run", "{\"mode\": \"live\"}");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let f = wait_frame(&mut events, "the live run's pending edge", |f| {
        state_is(f, "running")
            && node_is(f, "nap", "state", "running")
            && frame_edge(f, "nap.value").is_some_and(|e| !e["pending"].is_null())
    });
    let edge = frame_edge(&f, "nap.value").expect("the edge");
    let src_generation = &frame_node(&f, "src").expect("src")["generation"];
    assert_eq!(
        &edge["pending"], src_generation,
        "the tick's value of src waits for nap: {f}"
    );
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
}

#[test]
fn a_batch_runs_stream_edge_carries_its_lag_and_a_plain_edge_none() {
    let ed = editor_with(stream_edge_graph());
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let reply = post(addr, "/api/run", "{\"mode\": \"batch\"}");
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["nodes"]["n"]["outputs"]["out"], "5", "{:?}", reply.json());
    let f = wait_frame(&mut events, "the completed run", |f| state_is(f, "completed"));
    let stream = frame_edge(&f, "all.items").expect("the stream edge");
    assert_eq!(stream["lag"], 0, "every chunk taken at the end: {f}");
    let plain = frame_edge(&f, "n.collection").expect("the plain edge");
    assert!(plain["lag"].is_null() && plain["pending"].is_null(), "{f}");
}

#[test]
fn a_live_runs_stream_edge_carries_its_lag_and_a_plain_edge_none() {
    let ed = editor_with(stream_edge_graph());
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let r = post(addr, "/api/run", "{\"mode\": \"live\"}");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The first tick runs the whole stream; once `n` has its value every chunk was taken.
    let f = wait_frame(&mut events, "the live tick's result", |f| {
        state_is(f, "running") && node_is(f, "n", "value", "5")
    });
    let stream = frame_edge(&f, "all.items").expect("the stream edge");
    assert_eq!(stream["lag"], 0, "every chunk taken once the tick ended: {f}");
    let plain = frame_edge(&f, "n.collection").expect("the plain edge");
    assert!(plain["lag"].is_null(), "a plain edge has no lag: {f}");
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
    let f = wait_frame(&mut events, "the stopped live run", |f| state_is(f, "stopped"));
    assert_eq!(frame_edge(&f, "all.items").expect("the stream edge")["lag"], 0, "{f}");
}

#[test]
fn a_live_runs_stream_edge_shows_lag_1_while_its_consumer_waits_on_another_stream() {
    // `fast` (10 ms ticks) feeds `all` (collect) and input `a` of `pairs` (zip), whose `b` is
    // `slow` (300 ms ticks). `all` pulls each fast chunk at once; `pairs` takes it only after
    // the slow stream's next tick, so `pairs.a` has a published chunk it has not taken most of
    // the tick long.
    let mut g = Graph::new(Registry::with_std());
    for (id, period) in [("fast", 10.0), ("slow", 300.0)] {
        g.add("time.interval", Some(id)).expect("adds an interval");
        g.set_constant(id, "period", Value::Float(period)).expect("sets period");
        g.set_constant(id, "count", Value::Int(3)).expect("sets count");
    }
    g.add("streams.collect", Some("all")).expect("adds all");
    g.connect("fast", "stream", "all", "items").expect("connects all");
    g.add("streams.zip", Some("pairs")).expect("adds pairs");
    g.connect("fast", "stream", "pairs", "a").expect("connects a");
    g.connect("slow", "stream", "pairs", "b").expect("connects b");
    g.add("streams.collect", Some("got")).expect("adds got");
    g.connect("pairs", "stream", "got", "items").expect("connects got");
    let ed = editor_with(g);
    let addr = ed.addr();
    let mut events = open_events(addr, "");
    let r = post(addr, "/api/run", "{\"mode\": \"live\"}");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let f = wait_frame(&mut events, "pairs.a lagging", |f| {
        frame_edge(f, "pairs.a").is_some_and(|e| e["lag"] == 1)
    });
    let fast = frame_edge(&f, "all.items").expect("the fast consumer's edge");
    assert_eq!(fast["lag"], 0, "all takes each chunk at once: {f}");
    let f = wait_frame(&mut events, "the tick's result", |f| {
        node_is(f, "got", "value", "[[0, 0], [1, 1], [2, 2]]")
    });
    for edge in ["all.items", "pairs.a", "pairs.b", "got.items"] {
        assert_eq!(frame_edge(&f, edge).expect("a stream edge")["lag"], 0, "{edge}: {f}");
    }
    assert_eq!(post(addr, "/api/stop", "{}").status, 200);
}
