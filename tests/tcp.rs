//! TCP through the loop: round trips, many connections, half-close, instrumentation.

#[path = "common/net.rs"]
mod common;

use std::cell::RefCell;
use std::net::Shutdown;
use std::rc::Rc;

use common::{echo_until_eof, listener, pattern, run};
use flowloop::net::{TcpListener, TcpStream};
use flowloop::runtime::{CommandKind, Instrument, SocketEvent};
use flowloop::sync::CountdownLatch;
use flowloop::{EventLoop, spawn};

/// Reads until end of stream.
async fn read_to_end(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = s.recv(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Server: read everything until the client half-closes, send it back, close.
async fn echo_after_eof(mut l: TcpListener) -> std::io::Result<()> {
    let (mut s, _) = l.accept().await?;
    let data = read_to_end(&mut s).await?;
    s.send_all(&data).await
}

#[test]
fn round_trips_from_1_byte_to_16_mib() {
    for len in [1usize, 64, 4096, 65_543, 1 << 20, 16 << 20] {
        let got = run(async move {
            let (l, addr) = listener();
            let server = spawn(echo_after_eof(l)).await;
            let mut c = TcpStream::connect(addr).await.unwrap();
            let payload = pattern(len);
            c.send_all(&payload).await.unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            let back = read_to_end(&mut c).await.unwrap();
            server.join().await.unwrap().unwrap();
            back == payload
        });
        assert!(got, "echo of {len} bytes differs");
    }
}

#[test]
fn ping_pong_many_small_messages() {
    run(async {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            echo_until_eof(&mut s, 64).await;
        })
        .await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        let mut buf = [0u8; 64];
        for i in 0..2_000u32 {
            let msg = i.to_le_bytes();
            c.send_all(&msg).await.unwrap();
            let mut got = 0;
            while got < 4 {
                got += c.recv(&mut buf[got..4]).await.unwrap();
            }
            assert_eq!(buf[..4], msg);
        }
        drop(c);
        server.join().await.unwrap();
    });
}

#[test]
fn thousand_concurrent_connections_on_one_loop() {
    const N: usize = 1_000;
    let served = run(async {
        let l = TcpListener::bind_with_backlog("127.0.0.1:0", N as u32).unwrap();
        let addr = l.local_addr().unwrap();
        let open = Rc::new(RefCell::new((0usize, 0usize))); // (currently open, max open)
        let open2 = open.clone();
        // Clients start their round trips only once every handler is running.
        let all_served = Rc::new(CountdownLatch::new(N));
        let served2 = all_served.clone();
        let server = spawn(async move {
            let mut l = l;
            let mut handlers = Vec::new();
            for _ in 0..N {
                let (mut s, _) = l.accept().await.unwrap();
                let open = open2.clone();
                let served = served2.clone();
                handlers.push(
                    spawn(async move {
                        {
                            let mut o = open.borrow_mut();
                            o.0 += 1;
                            o.1 = o.1.max(o.0);
                        }
                        served.count_down();
                        echo_until_eof(&mut s, 128).await;
                        open.borrow_mut().0 -= 1;
                    })
                    .await,
                );
            }
            for h in handlers {
                h.join().await.unwrap();
            }
        })
        .await;
        // Every client connects, then waits until all N are being served before its round trip.
        let mut clients = Vec::new();
        for i in 0..N {
            let latch = all_served.clone();
            clients.push(
                spawn(async move {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    latch.wait().await;
                    let msg = format!("client {i}");
                    c.send_all(msg.as_bytes()).await.unwrap();
                    let mut buf = [0u8; 128];
                    let mut got = 0;
                    while got < msg.len() {
                        got += c.recv(&mut buf[got..]).await.unwrap();
                    }
                    assert_eq!(&buf[..got], msg.as_bytes());
                })
                .await,
            );
        }
        for c in clients {
            c.join().await.unwrap();
        }
        server.join().await.unwrap();
        open.take()
    });
    assert_eq!(served.0, 0, "every handler finished");
    assert_eq!(served.1, N, "all connections were open at the same time");
}

#[test]
fn half_close_gives_eof_and_keeps_the_other_direction() {
    run(async {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let req = read_to_end(&mut s).await.unwrap();
            // The client's write side is closed, ours still works.
            s.send_all(b"got ").await.unwrap();
            s.send_all(&req).await.unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            // Reads keep returning end of stream.
            let mut buf = [0u8; 8];
            assert_eq!(s.recv(&mut buf).await.unwrap(), 0);
        })
        .await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.send_all(b"request").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&mut c).await.unwrap(), b"got request");
        let mut buf = [0u8; 8];
        assert_eq!(c.recv(&mut buf).await.unwrap(), 0, "EOF is sticky");
        server.join().await.unwrap();
    });
}

#[test]
fn addresses_and_options() {
    run(async {
        let (mut l, addr) = listener();
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_ne!(addr.port(), 0);
        let c = TcpStream::connect(addr).await.unwrap();
        let (s, peer) = l.accept().await.unwrap();
        assert_eq!(c.peer_addr().unwrap(), addr);
        assert_eq!(c.local_addr().unwrap(), peer);
        assert_eq!(s.peer_addr().unwrap(), peer);
        assert_eq!(s.local_addr().unwrap(), addr);
        s.set_nodelay(false).unwrap();
        assert!(!s.nodelay().unwrap());
        c.close();
    });
}

#[test]
fn bind_reports_address_in_use_with_the_address() {
    run(async {
        let (_l, addr) = listener();
        let err = TcpListener::bind(addr).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn sockets_outside_a_loop_are_an_error_not_a_panic() {
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("outside a running EventLoop"), "{err}");
}

#[test]
fn socket_of_another_loop_is_rejected() {
    let mut a = EventLoop::new().unwrap();
    let l = a
        .run_until_complete(async { TcpListener::bind("127.0.0.1:0").unwrap() })
        .unwrap();
    let mut b = EventLoop::new().unwrap();
    let err = b
        .run_until_complete(async move {
            let mut l = l;
            l.accept().await.map(|_| ()).unwrap_err()
        })
        .unwrap();
    assert!(err.to_string().contains("other than the one that created it"), "{err}");
}

#[derive(Clone, Default)]
struct Recorder(Rc<RefCell<Vec<String>>>);

impl Instrument for Recorder {
    fn socket_event(&mut self, event: SocketEvent<'_>) {
        let name = match event {
            SocketEvent::Connected { .. } => "connected".to_string(),
            SocketEvent::Accepted { .. } => "accepted".to_string(),
            SocketEvent::Received { bytes } => format!("recv {bytes}"),
            SocketEvent::Sent { bytes } => format!("sent {bytes}"),
            SocketEvent::TlsHandshake { .. } => "tls".to_string(),
            SocketEvent::Closed => "closed".to_string(),
            _ => "other".to_string(),
        };
        self.0.borrow_mut().push(name);
    }
}

#[test]
fn socket_events_reach_the_instrument_and_commands_are_counted() {
    let rec = Recorder::default();
    let mut lp = EventLoop::builder().instrument(rec.clone()).build().unwrap();
    lp.run_until_complete(async {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 16];
            let n = s.recv(&mut buf).await.unwrap();
            s.send_all(&buf[..n]).await.unwrap();
        })
        .await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.send_all(b"hello").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(c.recv(&mut buf).await.unwrap(), 5);
        server.join().await.unwrap();
    })
    .unwrap();
    let ev = rec.0.borrow().clone();
    for want in ["connected", "accepted", "sent 5", "recv 5", "closed"] {
        assert!(ev.iter().any(|e| e == want), "missing {want:?} in {ev:?}");
    }
    // Listener, server stream, client stream.
    assert_eq!(ev.iter().filter(|e| *e == "closed").count(), 3, "{ev:?}");
    let stats = lp.stats();
    assert!(stats.commands_of(CommandKind::Accept) >= 1);
    assert!(stats.commands_of(CommandKind::Connect) >= 1);
    assert!(stats.commands_of(CommandKind::Recv) >= 1);
}

#[test]
fn echo_round_trip_costs_one_recv_wait_per_message() {
    // Each message: the reader finds the socket drained after the previous short read, so it
    // waits exactly once (no failed read first, no second wait).
    const ROUNDS: u64 = 500;
    let mut lp = EventLoop::new().unwrap();
    lp.run_until_complete(async {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            echo_until_eof(&mut s, 256).await;
        })
        .await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        let mut buf = [0u8; 256];
        for _ in 0..ROUNDS {
            c.send_all(&[7u8; 64]).await.unwrap();
            let mut got = 0;
            while got < 64 {
                got += c.recv(&mut buf).await.unwrap();
            }
        }
        drop(c);
        server.join().await.unwrap();
    })
    .unwrap();
    let recv_waits = lp.stats().commands_of(CommandKind::Recv);
    assert!(
        recv_waits >= ROUNDS,
        "client waits at least once per reply: {recv_waits}"
    );
    assert!(
        recv_waits <= 2 * ROUNDS + 10,
        "at most one wait per message per side: {recv_waits}"
    );
    assert_eq!(lp.stats().commands_of(CommandKind::Send), 0, "64-byte sends never wait");
}
