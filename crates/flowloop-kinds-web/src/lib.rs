//! Backend logic as flowloop graphs: the `http` shelf (a server that runs a graph per
//! request, routing, responses, and an HTTP client) and the `db` shelf (SQLite on the offload
//! pool).
//!
//! # Tutorial
//!
//! 1. Register the shelves beside the standard ones with [`register`].
//! 2. Build (or load from JSON) a graph with one `http.listen` node. Feed its `request` to an
//!    `http.route` node whose constant `routes` list patterns like `"GET /todos/{id:int}"`;
//!    each output `r<i>` leads to the nodes for route `i`, ending in `http.respond`.
//! 3. Serve it with [`http::Server`]: every request runs only its route's branch, as its own
//!    flow on the loop; unknown routes get 404, failing nodes 500, slow graphs 504.
//!
//! ```
//! use flowloop_graph::{Graph, Registry, Value};
//! use flowloop_kinds_web::http::{Limits, Server};
//!
//! let mut reg = Registry::with_std();
//! flowloop_kinds_web::register(&mut reg);
//! let mut g = Graph::new(reg);
//! g.add("http.listen", Some("in")).unwrap();
//! g.add("http.route", Some("route")).unwrap();
//! g.set_constant("route", "routes", Value::list(["GET /hello/{name}"])).unwrap();
//! g.connect("in", "request", "route", "request").unwrap();
//! g.add("http.params", Some("params")).unwrap();
//! g.connect("route", "r0", "params", "request").unwrap();
//! g.add("http.respond", Some("reply")).unwrap();
//! g.connect("route", "r0", "reply", "request").unwrap();
//! g.connect("params", "out", "reply", "body").unwrap();
//!
//! flowloop::run(async move {
//!     let server = Server::bind(&g, Some("127.0.0.1:0"), Limits::default()).unwrap();
//!     let url = format!("http://{}/hello/ada", server.local_addr().unwrap());
//!     let stop = server.stop_handle();
//!     let serving = flowloop::spawn(server.run()).await;
//!     let opts = flowloop_kinds_web::http::FetchOptions::default();
//!     let reply = flowloop_kinds_web::http::fetch(&url, "GET", &Value::Null, &opts).await.unwrap();
//!     assert_eq!(reply.get("status"), Some(&Value::Int(200)));
//!     assert_eq!(reply.get("body").unwrap().get("name"), Some(&Value::str("ada")));
//!     stop.stop();
//!     serving.join().await.unwrap().unwrap();
//! })
//! .unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

pub mod db;
pub mod http;

use flowloop_graph::Registry;

/// Registers the `http` and `db` shelves (for `flowloop run` and any host).
///
/// # Panics
/// If a shelf named `http` or `db` is already registered (register once per registry).
pub fn register(registry: &mut Registry) {
    registry
        .register(http::shelf())
        .expect("the http shelf is registered once per registry");
    registry
        .register(db::shelf())
        .expect("the db shelf is registered once per registry");
}
