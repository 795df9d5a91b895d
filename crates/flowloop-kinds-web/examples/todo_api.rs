//! Serves `examples/graphs/todo_api.json` (a JSON todo API over SQLite built only from library
//! kinds) until Ctrl-C or SIGTERM, then closes the database.
//!
//! ```text
//! cargo run --release -p flowloop-kinds-web --example todo_api -- [--addr 127.0.0.1:8080] [--db todos.sqlite3] [GRAPH.json]
//! ```
//! The first line of output is `listening on http://127.0.0.1:PORT/`.

use std::io::Write;
use std::process::ExitCode;

use flowloop_graph::{Graph, Registry, Value};
use flowloop_kinds_web::http::{Limits, Server};

const DEFAULT_GRAPH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/graphs/todo_api.json");

struct Args {
    addr: Option<String>,
    db: Option<String>,
    graph: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: None,
        db: None,
        graph: DEFAULT_GRAPH.to_string(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => args.addr = Some(it.next().ok_or("--addr needs an address like 127.0.0.1:8080")?),
            "--db" => args.db = Some(it.next().ok_or("--db needs a file path")?),
            other if other.starts_with("--") => return Err(format!("unknown option `{other}` (use --addr, --db)")),
            path => args.graph = path.to_string(),
        }
    }
    Ok(args)
}

fn load(args: &Args) -> Result<Graph, String> {
    let text = std::fs::read_to_string(&args.graph).map_err(|e| format!("cannot read `{}`: {e}", args.graph))?;
    let mut registry = Registry::with_std();
    flowloop_kinds_web::register(&mut registry);
    let mut graph = Graph::from_json(&text, registry).map_err(|e| format!("`{}`: {e}", args.graph))?;
    if let Some(db) = &args.db {
        graph
            .set_constant("db", "path", Value::str(db))
            .map_err(|e| e.to_string())?;
    }
    Ok(graph)
}

fn serve(graph: Graph, addr: Option<String>) -> Result<(), String> {
    let outcome = flowloop::run(async move {
        let server = Server::bind(&graph, addr.as_deref(), Limits::default()).map_err(|e| e.to_string())?;
        let local = server.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{local}/");
        let _ = std::io::stdout().flush();
        let stop = server.stop_handle();
        ctrlc::set_handler(move || stop.stop()).map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
        server.run().await.map_err(|e| e.to_string())
    });
    outcome.map_err(|e| e.to_string())?
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| {
        let graph = load(&args)?;
        serve(graph, args.addr)
    });
    let closed = flowloop_kinds_web::db::close_all();
    match result {
        Ok(()) => {
            eprintln!("stopped; closed {closed} database connection(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("todo_api: {e}");
            ExitCode::FAILURE
        }
    }
}
