//! Time from a node's status change to the browser's DOM showing it, over 100 changes.
//!
//! ```text
//! cargo run --release -p flowloop-web --example dom_latency -- [--samples N] [--sample-ms M]
//! ```
//!
//! Runs a cycle node that publishes a new generation every 130 ms whose value is the wall-clock
//! time of the change, opens the dashboard in headless Chromium (tests/browser/latency.mjs,
//! after `npm ci` there) and prints `dom_latency samples=N p50_ms=.. p99_ms=.. max_ms=..`. The
//! sampler's interval (default 100 ms) bounds the latency from above.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn pulse(_previous: u64) -> u64 {
    flowloop::sleep(Duration::from_millis(130)).await;
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let samples = arg(&args, "--samples").unwrap_or(100);
    let sample_ms = arg(&args, "--sample-ms").unwrap_or(100);
    let mut b = FlowBuilder::new();
    let back = b.forward::<u64>("pulse");
    let p = b.node(pulse, (back.or(0),));
    b.define(back, p);
    let flow = b.build()?;
    let key = flow.name(p);
    let mut lp = EventLoop::new()?;
    let config = ServerConfig::new().sample_every(Duration::from_millis(sample_ms));
    let dash = FlowDashboard::start(flow, &lp, config)?;
    dash.watch(p);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/latency.mjs");
    let mut child = Command::new("node")
        .args([script, &dash.url(), &key, &samples.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stopper = dash.stopper();
    let watcher = std::thread::spawn(move || {
        use std::io::BufRead;
        let line = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("LATENCY "));
        let _ = child.wait();
        line
    });
    let run = dash.run(RunOptions::new());
    lp.run_until_complete(async move {
        let poll_done = async move {
            while !watcher.is_finished() {
                flowloop::sleep(Duration::from_millis(50)).await;
            }
            stopper.stop();
            watcher.join().ok().flatten()
        };
        let done = flowloop::spawn(poll_done).await;
        let _ = run.await;
        match done.join().await {
            Ok(Some(line)) => {
                let v: serde_json::Value = serde_json::from_str(&line["LATENCY ".len()..]).unwrap_or_default();
                println!(
                    "dom_latency samples={} p50_ms={} p99_ms={} max_ms={} sample_every_ms={sample_ms}",
                    v["samples"], v["p50_ms"], v["p99_ms"], v["max_ms"]
                );
            }
            _ => eprintln!("dom_latency: the browser script gave no result (is chromium installed, npm ci done?)"),
        }
    })?;
    Ok(())
}
