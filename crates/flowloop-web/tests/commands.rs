//! Commands reach the flow's loop through its `LoopHandle`, and a node that hogs the CPU is
//! named by the server while the flow's loop is silent.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_web::{FlowDashboard, RunEnd, ServerConfig};

async fn wait_tick(x: u64) -> u64 {
    flowloop::sleep(Duration::from_millis(20)).await;
    x + 1
}

async fn hog(x: u64) -> u64 {
    if x == 3 {
        std::thread::sleep(Duration::from_millis(2500)); // blocks the flow's thread on purpose
    }
    x
}

fn post_command(addr: std::net::SocketAddr, body: &str) -> Reply {
    let raw = format!(
        "POST /api/command HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, raw.as_bytes())
}

#[test]
fn a_stop_command_ends_the_run_and_unknown_commands_are_refused() {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let runner = std::thread::spawn(move || {
        let mut b = FlowBuilder::new();
        let back = b.forward::<u64>("tick");
        let t = b.node(wait_tick, (back.or(0),));
        b.define(back, t);
        let mut lp = EventLoop::new().unwrap();
        let dash = FlowDashboard::start(b.build().unwrap(), &lp, ServerConfig::new()).unwrap();
        tx.send(dash.addr()).unwrap();
        let end = dash.run_on(&mut lp, RunOptions::new()).unwrap();
        let _ = done_rx.recv(); // keep the server up until the test read its reply
        (end, dash.flow().stats(t).runs)
    });
    let addr = rx.recv().unwrap();
    let bad = post_command(addr, r#"{"command":"dance"}"#);
    assert_eq!(bad.status, 409);
    assert!(bad.json()["error"].as_str().unwrap().contains("`dance`"));
    let ok = post_command(addr, r#"{"command":"stop"}"#);
    assert_eq!((ok.status, ok.json()["stopped"].as_bool()), (200, Some(true)));
    let after = get(addr, "/api/snapshot").json();
    assert!(["stopped", "running"].contains(&after["snapshot"]["state"].as_str().unwrap()));
    done_tx.send(()).unwrap();
    let (end, runs) = runner.join().unwrap();
    assert_eq!(end, RunEnd::Stopped);
    assert!(runs >= 1);
}

#[test]
fn a_node_hogging_the_cpu_is_named_while_the_server_stays_responsive() {
    let (tx, rx) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        let mut b = FlowBuilder::new();
        let back = b.forward::<u64>("tick");
        let t = b.node(wait_tick, (back.or(0),));
        b.define(back, t);
        b.node(hog, (t,));
        let mut lp = EventLoop::new().unwrap();
        let config = ServerConfig::new().stall_after(Duration::from_millis(400));
        let dash = FlowDashboard::start(b.build().unwrap(), &lp, config).unwrap();
        tx.send(dash.addr()).unwrap();
        run_for(&dash, &mut lp, Duration::from_millis(3500))
    });
    let addr = rx.recv().unwrap();
    let hog_key = get(addr, "/api/graph").json()["nodes"][1]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Instant::now();
    let mut named = None;
    while t.elapsed() < Duration::from_secs(10) && named.is_none() {
        let frame = get(addr, "/api/snapshot").json();
        if frame["stall"]["key"] == hog_key.as_str() && frame["stall"]["running_ms"].as_u64() >= Some(500) {
            named = Some(frame["stall"].clone());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stall = named.expect("the page's data names the hogging node");
    assert!(stall["silent_ms"].as_u64().unwrap() >= 400);
    assert_eq!(runner.join().unwrap(), RunEnd::Stopped);
}
