//! A TLS echo server (one task per connection, handshake timeout) and clients on 127.0.0.1,
//! with a self-signed certificate made at start.
//!
//! Run with `cargo run --example tls_echo --features tls-cert`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use flowloop::net::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use flowloop::net::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use flowloop::net::{BufReader, ByteSink, TcpListener, TcpStream, TlsAcceptor, TlsConnector};
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

/// Echoes one client's messages until it sends close_notify, then closes cleanly.
async fn echo(acceptor: TlsAcceptor, tcp: TcpStream, peer: SocketAddr) -> io::Result<usize> {
    let mut tls = acceptor.accept(tcp).await?;
    println!("server: handshake with {peer} done (SNI {:?})", tls.server_name());
    let mut buf = [0u8; 1024];
    let mut messages = 0;
    loop {
        let n = tls.recv(&mut buf).await?;
        if n == 0 {
            break;
        }
        tls.send_all(&buf[..n]).await?;
        messages += 1;
    }
    tls.close().await?;
    Ok(messages)
}

/// The accept loop: every connection gets its own task, which runs the handshake. A client
/// that never finishes its handshake only holds its own task, until the handshake timeout.
async fn serve(mut listener: TcpListener, acceptor: TlsAcceptor, clients: usize) -> io::Result<()> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (tcp, peer) = listener.accept().await?;
        tasks.push((peer, spawn(echo(acceptor.clone(), tcp, peer)).await));
    }
    for (peer, task) in tasks {
        match task.join().await.map_err(io::Error::other)? {
            Ok(n) => println!("server: {peer} sent close_notify after {n} messages"),
            Err(e) => println!("server: {peer} dropped: {e}"),
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server_cfg, client_cfg) = configs()?;
    flowloop::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("TLS echo server listening on {addr}");
        let acceptor = TlsAcceptor::new(server_cfg).with_handshake_timeout(Duration::from_secs(1));
        let server = spawn(serve(listener, acceptor, 2)).await;
        // A client that connects and never starts its handshake does not hold up the next one.
        let _silent = TcpStream::connect(addr).await?;
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = BufReader::new(TlsConnector::new(client_cfg).connect("localhost", tcp).await?);
        for text in ["hello", "over", "TLS"] {
            tls.send_all(text.as_bytes()).await?;
            let mut back = vec![0u8; text.len()];
            tls.read_exact(&mut back).await?;
            println!("client: sent {text:?}, got back {:?}", String::from_utf8_lossy(&back));
        }
        tls.get_mut().shutdown().await?;
        let mut rest = Vec::new();
        tls.read_until(b'\n', &mut rest).await?;
        println!(
            "client: server closed cleanly ({} bytes after close_notify)",
            rest.len()
        );
        server.join().await.map_err(io::Error::other)??;
        io::Result::Ok(())
    })??;
    Ok(())
}
