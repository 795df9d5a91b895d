//! Flows shared by the tests and the `flowloop-redis-worker` test binary.
#![allow(dead_code)]

use std::time::Duration;

use flowloop_redis::{Flow, FlowBuilder, Outputs, ProcessError, Processor};

/// How long the `slow`/`echo` handlers sleep per entry (provided by each worker).
#[derive(Debug, Clone, Copy)]
pub struct Delay(pub Duration);

/// `in` (u64) → echo (sleeps `Delay`) → `out`.
pub fn echo(cap: usize) -> Flow {
    let echo = Processor::new("echo")
        .reads("in")
        .writes("out")
        .needs::<Delay>()
        .each(|item, ctx| async move {
            let n: u64 = item.decode()?;
            let delay = ctx.get::<Delay>()?.0;
            if !delay.is_zero() {
                flowloop::sleep(delay).await;
            }
            let mut out = Outputs::new();
            out.emit("out", &n)?;
            Ok(out)
        });
    FlowBuilder::new("echo")
        .input("in")
        .processor(echo)
        .output("out")
        .cap("in", cap)
        .build()
        .expect("echo flow is valid")
}

/// `in` (i64) → check (fails on 13, always) → `out`.
pub fn poison() -> Flow {
    let check = Processor::map("check", "in", "out", |n: i64| async move {
        if n == 13 {
            Err(ProcessError::new("13 is unlucky"))
        } else {
            Ok(n)
        }
    });
    FlowBuilder::new("poison")
        .input("in")
        .processor(check)
        .output("out")
        .max_deliveries(3)
        .build()
        .expect("valid")
}

/// `lines` → split → `words` → {count (wait) → `counts`, length → `lengths`}.
pub fn word_count() -> Flow {
    let split = Processor::flat_map("split", "lines", "words", |line: String| async move {
        Ok::<_, ProcessError>(line.split_whitespace().map(|w| w.to_lowercase()).collect::<Vec<_>>())
    });
    let count = Processor::new("count")
        .reads("words")
        .writes("counts")
        .wait(|inputs, _ctx| async move {
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            for w in inputs.all::<String>("words")? {
                *counts.entry(w).or_default() += 1;
            }
            let mut out = Outputs::new();
            for (word, n) in counts {
                out.emit("counts", &(word, n))?;
            }
            Ok(out)
        });
    let length = Processor::map("length", "words", "lengths", |w: String| async move {
        Ok::<_, ProcessError>(w.len())
    });
    FlowBuilder::new("word_count")
        .input("lines")
        .processor(split)
        .processor(count)
        .processor(length)
        .output("counts")
        .output("lengths")
        .cap("words", 16)
        .build()
        .expect("word count flow is valid")
}

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

/// Every flow the test worker hosts.
pub fn all() -> Vec<Flow> {
    vec![echo(64), poison(), word_count(), running_sum(), crash()]
}
