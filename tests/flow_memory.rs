//! Memory per node stays bounded however many generations run (FLOW_SEMANTICS improvement 4).
//!
//! This file holds a single test so that no other test allocates in the same process while the
//! resident set size is compared.

use flowloop::flow::{FlowBuilder, Generation, RunOptions};

async fn inc(x: u64) -> u64 {
    x + 1
}

async fn id(x: u64) -> u64 {
    x
}

/// Resident set size in KiB, from /proc/self/status.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

#[test]
fn a_long_cycle_does_not_grow_memory() {
    let mut b = FlowBuilder::new();
    let back = b.forward::<u64>("b");
    let a = b.node(inc, (back.or(0),));
    let bb = b.node(id, (a,));
    b.define(back, bb);
    let mut flow = b.build().expect("valid flow");

    // Warm up: every buffer the run needs reaches its working size.
    flow.run_until_complete(RunOptions::new().limit(bb, (20_000,)))
        .expect("first run");
    let before = rss_kib();
    // 200,000 more generations. Keeping even 8 bytes per generation would add > 1.5 MiB.
    flow.run_until_complete(RunOptions::new().limit(bb, (220_000,)))
        .expect("second run");
    let after = rss_kib();

    assert_eq!(flow.value(bb), Some(220_001));
    assert_eq!(flow.generation(bb), Some(Generation::finished(220_000)));
    let grown = after.saturating_sub(before);
    assert!(
        grown < 1024,
        "RSS grew by {grown} KiB over 200,000 generations ({before} -> {after} KiB)"
    );
}
