//! [`GraphEditor`]: a dynamic graph served with the dashboard page and the editor's JSON API.

use std::net::SocketAddr;
use std::path::PathBuf;

use flowloop_graph::Graph;

use crate::config::ServerConfig;
use crate::model::Topology;
use crate::{WebError, WebServer};

/// Serves a dynamic [`Graph`] for editing in the browser: `GET /api/registry` (the palette),
/// `GET /api/spec` (the graph's JSON spec and revision), `POST /api/edits`
/// (`{"revision", "edits": [...]}`, applied as one validated batch; a stale revision gets 409,
/// a refused edit 422 naming the node and port), `POST /api/undo`, `POST /api/run` (a batch
/// run; statuses and values also go out on the event stream) and `POST /api/save` (writes the
/// spec to the file given to [`GraphEditor::start`]).
///
/// ```
/// use flowloop_graph::{Graph, Registry};
/// use flowloop_web::{GraphEditor, ServerConfig};
///
/// let graph = Graph::new(Registry::with_std());
/// let editor = GraphEditor::start(graph, None, ServerConfig::new()).unwrap();
/// assert!(editor.url().starts_with("http://127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct GraphEditor {
    server: WebServer,
}

impl GraphEditor {
    /// Starts the server thread with `graph`; `save_to` is the file `POST /api/save` writes
    /// (without one, saving is refused with 404).
    ///
    /// # Errors
    /// [`WebError`] when the configuration is refused or the address cannot be bound.
    pub fn start(graph: Graph, save_to: Option<PathBuf>, config: ServerConfig) -> Result<GraphEditor, WebError> {
        let topology = Topology {
            nodes: Vec::new(),
            edges: Vec::new(),
            width: 0.0,
            height: 0.0,
            node_width: 0.0,
        };
        let server = WebServer::start_with(config, topology, None, None, Some((graph, save_to)))?;
        Ok(GraphEditor { server })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.server.addr())
    }

    /// Stops the server and joins its thread.
    pub fn shutdown(self) {
        self.server.shutdown();
    }
}
