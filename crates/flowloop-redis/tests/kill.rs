//! Worker processes die and stall mid-run; every input still comes out exactly once.
//!
//! `FLOWLOOP_REDIS_KILL_SEEDS=20` runs 20 seeds of kill timing (3 by default), with one value
//! per entry and with bundles of 4 values per entry.

mod common;
mod flows;

use std::collections::BTreeSet;
use std::process::Child;
use std::time::{Duration, Instant};

use common::{Children, RedisServer, signal, worker};
use flowloop_redis::protocol::Keys;
use flowloop_redis::resp::{Client, Cmd, Reply};
use flowloop_redis::{RedisRun, RunSettings};

const INPUTS: u64 = 400;
const LEASE_MS: &str = "600";

async fn len(client: &mut Client, key: &str) -> i64 {
    client
        .call(&Cmd::new("XLEN").arg(key))
        .await
        .expect("XLEN")
        .as_int()
        .unwrap_or(0)
}

/// Waits until stream `key` holds at least `n` entries (or 30 s pass).
async fn until_len(client: &mut Client, key: &str, n: i64) {
    let start = Instant::now();
    while len(client, key).await < n && start.elapsed() < Duration::from_secs(30) {
        flowloop::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits (at most 5 s) until `consumer` holds pending entries, so it dies or stalls mid-work.
async fn until_pending(client: &mut Client, keys: &Keys, consumer: &str) {
    let start = Instant::now();
    let cmd = Cmd::new("XPENDING")
        .arg(keys.stream("in"))
        .arg("echo")
        .arg("-")
        .arg("+")
        .arg("1")
        .arg(consumer);
    while client.call(&cmd).await.expect("XPENDING").items().is_empty() && start.elapsed() < Duration::from_secs(5) {
        flowloop::sleep(Duration::from_millis(1)).await;
    }
}

/// When [`chaos`] strikes, in output entries.
#[derive(Debug, Clone, Copy)]
struct Timing {
    kill_at: i64,
    stop_at: i64,
    /// Output entries to wait for past the stall before the stalled worker resumes.
    after_stop: i64,
    /// Output entries of a complete run (the end marker included).
    last: i64,
}

/// SIGKILLs worker 0 after `kill_at` output entries, SIGSTOPs worker 1 after `stop_at` until
/// its lease expired and worker 2 took over, then SIGCONTs it.
async fn chaos(server_port: u16, keys: Keys, workers: &mut [Child], t: Timing) {
    let Timing { kill_at, stop_at, .. } = t;
    let mut client = Client::new(flowloop_redis::resp::Config::local(server_port));
    let out = keys.stream("out");
    until_len(&mut client, &out, kill_at).await;
    until_pending(&mut client, &keys, "w0").await;
    workers[0].kill().expect("SIGKILL worker 0");
    until_len(&mut client, &out, stop_at).await;
    until_pending(&mut client, &keys, "w1").await;
    signal(workers[1].id(), "STOP");
    let start = Instant::now();
    let lease = keys.lease("w1");
    while client
        .call(&Cmd::new("EXISTS").arg(&lease))
        .await
        .expect("EXISTS")
        .as_int()
        == Some(1)
        && start.elapsed() < Duration::from_secs(10)
    {
        flowloop::sleep(Duration::from_millis(20)).await;
    }
    // Give the live worker time to reclaim and commit past the stalled one.
    let now = len(&mut client, &out).await;
    until_len(&mut client, &out, (now + t.after_stop).min(t.last)).await;
    signal(workers[1].id(), "CONT");
}

/// One run of 400 inputs in entries of `bundle` values through 3 workers, under [`chaos`].
fn one_seed(server: &RedisServer, seed: u64, bundle: usize) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let per = bundle as i64; // output entries count bundles
    let (kill_at, stop_at) = (rng.i64(10..120) / per, rng.i64(130..260) / per);
    let timing = Timing {
        kill_at,
        stop_at,
        after_stop: (20 / per).max(1),
        last: INPUTS as i64 / per + 1,
    };
    let context = format!(
        "seed {seed}, bundles of {bundle} (kill worker 0 at {kill_at} output entries, stop worker 1 at {stop_at})"
    );
    let run_id = format!("kill-{seed}-{bundle}");
    let mut children = Children::default();
    for i in 0..3 {
        let id = format!("w{i}");
        children.0.push(worker(
            &server.url(),
            &[
                "--id",
                &id,
                "--runs",
                "1",
                "--batch",
                "8",
                "--delay-ms",
                "3",
                "--lease-ms",
                LEASE_MS,
            ],
        ));
    }
    let flow = flows::echo(64);
    let config = server.config();
    let port = server.port;
    let (result, mut children) = flowloop::run(async move {
        let settings = RunSettings {
            run_id: Some(run_id.clone()),
            bundle,
            ..RunSettings::default()
        };
        let mut run = RedisRun::start(config, &flow, settings).await.expect("run starts");
        let keys = run.keys().clone();
        let feeder = flowloop::spawn(async move {
            let values: Vec<u64> = (0..INPUTS).collect();
            run.feed("in", &values).await.expect("feed");
            run.end("in").await.expect("end");
            run.wait(Some(Duration::from_secs(90))).await
        })
        .await;
        chaos(port, keys, &mut children.0, timing).await;
        (feeder.join().await.expect("feeder task"), children)
    })
    .expect("loop runs");
    result.unwrap_or_else(|e| panic!("{context}: run failed: {e}"));
    check_outputs(server, &format!("kill-{seed}-{bundle}"), &context);
    for (i, c) in children.0.iter_mut().enumerate().skip(1) {
        let start = Instant::now();
        while c.try_wait().expect("try_wait").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{context}: worker {i} did not leave after the run"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut report = String::new();
        if let Some(out) = c.stdout.as_mut() {
            let _ = std::io::Read::read_to_string(out, &mut report);
        }
        eprintln!("{context}: worker {i}: {}", report.trim());
    }
}

/// An independent reader: every input exactly once, one end marker, nothing pending.
fn check_outputs(server: &RedisServer, run: &str, context: &str) {
    let keys = Keys::new(run);
    let config = server.config();
    let (entries, pending, dead) = flowloop::run(async move {
        let mut c = Client::new(config);
        let range = c
            .call(&Cmd::new("XRANGE").arg(keys.stream("out")).arg("-").arg("+"))
            .await
            .expect("XRANGE");
        let pending = c
            .call(&Cmd::new("XPENDING").arg(keys.stream("in")).arg("echo"))
            .await
            .expect("XPENDING");
        let dead = c.call(&Cmd::new("XLEN").arg(keys.dlq())).await.expect("XLEN");
        (range.into_items(), pending, dead.as_int())
    })
    .expect("loop runs");
    let mut values = Vec::new();
    let mut markers = 0;
    for e in entries {
        let fields = e.items().get(1).cloned().unwrap_or(Reply::Nil).pairs();
        match fields.first().map(|(k, v)| (k.as_str(), v.as_str())) {
            Some((Some("d"), Some(v))) => values.push(v.parse::<u64>().expect("u64 payload")),
            Some((Some("b"), Some(v))) => values.extend(split_bundle(v, context)),
            Some((Some("eos"), _)) => markers += 1,
            other => panic!("{context}: unexpected entry {other:?}"),
        }
    }
    let distinct: BTreeSet<u64> = values.iter().copied().collect();
    assert_eq!(
        values.len(),
        INPUTS as usize,
        "{context}: {} outputs, {} distinct",
        values.len(),
        distinct.len()
    );
    assert_eq!(
        distinct,
        (0..INPUTS).collect::<BTreeSet<_>>(),
        "{context}: some input missing"
    );
    assert_eq!(markers, 1, "{context}: end markers");
    assert_eq!(
        pending.items().first().and_then(Reply::as_int),
        Some(0),
        "{context}: pending {pending:?}"
    );
    assert_eq!(dead, Some(0), "{context}: dead letters");
}

/// The values of a bundle entry (`<len>:<json>` repeated), read independently of the crate.
fn split_bundle(mut raw: &str, context: &str) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some((len, rest)) = raw.split_once(':') {
        let len: usize = len
            .parse()
            .unwrap_or_else(|_| panic!("{context}: bad bundle length in {raw:?}"));
        let (value, tail) = rest.split_at(len);
        out.push(value.parse().expect("u64 payload"));
        raw = tail;
    }
    assert!(raw.is_empty(), "{context}: trailing bundle bytes {raw:?}");
    out
}

/// Runs the seeds (`FLOWLOOP_REDIS_KILL_SEEDS`, 3 by default) with `bundle` values per entry.
fn seeds(test: &str, bundle: usize) {
    let Some(server) = RedisServer::start(test) else {
        return;
    };
    let seeds: u64 = std::env::var("FLOWLOOP_REDIS_KILL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for seed in 0..seeds {
        eprintln!("kill test: seed {seed}, bundles of {bundle}");
        one_seed(&server, seed, bundle);
    }
}

#[test]
fn killed_and_stalled_workers_lose_and_duplicate_nothing() {
    seeds("killed_and_stalled_workers_lose_and_duplicate_nothing", 1);
}

#[test]
fn killed_and_stalled_workers_lose_and_duplicate_nothing_in_bundles() {
    seeds("killed_and_stalled_workers_lose_and_duplicate_nothing_in_bundles", 4);
}
