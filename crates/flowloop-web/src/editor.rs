//! The graph editor's JSON API: a dynamic [`Graph`] held by the server thread, edited in
//! validated batches under a revision number, run as a batch, saved on request.
//!
//! State machine of one editor: `revision` starts at 0 and grows by one with every accepted
//! batch (and every undo). A batch names the revision it was made against; any other revision
//! is refused with 409 and changes nothing. A batch is applied to a copy of the graph and the
//! copy replaces the graph only when every edit passes. A graph being edited may still have
//! unconnected inputs (`Graph::validate`'s complaint); `POST /api/run` reports those.

use std::cell::RefCell;
use std::path::PathBuf;

use flowloop_graph::{Graph, GraphError, Layout, Value};
use serde::Deserialize;

use crate::http::{Method, Request, Response, Status};
use crate::model::{NodeSnapshot, NodeState, RunState, Snapshot};

/// A port named in an edit.
#[derive(Debug, Clone, Deserialize)]
struct Port {
    node: String,
    port: String,
}

/// One edit as posted by the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum WebEdit {
    Add {
        kind: String,
        id: String,
        x: Option<f64>,
        y: Option<f64>,
    },
    Remove {
        id: String,
    },
    Connect {
        from: Port,
        to: Port,
    },
    Disconnect {
        to: Port,
    },
    Set {
        to: Port,
        value: Value,
    },
    Layout {
        id: String,
        x: f64,
        y: f64,
    },
}

impl WebEdit {
    fn apply(&self, g: &mut Graph) -> Result<(), GraphError> {
        match self {
            WebEdit::Add { kind, id, x, y } => {
                g.add(kind, Some(id))?;
                match (x, y) {
                    (Some(x), Some(y)) => g.set_layout(id, layout(*x, *y)),
                    _ => Ok(()),
                }
            }
            WebEdit::Remove { id } => g.remove(id),
            WebEdit::Connect { from, to } => g.connect(&from.node, &from.port, &to.node, &to.port),
            WebEdit::Disconnect { to } => g.disconnect(&to.node, &to.port).map(drop),
            WebEdit::Set { to, value } => g.set_constant(&to.node, &to.port, value.clone()),
            WebEdit::Layout { id, x, y } => g.set_layout(id, layout(*x, *y)),
        }
    }

    /// The node and port the edit is about (for the page to show an error next to it).
    fn target(&self) -> (&str, Option<&str>) {
        match self {
            WebEdit::Add { id, .. } | WebEdit::Remove { id } | WebEdit::Layout { id, .. } => (id, None),
            WebEdit::Connect { to, .. } | WebEdit::Disconnect { to } | WebEdit::Set { to, .. } => {
                (&to.node, Some(&to.port))
            }
        }
    }
}

fn layout(x: f64, y: f64) -> Layout {
    Layout { x, y, label: None }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBatch {
    revision: u64,
    edits: Vec<WebEdit>,
}

#[derive(Debug, Deserialize)]
struct RevisionOnly {
    revision: u64,
}

/// What the editor owns on the server thread.
#[derive(Debug)]
struct State {
    graph: Graph,
    revision: u64,
    previous: Option<Graph>,
}

/// The editor: the graph, its revision, the last graph before the last change (for undo) and
/// the file `POST /api/save` writes.
#[derive(Debug)]
pub(crate) struct Editor {
    state: RefCell<State>,
    save_to: Option<PathBuf>,
}

/// One run's result, sent back from the offload thread.
#[derive(Debug)]
struct RunResult {
    nodes: Vec<(String, NodeSnapshot, serde_json::Map<String, serde_json::Value>)>,
    error: Option<String>,
}

impl Editor {
    pub(crate) fn new(graph: Graph, save_to: Option<PathBuf>) -> Editor {
        Editor {
            state: RefCell::new(State {
                graph,
                revision: 0,
                previous: None,
            }),
            save_to,
        }
    }

    /// Answers the editor's routes; `None` for any other path.
    pub(crate) async fn route(&self, req: &Request, publish: &dyn Fn(Snapshot)) -> Option<Response> {
        let post = req.method == Method::Post;
        Some(match (req.path.as_str(), post) {
            ("/api/registry", false) => {
                let reg = self.state.borrow().graph.registry().to_json();
                Response::json(Status::Ok, reg.to_string())
            }
            ("/api/spec", false) => self.spec(),
            ("/api/edits", true) => self.edits(&req.body),
            ("/api/undo", true) => self.undo(&req.body),
            ("/api/save", true) => self.save(),
            ("/api/run", true) => self.run(publish).await,
            ("/api/registry" | "/api/spec" | "/api/edits" | "/api/undo" | "/api/save" | "/api/run", _) => {
                Response::error(Status::MethodNotAllowed, "method not allowed")
            }
            _ => return None,
        })
    }

    fn spec(&self) -> Response {
        let st = self.state.borrow();
        let spec: serde_json::Value = serde_json::from_str(&st.graph.to_json()).unwrap_or(serde_json::Value::Null);
        let body = serde_json::json!({ "revision": st.revision, "spec": spec, "can_undo": st.previous.is_some() });
        Response::json(Status::Ok, body.to_string())
    }

    fn check_revision(&self, given: u64) -> Option<Response> {
        let current = self.state.borrow().revision;
        (given != current).then(|| {
            let body = serde_json::json!({
                "error": format!("stale revision {given}: the graph is at revision {current}; reload it and edit again"),
                "revision": current,
            });
            Response::json(Status::Conflict, body.to_string())
        })
    }

    fn edits(&self, body: &[u8]) -> Response {
        let batch: EditBatch = match serde_json::from_slice(body) {
            Ok(b) => b,
            Err(e) => return Response::error(Status::BadRequest, &format!("the edit batch is not valid: {e}")),
        };
        if let Some(stale) = self.check_revision(batch.revision) {
            return stale;
        }
        let mut g = self.state.borrow().graph.clone();
        for (i, e) in batch.edits.iter().enumerate() {
            if let Err(err) = e.apply(&mut g) {
                let (node, port) = e.target();
                return refused(&err, Some(i), node, port);
            }
        }
        self.commit(g)
    }

    fn commit(&self, g: Graph) -> Response {
        let mut st = self.state.borrow_mut();
        let old = std::mem::replace(&mut st.graph, g);
        st.previous = Some(old);
        st.revision += 1;
        Response::json(Status::Ok, serde_json::json!({ "revision": st.revision }).to_string())
    }

    fn undo(&self, body: &[u8]) -> Response {
        let rev: RevisionOnly = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return Response::error(Status::BadRequest, &format!("undo needs {{\"revision\": n}}: {e}")),
        };
        if let Some(stale) = self.check_revision(rev.revision) {
            return stale;
        }
        let mut st = self.state.borrow_mut();
        let Some(prev) = st.previous.take() else {
            return Response::error(Status::Conflict, "nothing to undo");
        };
        st.graph = prev;
        st.revision += 1;
        Response::json(Status::Ok, serde_json::json!({ "revision": st.revision }).to_string())
    }

    fn save(&self) -> Response {
        let Some(path) = &self.save_to else {
            return Response::error(Status::NotFound, "this editor has no file to save to");
        };
        let text = self.state.borrow().graph.to_json();
        match std::fs::write(path, text) {
            Ok(()) => Response::json(
                Status::Ok,
                serde_json::json!({ "saved": path.display().to_string() }).to_string(),
            ),
            Err(e) => Response::error(
                Status::ServiceUnavailable,
                &format!("could not write {}: {e}", path.display()),
            ),
        }
    }

    async fn run(&self, publish: &dyn Fn(Snapshot)) -> Response {
        let graph = self.state.borrow().graph.clone();
        publish(snapshot(RunState::Running, Vec::new(), None));
        let result = match flowloop::offload(move || run_batch(&graph)).await {
            Ok(r) => r,
            Err(_) => return Response::error(Status::ServiceUnavailable, "the batch run's thread failed"),
        };
        let state = if result.error.is_some() {
            RunState::Failed
        } else {
            RunState::Completed
        };
        let nodes: serde_json::Map<String, serde_json::Value> = result
            .nodes
            .iter()
            .map(|(id, snap, outs)| {
                let v =
                    serde_json::json!({ "state": snap.state, "runs": snap.runs, "error": snap.error, "outputs": outs });
                (id.clone(), v)
            })
            .collect();
        let body = serde_json::json!({ "state": state, "error": result.error, "nodes": nodes });
        let snaps = result.nodes.into_iter().map(|(_, s, _)| s).collect();
        publish(snapshot(state, snaps, result.error));
        Response::json(Status::Ok, body.to_string())
    }
}

fn refused(err: &GraphError, edit: Option<usize>, node: &str, port: Option<&str>) -> Response {
    let body = serde_json::json!({
        "error": err.to_string(),
        "edit": edit,
        "node": (!node.is_empty()).then_some(node),
        "port": port,
    });
    Response::json(Status::UnprocessableEntity, body.to_string())
}

fn snapshot(state: RunState, nodes: Vec<NodeSnapshot>, error: Option<String>) -> Snapshot {
    Snapshot {
        state,
        elapsed_ms: 0,
        generations: 0,
        nodes,
        edges: Vec::new(),
        error,
    }
}

/// Runs a batch of `graph` on this (offload) thread's own loop.
fn run_batch(graph: &Graph) -> RunResult {
    let mut batch = match graph.batch() {
        Ok(b) => b,
        Err(e) => {
            return RunResult {
                nodes: Vec::new(),
                error: Some(e.to_string()),
            };
        }
    };
    let error = batch.run().err().map(|e| e.to_string());
    let nodes = graph
        .nodes()
        .map(|n| node_result(&batch, n, error.as_deref()))
        .collect();
    RunResult { nodes, error }
}

/// One node's snapshot and output values after a batch run.
fn node_result(
    batch: &flowloop_graph::Batch,
    n: &flowloop_graph::GraphNode,
    error: Option<&str>,
) -> (String, NodeSnapshot, serde_json::Map<String, serde_json::Value>) {
    let id = n.id().to_string();
    let outs: serde_json::Map<String, serde_json::Value> = n
        .spec()
        .outputs
        .iter()
        .filter_map(|o| {
            batch
                .value(&id, &o.name)
                .map(|v| (o.name.clone(), serde_json::Value::String(v.to_string())))
        })
        .collect();
    let failed = error.filter(|e| e.contains(&format!("`{id}`"))).map(str::to_string);
    let state = match (&failed, outs.is_empty()) {
        (Some(_), _) => NodeState::Error,
        (None, false) => NodeState::Done,
        (None, true) => NodeState::Idle,
    };
    let value = outs
        .values()
        .next()
        .and_then(|v| v.as_str())
        .map(|s| crate::model::truncate(s.to_string(), 80));
    let snap = NodeSnapshot {
        state,
        generation: batch.generation(&id),
        runs: batch.runs(&id),
        value,
        error: failed,
        poll_total_us: None,
        poll_recent_us: None,
        slow: false,
    };
    (id, snap, outs)
}
