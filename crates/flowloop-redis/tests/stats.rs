//! Lag and pending of `wait` and stream processors, on Redis and in-process, while a run is
//! held at known points: not started, inputs read but not ended, handler gated, finished.

mod common;

use std::time::{Duration, Instant};

use common::{RedisServer, settings, spawn_workers};
use flowloop::sync::Event;
use flowloop_redis::{
    Flow, FlowBuilder, FlowInputs, InProcess, Outputs, ProcessError, Processor, Provided, RedisRun, StreamStats,
};

/// Holds the `total` wait processor until set.
#[derive(Clone)]
struct Gate(Event);

/// `in` → relay (a stream processor copying every value) → `copy`, and `in` → total (a
/// `wait` processor, held by the [`Gate`]) → `sum`.
fn flow() -> Flow {
    let relay = Processor::new("relay")
        .reads("in")
        .writes("copy")
        .stream(|mut io, _ctx| async move {
            let (mut input, mut copy) = (io.input("in")?, io.output("copy")?);
            while let Some(item) = input.next().await? {
                copy.emit(&item.decode::<i64>()?).await?;
            }
            Ok(())
        });
    let total = Processor::new("total")
        .reads("in")
        .writes("sum")
        .needs::<Gate>()
        .wait(|inputs, ctx| async move {
            ctx.get::<Gate>()?.0.wait().await;
            let mut out = Outputs::new();
            out.emit("sum", &inputs.all::<i64>("in")?.iter().sum::<i64>())?;
            Ok::<_, ProcessError>(out)
        });
    FlowBuilder::new("held")
        .input("in")
        .processor(relay)
        .processor(total)
        .output("copy")
        .output("sum")
        .build()
        .expect("valid")
}

/// `(lag, pending)` of `group` on stream `in`.
fn row(stats: &[StreamStats], group: &str) -> (Option<u64>, u64) {
    let s = stats
        .iter()
        .find(|s| s.stream.as_str() == "in" && s.group == group)
        .unwrap_or_else(|| panic!("no stats for `{group}` on `in`: {stats:?}"));
    (s.lag, s.pending)
}

/// Polls `run.stats()` (at most 20 s) until `group` on `in` shows `want`.
async fn redis_row_becomes(run: &mut RedisRun, group: &str, want: (Option<u64>, u64)) -> Vec<StreamStats> {
    let start = Instant::now();
    loop {
        let stats = run.stats().await.expect("stats");
        if row(&stats, group) == want {
            return stats;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "`{group}` never showed {want:?}: {stats:?}"
        );
        flowloop::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn redis_stats_cover_wait_and_stream_processors() {
    let Some(server) = RedisServer::start("lock_stats") else {
        return;
    };
    let config = server.config();
    flowloop::run(async move {
        let flow = flow();
        let mut run = RedisRun::start(config.clone(), &flow, settings("held"))
            .await
            .expect("start");
        run.feed("in", &[1i64, 2, 3]).await.expect("feed");
        // No worker yet: neither processor has read anything.
        let stats = run.stats().await.expect("stats");
        assert_eq!(
            (row(&stats, "relay"), row(&stats, "total")),
            ((Some(3), 0), (Some(3), 0))
        );
        let gate = Event::new();
        let workers = spawn_workers(config, &flow, (1, Provided::new().with(Gate(gate.clone())))).await;
        // The relay reads all three and waits for more; `total` waits for the end of `in`.
        let stats = redis_row_becomes(&mut run, "relay", (Some(0), 3)).await;
        assert_eq!(row(&stats, "total"), (Some(3), 0));
        run.end("in").await.expect("end");
        // `total` read everything (the end marker too) and is held in its handler.
        redis_row_becomes(&mut run, "total", (Some(0), 4)).await;
        redis_row_becomes(&mut run, "relay", (Some(0), 0)).await;
        gate.set();
        let outputs = run.collect().await.expect("the run completes");
        assert_eq!(outputs.get::<i64>("sum").expect("sum"), [6]);
        let stats = run.stats().await.expect("stats");
        assert_eq!(
            (row(&stats, "relay"), row(&stats, "total")),
            ((Some(0), 0), (Some(0), 0))
        );
        workers.stop().await;
    })
    .expect("loop runs");
}

#[test]
fn in_process_stats_cover_a_held_wait_processor() {
    let gate = Event::new();
    let executor = InProcess::new(&flow()).provide(Provided::new().with(Gate(gate.clone())));
    let watcher = executor.clone();
    let sum = flowloop::run(async move {
        let inputs = FlowInputs::new().feed("in", &[1i64, 2, 3]).expect("serialize");
        let run = flowloop::spawn(async move { executor.run(inputs).await }).await;
        let mut held = None;
        for _ in 0..2000 {
            let stats = watcher.stats();
            if row(&stats, "total") == (Some(0), 3) {
                held = Some(stats);
                break;
            }
            flowloop::yield_now().await;
        }
        let held = held.unwrap_or_else(|| panic!("`total` never held 3 entries: {:?}", watcher.stats()));
        // In-process, a stream processor's entry is finished when it asks for the next one.
        assert_eq!(row(&held, "relay"), (Some(0), 0));
        gate.set();
        let outputs = run.join().await.expect("run task").expect("run");
        let after = watcher.stats();
        assert_eq!(
            (row(&after, "relay"), row(&after, "total")),
            ((Some(0), 0), (Some(0), 0))
        );
        outputs.get::<i64>("sum").expect("sum")
    })
    .expect("loop runs");
    assert_eq!(sum, [6]);
}
