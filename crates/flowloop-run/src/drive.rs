//! Driving one run on an event loop: a progress line on a terminal, and Ctrl-C that stops the
//! run cleanly so the caller can still print what ran.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::cell::Cell;
use std::io::IsTerminal;
use std::rc::Rc;

use flowloop::EventLoop;
use flowloop::flow::{FlowError, Outcome};
use flowloop::runtime::{FlowNode, Instrument};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::RunFuture;

/// The slowest the watcher looks at the run (progress refresh and Ctrl-C latency).
const MAX_TICK: Duration = Duration::from_millis(100);
/// The first look comes this soon, so a short run is not held up by the watcher.
const FIRST_TICK: Duration = Duration::from_millis(1);
/// No progress line for runs shorter than this.
const PROGRESS_AFTER: Duration = Duration::from_millis(300);

/// How a driven run ended before it was turned into a report.
#[derive(Debug)]
#[non_exhaustive]
pub enum Driven {
    /// The run returned.
    Finished(Result<Outcome, FlowError>),
    /// Ctrl-C stopped it.
    Interrupted,
}

/// Whether a progress line may be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// On stderr when it is a terminal.
    Terminal,
    /// Never.
    Off,
}

/// Set by the Ctrl-C handler; the watcher task polls it.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = Arc::clone(&flag);
        // A second installation attempt (another handler already present) only loses the
        // clean stop; the run itself is unaffected.
        let _ = ctrlc::set_handler(move || setter.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

/// Counts node runs and the newest run index as the flow reports them, for the progress line;
/// forwards every event to `tracing` too when `FLOWLOOP_LOG` is set.
struct ProgressInstrument {
    counts: Rc<Counts>,
    tracing: Option<flowloop::runtime::TracingInstrument>,
}

/// What the progress line shows.
#[derive(Debug, Default)]
struct Counts {
    node_runs: Cell<u64>,
    generations: Cell<u64>,
}

impl Instrument for ProgressInstrument {
    fn task_failed(&mut self, task: flowloop::TaskId, error: &flowloop::TaskError) {
        if let Some(t) = &mut self.tracing {
            t.task_failed(task, error);
        }
    }
    fn slow_poll(&mut self, task: flowloop::TaskId, elapsed: Duration) {
        if let Some(t) = &mut self.tracing {
            t.slow_poll(task, elapsed);
        }
    }
    fn flow_node_finished(&mut self, node: FlowNode<'_>) {
        self.counts.node_runs.set(self.counts.node_runs.get() + 1);
        if let Some(&run) = node.generation.and_then(|g| g.first()) {
            self.counts.generations.set(self.counts.generations.get().max(run + 1));
        }
    }
}

/// The loop of one run: with the progress counter on a terminal, with `tracing` output when
/// `FLOWLOOP_LOG` is set.
fn event_loop(progress: Progress) -> std::io::Result<(EventLoop, Option<Rc<Counts>>)> {
    let tracing = std::env::var_os(flowloop::runtime::LOG_ENV).is_some();
    if tracing {
        flowloop::runtime::init_tracing();
    }
    if progress == Progress::Terminal && std::io::stderr().is_terminal() {
        let counts = Rc::new(Counts::default());
        let instrument = ProgressInstrument {
            counts: Rc::clone(&counts),
            tracing: tracing.then_some(flowloop::runtime::TracingInstrument),
        };
        return Ok((EventLoop::builder().instrument(instrument).build()?, Some(counts)));
    }
    if tracing {
        return Ok((
            EventLoop::builder()
                .instrument(flowloop::runtime::TracingInstrument)
                .build()?,
            None,
        ));
    }
    Ok((EventLoop::new()?, None))
}

fn progress_bar(shown: bool) -> ProgressBar {
    let target = if shown {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("the template is valid"));
    bar
}

/// Runs `run` (a flow run) on a new event loop, watching for Ctrl-C and, on a terminal,
/// drawing a progress line (generations done, node runs per second) once the run takes longer
/// than a moment.
///
/// # Errors
/// The event loop could not be created, or failed.
pub fn drive(run: RunFuture, progress: Progress) -> Result<Driven, DriveError> {
    let (mut lp, counts) = event_loop(progress).map_err(DriveError::Start)?;
    let interrupted = interrupt_flag();
    interrupted.store(false, Ordering::SeqCst);
    let bar = progress_bar(counts.is_some());
    let shown = bar.clone();
    let started = Instant::now();
    let watch = async move {
        let task = flowloop::spawn(run).await;
        let mut tick = FIRST_TICK;
        loop {
            if task.is_finished() {
                return match task.join().await {
                    Ok(result) => Driven::Finished(result),
                    Err(e) => Driven::Finished(Err(FlowError::Loop(flowloop::RunError::Root(e)))),
                };
            }
            if interrupted.load(Ordering::SeqCst) {
                let _ = task.cancel().await;
                return Driven::Interrupted;
            }
            if let Some(counts) = &counts {
                show(&shown, counts, started);
            }
            flowloop::sleep(tick).await;
            tick = (tick * 2).min(MAX_TICK);
        }
    };
    let driven = lp.run_until_complete(watch).map_err(DriveError::Loop);
    bar.finish_and_clear();
    driven
}

/// Why [`drive`] could not run the flow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError {
    /// The loop could not be created.
    #[error("cannot start the event loop: {0}")]
    Start(std::io::Error),
    /// The loop failed.
    #[error("event loop: {0}")]
    Loop(flowloop::RunError),
}

fn show(bar: &ProgressBar, counts: &Counts, started: Instant) {
    let elapsed = started.elapsed();
    if elapsed < PROGRESS_AFTER {
        return;
    }
    let runs = counts.node_runs.get();
    let rate = runs as f64 / elapsed.as_secs_f64();
    let generations = counts.generations.get();
    bar.set_message(format!(
        "{generations} generations, {runs} node runs, {rate:.0} runs/s (Ctrl-C stops and prints what ran)"
    ));
    bar.tick();
}
