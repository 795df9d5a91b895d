//! Socket benches beside tokio's current-thread runtime (tokio-rustls for TLS). Each reported
//! time is wall-clock time per operation: one 64-byte echo round trip, or one handshake + round
//! trip. (`examples/net_profile` reports on-CPU time, which is steadier on a shared machine.)

#[path = "../examples/sched_profile/net_rows.rs"]
mod net_rows;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use net_rows::*;

fn per_client(iters: u64, clients: u64) -> usize {
    iters.div_ceil(clients).max(1) as usize
}

fn tcp(c: &mut Criterion) {
    let mut g = c.benchmark_group("tcp_echo");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("1_client/flowloop", |b| {
        b.iter_custom(|n| flowloop_tcp_echo(1, n as usize).wall)
    });
    g.bench_function("1_client/tokio", |b| {
        b.iter_custom(|n| tokio_tcp_echo(1, n as usize).wall)
    });
    g.bench_function("50_clients/flowloop", |b| {
        b.iter_custom(|n| flowloop_tcp_echo(50, per_client(n, 50)).wall)
    });
    g.bench_function("50_clients/tokio", |b| {
        b.iter_custom(|n| tokio_tcp_echo(50, per_client(n, 50)).wall)
    });
    g.finish();
}

fn tls(c: &mut Criterion) {
    let tls = Tls::new();
    let mut g = c.benchmark_group("tls");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("echo_1_client/flowloop", |b| {
        b.iter_custom(|n| flowloop_tls_echo(&tls, n as usize).wall)
    });
    g.bench_function("echo_1_client/tokio", |b| {
        b.iter_custom(|n| tokio_tls_echo(&tls, n as usize).wall)
    });
    g.bench_function("handshake/flowloop", |b| {
        b.iter_custom(|n| flowloop_tls_handshake(&tls, n as usize).wall)
    });
    g.bench_function("handshake/tokio", |b| {
        b.iter_custom(|n| tokio_tls_handshake(&tls, n as usize).wall)
    });
    g.finish();
}

criterion_group!(benches, tcp, tls);
criterion_main!(benches);
