//! Socket faults and cancellation: resets, refused and timed-out connects, full send buffers,
//! cancelling tasks blocked in accept / recv / send.

#[path = "common/net.rs"]
mod common;

use std::cell::Cell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{listener, pattern, run};
use flowloop::net::{BufReader, Line, LineTooLong, ReplyError, TcpListener, TcpStream, TlsError};
use flowloop::runtime::CommandKind;
use flowloop::{EventLoop, TaskError, sleep, spawn, timeout};

#[test]
fn peer_reset_while_blocked_in_recv_is_an_error() {
    let err = run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        // The child runs first and parks in recv before we reset the connection.
        let reader = spawn(async move {
            let mut buf = [0u8; 16];
            c.recv(&mut buf).await
        })
        .await;
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
        reader.join().await.unwrap().unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn send_to_a_reset_peer_fails_instead_of_hanging() {
    let err = run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
        let chunk = vec![1u8; 64 * 1024];
        // The first writes may succeed before the reset is seen; bounded attempts.
        for _ in 0..1_000 {
            if let Err(e) = c.send_all(&chunk).await {
                return e;
            }
        }
        panic!("sending to a reset peer never failed");
    });
    assert!(
        matches!(err.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        "unexpected error kind: {err}"
    );
}

#[test]
fn connection_refused_names_the_address() {
    let (err, addr) = run(async {
        let (l, addr) = listener();
        drop(l);
        (TcpStream::connect(addr).await.unwrap_err(), addr)
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn connect_timeout_when_the_accept_queue_is_full() {
    // With a backlog of 0 the kernel queues one connection and then drops further SYNs, so a
    // later connect never completes; it must time out, not hang.
    const LIMIT: Duration = Duration::from_millis(200);
    let (elapsed, kept) = run(async {
        let l = TcpListener::bind_with_backlog("127.0.0.1:0", 0).unwrap();
        let addr = l.local_addr().unwrap();
        let mut kept = Vec::new();
        for _ in 0..16 {
            let start = Instant::now();
            match TcpStream::connect_timeout(addr, LIMIT).await {
                Ok(s) => kept.push(s),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
                    assert!(e.to_string().contains("timed out"), "{e}");
                    return (start.elapsed(), kept.len());
                }
            }
        }
        panic!("16 connects to a full accept queue all succeeded");
    });
    assert!(elapsed >= LIMIT, "timed out early: {elapsed:?}");
    assert!(elapsed < LIMIT * 10, "timed out far too late: {elapsed:?}");
    assert!(kept >= 1, "the first connection fits in the queue");
}

#[test]
fn slow_reader_blocks_the_sender_while_other_tasks_run() {
    const TOTAL: usize = 4 << 20;
    let mut lp = EventLoop::new().unwrap();
    let (ticks_during_send, received) = lp
        .run_until_complete(async {
            let (mut l, addr) = listener();
            let reader = spawn(async move {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = Vec::with_capacity(TOTAL);
                loop {
                    let n = s.recv(&mut buf).await.unwrap();
                    if n == 0 {
                        return got;
                    }
                    got.extend_from_slice(&buf[..n]);
                    sleep(Duration::from_millis(1)).await;
                }
            })
            .await;
            let ticks = Rc::new(Cell::new(0u32));
            let done = Rc::new(Cell::new(false));
            let (t2, d2) = (ticks.clone(), done.clone());
            let ticker = spawn(async move {
                while !d2.get() {
                    t2.set(t2.get() + 1);
                    sleep(Duration::from_millis(1)).await;
                }
            })
            .await;
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.set_send_buffer_size(16 * 1024).unwrap();
            let payload = pattern(TOTAL);
            let before = ticks.get();
            c.send_all(&payload).await.unwrap();
            let during = ticks.get() - before;
            drop(c);
            done.set(true);
            ticker.join().await.unwrap();
            let got = reader.join().await.unwrap();
            (during, got == payload)
        })
        .unwrap();
    assert!(received, "the slow reader got every byte in order");
    assert!(
        ticks_during_send >= 5,
        "other tasks ran while the sender waited: {ticks_during_send} ticks"
    );
    assert!(
        lp.stats().commands_of(CommandKind::Send) >= 1,
        "the sender parked on a full socket"
    );
}

#[test]
fn cancelled_accept_loses_no_connection() {
    run(async {
        let (mut l, addr) = listener();
        let r = timeout(Duration::from_millis(20), l.accept()).await;
        assert!(r.is_err(), "nobody connected yet");
        let _c = TcpStream::connect(addr).await.unwrap();
        let (_s, peer) = timeout(Duration::from_secs(5), l.accept())
            .await
            .expect("accept after cancel")
            .unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.1");
    });
}

#[test]
fn cancelling_a_task_blocked_in_accept_closes_the_listener() {
    run(async {
        let (mut l, addr) = listener();
        let task = spawn(async move { l.accept().await.map(|_| ()) }).await;
        task.cancel().await;
        assert_eq!(task.join().await.map(|_| ()), Err(TaskError::Cancelled));
        // The listener was dropped with its task: the port refuses connections now.
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn cancelled_recv_loses_no_data() {
    run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 16];
        assert!(timeout(Duration::from_millis(10), c.recv(&mut buf)).await.is_err());
        s.send_all(b"late").await.unwrap();
        let n = timeout(Duration::from_secs(5), c.recv(&mut buf))
            .await
            .expect("recv after cancel")
            .unwrap();
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn cancelling_a_task_blocked_in_recv_closes_its_stream() {
    run(async {
        let (mut l, addr) = listener();
        let c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        let task = spawn(async move {
            let mut c = c;
            let mut buf = [0u8; 16];
            c.recv(&mut buf).await
        })
        .await;
        task.cancel().await;
        assert_eq!(task.join().await.map(|_| ()), Err(TaskError::Cancelled));
        let mut buf = [0u8; 16];
        let n = timeout(Duration::from_secs(5), s.recv(&mut buf))
            .await
            .expect("peer sees the close")
            .unwrap();
        assert_eq!(n, 0, "peer reads end of stream");
    });
}

#[test]
fn cancelled_send_sent_exactly_what_it_reported() {
    run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_send_buffer_size(8 * 1024).unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        s.set_recv_buffer_size(8 * 1024).unwrap();
        let chunk = vec![9u8; 32 * 1024];
        let mut sent = 0usize;
        let mut blocked = false;
        for _ in 0..10_000 {
            match timeout(Duration::from_millis(10), c.send(&chunk)).await {
                Ok(n) => sent += n.unwrap(),
                Err(_) => {
                    blocked = true;
                    break;
                }
            }
        }
        assert!(blocked, "the send buffer never filled up");
        let task = spawn(async move {
            // Parks on the full buffer, then is cancelled: a pending send writes nothing.
            c.send(&[1u8; 4096]).await
        })
        .await;
        task.cancel().await;
        assert_eq!(task.join().await.map(|_| ()), Err(TaskError::Cancelled));
        // Exactly the bytes reported as sent arrive, then end of stream (the stream was
        // dropped with its task).
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = s.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, sent, "received {total}, reported sent {sent}");
    });
}

// ---- Buffered reading under faults ---------------------------------------------------------

#[test]
fn peer_reset_mid_line_is_an_io_error_not_a_partial_line() {
    let err = run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        let mut r = BufReader::new(s);
        c.send_all(b"half a li").await.unwrap();
        let mut line = String::new();
        // The partial line is buffered while read_line waits for the rest...
        let reader = spawn(async move { r.read_line(&mut line).await.map(|l| (l, line)) }).await;
        // ...then the peer resets the connection.
        c.set_linger(Some(Duration::ZERO)).unwrap();
        drop(c);
        reader.join().await.unwrap().unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn cancelled_read_line_loses_no_bytes() {
    run(async {
        let (mut l, addr) = listener();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        let mut r = BufReader::new(s.into_split().0);
        c.send_all(b"first ha").await.unwrap();
        let mut line = String::new();
        // Cancelled (timed out) while the line is incomplete: nothing is consumed.
        for _ in 0..3 {
            assert!(timeout(Duration::from_millis(5), r.read_line(&mut line)).await.is_err());
            assert!(line.is_empty());
        }
        c.send_all(b"lf\nsecond\n").await.unwrap();
        assert_eq!(r.read_line(&mut line).await.unwrap(), Line::Complete(11));
        assert_eq!(line, "first half\n");
        let mut rec = Vec::new();
        assert!(
            timeout(Duration::from_millis(5), r.read_until(b'!', &mut rec))
                .await
                .is_err()
        );
        assert!(rec.is_empty(), "a cancelled read_until appends nothing");
        line.clear();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "second\n");
    });
}

#[test]
fn socket_errors_are_send_sync_static_for_boxing_and_anyhow() {
    fn send_sync_static<E: std::error::Error + Send + Sync + 'static>() {}
    send_sync_static::<std::io::Error>();
    send_sync_static::<TlsError>();
    send_sync_static::<LineTooLong>();
    send_sync_static::<ReplyError>();
    // `?` into a boxed error, the anyhow-style use, keeps the inner TLS error reachable.
    fn boxed(e: std::io::Error) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err(e)?
    }
    let peer = "127.0.0.1:1".parse().unwrap();
    let err = boxed(TlsError::HandshakeEof { peer }.into()).unwrap_err();
    let io = err.downcast_ref::<std::io::Error>().expect("an io::Error");
    assert!(io.get_ref().and_then(|e| e.downcast_ref::<TlsError>()).is_some());
    let moved = std::thread::spawn(move || err.to_string()).join().unwrap();
    assert!(moved.contains("127.0.0.1:1"), "{moved}");
}
