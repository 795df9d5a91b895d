//! Benchmarks for flowloop beside tokio's current-thread runtime.
//!
//! This crate holds no library code: the criterion benches live in `benches/` and the
//! `sched_profile` table (one row per workload, flowloop beside the reference) in
//! `examples/sched_profile`. Run it with
//! `cargo run --release -p flowloop-benches --example sched_profile`.
#![forbid(unsafe_code)]
