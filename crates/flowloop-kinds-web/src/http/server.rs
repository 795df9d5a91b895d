//! The HTTP server that runs a graph once per request.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use flowloop::flow::{FlowError, NodeFault};
use flowloop::net::{BufReader, OwnedTcpWriteHalf, TcpListener, TcpStream};
use flowloop_graph::{Graph, Value};

use super::ServerError;
use super::kinds::{BadRequest, match_request};
use super::plan::{Plan, Plans, holding_nodes};
use super::route::request_value;
use super::wire::{Limits, RawRequest, RawResponse, ReadError, read_request, write_response};

/// How often the accept loop looks at the [`StopHandle`].
const STOP_POLL: Duration = Duration::from_millis(50);

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
    next_id: Cell<u64>,
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
    /// Binds the listener's `addr` (override it with `addr`) and plans the graph.
    ///
    /// # Errors
    /// [`ServerError`]: no or several listeners, a route without a responder, a bind failure.
    pub fn bind(graph: &Graph, addr: Option<&str>, limits: Limits) -> Result<Server, ServerError> {
        let plans = Plans::new(graph)?;
        let addr = addr.map_or_else(|| plans.addr.clone(), str::to_string);
        let listener = TcpListener::bind(addr.as_str()).map_err(|source| ServerError::Bind { addr, source })?;
        let shared = Shared {
            plans,
            limits,
            next_id: Cell::new(1),
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

    /// Accepts connections until stopped, one task per connection.
    ///
    /// # Errors
    /// The listener's accept error.
    pub async fn run(mut self) -> io::Result<()> {
        while !self.stop.is_stopped() {
            let accepted = flowloop::timeout(STOP_POLL, self.listener.accept()).await;
            let Ok(accepted) = accepted else { continue };
            let (stream, _) = accepted?;
            let shared = Rc::clone(&self.shared);
            drop(flowloop::spawn(serve_connection(shared, stream)).await);
        }
        Ok(())
    }
}

async fn serve_connection(shared: Rc<Shared>, stream: TcpStream) {
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
        let response = answer(&shared, &request).await;
        if write_response(&mut write, &response, keep_alive).await.is_err() || !keep_alive {
            return;
        }
    }
}

async fn reject(write: &mut OwnedTcpWriteHalf, status: u16, message: &str) {
    let _ = write_response(write, &RawResponse::error(status, message), false).await;
}

/// Runs the graph for one request and turns what it produced into a response.
async fn answer(shared: &Shared, raw: &RawRequest) -> RawResponse {
    let id = shared.next_id.get();
    shared.next_id.set(id + 1);
    let request = match request_value(id, raw) {
        Ok(r) => r,
        Err(message) => return RawResponse::error(400, &message),
    };
    let plan = match &shared.plans.routes {
        None => &shared.plans.plans[0],
        Some(routes) => match match_request(routes, &request) {
            Some((i, _)) => &shared.plans.plans[i],
            None => return RawResponse::error(404, &format!("no route for {} {}", raw.method, path_of(raw))),
        },
    };
    run_plan(shared, plan, request, id).await
}

fn path_of(raw: &RawRequest) -> &str {
    raw.target.split('?').next().unwrap_or("")
}

async fn run_plan(shared: &Shared, plan: &Plan, request: Value, id: u64) -> RawResponse {
    let mut graph = plan.graph.clone();
    if let Err(e) = graph.set_constant(&shared.plans.listen, "request", request) {
        return internal(shared, id, &e.to_string());
    }
    let mut batch = match graph.batch() {
        Ok(b) => b,
        Err(e) => return internal(shared, id, &e.to_string()),
    };
    let run = batch.run_async(batch.options());
    match flowloop::timeout(shared.limits.deadline, run).await {
        Err(_) => {
            let held = holding_nodes(&graph, |n| batch.generation(n).is_some()).join("`, `");
            (shared.log)(&format!(
                "request {id}: no answer within {:?}; held at node `{held}`",
                shared.limits.deadline
            ));
            RawResponse::error(504, "the request was not answered in time")
        }
        Ok(Err(e)) => failed(shared, id, &e),
        Ok(Ok(_)) => plan
            .responders
            .iter()
            .filter_map(|r| batch.value(r, "out"))
            .find(|v| v.get("request").and_then(Value::as_int) == Some(id as i64))
            .map_or_else(
                || internal(shared, id, "no http.respond node answered the request"),
                |v| to_response(&v),
            ),
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

fn failed(shared: &Shared, id: u64, e: &FlowError) -> RawResponse {
    match bad_request(e) {
        Some(message) => RawResponse::error(400, &message),
        None => internal(shared, id, &e.to_string()),
    }
}

fn internal(shared: &Shared, id: u64, message: &str) -> RawResponse {
    (shared.log)(&format!("request {id}: 500: {message}"));
    RawResponse::error(500, message)
}

/// A response value (from `http.respond`) as bytes: texts as they are, bytes raw, other
/// bodies as JSON.
fn to_response(v: &Value) -> RawResponse {
    let status = v
        .get("status")
        .and_then(Value::as_int)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200);
    let mut headers: Vec<(String, String)> = v
        .get("headers")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (body, content_type) = match v.get("body") {
        None | Some(Value::Null) => (Vec::new(), None),
        Some(Value::Str(s)) => (s.as_bytes().to_vec(), Some("text/plain; charset=utf-8")),
        Some(Value::Bytes(b)) => (b.to_vec(), Some("application/octet-stream")),
        Some(other) => (serde_json::to_vec(other).unwrap_or_default(), Some("application/json")),
    };
    if let Some(ct) = content_type.filter(|_| !headers.iter().any(|(k, _)| k == "content-type")) {
        headers.push(("content-type".into(), ct.into()));
    }
    RawResponse { status, headers, body }
}
