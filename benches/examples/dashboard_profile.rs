//! The flow workloads with the dashboard attached (a `FlowDashboard` sampling every 100 ms, its
//! server thread running, one event-stream client reading) beside the same workloads detached.
//!
//! ```text
//! cargo run --release -p flowloop-benches --example dashboard_profile -- [--quick]
//! ```
//!
//! Prints `<workload> attached_ns=<ns per node run> detached_ns=<ns per node run> ratio=<r>`
//! (medians, runs interleaved). Target: ratio ≤ 1.05.
//!
//! - `flow_chain_dashboard`: a chain of 1,000 nodes run once (ns per node run).
//! - `flow_chain_live_dashboard`: a 100-node chain behind a counter cycle, run for 100 generations
//!   (ns per node run): the steady state of a flow that keeps running.
//! - `flow_cycle_dashboard`: a 2-node cycle run for 100,000 generations (ns per generation).

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use flowloop::EventLoop;
use flowloop::flow::{Flow, FlowBuilder, Node, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
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
fn reader(addr: std::net::SocketAddr) -> std::thread::JoinHandle<()> {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the dashboard");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    s.write_all(b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")
        .expect("request");
    std::thread::spawn(move || {
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            line.clear();
        }
    })
}

fn detached(make: fn() -> (Flow, Node<i64>), options: RunOptions) -> Duration {
    let (mut flow, _) = make();
    let mut lp = EventLoop::new().expect("loop");
    let t = Instant::now();
    flow.run_on(&mut lp, options).expect("runs");
    t.elapsed()
}

fn attached(make: fn() -> (Flow, Node<i64>), options: RunOptions) -> Duration {
    let (flow, last) = make();
    let mut lp = EventLoop::new().expect("loop");
    let dash = FlowDashboard::start(flow, &lp, ServerConfig::new()).expect("dashboard");
    dash.watch(last);
    let client = reader(dash.addr());
    let t = Instant::now();
    dash.run_on(&mut lp, options).expect("runs");
    let elapsed = t.elapsed();
    dash.shutdown();
    client.join().expect("reader");
    elapsed
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn row(name: &str, reps: usize, ops: u64, make: fn() -> (Flow, Node<i64>), options: impl Fn() -> RunOptions) {
    let (mut a, mut d) = (Vec::new(), Vec::new());
    attached(make, options());
    detached(make, options());
    for _ in 0..reps {
        a.push(attached(make, options()).as_nanos() as f64 / ops as f64);
        d.push(detached(make, options()).as_nanos() as f64 / ops as f64);
    }
    let (a, d) = (median(a), median(d));
    println!("{name} attached_ns={a:.1} detached_ns={d:.1} ratio={:.3}", a / d);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 15 } else { 41 };
    let gens: u64 = if quick { 20_000 } else { 100_000 };
    row("flow_chain_dashboard", reps, 1000, || chain(1000), RunOptions::new);
    let live_gens: u64 = if quick { 20 } else { 100 };
    let (_, live_last) = live_chain();
    row("flow_chain_live_dashboard", reps, 100 * live_gens, live_chain, || {
        RunOptions::new().limit(live_last, (live_gens - 1,))
    });
    let make_cycle: fn() -> (Flow, Node<i64>) = cycle;
    let (_, bn) = cycle();
    row("flow_cycle_dashboard", reps, gens, make_cycle, || {
        RunOptions::new().limit(bn, (gens - 1,))
    });
}
