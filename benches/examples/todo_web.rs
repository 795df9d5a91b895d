//! `GET /todos/{id}` of the todo API: the flowloop graph (`examples/graphs/todo_api.json` on
//! `flowloop-kinds-web`) beside the same API written directly on tokio (current-thread) +
//! hyper + rusqlite (statements on `spawn_blocking`, as the graph runs them on the offload
//! pool), with 1 and 50 keep-alive clients. Rows:
//! `todo_get_c<clients> flowloop_rps=.. hyper_rps=.. ratio=<hyper/flowloop> flowloop_p50_us=.. ...`
//!
//! ```text
//! cargo run --release -p flowloop-benches --example todo_web -- [REQUESTS_PER_CLIENT]
//! ```

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use flowloop_graph::{Graph, Registry, Value};
use flowloop_kinds_web::http::{Limits, Server};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

fn db_path(tag: &str) -> String {
    let p = std::env::temp_dir().join(format!("flowloop-todo-web-{tag}-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_string_lossy().into_owned()
}

fn start_flowloop() -> SocketAddr {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/graphs/todo_api.json"))
        .expect("the example graph exists");
    let mut registry = Registry::with_std();
    flowloop_kinds_web::register(&mut registry);
    let mut g = Graph::from_json(&text, registry).expect("the example graph loads");
    g.set_constant("db", "path", Value::str(&db_path("flowloop")))
        .expect("db node");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        flowloop::run(async move {
            let server = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).expect("bind");
            tx.send(server.local_addr().expect("addr")).expect("main waits");
            server.run().await.expect("serve");
        })
        .expect("loop");
    });
    rx.recv().expect("flowloop server started")
}

type Db = Arc<Mutex<rusqlite::Connection>>;

fn json_response(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

fn row_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(serde_json::json!({"id": r.get::<_, i64>(0)?, "title": r.get::<_, String>(1)?, "done": r.get::<_, i64>(2)?}))
}

fn run_sql(db: &Db, sql: &str, params: Vec<rusqlite::types::Value>) -> Result<Vec<serde_json::Value>, String> {
    let conn = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut stmt = conn.prepare_cached(sql).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), row_json)
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

async fn sql(
    db: &Db,
    sql: &'static str,
    params: Vec<rusqlite::types::Value>,
) -> Result<Vec<serde_json::Value>, String> {
    let db = Arc::clone(db);
    tokio::task::spawn_blocking(move || run_sql(&db, sql, params))
        .await
        .map_err(|e| e.to_string())?
}

fn first_or_404(rows: Result<Vec<serde_json::Value>, String>, status: u16) -> Response<Full<Bytes>> {
    match rows {
        Ok(rows) => match rows.into_iter().next() {
            Some(r) => json_response(status, r.to_string()),
            None => json_response(404, r#"{"error":"not found"}"#.into()),
        },
        Err(e) => json_response(500, serde_json::json!({ "error": e }).to_string()),
    }
}

async fn handle(db: Db, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let id = path.strip_prefix("/todos/").and_then(|s| s.parse::<i64>().ok());
    let resp = match (method.as_str(), path.as_str(), id) {
        ("GET", "/todos", _) => match sql(&db, "SELECT id, title, done FROM todos ORDER BY id", vec![]).await {
            Ok(rows) => json_response(200, serde_json::Value::Array(rows).to_string()),
            Err(e) => json_response(500, serde_json::json!({ "error": e }).to_string()),
        },
        ("POST", "/todos", _) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) => match v.get("title").and_then(|t| t.as_str()) {
                    Some(t) => {
                        let p = vec![rusqlite::types::Value::Text(t.to_string())];
                        first_or_404(
                            sql(
                                &db,
                                "INSERT INTO todos (title) VALUES (?1) RETURNING id, title, done",
                                p,
                            )
                            .await,
                            201,
                        )
                    }
                    None => json_response(400, r#"{"error":"field `title` is missing"}"#.into()),
                },
                Err(e) => json_response(400, serde_json::json!({ "error": e.to_string() }).to_string()),
            }
        }
        ("GET", _, Some(id)) => {
            let p = vec![rusqlite::types::Value::Integer(id)];
            first_or_404(
                sql(&db, "SELECT id, title, done FROM todos WHERE id = ?1", p).await,
                200,
            )
        }
        ("DELETE", _, Some(id)) => {
            let p = vec![rusqlite::types::Value::Integer(id)];
            first_or_404(
                sql(&db, "DELETE FROM todos WHERE id = ?1 RETURNING id, title, done", p).await,
                200,
            )
        }
        _ => json_response(404, r#"{"error":"no route"}"#.into()),
    };
    Ok(resp)
}

fn start_hyper() -> SocketAddr {
    let conn = rusqlite::Connection::open(db_path("hyper")).expect("open");
    conn.execute_batch("CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)")
        .expect("init");
    let db: Db = Arc::new(Mutex::new(conn));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("main waits");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let db = Arc::clone(&db);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(Arc::clone(&db), req));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("hyper server started")
}

/// Sends one request and reads one Content-Length framed response; returns the status.
fn call(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> u16 {
    s.write_all(request).expect("send");
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("receive");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: ").and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            return head[9..12].parse().expect("status");
        }
    }
}

fn seed(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut buf = Vec::new();
    for i in 0..100 {
        let body = format!(r#"{{"title":"todo {i}"}}"#);
        let req = format!(
            "POST /todos HTTP/1.1\r\nhost: b\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(call(&mut s, req.as_bytes(), &mut buf), 201);
    }
}

fn client(addr: SocketAddr, requests: usize, seed: usize) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::new();
    (0..requests)
        .map(|i| {
            let req = format!(
                "GET /todos/{} HTTP/1.1\r\nhost: bench\r\n\r\n",
                (seed * 7 + i) % 100 + 1
            );
            let start = Instant::now();
            assert_eq!(call(&mut s, req.as_bytes(), &mut buf), 200);
            start.elapsed()
        })
        .collect()
}

/// Requests/s, p50 and p99 (µs).
fn measure(addr: SocketAddr, clients: usize, per_client: usize) -> (f64, u128, u128) {
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| std::thread::spawn(move || client(addr, per_client, c)))
        .collect();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().expect("client")).collect();
    let rps = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_micros();
    (rps, pct(0.5), pct(0.99))
}

fn main() {
    let per_client: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let (fl, hy) = (start_flowloop(), start_hyper());
    seed(fl);
    seed(hy);
    for clients in [1, 50] {
        let n = if clients == 1 {
            per_client
        } else {
            (per_client / 10).max(1)
        };
        let f = measure(fl, clients, n);
        let h = measure(hy, clients, n);
        println!(
            "todo_get_c{clients} flowloop_rps={:.0} hyper_rps={:.0} ratio={:.2} flowloop_p50_us={} flowloop_p99_us={} hyper_p50_us={} hyper_p99_us={}",
            f.0,
            h.0,
            h.0 / f.0,
            f.1,
            f.2,
            h.1,
            h.2
        );
    }
}
