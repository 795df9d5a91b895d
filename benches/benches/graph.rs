//! Dynamic-graph benches: the dynamic chain beside the typed chain, push propagation, pull in
//! a large graph, loading a large spec. `GRAPH_ROWS=1 cargo bench -p flowloop-benches --bench
//! graph` prints the sched_profile rows instead.

use criterion::{Criterion, criterion_group};

#[path = "../examples/sched_profile/graph_rows.rs"]
mod graph_rows;

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("graph_chain_1000");
    g.bench_function("dynamic", |b| b.iter(|| graph_rows::graph_chain(1000)));
    g.bench_function("typed", |b| b.iter(|| graph_rows::typed_chain(1000)));
    g.finish();
}

fn push(c: &mut Criterion) {
    let mut g = c.benchmark_group("graph_push_1000");
    g.sample_size(10);
    g.bench_function("inject_x10", |b| b.iter(|| graph_rows::graph_push(1000, 10)));
    g.finish();
}

fn pull(c: &mut Criterion) {
    let graph = graph_rows::pull_graph();
    let mut g = c.benchmark_group("graph_pull_10k");
    g.sample_size(10);
    g.bench_function("resolve_one", |b| b.iter(|| graph_rows::graph_pull(&graph, 1)));
    g.bench_function("batch_all", |b| b.iter(|| graph_rows::whole_batch(&graph)));
    g.finish();
}

fn load(c: &mut Criterion) {
    let text = graph_rows::chain_spec(100_000);
    let mut g = c.benchmark_group("graph_load_100k");
    g.sample_size(10);
    g.bench_function("load_and_build", |b| b.iter(|| graph_rows::graph_load(&text)));
    g.finish();
}

criterion_group!(benches, chain, push, pull, load);

fn main() {
    if std::env::var_os("GRAPH_ROWS").is_some() {
        let quick = std::env::args().any(|a| a == "--quick");
        for (name, fl, reference, rf) in graph_rows::rows(quick, &|_| true) {
            println!("{name} flowloop_ns={fl:.1} {reference}_ns={rf:.1} ratio={:.3}", fl / rf);
        }
        return;
    }
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
