//! Ctrl-C stops `flowloop run` cleanly: it prints what ran and exits with 130.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{example, json};

#[test]
fn ctrl_c_stops_the_run_and_prints_what_ran() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("flowloop"))
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit", "next=1000000000000", "--json"])
        // Tracing output tells us the loop (and so the Ctrl-C handler) is running.
        .env("FLOWLOOP_LOG", "flowloop=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flowloop starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (started_tx, started_rx) = mpsc::channel();
    let drain = std::thread::spawn(move || {
        for (i, line) in BufReader::new(stderr).lines().map_while(Result::ok).enumerate() {
            if i == 0 {
                let _ = started_tx.send(line);
            }
        }
    });
    let first = started_rx.recv_timeout(Duration::from_secs(60));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(first.is_ok(), "flowloop printed tracing output once its loop ran");
    assert!(kill.expect("kill runs").success());
    let (done_tx, done_rx) = mpsc::channel();
    let pid = child.id();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done_tx.send(());
        out
    });
    if done_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("flowloop did not stop within 60 s of Ctrl-C");
    }
    let out = waiter
        .join()
        .expect("the waiter does not panic")
        .expect("flowloop was waited for");
    let _ = drain.join();
    assert_eq!(out.status.code(), Some(130));
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "interrupted");
    assert!(v["node_runs"].as_u64().unwrap() > 0, "{v}");
    assert!(v["outputs"]["count.out"]["value"].as_i64().unwrap() > 0, "{v}");
}
