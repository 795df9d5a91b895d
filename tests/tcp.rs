//! TCP through the loop: round trips, many connections, half-close, instrumentation.

#[path = "common/net.rs"]
mod common;

use std::cell::RefCell;
use std::net::Shutdown;
use std::rc::Rc;
use std::time::Duration;

use common::{echo_until_eof, join2, listener, pattern, read_all, run};
use flowloop::net::{
    BufReader, BufWriter, ByteSink, Line, LineServer, LineTooLong, ReplyError, TcpListener, TcpStream,
};
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

// ---- Split halves -------------------------------------------------------------------------

/// Both peers send `LEN` bytes and read `LEN` bytes at the same time, each with a reader task
/// and a writer task on owned halves. Sending everything before reading would deadlock once
/// both send buffers are full, so this only finishes if a read and a write are pending at once.
#[test]
fn owned_halves_read_and_write_from_two_tasks_at_once() {
    const LEN: usize = 8 << 20;
    run(async {
        let (mut l, addr) = listener();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = l.accept().await.unwrap();
        let (mut readers, mut writers) = (Vec::new(), Vec::new());
        for stream in [client, server] {
            let (mut rx, mut tx) = stream.into_split();
            readers.push(spawn(async move { read_all(&mut rx).await }).await);
            writers.push(
                spawn(async move {
                    tx.send_all(&pattern(LEN)).await?;
                    tx.shutdown()
                })
                .await,
            );
        }
        for w in writers {
            w.join().await.unwrap().unwrap();
        }
        for r in readers {
            let data = r.join().await.unwrap().unwrap();
            assert!(data == pattern(LEN), "{} bytes arrived, in order", data.len());
        }
    });
}

#[test]
fn borrowed_halves_poll_a_read_and_a_write_together() {
    const LEN: usize = 4 << 20;
    run(async {
        let (mut l, addr) = listener();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = l.accept().await.unwrap();
        let peer = spawn(async move {
            let (mut rx, mut tx) = server.split();
            let (sent, got) = join2(
                async { tx.send_all(&pattern(LEN)).await.and_then(|()| tx.shutdown()) },
                read_all(&mut rx),
            )
            .await;
            sent.and(got)
        })
        .await;
        let (mut rx, mut tx) = client.split();
        assert_eq!(rx.peer_addr(), addr);
        let (sent, got) = join2(
            async { tx.send_all(&pattern(LEN)).await.and_then(|()| tx.shutdown()) },
            read_all(&mut rx),
        )
        .await;
        sent.unwrap();
        assert!(got.unwrap() == pattern(LEN));
        assert!(peer.join().await.unwrap().unwrap() == pattern(LEN));
    });
}

#[test]
fn write_half_shutdown_half_closes_and_reading_goes_on() {
    run(async {
        let (mut l, addr) = listener();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = l.accept().await.unwrap();
        let (mut rx, mut tx) = client.into_split();
        tx.send_all(b"last words").await.unwrap();
        tx.shutdown().unwrap();
        // The server sees end of stream, then answers; the client's read half still works.
        assert_eq!(read_all(&mut server).await.unwrap(), b"last words");
        server.send_all(b"reply after your FIN").await.unwrap();
        drop(server);
        assert_eq!(read_all(&mut rx).await.unwrap(), b"reply after your FIN");
        // Sending after the half-close fails.
        let err = tx.send_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    });
}

#[test]
fn reunite_gives_the_stream_back_and_refuses_foreign_halves() {
    run(async {
        let (mut l, addr) = listener();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (mut sa, _) = l.accept().await.unwrap();
        let (a_rx, a_tx) = a.into_split();
        let (b_rx, b_tx) = b.into_split();
        let err = a_rx.reunite(b_tx).unwrap_err();
        assert!(err.to_string().contains("two different streams"), "{err}");
        let (a_rx, b_tx) = (err.read, err.write);
        let mut a = a_rx.reunite(a_tx).unwrap();
        let _b = b_rx.reunite(b_tx).unwrap();
        a.send_all(b"whole again").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_all(&mut sa).await.unwrap(), b"whole again");
    });
}

// ---- Buffered reader and writer -----------------------------------------------------------

/// Connects a client to a fresh listener; returns (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let (mut l, addr) = listener();
    let c = TcpStream::connect(addr).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (c, s)
}

#[test]
fn read_line_read_until_and_read_exact_mix_on_one_reader() {
    run(async {
        let (mut c, s) = pair().await;
        let mut r = BufReader::with_capacity(16, s);
        // Pieces arrive one send at a time while the reader waits.
        let writer = spawn(async move {
            for piece in [
                &b"GET / HTTP/1.1\r\nHost: "[..],
                b"x\r\n\r\n",
                b"\x00\x05hello",
                b"k1=v1;k2=v2;tail",
            ] {
                c.send_all(piece).await.unwrap();
                flowloop::yield_now().await;
            }
            c.shutdown(Shutdown::Write).unwrap();
        })
        .await;
        let mut line = String::new();
        assert_eq!(r.read_line(&mut line).await.unwrap(), Line::Complete(16));
        assert_eq!(line, "GET / HTTP/1.1\r\n");
        line.clear();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "Host: x\r\n");
        line.clear();
        assert_eq!(r.read_line(&mut line).await.unwrap(), Line::Complete(2));
        let mut len = [0u8; 2];
        r.read_exact(&mut len).await.unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        r.read_exact(&mut body).await.unwrap();
        assert_eq!(body, b"hello");
        let mut rec = Vec::new();
        assert_eq!(r.read_until(b';', &mut rec).await.unwrap(), Line::Complete(6));
        assert_eq!(r.read_until(b';', &mut rec).await.unwrap(), Line::Complete(6));
        assert_eq!(rec, b"k1=v1;k2=v2;");
        rec.clear();
        let end = r.read_until(b';', &mut rec).await.unwrap();
        assert_eq!((end, end.is_complete(), end.bytes()), (Line::Unterminated(4), false, 4));
        assert_eq!(rec, b"tail");
        assert_eq!(r.read_until(b';', &mut rec).await.unwrap(), Line::Eof);
        writer.join().await.unwrap();
    });
}

#[test]
fn a_line_longer_than_the_limit_is_an_error_naming_the_limit() {
    run(async {
        let (mut c, s) = pair().await;
        let mut r = BufReader::with_capacity(8, s);
        r.set_line_limit(100);
        assert_eq!(r.line_limit(), 100);
        let mut ok = vec![b'a'; 99];
        ok.push(b'\n');
        c.send_all(&ok).await.unwrap();
        let mut long = vec![b'b'; 5_000];
        long.push(b'\n');
        c.send_all(&long).await.unwrap();
        let mut line = String::new();
        assert_eq!(
            r.read_line(&mut line).await.unwrap(),
            Line::Complete(100),
            "exactly the limit is fine"
        );
        line.clear();
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<LineTooLong>())
            .expect("a LineTooLong inside");
        assert_eq!((inner.limit, inner.delimiter), (100, b'\n'));
        assert!(err.to_string().contains("100 bytes"), "{err}");
        assert!(line.is_empty(), "nothing of the long line was appended");
        assert!(
            r.buffer().len() <= 101,
            "the reader buffered at most the limit plus one byte"
        );
    });
}

#[test]
fn read_line_rejects_invalid_utf8_and_read_exact_reports_a_short_stream() {
    run(async {
        let (mut c, s) = pair().await;
        c.send_all(b"\xff\xfe\n12345").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("UTF-8"), "{err}");
        let mut buf = [0u8; 8];
        let err = r.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("after 5 of the 8 bytes"), "{err}");
    });
}

#[test]
fn buffered_reader_over_a_read_half_gives_back_its_buffer() {
    run(async {
        let (mut c, s) = pair().await;
        c.send_all(b"header\nrest of the bytes").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let (rx, tx) = s.into_split();
        let mut r = BufReader::new(rx);
        let mut line = Vec::new();
        assert_eq!(r.read_until(b'\n', &mut line).await.unwrap(), Line::Complete(7));
        assert_eq!(r.get_ref().peer_addr(), tx.peer_addr());
        let buffered = r.buffer().to_vec();
        let (mut rx, mut rest) = r.into_parts();
        assert_eq!(
            rest, buffered,
            "into_parts hands back exactly the unread buffered bytes"
        );
        rest.extend(read_all(&mut rx).await.unwrap());
        assert_eq!(rest, b"rest of the bytes");
        rx.reunite(tx).expect("halves of one stream");
    });
}

#[test]
fn buffered_writer_holds_small_writes_until_flush() {
    run(async {
        let (c, mut s) = pair().await;
        let mut w = BufWriter::with_capacity(64, c);
        w.write_all(b"one ").await.unwrap();
        w.write_all(b"two ").await.unwrap();
        assert_eq!(w.buffer(), b"one two ", "small writes wait in the buffer");
        w.flush().await.unwrap();
        assert!(w.buffer().is_empty());
        // A write larger than the buffer goes out directly, after what was buffered.
        w.write_all(b"three ").await.unwrap();
        w.write_all(&[b'x'; 100]).await.unwrap();
        assert!(w.buffer().is_empty());
        // `send` through the ByteSink trait buffers too.
        assert_eq!(ByteSink::send(&mut w, b" end").await.unwrap(), 4);
        let (mut c, unsent) = w.into_parts();
        assert_eq!(unsent, b" end");
        c.send_all(&unsent).await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut want = b"one two three ".to_vec();
        want.extend_from_slice(&[b'x'; 100]);
        want.extend_from_slice(b" end");
        assert_eq!(read_all(&mut s).await.unwrap(), want);
    });
}

// ---- Request -> flow -> reply helper --------------------------------------------------------

#[test]
fn line_server_replies_go_back_to_their_connection_in_request_order() {
    const CLIENTS: usize = 20;
    run(async {
        let (l, addr) = listener();
        let requests = LineServer::new(l).max_connections(CLIENTS).start().await;
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            clients.push(
                spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    let body: String = (0..5).map(|i| format!("c{c} r{i}\r\n")).collect();
                    s.send_all(body.as_bytes()).await.unwrap();
                    s.shutdown(Shutdown::Write).unwrap();
                    String::from_utf8(read_all(&mut s).await.unwrap()).unwrap()
                })
                .await,
            );
        }
        // Take every request first, then answer them newest first: each connection still gets
        // its replies in request order.
        let mut all = Vec::new();
        while let Some(r) = requests.next().await {
            all.push(r);
        }
        assert_eq!(all.len(), CLIENTS * 5);
        for r in all.iter().rev() {
            r.reply
                .send(format!("{} from {}\n", r.body.to_uppercase(), r.reply.seq()))
                .unwrap();
        }
        let again = all[0].reply.send("twice").unwrap_err();
        assert!(matches!(again, ReplyError::AlreadyAnswered { seq: 0, .. }), "{again}");
        for (c, client) in clients.into_iter().enumerate() {
            let want: String = (0..5).map(|i| format!("C{c} R{i} from {i}\n")).collect();
            assert_eq!(client.join().await.unwrap(), want);
        }
        assert!(requests.connection_errors().is_empty());
    });
}

#[test]
fn line_server_ends_a_connection_with_a_too_long_line_after_its_earlier_replies() {
    run(async {
        let (l, addr) = listener();
        let requests = LineServer::new(l).max_connections(1).line_limit(16).start().await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.send_all(b"short\n").await.unwrap();
        c.send_all(&[b'x'; 100]).await.unwrap();
        let first = requests.next().await.expect("the short line");
        assert_eq!(first.body, "short");
        assert!(
            requests.next().await.is_none(),
            "the long line is not a request; the stream ends"
        );
        first.reply.send("ok\n").unwrap();
        assert_eq!(
            read_all(&mut c).await.unwrap(),
            b"ok\n",
            "the earlier reply, then end of stream"
        );
        let errors = requests.connection_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].peer, c.local_addr().unwrap());
        assert!(
            errors[0].error.get_ref().is_some_and(|e| e.is::<LineTooLong>()),
            "{}",
            errors[0].error
        );
    });
}

#[test]
fn replying_to_a_reset_connection_reports_it_closed() {
    run(async {
        let (l, addr) = listener();
        let requests = LineServer::new(l).max_connections(1).start().await;
        let c = TcpStream::connect(addr).await.unwrap();
        let mut c = BufWriter::new(c);
        c.write_all(b"a\nb\nc\n").await.unwrap();
        c.flush().await.unwrap();
        let reqs = [(); 3].map(|()| requests.next());
        let mut got = Vec::new();
        for r in reqs {
            got.push(r.await.expect("three requests"));
        }
        let (c, _) = c.into_parts();
        c.set_linger(Some(Duration::ZERO)).unwrap();
        drop(c);
        // The first reply is queued; writing it fails on the reset connection, after which
        // replies are refused with a clear error.
        got[0].reply.send("first\n").unwrap();
        let mut errors = Vec::new();
        for _ in 0..1_000 {
            flowloop::yield_now().await;
            errors = requests.connection_errors();
            if !errors.is_empty() {
                break;
            }
        }
        let write_err = &errors.first().expect("the failed write was recorded").error;
        assert!(
            matches!(
                write_err.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ),
            "{write_err}"
        );
        let err = got[1].reply.send("late\n").unwrap_err();
        assert!(matches!(err, ReplyError::ConnectionClosed { seq: 1, .. }), "{err}");
        assert!(err.to_string().contains("is closed"), "{err}");
    });
}
