//! [`EventLoop`]: the run loop that polls tasks, carries out their commands, fires timers and
//! asks the OS for events.

use std::any::{Any, type_name};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::task::Context;
use std::time::{Duration, Instant};

use super::blocking::BlockingPool;
use super::context;
use super::core::{Core, Shared};
use super::driver::Driver;
use super::error::{RunError, TaskError, TaskId, panic_message};
use super::instrument::{Instrument, LoopStats};
use super::remote::LoopHandle;
use super::task::{TaskBox, TaskCell};

/// After this many task steps without an OS poll the loop checks timers and the OS anyway, so
/// busy tasks cannot starve sockets and timers.
const DEFAULT_FAIRNESS: u32 = 61;

/// Configures an [`EventLoop`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let mut lp = flowloop::EventLoop::builder()
///     .offload_threads(2)
///     .slow_poll_threshold(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// assert_eq!(lp.run_until_complete(async { 7 }).unwrap(), 7);
/// ```
#[must_use]
pub struct Builder {
    offload_threads: usize,
    offload_stack_size: Option<usize>,
    fairness: u32,
    time_polls: bool,
    slow_poll: Option<Duration>,
    instrument: Option<Box<dyn Instrument>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("offload_threads", &self.offload_threads)
            .field("offload_stack_size", &self.offload_stack_size)
            .field("fairness", &self.fairness)
            .field("time_polls", &self.time_polls)
            .field("slow_poll", &self.slow_poll)
            .field("instrument", &self.instrument.is_some())
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            offload_threads: 4,
            offload_stack_size: None,
            fairness: DEFAULT_FAIRNESS,
            time_polls: false,
            slow_poll: None,
            instrument: None,
        }
    }
}

impl Builder {
    /// Maximum number of threads [`offload`](super::offload) may start (default 4; started on
    /// demand).
    pub fn offload_threads(mut self, n: usize) -> Self {
        self.offload_threads = n.max(1);
        self
    }

    /// Stack size in bytes of each offload thread (default: the platform's). If no offload
    /// thread can be started, [`offload`](super::offload) fails with
    /// [`TaskError::NoOffloadThread`].
    pub fn offload_stack_size(mut self, bytes: usize) -> Self {
        self.offload_stack_size = Some(bytes);
        self
    }

    /// How many task steps may run before the loop checks timers and the OS (default 61).
    pub fn fairness_interval(mut self, steps: u32) -> Self {
        self.fairness = steps.max(1);
        self
    }

    /// Measure the time of every poll (costs two clock reads per poll); enables
    /// [`LoopStats::poll_time`] and [`TaskStats::poll_time`](super::TaskStats::poll_time).
    pub fn time_polls(mut self, on: bool) -> Self {
        self.time_polls = on;
        self
    }

    /// Report polls slower than `threshold` (through `tracing` when that feature is on, through
    /// [`Instrument::slow_poll`], and in [`LoopStats::slow_polls`]). Turns poll timing on.
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Self {
        self.slow_poll = Some(threshold);
        self.time_polls = true;
        self
    }

    /// Install an [`Instrument`] that receives every loop event.
    pub fn instrument(mut self, instrument: impl Instrument + 'static) -> Self {
        self.instrument = Some(Box::new(instrument));
        self
    }

    /// Creates the loop (opens the OS event queue).
    pub fn build(self) -> std::io::Result<EventLoop> {
        let blocking = BlockingPool::new(self.offload_threads, self.offload_stack_size);
        let mut core = Core::new(Driver::new()?, blocking);
        #[allow(unused_mut)]
        let mut instrument = self.instrument;
        // `FLOWLOOP_LOG` alone is enough to see output (see `runtime::init_tracing`).
        #[cfg(feature = "tracing")]
        if super::trace::init_from_env() && instrument.is_none() {
            instrument = Some(Box::new(super::trace::TracingInstrument));
        }
        core.configure(instrument, self.time_polls, self.slow_poll);
        Ok(EventLoop {
            shared: Rc::new(Shared::new(core)),
            fairness: self.fairness,
            wait_for_spawned: true,
        })
    }
}

/// A single-threaded event loop that drives `!Send` tasks.
///
/// Tasks are futures. Every primitive operation they await (sleep, spawn, join, cancel, queue
/// waits, socket operations, offload) is a leaf future that hands the loop one command; the loop
/// carries it out and resumes the task when it completes.
///
/// # Examples
/// ```
/// use flowloop::{EventLoop, spawn, sleep};
/// use std::time::Duration;
///
/// let mut lp = EventLoop::new().unwrap();
/// let v = lp.run_until_complete(async {
///     let child = spawn(async { sleep(Duration::from_millis(1)).await; 21 }).await;
///     child.join().await.unwrap() * 2
/// });
/// assert_eq!(v.unwrap(), 42);
/// ```
///
/// # Implementation notes
/// The ready queue is a FIFO of task ids; a spawned child is queued before its parent resumes.
/// The OS is asked for events only when the ready queue is empty, or every
/// [`fairness_interval`](Builder::fairness_interval) steps with a zero timeout. Due timers fire
/// before every OS poll. Timer resolution is 1 ms (the OS poll's), and timers never fire early.
pub struct EventLoop {
    shared: Rc<Shared>,
    fairness: u32,
    wait_for_spawned: bool,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("loop_id", &self.shared.loop_id)
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    /// A loop with default settings.
    pub fn new() -> std::io::Result<EventLoop> {
        Builder::default().build()
    }

    /// Configure a loop.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Whether `run_until_complete` waits for spawned tasks after the root finished (default
    /// `true`). With `false` it returns as soon as the root has its value; unfinished tasks stay
    /// in the loop and continue on the next run (or are dropped with the loop).
    pub fn wait_for_spawned(&mut self, wait: bool) -> &mut Self {
        self.wait_for_spawned = wait;
        self
    }

    /// A `Send + Clone` handle for other threads: spawn `Send` futures, wake the loop.
    pub fn handle(&self) -> LoopHandle {
        self.shared.core.borrow().loop_handle()
    }

    /// Counters of every run so far.
    pub fn stats(&self) -> LoopStats {
        self.shared.core.borrow().stats_snapshot()
    }

    /// Runs `root` as a task and drives the loop until it finishes (and, by default, until every
    /// spawned task has finished). Returns the root's value, or the value passed to
    /// [`exit`](super::exit).
    ///
    /// # Errors
    /// [`RunError::Root`] if the root panicked or was cancelled, [`RunError::Stalled`] if every
    /// task waits for something that cannot happen, [`RunError::Nested`] when called from inside
    /// a running loop, [`RunError::ExitTypeMismatch`] for an `exit` value of the wrong type.
    pub fn run_until_complete<F>(&mut self, root: F) -> Result<F::Output, RunError>
    where
        F: Future + 'static,
    {
        if context::is_set() {
            return Err(RunError::Nested);
        }
        let _guard = context::enter(self.shared.clone());
        let root_id = self
            .shared
            .core
            .borrow_mut()
            .start_run(Box::pin(TaskCell::new(root)), self.wait_for_spawned);
        let result = self.drive();
        self.bury();
        let core = &mut *self.shared.core.borrow_mut();
        if let Some(value) = core.take_exit() {
            match core.slot_mut(root_id) {
                // The root itself called `exit` (and was dropped).
                Some(s) if s.is_finished() => core.free_slot(root_id),
                Some(s) => s.detached = true,
                None => {}
            }
            return take_exit::<F::Output>(value);
        }
        result?;
        take_root_output::<F::Output>(core, root_id)
    }

    /// Runs ready tasks, timers and OS events until the root (and maybe all tasks) finished.
    fn drive(&mut self) -> Result<(), RunError> {
        let mut steps = 0u32;
        self.shared.core.borrow_mut().drain_remote();
        loop {
            while let Some(stop) = self.step() {
                if stop {
                    return Ok(());
                }
                steps += 1;
                if steps >= self.fairness {
                    steps = 0;
                    self.poll_os(Some(Duration::ZERO))?;
                }
            }
            if self.shared.core.borrow().should_stop() {
                return Ok(());
            }
            steps = 0;
            self.idle()?;
        }
    }

    /// Nothing is ready: fire timers, drain wakes, or block in the OS until something happens.
    fn idle(&mut self) -> Result<(), RunError> {
        let timeout = {
            let mut core = self.shared.core.borrow_mut();
            let now = Instant::now();
            core.fire_timers(now);
            core.drain_remote();
            drop(core);
            self.drain_woken();
            let core = self.shared.core.borrow();
            if core.has_ready() {
                return Ok(());
            }
            if !core.may_wake() && !self.waker_held_elsewhere() {
                return Err(RunError::Stalled { waiting: core.live() });
            }
            core.idle_timeout(now)
        };
        self.poll_os(timeout)
    }

    /// One OS poll (after firing due timers); completes socket waits and remote messages.
    fn poll_os(&mut self, timeout: Option<Duration>) -> Result<(), RunError> {
        self.drain_woken();
        self.shared.core.borrow_mut().poll_os(timeout)?;
        Ok(())
    }

    fn drain_woken(&self) {
        let woken = std::mem::take(&mut *self.shared.woken.borrow_mut());
        if woken.is_empty() {
            return;
        }
        let mut core = self.shared.core.borrow_mut();
        for key in &woken {
            core.wake_key(*key);
        }
        drop(core);
        let mut slot = self.shared.woken.borrow_mut();
        if slot.is_empty() {
            *slot = woken;
            slot.clear();
        }
    }

    /// Polls the next ready task, then carries out the commands it issued. Returns `None` when
    /// the ready queue is empty, else whether the run should stop.
    fn step(&mut self) -> Option<bool> {
        let shared = &*self.shared;
        let (id, mut fut, timed) = {
            let mut core = shared.core.borrow_mut();
            let (id, fut) = core.pop_runnable()?;
            let timed = core.set_current(Some(id));
            let mut wakers = shared.wakers.borrow_mut();
            while wakers.len() <= id.key as usize {
                let key = wakers.len() as u32;
                wakers.push(core.make_waker(key, shared.loop_id));
            }
            (id, fut, timed)
        };
        let start = timed.then(Instant::now);
        let polled = {
            let wakers = shared.wakers.borrow();
            let mut cx = Context::from_waker(&wakers[id.key as usize].1);
            catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll_task(&mut cx)))
        };
        let elapsed = start.map(|s| s.elapsed());
        let (stop, dead) = {
            let mut core = shared.core.borrow_mut();
            let core = &mut *core;
            core.set_current(None);
            if core.wants_poll_report(elapsed.is_some()) {
                record_poll(core, id, elapsed);
            }
            core.after_poll(id, fut, polled.map_err(|p| panic_message(&*p)));
            let mut commands = shared.commands.borrow_mut();
            match commands.len() {
                0 => {}
                1 => {
                    if let Some((key, cmd)) = commands.pop() {
                        core.execute(key, cmd);
                    }
                }
                _ => commands.drain(..).for_each(|(key, cmd)| core.execute(key, cmd)),
            }
            (core.should_stop(), core.has_dead())
        };
        if dead {
            self.bury();
        }
        Some(stop)
    }

    /// Whether some task's waker was cloned and is still held (by a foreign future, another
    /// thread, ...), so a wake may still come.
    fn waker_held_elsewhere(&self) -> bool {
        self.shared
            .wakers
            .borrow()
            .iter()
            .any(|(a, _)| std::sync::Arc::strong_count(a) > 2)
    }

    /// Drops futures of cancelled or finished tasks, outside any borrow of the core (their
    /// `Drop` impls release tickets and registrations through the context).
    fn bury(&self) {
        loop {
            let mut dead = self.shared.core.borrow_mut().take_dead();
            if dead.is_empty() {
                return;
            }
            for (id, fut) in dead.drain(..) {
                if let Err(msg) = drop_contained(fut) {
                    self.shared.core.borrow_mut().drop_panicked(id, msg);
                }
            }
            self.shared.core.borrow_mut().return_dead_buffer(dead);
        }
    }
}

fn record_poll(core: &mut Core, id: TaskId, elapsed: Option<Duration>) {
    if let Some(e) = elapsed {
        let _label = super::poll_label::take();
        if core.add_poll_time(id, e) {
            #[cfg(feature = "tracing")]
            match &_label {
                Some(node) => {
                    tracing::warn!(target: "flowloop", task = %id, %node, elapsed_us = e.as_micros() as u64, "slow poll in node {node}")
                }
                None => tracing::warn!(target: "flowloop", task = %id, elapsed_us = e.as_micros() as u64, "slow poll"),
            }
            if let Some(i) = core.instrument.as_mut() {
                i.slow_poll(id, e);
            }
        }
    }
    if let Some(i) = core.instrument.as_mut() {
        i.task_polled(id, elapsed);
    }
}

fn take_exit<T: 'static>(value: Box<dyn Any>) -> Result<T, RunError> {
    value
        .downcast::<T>()
        .map(|b| *b)
        .map_err(|_| RunError::ExitTypeMismatch {
            expected: type_name::<T>(),
            found: "another type",
        })
}

fn take_root_output<T: 'static>(core: &mut Core, root: TaskId) -> Result<T, RunError> {
    let Some(slot) = core.slot_mut(root) else {
        return Err(RunError::Root(TaskError::Cancelled));
    };
    let outcome = slot.outcome().unwrap_or(Err(TaskError::Cancelled));
    let mut out: Option<T> = None;
    if let Some(fut) = slot.future.as_mut() {
        fut.as_mut().take_output(&mut out);
    }
    core.free_slot(root);
    outcome?;
    out.ok_or(RunError::Root(TaskError::Cancelled))
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        // Drop remaining task futures with the context installed, so their leaf futures can
        // release tickets and registrations.
        if context::is_set() {
            return;
        }
        let _guard = context::enter(self.shared.clone());
        let futures = self.shared.core.borrow_mut().take_all_futures();
        for fut in futures {
            let _ = drop_contained(fut);
        }
        self.bury();
    }
}

/// Drops a task's future, catching a panic from its `Drop` (returned as the panic message).
fn drop_contained(fut: TaskBox) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(move || drop(fut))).map_err(|p| panic_message(&*p))
}
