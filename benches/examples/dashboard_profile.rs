//! The flow workloads with the dashboard attached (a `FlowDashboard` sampling every 100 ms, its
//! server thread running, one event-stream client reading) beside the same workloads detached.
//!
//! ```text
//! cargo run --release -p flowloop-benches --example dashboard_profile -- [--quick] [FILTER]
//! ```
//!
//! With FILTER, only the rows whose name contains it run.
//!
//! Prints `<workload> attached_ns=<ns per node run> detached_ns=<ns per node run> ratio=<r>
//! wall_ratio=<r>` (medians, runs interleaved). Target: ratio ≤ 1.05. The times and `ratio`
//! are the flow thread's on-CPU time (`/proc/thread-self/schedstat`): the work the dashboard
//! adds to the flow's thread, without the time the thread waited for a CPU while the server
//! thread or another process had it (on a 2-core machine under load, that waiting swings wall
//! times by ±10-20 %); `wall_ratio` is the same ratio of wall-clock medians.
//!
//! - `flow_chain_dashboard`: a chain of 1,000 nodes run once (ns per node run), three times the
//!   repetitions of the other rows.
//! - `flow_chain_repeat_dashboard`: the 1,000-node chain run back to back on one dashboard
//!   (and one reader) that stays up, in blocks of 200 runs alternating with the same chain
//!   without one (ns per node run): a program that runs a flow again and again, where each
//!   run's final sample lands in the mailbox while the previous one may still wait there.
//! - `flow_chain_live_dashboard`: a 100-node chain behind a counter cycle, run for 100 generations
//!   (ns per node run): the steady state of a flow that keeps running.
//! - `flow_cycle_dashboard`: a 2-node cycle run for 100,000 generations (ns per generation).
//! - `flow_work_dashboard`: a 50-node chain behind a counter cycle where every node does about
//!   3 µs of arithmetic (a realistic small node), run for about a second so the sampler
//!   publishes some ten snapshots to the server thread and its reader (ns per node run).
//! - `flow_work_dashboard_timed`: the same with poll timing on (`FlowDashboard::time_nodes`,
//!   the slow-poll badge): two clock reads per poll on top.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

#[path = "sched_profile/cpu_clock.rs"]
mod cpu_clock;
use cpu_clock::{Measured, Stopwatch};

use flowloop::EventLoop;
use flowloop::flow::{Flow, FlowBuilder, Node, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
}

/// About 3 µs of arithmetic the optimiser cannot drop.
async fn work(x: i64) -> i64 {
    let mut h = std::hint::black_box(x as u64) | 1;
    for _ in 0..WORK_STEPS {
        h = std::hint::black_box(h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17) ^ h);
    }
    x + (h & 1) as i64
}

const WORK_STEPS: u32 = 1500;
const WORK_NODES: usize = 50;

/// A `WORK_NODES`-node chain of [`work`] behind a counter cycle.
fn work_chain() -> (Flow, Node<i64>) {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("head");
    let head = b.node(inc, (fb.or(0),));
    b.define(fb, head);
    let mut last = b.node(work, (head,));
    for _ in 2..WORK_NODES {
        last = b.node(work, (last,));
    }
    (b.build().expect("work chain builds"), last)
}

/// Whether the attached run measures poll time per node.
#[derive(Debug, Clone, Copy)]
enum Timing {
    Off,
    On,
}

fn chain(n: usize) -> (Flow, Node<i64>) {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..n {
        last = b.node(inc, (last,));
    }
    (b.build().expect("chain builds"), last)
}

/// A 100-node chain whose head is a counter cycle: every generation runs the whole chain.
fn live_chain() -> (Flow, Node<i64>) {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("head");
    let head = b.node(inc, (fb.or(0),));
    b.define(fb, head);
    let mut last = b.node(id, (head,));
    for _ in 1..99 {
        last = b.node(id, (last,));
    }
    (b.build().expect("live chain builds"), last)
}

fn cycle() -> (Flow, Node<i64>) {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(0),));
    let bn = b.node(id, (a,));
    b.define(fb, bn);
    (b.build().expect("cycle builds"), bn)
}

/// Reads the dashboard's event stream on a thread until the server closes it, as a page would.
/// Returns once the first frame has arrived, so the connection's set-up (accept, request,
/// first frame) is not inside the timed run.
fn reader(addr: std::net::SocketAddr) -> std::thread::JoinHandle<()> {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the dashboard");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    s.write_all(b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")
        .expect("request");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while matches!(r.read_line(&mut line), Ok(n) if n > 0) && !line.starts_with("data:") {
        line.clear();
    }
    std::thread::spawn(move || {
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            line.clear();
        }
    })
}

/// Starts `flow`'s dashboard on `lp` with an event-stream reader that has had its first frame.
fn observed(flow: Flow, lp: &EventLoop) -> (FlowDashboard, std::thread::JoinHandle<()>) {
    let dash = FlowDashboard::start(flow, lp, ServerConfig::new()).expect("dashboard");
    let client = reader(dash.addr());
    (dash, client)
}

/// The run of a flow with no dashboard, after the same set-up as [`attached`] (a dashboard,
/// its server thread and a reader that has had its first frame) done for another copy of the
/// flow: both timed runs start with the main thread just woken from the same wait, with the
/// same caches. (Timing a detached run right after building it, as an earlier version did,
/// compared a warm run with one that had just slept: ~40 µs of the 1,000-node chain's gap.)
fn detached(make: fn() -> (Flow, Node<i64>), options: RunOptions) -> Measured {
    let (mut flow, _) = make();
    let (other, _) = make();
    let mut lp = EventLoop::new().expect("loop");
    let (dash, client) = observed(other, &lp);
    let t = Stopwatch::start();
    flow.run_on(&mut lp, options).expect("runs");
    let elapsed = t.stop();
    dash.shutdown();
    client.join().expect("reader");
    elapsed
}

fn attached(make: fn() -> (Flow, Node<i64>), options: RunOptions, timing: Timing) -> Measured {
    let (flow, last) = make();
    let mut lp = EventLoop::new().expect("loop");
    let dash = FlowDashboard::start(flow, &lp, ServerConfig::new()).expect("dashboard");
    dash.watch(last);
    if let Timing::On = timing {
        dash.time_nodes(Duration::from_millis(20));
    }
    let client = reader(dash.addr());
    let t = Stopwatch::start();
    dash.run_on(&mut lp, options).expect("runs");
    let elapsed = t.stop();
    dash.shutdown();
    client.join().expect("reader");
    elapsed
}

/// [`REPEAT_BLOCK`] runs of `run`, timed together.
fn block(mut run: impl FnMut()) -> Measured {
    let t = Stopwatch::start();
    for _ in 0..REPEAT_BLOCK {
        run();
    }
    t.stop()
}

/// Runs per timed block of `flow_chain_repeat_dashboard`.
const REPEAT_BLOCK: u32 = 200;

/// `flow_chain_repeat_dashboard`: one dashboard that stays up, runs back to back.
fn repeat_row(name: &str, blocks: usize) {
    let mut lp = EventLoop::new().expect("loop");
    let (flow, last) = chain(1000);
    let (dash, client) = observed(flow, &lp);
    dash.watch(last);
    let (mut plain, _) = chain(1000);
    let mut ratios = Ratios::new(u64::from(REPEAT_BLOCK) * 1000);
    for i in 0..=blocks {
        let m = block(|| {
            dash.run_on(&mut lp, RunOptions::new()).expect("runs");
        });
        let n = block(|| {
            plain.run_on(&mut lp, RunOptions::new()).expect("runs");
        });
        if i > 0 {
            ratios.add(m, n);
        }
    }
    dash.shutdown();
    client.join().expect("reader");
    ratios.print(name);
}

/// Attached and detached measurements of one row, per operation.
struct Ratios {
    ops: u64,
    attached: (Vec<f64>, Vec<f64>),
    detached: (Vec<f64>, Vec<f64>),
}

impl Ratios {
    fn new(ops: u64) -> Ratios {
        Ratios {
            ops,
            attached: (Vec::new(), Vec::new()),
            detached: (Vec::new(), Vec::new()),
        }
    }

    /// One attached and one detached measurement (on-CPU and wall time each).
    fn add(&mut self, attached: Measured, detached: Measured) {
        let per_op = |t: Duration| t.as_nanos() as f64 / self.ops as f64;
        for (series, m) in [(&mut self.attached, attached), (&mut self.detached, detached)] {
            series.0.push(per_op(m.cpu));
            series.1.push(per_op(m.wall));
        }
    }

    /// Prints the row: on-CPU medians and their ratio, and the ratio of the wall medians.
    fn print(self, name: &str) {
        let (a, aw) = (median(self.attached.0), median(self.attached.1));
        let (d, dw) = (median(self.detached.0), median(self.detached.1));
        println!(
            "{name} attached_ns={a:.1} detached_ns={d:.1} ratio={:.3} wall_ratio={:.3}",
            a / d,
            aw / dw
        );
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn row(name: &str, reps: usize, ops: u64, make: fn() -> (Flow, Node<i64>), options: impl Fn() -> RunOptions) {
    timed_row(name, reps, ops, make, options, Timing::Off);
}

fn timed_row(
    name: &str,
    reps: usize,
    ops: u64,
    make: fn() -> (Flow, Node<i64>),
    options: impl Fn() -> RunOptions,
    timing: Timing,
) {
    let mut ratios = Ratios::new(ops);
    attached(make, options(), timing);
    detached(make, options());
    for _ in 0..reps {
        let m = attached(make, options(), timing);
        ratios.add(m, detached(make, options()));
    }
    ratios.print(name);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let reps = if quick { 15 } else { 41 };
    let gens: u64 = if quick { 20_000 } else { 100_000 };
    if wanted("flow_chain_dashboard") {
        // A one-shot run is ~100 µs: more repetitions (cheap) steady its median.
        row("flow_chain_dashboard", reps * 3, 1000, || chain(1000), RunOptions::new);
    }
    if wanted("flow_chain_repeat_dashboard") {
        repeat_row("flow_chain_repeat_dashboard", if quick { 25 } else { 61 });
    }
    let live_gens: u64 = if quick { 20 } else { 100 };
    let (_, live_last) = live_chain();
    if wanted("flow_chain_live_dashboard") {
        row("flow_chain_live_dashboard", reps, 100 * live_gens, live_chain, || {
            RunOptions::new().limit(live_last, (live_gens - 1,))
        });
    }
    let make_cycle: fn() -> (Flow, Node<i64>) = cycle;
    let (_, bn) = cycle();
    if wanted("flow_cycle_dashboard") {
        row("flow_cycle_dashboard", reps, gens, make_cycle, || {
            RunOptions::new().limit(bn, (gens - 1,))
        });
    }
    let work_gens: u64 = if quick { 3_000 } else { 6_000 };
    let work_reps = if quick { 7 } else { 15 };
    let (_, work_last) = work_chain();
    let work_options = || RunOptions::new().limit(work_last, (work_gens - 1,));
    let work_ops = WORK_NODES as u64 * work_gens;
    for (name, timing) in [
        ("flow_work_dashboard", Timing::Off),
        ("flow_work_dashboard_timed", Timing::On),
    ] {
        if !wanted(name) {
            continue;
        }
        timed_row(name, work_reps, work_ops, work_chain, work_options, timing);
    }
}
