//! Builds and runs a chain of 1,000,000 nodes; prints build time, run time and peak RSS.
//!
//! `cargo run --release --example flow_million [nodes]`

use std::time::Instant;

use flowloop::flow::{FlowBuilder, RunOptions};

async fn inc(x: i64) -> i64 {
    x + 1
}

/// Peak resident set size (VmHWM) in KiB, from /proc/self/status.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..n {
        last = b.node(inc, (last,));
    }
    let mut flow = match b.build() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("build failed: {e}");
            std::process::exit(1);
        }
    };
    let built = t.elapsed();
    let t = Instant::now();
    if let Err(e) = flow.run_until_complete(RunOptions::new()) {
        eprintln!("run failed: {e}");
        std::process::exit(1);
    }
    let ran = t.elapsed();
    let value = flow.value(last);
    println!("nodes={n} value={value:?}");
    println!(
        "build_ms={:.1} run_ms={:.1} total_ms={:.1} run_ns_per_node={:.1}",
        built.as_secs_f64() * 1e3,
        ran.as_secs_f64() * 1e3,
        (built + ran).as_secs_f64() * 1e3,
        ran.as_nanos() as f64 / n as f64
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak_rss_mib={:.1}", kib as f64 / 1024.0),
        None => println!("peak_rss_mib=unknown (no /proc/self/status)"),
    }
    if value != Some(n as i64) {
        eprintln!("wrong value: expected {n}");
        std::process::exit(1);
    }
}
