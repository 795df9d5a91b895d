//! Pipeline rows: named-argument pipelines (`flowloop_graph::pipeline`) beside the same steps
//! called directly in a loop (`direct_ns`), both on one flowloop event loop.
//!
//! - `pipeline_seq`: a 100-step `seq` of a trivial async `#[kind]` step (`n -> n + 1`), run
//!   many times (ns per step).
//! - `pipeline_par`: a 100-wide `par` of the same step, each member's output named apart and
//!   merged (ns per step; each member is its own task).
//!
//! The direct loop awaits the same `async fn` 100 times per run, so the difference is what the
//! pipeline adds per step: picking named arguments, the kind call, naming outputs, and for
//! `par` a task per member and the merge.
//!
//! Both sides run entirely on this thread and never wait, so the figures are on-CPU time
//! (`net_rows::Stopwatch`): wall time on a shared machine mostly measures waiting for a CPU.

use crate::net_rows::Stopwatch;
use flowloop_graph::pipeline::{Group, Pipeline, Step};
use flowloop_graph::{Map, Value, kind};

const STEPS: usize = 100;

/// The trivial step.
#[kind(name = "bench.inc", outputs("n"))]
async fn inc(n: i64) -> (i64,) {
    (n + 1,)
}

fn seq_pipeline() -> Pipeline {
    Pipeline::new(Group::seq((0..STEPS).map(|_| Step::kind(inc_kind())))).expect("the seq is well formed")
}

fn par_pipeline() -> Pipeline {
    let members = (0..STEPS).map(|i| Step::kind(inc_kind()).returns([format!("n{i}").as_str()]));
    Pipeline::new(Group::par(members)).expect("the par is well formed")
}

/// `runs` runs of `p` on one loop; returns the sum of every output.
fn run_pipeline(p: &Pipeline, runs: u64) -> u64 {
    let p = p.clone();
    flowloop::run(async move {
        let mut total = 0;
        for r in 0..runs {
            let args = Map::from_iter([("n", Value::Int(r as i64))]);
            let report = p.run(args).await.expect("the bench pipeline runs");
            total += report.outputs.iter().filter_map(|(_, v)| v.as_int()).sum::<i64>() as u64;
        }
        total
    })
    .expect("the loop runs")
}

/// The seq's steps awaited directly: `n` through 100 increments, per run.
fn direct_seq(runs: u64) -> u64 {
    flowloop::run(async move {
        let mut total = 0;
        for r in 0..runs {
            let mut n = r as i64;
            for _ in 0..STEPS {
                n = std::hint::black_box(inc(n).await).0;
            }
            total += n as u64;
        }
        total
    })
    .expect("the loop runs")
}

/// The par's steps awaited directly: 100 increments of the same `n`, summed, per run.
fn direct_par(runs: u64) -> u64 {
    flowloop::run(async move {
        let mut total = 0;
        for r in 0..runs {
            for _ in 0..STEPS {
                total += std::hint::black_box(inc(r as i64).await).0 as u64;
            }
        }
        total
    })
    .expect("the loop runs")
}

pub fn rows(quick: bool) -> Vec<(&'static str, f64, f64)> {
    let (runs, reps) = if quick { (300, 5) } else { (3_000, 9) };
    let ops = runs * STEPS as u64;
    let mut rows = Vec::new();
    if crate::selected("pipeline_seq") {
        let p = seq_pipeline();
        let expected: u64 = (0..runs).map(|r| r + STEPS as u64).sum();
        let (fl, direct) = measure_cpu(
            "pipeline_seq",
            reps,
            ops,
            expected,
            || run_pipeline(&p, runs),
            || direct_seq(runs),
        );
        rows.push(("pipeline_seq", fl, direct));
    }
    if crate::selected("pipeline_par") {
        let p = par_pipeline();
        let expected: u64 = (0..runs).map(|r| (r + 1) * STEPS as u64).sum();
        let (fl, direct) = measure_cpu(
            "pipeline_par",
            reps,
            ops,
            expected,
            || run_pipeline(&p, runs),
            || direct_par(runs),
        );
        rows.push(("pipeline_par", fl, direct));
    }
    rows
}

/// Like `crate::measure`, in on-CPU nanoseconds of this thread per operation: one warm-up run
/// each, then `reps` interleaved runs, medians.
///
/// # Panics
/// If a checksum is wrong (the run skipped work).
fn measure_cpu(
    name: &str,
    reps: usize,
    ops: u64,
    expected: u64,
    mut pipeline: impl FnMut() -> u64,
    mut direct: impl FnMut() -> u64,
) -> (f64, f64) {
    let one = |run: &mut dyn FnMut() -> u64| {
        let watch = Stopwatch::start();
        let got = std::hint::black_box(run());
        let cpu = watch.stop().cpu;
        assert_eq!(got, expected, "{name}: wrong checksum, the run skipped work");
        cpu.as_nanos() as f64 / ops as f64
    };
    let (mut p, mut d) = (Vec::new(), Vec::new());
    for rep in 0..=reps {
        let (a, b) = (one(&mut pipeline), one(&mut direct));
        if rep > 0 {
            p.push(a);
            d.push(b);
        }
    }
    (median(&mut p), median(&mut d))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
