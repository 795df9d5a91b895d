//! Driving one run on an event loop: a progress line on a terminal, and Ctrl-C that stops the
//! run cleanly so the caller can still print what ran.
//!
//! Nothing polls: the driver waits for whichever comes first, the run task's completion (its
//! join) or the stop event, which the Ctrl-C handler sets by sending a task to the loop
//! through its [`LoopHandle`]. Only a shown progress line has a timer (its refresh).

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io::IsTerminal;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use flowloop::flow::{FlowError, Outcome};
use flowloop::runtime::{FlowNode, Instrument};
use flowloop::sync::Event;
use flowloop::{DropPolicy, EventLoop, LoopHandle};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::RunFuture;

/// How often a shown progress line is redrawn.
const REFRESH: Duration = Duration::from_millis(100);
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

/// The loop of the run in progress (none between runs): where Ctrl-C sends its stop task.
static RUNNING: Mutex<Option<LoopHandle>> = Mutex::new(None);

thread_local! {
    /// The stop event of the run in progress on this thread's loop.
    static STOP: RefCell<Option<Event>> = const { RefCell::new(None) };
}

/// A Ctrl-C that no run has taken yet: set by the handler before it looks for a running loop,
/// taken by the next run to register (so a Ctrl-C in the moment before a run's loop is known
/// still stops that run) or by the stop task the handler spawned.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Installs the process's Ctrl-C handler once: it asks the running loop, if any, to set its
/// stop event. A second installation attempt (another handler already present) only loses
/// the clean stop; the run itself is unaffected.
fn install_ctrl_c() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(on_ctrl_c);
    });
}

/// What Ctrl-C does: remember the request, then hand it to the running loop if there is one.
fn on_ctrl_c() {
    PENDING.store(true, Ordering::SeqCst);
    let running = RUNNING.lock().ok().and_then(|h| h.clone());
    if let Some(handle) = running {
        drop(handle.spawn(async {
            PENDING.store(false, Ordering::SeqCst);
            STOP.with(|s| s.borrow().as_ref().map(Event::set));
        }));
    }
}

/// Registers `lp`'s run for Ctrl-C until dropped.
struct Registered;

impl Registered {
    fn new(lp: &EventLoop, stop: &Event) -> Registered {
        install_ctrl_c();
        STOP.with(|s| *s.borrow_mut() = Some(stop.clone()));
        if let Ok(mut running) = RUNNING.lock() {
            *running = Some(lp.handle());
        }
        if PENDING.swap(false, Ordering::SeqCst) {
            stop.set();
        }
        Registered
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            *running = None;
        }
        STOP.with(|s| *s.borrow_mut() = None);
    }
}

/// Which of two futures finished first.
enum First<A, B> {
    Left(A),
    Right(B),
}

/// Waits for `a` or `b`, whichever is ready first (`a` wins a tie); the other is dropped.
async fn first_of<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(First::Left(v));
        }
        b.as_mut().poll(cx).map(First::Right)
    })
    .await
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

/// Runs `run` (a flow run) on a new event loop until it returns or Ctrl-C stops it; on a
/// terminal, draws a progress line (generations done, node runs per second) once the run takes
/// longer than a moment.
///
/// # Errors
/// The event loop could not be created, or failed.
pub fn drive(run: RunFuture, progress: Progress) -> Result<Driven, DriveError> {
    let (mut lp, counts) = event_loop(progress).map_err(DriveError::Start)?;
    let stop = Event::new();
    let registered = Registered::new(&lp, &stop);
    let bar = progress_bar(counts.is_some());
    let shown = bar.clone();
    let watch = async move {
        let task = flowloop::spawn(run).await.on_drop(DropPolicy::Abort);
        let _refresh = match counts {
            Some(counts) => Some(flowloop::spawn(refresh(shown, counts)).await.on_drop(DropPolicy::Abort)),
            None => None,
        };
        match first_of(task.join(), stop.wait()).await {
            First::Left(Ok(result)) => Driven::Finished(result),
            First::Left(Err(e)) => Driven::Finished(Err(FlowError::Loop(flowloop::RunError::Root(e)))),
            // Dropping the join dropped the handle, which cancels the run.
            First::Right(()) => Driven::Interrupted,
        }
    };
    let driven = lp.run_until_complete(watch).map_err(DriveError::Loop);
    drop(registered);
    bar.finish_and_clear();
    driven
}

/// Redraws the progress line every [`REFRESH`] until cancelled.
async fn refresh(bar: ProgressBar, counts: Rc<Counts>) {
    let started = Instant::now();
    loop {
        flowloop::sleep(REFRESH).await;
        show(&bar, &counts, started);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ctrl_c_before_a_run_registers_stops_that_run_and_only_that_one() {
        on_ctrl_c();
        let (lp, _) = event_loop(Progress::Off).expect("an event loop starts");
        let stop = Event::new();
        let registered = Registered::new(&lp, &stop);
        assert!(stop.is_set(), "the early Ctrl-C reached the run that registered next");
        drop(registered);
        let later = Event::new();
        let _registered = Registered::new(&lp, &later);
        assert!(!later.is_set(), "one Ctrl-C stops one run");
    }
}
