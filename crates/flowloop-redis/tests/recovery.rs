//! A producer lost before end-of-stream, and a Redis restart mid-run.

mod common;
mod flows;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::{Children, RedisServer, assert_poison_dead_lettered, settings, wait_exit, worker};
use flowloop_redis::resp::{Client, Cmd};
use flowloop_redis::{FlowInputs, RedisRun, RunError, RunSettings};

/// `n` worker processes with ids `w0`, `w1`, ... and `args`.
fn workers(server: &RedisServer, n: usize, args: &[&str]) -> Children {
    let mut children = Children::default();
    for i in 0..n {
        let id = format!("w{i}");
        let mut all = vec!["--id", id.as_str()];
        all.extend_from_slice(args);
        children.0.push(worker(&server.url(), &all));
    }
    children
}

/// Runs the `crash` flow over 0..20 with 3 worker processes (each delivery of 7 kills its
/// worker); checks that two workers died and returns the outputs.
fn run_crash(server: &RedisServer, settings: RunSettings) -> flowloop_redis::RunOutputs {
    // w_a dies on 7, w_b reclaims it and dies, the third worker finds it delivered
    // max_deliveries (2) times and buries it instead of dying too.
    let mut children = workers(server, 3, &["--runs", "1", "--batch", "1", "--lease-ms", "400"]);
    let config = server.config();
    let outputs = flowloop::run(async move {
        let mut run = RedisRun::start(config, &flows::crash(), settings).await?;
        let values: Vec<i64> = (0..20).collect();
        run.feed_all(&FlowInputs::new().feed("in", &values).expect("serialize"))
            .await?;
        run.wait(Some(Duration::from_secs(60))).await?;
        run.collect().await
    })
    .expect("loop runs")
    .expect("the run completes with the survivor");
    let statuses: Vec<bool> = children
        .0
        .iter_mut()
        .enumerate()
        .map(|(i, c)| wait_exit(c, &format!("worker {i}"), Duration::from_secs(20)).success())
        .collect();
    assert_eq!(
        statuses.iter().filter(|ok| !**ok).count(),
        2,
        "two workers died: {statuses:?}"
    );
    outputs
}

#[test]
fn a_crash_poison_goes_to_the_dead_letter_stream_after_max_deliveries() {
    let Some(server) = RedisServer::start("crash_poison") else {
        return;
    };
    let outputs = run_crash(&server, settings("crash"));
    assert_poison_dead_lettered(&outputs, 20, 7, 2, "never finished");
}

#[test]
fn a_crash_poison_in_a_bundle_takes_its_whole_bundle_to_the_dead_letter_stream() {
    let Some(server) = RedisServer::start("crash_poison_bundle") else {
        return;
    };
    let bundled = RunSettings {
        bundle: 4,
        ..settings("crash4")
    };
    let outputs = run_crash(&server, bundled);
    let mut out: Vec<i64> = outputs.get("out").expect("out");
    out.sort_unstable();
    // 7 travels in the bundle [4, 5, 6, 7]: no worker survives that bundle, so it is buried
    // whole and read back as one dead letter per value.
    assert_eq!(out, (0..20).filter(|n| !(4..=7).contains(n)).collect::<Vec<_>>());
    let dead = outputs.dead_letters();
    let payloads: Vec<&[u8]> = dead.iter().map(|d| d.payload.as_slice()).collect();
    assert_eq!(payloads, [&b"4"[..], b"5", b"6", b"7"], "{dead:?}");
    for d in dead {
        assert_eq!(
            (d.processor.as_str(), d.stream.as_str(), d.deliveries),
            ("check", "in", 2)
        );
        assert!(d.error.contains("never finished"), "{}", d.error);
    }
}

#[test]
fn a_producer_killed_before_end_of_stream_is_reported() {
    let Some(server) = RedisServer::start("a_producer_killed_before_end_of_stream_is_reported") else {
        return;
    };
    let mut children = Children::default();
    children.0.push(worker(
        &server.url(),
        &["--produce", "lost-run", "--count", "50", "--lease-ms", "500"],
    ));
    children.0.push(worker(&server.url(), &["--id", "w0", "--runs", "1"]));
    let stdout = children.0[0].stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("producer prints");
    assert_eq!(line.trim(), "fed");
    children.0[0].kill().expect("SIGKILL the producer");
    let config = server.config();
    let start = Instant::now();
    let result = flowloop::run(async move {
        let mut run = RedisRun::attach(config, &flows::echo(1024), "lost-run", RunSettings::default()).await?;
        run.wait(Some(Duration::from_secs(30))).await
    })
    .expect("loop runs");
    match result {
        Err(RunError::ProducerLost { stream, producer }) => {
            assert_eq!(stream.as_str(), "in");
            assert!(producer.starts_with("producer-"), "{producer}");
        }
        other => panic!("expected ProducerLost, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    let message = RunError::ProducerLost {
        stream: "in".into(),
        producer: "p".into(),
    }
    .to_string();
    assert!(message.contains("stream `in`"), "{message}");
    // The run is marked failed, so its worker leaves instead of waiting forever.
    wait_exit(
        &mut children.0[1],
        "the worker of the failed run",
        Duration::from_secs(20),
    );
}

#[test]
fn workers_reconnect_after_a_redis_restart_and_lose_nothing() {
    restart_mid_run("workers_reconnect_after_a_redis_restart_and_lose_nothing", 1);
}

#[test]
fn bundled_entries_survive_a_redis_restart_too() {
    restart_mid_run("bundled_entries_survive_a_redis_restart_too", 4);
}

/// Echoes 300 values over 2 worker processes, `bundle` values per stream entry, restarts Redis
/// (AOF on) once 100 values are out, and checks every value arrives exactly once.
fn restart_mid_run(test: &str, bundle: usize) {
    let aof = ["--save", "", "--appendonly", "yes", "--appendfsync", "always"];
    let Some(mut server) = RedisServer::start_with(test, &aof) else {
        return;
    };
    let mut children = workers(&server, 2, &["--runs", "1", "--batch", "8", "--delay-ms", "2"]);
    const N: u64 = 300;
    let config = server.config();
    let (restart_tx, restart_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let driver = std::thread::spawn(move || {
        flowloop::run(async move {
            let bundled = RunSettings {
                bundle,
                ..settings("restart")
            };
            let mut run = RedisRun::start(config.clone(), &flows::echo(64), bundled)
                .await
                .expect("start");
            let out = run.keys().stream("out");
            let feeder = flowloop::spawn(async move {
                let values: Vec<u64> = (0..N).collect();
                run.feed("in", &values).await.expect("feed survives the restart");
                run.end("in").await.expect("end");
                let outputs = run.collect().await?;
                Ok::<_, RunError>((outputs.get::<u64>("out")?, outputs.dead_letters().len()))
            })
            .await;
            let mut probe = Client::new(config);
            let start = Instant::now();
            while probe
                .call(&Cmd::new("XLEN").arg(&out))
                .await
                .expect("XLEN")
                .as_int()
                .unwrap_or(0)
                < (100 / bundle) as i64
            {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no progress before the restart"
                );
                flowloop::sleep(Duration::from_millis(2)).await;
            }
            restart_tx.send(()).expect("main thread listens");
            let _ = done_rx.recv();
            feeder.join().await.expect("feeder task")
        })
        .expect("loop runs")
    });
    restart_rx.recv().expect("driver reached 100 outputs");
    server.restart();
    done_tx.send(()).expect("driver waits");
    let (values, dead) = driver
        .join()
        .expect("driver thread")
        .expect("run completes after the restart");
    let distinct: BTreeSet<u64> = values.iter().copied().collect();
    assert_eq!(
        values.len(),
        N as usize,
        "{} outputs, {} distinct",
        values.len(),
        distinct.len()
    );
    assert_eq!(distinct, (0..N).collect::<BTreeSet<_>>());
    assert_eq!(dead, 0);
    for (i, w) in children.0.iter_mut().enumerate() {
        let status = wait_exit(w, &format!("worker {i} (after the restart)"), Duration::from_secs(20));
        assert!(status.success(), "worker {i} failed: {status}");
    }
}

#[test]
fn sigterm_makes_a_worker_finish_its_batch_ack_and_leave() {
    let Some(server) = RedisServer::start("sigterm") else {
        return;
    };
    let mut children = workers(&server, 2, &["--runs", "1", "--batch", "8", "--delay-ms", "3"]);
    const N: u64 = 200;
    let config = server.config();
    let mut terminated = children.0.remove(0);
    let (values, status, leftovers) = flowloop::run(async move {
        let mut run = RedisRun::start(config.clone(), &flows::echo(64), settings("term"))
            .await
            .expect("start");
        let keys = run.keys().clone();
        let feeder = flowloop::spawn(async move {
            run.feed("in", &(0..N).collect::<Vec<u64>>()).await.expect("feed");
            run.end("in").await.expect("end");
            run.collect().await.expect("the other worker finishes the run")
        })
        .await;
        let mut probe = Client::new(config);
        let pending_w0 = Cmd::new("XPENDING")
            .arg(keys.stream("in"))
            .arg("echo")
            .arg("-")
            .arg("+")
            .arg("1")
            .arg("w0");
        let start = Instant::now();
        while probe.call(&pending_w0).await.expect("XPENDING").items().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(30), "w0 never took work");
            flowloop::sleep(Duration::from_millis(1)).await;
        }
        common::signal(terminated.id(), "TERM");
        let status = wait_exit(&mut terminated, "w0 (after SIGTERM)", Duration::from_secs(20));
        // Left cleanly: nothing pending under its name, its lease given up, its consumer gone.
        let pending = probe.call(&pending_w0).await.expect("XPENDING").items().len();
        let lease = probe
            .call(&Cmd::new("EXISTS").arg(keys.lease("w0")))
            .await
            .expect("EXISTS")
            .as_int();
        let consumers = probe
            .call(&Cmd::new("XINFO").arg("CONSUMERS").arg(keys.stream("in")).arg("echo"))
            .await;
        let has_w0 = consumers.expect("XINFO").into_items().into_iter().any(|c| {
            c.pairs()
                .into_iter()
                .any(|(k, v)| k.as_str() == Some("name") && v.as_str() == Some("w0"))
        });
        let outputs = feeder.join().await.expect("feeder task");
        (
            outputs.get::<u64>("out").expect("out"),
            status,
            (pending, lease, has_w0),
        )
    })
    .expect("loop runs");
    assert!(status.success(), "w0 exited with {status}");
    assert_eq!(
        leftovers,
        (0, Some(0), false),
        "w0 left entries, its lease or its consumer behind"
    );
    let distinct: BTreeSet<u64> = values.iter().copied().collect();
    assert_eq!(values.len(), N as usize);
    assert_eq!(distinct, (0..N).collect::<BTreeSet<_>>());
}
