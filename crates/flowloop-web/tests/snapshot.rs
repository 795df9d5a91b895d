//! What the page is told about a run: node errors, the run's error, value previews, edges
//! whose consumer has not caught up with its producer, and stream edges' lag.

mod common;

use std::io::BufReader;
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn long_text() -> String {
    "x".repeat(500)
}

async fn refuse(_s: String) -> Result<i64, String> {
    Err("refused: the input is too long".into())
}

/// Waits (bounded) until the server's latest frame satisfies `ok`.
fn frame_where(addr: std::net::SocketAddr, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..200 {
        let f = get(addr, "/api/snapshot").json();
        if ok(&f) {
            return f;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no frame matched within 2 s");
}

#[test]
fn a_failed_node_shows_its_error_and_long_values_are_truncated() {
    let mut b = FlowBuilder::new();
    let text = b.node(long_text, ());
    let bad = b.try_node(refuse, (text,));
    let mut lp = EventLoop::new().unwrap();
    let dash = FlowDashboard::start(b.build().unwrap(), &lp, ServerConfig::new()).unwrap();
    dash.watch(text).watch_with(bad, |v: &i64| format!("{v}"));
    let err = dash.run_on(&mut lp, RunOptions::new()).unwrap_err();
    assert!(err.to_string().contains("refused"));
    let f = frame_where(dash.addr(), |f| f["snapshot"]["state"] == "failed");
    let snap = &f["snapshot"];
    assert!(snap["error"].as_str().unwrap().contains("refused"), "{snap}");
    assert_eq!(snap["nodes"][1]["state"], "error");
    assert!(snap["nodes"][1]["error"].as_str().unwrap().contains("too long"));
    let preview = snap["nodes"][0]["value"].as_str().unwrap();
    assert_eq!(preview.chars().count(), 121, "120 characters and an ellipsis");
    assert!(preview.ends_with('…'));
    assert_eq!(snap["nodes"][0]["state"], "done");
    assert_eq!(snap["nodes"][0]["generation"], serde_json::json!([0]));
    assert_eq!(snap["generations"], 0, "the failed node never finished a generation");
}

async fn quick() -> i64 {
    7
}

async fn slow(x: i64) -> i64 {
    flowloop::sleep(Duration::from_millis(300)).await;
    x * 2
}

/// Starts a dashboard (sampling every 20 ms; timing polls with `slow_after` as the slow
/// threshold, when given) over the flow `build` makes, on a runner thread; opens the event
/// stream, then lets the run start. Returns the stream and the runner (which asserts the run
/// finished).
fn watched_run(
    build: fn(&mut FlowBuilder),
    slow_after: Option<Duration>,
) -> (BufReader<TcpStream>, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let runner = std::thread::spawn(move || {
        let mut b = FlowBuilder::new();
        build(&mut b);
        let mut lp = EventLoop::new().expect("loop");
        let config = ServerConfig::new().sample_every(Duration::from_millis(20));
        let dash = FlowDashboard::start(b.build().expect("builds"), &lp, config).expect("starts");
        if let Some(threshold) = slow_after {
            dash.time_nodes(threshold);
        }
        tx.send(dash.addr()).expect("test alive");
        go_rx.recv().expect("go");
        let end = dash.run_on(&mut lp, RunOptions::new()).expect("runs");
        assert!(matches!(end, flowloop_web::RunEnd::Finished(_)), "the run finished");
    });
    let addr = rx.recv().expect("dashboard address");
    let events = open_events(addr, "");
    go_tx.send(()).expect("runner alive");
    (events, runner)
}

#[test]
fn an_edge_shows_the_pending_generation_until_its_consumer_caught_up() {
    let (mut events, runner) = watched_run(
        |b| {
            let q = b.node(quick, ());
            b.node(slow, (q,));
        },
        None,
    );
    let pending = wait_frame(&mut events, "a pending edge", |f| {
        f["snapshot"]["nodes"][1]["state"] == "running"
            && f["snapshot"]["edges"][0]["pending"] == serde_json::json!([0])
    });
    assert_eq!(pending["snapshot"]["nodes"][0]["state"], "done", "{pending}");
    let done = wait_frame(&mut events, "the completed run", |f| {
        f["snapshot"]["state"] == "completed"
    });
    assert!(done["snapshot"]["edges"][0]["pending"].is_null(), "caught up: {done}");
    runner.join().expect("the run finished");
}

#[test]
fn a_stream_edge_shows_its_lag_and_a_plain_edge_none() {
    let (mut events, runner) = watched_run(
        |b| {
            let sum = stream_fan(b);
            b.node(slow, (sum,));
        },
        None,
    );
    let lags = |f: &serde_json::Value| -> Vec<serde_json::Value> {
        (0..3).map(|i| f["snapshot"]["edges"][i]["lag"].clone()).collect()
    };
    let lagging = wait_frame(&mut events, "the slow consumer a chunk behind", |f| {
        f["snapshot"]["edges"][1]["lag"] == 1
    });
    assert_eq!(
        lags(&lagging),
        [serde_json::json!(0), serde_json::json!(1), serde_json::Value::Null],
        "the fast consumer took every chunk; the plain edge has no lag: {lagging}"
    );
    let done = wait_frame(&mut events, "the completed run", |f| {
        f["snapshot"]["state"] == "completed"
    });
    assert_eq!(
        lags(&done),
        [serde_json::json!(0), serde_json::json!(0), serde_json::Value::Null],
        "caught up: {done}"
    );
    runner.join().expect("the run finished");
}

async fn busy() -> i64 {
    let until = std::time::Instant::now() + Duration::from_millis(60);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
    1
}

async fn after(x: i64) -> i64 {
    flowloop::sleep(Duration::from_millis(300)).await;
    x
}

#[test]
fn poll_times_show_per_node_with_a_slow_badge_past_the_threshold() {
    let (mut events, runner) = watched_run(
        |b| {
            let hot = b.node(busy, ());
            b.node(after, (hot,));
        },
        Some(Duration::from_millis(30)),
    );
    let f = wait_frame(&mut events, "busy's poll time", |f| {
        f["snapshot"]["state"] == "running" && !f["snapshot"]["nodes"][0]["poll_recent_us"].is_null()
    });
    let busy = &f["snapshot"]["nodes"][0];
    assert!(busy["poll_total_us"].as_u64() >= Some(60_000), "{busy}");
    assert!(busy["poll_recent_us"].as_u64() >= Some(60_000), "{busy}");
    assert_eq!(busy["slow"], true, "60 ms per run is past the 30 ms threshold: {busy}");
    let sleeper = &f["snapshot"]["nodes"][1];
    assert_eq!(sleeper["slow"], false, "waiting on a timer is not polling: {sleeper}");
    let done = wait_frame(&mut events, "the completed run", |f| {
        f["snapshot"]["state"] == "completed"
    });
    assert!(
        done["snapshot"]["nodes"][0]["poll_total_us"].as_u64() >= Some(60_000),
        "{done}"
    );
    runner.join().expect("the run finished");
}

/// A run's final sample is left for the server without waking it (so a one-shot run does not
/// pay for a cross-thread wake-up): with the dashboard still up and no request made, the
/// server's own tick publishes it to the open event stream, for each run in turn.
#[test]
fn each_runs_last_frame_reaches_an_open_event_stream_while_the_dashboard_stays_up() {
    let (dash, mut lp) = dashboard(ServerConfig::new());
    let mut events = open_events(dash.addr(), "");
    for run in 0..2u64 {
        dash.run_on(&mut lp, RunOptions::new()).expect("runs");
        let done = wait_frame(&mut events, "the completed run", |f| {
            f["snapshot"]["state"] == "completed" && f["snapshot"]["nodes"][0]["generation"] == serde_json::json!([run])
        });
        assert_eq!(done["snapshot"]["nodes"][0]["runs"], run + 1, "{done}");
    }
    drop(dash);
}
