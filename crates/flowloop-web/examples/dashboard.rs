//! A live flow with its dashboard: a timer-driven counter (a cycle that sleeps 250 ms per
//! generation) feeding a few nodes, running until killed or for `--seconds N`.
//!
//! ```text
//! cargo run --release -p flowloop-web --example dashboard -- [--seconds N] [--hog-every K]
//! ```
//!
//! The first line printed is `dashboard: http://127.0.0.1:PORT/`. With `--hog-every K` the
//! `checksum` node blocks its thread for 1.5 s every K ticks, to show how the page reports a
//! node that hogs the CPU.

use std::io::Write;
use std::time::Duration;

use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

thread_local! {
    static HOG_EVERY: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

async fn tick(previous: u64) -> u64 {
    flowloop::sleep(Duration::from_millis(250)).await;
    previous + 1
}

async fn square(t: u64) -> u64 {
    t * t
}

async fn parity(t: u64) -> String {
    if t % 2 == 0 { "even".into() } else { "odd".into() }
}

async fn slow_sum(sq: u64, t: u64) -> u64 {
    flowloop::sleep(Duration::from_millis(120)).await;
    sq + t
}

async fn checksum(sum: u64, label: String) -> String {
    let every = HOG_EVERY.with(|h| h.get());
    if every > 0 && sum % every == 0 {
        std::thread::sleep(Duration::from_millis(1500)); // hogs the flow's thread on purpose
    }
    format!("{label}:{:x}", sum.wrapping_mul(0x9e37_79b9))
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seconds = arg(&args, "--seconds");
    HOG_EVERY.with(|h| h.set(arg(&args, "--hog-every").unwrap_or(0)));

    let mut b = FlowBuilder::new();
    let back = b.forward::<u64>("tick");
    let t = b.node(tick, (back.or(0),));
    b.define(back, t);
    let sq = b.node(square, (t,));
    let par = b.node(parity, (t,));
    let sum = b.node(slow_sum, (sq, t));
    let check = b.node(checksum, (sum, par));
    let flow = b.build()?;

    let mut lp = EventLoop::new()?;
    let dash = FlowDashboard::start(
        flow,
        &lp,
        ServerConfig::new().sample_every(Duration::from_millis(arg(&args, "--sample-ms").unwrap_or(100))),
    )?;
    dash.watch(t).watch(sq).watch(par).watch(sum).watch(check);
    dash.time_nodes(Duration::from_millis(100));
    println!("dashboard: {}", dash.url());
    std::io::stdout().flush()?;

    let run = dash.run(RunOptions::new());
    let stopper = dash.stopper();
    let end = lp.run_until_complete(async move {
        if let Some(s) = seconds {
            let timer = async move {
                flowloop::sleep(Duration::from_secs(s)).await;
                stopper.stop();
            };
            flowloop::spawn(timer).await.detach();
        }
        run.await
    })??;
    println!("run ended: {end:?}");
    Ok(())
}
