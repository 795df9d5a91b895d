//! Scheduling benchmarks: each core workload on flowloop beside the same workload on tokio's
//! current-thread runtime.
//!
//! The workloads live in `examples/sched_profile/core_workloads.rs`, shared with the
//! `sched_profile` example so that both measure the same code. One flowloop loop and one tokio
//! runtime are built per workload, outside the timed closure, and reused by every iteration.
//! Sample counts are kept small so the whole bench finishes in a few minutes on two cores:
//! `cargo bench -p flowloop-benches --bench scheduling` (add a criterion filter such as `timers` to run one group).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../examples/sched_profile/core_workloads.rs"]
mod core_workloads;

use core_workloads::{Workload, flowloop_loop, tokio_runtime};

/// Tasks per run of the spawn/join and timer workloads.
const TASKS: u64 = 100_000;
/// Items per run of the queue workloads.
const ITEMS: u64 = 1_000_000;

fn scheduling(c: &mut Criterion) {
    for w in Workload::ALL {
        let n = match w {
            Workload::QueueBounded | Workload::QueueUnbounded => ITEMS,
            _ => TASKS,
        };
        let expected = w.expected(n);
        let mut group = c.benchmark_group(w.name());
        group.throughput(Throughput::Elements(n));
        let mut lp = flowloop_loop();
        group.bench_function("flowloop", |b| {
            b.iter(|| assert_eq!(black_box(w.run_flowloop(&mut lp, black_box(n))), expected));
        });
        let rt = tokio_runtime();
        group.bench_function("tokio", |b| {
            b.iter(|| assert_eq!(black_box(w.run_tokio(&rt, black_box(n))), expected));
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = scheduling
}
criterion_main!(benches);
