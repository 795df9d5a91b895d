//! TLS through the loop: round trips, close_notify, and every handshake failure as a clear
//! error.

#[path = "common/net.rs"]
mod common;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use common::{RawTlsClient, TestCert, listener, pattern, read_all, run, tls_error};
use flowloop::net::{BufReader, BufWriter, Line, Requests, TcpStream, TlsAcceptor, TlsConnector, TlsError, TlsStream};
use flowloop::runtime::{Instrument, SocketEvent};
use flowloop::{EventLoop, sleep, spawn, timeout};

async fn read_to_end(s: &mut TlsStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..1_000_000 {
        let n = s.recv(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
    panic!("stream never ended");
}

#[test]
fn tls_round_trips_from_1_byte_to_16_mib_with_close_notify() {
    let cert = TestCert::new(&["localhost"]);
    for len in [1usize, 64, 16_384, 100_000, 1 << 20, 16 << 20] {
        let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
        let ok = run(async move {
            let (mut l, addr) = listener();
            let server = spawn(async move {
                let (tcp, _) = l.accept().await?;
                let mut tls = TlsAcceptor::new(server_cfg).accept(tcp).await?;
                // Ends with Ok(0): the client's close_notify was observed.
                let data = read_to_end(&mut tls).await?;
                tls.send_all(&data).await?;
                tls.close().await
            })
            .await;
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = TlsConnector::new(client_cfg).connect("localhost", tcp).await.unwrap();
            assert_eq!(tls.server_name(), Some("localhost"));
            let payload = pattern(len);
            tls.send_all(&payload).await.unwrap();
            tls.shutdown().await.unwrap();
            let back = read_to_end(&mut tls).await.unwrap();
            server.join().await.unwrap().unwrap();
            back == payload
        });
        assert!(ok, "TLS echo of {len} bytes differs");
    }
}

#[test]
fn tls_ping_pong_many_small_messages() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut tls = TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap();
            assert_eq!(tls.server_name(), Some("localhost"), "SNI reached the server");
            let mut buf = [0u8; 256];
            loop {
                let n = tls.recv(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                tls.send_all(&buf[..n]).await.unwrap();
            }
            tls.close().await.unwrap();
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = TlsConnector::new(client_cfg).connect("localhost", tcp).await.unwrap();
        let mut buf = [0u8; 256];
        for i in 0..1_000u32 {
            let msg = i.to_be_bytes();
            tls.send_all(&msg).await.unwrap();
            let mut got = 0;
            while got < 4 {
                got += tls.recv(&mut buf[got..4]).await.unwrap();
            }
            assert_eq!(buf[..4], msg);
        }
        tls.shutdown().await.unwrap();
        assert_eq!(tls.recv(&mut buf).await.unwrap(), 0, "server's close_notify observed");
        server.join().await.unwrap();
    });
}

/// Runs a handshake between `server_cfg` and `client_cfg`; returns both results.
fn handshake(
    server_cfg: std::sync::Arc<flowloop::net::rustls::ServerConfig>,
    client_cfg: std::sync::Arc<flowloop::net::rustls::ClientConfig>,
    name: &'static str,
) -> (std::io::Result<()>, std::io::Result<()>) {
    run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (tcp, _) = l.accept().await?;
            TlsAcceptor::new(server_cfg).accept(tcp).await.map(|_| ())
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client = TlsConnector::new(client_cfg).connect(name, tcp).await.map(|_| ());
        (server.join().await.unwrap(), client)
    })
}

#[test]
fn untrusted_certificate_is_a_clear_error_on_both_sides() {
    let real = TestCert::new(&["localhost"]);
    let other = TestCert::new(&["localhost"]);
    let (server, client) = handshake(real.server_config(), other.client_config(), "localhost");
    let ce = client.unwrap_err();
    assert_eq!(ce.kind(), ErrorKind::InvalidData);
    assert!(matches!(tls_error(&ce), Some(TlsError::BadCertificate { .. })), "{ce}");
    assert!(ce.to_string().contains("certificate was rejected"), "{ce}");
    let se = server.unwrap_err();
    assert!(matches!(tls_error(&se), Some(TlsError::PeerAlert { .. })), "{se}");
}

#[test]
fn wrong_server_name_is_a_clear_error() {
    let cert = TestCert::new(&["localhost"]);
    let (server, client) = handshake(cert.server_config(), cert.client_config(), "example.com");
    let ce = client.unwrap_err();
    assert!(
        matches!(tls_error(&ce), Some(TlsError::WrongServerName { server_name, .. }) if server_name == "example.com"),
        "{ce}"
    );
    assert!(ce.to_string().contains("example.com"), "{ce}");
    assert!(server.is_err(), "the server sees the client's alert");
}

#[test]
fn invalid_server_name_is_rejected_before_the_handshake() {
    let cert = TestCert::new(&["localhost"]);
    let (_server, client) = handshake(cert.server_config(), cert.client_config(), "not a name!");
    let ce = client.unwrap_err();
    assert_eq!(ce.kind(), ErrorKind::InvalidInput);
    assert!(
        matches!(tls_error(&ce), Some(TlsError::InvalidServerName { .. })),
        "{ce}"
    );
}

#[test]
fn plaintext_client_against_tls_server() {
    let cert = TestCert::new(&["localhost"]);
    let server_cfg = cert.server_config();
    let err = run(async move {
        let (mut l, addr) = listener();
        let client = spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.send_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let mut buf = [0u8; 256];
            // The server answers with an alert or closes; either way the client is not stuck.
            let _ = c.recv(&mut buf).await;
        })
        .await;
        let (tcp, _) = l.accept().await.unwrap();
        let err = TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap_err();
        client.join().await.unwrap();
        err
    });
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(matches!(tls_error(&err), Some(TlsError::NotTls { .. })), "{err}");
    assert!(err.to_string().contains("does not speak TLS"), "{err}");
}

#[test]
fn tls_client_against_plaintext_server() {
    let cert = TestCert::new(&["localhost"]);
    let client_cfg = cert.client_config();
    let err = run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.recv(&mut buf).await.unwrap();
            s.send_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = TlsConnector::new(client_cfg)
            .connect("localhost", tcp)
            .await
            .unwrap_err();
        server.join().await.unwrap();
        err
    });
    assert!(matches!(tls_error(&err), Some(TlsError::NotTls { .. })), "{err}");
}

#[test]
fn client_closing_mid_handshake() {
    let cert = TestCert::new(&["localhost"]);
    let server_cfg = cert.server_config();
    let err = run(async move {
        let (mut l, addr) = listener();
        let c = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = l.accept().await.unwrap();
        drop(c);
        TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(matches!(tls_error(&err), Some(TlsError::HandshakeEof { .. })), "{err}");
    assert!(err.to_string().contains("before the handshake finished"), "{err}");
}

#[test]
fn server_closing_mid_handshake() {
    let cert = TestCert::new(&["localhost"]);
    let client_cfg = cert.client_config();
    let err = run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            // Read the ClientHello, then hang up without answering.
            let mut buf = [0u8; 4096];
            let n = s.recv(&mut buf).await.unwrap();
            assert!(n > 0);
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = TlsConnector::new(client_cfg)
            .connect("localhost", tcp)
            .await
            .unwrap_err();
        server.join().await.unwrap();
        err
    });
    assert!(matches!(tls_error(&err), Some(TlsError::HandshakeEof { .. })), "{err}");
}

#[test]
fn truncation_without_close_notify_is_reported_after_the_data() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    let (data, err) = run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut tls = TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap();
            tls.send_all(b"partial").await.unwrap();
            // Dropped without shutdown(): TCP FIN, no close_notify.
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = TlsConnector::new(client_cfg).connect("localhost", tcp).await.unwrap();
        server.join().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        let err = loop {
            match tls.recv(&mut buf).await {
                Ok(0) => panic!("truncation reported as a clean end"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        (got, err)
    });
    assert_eq!(data, b"partial");
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(matches!(tls_error(&err), Some(TlsError::Truncated { .. })), "{err}");
    assert!(err.to_string().contains("without close_notify"), "{err}");
}

#[test]
fn cancelled_tls_recv_loses_no_data() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    run(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap()
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut c = TlsConnector::new(client_cfg).connect("localhost", tcp).await.unwrap();
        let mut s = server.join().await.unwrap();
        let mut buf = [0u8; 32];
        assert!(timeout(Duration::from_millis(10), c.recv(&mut buf)).await.is_err());
        s.send_all(b"after cancel").await.unwrap();
        let n = c.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after cancel");
    });
}

#[derive(Clone, Default)]
struct Names(Rc<RefCell<Vec<Option<String>>>>);

impl Instrument for Names {
    fn socket_event(&mut self, event: SocketEvent<'_>) {
        if let SocketEvent::TlsHandshake { server_name } = event {
            self.0.borrow_mut().push(server_name.map(str::to_owned));
        }
    }
}

#[test]
fn handshakes_reach_the_instrument() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    let names = Names::default();
    let mut lp = EventLoop::builder().instrument(names.clone()).build().unwrap();
    lp.run_until_complete(async move {
        let (mut l, addr) = listener();
        let server = spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            TlsAcceptor::new(server_cfg).accept(tcp).await.map(|_| ())
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        TlsConnector::new(client_cfg).connect("localhost", tcp).await.unwrap();
        server.join().await.unwrap().unwrap();
    })
    .unwrap();
    let got = names.0.borrow().clone();
    assert_eq!(got, vec![Some("localhost".to_string()), Some("localhost".to_string())]);
}

// ---- Early FIN: the loop has already seen it when the TLS code reads ---------------------

/// Lets the loop block in one OS poll, so every event already queued for our sockets (here:
/// data followed by FIN) has been recorded before the next operation runs.
async fn one_os_poll() {
    sleep(Duration::from_millis(2)).await;
}

#[test]
fn half_a_client_hello_then_fin_is_handshake_eof_even_when_the_fin_was_seen_first() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    let err = run(async move {
        let (mut l, addr) = listener();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut raw = RawTlsClient::new(client_cfg, "localhost", tcp);
        let hello = raw.pending_tls();
        assert!(hello.len() > 20, "a real ClientHello");
        raw.tcp.send_all(&hello[..hello.len() / 2]).await.unwrap();
        raw.tcp.shutdown(std::net::Shutdown::Write).unwrap();
        let (tcp, _) = l.accept().await.unwrap();
        one_os_poll().await;
        TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(matches!(tls_error(&err), Some(TlsError::HandshakeEof { .. })), "{err}");
}

#[test]
fn half_a_record_then_fin_is_truncated_even_when_the_fin_was_seen_first() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    let err = run(async move {
        let (mut l, addr) = listener();
        let tcp = TcpStream::connect(addr).await.unwrap();
        // The cut record goes out only after the server finished its handshake, so the server
        // reads it (and the FIN) in `recv`, not together with the client's Finished.
        let go = Rc::new(flowloop::sync::Event::new());
        let go2 = go.clone();
        let client = spawn(async move {
            let mut raw = RawTlsClient::new(client_cfg, "localhost", tcp);
            raw.handshake().await.unwrap();
            go2.wait().await;
            let record = raw.seal(b"this record is cut in half");
            raw.tcp.send_all(&record[..record.len() / 2]).await.unwrap();
            raw.tcp.shutdown(std::net::Shutdown::Write).unwrap();
            raw
        })
        .await;
        let (tcp, _) = l.accept().await.unwrap();
        let mut tls = TlsAcceptor::new(server_cfg).accept(tcp).await.unwrap();
        go.set();
        let _raw = client.join().await.unwrap();
        one_os_poll().await;
        let mut buf = [0u8; 64];
        tls.recv(&mut buf).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(matches!(tls_error(&err), Some(TlsError::Truncated { .. })), "{err}");
}

// ---- Handshake timeout and task per connection --------------------------------------------

/// The server of the docs: an accept loop that spawns one task per connection; each task
/// handshakes and echoes until the client ends the session.
async fn serve_tls_echo(
    mut l: flowloop::net::TcpListener,
    acceptor: TlsAcceptor,
    conns: usize,
) -> Vec<std::io::Result<()>> {
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (tcp, _) = l.accept().await.unwrap();
        let acceptor = acceptor.clone();
        tasks.push(
            spawn(async move {
                let mut tls = acceptor.accept(tcp).await?;
                let data = read_all(&mut tls).await?;
                tls.send_all(&data).await?;
                tls.shutdown().await
            })
            .await,
        );
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.join().await.unwrap());
    }
    results
}

#[test]
fn a_client_that_never_finishes_its_handshake_does_not_block_the_others() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    let results = run(async move {
        let (l, addr) = listener();
        // Long enough that it cannot fire while the good clients are served.
        let acceptor = TlsAcceptor::new(server_cfg).with_handshake_timeout(Duration::from_secs(3));
        assert_eq!(acceptor.handshake_timeout(), Some(Duration::from_secs(3)));
        let server = spawn(serve_tls_echo(l, acceptor, 4)).await;
        // The first client connects and never says a word.
        let stalled = TcpStream::connect(addr).await.unwrap();
        let connector = TlsConnector::new(client_cfg);
        for i in 0..3 {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = connector.connect("localhost", tcp).await.unwrap();
            let msg = format!("client {i}");
            tls.send_all(msg.as_bytes()).await.unwrap();
            tls.shutdown().await.unwrap();
            assert_eq!(read_all(&mut tls).await.unwrap(), msg.as_bytes());
        }
        assert!(!server.is_finished(), "the stalled handshake is still pending");
        let results = server.join().await.unwrap();
        drop(stalled);
        results
    });
    let (timed_out, served): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.is_err());
    assert_eq!(served.len(), 3, "every good client was served");
    let err = timed_out.into_iter().next().expect("one result").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(
        matches!(tls_error(&err), Some(TlsError::HandshakeTimeout { limit, .. }) if *limit == Duration::from_secs(3)),
        "{err}"
    );
}

#[test]
fn handshake_timeout_closes_the_stalled_connection_on_both_sides() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    run(async move {
        // Server side: a client that sends nothing.
        let (mut l, addr) = listener();
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = l.accept().await.unwrap();
        let limit = Duration::from_millis(100);
        let started = std::time::Instant::now();
        let err = TlsAcceptor::new(server_cfg)
            .with_handshake_timeout(limit)
            .accept(tcp)
            .await
            .unwrap_err();
        assert!(started.elapsed() >= limit, "not before the limit");
        assert!(
            matches!(tls_error(&err), Some(TlsError::HandshakeTimeout { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("handshake timeout"), "{err}");
        let mut buf = [0u8; 16];
        assert_eq!(
            stalled.recv(&mut buf).await.unwrap(),
            0,
            "the server closed the stalled socket"
        );

        // Client side: a server that accepts and never answers.
        let (mut l, addr) = listener();
        let silent = spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            read_all(&mut s).await
        })
        .await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let connector = TlsConnector::new(client_cfg).with_handshake_timeout(limit);
        assert_eq!(connector.handshake_timeout(), Some(limit));
        let err = connector.connect("localhost", tcp).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        let hello = silent.join().await.unwrap().unwrap();
        assert!(
            !hello.is_empty(),
            "the silent server got the ClientHello, then end of stream"
        );
    });
}

// ---- Split halves and buffered IO over TLS ------------------------------------------------

/// A connected TLS pair: (client, server).
async fn tls_pair(cert: &TestCert) -> (TlsStream, TlsStream) {
    let (mut l, addr) = listener();
    let acceptor = TlsAcceptor::new(cert.server_config());
    let server = spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        acceptor.accept(tcp).await.unwrap()
    })
    .await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let client = TlsConnector::new(cert.client_config())
        .connect("localhost", tcp)
        .await
        .unwrap();
    (client, server.join().await.unwrap())
}

#[test]
fn tls_owned_halves_read_and_write_from_two_tasks_at_once() {
    const LEN: usize = 4 << 20;
    let cert = TestCert::new(&["localhost"]);
    run(async move {
        let (client, server) = tls_pair(&cert).await;
        let (mut readers, mut writers) = (Vec::new(), Vec::new());
        for stream in [client, server] {
            let (mut rx, mut tx) = stream.into_split();
            readers.push(spawn(async move { read_all(&mut rx).await.map(|v| (v, rx)) }).await);
            writers.push(
                spawn(async move {
                    tx.send_all(&pattern(LEN)).await?;
                    tx.shutdown().await.map(|()| tx)
                })
                .await,
            );
        }
        let mut halves = Vec::new();
        for (r, w) in readers.into_iter().zip(writers) {
            let tx = w.join().await.unwrap().unwrap();
            let (data, rx) = r.join().await.unwrap().unwrap();
            assert!(data == pattern(LEN), "{} bytes arrived, in order", data.len());
            halves.push((rx, tx));
        }
        let (rx, tx) = halves.pop().expect("two pairs");
        let whole = rx.reunite(tx).unwrap();
        assert_eq!(
            whole.server_name(),
            Some("localhost"),
            "the server side, reunited, keeps the SNI name"
        );
    });
}

#[test]
fn tls_lines_through_buffered_borrowed_halves() {
    let cert = TestCert::new(&["localhost"]);
    run(async move {
        let (mut client, mut server) = tls_pair(&cert).await;
        let peer = spawn(async move {
            let (rx, tx) = server.split();
            let (mut lines, mut out) = (BufReader::new(rx), BufWriter::new(tx));
            let mut line = String::new();
            let mut n = 0;
            while lines.read_line(&mut line).await?.is_complete() {
                out.write_all(format!("{n}: {line}").as_bytes()).await?;
                line.clear();
                n += 1;
            }
            out.flush().await?;
            out.get_mut().shutdown().await?;
            Ok::<_, std::io::Error>(n)
        })
        .await;
        client.send_all(b"alpha\nbeta\ngamma\n").await.unwrap();
        client.shutdown().await.unwrap();
        let mut r = BufReader::new(&mut client);
        let mut got = String::new();
        while r.read_line(&mut got).await.unwrap() != Line::Eof {}
        assert_eq!(got, "0: alpha\n1: beta\n2: gamma\n");
        assert_eq!(peer.join().await.unwrap().unwrap(), 3);
    });
}

#[test]
fn tls_connections_feed_a_request_stream_and_replies_end_with_close_notify() {
    let cert = TestCert::new(&["localhost"]);
    let (server_cfg, client_cfg) = (cert.server_config(), cert.client_config());
    run(async move {
        let (mut l, addr) = listener();
        let acceptor = TlsAcceptor::new(server_cfg).with_handshake_timeout(Duration::from_secs(10));
        let requests: Requests<String> = Requests::new();
        let feed = requests.clone();
        let server = spawn(async move {
            let mut handshakes = Vec::new();
            for _ in 0..2 {
                let (tcp, peer) = l.accept().await.unwrap();
                let (acceptor, feed) = (acceptor.clone(), feed.clone());
                handshakes.push(
                    spawn(async move {
                        let (rx, tx) = acceptor.accept(tcp).await.unwrap().into_split();
                        feed.serve_lines(peer, rx, tx, 1024).await;
                    })
                    .await,
                );
            }
            for h in handshakes {
                h.join().await.unwrap();
            }
            feed.stop_accepting();
            feed.stop_accepting();
        })
        .await;
        let mut clients = Vec::new();
        for i in 0..2 {
            let connector = TlsConnector::new(client_cfg.clone());
            clients.push(
                spawn(async move {
                    let tcp = TcpStream::connect(addr).await.unwrap();
                    let mut tls = connector.connect("localhost", tcp).await.unwrap();
                    tls.send_all(format!("hi {i}\nbye {i}\n").as_bytes()).await.unwrap();
                    tls.shutdown().await.unwrap();
                    // Ok only if the server ended with close_notify (else: Truncated).
                    String::from_utf8(read_all(&mut tls).await.unwrap()).unwrap()
                })
                .await,
            );
        }
        let mut answered = 0;
        while let Some(r) = requests.next().await {
            r.reply.send(format!("{}\n", r.body.to_uppercase())).unwrap();
            answered += 1;
        }
        assert_eq!(answered, 4, "the stream ended after both connections were read");
        for (i, c) in clients.into_iter().enumerate() {
            assert_eq!(c.join().await.unwrap(), format!("HI {i}\nBYE {i}\n"));
        }
        server.join().await.unwrap();
        assert!(requests.connection_errors().is_empty());
    });
}
