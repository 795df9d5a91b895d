//! `flowloop worker`: the real binary hosts a catalog flow for a run started on a real
//! redis-server (free port), then leaves cleanly on SIGTERM; bad options are refused.
#![cfg(unix)]

mod common;
#[path = "../../flowloop-redis/tests/common/server.rs"]
mod redis_server;

use std::ffi::OsStr;
use std::time::Duration;

use common::{Spawned, flowloop, text};
use flowloop_redis::protocol::Keys;
use flowloop_redis::resp::Config;
use flowloop_redis::{FlowInputs, RedisRun, RunSettings, catalog};
use redis_server::RedisServer as Redis;

fn worker(redis: &Redis, extra: &[&str]) -> Spawned {
    let url = redis.url();
    let mut args = vec![OsStr::new("worker"), OsStr::new("--redis"), OsStr::new(&url)];
    args.extend(extra.iter().map(OsStr::new));
    Spawned::start(&args, &[])
}

#[test]
fn a_worker_process_serves_a_word_count_run_and_leaves_on_sigterm() {
    let Some(redis) = Redis::start("a_worker_process_serves_a_word_count_run_and_leaves_on_sigterm") else {
        return;
    };
    let mut w = worker(&redis, &["--flows", "word_count", "--id", "w1"]);
    assert_eq!(w.line(), "worker w1 serving word_count");
    let config = Config::local(redis.port);
    let counts = flowloop::run(async move {
        let settings = RunSettings {
            run_id: Some("cli-run".into()),
            ..RunSettings::default()
        };
        let mut run = RedisRun::start(config, &catalog::word_count(), settings).await?;
        let inputs = FlowInputs::new()
            .feed("lines", &["a b a", "b c", "a"])
            .expect("strings encode");
        run.feed_all(&inputs).await?;
        let outputs = flowloop::timeout(Duration::from_secs(60), run.collect())
            .await
            .expect("the worker finishes the run within 60 s")?;
        outputs.get::<(String, u64)>("counts")
    })
    .expect("the loop runs")
    .expect("the run succeeds");
    let expected: Vec<(String, u64)> = vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)];
    assert_eq!(counts, expected);
    let (code, stderr) = w.stop("TERM");
    assert_eq!(code, Some(0), "{stderr}");
    let report = w.rest().join("\n");
    assert!(report.starts_with("left: 1 runs finished"), "{report}");
    assert!(
        !report.contains(" 0 entries committed"),
        "the worker committed entries: {report}"
    );
    let keys = Keys::new("cli-run");
    for stream in ["lines", "words"] {
        let groups = redis.cli(&["XINFO", "GROUPS", &keys.stream(stream)]);
        let lines: Vec<&str> = groups.lines().collect();
        let pending = lines.iter().position(|l| *l == "pending").map(|i| lines[i + 1]);
        assert_eq!(
            pending,
            Some("0"),
            "every entry of `{stream}` was acknowledged: {groups}"
        );
    }
    assert_eq!(
        redis.cli(&["EXISTS", &keys.lease("w1")]),
        "0",
        "the worker gave up its lease"
    );
}

#[test]
fn unknown_flows_and_bad_urls_are_usage_errors() {
    let out = flowloop()
        .args(["worker", "--redis", "redis://127.0.0.1:1", "--flows", "nope"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("nope") && err.contains("word_count"), "{err}");
    let out = flowloop()
        .args(["worker", "--redis", "http://x"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("http://x"), "{}", text(&out.stderr));
    let out = flowloop().arg("worker").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--redis"));
}
