//! Flow benches beside the same shapes as tokio current-thread tasks joined by channels.
//! `FLOW_ROWS=1 cargo bench -p flowloop-benches --bench flow` prints the sched_profile rows instead.

use criterion::{Criterion, criterion_group};

#[path = "../examples/sched_profile/flow_rows.rs"]
mod flow_rows;

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow_chain_1000");
    g.bench_function("flowloop", |b| b.iter(|| flow_rows::flow_chain(1000)));
    g.bench_function("tokio", |b| b.iter(|| flow_rows::tokio_chain(1000)));
    g.finish();
}

fn stream(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow_stream_100k");
    g.sample_size(10);
    g.bench_function("flowloop", |b| b.iter(|| flow_rows::flow_stream(100_000)));
    g.bench_function("tokio", |b| b.iter(|| flow_rows::tokio_stream(100_000)));
    g.finish();
}

fn cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow_cycle_100k");
    g.sample_size(10);
    g.bench_function("flowloop", |b| b.iter(|| flow_rows::flow_cycle(100_000)));
    g.bench_function("tokio", |b| b.iter(|| flow_rows::tokio_cycle(100_000)));
    g.finish();
}

fn diamond(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow_diamond_100x100");
    g.sample_size(10);
    g.bench_function("flowloop", |b| b.iter(|| flow_rows::flow_diamond(100, 100)));
    g.bench_function("tokio", |b| b.iter(|| flow_rows::tokio_diamond(100, 100)));
    g.finish();
}

fn small_run(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow_small_run_10x1000");
    g.sample_size(10);
    g.bench_function("flowloop", |b| b.iter(|| flow_rows::flow_small_run(10, 1000)));
    g.bench_function("tokio", |b| b.iter(|| flow_rows::tokio_small_run(10, 1000)));
    g.finish();
}

criterion_group!(benches, chain, stream, cycle, small_run, diamond);

fn main() {
    if flow_rows::run_build_child() {
        return;
    }
    if std::env::var_os("FLOW_ROWS").is_some() {
        let quick = std::env::args().any(|a| a == "--quick");
        for (name, fl, tk) in flow_rows::rows(quick) {
            let reference = if name == "flow_build" { "target" } else { "tokio" };
            println!("{name} flowloop_ns={fl:.1} {reference}_ns={tk:.1} ratio={:.3}", fl / tk);
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
