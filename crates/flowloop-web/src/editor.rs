//! The graph editor's JSON API: a dynamic [`Graph`] held by the server thread, edited in
//! validated batches under a revision number, undone and redone, loaded from spec text, run on
//! the flow thread (as a batch, or live) and saved on request.
//!
//! State machine of one editor: `revision` starts at 0 and grows by one with every accepted
//! change (an edit batch, an undo, a redo, a load). A change names the revision it was made
//! against; any other revision is refused with 409 and changes nothing. A batch is applied to
//! a copy of the graph and the copy replaces the graph only when every edit passes. A graph
//! being edited may still have unconnected inputs (`Graph::validate`'s complaint); a run
//! reports those. History: the last [`HISTORY`] graphs before a change can be restored by
//! undo, and what undo took back by redo until the next change.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;

use flowloop::sync::Lock;
use flowloop_graph::Graph;
use serde::Deserialize;
use serde_json::json;

use crate::flow_thread::FlowRemote;
use crate::graph_run::{LiveChange, Refusal};
use crate::http::{Method, Request, Response, Status};
use crate::web_edit::{WebEdit, for_live};

/// Most graphs kept for undo.
pub(crate) const HISTORY: usize = 100;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Load {
    revision: u64,
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    #[default]
    Batch,
    Live,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    #[serde(default)]
    mode: Mode,
}

/// What the editor owns on the server thread.
#[derive(Debug)]
struct State {
    graph: Graph,
    revision: u64,
    undo: VecDeque<Graph>,
    redo: Vec<Graph>,
}

/// The editor: the graph, its revision and history, the flow thread it runs on, and the file
/// `POST /api/save` writes.
#[derive(Debug)]
pub(crate) struct Editor {
    state: RefCell<State>,
    save_to: Option<PathBuf>,
    flow: FlowRemote,
    /// Serializes changes: one forwarded to a live run waits for the flow thread.
    changing: Lock,
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8], what: &str) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| Response::error(Status::BadRequest, &format!("{what}: {e}")))
}

/// Adds what a live run made of a change to its reply: `live_waiting`, `live_restarted` or
/// `live_ended` with the reason (nothing when it took the change, or nothing runs live).
fn note_live(reply: &mut serde_json::Value, change: LiveChange) {
    let (key, text) = match change {
        LiveChange::NotLive | LiveChange::Applied => return,
        LiveChange::Waiting(why) => (
            "live_waiting",
            format!("the live run keeps the last valid graph until this one can run: {why}"),
        ),
        LiveChange::Restarted(why) => ("live_restarted", format!("the live run restarted on this graph: {why}")),
        LiveChange::Ended(why) => ("live_ended", format!("the live run ended: {why}")),
    };
    reply[key] = json!(text);
}

fn gone() -> Response {
    Response::error(
        Status::ServiceUnavailable,
        "the flow thread is gone; restart the program",
    )
}

impl Editor {
    pub(crate) fn new(graph: Graph, save_to: Option<PathBuf>, flow: FlowRemote) -> Editor {
        Editor {
            state: RefCell::new(State {
                graph,
                revision: 0,
                undo: VecDeque::new(),
                redo: Vec::new(),
            }),
            save_to,
            flow,
            changing: Lock::new(),
        }
    }

    /// Answers the editor's routes; `None` for any other path.
    pub(crate) async fn route(&self, req: &Request) -> Option<Response> {
        let post = req.method == Method::Post;
        let body = &req.body;
        let reply = match (req.path.as_str(), post) {
            ("/api/registry", false) => {
                let reg = self.state.borrow().graph.registry().to_json();
                Ok(Response::json(Status::Ok, reg.to_string()))
            }
            ("/api/spec", false) => self.spec(),
            ("/api/edits", true) => self.edits(body).await,
            ("/api/undo", true) => self.undo(body, Step::Undo).await,
            ("/api/redo", true) => self.undo(body, Step::Redo).await,
            ("/api/load", true) => self.load(body).await,
            ("/api/save", true) => self.save(),
            ("/api/run", true) => self.run(body).await,
            ("/api/stop", true) => self.stop().await,
            (
                "/api/registry" | "/api/spec" | "/api/edits" | "/api/undo" | "/api/redo" | "/api/load" | "/api/save"
                | "/api/run" | "/api/stop",
                _,
            ) => Err(Response::error(Status::MethodNotAllowed, "method not allowed")),
            _ => return None,
        };
        Some(reply.unwrap_or_else(|r| r))
    }

    fn spec(&self) -> Result<Response, Response> {
        let st = self.state.borrow();
        let spec: serde_json::Value = serde_json::from_str(&st.graph.to_json()).unwrap_or(serde_json::Value::Null);
        let body = json!({
            "revision": st.revision,
            "spec": spec,
            "can_undo": !st.undo.is_empty(),
            "can_redo": !st.redo.is_empty(),
        });
        Ok(Response::json(Status::Ok, body.to_string()))
    }

    fn check_revision(&self, given: u64) -> Result<(), Response> {
        let current = self.state.borrow().revision;
        if given == current {
            return Ok(());
        }
        let body = json!({
            "error": format!("stale revision {given}: the graph is at revision {current}; reload it and edit again"),
            "revision": current,
        });
        Err(Response::json(Status::Conflict, body.to_string()))
    }

    async fn edits(&self, body: &[u8]) -> Result<Response, Response> {
        let batch: EditBatch = parse(body, "the edit batch is not valid")?;
        let _guard = self.changing.lock().await;
        self.check_revision(batch.revision)?;
        let mut g = self.state.borrow().graph.clone();
        for (i, e) in batch.edits.iter().enumerate() {
            if let Err(err) = e.apply(&mut g) {
                let (node, port) = e.target();
                return Err(refused(&err.to_string(), Some(i), node, port));
            }
        }
        let (edits, sets) = for_live(&batch.edits);
        let live = if edits.is_empty() && sets.is_empty() {
            LiveChange::NotLive
        } else {
            let call = self.flow.call(move |r| async move { r.live_edits(edits, sets) });
            call.await.ok_or_else(gone)?
        };
        let mut reply = self.commit(g);
        note_live(&mut reply, live);
        Ok(Response::json(Status::Ok, reply.to_string()))
    }

    /// Makes `g` the graph (a new change: the old graph goes to the undo history, redo is
    /// cleared); returns `{"revision"}`.
    fn commit(&self, g: Graph) -> serde_json::Value {
        let mut st = self.state.borrow_mut();
        let old = std::mem::replace(&mut st.graph, g);
        st.undo.push_back(old);
        if st.undo.len() > HISTORY {
            st.undo.pop_front();
        }
        st.redo.clear();
        st.revision += 1;
        json!({ "revision": st.revision })
    }

    async fn undo(&self, body: &[u8], step: Step) -> Result<Response, Response> {
        let rev: RevisionOnly = parse(body, "undo and redo need {\"revision\": n}")?;
        let _guard = self.changing.lock().await;
        self.check_revision(rev.revision)?;
        let restored = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let taken = match step {
                Step::Undo => st.undo.pop_back(),
                Step::Redo => st.redo.pop(),
            };
            let Some(g) = taken else {
                let what = if matches!(step, Step::Undo) { "undo" } else { "redo" };
                return Err(Response::error(Status::Conflict, &format!("nothing to {what}")));
            };
            let old = std::mem::replace(&mut st.graph, g);
            match step {
                Step::Undo => st.redo.push(old),
                Step::Redo => st.undo.push_back(old),
            }
            st.revision += 1;
            st.graph.clone()
        };
        let mut reply = json!({ "revision": self.revision() });
        note_live(&mut reply, self.replace_live(restored).await?);
        Ok(Response::json(Status::Ok, reply.to_string()))
    }

    fn revision(&self) -> u64 {
        self.state.borrow().revision
    }

    /// Hands the editor's new graph to a live run, if one is on.
    async fn replace_live(&self, graph: Graph) -> Result<LiveChange, Response> {
        let call = self.flow.call(move |r| r.replace_live(graph));
        call.await.ok_or_else(gone)
    }

    /// Replaces the graph with one loaded from spec text (validated whole; errors carry line
    /// and column).
    async fn load(&self, body: &[u8]) -> Result<Response, Response> {
        let load: Load = parse(body, "load needs {\"revision\": n, \"text\": \"<spec>\"}")?;
        let _guard = self.changing.lock().await;
        self.check_revision(load.revision)?;
        let registry = self.state.borrow().graph.registry().clone();
        let g = Graph::from_json(&load.text, registry).map_err(|e| {
            let body = json!({ "error": e.to_string(), "line": e.line, "column": e.column });
            Response::json(Status::UnprocessableEntity, body.to_string())
        })?;
        let mut reply = self.commit(g.clone());
        note_live(&mut reply, self.replace_live(g).await?);
        Ok(Response::json(Status::Ok, reply.to_string()))
    }

    fn save(&self) -> Result<Response, Response> {
        let Some(path) = &self.save_to else {
            return Err(Response::error(Status::NotFound, "this editor has no file to save to"));
        };
        let text = self.state.borrow().graph.to_json();
        std::fs::write(path, text).map_err(|e| {
            Response::error(
                Status::ServiceUnavailable,
                &format!("could not write {}: {e}", path.display()),
            )
        })?;
        let body = json!({ "saved": path.display().to_string() });
        Ok(Response::json(Status::Ok, body.to_string()))
    }

    /// `{"mode": "batch"}` (the default) runs to the end and answers with every node's
    /// result; `{"mode": "live"}` starts a live run and answers at once.
    async fn run(&self, body: &[u8]) -> Result<Response, Response> {
        let req: RunRequest = if body.is_empty() {
            RunRequest::default()
        } else {
            parse(body, "run takes {\"mode\": \"batch\"} or {\"mode\": \"live\"}")?
        };
        let graph = self.state.borrow().graph.clone();
        let reply = match req.mode {
            Mode::Batch => self.flow.call(move |r| r.run_batch(graph)).await,
            Mode::Live => {
                let started = self.flow.call(move |r| r.start_live(graph)).await;
                started.map(|s| s.map(|()| json!({ "state": "running", "mode": "live" })))
            }
        };
        match reply.ok_or_else(gone)? {
            Ok(v) => Ok(Response::json(Status::Ok, v.to_string())),
            Err(Refusal::Busy) => Err(Response::error(Status::Conflict, &Refusal::Busy.to_string())),
            Err(Refusal::Invalid(m)) => Err(refused(&m, None, "", None)),
        }
    }

    async fn stop(&self) -> Result<Response, Response> {
        let stopped = self.flow.call(|r| async move { r.stop() }).await.ok_or_else(gone)?;
        if !stopped {
            return Err(Response::error(Status::Conflict, "no run is in progress"));
        }
        Ok(Response::json(Status::Ok, json!({ "stopped": true }).to_string()))
    }
}

/// Which way through the history.
#[derive(Debug, Clone, Copy)]
enum Step {
    Undo,
    Redo,
}

fn refused(err: &str, edit: Option<usize>, node: &str, port: Option<&str>) -> Response {
    let body = json!({
        "error": err,
        "edit": edit,
        "node": (!node.is_empty()).then_some(node),
        "port": port,
    });
    Response::json(Status::UnprocessableEntity, body.to_string())
}
