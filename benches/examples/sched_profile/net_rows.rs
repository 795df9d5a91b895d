//! Network rows of the scheduling profile, and the workloads shared with `benches/net.rs`:
//! TCP echo of 64-byte messages (1 client and 50 clients), TLS echo, and TLS handshake plus
//! one round trip — each on flowloop and on tokio's current-thread runtime (tokio-rustls for
//! TLS), both with the same rustls configs (ring provider).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

// Also loaded by flow_rows: each binary includes the providers it needs by `#[path]`.
#[allow(clippy::duplicate_mod)]
#[path = "cpu_clock.rs"]
mod cpu_clock;
pub use cpu_clock::{Measured, Stopwatch};

use flowloop::net::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use flowloop::net::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use flowloop::net::{TcpListener, TcpStream, TlsAcceptor, TlsConnector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Size of every echo message.
pub const MSG: usize = 64;

/// A self-signed certificate; every run builds fresh configs from it, so no TLS session cache
/// is shared between runs or runtimes.
pub struct Tls {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Tls {
    pub fn new() -> Tls {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
        Tls {
            cert: ck.cert.der().clone(),
            key: ck.signing_key.serialize_der(),
        }
    }

    pub fn configs(&self) -> (Arc<ServerConfig>, Arc<ClientConfig>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .expect("cert");
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).expect("root");
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }
}

// ---------------------------------------------------------------- flowloop

async fn fl_round_trips<S: FlEcho>(conn: &mut S, rounds: usize) {
    let msg = [7u8; MSG];
    // A buffer larger than the reply: a short read tells the reader the socket is drained.
    let mut buf = [0u8; 4096];
    for _ in 0..rounds {
        conn.send_all(&msg).await;
        let mut got = 0;
        while got < MSG {
            got += conn.recv(&mut buf).await;
        }
    }
}

/// The two socket types behind one tiny interface, so each workload is written once.
trait FlEcho {
    async fn send_all(&mut self, b: &[u8]);
    async fn recv(&mut self, b: &mut [u8]) -> usize;
}

impl FlEcho for TcpStream {
    async fn send_all(&mut self, b: &[u8]) {
        TcpStream::send_all(self, b).await.expect("send")
    }
    async fn recv(&mut self, b: &mut [u8]) -> usize {
        TcpStream::recv(self, b).await.expect("recv")
    }
}

impl FlEcho for flowloop::net::TlsStream {
    async fn send_all(&mut self, b: &[u8]) {
        flowloop::net::TlsStream::send_all(self, b).await.expect("send")
    }
    async fn recv(&mut self, b: &mut [u8]) -> usize {
        flowloop::net::TlsStream::recv(self, b).await.expect("recv")
    }
}

async fn fl_echo_server<S: FlEcho>(mut s: S) -> S {
    let mut buf = [0u8; 4096];
    loop {
        let n = s.recv(&mut buf).await;
        if n == 0 {
            return s;
        }
        s.send_all(&buf[..n]).await;
    }
}

/// `clients` connections × `rounds` round trips; returns the time of the round-trip phase.
pub fn flowloop_tcp_echo(clients: usize, rounds: usize) -> Measured {
    flowloop::run(async move {
        let mut l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = flowloop::spawn(async move {
            for _ in 0..clients {
                let (s, _) = l.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                flowloop::spawn(fl_echo_server(s)).await.detach();
            }
        })
        .await;
        let mut conns = Vec::new();
        for _ in 0..clients {
            let c = TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            conns.push(c);
        }
        server.join().await.unwrap();
        let start = Stopwatch::start();
        let mut tasks = Vec::new();
        for mut c in conns {
            tasks.push(flowloop::spawn(async move { fl_round_trips(&mut c, rounds).await }).await);
        }
        for t in tasks {
            t.join().await.unwrap();
        }
        start.stop()
    })
    .unwrap()
}

/// One TLS connection × `rounds` round trips.
pub fn flowloop_tls_echo(tls: &Tls, rounds: usize) -> Measured {
    let (server_cfg, client_cfg) = tls.configs();
    flowloop::run(async move {
        let mut l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = flowloop::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let tls = TlsAcceptor::new(server_cfg).accept(s).await.unwrap();
            let mut tls = fl_echo_server(tls).await;
            tls.shutdown().await.unwrap();
        })
        .await;
        let c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        let mut c = TlsConnector::new(client_cfg).connect("localhost", c).await.unwrap();
        let start = Stopwatch::start();
        fl_round_trips(&mut c, rounds).await;
        let elapsed = start.stop();
        c.shutdown().await.unwrap();
        server.join().await.unwrap();
        elapsed
    })
    .unwrap()
}

/// `n` × (connect, TLS handshake, one round trip, close_notify).
pub fn flowloop_tls_handshake(tls: &Tls, n: usize) -> Measured {
    let (server_cfg, client_cfg) = tls.configs();
    flowloop::run(async move {
        let mut l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let acceptor = TlsAcceptor::new(server_cfg);
        flowloop::spawn(async move {
            for _ in 0..n {
                let (s, _) = l.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                let acceptor = acceptor.clone();
                flowloop::spawn(async move {
                    let tls = acceptor.accept(s).await.unwrap();
                    let mut tls = fl_echo_server(tls).await;
                    tls.shutdown().await.unwrap();
                })
                .await
                .detach();
            }
        })
        .await
        .detach();
        let connector = TlsConnector::new(client_cfg);
        let start = Stopwatch::start();
        for _ in 0..n {
            let c = TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            let mut c = connector.connect("localhost", c).await.unwrap();
            fl_round_trips(&mut c, 1).await;
            c.shutdown().await.unwrap();
        }
        start.stop()
    })
    .unwrap()
}

// ---------------------------------------------------------------- tokio

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn tk_round_trips<S: AsyncReadExt + AsyncWriteExt + Unpin>(conn: &mut S, rounds: usize) {
    let msg = [7u8; MSG];
    let mut buf = [0u8; 4096];
    for _ in 0..rounds {
        conn.write_all(&msg).await.unwrap();
        let mut got = 0;
        while got < MSG {
            got += conn.read(&mut buf).await.unwrap();
        }
    }
}

async fn tk_echo_server<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut s: S) -> S {
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            return s;
        }
        s.write_all(&buf[..n]).await.unwrap();
    }
}

/// tokio counterpart of [`flowloop_tcp_echo`].
pub fn tokio_tcp_echo(clients: usize, rounds: usize) -> Measured {
    tokio_rt().block_on(async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            for _ in 0..clients {
                let (s, _) = l.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::spawn(tk_echo_server(s));
            }
        });
        let mut conns = Vec::new();
        for _ in 0..clients {
            let c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            conns.push(c);
        }
        server.await.unwrap();
        let start = Stopwatch::start();
        let mut tasks = Vec::new();
        for mut c in conns {
            tasks.push(tokio::spawn(async move { tk_round_trips(&mut c, rounds).await }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        start.stop()
    })
}

/// tokio + tokio-rustls counterpart of [`flowloop_tls_echo`].
pub fn tokio_tls_echo(tls: &Tls, rounds: usize) -> Measured {
    let (server_cfg, client_cfg) = tls.configs();
    tokio_rt().block_on(async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let tls = tokio_rustls::TlsAcceptor::from(server_cfg).accept(s).await.unwrap();
            let mut tls = tk_echo_server(tls).await;
            tls.shutdown().await.unwrap();
        });
        let c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut c = tokio_rustls::TlsConnector::from(client_cfg)
            .connect(name, c)
            .await
            .unwrap();
        let start = Stopwatch::start();
        tk_round_trips(&mut c, rounds).await;
        let elapsed = start.stop();
        c.shutdown().await.unwrap();
        server.await.unwrap();
        elapsed
    })
}

/// tokio + tokio-rustls counterpart of [`flowloop_tls_handshake`].
pub fn tokio_tls_handshake(tls: &Tls, n: usize) -> Measured {
    let (server_cfg, client_cfg) = tls.configs();
    tokio_rt().block_on(async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(server_cfg);
        tokio::spawn(async move {
            for _ in 0..n {
                let (s, _) = l.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let tls = acceptor.accept(s).await.unwrap();
                    let mut tls = tk_echo_server(tls).await;
                    tls.shutdown().await.unwrap();
                });
            }
        });
        let connector = tokio_rustls::TlsConnector::from(client_cfg);
        let start = Stopwatch::start();
        for _ in 0..n {
            let c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut c = connector.connect(name, c).await.unwrap();
            tk_round_trips(&mut c, 1).await;
            c.shutdown().await.unwrap();
        }
        start.stop()
    })
}

// ---------------------------------------------------------------- rows

fn ns_per_op(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops.max(1) as f64
}

/// Runs both sides `reps` times, interleaved (alternating which goes first, so drift on a
/// shared machine hits both alike); returns the median on-CPU ns/op of each.
fn measure(reps: usize, ops: usize, mut fl: impl FnMut() -> Measured, mut tk: impl FnMut() -> Measured) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..reps {
        if i % 2 == 0 {
            a.push(ns_per_op(fl().cpu, ops));
            b.push(ns_per_op(tk().cpu, ops));
        } else {
            b.push(ns_per_op(tk().cpu, ops));
            a.push(ns_per_op(fl().cpu, ops));
        }
    }
    (median(&mut a), median(&mut b))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|x, y| x.total_cmp(y));
    v[v.len() / 2]
}

/// `(workload, flowloop ns/op, tokio ns/op)` — median on-CPU time per operation (see
/// [`Measured::cpu`]) for `tcp_echo_1`, `tcp_echo_50`, `tls_echo_1`
/// and `tls_handshake`. `quick` shrinks the sizes so the whole set takes a few seconds.
pub fn rows(quick: bool) -> Vec<(&'static str, f64, f64)> {
    let (echo1, echo50, tls_rounds, shakes, reps) = if quick {
        (3_000, 300, 3_000, 60, 7)
    } else {
        (20_000, 2_000, 20_000, 200, 7)
    };
    let tls = Tls::new();
    let mut out = Vec::new();
    let (f, t) = measure(reps, echo1, || flowloop_tcp_echo(1, echo1), || tokio_tcp_echo(1, echo1));
    out.push(("tcp_echo_1", f, t));
    let (f, t) = measure(
        reps,
        50 * echo50,
        || flowloop_tcp_echo(50, echo50),
        || tokio_tcp_echo(50, echo50),
    );
    out.push(("tcp_echo_50", f, t));
    let (f, t) = measure(
        reps,
        tls_rounds,
        || flowloop_tls_echo(&tls, tls_rounds),
        || tokio_tls_echo(&tls, tls_rounds),
    );
    out.push(("tls_echo_1", f, t));
    let (f, t) = measure(
        reps,
        shakes,
        || flowloop_tls_handshake(&tls, shakes),
        || tokio_tls_handshake(&tls, shakes),
    );
    out.push(("tls_handshake", f, t));
    out
}
