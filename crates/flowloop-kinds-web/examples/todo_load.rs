//! Load numbers for the todo API graph: requests/s and p50/p99 latency of `GET /todos/{id}`
//! with 1 and 50 concurrent keep-alive clients (blocking client threads, one server loop).
//! The benches' `todo_web` example prints the same rows beside tokio + hyper.
//!
//! ```text
//! cargo run --release -p flowloop-kinds-web --example todo_load -- [REQUESTS_PER_CLIENT]
//! ```

use std::net::SocketAddr;

use flowloop_kinds_web::load::{Load, serve_on_thread, todo};

fn start() -> SocketAddr {
    let path = std::env::temp_dir().join(format!("flowloop-todo-load-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let graph = todo::graph(&path.to_string_lossy()).expect("the example graph loads");
    serve_on_thread(graph).expect("the todo API serves")
}

fn main() {
    let per_client: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let addr = start();
    todo::seed(addr, 100).expect("seed the todos");
    for (clients, per_client) in [(1, per_client), (50, (per_client / 10).max(1))] {
        let r = Load::new(clients, per_client)
            .run(addr, todo::get_request)
            .expect("load run");
        println!(
            "todo_get clients={clients} requests={} rps={:.0} p50_us={} p99_us={}",
            r.latencies.len(),
            r.rps(),
            r.percentile(0.50).as_micros(),
            r.percentile(0.99).as_micros()
        );
    }
}
