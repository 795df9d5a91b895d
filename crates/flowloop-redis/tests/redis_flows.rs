//! Flows on a real redis-server with workers on the test's own loop: same outputs as the
//! in-process executor, dead letters, backpressure, lag/pending stats.

mod common;
mod flows;

use std::time::Duration;

use common::{RedisServer, assert_poison_dead_lettered};
use flowloop_redis::resp::{Client, Cmd, Config};
use flowloop_redis::{
    Flow, FlowInputs, InProcess, Provided, RedisRun, RunOutputs, RunSettings, ShutdownSignal, Worker, WorkerOptions,
};

fn provided() -> Provided {
    Provided::new().with(flows::Delay(Duration::ZERO))
}

/// Runs `flow` on Redis with `workers` workers on the current loop.
async fn run_on_redis(config: Config, flow: &Flow, workers: usize, inputs: FlowInputs) -> RunOutputs {
    common::run_on_redis(config, flow, workers, inputs, provided()).await
}

fn lines() -> Vec<String> {
    (0..60)
        .map(|i| format!("the quick fox {} jumps over the lazy dog {}", i % 7, i % 3))
        .collect()
}

#[test]
fn in_process_and_redis_give_the_same_outputs() {
    let Some(server) = RedisServer::start("in_process_and_redis_give_the_same_outputs") else {
        return;
    };
    let config = server.config();
    let flow = flows::word_count();
    let inputs = FlowInputs::new().feed("lines", &lines()).expect("lines serialize");
    let (local, remote) = flowloop::run(async move {
        let local = InProcess::new(&flow)
            .provide(provided())
            .run(inputs.clone())
            .await
            .expect("in-process run");
        let remote = run_on_redis(config, &flow, 2, inputs).await;
        (local, remote)
    })
    .expect("loop runs");
    let counts_local: Vec<(String, u64)> = local.get("counts").expect("counts");
    let counts_remote: Vec<(String, u64)> = remote.get("counts").expect("counts");
    assert_eq!(counts_local, counts_remote);
    assert!(counts_local.contains(&("the".to_string(), 120)), "{counts_local:?}");
    let mut lengths_local: Vec<usize> = local.get("lengths").expect("lengths");
    let mut lengths_remote: Vec<usize> = remote.get("lengths").expect("lengths");
    assert_eq!(lengths_local.len(), 60 * 10);
    lengths_local.sort_unstable();
    lengths_remote.sort_unstable();
    assert_eq!(lengths_local, lengths_remote);
}

#[test]
fn a_poison_entry_goes_to_the_dead_letter_stream_after_max_deliveries() {
    let Some(server) = RedisServer::start("poison") else {
        return;
    };
    let config = server.config();
    let flow = flows::poison();
    let values: Vec<i64> = (0..30).collect();
    let inputs = FlowInputs::new().feed("in", &values).expect("serialize");
    let (local, remote) = flowloop::run(async move {
        let local = InProcess::new(&flow).run(inputs.clone()).await.expect("in-process run");
        (local, run_on_redis(config, &flow, 2, inputs).await)
    })
    .expect("loop runs");
    // Every key of the run carries its hash tag, and every one expires after the run.
    let keys: Vec<String> = server
        .cli(&["--scan", "--pattern", "fl:*"])
        .lines()
        .map(str::to_string)
        .collect();
    assert!(keys.len() >= 4, "{keys:?}");
    let tag = keys[0].split(':').nth(1).expect("fl:{run}:...").to_string();
    assert!(tag.starts_with('{') && tag.ends_with('}'), "{tag}");
    for key in &keys {
        assert_eq!(
            key.split(':').nth(1),
            Some(tag.as_str()),
            "{key} is outside the run's hash tag"
        );
        let ttl: i64 = server.cli(&["PTTL", key]).parse().expect("PTTL is a number");
        assert!(ttl > 0, "{key} does not expire (PTTL {ttl})");
    }
    for outputs in [&local, &remote] {
        assert_poison_dead_lettered(outputs, 30, 13, 3, "unlucky");
    }
}

#[test]
fn backpressure_keeps_the_input_stream_at_its_cap() {
    backpressure_case("backpressure", 1);
}

#[test]
fn backpressure_caps_bundled_entries_too() {
    backpressure_case("backpressure_bundled", 4);
}

/// 300 values through a slow one-worker echo whose input stream is capped at 8 entries
/// (`bundle` values each): the stream never passes its cap, every value arrives in order,
/// Redis memory stays bounded.
fn backpressure_case(test: &str, bundle: usize) {
    let Some(server) = RedisServer::start(test) else {
        return;
    };
    const CAP: usize = 8;
    let flow = flows::echo(CAP);
    let config = server.config();
    let (max_len, out, memory_growth) = flowloop::run(async move {
        let mut probe = Client::new(config.clone());
        let before = used_memory(&mut probe).await;
        let stop = ShutdownSignal::new();
        let mut options = WorkerOptions::new(config.clone());
        options.batch = 4;
        let slow = Provided::new().with(flows::Delay(Duration::from_millis(1)));
        let worker = flowloop::spawn(Worker::new(options).host(&flow).provide(slow).run(stop.clone())).await;
        let settings = RunSettings {
            bundle,
            ..RunSettings::default()
        };
        let mut run = RedisRun::start(config.clone(), &flow, settings).await.expect("start");
        let key = run.keys().stream("in");
        let sampler = flowloop::spawn(async move {
            let mut max = 0;
            loop {
                let len = probe
                    .call(&Cmd::new("XLEN").arg(&key))
                    .await
                    .expect("XLEN")
                    .as_int()
                    .unwrap_or(0);
                max = max.max(len);
                if probe
                    .call(&Cmd::new("EXISTS").arg(&key))
                    .await
                    .expect("EXISTS")
                    .as_int()
                    == Some(0)
                {
                    return max;
                }
                flowloop::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        let values: Vec<u64> = (0..300).collect();
        run.feed("in", &values).await.expect("feed");
        run.end("in").await.expect("end");
        let outputs = run.collect().await.expect("collect");
        let stats = run.stats().await.expect("stats");
        assert!(stats.iter().all(|s| s.pending == 0 && s.lag == Some(0)), "{stats:?}");
        let mut probe = Client::new(config);
        let after = used_memory(&mut probe).await;
        probe
            .call(&Cmd::new("DEL").arg(run.keys().stream("in")))
            .await
            .expect("DEL");
        let max = sampler.join().await.expect("sampler");
        stop.trigger();
        worker.join().await.expect("worker task").expect("worker");
        (max, outputs.get::<u64>("out").expect("out"), after - before)
    })
    .expect("loop runs");
    assert_eq!(out, (0..300).collect::<Vec<u64>>(), "one worker keeps order");
    // The end-of-stream marker is never refused, so the stream may hold cap + 1 entries.
    assert!(
        max_len as usize <= CAP + 1,
        "the input stream grew to {max_len} entries, above its cap {CAP}"
    );
    assert!(max_len >= 2, "the sampler never saw the stream fill (max {max_len})");
    assert!(memory_growth < 4 << 20, "Redis memory grew by {memory_growth} bytes");
}

async fn used_memory(client: &mut Client) -> i64 {
    let info = client.call(&Cmd::new("INFO").arg("memory")).await.expect("INFO");
    let text = String::from_utf8_lossy(match &info {
        flowloop_redis::resp::Reply::Bytes(b) => b,
        _ => &[][..],
    })
    .into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn stats_show_lag_and_pending_while_a_run_is_unfinished() {
    let Some(server) = RedisServer::start("stats") else {
        return;
    };
    let flow = flows::echo(64);
    flowloop::run(async move {
        let mut run = RedisRun::start(server.config(), &flow, RunSettings::default())
            .await
            .expect("start");
        run.feed("in", &[1u64, 2, 3]).await.expect("feed");
        let stats = run.stats().await.expect("stats");
        let input = stats.iter().find(|s| s.stream.as_str() == "in").expect("stats of `in`");
        assert_eq!(
            (input.group.as_str(), input.lag, input.pending, input.length),
            ("echo", Some(3), 0, 3)
        );
        let waited = run.wait(Some(Duration::from_millis(100))).await;
        assert!(
            matches!(&waited, Err(flowloop_redis::RunError::Timeout { unfinished, .. }) if unfinished == &["echo"]),
            "{waited:?}"
        );
    })
    .expect("loop runs");
}

#[test]
fn dynamic_values_flow_the_same_in_process_and_on_redis() {
    use flowloop_redis::{FlowBuilder, Outputs, Processor, Value};
    let Some(server) = RedisServer::start("dynamic_values") else {
        return;
    };
    let config = server.config();
    let tag = Processor::new("tag")
        .reads("in")
        .writes("out")
        .each(|item, _ctx| async move {
            let v: Value = item.value()?;
            let kind = v.type_of().name();
            let mut out = Outputs::new();
            out.emit("out", &Value::list([Value::str(kind), v]))?;
            Ok(out)
        });
    let flow = FlowBuilder::new("dynamic")
        .input("in")
        .processor(tag)
        .output("out")
        .build()
        .expect("valid");
    let values = vec![
        Value::from(1i64),
        Value::str("two"),
        Value::list([Value::from(3i64), Value::from(true)]),
    ];
    let inputs = FlowInputs::new().feed("in", &values).expect("values serialize");
    let (local, remote) = flowloop::run(async move {
        let local = InProcess::new(&flow).run(inputs.clone()).await.expect("in-process");
        (local, run_on_redis(config, &flow, 1, inputs).await)
    })
    .expect("loop runs");
    let local: Vec<Value> = local.get("out").expect("out");
    let remote: Vec<Value> = remote.get("out").expect("out");
    assert_eq!(local, remote);
    assert_eq!(local.len(), 3);
    assert_eq!(
        local[1],
        Value::list([Value::str("string"), Value::str("two")]),
        "{local:?}"
    );
}
