//! The HTTP server: a front flow (the listener streaming requests into the router) and,
//! per request, a run of the compiled branch its route takes.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use flowloop::flow::{Emitter, FlowBuilder, FlowError, NodeFault, RunOptions, Stream};
use flowloop::net::{BufReader, OwnedTcpWriteHalf, TcpListener, TcpStream};
use flowloop::runtime::{DropPolicy, TaskHandle};
use flowloop::sync::{AsyncQueue, Event};
use flowloop_graph::Value;

use super::ServerError;
use super::kinds::{BadRequest, CurrentRequest};
use super::plan::{BranchId, Plans, Routed, holding_nodes};
use super::route::{request_value, split_target};
use super::wire::{Limits, RawRequest, RawResponse, ReadError, read_request, write_response};

/// How often the accept loop looks at the [`StopHandle`].
const STOP_POLL: Duration = Duration::from_millis(50);

/// Requests read but not yet taken by the listener node; a full queue holds connections back.
const QUEUE: usize = 1024;
/// Stops a [`Server`] from any thread (for example a Ctrl-C handler).
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the server to stop accepting and return from [`Server::run`].
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`stop`](StopHandle::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

type LogFn = dyn Fn(&str);

struct Shared {
    plans: Plans,
    limits: Limits,
    next_id: Cell<RequestId>,
    log: Box<LogFn>,
}

/// Serves a graph with one `http.listen` node over HTTP/1.1: each request runs the branch of
/// the graph its route takes (on the loop, concurrently with the others) and is answered by
/// the `http.respond` node that got it; see the [module docs](super).
pub struct Server {
    shared: Rc<Shared>,
    listener: TcpListener,
    stop: StopHandle,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the listener's `addr` (override it with `addr`), plans the graph and compiles
    /// one copy of every route's branch.
    ///
    /// # Errors
    /// [`ServerError`]: no or several listeners, a route without a responder, a branch that
    /// does not compile (an input with neither edge nor value, named), a bind failure.
    pub fn bind(graph: &flowloop_graph::Graph, addr: Option<&str>, limits: Limits) -> Result<Server, ServerError> {
        let plans = Plans::new(graph)?;
        let addr = addr.map_or_else(|| plans.addr.clone(), str::to_string);
        let listener = TcpListener::bind(addr.as_str()).map_err(|source| ServerError::Bind { addr, source })?;
        let shared = Shared {
            plans,
            limits,
            next_id: Cell::new(RequestId(1)),
            log: Box::new(|line| eprintln!("{line}")),
        };
        Ok(Server {
            shared: Rc::new(shared),
            listener,
            stop: StopHandle::default(),
        })
    }

    /// Sends log lines (504s naming the node that held the request, 500s) to `log` instead of
    /// standard error. Call before [`run`](Server::run).
    pub fn on_log(&mut self, log: impl Fn(&str) + 'static) {
        if let Some(shared) = Rc::get_mut(&mut self.shared) {
            shared.log = Box::new(log);
        }
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle that stops [`run`](Server::run).
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Serves until stopped: an accept task (one task per connection) feeds the front flow,
    /// whose listener node streams the requests into the router node. Stopping closes the
    /// open connections (a request in flight on one is not answered) and ends the flow.
    ///
    /// # Errors
    /// The listener's accept error, or the front flow's error.
    pub async fn run(self) -> io::Result<()> {
        let queue: Rc<Queue> = Rc::new(AsyncQueue::bounded(QUEUE));
        let accepting = accept_loop(self.listener, self.stop, Rc::clone(&self.shared), Rc::clone(&queue));
        let accepting = flowloop::spawn(accepting).await;
        let mut b = FlowBuilder::new();
        let listen = b.stream(listen_node, (queue,));
        b.set_name(listen, &self.shared.plans.listen);
        let router = b.node(route_node, (listen.stream(), Rc::clone(&self.shared)));
        b.set_name(router, &self.shared.plans.front);
        let mut flow = b.build().map_err(io::Error::other)?;
        let served = flow.run(RunOptions::new()).await;
        let accepted = accepting.join().await.map_err(io::Error::other)?;
        served.map_err(io::Error::other)?;
        accepted
    }
}

type Queue = AsyncQueue<Rc<Pending>>;

/// A request on its way from its connection task through the front flow, and back.
///
/// States: the connection task makes it with the raw request and queues it; the router node
/// takes the raw request, stores its [`Decision`] and sets `decided`; the connection task
/// takes the decision and carries it out. A stopped server drops it undecided, and the
/// connection closes.
struct Pending {
    raw: RefCell<Option<RawRequest>>,
    decision: RefCell<Option<Decision>>,
    decided: Event,
}

/// The id of a request: its `id` in the request value, which responders copy into their
/// response so the server finds the answer to that request (not by order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RequestId(u64);

impl RequestId {
    /// As it appears in request and response values.
    fn value(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What the router decided for a request.
enum Decision {
    /// Run `branch` for `request` (the value `http.listen` hands out, carrying `id`).
    Run {
        branch: BranchId,
        request: Value,
        id: RequestId,
    },
    /// Answer at once (404, 400).
    Answer(RawResponse),
}

async fn accept_loop(
    mut listener: TcpListener,
    stop: StopHandle,
    shared: Rc<Shared>,
    queue: Rc<Queue>,
) -> io::Result<()> {
    let result = accept_until_stopped(&mut listener, &stop, &shared, &queue).await;
    queue.close();
    result
}

/// Accepts until stopped, one task per connection. The connection tasks belong to this loop:
/// when it ends (stopped, or the listener failed) the open connections are closed, so the
/// event loop does not wait for idle keep-alive clients.
async fn accept_until_stopped(
    listener: &mut TcpListener,
    stop: &StopHandle,
    shared: &Rc<Shared>,
    queue: &Rc<Queue>,
) -> io::Result<()> {
    let mut connections: Vec<TaskHandle<()>> = Vec::new();
    while !stop.is_stopped() {
        let Ok(accepted) = flowloop::timeout(STOP_POLL, listener.accept()).await else {
            continue;
        };
        let (stream, _) = accepted?;
        let connection = serve_connection(Rc::clone(shared), Rc::clone(queue), stream);
        connections.retain(|c| !c.is_finished());
        connections.push(flowloop::spawn(connection).await.on_drop(DropPolicy::Abort));
    }
    Ok(())
}

/// The listener node: emits every request the connections read, until the server stops.
/// Final value: how many requests it emitted.
async fn listen_node(out: Emitter<Rc<Pending>>, queue: Rc<Queue>) -> u64 {
    let mut emitted = 0;
    while let Ok(pending) = queue.get().await {
        if out.emit(pending).await.is_err() {
            break;
        }
        emitted += 1;
    }
    emitted
}

/// The router node: decides each request's branch (or its 404/400) as the stream brings it.
/// Final value: how many requests it routed.
async fn route_node(mut requests: Stream<Rc<Pending>>, shared: Rc<Shared>) -> u64 {
    let mut routed = 0;
    while let Some(pending) = requests.next().await {
        if let Some(raw) = pending.raw.borrow_mut().take() {
            *pending.decision.borrow_mut() = Some(decide(&shared, &raw));
        }
        pending.decided.set();
        routed += 1;
    }
    routed
}

fn decide(shared: &Shared, raw: &RawRequest) -> Decision {
    let id = shared.next_id.get();
    shared.next_id.set(RequestId(id.0 + 1));
    let path = split_target(&raw.target).0;
    let (branch, params) = match shared.plans.route(&raw.method, path) {
        Routed::Branch(b, params) => (b, params),
        Routed::NotFound => {
            let message = format!("no route for {} {path}", raw.method);
            return Decision::Answer(RawResponse::error(404, &message));
        }
    };
    match request_value(id.value(), raw, params) {
        Ok(request) => Decision::Run { branch, request, id },
        Err(message) => Decision::Answer(RawResponse::error(400, &message)),
    }
}

async fn serve_connection(shared: Rc<Shared>, queue: Rc<Queue>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let next = flowloop::timeout(shared.limits.idle, read_request(&mut reader, &shared.limits)).await;
        let request = match next {
            Ok(Ok(r)) => r,
            Ok(Err(ReadError::Closed | ReadError::Io(_))) => return,
            Ok(Err(ReadError::Reject(status, message))) => return reject(&mut write, status, &message).await,
            Err(_) => return reject(&mut write, 408, "no complete request within the idle timeout").await,
        };
        let keep_alive = request.keep_alive;
        let Some(response) = answer(&shared, &queue, request).await else {
            return; // the server stopped
        };
        if write_response(&mut write, &response, keep_alive).await.is_err() || !keep_alive {
            return;
        }
    }
}

async fn reject(write: &mut OwnedTcpWriteHalf, status: u16, message: &str) {
    let _ = write_response(write, &RawResponse::error(status, message), false).await;
}

/// Passes the request through the front flow and carries out the router's decision; `None`
/// when the server stopped first.
async fn answer(shared: &Shared, queue: &Queue, raw: RawRequest) -> Option<RawResponse> {
    let pending = Rc::new(Pending {
        raw: RefCell::new(Some(raw)),
        decision: RefCell::new(None),
        decided: Event::new(),
    });
    queue.put(Rc::clone(&pending)).await.ok()?;
    pending.decided.wait().await;
    let decision = pending.decision.borrow_mut().take()?;
    Some(match decision {
        Decision::Answer(response) => response,
        Decision::Run { branch, request, id } => run_branch(shared, branch, request, id).await,
    })
}

/// Runs a compiled copy of `branch` for `request`; a copy whose run completed is kept for
/// the next request, one that failed or ran out of time is dropped.
async fn run_branch(shared: &Shared, id_branch: BranchId, request: Value, id: RequestId) -> RawResponse {
    let branch = shared.plans.branch(id_branch);
    let mut compiled = match branch.take() {
        Ok(c) => c,
        Err(e) => return internal(shared, id, &e.to_string()),
    };
    let options = compiled.batch.options().context(CurrentRequest(request));
    let run = compiled.batch.run_async(options);
    match flowloop::timeout(shared.limits.deadline, run).await {
        Err(_) => {
            let this_run = compiled.runs;
            let produced = |n: &str| compiled.batch.generation(n).is_some_and(|g| g.run() >= this_run);
            let held = holding_nodes(&branch.graph, produced).join("`, `");
            (shared.log)(&format!(
                "request {id}: no answer within {:?}; held at node `{held}`",
                shared.limits.deadline
            ));
            RawResponse::error(504, "the request was not answered in time")
        }
        Ok(Err(e)) => failed(shared, id, &e),
        Ok(Ok(_)) => {
            compiled.runs += 1;
            let answer = branch
                .responders
                .iter()
                .filter_map(|r| compiled.batch.value(r, "out"))
                .find(|v| v.get("request").and_then(Value::as_int) == Some(id.value()));
            branch.give_back(compiled);
            match answer.map(|v| to_response(&v)) {
                Some(Ok(response)) => response,
                Some(Err(problem)) => internal(shared, id, &problem),
                None => internal(shared, id, "no http.respond node answered the request"),
            }
        }
    }
}

fn bad_request(e: &FlowError) -> Option<String> {
    e.failures().iter().find_map(|f| match f {
        flowloop::flow::Failure::Node {
            fault: NodeFault::Body(b),
            ..
        } => b.downcast_ref::<BadRequest>().map(|b| b.0.clone()),
        _ => None,
    })
}

fn failed(shared: &Shared, id: RequestId, e: &FlowError) -> RawResponse {
    match bad_request(e) {
        Some(message) => RawResponse::error(400, &message),
        None => internal(shared, id, &e.to_string()),
    }
}

fn internal(shared: &Shared, id: RequestId, message: &str) -> RawResponse {
    (shared.log)(&format!("request {id}: 500: {message}"));
    RawResponse::error(500, message)
}

/// A response value (from `http.respond`) as bytes: texts as they are, bytes raw, other
/// bodies as JSON.
///
/// # Errors
/// A header whose name or value holds a line break (it would split the response).
fn to_response(v: &Value) -> Result<RawResponse, String> {
    let status = v
        .get("status")
        .and_then(Value::as_int)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200);
    let mut headers = response_headers(v)?;
    let (body, content_type) = match v.get("body") {
        None | Some(Value::Null) => (Vec::new(), None),
        Some(Value::Str(s)) => (s.as_bytes().to_vec(), Some("text/plain; charset=utf-8")),
        Some(Value::Bytes(b)) => (b.to_vec(), Some("application/octet-stream")),
        Some(other) => (serde_json::to_vec(other).unwrap_or_default(), Some("application/json")),
    };
    if let Some(ct) = content_type.filter(|_| !headers.iter().any(|(k, _)| k == "content-type")) {
        headers.push(("content-type".into(), ct.into()));
    }
    Ok(RawResponse { status, headers, body })
}

/// The `headers` map of a response value as `(lowercase name, text)` pairs.
fn response_headers(v: &Value) -> Result<Vec<(String, String)>, String> {
    let Some(map) = v.get("headers").and_then(Value::as_map) else {
        return Ok(Vec::new());
    };
    map.iter()
        .map(|(k, v)| {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            if k.contains(['\r', '\n']) || value.contains(['\r', '\n']) {
                return Err(format!("response header `{}` holds a line break", k.escape_debug()));
            }
            Ok((k.to_ascii_lowercase(), value))
        })
        .collect()
}
