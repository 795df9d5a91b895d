//! # flowloop-web
//!
//! A live dashboard for [`flowloop`] flows, served by the program itself: an HTTP/1.1
//! and Server-Sent Events server on flowloop's own sockets, running on its own thread with its
//! own event loop, and one self-contained page (HTML, CSS and plain JS compiled in).
//!
//! ## 1. Attach a dashboard to a typed flow
//!
//! [`FlowDashboard::start`] lays the graph out (layers computed here, in Rust), binds
//! `127.0.0.1` on a free port and starts the server thread. [`FlowDashboard::run_on`] runs the
//! flow with a sampler beside it (in the same task) that publishes a [`Snapshot`] about every 100 ms.
//!
//! ```
//! use flowloop::EventLoop;
//! use flowloop::flow::{FlowBuilder, RunOptions};
//! use flowloop_web::{FlowDashboard, RunEnd, ServerConfig};
//!
//! async fn source() -> i64 { 20 }
//! async fn add_one(x: i64) -> i64 { x + 1 }
//!
//! let mut b = FlowBuilder::new();
//! let s = b.node(source, ());
//! let a = b.node(add_one, (s,));
//! let mut lp = EventLoop::new().unwrap();
//! let dash = FlowDashboard::start(b.build().unwrap(), &lp, ServerConfig::new()).unwrap();
//! dash.watch(a); // show a's value on the page
//! assert!(dash.url().starts_with("http://127.0.0.1:"));
//! let end = dash.run_on(&mut lp, RunOptions::new()).unwrap();
//! assert!(matches!(end, RunEnd::Finished(_)));
//! assert_eq!(dash.flow().value(a), Some(21));
//! ```
//!
//! ## 2. What the page shows
//!
//! Every node is an SVG group with `data-node`, `data-status` (`idle`, `waiting`, `running`,
//! `error`, `done`), `data-generation` and `data-runs`; its box shows the generation, run
//! count, a value preview ([`FlowDashboard::watch`]), the last error and, with
//! [`FlowDashboard::time_nodes`], cumulative and recent poll time with a slow-poll badge.
//! Edges are labelled with their input and the producer's generation while the consumer has not
//! caught up; a stream edge also shows its lag (chunks the producer published that the consumer
//! has not taken, from [`Flow::stream_lags_into`](flowloop::flow::Flow::stream_lags_into)). The header shows the run's state, elapsed time and generations completed. If the
//! flow's loop stops publishing (a node hogs the CPU), the page names the node that has been
//! running and for how long: the server thread stays responsive.
//!
//! ## 3. The server
//!
//! `GET /` (the page), `GET /api/graph` (the [`Topology`]), `GET /api/snapshot`, `GET /events`
//! (`text/event-stream`; a reconnect with `Last-Event-ID` is answered with a fresh snapshot),
//! `GET /api/info`, and `POST /api/command` (`{"command": "stop"}`). Requests are bounded by
//! [`Limits`] (head size, header count, body size, request and idle time); a client that stops
//! reading an event stream holds at most one frame and is dropped after the write timeout.
//! Binding anything but loopback requires a [`ServerConfig::token`]; [`Access::ReadOnly`]
//! refuses every `POST`.
//!
//! ## 4. Edit a dynamic graph
//!
//! [`GraphEditor::start`] serves a `flowloop_graph::Graph` with the same page, which then
//! shows a palette, the graph with draggable nodes and ports, a panel for constant inputs, and
//! Run / Live / Stop / Undo / Redo / Save / Load / Delete / Delete edge. Edits arrive as one
//! batch with the revision they were made against (`POST /api/edits`); a stale revision is
//! refused with 409, a refused edit with 422 naming the node and port, and in both cases nothing
//! changes. The graph runs on the editor's own flow thread, as a batch or live (setting an
//! input re-runs what depends on it), and every node's status, generation, run count and value
//! reach the page while it runs.
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]

mod config;
mod dashboard;
mod editor;
mod error;
mod flow_thread;
mod graph_diff;
mod graph_editor;
mod graph_run;
mod http;
mod layout;
mod model;
mod sample;
mod select;
mod server;
mod sse;
mod web_edit;

pub use config::{Access, Limits, ServerConfig};
pub use dashboard::{FlowDashboard, RunEnd, Stopper};
pub use error::WebError;
pub use graph_editor::GraphEditor;
pub use model::{EdgeSnapshot, NodeSnapshot, NodeState, RunState, Snapshot, Topology, TopologyEdge, TopologyNode};
pub use server::WebServer;
