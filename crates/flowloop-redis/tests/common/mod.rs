//! Helpers shared by the redis tests: a real redis-server per test (`server.rs`), worker
//! processes, run drivers.
#![allow(dead_code)]

pub mod proxy;
mod server;

pub use server::{RedisServer, signal};

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flowloop_redis::resp::Config;
use flowloop_redis::{
    Flow, FlowInputs, Provided, RedisRun, RunOutputs, RunSettings, ShutdownSignal, Worker, WorkerOptions,
};

/// Child processes killed on drop.
#[derive(Default)]
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            if c.try_wait().ok().flatten().is_some() {
                continue;
            }
            signal(c.id(), "CONT");
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts the test worker binary with `args`.
pub fn worker(url: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_flowloop-redis-worker"))
        .args(["--redis", url])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker binary starts")
}

/// Waits (at most `limit`) for `child` to exit; panics naming `what` when it does not.
pub fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(start.elapsed() < limit, "{what} did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Run settings with a fixed run id.
pub fn settings(run: &str) -> RunSettings {
    RunSettings {
        run_id: Some(run.to_string()),
        ..RunSettings::default()
    }
}

/// Runs `flow` on Redis with `workers` workers (ids `w0`, `w1`, ...) on the current loop,
/// feeding `inputs` and collecting every output.
pub async fn run_on_redis(
    config: Config,
    flow: &Flow,
    workers: usize,
    inputs: FlowInputs,
    provided: Provided,
) -> RunOutputs {
    run_on_redis_with(config, flow, (workers, provided), inputs, RunSettings::default()).await
}

/// [`run_on_redis`] with the producer's `settings`; `hosts` is how many workers and what
/// they provide.
pub async fn run_on_redis_with(
    config: Config,
    flow: &Flow,
    hosts: (usize, Provided),
    inputs: FlowInputs,
    settings: RunSettings,
) -> RunOutputs {
    let workers = spawn_workers(config.clone(), flow, hosts).await;
    let mut run = RedisRun::start(config, flow, settings).await.expect("run starts");
    run.feed_all(&inputs).await.expect("inputs are fed");
    let outputs = run.collect().await.expect("run completes");
    workers.stop().await;
    outputs
}

/// Worker tasks on the current loop, stopped together.
pub struct Workers {
    stop: ShutdownSignal,
    handles: Vec<flowloop::TaskHandle<Result<flowloop_redis::WorkerReport, flowloop_redis::RunError>>>,
}

impl Workers {
    /// Asks every worker to leave and checks that each succeeded.
    pub async fn stop(self) {
        self.stop.trigger();
        for h in self.handles {
            h.join().await.expect("worker task ends").expect("worker succeeds");
        }
    }
}

/// Starts `hosts.0` workers (ids `w0`, `w1`, ..., providing `hosts.1`) hosting `flow`.
pub async fn spawn_workers(config: Config, flow: &Flow, hosts: (usize, Provided)) -> Workers {
    let (n, provided) = hosts;
    let stop = ShutdownSignal::new();
    let mut handles = Vec::new();
    for i in 0..n {
        let mut options = WorkerOptions::new(config.clone());
        options.id = Some(format!("w{i}"));
        options.block = Duration::from_millis(20);
        let worker = Worker::new(options).host(flow).provide(provided.clone());
        handles.push(flowloop::spawn(worker.run(stop.clone())).await);
    }
    Workers { stop, handles }
}

/// What a poison run leaves: output `out` holds every value of `0..total` but `poison`, and the
/// dead-letter stream holds exactly `poison`, from processor `check` on stream `in`, after
/// `deliveries` deliveries, with an error containing `error`.
pub fn assert_poison_dead_lettered(outputs: &RunOutputs, total: i64, poison: i64, deliveries: u32, error: &str) {
    let mut out: Vec<i64> = outputs.get("out").expect("out");
    out.sort_unstable();
    assert_eq!(out, (0..total).filter(|n| *n != poison).collect::<Vec<_>>());
    let dead = outputs.dead_letters();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let payload = poison.to_string();
    assert_eq!(
        (dead[0].payload.as_slice(), dead[0].deliveries),
        (payload.as_bytes(), deliveries)
    );
    assert_eq!((dead[0].processor.as_str(), dead[0].stream.as_str()), ("check", "in"));
    assert!(dead[0].error.contains(error), "{}", dead[0].error);
}
