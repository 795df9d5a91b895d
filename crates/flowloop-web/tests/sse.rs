//! Server-Sent Events over a plain `std::net::TcpStream`: framing, `Last-Event-ID`, 200
//! concurrent clients, and a client that never reads.

mod common;

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use flowloop::EventLoop;
use flowloop::flow::FlowBuilder;
use flowloop_web::{FlowDashboard, Limits, ServerConfig};

async fn step(x: u64) -> u64 {
    flowloop::sleep(Duration::from_millis(5)).await;
    x + 1
}

/// Runs a ticking cycle of `width` parallel counters under a dashboard on its own thread for
/// `duration`; sends the address, then the run's result.
fn ticking(
    config: ServerConfig,
    width: usize,
    duration: Duration,
) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let mut b = FlowBuilder::new();
        for _ in 0..width {
            let back = b.forward::<u64>("step");
            let n = b.node(step, (back.or(0),));
            b.define(back, n);
        }
        let mut lp = EventLoop::new().unwrap();
        let dash = FlowDashboard::start(b.build().unwrap(), &lp, config).unwrap();
        tx.send(dash.addr()).unwrap();
        run_for(&dash, &mut lp, duration);
    });
    (rx.recv().unwrap(), t)
}

/// The first frame that carries a snapshot. A client that connects before the flow's first
/// publication has crossed to the server thread gets the server's own frame first (snapshot
/// `null`), then the snapshot as soon as it arrives.
fn first_snapshot(r: &mut std::io::BufReader<std::net::TcpStream>) -> (u64, serde_json::Value) {
    for _ in 0..50 {
        let (id, data) = next_event(r);
        if data["snapshot"].is_object() {
            return (id, data);
        }
    }
    panic!("no snapshot in the first 50 frames");
}

#[test]
fn an_event_stream_starts_with_the_current_snapshot_and_follows_the_run() {
    let (addr, runner) = ticking(ServerConfig::new(), 2, Duration::from_millis(1500));
    let mut r = open_events(addr, "");
    let (first, data) = first_snapshot(&mut r);
    assert!(data["snapshot"].is_object());
    let mut last = first;
    let mut saw_running = false;
    for _ in 0..200 {
        let (id, data) = next_event(&mut r);
        assert!(id > last, "ids increase: {id} after {last}");
        last = id;
        let state = data["snapshot"]["state"].as_str().unwrap().to_string();
        saw_running |= state == "running";
        if state == "stopped" {
            let runs = data["snapshot"]["nodes"][0]["runs"].as_u64().unwrap();
            assert!(runs > 1, "the counter ran: {runs}");
            break;
        }
    }
    assert!(saw_running);
    runner.join().unwrap();
}

#[test]
fn a_reconnect_with_last_event_id_gets_a_fresh_snapshot_at_once() {
    let (dash, _lp) = dashboard(ServerConfig::new());
    let (id, _) = first_snapshot(&mut open_events(dash.addr(), ""));
    for last in [id, 0, 999_999] {
        let mut r = open_events(dash.addr(), &format!("Last-Event-ID: {last}\r\n"));
        let (again, data) = next_event(&mut r);
        assert_eq!(again, id, "the current frame, not a replay nor a wait");
        assert_eq!(data["snapshot"]["state"], "idle");
    }
}

#[test]
fn two_hundred_concurrent_clients_all_follow_the_stream() {
    let mut limits = Limits::default();
    limits.max_connections = 400;
    let (addr, runner) = ticking(ServerConfig::new().limits(limits), 3, Duration::from_millis(2500));
    let mut clients: Vec<_> = (0..200).map(|_| open_events(addr, "")).collect();
    let firsts: Vec<u64> = clients.iter_mut().map(|c| next_event(c).0).collect();
    for (c, first) in clients.iter_mut().zip(firsts) {
        let (id, data) = next_event(c);
        assert!(id > first);
        assert!(data["snapshot"]["nodes"].as_array().unwrap().len() == 3);
    }
    drop(clients);
    runner.join().unwrap();
}

#[test]
fn a_client_that_never_reads_is_dropped_and_others_keep_getting_frames() {
    let mut limits = Limits::default();
    limits.write_timeout = Duration::from_millis(300);
    let config = ServerConfig::new()
        .limits(limits)
        .sample_every(Duration::from_millis(2));
    // 400 nodes make ~60 kB frames, 500 of them a second: the stuck client's buffers fill fast.
    let (addr, runner) = ticking(config, 400, Duration::from_secs(6));
    let stuck = open_events(addr, "");
    let mut reader = open_events(addr, "");
    let t = Instant::now();
    let mut frames = 0;
    while t.elapsed() < Duration::from_secs(3) {
        next_event(&mut reader);
        frames += 1;
    }
    assert!(frames > 10, "the reading client kept getting frames: {frames}");
    // Now read the stuck one: it holds only what the kernel buffered, then ends.
    let mut stuck = stuck.into_inner();
    stuck.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = loop {
        match stuck.read(&mut buf) {
            Ok(0) => break "closed",
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break "reset",
            Err(e) => panic!("the stuck client was never dropped ({e}) after {total} bytes"),
            Ok(n) => total += n,
        }
        assert!(total < 256 << 20, "the server kept writing to a stuck client");
    };
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "dropped while the run still published ({ended})"
    );
    drop(reader);
    runner.join().unwrap();
}
