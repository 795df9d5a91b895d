//! Driving one run on an event loop: a progress line on a terminal, and Ctrl-C that stops the
//! run cleanly so the caller can still print what ran.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flowloop::EventLoop;
use flowloop::flow::{Flow, FlowError, Outcome};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
    /// On stderr when it is a terminal (indicatif hides it otherwise).
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

/// Total node runs so far, over every node of `flow`.
pub fn node_runs(flow: &Flow) -> u64 {
    flow.nodes().map(|n| flow.stats(n).runs).sum()
}

fn progress_bar(progress: Progress) -> ProgressBar {
    let target = match progress {
        Progress::Terminal => ProgressDrawTarget::stderr(),
        Progress::Off => ProgressDrawTarget::hidden(),
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("the template is valid"));
    bar
}

/// Runs `run` (a flow run future over `flow`) on a new event loop, watching for Ctrl-C and
/// drawing a progress line (node runs done, runs per second) while it takes longer than a
/// moment.
///
/// # Errors
/// The event loop could not be created or failed.
pub fn drive(
    mut lp: EventLoop,
    flow: &Flow,
    run: impl Future<Output = Result<Outcome, FlowError>> + 'static,
    progress: Progress,
) -> Result<Driven, flowloop::RunError> {
    let interrupted = interrupt_flag();
    interrupted.store(false, Ordering::SeqCst);
    let bar = progress_bar(progress);
    let started = Instant::now();
    let watch = async {
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
            show(&bar, flow, started);
            flowloop::sleep(tick).await;
            tick = (tick * 2).min(MAX_TICK);
        }
    };
    let driven = lp.run_until_complete(watch);
    bar.finish_and_clear();
    driven
}

fn show(bar: &ProgressBar, flow: &Flow, started: Instant) {
    let elapsed = started.elapsed();
    if elapsed < PROGRESS_AFTER {
        return;
    }
    let runs = node_runs(flow);
    let rate = runs as f64 / elapsed.as_secs_f64();
    bar.set_message(format!("{runs} node runs, {rate:.0} runs/s (Ctrl-C stops and prints what ran)"));
    bar.tick();
}
