//! Dynamic-graph rows (crate `flowloop-graph`), each beside its reference:
//!
//! - `graph_chain`: a chain of 1,000 `math.add` nodes built by name and run once in batch,
//!   ns per node run, beside the same chain as a typed flow of the same function
//!   (`typed_ns`; target ratio ≤ 2).
//! - `graph_push`: a live chain of 1,000 nodes; one `inject` at the head until everything
//!   settled, ns per node (`target_ns` = 200), on-CPU time of the thread (see [`CpuTimer`]).
//! - `graph_push_local`: the 10,000-node graph of `graph_pull` kept live; one `inject` at the
//!   head of its 10-node chain until settled, ns per push (on-CPU), beside one batch run of the
//!   whole graph (`batch_ns`, what a tick re-running everything would cost at least).
//! - `graph_pull`: resolving the end of a 10-node chain inside a 10,000-node graph (100 chains
//!   of 100), ns per pull, beside a batch run of the whole graph (`batch_ns`).
//! - `graph_load`: parsing and building a 100,000-node JSON spec (a chain), ns per node
//!   (`target_ns` = 10,000), on-CPU time; the peak resident memory is printed as a note.
//!
//! Push and load never wait for anything, so they are timed on-CPU: on a shared machine wall
//! time mostly measures waiting for a core (the wall figure is printed as a `#` note).
//!
//! Self-contained so both `examples/sched_profile` and `benches/graph.rs` can include it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_graph::kind::Number;
use flowloop_graph::live::LiveGraph;
use flowloop_graph::pull::{Memo, Pull};
use flowloop_graph::std::math::add_node;
use flowloop_graph::{Graph, Registry, Value};

/// A chain `n0 → n1 → …` of `math.add` nodes adding 1 (the head starts from 0).
pub fn chain_graph(n: usize) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    add_chain(&mut g, "n", n);
    g
}

fn add_chain(g: &mut Graph, prefix: &str, n: usize) {
    for i in 0..n {
        let id = format!("{prefix}{i}");
        g.add("math.add", Some(&id)).expect("fresh id");
        g.set_constant(&id, "b", Value::Int(1)).expect("int input");
        if i == 0 {
            g.set_constant(&id, "a", Value::Int(0)).expect("int input");
        } else {
            g.connect(&format!("{prefix}{}", i - 1), "out", &id, "a")
                .expect("chain edge");
        }
    }
}

/// Builds the dynamic chain, runs it once; (run time, last value).
pub fn graph_chain(n: usize) -> (Duration, i64) {
    let g = chain_graph(n);
    let mut batch = g.batch().expect("chain compiles");
    let t = Instant::now();
    batch.run().expect("chain runs");
    let elapsed = t.elapsed();
    let last = batch
        .value(&format!("n{}", n - 1), "out")
        .and_then(|v| v.as_int())
        .unwrap_or(-1);
    (elapsed, last)
}

/// The same chain as a typed flow of the same function; (run time, last value).
pub fn typed_chain(n: usize) -> (Duration, i64) {
    let mut b = FlowBuilder::new();
    let mut last = add_node(&mut b, (Number::Int(0), Number::Int(1)));
    for _ in 1..n {
        last = add_node(&mut b, (last, Number::Int(1)));
    }
    let mut flow = b.build().expect("chain builds");
    let t = Instant::now();
    flow.run_until_complete(RunOptions::new()).expect("chain runs");
    let v = match flow.value(last) {
        Some(Number::Int(i)) => i,
        _ => -1,
    };
    (t.elapsed(), v)
}

/// On-CPU time of this thread (Linux `/proc/thread-self/schedstat`), beside wall time.
pub struct CpuTimer {
    wall: Instant,
    cpu: Option<u64>,
}

impl CpuTimer {
    fn thread_ns() -> Option<u64> {
        // A yield makes the kernel bring the running thread's counter up to date.
        std::thread::yield_now();
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        text.split_whitespace().next()?.parse().ok()
    }

    /// Starts both clocks.
    pub fn start() -> CpuTimer {
        CpuTimer {
            cpu: CpuTimer::thread_ns(),
            wall: Instant::now(),
        }
    }

    /// (on-CPU time, wall time) since the start; on-CPU falls back to wall time when unknown.
    pub fn stop(&self) -> (Duration, Duration) {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu, CpuTimer::thread_ns()) {
            (Some(a), Some(b)) if b >= a => Duration::from_nanos(b - a),
            _ => wall,
        };
        (cpu, wall)
    }
}

/// A live chain of `n`; `pushes` injects at the head; ((on-CPU, wall) time of the pushes,
/// last value).
pub fn graph_push(n: usize, pushes: i64) -> ((Duration, Duration), i64) {
    let live = LiveGraph::new(chain_graph(n)).expect("chain compiles");
    let last = format!("n{}", n - 1);
    flowloop::run(async move {
        live.idle().await.expect("first tick");
        let t = CpuTimer::start();
        for p in 1..=pushes {
            live.inject("n0", "a", Value::Int(p)).await.expect("push settles");
        }
        let elapsed = t.stop();
        let v = live.value(&last, "out").and_then(|v| v.as_int()).unwrap_or(-1);
        (elapsed, v)
    })
    .expect("loop runs")
}

/// The live pull graph; `pushes` injects at `p0`; (on-CPU, wall) time of the pushes, `p9`.
pub fn graph_push_local(g: &Graph, pushes: i64) -> ((Duration, Duration), i64) {
    let live = LiveGraph::new(g.clone()).expect("compiles");
    flowloop::run(async move {
        live.idle().await.expect("first tick");
        let t = CpuTimer::start();
        for p in 1..=pushes {
            live.inject("p0", "a", Value::Int(p)).await.expect("push settles");
        }
        let elapsed = t.stop();
        let v = live.value("p9", "out").and_then(|v| v.as_int()).unwrap_or(-1);
        (elapsed, v)
    })
    .expect("loop runs")
}

/// 100 chains of 100 (10,000 nodes) plus a 10-node chain `p0..p9`.
pub fn pull_graph() -> Graph {
    let mut g = Graph::new(Registry::with_std());
    for c in 0..100 {
        add_chain(&mut g, &format!("c{c}_"), 100);
    }
    add_chain(&mut g, "p", 10);
    g
}

/// Resolves `p9` `pulls` times (no memo); (time, value).
pub fn graph_pull(g: &Graph, pulls: u32) -> (Duration, i64) {
    let mut pull = Pull::new(g.clone(), Memo::Off);
    let t = Instant::now();
    let mut v = -1;
    for _ in 0..pulls {
        v = pull.resolve("p9", "out").ok().and_then(|v| v.as_int()).unwrap_or(-1);
    }
    (t.elapsed(), v)
}

/// One batch run of the whole pull graph; (run time, value of `p9`).
pub fn whole_batch(g: &Graph) -> (Duration, i64) {
    let mut batch = g.batch().expect("compiles");
    let t = Instant::now();
    batch.run().expect("runs");
    let v = batch.value("p9", "out").and_then(|v| v.as_int()).unwrap_or(-1);
    (t.elapsed(), v)
}

/// The JSON spec of a chain of `n`.
pub fn chain_spec(n: usize) -> String {
    chain_graph(n).to_json()
}

/// Loads and compiles `text`; ((on-CPU, wall) time, node count).
pub fn graph_load(text: &str) -> ((Duration, Duration), usize) {
    let t = CpuTimer::start();
    let g = Graph::from_json(text, Registry::with_std()).expect("spec loads");
    let batch = g.batch().expect("spec compiles");
    let elapsed = t.stop();
    let nodes = batch.flow().len();
    (elapsed, nodes)
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn ns(d: Duration, ops: u64) -> f64 {
    d.as_nanos() as f64 / ops.max(1) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One row: (workload, flowloop ns, reference name, reference ns).
pub type Row = (&'static str, f64, &'static str, f64);

/// Every graph row (`selected` filters by workload name); notes go to stdout as `# ...`.
pub fn rows(quick: bool, selected: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let reps = if quick { 3 } else { 9 };
    let mut out = Vec::new();
    if selected("graph_chain") {
        let n = 1000;
        let mut dynamic = Vec::new();
        let mut typed = Vec::new();
        for _ in 0..reps {
            let (d, v) = graph_chain(n);
            assert_eq!(v, n as i64, "graph_chain computed the chain");
            dynamic.push(ns(d, n as u64));
            let (t, v) = typed_chain(n);
            assert_eq!(v, n as i64, "typed chain computed the chain");
            typed.push(ns(t, n as u64));
        }
        out.push(("graph_chain", median(dynamic), "typed", median(typed)));
    }
    if selected("graph_push") {
        let (n, pushes) = (1000, if quick { 20 } else { 100 });
        let (mut per_node, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let ((cpu, w), v) = graph_push(n, pushes);
            assert_eq!(v, pushes + n as i64, "graph_push settled with the last push");
            per_node.push(ns(cpu, pushes as u64 * n as u64));
            wall.push(ns(w, pushes as u64 * n as u64));
        }
        println!("# graph_push: wall {:.1} ns per node", median(wall));
        out.push(("graph_push", median(per_node), "target", 200.0));
    }
    if selected("graph_push_local") {
        let g = pull_graph();
        let pushes = if quick { 200 } else { 2_000 };
        let (mut push, mut batch) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let ((cpu, _), v) = graph_push_local(&g, pushes);
            assert_eq!(v, pushes + 10, "graph_push_local settled with the last push");
            push.push(ns(cpu, pushes as u64));
            let (b, v) = whole_batch(&g);
            assert_eq!(v, 10, "batch computed p9");
            batch.push(ns(b, 1));
        }
        out.push(("graph_push_local", median(push), "batch", median(batch)));
    }
    if selected("graph_pull") {
        let g = pull_graph();
        let pulls = if quick { 20 } else { 200 };
        let mut pull = Vec::new();
        let mut batch = Vec::new();
        for _ in 0..reps {
            let (d, v) = graph_pull(&g, pulls);
            assert_eq!(v, 10, "graph_pull resolved p9");
            pull.push(ns(d, u64::from(pulls)));
            let (b, v) = whole_batch(&g);
            assert_eq!(v, 10, "batch computed p9");
            batch.push(ns(b, 1));
        }
        out.push(("graph_pull", median(pull), "batch", median(batch)));
    }
    if selected("graph_load") {
        let n = if quick { 20_000 } else { 100_000 };
        let text = chain_spec(n);
        let (mut per_node, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..reps.min(3) {
            let ((cpu, w), nodes) = graph_load(&text);
            assert_eq!(nodes, n, "graph_load built every node");
            per_node.push(ns(cpu, n as u64));
            wall.push(ns(w, n as u64));
        }
        println!("# graph_load: wall {:.1} ns per node", median(wall));
        out.push(("graph_load", median(per_node), "target", 10_000.0));
        if let Some(mib) = peak_rss_mib() {
            println!(
                "# graph_load: {n} nodes, {} bytes of JSON, peak RSS {mib:.0} MiB",
                text.len()
            );
        }
    }
    out
}
