//! Flows shared by the tests and the `flowloop-redis-worker` test binary: the library's catalog
//! (also served by `flowloop worker`) plus test-only flows (a stream processor with a bound flow,
//! a worker-killing crash poison).
#![allow(dead_code, unused_imports)]

pub use flowloop_redis::catalog::*;

use flowloop_redis::{Flow, FlowBuilder, ProcessError, Processor};

/// `in` (i64) → running_sum (a stream processor; sleeps `Delay` per entry) → `sums`, and
/// `sums` → scaled (a flowloop flow bound to the streams: ×10, then pairs with the index)
/// → `scaled`.
pub fn running_sum() -> Flow {
    let sum = Processor::new("running_sum")
        .reads("in")
        .writes("sums")
        .needs::<Delay>()
        .stream(|mut io, ctx| async move {
            let mut numbers = io.input("in")?;
            let mut sums = io.output("sums")?;
            let delay = ctx.get::<Delay>()?.0;
            let mut total = 0i64;
            while let Some(item) = numbers.next().await? {
                total += item.decode::<i64>()?;
                if !delay.is_zero() {
                    flowloop::sleep(delay).await;
                }
                sums.emit(&total).await?;
            }
            Ok(())
        });
    let scaled = Processor::new("scaled").reads("sums").writes("scaled").flow(|b, io| {
        let sums = io.input::<i64>(b, "sums")?;
        let scaled = b.stream(times_ten_indexed, (sums.stream(),));
        io.output(b, "scaled", scaled.stream())
    });
    FlowBuilder::new("running_sum")
        .input("in")
        .processor(sum)
        .processor(scaled)
        .output("scaled")
        .cap("in", 16)
        .build()
        .expect("running sum flow is valid")
}

async fn times_ten_indexed(out: flowloop::flow::Emitter<(u64, i64)>, mut sums: flowloop::flow::Stream<i64>) -> u64 {
    let mut i = 0;
    while let Some(s) = sums.next().await {
        if out.emit((i, s * 10)).await.is_err() {
            break;
        }
        i += 1;
    }
    i
}

/// The expected `scaled` output of [`running_sum`] for inputs `0..n`.
pub fn running_sum_expected(n: i64) -> Vec<(u64, i64)> {
    (0..n).map(|i| (i as u64, 10 * (0..=i).sum::<i64>())).collect()
}

/// `in` (i64) → check (the worker process exits on 7, every time) → `out`; at most 2
/// deliveries.
pub fn crash() -> Flow {
    let check = Processor::map("check", "in", "out", |n: i64| async move {
        if n == 7 {
            std::process::exit(3); // a crash poison: the worker dies while handling it
        }
        Ok::<_, ProcessError>(n)
    });
    FlowBuilder::new("crash")
        .input("in")
        .processor(check)
        .output("out")
        .max_deliveries(2)
        .build()
        .expect("valid")
}

/// Every flow the test worker hosts: the catalog and the test-only flows.
pub fn all() -> Vec<Flow> {
    let mut flows = flowloop_redis::catalog::all();
    flows.extend([running_sum(), crash()]);
    flows
}
