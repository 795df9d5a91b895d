//! Rows of the event-loop core: spawn/join, queues and timers (see `core_workloads.rs`).

use crate::core_workloads::{Workload, flowloop_loop, tokio_runtime};

/// Operations per run: (tasks for spawn/join and timers, items for the queues).
fn sizes(quick: bool) -> (u64, u64) {
    if quick { (50_000, 500_000) } else { (100_000, 1_000_000) }
}

/// Measures every selected core workload; one loop and one tokio runtime serve all runs.
pub fn rows(quick: bool) -> Vec<(&'static str, f64, f64)> {
    let (tasks, items) = sizes(quick);
    let reps = if quick { 5 } else { 9 };
    let mut lp = flowloop_loop();
    let rt = tokio_runtime();
    let mut rows = Vec::new();
    for w in Workload::ALL {
        if !crate::selected(w.name()) {
            continue;
        }
        let n = match w {
            Workload::QueueBounded | Workload::QueueUnbounded => items,
            _ => tasks,
        };
        let (fl, tk) = crate::measure(
            w.name(),
            reps,
            n,
            w.expected(n),
            || w.run_flowloop(&mut lp, n),
            || w.run_tokio(&rt, n),
        );
        rows.push((w.name(), fl, tk));
    }
    rows
}
