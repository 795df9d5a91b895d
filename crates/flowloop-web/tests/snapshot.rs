//! What a finished run leaves on the page: node errors, the run's error, value previews.

mod common;

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
