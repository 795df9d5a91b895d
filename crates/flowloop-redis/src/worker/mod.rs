//! Worker processes: find runs of the flows they host, serve every processor, leave cleanly.

mod consume;
mod partition;
mod shared;
mod streaming;

pub(crate) use streaming::{RedisInput, RedisOutput};

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::RunError;
use crate::flow::Flow;
use crate::inproc::check_dependencies;
use crate::processor::Provided;
use crate::protocol::{self, Keys};
use crate::resp::{Client, Cmd, Config, Reply};
use crate::run::unique_id;

use shared::RunContext;

/// A flag that asks a worker to leave: set by SIGTERM/SIGINT when installed with
/// [`ShutdownSignal::on_signals`], or by [`ShutdownSignal::trigger`]. The worker finishes the
/// batch in hand, commits and acknowledges it, gives up its lease and returns.
#[derive(Debug, Clone, Default)]
pub struct ShutdownSignal(Arc<AtomicBool>);

impl ShutdownSignal {
    /// A signal nobody has triggered.
    pub fn new() -> ShutdownSignal {
        ShutdownSignal::default()
    }

    /// A signal triggered by SIGTERM or SIGINT.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn on_signals() -> std::io::Result<ShutdownSignal> {
        let s = ShutdownSignal::new();
        signal_hook::flag::register(signal_hook::consts::SIGTERM, s.0.clone())?;
        signal_hook::flag::register(signal_hook::consts::SIGINT, s.0.clone())?;
        Ok(s)
    }

    /// Asks the worker to leave.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a worker behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerOptions {
    /// The server.
    pub config: Config,
    /// Lease time: a worker silent for this long loses its pending entries to live workers.
    pub lease: Duration,
    /// Entries read per `XREADGROUP`.
    pub batch: usize,
    /// How long one blocking read waits (bounds how fast a shutdown is noticed).
    pub block: Duration,
    /// Leave after serving this many runs to the end (`None`: until shut down).
    pub runs: Option<usize>,
    /// The consumer name (generated when `None`).
    pub id: Option<String>,
}

impl WorkerOptions {
    /// Defaults for `config`: 2 s lease, batches of 64, 200 ms blocking reads, serve forever.
    pub fn new(config: Config) -> WorkerOptions {
        WorkerOptions {
            config,
            lease: Duration::from_secs(2),
            batch: 64,
            block: Duration::from_millis(200),
            runs: None,
            id: None,
        }
    }
}

/// A worker: hosts flows (all their processors) and serves every run of them announced on
/// Redis. Several workers share a run's entries through consumer groups.
///
/// ```no_run
/// use flowloop_redis::{Worker, WorkerOptions, resp::Config};
/// # fn my_flow() -> flowloop_redis::Flow { unimplemented!() }
/// let options = WorkerOptions::new(Config::from_url("redis://127.0.0.1:6379").unwrap());
/// Worker::new(options).host(&my_flow()).run_until_signal().unwrap();
/// ```
#[derive(Debug)]
pub struct Worker {
    flows: Vec<Flow>,
    provided: Provided,
    options: WorkerOptions,
}

/// What a worker did before it left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Runs served to their end.
    pub runs_finished: usize,
    /// Entries this worker committed.
    pub committed: u64,
    /// Entries whose commit was fenced off (another worker had reclaimed them).
    pub fenced: u64,
    /// Entries taken over from workers whose lease expired.
    pub reclaimed: u64,
}

impl Worker {
    /// A worker hosting nothing yet.
    pub fn new(options: WorkerOptions) -> Worker {
        Worker {
            flows: Vec::new(),
            provided: Provided::new(),
            options,
        }
    }

    /// Hosts `flow` (by name: runs of a flow with this name are served).
    pub fn host(mut self, flow: &Flow) -> Worker {
        self.flows.push(flow.clone());
        self
    }

    /// The values processors of hosted flows ask their context for.
    pub fn provide(mut self, provided: Provided) -> Worker {
        self.provided = provided;
        self
    }

    /// The entry point for a worker process (`flowloop worker --redis URL`): installs SIGTERM
    /// and SIGINT handlers, runs a flowloop loop and serves until a signal (or `runs`).
    ///
    /// # Errors
    /// As [`Worker::run`].
    pub fn run_until_signal(self) -> Result<WorkerReport, RunError> {
        let signal = ShutdownSignal::on_signals().map_err(|e| RunError::Unexpected {
            what: "installing signal handlers".into(),
            reply: e.to_string(),
        })?;
        flowloop::run(self.run(signal)).map_err(|e| RunError::Unexpected {
            what: "the worker's event loop".into(),
            reply: e.to_string(),
        })?
    }

    /// Serves runs on the current loop until `shutdown` is triggered or `runs` runs finished.
    ///
    /// # Errors
    /// [`RunError::MissingDependency`] at start when a hosted processor needs a value not
    /// provided; Redis errors when the server stays unreachable past the reconnect deadline.
    pub async fn run(self, shutdown: ShutdownSignal) -> Result<WorkerReport, RunError> {
        for flow in &self.flows {
            check_dependencies(flow, flow.processors().iter(), &self.provided)?;
        }
        let mut serving = Serving::new(&self, shutdown);
        while !serving.should_stop(&self.options) {
            for id in serving.next_announcements(&self.options).await? {
                if let Some((run, flow)) = self.announced(&mut serving.client, &id).await? {
                    serving.join(&self.options, run, flow).await;
                }
            }
            serving.reap().await;
        }
        serving.finish().await
    }

    /// The run announced in entry `id` of the runs stream, when it is a flow this worker
    /// hosts and still running.
    async fn announced(&self, client: &mut Client, id: &str) -> Result<Option<(String, Flow)>, RunError> {
        let cmd = Cmd::new("XRANGE").arg(protocol::RUNS).arg(id).arg(id);
        let reply = client.call_retrying(&cmd).await?.check("XRANGE runs")?;
        let Some(entry) = reply.into_items().into_iter().next() else {
            return Ok(None);
        };
        let fields = entry.items().get(1).cloned().unwrap_or(Reply::Nil).pairs();
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .and_then(|(_, v)| v.as_str())
        };
        let (Some(run), Some(flow_name)) = (get("run"), get("flow")) else {
            return Ok(None);
        };
        let Some(flow) = self.flows.iter().find(|f| f.name() == flow_name) else {
            return Ok(None);
        };
        let state = client
            .call_retrying(&Cmd::new("HGET").arg(Keys::new(run).meta()).arg("state"))
            .await?;
        if state.as_str() != Some("running") {
            return Ok(None);
        }
        Ok(Some((run.to_string(), flow.clone())))
    }
}

/// The discovery loop of [`Worker::run`]: which runs it joined, their tasks, the first error.
struct Serving {
    id: String,
    client: Client,
    /// The last entry read from the runs stream.
    last: String,
    seen: HashSet<String>,
    tasks: Vec<flowloop::TaskHandle<Result<(), RunError>>>,
    finished: Rc<Cell<usize>>,
    first_error: Option<RunError>,
    report: Rc<std::cell::RefCell<WorkerReport>>,
    provided: Rc<Provided>,
    shutdown: ShutdownSignal,
}

impl Serving {
    fn new(worker: &Worker, shutdown: ShutdownSignal) -> Serving {
        Serving {
            id: worker.options.id.clone().unwrap_or_else(|| unique_id("worker")),
            client: Client::new(worker.options.config.clone()),
            last: "0".to_string(),
            seen: HashSet::new(),
            tasks: Vec::new(),
            finished: Rc::new(Cell::new(0)),
            first_error: None,
            report: Rc::new(std::cell::RefCell::new(WorkerReport::default())),
            provided: Rc::new(worker.provided.clone()),
            shutdown,
        }
    }

    fn should_stop(&self, options: &WorkerOptions) -> bool {
        self.shutdown.is_triggered() || options.runs.is_some_and(|n| self.finished.get() >= n)
    }

    /// Ids of run announcements after the last one seen (waits up to `block`).
    async fn next_announcements(&mut self, options: &WorkerOptions) -> Result<Vec<String>, RunError> {
        let block = options.block.as_millis() as i64;
        let cmd = Cmd::new("XREAD").arg("COUNT").arg("100").arg("BLOCK").int(block);
        let cmd = cmd.arg("STREAMS").arg(protocol::RUNS).arg(&self.last);
        let reply = match self.client.call(&cmd).await {
            Err(e) if e.is_connection() => return Ok(Vec::new()),
            other => other?.check("XREAD runs")?,
        };
        let ids: Vec<String> = protocol::parse_read(reply)
            .into_iter()
            .flat_map(|(_, entries)| entries.into_iter().map(|e| e.id))
            .collect();
        if let Some(last) = ids.last() {
            self.last = last.clone();
        }
        Ok(ids)
    }

    /// Starts serving `run` unless already joined.
    async fn join(&mut self, options: &WorkerOptions, run: String, flow: Flow) {
        if !self.seen.insert(run.clone()) {
            return;
        }
        let (provided, shutdown, report) = (self.provided.clone(), self.shutdown.clone(), self.report.clone());
        let ctx = RunContext::new(options, &self.id, &run, flow, provided, shutdown, report);
        let finished = self.finished.clone();
        let task = flowloop::spawn(async move {
            let result = ctx.serve().await;
            finished.set(finished.get() + 1);
            result
        });
        self.tasks.push(task.await);
    }

    /// Joins finished run tasks; an error stops the worker.
    async fn reap(&mut self) {
        let (done, running): (Vec<_>, Vec<_>) = std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| t.is_finished());
        self.tasks = running;
        for t in done {
            self.record(t.join().await);
        }
        if self.first_error.is_some() {
            self.shutdown.trigger();
        }
    }

    fn record(&mut self, result: Result<Result<(), RunError>, flowloop::TaskError>) {
        let error = match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(e) => RunError::Unexpected {
                what: "a run task".into(),
                reply: e.to_string(),
            },
        };
        self.first_error.get_or_insert(error);
    }

    async fn finish(mut self) -> Result<WorkerReport, RunError> {
        for t in std::mem::take(&mut self.tasks) {
            self.record(t.join().await);
        }
        let mut out = self.report.borrow().clone();
        out.runs_finished = self.finished.get();
        self.first_error.map_or(Ok(out), Err)
    }
}
