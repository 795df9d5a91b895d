//! Prints the network rows of the scheduling profile on their own (the full table is printed
//! by `examples/sched_profile`). `--quick` uses small sizes.
//!
//! Run with `cargo run --release --example net_profile [-- --quick]`.

#[path = "sched_profile/net_rows.rs"]
mod net_rows;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    for (name, fl, tk) in net_rows::rows(quick) {
        println!("{name} flowloop_ns={fl:.1} tokio_ns={tk:.1} ratio={:.3}", fl / tk);
    }
}
