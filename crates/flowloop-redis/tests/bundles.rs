//! Bundle entries (`RunSettings::bundle`): several values per stream entry give the same
//! outputs and dead letters as one value per entry, with fewer entries in Redis.

mod common;
mod flows;

use std::time::Duration;

use common::{RedisServer, assert_poison_dead_lettered, run_on_redis_with, settings};
use flowloop_redis::resp::{Client, Cmd};
use flowloop_redis::{Flow, FlowInputs, InProcess, Provided, RedisRun, RunOutputs, RunSettings};

/// Settings of run `run` feeding bundles of `bundle` values.
fn bundled(run: &str, bundle: usize) -> RunSettings {
    RunSettings {
        bundle,
        ..settings(run)
    }
}

/// Runs `flow` in-process and on Redis (2 workers providing `provided`, bundles of `bundle`
/// values, run id `run`).
fn both(
    server: &RedisServer,
    flow: Flow,
    inputs: FlowInputs,
    (run, bundle): (&str, usize),
    provided: Provided,
) -> (RunOutputs, RunOutputs) {
    let (config, run_settings) = (server.config(), bundled(run, bundle));
    flowloop::run(async move {
        let local = InProcess::new(&flow).provide(provided.clone());
        let local = local.run(inputs.clone()).await.expect("in-process run");
        let hosts = (2, provided);
        (
            local,
            run_on_redis_with(config, &flow, hosts, inputs, run_settings).await,
        )
    })
    .expect("loop runs")
}

fn entries(server: &RedisServer, run: &str, stream: &str) -> usize {
    let len = server.cli(&["XLEN", &format!("fl:{{{run}}}:s:{stream}")]);
    len.parse().expect("XLEN answers a number")
}

#[test]
fn bundled_word_count_matches_in_process_with_a_fifth_of_the_entries() {
    let Some(server) = RedisServer::start("bundled_word_count") else {
        return;
    };
    let lines: Vec<String> = (0..60).map(|i| format!("a b{} c{} a", i % 4, i % 9)).collect();
    let inputs = FlowInputs::new().feed("lines", &lines).expect("serialize");
    let (local, remote) = both(&server, flows::word_count(), inputs, ("wc5", 5), Provided::new());
    for stream in ["counts", "lengths"] {
        let mut a: Vec<serde_json::Value> = local.get(stream).expect("local output");
        let mut b: Vec<serde_json::Value> = remote.get(stream).expect("redis output");
        a.sort_by_key(|v| v.to_string());
        b.sort_by_key(|v| v.to_string());
        assert_eq!(a, b, "{stream}");
    }
    assert_eq!(remote.get::<serde_json::Value>("lengths").expect("lengths").len(), 240);
    // 60 lines in bundles of 5: 12 entries plus the end marker, and the split words of each
    // bundle were committed as one bundle entry of `words`.
    assert_eq!(entries(&server, "wc5", "lines"), 13);
    assert_eq!(entries(&server, "wc5", "words"), 13);
}

#[test]
fn a_poison_value_in_a_bundle_is_dead_lettered_alone() {
    let Some(server) = RedisServer::start("bundled_poison") else {
        return;
    };
    let values: Vec<i64> = (0..30).collect();
    let inputs = FlowInputs::new().feed("in", &values).expect("serialize");
    let (local, remote) = both(&server, flows::poison(), inputs, ("poison4", 4), Provided::new());
    for outputs in [&local, &remote] {
        assert_poison_dead_lettered(outputs, 30, 13, 3, "unlucky");
    }
    assert_eq!(
        entries(&server, "poison4", "in"),
        9,
        "30 values in bundles of 4, and the marker"
    );
}

#[test]
fn a_stream_processor_reads_bundles_value_by_value() {
    let Some(server) = RedisServer::start("bundled_stream_processor") else {
        return;
    };
    let values: Vec<i64> = (0..50).collect();
    let inputs = FlowInputs::new().feed("in", &values).expect("serialize");
    let provided = Provided::new().with(flows::Delay(Duration::ZERO));
    let (local, remote) = both(&server, flows::running_sum(), inputs, ("sum7", 7), provided);
    for outputs in [&local, &remote] {
        let scaled: Vec<(u64, i64)> = outputs.get("scaled").expect("scaled");
        assert_eq!(scaled, flows::running_sum_expected(50));
    }
    assert_eq!(
        entries(&server, "sum7", "in"),
        9,
        "50 values in bundles of 7, and the marker"
    );
}

#[test]
fn a_malformed_bundle_goes_to_the_dead_letter_stream_and_the_run_completes() {
    let Some(server) = RedisServer::start("malformed_bundle") else {
        return;
    };
    let config = server.config();
    let outputs = flowloop::run(async move {
        let flow = flows::poison();
        let mut run = RedisRun::start(config.clone(), &flow, bundled("bad", 3)).await?;
        let workers = common::spawn_workers(config.clone(), &flow, (1, Provided::new())).await;
        run.feed("in", &[1i64, 2, 3, 4]).await?;
        // Not a bundle this crate wrote: a length that runs past the end of the value.
        let garbage = Cmd::new("XADD")
            .arg(run.keys().stream("in"))
            .arg("*")
            .arg("b")
            .arg("9:[1,2]");
        Client::new(config).call(&garbage).await?.check("XADD")?;
        run.feed("in", &[5i64]).await?;
        run.end("in").await?;
        run.wait(Some(Duration::from_secs(60))).await?;
        let outputs = run.collect().await;
        workers.stop().await;
        outputs
    })
    .expect("loop runs")
    .expect("the run completes");
    let mut out: Vec<i64> = outputs.get("out").expect("out");
    out.sort_unstable();
    assert_eq!(out, [1, 2, 3, 4, 5]);
    let dead = outputs.dead_letters();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!((dead[0].payload.as_slice(), dead[0].deliveries), (&b"9:[1,2]"[..], 3));
    assert_eq!(dead[0].processor.as_str(), "check");
}
