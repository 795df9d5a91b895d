//! TLS through the loop: round trips, close_notify, and every handshake failure as a clear
//! error.

#[path = "common/net.rs"]
mod common;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use common::{TestCert, listener, pattern, run, tls_error};
use flowloop::net::{TcpStream, TlsAcceptor, TlsConnector, TlsError, TlsStream};
use flowloop::runtime::{Instrument, SocketEvent};
use flowloop::{EventLoop, spawn, timeout};

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
