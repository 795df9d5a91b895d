//! Prints the network rows of the scheduling profile on their own (the full table is printed
//! by `examples/sched_profile`). `--quick` uses small sizes. `--run WORKLOAD RUNTIME N` runs one
//! side alone (for `strace -c -f`), e.g. `--run tcp_echo_1 flowloop 20000`.
//!
//! Run with `cargo run --release -p flowloop-benches --example net_profile [-- --quick]`.

#[path = "sched_profile/net_rows.rs"]
mod net_rows;

use net_rows::*;

fn run_one(workload: &str, runtime: &str, n: usize) -> Option<Measured> {
    let tls = Tls::new();
    Some(match (workload, runtime) {
        ("tcp_echo_1", "flowloop") => flowloop_tcp_echo(1, n),
        ("tcp_echo_1", "tokio") => tokio_tcp_echo(1, n),
        ("tcp_echo_50", "flowloop") => flowloop_tcp_echo(50, n / 50),
        ("tcp_echo_50", "tokio") => tokio_tcp_echo(50, n / 50),
        ("tls_echo_1", "flowloop") => flowloop_tls_echo(&tls, n),
        ("tls_echo_1", "tokio") => tokio_tls_echo(&tls, n),
        ("tls_handshake", "flowloop") => flowloop_tls_handshake(&tls, n),
        ("tls_handshake", "tokio") => tokio_tls_handshake(&tls, n),
        _ => return None,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--run") {
        let (w, r) = (
            args.get(i + 1).map_or("", String::as_str),
            args.get(i + 2).map_or("", String::as_str),
        );
        let n = args.get(i + 3).and_then(|s| s.parse().ok()).unwrap_or(20_000);
        match run_one(w, r, n) {
            Some(m) => println!(
                "{w} {r} n={n} wall_ns_per_op={:.1} cpu_ns_per_op={:.1}",
                m.wall.as_nanos() as f64 / n as f64,
                m.cpu.as_nanos() as f64 / n as f64
            ),
            None => {
                eprintln!("unknown workload/runtime: {w} {r}");
                std::process::exit(2);
            }
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    for (name, fl, tk) in rows(quick) {
        println!("{name} flowloop_ns={fl:.1} tokio_ns={tk:.1} ratio={:.3}", fl / tk);
    }
}
