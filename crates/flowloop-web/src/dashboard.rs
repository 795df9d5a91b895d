//! [`FlowDashboard`]: the live dashboard of a typed [`Flow`].
//!
//! The flow's loop pays nothing per node run: a sampler, ticking inside the run's own task,
//! copies the counters the scheduler keeps anyway ([`Flow::packed_views_into`], into a buffer
//! the server thread hands back) every sample interval and sends them to the server thread,
//! which makes the [`Snapshot`](crate::Snapshot). The only per-run extra is the [`RunBeacon`]
//! store that lets the server name a node that hogs the CPU. Per run of the flow: one atomic
//! add at the start (the server's watchdog notices it; no cross-thread wake-up) and one final
//! sample at the end, left in the server's mailbox without waking it (its watchdog tick, its
//! next request or its shutdown publishes it): a one-shot run pays a compact copy and no
//! wake-up.

use std::cell::{Cell, Ref, RefCell};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowloop::flow::{Flow, FlowEdge, FlowError, NodeId, Outcome, Output, RunBeacon, RunOptions};
use flowloop::runtime::RemoteTask;
use flowloop::sync::Event;
use flowloop::{EventLoop, LoopHandle};

use crate::model::{RunState, Topology, TopologyEdge, TopologyNode};
use crate::sample::Sample;
use crate::select::{Either, first_ticking};
use crate::server::{Control, ServerLink, WebServer};
use crate::{ServerConfig, WebError, layout};

type PreviewFn = Box<dyn Fn(&Flow) -> Option<String>>;

/// The watched nodes' previews, by node index: only these are visited per sample.
type Previews = Vec<(usize, PreviewFn)>;

/// How a dashboard-driven run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEnd {
    /// The flow's run ended by itself.
    Finished(Outcome),
    /// A `stop` command (from the page, or [`FlowDashboard::stop`]) ended it.
    Stopped,
}

thread_local! {
    /// Dashboards living on this (flow) thread, by key, for commands arriving from the server.
    static DASHBOARDS: RefCell<HashMap<u64, Weak<Shared>>> = RefCell::new(HashMap::new());
}

static NEXT_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A typed flow with its dashboard: a web page showing every node's status, generation, run
/// count, value preview, error and poll time, live.
///
/// ```no_run
/// use flowloop::EventLoop;
/// use flowloop::flow::{FlowBuilder, RunOptions};
/// use flowloop_web::{FlowDashboard, ServerConfig};
///
/// async fn double(x: i64) -> i64 { x * 2 }
///
/// let mut b = FlowBuilder::new();
/// let d = b.node(double, (21,));
/// let mut lp = EventLoop::new().unwrap();
/// let dash = FlowDashboard::start(b.build().unwrap(), &lp, ServerConfig::new()).unwrap();
/// dash.watch(d);
/// println!("dashboard: {}", dash.url());
/// dash.run_on(&mut lp, RunOptions::new()).unwrap();
/// ```
pub struct FlowDashboard {
    shared: Rc<Shared>,
    server: WebServer,
}

impl Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Debug for FlowDashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowDashboard")
            .field("addr", &self.server.addr())
            .finish_non_exhaustive()
    }
}

/// The flow side, shared by the run, the sampler and command handling.
struct Shared {
    key: u64,
    flow: RefCell<Flow>,
    previews: RefCell<Previews>,
    beacon: Arc<RunBeacon>,
    link: RefCell<Option<ServerLink>>,
    sample_every: Duration,
    time_nodes: Cell<bool>,
    slow_poll: Cell<Duration>,
    stop: RefCell<Option<Event>>,
    url: RefCell<String>,
    /// The number of the run in progress or last run (0 before the first).
    run_number: Cell<u64>,
    /// Whether any edge is a stream (only then does a sample read stream lags).
    has_streams: bool,
}

impl FlowDashboard {
    /// Starts the server for `flow`, whose runs will happen on `lp`'s loop (commands from the
    /// page go there through its [`LoopHandle`]).
    ///
    /// # Errors
    /// [`WebError::TokenRequired`] for a non-loopback address without a token,
    /// [`WebError::Bind`] if the address is taken.
    pub fn start(flow: Flow, lp: &EventLoop, config: ServerConfig) -> Result<FlowDashboard, WebError> {
        let key = NEXT_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let edges = flow.edges();
        let topology = topology_of(&flow, &edges);
        let beacon = RunBeacon::new();
        let control = FlowControl {
            handle: lp.handle(),
            key,
        };
        let token = config.token.clone();
        let sample_every = config.sample_every;
        let server = WebServer::start(config, topology, Some(Arc::clone(&beacon)), Some(Box::new(control)))?;
        let url = match token {
            Some(t) => format!("http://{}/?token={t}", server.addr()),
            None => format!("http://{}/", server.addr()),
        };
        let shared = Rc::new(Shared {
            key,
            flow: RefCell::new(flow),
            previews: RefCell::new(Vec::new()),
            beacon,
            link: RefCell::new(Some(server.link())),
            sample_every,
            time_nodes: Cell::new(false),
            slow_poll: Cell::new(Duration::from_millis(20)),
            stop: RefCell::new(None),
            url: RefCell::new(url),
            run_number: Cell::new(0),
            has_streams: edges.iter().any(|e| e.stream),
        });
        DASHBOARDS.with(|d| d.borrow_mut().insert(key, Rc::downgrade(&shared)));
        shared.publish(RunState::Idle, Duration::ZERO, None);
        Ok(FlowDashboard { shared, server })
    }

    /// The page's URL (with the token, if one is set).
    pub fn url(&self) -> String {
        self.shared.url.borrow().clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Shows a preview of `output`'s latest value (its `Debug` form, truncated) on its node.
    pub fn watch<T: Debug + 'static>(&self, output: impl Into<Output<T>>) -> &Self {
        self.watch_with(output, |v: &T| format!("{v:?}"))
    }

    /// Shows `render(value)` (truncated) as `output`'s preview.
    pub fn watch_with<T: 'static>(
        &self,
        output: impl Into<Output<T>>,
        render: impl Fn(&T) -> String + 'static,
    ) -> &Self {
        let out: Output<T> = output.into();
        let index = flowloop::flow::AsNode::node_id(&out).index();
        let preview: PreviewFn = Box::new(move |flow: &Flow| flow.value(out).map(|v| render(&v)));
        if index >= self.shared.flow.borrow().len() {
            // (An output of another flow: this flow has no such node.)
            return self;
        }
        let mut previews = self.shared.previews.borrow_mut();
        match previews.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = preview,
            None => previews.push((index, preview)),
        }
        drop(previews);
        self
    }

    /// Measures poll time per node (two clock reads per poll; off by default). The page then
    /// shows cumulative and recent poll times, with a badge past `slow_threshold`.
    pub fn time_nodes(&self, slow_threshold: Duration) -> &Self {
        self.shared.time_nodes.set(true);
        self.shared.slow_poll.set(slow_threshold);
        self
    }

    /// The flow (between runs, or from another task while it runs).
    pub fn flow(&self) -> Ref<'_, Flow> {
        self.shared.flow.borrow()
    }

    /// Ends the run in progress (as the page's stop button does); returns whether one was.
    pub fn stop(&self) -> bool {
        self.shared.request_stop()
    }

    /// A handle that stops the run in progress from a task of the flow's loop.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            shared: Rc::downgrade(&self.shared),
        }
    }

    /// Runs the flow once on the current loop (the one given to [`start`](Self::start)) with a
    /// sampler task beside it, publishing a snapshot every sample interval and a last one at the
    /// end.
    pub fn run(&self, options: RunOptions) -> impl Future<Output = Result<RunEnd, FlowError>> + 'static {
        let shared = Rc::clone(&self.shared);
        async move { shared.run(options).await }
    }

    /// [`run`](Self::run) on `lp`.
    ///
    /// # Errors
    /// As [`Flow::run_until_complete`].
    pub fn run_on(&self, lp: &mut EventLoop, options: RunOptions) -> Result<RunEnd, FlowError> {
        lp.run_until_complete(self.run(options))?
    }

    /// Stops the server and joins its thread.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for FlowDashboard {
    fn drop(&mut self) {
        self.shared.link.borrow_mut().take();
        DASHBOARDS.with(|d| d.borrow_mut().remove(&self.shared.key));
    }
}

impl Shared {
    async fn run(self: Rc<Self>, options: RunOptions) -> Result<RunEnd, FlowError> {
        let stop = Event::new();
        *self.stop.borrow_mut() = Some(stop.clone());
        let mut options = options.beacon(Arc::clone(&self.beacon));
        if self.time_nodes.get() {
            options = options.time_nodes(true);
        }
        let started = Instant::now();
        self.run_number
            .set(self.link.borrow().as_ref().map_or(0, ServerLink::start_run));
        let run = self.flow.borrow_mut().run(options);
        // The sampler ticks inside this task (no task to spawn and cancel per run); the
        // server's watchdog learns of the run from the relay, so nothing wakes it until the
        // first sample.
        let tick = || self.post(self.sample(RunState::Running, started.elapsed(), None, &[]), true);
        let ended = first_ticking(run, stop.wait(), self.sample_every, tick).await;
        self.stop.borrow_mut().take();
        let (state, result) = match ended {
            Either::Left(Ok(outcome)) if outcome.is_completed() => (RunState::Completed, Ok(RunEnd::Finished(outcome))),
            Either::Left(Ok(outcome)) => (RunState::LimitReached, Ok(RunEnd::Finished(outcome))),
            Either::Left(Err(e)) => (RunState::Failed, Err(e)),
            Either::Right(()) => (RunState::Stopped, Ok(RunEnd::Stopped)),
        };
        let error = result.as_ref().err().map(|e| e.to_string());
        let node_errors: Vec<(NodeId, String)> = match &result {
            Err(e) => e
                .failures()
                .iter()
                .filter_map(|f| f.node().map(|n| (n, f.to_string())))
                .collect(),
            Ok(_) => Vec::new(),
        };
        // The final sample waits in the mailbox: waking the server thread would cost this
        // run's caller a cross-thread wake-up (a few µs, more than the copy).
        self.post(self.sample(state, started.elapsed(), error, &node_errors), false);
        result
    }

    fn publish(&self, state: RunState, elapsed: Duration, error: Option<String>) {
        self.post(self.sample(state, elapsed, error, &[]), true);
    }

    /// Hands `sample` to the server thread, waking it when `wake`.
    fn post(&self, sample: Sample, wake: bool) {
        if let Some(link) = self.link.borrow().as_ref() {
            link.post_sample(sample, wake);
        }
    }

    fn request_stop(&self) -> bool {
        match self.stop.borrow().as_ref() {
            Some(ev) => {
                ev.set();
                true
            }
            None => false,
        }
    }

    /// Copies what the page needs under one borrow; `ended_with` holds the node errors of a
    /// run that just failed (the flow hands them over in its error, so they are no longer in
    /// `errors_so_far`). The server thread makes the [`Snapshot`] of it.
    fn sample(
        &self,
        state: RunState,
        elapsed: Duration,
        error: Option<String>,
        ended_with: &[(NodeId, String)],
    ) -> Sample {
        let flow = self.flow.borrow();
        let errors = flow
            .errors_so_far()
            .into_iter()
            .chain(ended_with.iter().cloned())
            .map(|(n, m)| (n.index(), m))
            .collect();
        let previews = self
            .previews
            .borrow()
            .iter()
            .filter_map(|(i, p)| Some((*i, p(&flow)?)))
            .collect();
        let mut views = self
            .link
            .borrow()
            .as_ref()
            .map(ServerLink::views_buffer)
            .unwrap_or_default();
        flow.packed_views_into(&mut views);
        let mut run_times = Vec::new();
        if self.time_nodes.get() {
            flow.run_times_into(&mut run_times);
        }
        let mut lags = Vec::new();
        if self.has_streams {
            flow.stream_lags_into(&mut lags);
        }
        Sample {
            run: self.run_number.get(),
            state,
            elapsed,
            views,
            run_times,
            lags,
            errors,
            previews,
            error,
            slow_poll: self.time_nodes.get().then(|| self.slow_poll.get()),
        }
    }
}

/// Stops a [`FlowDashboard`]'s run from a task of the flow's loop (for example after a time
/// limit). Does nothing once the dashboard is gone.
#[derive(Debug, Clone)]
pub struct Stopper {
    shared: Weak<Shared>,
}

impl Stopper {
    /// Ends the run in progress; returns whether one was.
    pub fn stop(&self) -> bool {
        self.shared.upgrade().is_some_and(|s| s.request_stop())
    }
}

fn topology_of(flow: &Flow, edges: &[FlowEdge]) -> Topology {
    let names: Vec<String> = flow.nodes().map(|id| flow.name(id)).collect();
    let mut inputs: Vec<Vec<String>> = flow.nodes().map(|id| flow.input_names(id)).collect();
    for e in edges {
        let names = &mut inputs[e.to.index()];
        while names.len() <= e.input {
            names.push(format!("#{}", names.len()));
        }
        if names[e.input].is_empty() {
            names[e.input] = e.input_name.clone();
        }
    }
    let heights: Vec<f64> = inputs.iter().map(|i| layout::node_height(i.len())).collect();
    let pairs: Vec<(usize, usize)> = edges.iter().map(|e| (e.from.index(), e.to.index())).collect();
    let placed = layout::layout(&heights, &pairs);
    let keys = unique_keys(&names);
    let nodes = names
        .into_iter()
        .zip(keys)
        .zip(inputs)
        .enumerate()
        .map(|(i, ((name, key), inputs))| TopologyNode {
            key,
            name,
            inputs,
            x: placed.xy[i].0,
            y: placed.xy[i].1,
            height: heights[i],
        })
        .collect();
    let edges = edges
        .iter()
        .map(|e| TopologyEdge {
            from: e.from.index(),
            to: e.to.index(),
            input: e.input,
            input_name: e.input_name.clone(),
            stream: e.stream,
            has_default: e.has_default,
        })
        .collect();
    Topology {
        nodes,
        edges,
        width: placed.width,
        height: placed.height,
        node_width: layout::NODE_WIDTH,
    }
}

/// Names, with `#index` appended to every name that occurs more than once.
fn unique_keys(names: &[String]) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for n in names {
        *count.entry(n.as_str()).or_default() += 1;
    }
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if count[n.as_str()] > 1 {
                format!("{n}#{i}")
            } else {
                n.clone()
            }
        })
        .collect()
}

/// Commands from the server thread, carried to the flow's loop by its [`LoopHandle`].
struct FlowControl {
    handle: LoopHandle,
    key: u64,
}

impl Control for FlowControl {
    fn command(&self, command: serde_json::Value) -> RemoteTask<Result<serde_json::Value, String>> {
        let key = self.key;
        self.handle.spawn(async move {
            let shared = DASHBOARDS.with(|d| d.borrow().get(&key).and_then(Weak::upgrade));
            let Some(shared) = shared else {
                return Err("the flow's dashboard is gone".to_string());
            };
            match command.get("command").and_then(|c| c.as_str()) {
                Some("stop") if shared.request_stop() => Ok(serde_json::json!({ "stopped": true })),
                Some("stop") => Err("no run is in progress".to_string()),
                Some(other) => Err(format!(
                    "unknown command `{other}` for a typed flow; it takes `stop` (the program starts its runs)"
                )),
                None => Err("expected {\"command\": \"stop\"}".to_string()),
            }
        })
    }
}
