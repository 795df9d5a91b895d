//! `flowloop run` on a graph with an `http.listen` node: serve it over HTTP
//! (`flowloop-kinds-web`) until Ctrl-C or SIGTERM instead of running it as a batch.

use flowloop_graph::Graph;
use flowloop_kinds_web::http::{Limits, Server};
use flowloop_run::{RunArgs, RunFailure};

use crate::signal::{Stop, announce};

/// The kind that makes a graph a server.
const LISTEN_KIND: &str = "http.listen";

/// Whether `graph` is served rather than run as a batch.
pub fn is_server(graph: &Graph) -> bool {
    graph.nodes().any(|n| n.spec().name == LISTEN_KIND)
}

/// Applies `--set`, binds the listener, prints `listening on http://ADDR/` as the first
/// stdout line and serves until Ctrl-C or SIGTERM; then closes the graph's databases.
///
/// # Errors
/// A batch-only option, a bad `--set`, a graph the server cannot plan, a bind failure.
pub fn serve(mut graph: Graph, args: &RunArgs) -> Result<(), RunFailure> {
    refuse_batch_options(args)?;
    flowloop_run::apply_sets(&mut graph, &args.sets)?;
    let stop = Stop::install()?;
    let served = flowloop::run(async move {
        let server = Server::bind(&graph, None, Limits::default())
            .map_err(|e| RunFailure::Graph(format!("cannot serve the graph: {e}")))?;
        let addr = server
            .local_addr()
            .map_err(|e| RunFailure::Graph(format!("the listener has no address: {e}")))?;
        announce(&format!("listening on http://{addr}/"));
        let handle = server.stop_handle();
        stop.spawn_on_stop(move || handle.stop());
        server
            .run()
            .await
            .map_err(|e| RunFailure::Graph(format!("the server stopped accepting connections: {e}")))
    });
    let closed = flowloop_kinds_web::db::close_all();
    served.map_err(|e| RunFailure::Graph(format!("event loop: {e}")))??;
    eprintln!("stopped; closed {closed} database connection(s)");
    Ok(())
}

fn refuse_batch_options(args: &RunArgs) -> Result<(), RunFailure> {
    let option = if !args.limits.is_empty() {
        "--limit"
    } else if args.limit_all.is_some() {
        "--limit-all"
    } else if args.json {
        "--json"
    } else {
        return Ok(());
    };
    Err(RunFailure::Usage(format!(
        "{option} applies to batch runs, but this graph has an {LISTEN_KIND} node and is served \
         until Ctrl-C; leave {option} out (use --set NODE.addr='\"127.0.0.1:8080\"' to choose the address)"
    )))
}
