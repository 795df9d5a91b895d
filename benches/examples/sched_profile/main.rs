//! Scheduling profile: each workload on flowloop beside the same workload on tokio's
//! current-thread runtime.
//!
//! ```text
//! cargo run --release -p flowloop-benches --example sched_profile -- [--quick] [FILTER]
//! ```
//!
//! Prints one line per workload (pipeline rows compare with the same steps called directly,
//! `direct_ns`, instead of tokio):
//! `<workload> flowloop_ns=<ns per op> tokio_ns=<ns per op> ratio=<flowloop/tokio>`.
//! Each figure is the median over several repetitions (after one warm-up run), the flowloop and
//! tokio runs interleaved so that load from other processes hits both alike. `--quick` runs
//! smaller sizes and fewer repetitions; `FILTER` keeps only workloads whose name contains it.
//!
//! The loop rows and flow rows are wall time. The network rows (`tcp_*`, `tls_*`) are the
//! on-CPU time of the thread running both ends (from `/proc/thread-self/schedstat`): on a
//! shared machine their wall time mostly measures waiting for a CPU, which swings the ratio by
//! ±20% between runs, while the work done per round trip is what the comparison is about. The
//! `pipeline_*` rows are on-CPU time too, for the same reason.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

mod core_workloads;

// ==== Row providers =========================================================================
// A provider is a module exposing `pub fn rows(quick: bool) -> Vec<(&'static str, f64, f64)>`:
// (workload name, flowloop ns/op, tokio ns/op). It should skip workloads for which
// `crate::selected(name)` is false and may time them with `crate::measure`.
// To add one (net_rows, flow_rows, ...): declare its module here and append its `rows` below.
mod core_rows;
mod flow_rows;
mod graph_rows;
mod net_rows;
mod pipeline_rows;

/// Every row provider with the workloads it produces, in print order (a provider none of whose
/// workloads is selected is not run at all).
const PROVIDERS: &[(Provider, &[&str])] = &[
    (
        core_rows::rows,
        &[
            "spawn_join_batch",
            "spawn_join_seq",
            "queue_bounded",
            "queue_unbounded",
            "timers",
        ],
    ),
    (
        net_rows::rows,
        &["tcp_echo_1", "tcp_echo_50", "tls_echo_1", "tls_handshake"],
    ),
    (
        |quick| flow_rows::rows_where(quick, selected),
        &[
            "flow_chain",
            "flow_stream",
            "flow_cycle",
            "flow_small_run",
            "flow_diamond",
            "flow_build",
        ],
    ),
    (pipeline_rows::rows, &["pipeline_seq", "pipeline_par"]),
];
// ============================================================================================

/// The signature every row provider's `rows` function has.
type Provider = fn(bool) -> Vec<(&'static str, f64, f64)>;

const USAGE: &str = "usage: sched_profile [--quick] [FILTER]\n  \
                     --quick  smaller sizes and fewer repetitions\n  \
                     FILTER   run only workloads whose name contains FILTER";

/// The workload-name filter given on the command line (empty: everything).
static FILTER: OnceLock<String> = OnceLock::new();

/// Whether the workload called `name` was asked for on the command line.
pub fn selected(name: &str) -> bool {
    FILTER.get().is_none_or(|f| name.contains(f.as_str()))
}

/// Times `flowloop` and `tokio` (each doing `ops` operations and returning a checksum that must
/// equal `expected`): one warm-up run each, then `reps` interleaved runs. Returns the median
/// nanoseconds per operation of each.
///
/// # Panics
/// If a checksum is wrong: that run skipped work and its timing would be meaningless.
pub fn measure(
    name: &str,
    reps: usize,
    ops: u64,
    expected: u64,
    mut flowloop: impl FnMut() -> u64,
    mut tokio: impl FnMut() -> u64,
) -> (f64, f64) {
    let mut fl_ns = Vec::with_capacity(reps);
    let mut tk_ns = Vec::with_capacity(reps);
    for rep in 0..=reps {
        let fl = time_one(name, "flowloop", ops, expected, &mut flowloop);
        let tk = time_one(name, "tokio", ops, expected, &mut tokio);
        if rep > 0 {
            fl_ns.push(fl);
            tk_ns.push(tk);
        }
    }
    (median(&mut fl_ns), median(&mut tk_ns))
}

fn time_one(name: &str, runtime: &str, ops: u64, expected: u64, run: &mut impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let got = std::hint::black_box(run());
    let elapsed = start.elapsed();
    assert_eq!(
        got, expected,
        "{name} on {runtime}: wrong checksum, the run skipped work"
    );
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The name of a row's comparison column: `tokio`, except for workloads compared with the same
/// work done directly.
fn reference(name: &str) -> &'static str {
    if name.starts_with("pipeline_") {
        "direct"
    } else if name == "flow_build" {
        "target"
    } else {
        "tokio"
    }
}

fn main() -> ExitCode {
    if flow_rows::run_build_child() {
        return ExitCode::SUCCESS;
    }
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            flag if flag.starts_with('-') => {
                eprintln!("sched_profile: unknown option `{flag}`\n{USAGE}");
                return ExitCode::from(2);
            }
            filter => {
                if FILTER.set(filter.to_owned()).is_err() {
                    eprintln!("sched_profile: give at most one FILTER (second one: `{filter}`)\n{USAGE}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let mut printed = 0;
    for (provider, names) in PROVIDERS {
        if !names.iter().any(|n| selected(n)) {
            continue;
        }
        for (name, flowloop_ns, tokio_ns) in provider(quick) {
            if selected(name) {
                println!(
                    "{name} flowloop_ns={flowloop_ns:.1} {}_ns={tokio_ns:.1} ratio={:.3}",
                    reference(name),
                    flowloop_ns / tokio_ns
                );
                printed += 1;
            }
        }
    }
    // Graph rows name their own reference (typed flow, batch run, or a target).
    for (name, flowloop_ns, reference, reference_ns) in graph_rows::rows(quick, &selected) {
        println!(
            "{name} flowloop_ns={flowloop_ns:.1} {reference}_ns={reference_ns:.1} ratio={:.3}",
            flowloop_ns / reference_ns
        );
        printed += 1;
    }
    if printed == 0 {
        eprintln!(
            "sched_profile: no workload name contains `{}`",
            FILTER.get().map_or("", String::as_str)
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
