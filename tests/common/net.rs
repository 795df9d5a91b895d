//! Helpers shared by the socket tests: bounded runs, listeners on 127.0.0.1:0, certificates.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use flowloop::net::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use flowloop::net::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use flowloop::net::{TcpListener, TcpStream, TlsError};

/// Upper bound for any single test body.
pub const TEST_LIMIT: Duration = Duration::from_secs(30);

/// The shared helpers (`tests/common/mod.rs`): one implementation of a bounded run.
#[path = "mod.rs"]
mod base;

/// Runs `f` on a fresh loop, failing the test if it takes longer than [`TEST_LIMIT`] (the
/// shared [`base::run_here`]).
pub fn run<F: Future + 'static>(f: F) -> F::Output {
    base::run_here(TEST_LIMIT, f)
}

/// A listener on 127.0.0.1, port 0, and its address.
pub fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let a = l.local_addr().expect("local_addr");
    (l, a)
}

/// Echoes everything `s` receives, `buf_len` bytes at a time, until the peer half-closes.
pub async fn echo_until_eof(s: &mut TcpStream, buf_len: usize) {
    let mut buf = vec![0u8; buf_len];
    loop {
        let n = s.recv(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        s.send_all(&buf[..n]).await.unwrap();
    }
}

/// Bytes 0..len with a pattern that detects reordering.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for `names` and its key.
pub struct TestCert {
    pub cert: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl TestCert {
    pub fn new(names: &[&str]) -> TestCert {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names).expect("rcgen");
        TestCert {
            cert: ck.cert.der().clone(),
            key_der: ck.signing_key.serialize_der(),
        }
    }

    pub fn server_config(&self) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let cfg = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .expect("server cert");
        Arc::new(cfg)
    }

    /// A client config that trusts exactly this certificate.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).expect("add root");
        let cfg = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(cfg)
    }
}

/// The [`TlsError`] inside an `io::Error`, if any.
pub fn tls_error(e: &io::Error) -> Option<&TlsError> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>())
}

/// Polls two futures together until both finish (a read and a write of one task, for example).
pub async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.is_some(), rb.is_some()) {
            (true, true) => std::task::Poll::Ready(()),
            _ => std::task::Poll::Pending,
        }
    })
    .await;
    (ra.expect("set before Ready"), rb.expect("set before Ready"))
}

/// Reads from any byte source until end of stream.
pub async fn read_all(src: &mut impl flowloop::net::ByteSource) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match src.recv(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// A rustls client pumped by hand over a flowloop [`TcpStream`], for tests that must put raw
/// (for example cut-off) TLS bytes on the wire.
pub struct RawTlsClient {
    pub conn: rustls::ClientConnection,
    pub tcp: TcpStream,
}

impl RawTlsClient {
    /// A client session for `name`, nothing sent yet.
    pub fn new(cfg: Arc<ClientConfig>, name: &str, tcp: TcpStream) -> RawTlsClient {
        let name = rustls::pki_types::ServerName::try_from(name.to_owned()).expect("valid server name");
        let conn = rustls::ClientConnection::new(cfg, name).expect("client session");
        RawTlsClient { conn, tcp }
    }

    /// The TLS bytes the session wants to send (the ClientHello, right after `new`).
    pub fn pending_tls(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out).expect("writing to a Vec cannot fail");
        }
        out
    }

    /// Runs the handshake to its end.
    pub async fn handshake(&mut self) -> io::Result<()> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let out = self.pending_tls();
            self.tcp.send_all(&out).await?;
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            let n = self.tcp.recv(&mut buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.conn.read_tls(&mut &buf[..n])?;
            self.conn.process_new_packets().map_err(io::Error::other)?;
        }
    }

    /// The records that carry `data`, encrypted (not sent).
    pub fn seal(&mut self, data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        self.conn
            .writer()
            .write_all(data)
            .expect("plaintext fits the session buffer");
        self.pending_tls()
    }
}
