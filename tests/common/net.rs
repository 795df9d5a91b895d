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
