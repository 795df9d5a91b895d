//! Ready-made flows: the ones `flowloop worker` hosts by name, the crate's tests run and the
//! `flowloop-redis-worker` test binary serves. A producer starts a run of one of them with
//! [`RedisRun::start`](crate::RedisRun::start) (the same [`Flow`] value, built by the same
//! function) and any worker hosting it by name serves it.
//!
//! ```
//! use flowloop_redis::catalog;
//! assert_eq!(catalog::named("word_count").unwrap().name(), "word_count");
//! assert!(catalog::named("nope").is_none());
//! ```

use std::time::Duration;

use crate::{Flow, FlowBuilder, Outputs, ProcessError, Processor, Provided};

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
        .expect("the poison flow is valid: one input, one processor, one output")
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

/// Every flow of the catalog.
pub fn all() -> Vec<Flow> {
    vec![echo(64), poison(), word_count()]
}

/// The names of the catalog's flows, in [`all`]'s order.
pub const NAMES: [&str; 3] = ["echo", "poison", "word_count"];

/// The catalog flow called `name` (`echo` with a 64-entry cap on `in`).
pub fn named(name: &str) -> Option<Flow> {
    all().into_iter().find(|f| f.name() == name)
}

/// What the catalog's processors ask their context for: a [`Delay`] of `delay`.
pub fn provided(delay: Duration) -> Provided {
    Provided::new().with(Delay(delay))
}
