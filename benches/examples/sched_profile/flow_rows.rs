//! Flow rows: the four flow workloads on flowloop beside the same shapes written as tokio
//! current-thread tasks joined by channels (one task per node, a bounded channel per edge).
//!
//! - `flow_chain`: a chain of 1,000 nodes built and run once (ns per node run).
//! - `flow_stream`: a producer streaming 100,000 chunks into a stream consumer (ns per chunk).
//! - `flow_cycle`: a 2-node cycle run for 100,000 generations (ns per generation).
//! - `flow_small_run`: a 10-node chain built once and run 10,000 times (ns per run).
//! - `flow_diamond`: source → 100 parallel nodes → a reduction chain of 99 adders, closed into a
//!   cycle, for 100 generations (ns per node run).
//! - `flow_build`: build and drop of a 1,000,000-node typed chain (ns per node, wall time),
//!   measured in a child process so that its peak RSS (VmHWM) is this workload's alone; the
//!   reference column is the target (300 ns per node). A note line prints the RSS, the on-CPU
//!   time per node, the page faults and the share of the time spent in the kernel (mostly
//!   those faults: every page of a fresh process's heap faults once, at a cost that depends
//!   on the machine and, in a virtual machine, on its host).
//!
//! Times are the on-CPU time of the measuring thread (`/proc/thread-self/schedstat`; wall time
//! where that file is missing): both runtimes run every node on this one thread and never wait
//! for anything outside it, so this is the work done, without the time spent waiting for a CPU
//! on a shared machine.
//!
//! Self-contained so both `examples/sched_profile` and `benches/flow.rs` can include it.

#![allow(dead_code)]

use std::time::Duration;

// Also loaded by net_rows: each binary includes the providers it needs by `#[path]`.
#[allow(clippy::duplicate_mod)]
#[path = "cpu_clock.rs"]
mod cpu_clock;
use cpu_clock::Stopwatch;

use flowloop::flow::{Emitter, Flow, FlowBuilder, Generation, Node, RunOptions, Stream};
use tokio::sync::mpsc;

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
}

async fn add(x: i64, y: i64) -> i64 {
    x + y
}

/// Chain of `n` nodes built, then run once; returns (elapsed time of the run, last value).
/// (Building costs extra; `examples/flow_million.rs` reports build and run separately.)
pub fn flow_chain(n: usize) -> (Duration, i64) {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..n {
        last = b.node(inc, (last,));
    }
    let mut flow = b.build().expect("chain builds");
    let t = Stopwatch::start();
    flow.run_until_complete(RunOptions::new()).expect("chain runs");
    (t.stop().cpu, flow.value(last).unwrap_or(-1))
}

/// A chain of `len` nodes built once and run `runs` times with `run_until_complete`; returns
/// (elapsed time of all runs, last value). Checks that every run ran the chain again.
pub fn flow_small_run(len: usize, runs: u64) -> (Duration, i64) {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..len {
        last = b.node(inc, (last,));
    }
    let mut flow = b.build().expect("chain builds");
    let t = Stopwatch::start();
    for _ in 0..runs {
        flow.run_until_complete(RunOptions::new()).expect("chain runs");
    }
    let elapsed = t.stop().cpu;
    assert_eq!(flow.generation(last), Some(Generation::from((runs - 1,))));
    (elapsed, flow.value(last).unwrap_or(-1))
}

/// Hands out 0, 1, 2, ...: one value per run of the flow.
struct Feed {
    next: i64,
}

impl Feed {
    async fn run(&mut self) -> i64 {
        let v = self.next;
        self.next += 1;
        v
    }
}

/// A feed node and a chain of `len` `inc` nodes built once; the flow runs `values` times, so
/// each value passes the whole chain (the `flow_chain_dfir` shape). Returns (elapsed time of
/// all runs, sum of the chain's outputs).
pub fn flow_chain_fed(len: usize, values: u64) -> (Duration, i64) {
    let mut b = FlowBuilder::new();
    let mut last = b.stateful(Feed { next: 0 }, Feed::run, ());
    for _ in 0..len {
        last = b.node(inc, (last,));
    }
    let mut flow = b.build().expect("chain builds");
    let mut total = 0;
    let t = Stopwatch::start();
    for _ in 0..values {
        flow.run_until_complete(RunOptions::new()).expect("chain runs");
        total += flow.value(last).unwrap_or(-1);
    }
    (t.stop().cpu, total)
}

/// The same chain as `len` tokio tasks joined by channels, spawned afresh for each of `runs`
/// `block_on` calls on one runtime.
pub fn tokio_small_run(len: usize, runs: u64) -> (Duration, i64) {
    let rt = tokio_rt();
    let t = Stopwatch::start();
    let mut v = -1;
    for _ in 0..runs {
        v = rt.block_on(tokio_chain_once(len));
    }
    (t.stop().cpu, v)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// One pass of a value through `n` tokio tasks joined by bounded channels (spawned afresh).
async fn tokio_chain_once(n: usize) -> i64 {
    let (tx0, mut rx) = mpsc::channel::<i64>(1);
    for _ in 0..n {
        let (tx, next) = mpsc::channel::<i64>(1);
        let mut input = rx;
        tokio::spawn(async move {
            if let Some(x) = input.recv().await {
                let _ = tx.send(x + 1).await;
            }
        });
        rx = next;
    }
    tx0.send(0).await.expect("chain head");
    rx.recv().await.unwrap_or(-1)
}

/// The chain as `n` tokio tasks joined by bounded channels.
pub fn tokio_chain(n: usize) -> (Duration, i64) {
    let rt = tokio_rt();
    let t = Stopwatch::start();
    let v = rt.block_on(tokio_chain_once(n));
    (t.stop().cpu, v)
}

async fn numbers(out: Emitter<i64>, n: i64) -> i64 {
    for i in 0..n {
        if out.emit(i).await.is_err() {
            break;
        }
    }
    n
}

async fn sum(mut s: Stream<i64>) -> i64 {
    let mut total = 0;
    while let Some(x) = s.next().await {
        total += x;
    }
    total
}

/// `n` chunks from a producer into a stream consumer; returns (elapsed, sum).
pub fn flow_stream(n: usize) -> (Duration, i64) {
    let mut b = FlowBuilder::new();
    let src = b.stream(numbers, (n as i64,));
    let total = b.node(sum, (src.stream(),));
    let mut flow = b.build().expect("stream builds");
    let t = Stopwatch::start();
    flow.run_until_complete(RunOptions::new()).expect("stream runs");
    (t.stop().cpu, flow.value(total).unwrap_or(-1))
}

/// The stream as a producer task and a consumer task joined by a channel of capacity 1.
pub fn tokio_stream(n: usize) -> (Duration, i64) {
    let rt = tokio_rt();
    let t = Stopwatch::start();
    let v = rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<i64>(1);
        tokio::spawn(async move {
            for i in 0..n as i64 {
                if tx.send(i).await.is_err() {
                    break;
                }
            }
        });
        let consumer = tokio::spawn(async move {
            let mut total = 0;
            while let Some(x) = rx.recv().await {
                total += x;
            }
            total
        });
        consumer.await.unwrap_or(-1)
    });
    (t.stop().cpu, v)
}

fn cycle_flow() -> (Flow, Node<i64>) {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(0),));
    let bn = b.node(id, (a,));
    b.define(fb, bn);
    (b.build().expect("cycle builds"), bn)
}

/// A 2-node cycle for `gens` generations; returns (elapsed, final value).
pub fn flow_cycle(gens: u64) -> (Duration, i64) {
    let (mut flow, bn) = cycle_flow();
    let t = Stopwatch::start();
    flow.run_until_complete(RunOptions::new().limit(bn, (gens - 1,)))
        .expect("cycle runs");
    (t.stop().cpu, flow.value(bn).unwrap_or(-1))
}

/// Two tokio tasks playing ping-pong over two channels for `gens` rounds.
pub fn tokio_cycle(gens: u64) -> (Duration, i64) {
    let rt = tokio_rt();
    let t = Stopwatch::start();
    let v = rt.block_on(async move {
        let (to_b, mut b_in) = mpsc::channel::<i64>(1);
        let (to_a, mut a_in) = mpsc::channel::<i64>(1);
        let b = tokio::spawn(async move {
            let mut last = 0;
            while let Some(x) = b_in.recv().await {
                last = x;
                if to_a.send(x).await.is_err() {
                    break;
                }
            }
            last
        });
        let mut x = 0;
        for _ in 0..gens {
            to_b.send(x + 1).await.expect("b alive");
            x = a_in.recv().await.unwrap_or(-1);
        }
        drop(to_b);
        b.await.unwrap_or(-1)
    });
    (t.stop().cpu, v)
}

/// Source → `width` parallel nodes → a chain of `width - 1` adders, closed back into the source
/// (with a default), for `gens` generations. Returns (elapsed, node runs, final value).
pub fn flow_diamond(width: usize, gens: u64) -> (Duration, u64, i64) {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let src = b.node(|x: i64| async move { x % 1000 }, (back.or(1),));
    let mids: Vec<_> = (0..width).map(|_| b.node(inc, (src,))).collect();
    let mut acc = mids[0];
    for m in &mids[1..] {
        acc = b.node(add, (acc, *m));
    }
    b.define(back, acc);
    let mut flow = b.build().expect("diamond builds");
    let t = Stopwatch::start();
    flow.run_until_complete(RunOptions::new().limit(acc, (gens - 1,)))
        .expect("diamond runs");
    let runs = (2 * width as u64) * gens;
    (t.stop().cpu, runs, flow.value(acc).unwrap_or(-1))
}

/// The same diamond as tokio tasks: one per node, a channel per edge.
pub fn tokio_diamond(width: usize, gens: u64) -> (Duration, u64, i64) {
    let rt = tokio_rt();
    let t = Stopwatch::start();
    let v = rt.block_on(async move {
        let mut mid_in = Vec::new();
        let mut mid_out = Vec::new();
        for _ in 0..width {
            let (tx, mut rx) = mpsc::channel::<i64>(1);
            let (otx, orx) = mpsc::channel::<i64>(1);
            tokio::spawn(async move {
                while let Some(x) = rx.recv().await {
                    if otx.send(x + 1).await.is_err() {
                        break;
                    }
                }
            });
            mid_in.push(tx);
            mid_out.push(orx);
        }
        let mut outs = mid_out.into_iter();
        let mut acc = outs.next().expect("width >= 1");
        for mut m in outs {
            let (tx, rx) = mpsc::channel::<i64>(1);
            let mut left = acc;
            tokio::spawn(async move {
                while let (Some(a), Some(b)) = (left.recv().await, m.recv().await) {
                    if tx.send(a + b).await.is_err() {
                        break;
                    }
                }
            });
            acc = rx;
        }
        let mut x = 1i64;
        let mut last = 0;
        for _ in 0..gens {
            let s = x % 1000;
            for tx in &mid_in {
                tx.send(s).await.expect("mid alive");
            }
            last = acc.recv().await.unwrap_or(-1);
            x = last;
        }
        last
    });
    (t.stop().cpu, (2 * width as u64) * gens, v)
}

/// Environment variable that turns the bench binary into the `flow_build` child: its value is
/// the chain length.
pub const BUILD_CHILD_ENV: &str = "FLOWLOOP_FLOW_BUILD_CHILD";

/// Target for `flow_build`, ns per node (issue 14).
pub const BUILD_TARGET_NS: f64 = 300.0;

/// Builds and drops a chain of `n` typed nodes; returns the wall and on-CPU time of both.
/// Never inlined, so that `benches/instructions.sh` can count the instructions inside it.
#[inline(never)]
pub fn flow_build(n: usize) -> cpu_clock::Measured {
    let t = Stopwatch::start();
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..n {
        last = b.node(inc, (last,));
    }
    let flow = b.build().expect("chain builds");
    drop(std::hint::black_box(flow));
    t.stop()
}

/// This process's minor page faults and its user and kernel CPU time in clock ticks (fields
/// 10, 14 and 15 of `/proc/self/stat`).
fn faults_and_ticks() -> Option<[u64; 3]> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let field = |k: usize| fields.get(k - 3)?.parse().ok();
    Some([field(10)?, field(14)?, field(15)?])
}

/// Peak resident set size (VmHWM) of this process in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Call first thing in `main`: when this process is the `flow_build` child, measures, prints
/// `ns=<wall ns per node> cpu_ns=<on-CPU ns per node> faults=<minor page faults>
/// sys_share=<kernel share of the CPU time> rss_kib=<VmHWM>` and returns true (the caller then
/// exits).
pub fn run_build_child() -> bool {
    let Some(n) = std::env::var(BUILD_CHILD_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return false;
    };
    let before = faults_and_ticks().unwrap_or_default();
    let d = flow_build(n);
    let after = faults_and_ticks().unwrap_or_default();
    let rss = peak_rss_kib().unwrap_or(0);
    let [faults, user, sys] = [0, 1, 2].map(|i| after[i].saturating_sub(before[i]));
    let sys_share = sys as f64 / (user + sys).max(1) as f64;
    println!(
        "ns={:.1} cpu_ns={:.1} faults={faults} sys_share={sys_share:.2} rss_kib={rss}",
        per_op(d.wall, n as u64),
        per_op(d.cpu, n as u64)
    );
    true
}

/// One `flow_build` child's report.
struct BuildChild {
    /// Wall ns per node (the row's measure).
    ns: f64,
    /// On-CPU ns per node.
    cpu_ns: f64,
    faults: u64,
    /// The kernel's share of the CPU time.
    sys_share: f64,
    /// Peak RSS in KiB.
    rss_kib: u64,
}

/// Runs the `flow_build` child once.
fn flow_build_in_child(n: usize) -> BuildChild {
    let exe = std::env::current_exe().expect("the bench binary knows its own path");
    let out = std::process::Command::new(exe)
        .env(BUILD_CHILD_ENV, n.to_string())
        .output()
        .expect("the flow_build child starts");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| -> Option<f64> {
        let v = text.split_whitespace().find_map(|w| w.strip_prefix(key))?;
        v.parse().ok()
    };
    match (
        field("ns="),
        field("cpu_ns="),
        field("faults="),
        field("sys_share="),
        field("rss_kib="),
    ) {
        (Some(ns), Some(cpu_ns), Some(faults), Some(sys_share), Some(rss)) => BuildChild {
            ns,
            cpu_ns,
            faults: faults as u64,
            sys_share,
            rss_kib: rss as u64,
        },
        _ => panic!(
            "flow_build child printed no result: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The `flow_build` row: median ns per node over `reps` children, with the largest peak RSS
/// printed as a note.
fn flow_build_row(reps: usize) -> (&'static str, f64, f64) {
    let n = 1_000_000;
    let (mut ns, mut cpu, mut sys) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rss, mut faults) = (0, 0);
    for _ in 0..reps {
        let child = flow_build_in_child(n);
        ns.push(child.ns);
        cpu.push(child.cpu_ns);
        sys.push(child.sys_share);
        rss = rss.max(child.rss_kib);
        faults = faults.max(child.faults);
    }
    println!(
        "# flow_build note: {n} nodes, peak_rss_mib={:.1} (target 250), on-CPU {:.1} ns/node, \
         {faults} page faults, kernel share {:.2} (medians; faults and RSS the largest)",
        rss as f64 / 1024.0,
        median(cpu),
        median(sys)
    );
    ("flow_build", median(ns), BUILD_TARGET_NS)
}

/// The median (upper middle for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Nanoseconds per operation.
pub fn per_op(d: Duration, ops: u64) -> f64 {
    d.as_nanos() as f64 / ops as f64
}

/// (workload, flowloop ns/op, tokio ns/op) for `flow_chain`, `flow_stream`, `flow_cycle`,
/// `flow_small_run` and `flow_diamond`; runs alternate between the two so machine noise hits both alike.
/// Last, `flow_build` with its target in the reference column.
pub fn rows(quick: bool) -> Vec<(&'static str, f64, f64)> {
    rows_where(quick, |_| true)
}

/// [`rows`], timing only the workloads `wanted` accepts (the command line's name filter).
pub fn rows_where(quick: bool, wanted: fn(&str) -> bool) -> Vec<(&'static str, f64, f64)> {
    let reps = if quick { 3 } else { 9 };
    let (chunks, gens) = if quick { (20_000, 20_000) } else { (100_000, 100_000) };
    let mut out = Vec::new();
    let mut pair = |name: &'static str, fl: &mut dyn FnMut() -> f64, tk: &mut dyn FnMut() -> f64| {
        if !wanted(name) {
            return;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            a.push(fl());
            b.push(tk());
        }
        out.push((name, median(a), median(b)));
    };
    pair(
        "flow_chain",
        &mut || {
            let (d, v) = flow_chain(1000);
            assert_eq!(v, 1000);
            per_op(d, 1000)
        },
        &mut || {
            let (d, v) = tokio_chain(1000);
            assert_eq!(v, 1000);
            per_op(d, 1000)
        },
    );
    let want = (chunks as i64) * (chunks as i64 - 1) / 2;
    pair(
        "flow_stream",
        &mut || {
            let (d, v) = flow_stream(chunks);
            assert_eq!(v, want);
            per_op(d, chunks as u64)
        },
        &mut || {
            let (d, v) = tokio_stream(chunks);
            assert_eq!(v, want);
            per_op(d, chunks as u64)
        },
    );
    pair(
        "flow_cycle",
        &mut || {
            let (d, v) = flow_cycle(gens);
            assert_eq!(v, gens as i64);
            per_op(d, gens)
        },
        &mut || {
            let (d, v) = tokio_cycle(gens);
            assert_eq!(v, gens as i64);
            per_op(d, gens)
        },
    );
    let small_runs = if quick { 2_000 } else { 10_000 };
    pair(
        "flow_small_run",
        &mut || {
            let (d, v) = flow_small_run(10, small_runs);
            assert_eq!(v, 10);
            per_op(d, small_runs)
        },
        &mut || {
            let (d, v) = tokio_small_run(10, small_runs);
            assert_eq!(v, 10);
            per_op(d, small_runs)
        },
    );
    let mut check = None;
    pair(
        "flow_diamond",
        &mut || {
            let (d, runs, v) = flow_diamond(100, 100);
            assert!(*check.get_or_insert(v) == v);
            per_op(d, runs)
        },
        &mut || {
            let (d, runs, v) = tokio_diamond(100, 100);
            assert!(v > 0);
            per_op(d, runs)
        },
    );
    if wanted("flow_build") {
        out.push(flow_build_row(reps));
    }
    out
}
