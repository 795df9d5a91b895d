//! [`WebServer`]: the server thread with its own event loop, the routes, and the stall
//! watchdog.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowloop::flow::{BeaconMark, RunBeacon};
use flowloop::net::TcpListener;
use flowloop::runtime::RemoteTask;
use flowloop::sync::Event;
use flowloop::{EventLoop, LoopHandle};

use crate::WebError;
use crate::config::{Access, ServerConfig};
use crate::editor::Editor;
use crate::http::{Method, Reply, Request, Response, Status};
use crate::model::{RunState, Snapshot, Topology};
use crate::sample::{PollHistory, Relay};
use crate::sse::Hub;

const PAGE: &str = include_str!("page/index.html");
const FAVICON: &str = include_str!("page/favicon.svg");

/// What the flow's side sends to the server thread.
#[derive(Debug)]
pub(crate) enum Publication {
    /// A full snapshot.
    Snapshot(Snapshot),
    /// A typed flow's raw sample (the server makes the snapshot).
    Sample(crate::sample::Sample),
    /// The key of every flow node, by flow index, for a run whose nodes are not in the
    /// [`Topology`] (the editor's graph): lets a stall report name the node.
    Keys(Vec<String>),
}

/// Answers commands posted to `/api/command`, on the flow's loop.
pub(crate) trait Control: Send {
    /// Sends `command` (the posted JSON) to the flow's loop; the task's value is the reply.
    fn command(&self, command: serde_json::Value) -> RemoteTask<Result<serde_json::Value, String>>;
}

thread_local! {
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

/// A `Send` handle the flow's side uses to publish to the server thread.
#[derive(Debug, Clone)]
pub(crate) struct ServerLink {
    handle: LoopHandle,
    relay: Arc<Relay>,
}

impl ServerLink {
    /// Hands `p` to the server thread (as a tiny task on its loop); never blocks.
    pub(crate) fn publish(&self, p: Publication) {
        drop(self.handle.spawn(async move {
            let app = APP.with(|a| a.borrow().clone());
            if let Some(app) = app {
                app.receive(p);
            }
        }));
    }

    /// Leaves a typed flow's sample in the relay's mailbox (replacing an unread older one)
    /// and, when `wake`, has the server thread take it now. Without `wake` (a run's final
    /// sample: the run's caller should not pay for a cross-thread wake-up) the server takes it
    /// at its next watchdog tick (within one sample interval, at most 100 ms), before it
    /// answers its next request, or when it shuts down.
    pub(crate) fn post_sample(&self, sample: crate::sample::Sample, wake: bool) {
        self.relay.post(sample);
        if wake {
            self.deliver();
        }
    }

    /// Has the server thread take the mailbox's sample now (a tiny task on its loop).
    fn deliver(&self) {
        drop(self.handle.spawn(async {
            if let Some(app) = APP.with(|a| a.borrow().clone()) {
                app.take_mail();
            }
        }));
    }

    /// Records a run's start without waking the server thread (its watchdog notices within
    /// one tick); returns the run's number for its samples. The previous run's final sample,
    /// if the server has not taken it yet, stays in its own slot of the mailbox, so the new
    /// run's samples do not hide it.
    pub(crate) fn start_run(&self) -> u64 {
        self.relay.start_run()
    }

    /// An empty buffer for a sample's views, recycled from an earlier sample when possible.
    pub(crate) fn views_buffer(&self) -> Vec<flowloop::flow::PackedView> {
        self.relay.views_buffer()
    }
}

/// The dashboard's HTTP server, running on its own thread and event loop. Dropping it stops
/// the server and joins the thread.
#[derive(Debug)]
pub struct WebServer {
    addr: SocketAddr,
    link: ServerLink,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebServer {
    /// Starts the server thread and binds `config`'s address.
    pub(crate) fn start(
        config: ServerConfig,
        topology: Topology,
        beacon: Option<Arc<RunBeacon>>,
        control: Option<Box<dyn Control>>,
    ) -> Result<WebServer, WebError> {
        WebServer::start_with(config, topology, beacon, control, None)
    }

    /// Starts the server thread, with an editor when `editor` is given.
    pub(crate) fn start_with(
        config: ServerConfig,
        topology: Topology,
        beacon: Option<Arc<RunBeacon>>,
        control: Option<Box<dyn Control>>,
        editor: Option<EditorSeed>,
    ) -> Result<WebServer, WebError> {
        config.check()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let relay = Arc::new(Relay::default());
        let server_relay = Arc::clone(&relay);
        let thread = std::thread::Builder::new()
            .name("flowloop-web".into())
            .spawn(move || server_thread(config, topology, (beacon, server_relay), control, editor, tx))
            .map_err(|e| WebError::Start(e.to_string()))?;
        match rx.recv() {
            Ok(Ok((addr, handle))) => Ok(WebServer {
                addr,
                link: ServerLink { handle, relay },
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(WebError::Start("the server thread ended before it listened".into())),
        }
    }

    /// The address the server listens on (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn link(&self) -> ServerLink {
        self.link.clone()
    }

    /// Stops accepting, closes every connection and joins the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            drop(self.link.handle.spawn(async {
                if let Some(app) = APP.with(|a| a.borrow().clone()) {
                    // A run's final sample may still wait in the mailbox: publish it before
                    // the connections close, so every client gets the last frame.
                    app.take_mail();
                    app.stop.set();
                }
            }));
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The graph, the file to save it to and the flow thread it runs on, handed to the server
/// thread.
pub(crate) type EditorSeed = (
    flowloop_graph::Graph,
    Option<std::path::PathBuf>,
    crate::flow_thread::FlowRemote,
);

type Ready = std::sync::mpsc::Sender<Result<(SocketAddr, LoopHandle), WebError>>;

fn server_thread(
    config: ServerConfig,
    topology: Topology,
    signals: (Option<Arc<RunBeacon>>, Arc<Relay>),
    control: Option<Box<dyn Control>>,
    editor: Option<EditorSeed>,
    ready: Ready,
) {
    let mut lp = match EventLoop::builder().offload_threads(2).build() {
        Ok(lp) => lp,
        Err(e) => {
            let _ = ready.send(Err(WebError::Start(e.to_string())));
            return;
        }
    };
    lp.wait_for_spawned(false);
    let handle = lp.handle();
    let mut app = App::new(config, topology, signals, control);
    app.editor = editor.map(|(g, path, flow)| Editor::new(g, path, flow));
    let app = Rc::new(app);
    APP.with(|a| *a.borrow_mut() = Some(Rc::clone(&app)));
    let _ = lp.run_until_complete(serve(Rc::clone(&app), handle, ready));
    APP.with(|a| a.borrow_mut().take());
}

async fn serve(app: Rc<App>, handle: LoopHandle, ready: Ready) {
    let addr = app.config.addr;
    let mut listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(source) => {
            let _ = ready.send(Err(WebError::Bind { addr, source }));
            return;
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    if ready.send(Ok((local, handle))).is_err() {
        return;
    }
    let watchdog = flowloop::spawn(watch_stalls(Rc::clone(&app))).await;
    let stop = app.stop.clone();
    let accepting = accept_loop(&mut listener, &app);
    crate::select::first(accepting, stop.wait()).await;
    watchdog.cancel().await;
}

async fn accept_loop(listener: &mut TcpListener, app: &Rc<App>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            flowloop::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if app.connections.get() >= app.config.limits.max_connections {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let app = Rc::clone(app);
        app.connections.set(app.connections.get() + 1);
        flowloop::spawn(async move {
            crate::http::serve_connection(stream, Rc::clone(&app)).await;
            app.connections.set(app.connections.get() - 1);
        })
        .await
        .detach();
    }
}

/// Every sample interval (at least every 100 ms, at most every 5 ms): take a typed flow's
/// sample left in the mailbox (a run's final one), notice its new run (the relay's counter),
/// follow the beacon, and once the flow's loop has been silent past `stall_after` while
/// running, publish which node has been running for how long.
async fn watch_stalls(app: Rc<App>) {
    let every = app
        .config
        .sample_every
        .clamp(Duration::from_millis(5), Duration::from_millis(100));
    loop {
        flowloop::sleep(every).await;
        app.take_mail();
        app.check_stall(Instant::now());
    }
}

/// A node that has been running while the flow's loop did not publish.
#[derive(Debug, Clone, serde::Serialize)]
struct Stall {
    node: Option<usize>,
    key: Option<String>,
    running_ms: u64,
    silent_ms: u64,
}

/// The server thread's state.
pub(crate) struct App {
    config: ServerConfig,
    hub: Hub,
    topology: RefCell<Topology>,
    topology_json: RefCell<String>,
    /// Node keys by flow index when the topology has none (the editor's runs).
    flow_keys: RefCell<Vec<String>>,
    /// Poll times at the previous sample of the typed flow's run in progress, by run number.
    polls: RefCell<(u64, PollHistory)>,
    /// The latest run of the typed flow the server knows of (from a sample or the relay).
    run_seen: Cell<u64>,
    relay: Arc<Relay>,
    snapshot_json: RefCell<String>,
    state: Cell<RunState>,
    last_snapshot: Cell<Instant>,
    beacon: Option<Arc<RunBeacon>>,
    mark: Cell<(Option<BeaconMark>, Instant)>,
    stall: RefCell<Option<Stall>>,
    control: Option<Box<dyn Control>>,
    editor: Option<Editor>,
    instance: u64,
    connections: Cell<usize>,
    stop: Event,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("addr", &self.config.addr)
            .finish_non_exhaustive()
    }
}

impl App {
    fn new(
        config: ServerConfig,
        topology: Topology,
        (beacon, relay): (Option<Arc<RunBeacon>>, Arc<Relay>),
        control: Option<Box<dyn Control>>,
    ) -> App {
        let now = Instant::now();
        let instance = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let topology_json = serde_json::to_string(&topology).unwrap_or_else(|_| "{}".into());
        let app = App {
            config,
            hub: Hub::new(String::new()),
            topology: RefCell::new(topology),
            topology_json: RefCell::new(topology_json),
            flow_keys: RefCell::new(Vec::new()),
            polls: RefCell::new((0, PollHistory::default())),
            run_seen: Cell::new(0),
            relay,
            snapshot_json: RefCell::new("null".into()),
            state: Cell::new(RunState::Idle),
            last_snapshot: Cell::new(now),
            beacon,
            mark: Cell::new((None, now)),
            stall: RefCell::new(None),
            control,
            editor: None,
            instance: instance & ((1 << 53) - 1),
            connections: Cell::new(0),
            stop: Event::new(),
        };
        app.republish();
        app
    }

    pub(crate) fn config(&self) -> &ServerConfig {
        &self.config
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Publishes the sample waiting in the relay's mailbox, if any.
    fn take_mail(&self) {
        for sample in self.relay.take_mail() {
            self.receive(Publication::Sample(sample));
        }
    }

    fn receive(&self, p: Publication) {
        match p {
            Publication::Keys(keys) => {
                *self.flow_keys.borrow_mut() = keys;
                return;
            }
            Publication::Sample(sample) => {
                self.run_seen.set(self.run_seen.get().max(sample.run));
                let mut fresh = PollHistory::default();
                let mut polls = self.polls.borrow_mut();
                let history = if sample.state != RunState::Running {
                    &mut fresh
                } else {
                    if polls.0 != sample.run {
                        *polls = (sample.run, PollHistory::default());
                    }
                    &mut polls.1
                };
                let (snapshot, views) = sample.into_snapshot(&self.topology.borrow().edges, history);
                drop(polls);
                self.relay.recycle(views);
                return self.receive(Publication::Snapshot(snapshot));
            }
            Publication::Snapshot(s) => {
                self.state.set(s.state);
                self.last_snapshot.set(Instant::now());
                *self.snapshot_json.borrow_mut() = serde_json::to_string(&s).unwrap_or_else(|_| "null".into());
                self.stall.borrow_mut().take();
            }
        }
        self.republish();
    }

    /// The frame every client gets: server instance, stall report and the latest snapshot.
    fn frame_data(&self) -> String {
        let stall = serde_json::to_string(&*self.stall.borrow()).unwrap_or_else(|_| "null".into());
        format!(
            "{{\"instance\":{},\"stall\":{},\"snapshot\":{}}}",
            self.instance,
            stall,
            self.snapshot_json.borrow()
        )
    }

    fn republish(&self) {
        self.hub.publish(self.frame_data());
    }

    /// A typed flow's run that started since the last sample: the server learns of it here
    /// (the flow's side does not wake the server thread to say so).
    fn follow_runs(&self, now: Instant) {
        let started = self.relay.runs_started();
        if started > self.run_seen.get() {
            self.run_seen.set(started);
            self.state.set(RunState::Running);
            self.last_snapshot.set(now);
        }
    }

    fn check_stall(&self, now: Instant) {
        self.follow_runs(now);
        let mark = self.beacon.as_ref().and_then(|b| b.last());
        let (seen, since) = self.mark.get();
        if seen != mark {
            self.mark.set((mark, now));
        }
        let silent = now.saturating_duration_since(self.last_snapshot.get());
        if self.state.get() != RunState::Running || silent < self.config.stall_after {
            return;
        }
        let since = if seen == mark { since } else { now };
        let node = mark.map(|m| m.node.index());
        let key = node.and_then(|i| {
            let from_topology = self.topology.borrow().nodes.get(i).map(|n| n.key.clone());
            from_topology.or_else(|| self.flow_keys.borrow().get(i).cloned())
        });
        *self.stall.borrow_mut() = Some(Stall {
            node,
            key,
            running_ms: now.saturating_duration_since(since).as_millis() as u64,
            silent_ms: silent.as_millis() as u64,
        });
        self.republish();
    }

    /// Answers one request.
    pub(crate) async fn route(&self, req: &Request) -> Reply {
        if let Some(denied) = self.authorize(req) {
            return Reply::Plain(denied);
        }
        // Whatever the request reads (a snapshot, the event stream's first frame), it sees a
        // run's final sample even before the watchdog's tick delivers it.
        self.take_mail();
        if let Some(editor) = &self.editor {
            if let Some(r) = editor.route(req).await {
                return Reply::Plain(r);
            }
        }
        let get = matches!(req.method, Method::Get | Method::Head);
        match (req.path.as_str(), get) {
            ("/" | "/index.html", true) => Reply::Plain(Response::fixed("text/html; charset=utf-8", PAGE.as_bytes())),
            ("/favicon.ico" | "/favicon.svg", true) => {
                Reply::Plain(Response::fixed("image/svg+xml", FAVICON.as_bytes()))
            }
            ("/api/graph", true) => Reply::Plain(Response::json(Status::Ok, self.topology_json.borrow().clone())),
            ("/api/snapshot", true) => Reply::Plain(Response::json(Status::Ok, self.hub.latest().data.clone())),
            ("/api/info", true) => Reply::Plain(self.info()),
            ("/events", true) => Reply::Events,
            ("/api/command", false) if req.method == Method::Post => Reply::Plain(self.command(req).await),
            (
                "/" | "/index.html" | "/favicon.ico" | "/favicon.svg" | "/api/graph" | "/api/snapshot" | "/api/info"
                | "/events" | "/api/command",
                _,
            ) => Reply::Plain(Response::error(Status::MethodNotAllowed, "method not allowed")),
            _ => Reply::Plain(Response::error(Status::NotFound, "no such page")),
        }
    }

    fn authorize(&self, req: &Request) -> Option<Response> {
        if let Some(token) = &self.config.token {
            let bearer = req.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
            let given = bearer.or_else(|| req.query_param("token"));
            if !given.is_some_and(|g| same_token(g.as_bytes(), token.as_bytes())) {
                return Some(Response::error(
                    Status::Unauthorized,
                    "this dashboard needs its token: open the URL the program printed (with ?token=)",
                ));
            }
        }
        if req.method == Method::Post && self.config.access == Access::ReadOnly {
            return Some(Response::error(Status::Forbidden, "this dashboard is read-only"));
        }
        None
    }

    fn info(&self) -> Response {
        let info = serde_json::json!({
            "read_only": self.config.access == Access::ReadOnly,
            "commands": self.control.is_some(),
            "editor": self.editor.is_some(),
            "instance": self.instance,
            "clients": self.hub.clients(),
            "sample_ms": self.config.sample_every.as_millis() as u64,
        });
        Response::json(Status::Ok, info.to_string())
    }

    async fn command(&self, req: &Request) -> Response {
        let Some(control) = &self.control else {
            return Response::error(Status::NotFound, "this flow takes no commands");
        };
        let body: serde_json::Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return Response::error(Status::BadRequest, &format!("the command is not JSON: {e}")),
        };
        let task = control.command(body);
        let waited = flowloop::timeout(Duration::from_secs(10), flowloop::offload(move || task.join())).await;
        match waited {
            Ok(Ok(Ok(Ok(v)))) => Response::json(Status::Ok, v.to_string()),
            Ok(Ok(Ok(Err(msg)))) => Response::error(Status::Conflict, &msg),
            Ok(_) => Response::error(Status::ServiceUnavailable, "the flow's loop is gone"),
            Err(_) => Response::error(
                Status::ServiceUnavailable,
                "the flow's loop did not answer within 10 s (busy?)",
            ),
        }
    }
}

/// Compares tokens without stopping at the first difference.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
