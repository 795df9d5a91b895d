//! Processors written as plain async fns over streams, and flowloop flows bound to named
//! streams: the same outputs in-process and on Redis, bad bindings (and a failing `wait`
//! processor, whose dead letter Redis writes in the fenced commit) as dead letters, and a
//! replay after the worker running them dies.

mod common;
mod flows;

use std::time::Duration;

use common::{Children, RedisServer, worker};
use flowloop::flow::{Emitter, Stream};
use flowloop_redis::resp::{Client, Cmd, Config};
use flowloop_redis::{
    DeadLetter, Flow, FlowBuilder, FlowInputs, InProcess, ProcessError, Processor, Provided, RedisRun, RunOutputs,
};

fn no_delay() -> Provided {
    Provided::new().with(flows::Delay(Duration::ZERO))
}

/// Runs `flow` in-process and on Redis (2 workers) with the same inputs.
fn both(test: &str, flow: Flow, inputs: FlowInputs) -> Option<(RunOutputs, RunOutputs)> {
    let server = RedisServer::start(test)?;
    let config = server.config();
    let out = flowloop::run(async move {
        let local = InProcess::new(&flow)
            .provide(no_delay())
            .run(inputs.clone())
            .await
            .expect("in-process run");
        let remote = common::run_on_redis(config, &flow, 2, inputs, no_delay()).await;
        (local, remote)
    })
    .expect("loop runs");
    Some(out)
}

#[test]
fn stream_and_bound_flow_processors_give_the_same_outputs_in_process_and_on_redis() {
    let values: Vec<i64> = (0..60).collect();
    let inputs = FlowInputs::new().feed("in", &values).expect("serialize");
    let Some((local, remote)) = both("stream_same_outputs", flows::running_sum(), inputs) else {
        return;
    };
    for outputs in [&local, &remote] {
        let scaled: Vec<(u64, i64)> = outputs.get("scaled").expect("scaled");
        assert_eq!(scaled, flows::running_sum_expected(60));
        assert!(outputs.dead_letters().is_empty(), "{:?}", outputs.dead_letters());
    }
}

async fn takes_a_stream_twice(mut io: flowloop_redis::StreamIo) -> Result<(), ProcessError> {
    let _first = io.input("in")?;
    let _again = io.input("in")?;
    Ok(())
}

async fn failing_node(_out: Emitter<i64>, mut numbers: Stream<i64>) -> Result<u64, ProcessError> {
    while let Some(n) = numbers.next().await {
        if n == 3 {
            return Err(ProcessError::new("three is not allowed"));
        }
    }
    Ok(0)
}

/// Three processors that bind streams wrongly or fail, and one that works, all reading `in`.
fn bad_bindings() -> Flow {
    let undeclared = Processor::new("undeclared")
        .reads("in")
        .writes("a")
        .stream(|mut io, _ctx| async move {
            let _ = io.input("nope")?;
            Ok(())
        });
    let twice = Processor::new("twice")
        .reads("in")
        .writes("b")
        .stream(|io, _ctx| takes_a_stream_twice(io));
    let node_fails = Processor::new("node_fails").reads("in").writes("c").flow(|b, io| {
        let numbers = io.input::<i64>(b, "in")?;
        let failed = b.try_stream(failing_node, (numbers.stream(),));
        io.output(b, "c", failed.stream())
    });
    let unbuildable = Processor::new("unbuildable").reads("in").writes("d").flow(|b, io| {
        io.input::<i64>(b, "in")?;
        io.input::<i64>(b, "missing").map(|_| ())
    });
    let wait_fails = Processor::new("wait_fails")
        .reads("in")
        .writes("f")
        .wait(|_inputs, _ctx| async move { Err(ProcessError::new("partition refused")) });
    let fine = Processor::map("fine", "in", "e", |n: i64| async move { Ok::<_, ProcessError>(n + 1) });
    FlowBuilder::new("bad_bindings")
        .input("in")
        .processor(undeclared)
        .processor(twice)
        .processor(node_fails)
        .processor(unbuildable)
        .processor(wait_fails)
        .processor(fine)
        .output("a")
        .output("b")
        .output("c")
        .output("d")
        .output("e")
        .output("f")
        .build()
        .expect("the flow itself is valid")
}

fn letter<'a>(dead: &'a [DeadLetter], processor: &str) -> &'a DeadLetter {
    dead.iter()
        .find(|d| d.processor.as_str() == processor)
        .unwrap_or_else(|| panic!("no dead letter of `{processor}` in {dead:?}"))
}

#[test]
fn bad_stream_bindings_and_failing_nodes_become_dead_letters_naming_the_culprit() {
    let inputs = FlowInputs::new().feed("in", &[1i64, 2, 3, 4]).expect("serialize");
    let Some((local, remote)) = both("stream_bad_bindings", bad_bindings(), inputs) else {
        return;
    };
    for outputs in [&local, &remote] {
        let dead = outputs.dead_letters();
        assert_eq!(dead.len(), 5, "{dead:?}");
        let w = letter(dead, "wait_fails");
        assert!(w.error.contains("partition refused") && w.deliveries == 5, "{w:?}");
        let e = &letter(dead, "undeclared").error;
        assert!(
            e.contains("`undeclared` does not declare stream `nope`") && e.contains(".reads(\"nope\")"),
            "{e}"
        );
        let e = &letter(dead, "twice").error;
        assert!(e.contains("`twice` took stream `in` twice"), "{e}");
        let e = &letter(dead, "node_fails").error;
        assert!(e.contains("`node_fails`") && e.contains("three is not allowed"), "{e}");
        let e = &letter(dead, "unbuildable").error;
        assert!(e.contains("`unbuildable` does not declare stream `missing`"), "{e}");
        for out in ["a", "b", "c", "d", "f"] {
            assert!(outputs.get::<i64>(out).expect(out).is_empty(), "{out} ended empty");
        }
        assert_eq!(outputs.get::<i64>("e").expect("e"), [2, 3, 4, 5]);
    }
}

async fn xlen(client: &mut Client, key: &str) -> i64 {
    let reply = client.call(&Cmd::new("XLEN").arg(key)).await.expect("XLEN");
    reply.as_int().unwrap_or(0)
}

/// Waits until stream `key` has `n` entries (at most 30 s).
async fn until_len(client: &mut Client, key: &str, n: i64) {
    let start = std::time::Instant::now();
    while xlen(client, key).await < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{key} never reached {n} entries"
        );
        flowloop::sleep(Duration::from_millis(2)).await;
    }
}

/// The worker (of `children`, ids w0, w1) holding `lock` once `key` has `n` entries.
async fn holder_after(config: Config, key: &str, n: i64, lock: &str) -> usize {
    let mut client = Client::new(config);
    until_len(&mut client, key, n).await;
    let holder = client.call(&Cmd::new("GET").arg(lock)).await.expect("GET lock");
    match holder.as_str() {
        Some("w0") => 0,
        Some("w1") => 1,
        other => panic!("the lock {lock} is held by {other:?}"),
    }
}

/// How a test gets rid of the worker holding the stream processor's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takeover {
    /// SIGKILL it.
    Kill,
    /// SIGSTOP it until its lock expired and the other worker wrote past it, then SIGCONT it:
    /// its next writes are fenced off.
    Stall,
}

/// Runs `running_sum` on two worker processes, takes the lock holder out once `sums` has 30
/// entries, and checks every output came out exactly once.
fn replay_after(test: &'static str, takeover: Takeover) {
    let Some(server) = RedisServer::start(test) else {
        return;
    };
    let mut children = Children::default();
    for id in ["w0", "w1"] {
        let args = ["--id", id, "--runs", "1", "--delay-ms", "3", "--lease-ms", "500"];
        children.0.push(worker(&server.url(), &args));
    }
    const N: i64 = 120;
    let config = server.config();
    let (scaled, sums_len) = flowloop::run(async move {
        let mut run = RedisRun::start(config.clone(), &flows::running_sum(), common::settings(test))
            .await
            .expect("start");
        let keys = run.keys().clone();
        let feeder = flowloop::spawn(async move {
            run.feed("in", &(0..N).collect::<Vec<_>>()).await.expect("feed");
            run.end("in").await.expect("end");
            let outputs = run.collect().await.expect("the other worker finishes the run");
            outputs.get::<(u64, i64)>("scaled").expect("scaled")
        })
        .await;
        let (sums, lock) = (keys.stream("sums"), keys.plock("running_sum"));
        let victim = holder_after(config.clone(), &sums, 30, &lock).await;
        match takeover {
            Takeover::Kill => children.0[victim].kill().expect("SIGKILL the lock holder"),
            Takeover::Stall => {
                common::signal(children.0[victim].id(), "STOP");
                let other = if victim == 0 { "w1" } else { "w0" };
                until_held_by(config.clone(), &lock, other).await;
                let mut client = Client::new(config.clone());
                let now = xlen(&mut client, &sums).await;
                until_len(&mut client, &sums, (now + 10).min(N + 1)).await;
                common::signal(children.0[victim].id(), "CONT");
            }
        }
        let scaled = feeder.join().await.expect("feeder task");
        let mut client = Client::new(config);
        (scaled, xlen(&mut client, &sums).await)
    })
    .expect("loop runs");
    assert_eq!(scaled, flows::running_sum_expected(N));
    assert_eq!(sums_len, N + 1, "`sums` holds every sum once plus its end marker");
}

/// Waits until `consumer` holds `lock` (at most 10 s).
async fn until_held_by(config: Config, lock: &str, consumer: &str) {
    let mut client = Client::new(config);
    let start = std::time::Instant::now();
    while client.call(&Cmd::new("GET").arg(lock)).await.expect("GET").as_str() != Some(consumer) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{consumer} never took {lock}"
        );
        flowloop::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn a_stream_processor_is_replayed_after_its_worker_dies_and_writes_nothing_twice() {
    replay_after("stream_replay_kill", Takeover::Kill);
}

#[test]
fn a_stalled_stream_processor_is_fenced_off_after_another_worker_took_over() {
    replay_after("stream_replay_stall", Takeover::Stall);
}
