//! The `http` shelf and the [`Server`] that runs a graph per request.
//!
//! A graph serves HTTP when it has one `http.listen` node. The server reads each request
//! (HTTP/1.1, keep-alive, `Content-Length` or chunked bodies within [`Limits`]), turns it into
//! a request value, and runs the graph for it: if the listener feeds an `http.route` node, only
//! the branch of the route that matched runs (an unknown route gets 404 without running
//! anything). The request is answered by the `http.respond` (or `http.respond_first`) node
//! whose `request` input carries it; a node failing on the way gives 500 with a JSON
//! `{"error": ...}` naming the node (400 when the node was `http.fields` rejecting the
//! client's body); no answer within [`Limits::deadline`] gives 504 and a log line naming the
//! node that held it. Every request runs as its own flow on the loop, so a slow one delays no
//! other connection.

mod fetch;
mod kinds;
mod plan;
mod route;
mod server;
mod wire;

pub use fetch::{FetchError, FetchOptions, Redirects, fetch};
pub use kinds::{BadRequest, ROUTE_OUTPUTS, fields_kind, listen_kind, route_kind};
pub use kinds::{body_kind, params_kind, respond_first_kind, respond_kind};
pub use route::{Route, RouteError};
pub use server::{Server, StopHandle};
pub use wire::Limits;

use flowloop_graph::{GraphError, Shelf};

/// Why a graph cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A served graph needs exactly one `http.listen` node.
    #[error("the graph has {count} http.listen nodes; a served graph needs exactly one")]
    Listeners {
        /// How many there are.
        count: usize,
    },
    /// More than one `http.route` node is fed by the listener.
    #[error("listener `{listen}` feeds more than one http.route node; chain them instead")]
    Routers {
        /// The listener node.
        listen: String,
    },
    /// The router's `routes` must be a constant so the server can plan each branch.
    #[error("node `{node}`: input `routes` must be a constant list, not an edge")]
    RoutesNotConstant {
        /// The router node.
        node: String,
    },
    /// A route does not parse.
    #[error("node `{node}`: {problem}")]
    Routes {
        /// The router node.
        node: String,
        /// What is wrong.
        problem: String,
    },
    /// A branch of the graph never reaches an `http.respond` node.
    #[error("{what} reaches no http.respond node; connect one so its requests get an answer")]
    NoResponder {
        /// The branch (route and node, or the listener).
        what: String,
    },
    /// The graph could not be pruned or compiled.
    #[error(transparent)]
    Graph(GraphError),
    /// The address could not be bound.
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
}

/// The `http` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("http", "HTTP endpoints and client: listen, route, respond, fetch")
        .with(listen_kind())
        .with(route_kind())
        .with(respond_kind())
        .with(respond_first_kind())
        .with(params_kind())
        .with(body_kind())
        .with(fields_kind())
        .with(fetch::fetch_kind())
}
