//! A TLS echo server and client on 127.0.0.1, with a self-signed certificate made at start.
//!
//! Run with `cargo run --example tls_echo --features tls-cert`.

use std::io;
use std::sync::Arc;

use flowloop::net::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use flowloop::net::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use flowloop::net::{TcpListener, TcpStream, TlsAcceptor, TlsConnector};
use flowloop::spawn;

/// Server and client configs for a fresh self-signed certificate for "localhost".
fn configs() -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), Box<dyn std::error::Error>> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)?;
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server_cfg, client_cfg) = configs()?;
    flowloop::run(async move {
        let mut listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("TLS echo server listening on {addr}");
        let acceptor = TlsAcceptor::new(server_cfg);
        let server = spawn(async move {
            let (tcp, peer) = listener.accept().await?;
            let mut tls = acceptor.accept(tcp).await?;
            println!("server: handshake with {peer} done (SNI {:?})", tls.server_name());
            let mut buf = [0u8; 1024];
            let mut messages = 0;
            loop {
                let n = tls.recv(&mut buf).await?;
                if n == 0 {
                    println!("server: client sent close_notify after {messages} messages");
                    break;
                }
                tls.send_all(&buf[..n]).await?;
                messages += 1;
            }
            tls.close().await
        })
        .await;
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = TlsConnector::new(client_cfg).connect("localhost", tcp).await?;
        for text in ["hello", "over", "TLS"] {
            tls.send_all(text.as_bytes()).await?;
            let mut buf = [0u8; 64];
            let mut got = 0;
            while got < text.len() {
                let n = tls.recv(&mut buf[got..]).await?;
                if n == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed early"));
                }
                got += n;
            }
            println!(
                "client: sent {text:?}, got back {:?}",
                String::from_utf8_lossy(&buf[..got])
            );
        }
        tls.shutdown().await?;
        let mut buf = [0u8; 16];
        let n = tls.recv(&mut buf).await?;
        println!("client: server closed cleanly (recv returned {n})");
        server.join().await.map_err(io::Error::other)??;
        io::Result::Ok(())
    })??;
    Ok(())
}
