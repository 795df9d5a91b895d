//! Flow rows beside Hydro's DFIR, in one process and the same row format as `sched_profile`:
//! `<workload> flowloop_ns=<ns/op> dfir_ns=<ns/op> ratio=<flowloop/dfir>`.
//!
//! - `flow_chain_dfir`: 1,000 values through a chain of 100 trivial nodes (flowloop: a feed
//!   node and 100 `inc` nodes, the flow run once per value; DFIR: `source_iter` and 100
//!   `map`s with `black_box`), ns per node run.
//! - `flow_cycle_dfir`: a 2-node cycle for 20,000 generations (DFIR: feedback through
//!   `defer_tick`, one lap per tick), ns per generation.
//! - `flow_diamond_dfir`: source -> 100 parallel nodes -> 99 adders, fed back into the source,
//!   for 100 generations (DFIR: `tee`, `zip` adders, `defer_tick`), ns per node run.
//!
//! Every row is the median of 5 alternating runs of on-CPU time.
//!
//! ```text
//! cargo run --release --manifest-path benches/dfir/Cargo.toml [-- FILTER]
//! ```

// `deny`, not `forbid`: the code DFIR's `zip` operator expands to contains `unsafe` blocks, and
// only the module holding the generated programs allows them. This crate writes none itself.
#![deny(unsafe_code)]
#![recursion_limit = "512"]

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use dfir_rs::dfir_syntax;

#[path = "../../examples/sched_profile/flow_rows.rs"]
mod flow_rows;
use flow_rows::{median, per_op};

#[path = "../../examples/sched_profile/cpu_clock.rs"]
mod cpu_clock;
use cpu_clock::Stopwatch;

/// The programs `build.rs` generates (a 100-`map` chain, a width-100 diamond).
#[allow(unsafe_code)]
mod programs {
    use super::{Cell, Duration, Rc, Stopwatch, black_box, dfir_syntax};
    include!(concat!(env!("OUT_DIR"), "/dfir_programs.rs"));
}
use programs::{dfir_chain, dfir_diamond};

/// A 2-node cycle (`inc` then `id`) for `gens` ticks; returns (elapsed, last value).
fn dfir_cycle(gens: u64) -> (Duration, u64) {
    let last = Rc::new(Cell::new(0u64));
    let seen = Rc::clone(&last);
    let mut df = dfir_syntax! {
        source_iter([0u64]) -> a;
        a = union() -> map(|x: u64| black_box(x + 1)) -> b;
        b = map(|x: u64| black_box(x))
            -> inspect(|x: &u64| seen.set(*x))
            -> filter(|x: &u64| *x < gens)
            -> defer_tick() -> a;
    };
    let t = Stopwatch::start();
    df.run_available_sync();
    (t.stop().cpu, last.get())
}

const REPS: usize = 5;

/// Median ns/op of `fl` and `df`, run alternately so machine noise hits both alike.
fn row(name: &str, fl: &mut dyn FnMut() -> f64, df: &mut dyn FnMut() -> f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        a.push(fl());
        b.push(df());
    }
    let (a, b) = (median(a), median(b));
    println!("{name} flowloop_ns={a:.2} dfir_ns={b:.2} ratio={:.3}", a / b);
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let wanted = |name: &str| name.contains(filter.as_str());
    let (len, values) = (100usize, 1_000u64);
    if wanted("flow_chain_dfir") {
        let ops = len as u64 * values;
        // Values 0..1000 each gain 100: the sums agree.
        let want = (values * (values - 1) / 2 + len as u64 * values) as i64;
        row(
            "flow_chain_dfir",
            &mut || {
                let (d, v) = flow_rows::flow_chain_fed(len, values);
                assert_eq!(v, want);
                per_op(d, ops)
            },
            &mut || {
                let (d, v) = dfir_chain(values);
                assert_eq!(v as i64, want);
                per_op(d, ops)
            },
        );
    }
    let gens = 20_000;
    if wanted("flow_cycle_dfir") {
        row(
            "flow_cycle_dfir",
            &mut || {
                let (d, v) = flow_rows::flow_cycle(gens);
                assert_eq!(v, gens as i64);
                per_op(d, gens)
            },
            &mut || {
                let (d, v) = dfir_cycle(gens);
                assert_eq!(v, gens);
                per_op(d, gens)
            },
        );
    }
    if wanted("flow_diamond_dfir") {
        let mut check = None;
        row(
            "flow_diamond_dfir",
            &mut || {
                let (d, runs, v) = flow_rows::flow_diamond(100, 100);
                assert_eq!(*check.get_or_insert(v), v);
                per_op(d, runs)
            },
            &mut || {
                let (d, runs, v) = dfir_diamond(100);
                assert!(v > 0);
                per_op(d, runs)
            },
        );
    }
}
