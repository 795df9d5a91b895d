//! [`GraphEditor`]: a dynamic graph served with the dashboard page and the editor's JSON API.

use std::net::SocketAddr;
use std::path::PathBuf;

use flowloop_graph::Graph;

use crate::config::ServerConfig;
use crate::flow_thread::FlowThread;
use crate::model::Topology;
use crate::{WebError, WebServer};

/// Serves a dynamic [`Graph`] for editing in the browser, and runs it on a flow thread of its
/// own (its own event loop, so a node that hogs the CPU never stalls the page).
///
/// Routes: `GET /api/registry` (the palette), `GET /api/spec` (the graph's JSON spec,
/// revision, `can_undo`, `can_redo`), `POST /api/edits` (`{"revision", "edits": [...]}`,
/// applied as one validated batch; a stale revision gets 409, a refused edit 422 naming the
/// node and port), `POST /api/undo` and `POST /api/redo` (`{"revision"}`, up to 100 steps
/// back), `POST /api/load` (`{"revision", "text"}`: a whole spec, refused with its line and
/// column), `POST /api/run` (`{"mode": "batch"}` runs to the end and answers with every node's
/// outputs; `{"mode": "live"}` starts a live run: setting an input re-runs what depends on it,
/// edits apply between ticks), `POST /api/stop`, and `POST /api/save` (writes the spec to the
/// file given to [`GraphEditor::start`]). While a run is on, every node's status, generation,
/// run count, value and error go out on the event stream about every 100 ms.
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
    // (The server goes first: it holds a handle to the flow thread.)
    server: WebServer,
    _flow: FlowThread,
}

impl GraphEditor {
    /// How many changes undo can take back.
    pub const HISTORY: usize = crate::editor::HISTORY;

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
        let beacon = flowloop::flow::RunBeacon::new();
        let flow = FlowThread::start(config.sample_every, std::sync::Arc::clone(&beacon))?;
        let remote = flow.remote();
        let seed = Some((graph, save_to, remote.clone()));
        let server = WebServer::start_with(config, topology, Some(beacon), None, seed)?;
        let link = server.link();
        drop(remote.call(move |r| async move { r.set_link(link) }));
        Ok(GraphEditor { server, _flow: flow })
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
