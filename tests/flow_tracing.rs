//! `tracing` output of flows (feature `tracing`): flow events name their nodes, the slow-poll
//! warning names the node once, and `FLOWLOOP_LOG` alone prints events.
//!
//! Run with `cargo test --release -p flowloop --features tracing --test flow_tracing`.
#![cfg(feature = "tracing")]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::with_watchdog;
use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};

/// A `tracing-subscriber` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("the capture lock is never poisoned")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the capture lock is never poisoned")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `body` with a debug-level subscriber for this thread only and returns what it printed.
fn captured(filter: &str, body: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, body);
    out.text()
}

async fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn flow_events_name_their_nodes() {
    let text = with_watchdog(|| {
        captured("debug", || {
            let mut b = FlowBuilder::new();
            let bad = b.try_node(|| async { Err::<i64, _>("boom") }, ());
            b.set_name(bad, "bad");
            let back = b.forward::<i64>("counter");
            let counter = b.node(inc, (back.or(0),));
            b.define(back, counter);
            let mut flow = b.build().unwrap();
            let options = RunOptions::new().limit(counter, (1,)).terminate_on_error(false);
            assert!(flow.run_until_complete(options).is_err());
        })
    });
    for needle in [
        "node inc#1 started",
        "node inc#1 finished",
        "node inc#1 broke a cycle with defaults",
        "node inc#1 reached its generation limit",
        "node bad failed",
        "error=boom",
        "generation=(0,)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn the_slow_poll_warning_names_the_node_once() {
    let text = with_watchdog(|| {
        captured("warn", || {
            let mut b = FlowBuilder::new();
            let hog = b.node(
                |x: i64| async move {
                    // A body that blocks the loop (what the warning is for).
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_millis(30) {
                        std::hint::spin_loop();
                    }
                    x
                },
                (1,),
            );
            b.set_name(hog, "hog");
            let quick = b.node(inc, (hog,));
            let mut flow = b.build().unwrap();
            let mut lp = EventLoop::builder()
                .slow_poll_threshold(Duration::from_millis(10))
                .instrument(flowloop::runtime::TracingInstrument)
                .build()
                .unwrap();
            flow.run_on(&mut lp, RunOptions::new()).unwrap();
            assert_eq!(flow.value(quick), Some(2));
        })
    });
    assert_eq!(text.matches("slow poll").count(), 1, "{text}");
    assert!(text.contains("slow poll in node hog"), "{text}");
}

/// The child half of `flowloop_log_alone_prints_node_events`: runs a flow with no subscriber
/// installed by the program. Ignored in normal runs; the parent runs it in a fresh process.
#[test]
#[ignore = "run by flowloop_log_alone_prints_node_events in a child process"]
fn child_runs_a_flow_without_installing_a_subscriber() {
    let mut b = FlowBuilder::new();
    let a = b.node(inc, (41,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(a), Some(42));
}

#[test]
fn flowloop_log_alone_prints_node_events() {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "child_runs_a_flow_without_installing_a_subscriber",
            "--ignored",
            "--nocapture",
        ])
        .env("FLOWLOOP_LOG", "debug")
        .output()
        .expect("the test binary runs again as a child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stderr}");
    assert!(stderr.contains("node inc#0 started"), "no flow event in:\n{stderr}");
    assert!(stderr.contains("node inc#0 finished"), "no flow event in:\n{stderr}");
    assert!(stderr.contains("task spawned"), "no loop event in:\n{stderr}");
}
