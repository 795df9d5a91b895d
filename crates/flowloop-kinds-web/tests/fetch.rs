//! `http.fetch` and [`fetch`] against real servers: the todo API, a redirecting graph, a
//! silent socket, and a TLS server with a self-signed certificate.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use flowloop::net::{BufReader, TcpListener, TlsAcceptor};
use flowloop_graph::{Graph, Map, Value};
use flowloop_kinds_web::http::{FetchError, FetchOptions, Limits, Redirects, fetch};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn fetch_graph(url: &str, method: &str, body: Value, redirects: i64) -> Graph {
    let mut g = Graph::new(registry());
    g.add("http.fetch", Some("get")).unwrap();
    g.set_constant("get", "url", Value::str(url)).unwrap();
    g.set_constant("get", "method", Value::str(method)).unwrap();
    g.set_constant("get", "body", body).unwrap();
    g.set_constant("get", "redirects", Value::Int(redirects)).unwrap();
    g.set_constant("get", "timeout_ms", Value::Int(10_000)).unwrap();
    g
}

fn run_fetch(g: &Graph) -> Result<Value, String> {
    let mut run = g.batch().unwrap();
    run.run().map_err(|e| e.to_string())?;
    Ok(run.value("get", "out").expect("fetch produced a value"))
}

#[test]
fn the_fetch_kind_talks_to_the_todo_api() {
    let server = serve(todo_graph(registry(), "fetch"), Limits::default());
    let base = format!("http://{}", server.addr);
    let mut title = Map::new();
    title.insert("title", "bread");
    let created = run_fetch(&fetch_graph(&format!("{base}/todos"), "post", Value::from(title), 0)).unwrap();
    assert_eq!(created.get("status"), Some(&Value::Int(201)));
    assert_eq!(
        created.get("body").unwrap().to_string(),
        r#"{"id": 1, "title": "bread", "done": 0}"#
    );
    let got = run_fetch(&fetch_graph(&format!("{base}/todos/1?x=1"), "GET", Value::Null, 0)).unwrap();
    assert_eq!(got.get("body").unwrap().get("title"), Some(&Value::str("bread")));
    let missing = run_fetch(&fetch_graph(&format!("{base}/todos/9"), "GET", Value::Null, 0)).unwrap();
    assert_eq!(missing.get("status"), Some(&Value::Int(404)));
}

fn redirect_graph() -> Graph {
    let mut g = Graph::new(registry());
    g.add("http.listen", Some("in")).unwrap();
    g.add("http.route", Some("router")).unwrap();
    g.set_constant("router", "routes", Value::list(["GET /old", "GET /new"]))
        .unwrap();
    g.connect("in", "request", "router", "request").unwrap();
    g.add("http.respond", Some("moved")).unwrap();
    g.connect("router", "r0", "moved", "request").unwrap();
    g.set_constant("moved", "status", Value::Int(302)).unwrap();
    let mut h = Map::new();
    h.insert("location", "/new");
    g.set_constant("moved", "headers", Value::from(h)).unwrap();
    g.add("http.respond", Some("here")).unwrap();
    g.connect("router", "r1", "here", "request").unwrap();
    g.set_constant("here", "body", Value::str("arrived")).unwrap();
    g
}

#[test]
fn redirects_are_followed_only_when_asked() {
    let server = serve(redirect_graph(), Limits::default());
    let url = format!("http://{}/old", server.addr);
    let plain = run_fetch(&fetch_graph(&url, "GET", Value::Null, 0)).unwrap();
    assert_eq!(plain.get("status"), Some(&Value::Int(302)));
    assert_eq!(plain.get("headers").unwrap().get("location"), Some(&Value::str("/new")));
    let followed = run_fetch(&fetch_graph(&url, "GET", Value::Null, 3)).unwrap();
    assert_eq!(followed.get("status"), Some(&Value::Int(200)));
    assert_eq!(followed.get("body"), Some(&Value::str("arrived")));
}

#[test]
fn timeouts_and_bad_urls_are_errors_naming_the_url() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let options = FetchOptions {
        timeout: Duration::from_millis(200),
        ..FetchOptions::default()
    };
    let err = flowloop::run(async move { fetch(&url, "GET", &Value::Null, &options).await })
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("no response within 200ms"), "{err}");
    let err = run_fetch(&fetch_graph("ftp://example.com/", "GET", Value::Null, 0)).unwrap_err();
    assert!(
        err.contains("node `get`") && err.contains("url `ftp://example.com/`: only http:// and https://"),
        "{err}"
    );
    let err = run_fetch(&fetch_graph("http://127.0.0.1:notaport/", "GET", Value::Null, 0)).unwrap_err();
    assert!(err.contains("port `notaport` is not a number"), "{err}");
    drop(silent);
}

fn tls_configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn https_with_a_trusted_certificate() {
    let (server_cfg, client_cfg) = tls_configs();
    let answer = flowloop::run(async move {
        let mut listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = TlsAcceptor::new(server_cfg);
        let serving = flowloop::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            let mut r = BufReader::new(tls);
            let mut line = String::new();
            while line != "\r\n" {
                line.clear();
                r.read_line(&mut line).await.unwrap();
            }
            let reply =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"tls\":true}";
            flowloop::net::ByteSink::send_all(&mut r, &reply[..]).await.unwrap();
            r.into_inner().close().await.ok();
        })
        .await;
        let options = FetchOptions {
            tls: Some(client_cfg),
            redirects: Redirects::None,
            ..FetchOptions::default()
        };
        let url = format!("https://localhost:{port}/secure");
        let reply = fetch(&url, "GET", &Value::Null, &options).await;
        serving.join().await.unwrap();
        reply
    })
    .unwrap()
    .unwrap();
    assert_eq!(reply_status(&answer), 200);
    assert_eq!(answer.get("body").unwrap().get("tls"), Some(&Value::Bool(true)));
}

fn reply_status(v: &Value) -> i64 {
    v.get("status").and_then(Value::as_int).unwrap_or(0)
}

#[test]
fn https_with_an_untrusted_certificate_fails() {
    let (server_cfg, _) = tls_configs();
    let err = flowloop::run(async move {
        let mut listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = TlsAcceptor::new(server_cfg);
        let serving = flowloop::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = acceptor.accept(tcp).await;
        })
        .await;
        let url = format!("https://localhost:{port}/");
        let reply = fetch(&url, "GET", &Value::Null, &FetchOptions::default()).await;
        serving.join().await.unwrap();
        reply
    })
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, FetchError::Io { .. }), "{err}");
}
