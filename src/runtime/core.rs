//! Loop state shared between the run loop and the leaf futures of the running task.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use slab::Slab;

use super::blocking::BlockingPool;
use super::command::{Command, CommandKind};
use super::driver::{Direction, Driver, LoopWaker};
use super::error::{TaskError, TaskId};
use super::instrument::{Instrument, LoopStats};
use super::task::{CellPool, TaskBox, TaskSlot, TaskState};
use super::timer::TimerWheel;
use super::wait::{Completion, Ticket, WaitTable};

mod run;

/// Messages from other threads: spawned futures, wakes, finished offload jobs.
pub(crate) enum RemoteMsg {
    Spawn(Box<dyn FnOnce() -> TaskBox + Send>),
    /// At most one per slot is on its way at any time (see [`SlotWaker`]).
    Wake(Arc<SlotWaker>),
    Offloaded(Ticket, Result<Box<dyn Any + Send>, TaskError>),
}

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

/// The waker of one task slot. A wake of a slot whose task has since changed only causes a
/// spurious poll, which every leaf future tolerates.
///
/// Wakes are merged: on the loop's thread a wake queues the task directly (a task already
/// queued is not queued again); from another thread, a wake sends one message and sets `sent`
/// until the loop receives it, so further wakes meanwhile send nothing.
pub(crate) struct SlotWaker {
    key: u32,
    loop_id: u64,
    sent: AtomicBool,
    tx: Sender<RemoteMsg>,
    loop_waker: LoopWaker,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let local = super::context::try_with(|s| {
            if s.loop_id != self.loop_id {
                return false;
            }
            match s.core.try_borrow_mut() {
                Ok(mut core) => core.wake_key(self.key),
                Err(_) => s.woken.borrow_mut().push(self.key),
            }
            true
        });
        if local == Some(true) || self.sent.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.tx.send(RemoteMsg::Wake(self.clone())).is_ok() {
            self.loop_waker.wake();
        }
    }
}

/// What the thread-local context points at while a loop runs.
pub(crate) struct Shared {
    pub(crate) loop_id: u64,
    pub(crate) core: RefCell<Core>,
    /// Per-step command slot: filled by leaf futures during a poll, drained right after it.
    pub(crate) commands: RefCell<Vec<(u32, Command)>>,
    /// Slots woken by same-thread `Waker`s.
    pub(crate) woken: RefCell<Vec<u32>>,
    /// One waker per slab slot, made once and reused by every task in that slot. Only grown
    /// between polls; borrowed shared while a task is polled.
    pub(crate) wakers: RefCell<Vec<(Arc<SlotWaker>, Waker)>>,
}

/// The ready queue: FIFO of task ids (stale entries are skipped when popped).
pub(crate) type ReadyQueue = VecDeque<TaskId>;

/// Everything the loop owns except the per-step slot.
///
/// Its state is private to this module and its `run` child, which give the run loop, the
/// leaf futures and the task handles narrow methods. Two fields stay open to the layers
/// above the loop: `driver` (socket registrations, used by `net`) and `instrument` (socket and
/// flow events, used by `net` and `flow`).
pub(crate) struct Core {
    tasks: Slab<TaskSlot>,
    ready: ReadyQueue,
    waits: WaitTable,
    timers: TimerWheel,
    pub(crate) driver: Driver,
    blocking: BlockingPool,
    remote_tx: Sender<RemoteMsg>,
    remote_rx: Receiver<RemoteMsg>,
    /// Alive while a `LoopHandle` exists outside the loop.
    handle_token: Arc<()>,
    stats: LoopStats,
    pub(crate) instrument: Option<Box<dyn Instrument>>,
    time_polls: bool,
    slow_poll: Option<Duration>,
    /// The root task of the current run, and whether it has finished.
    root: Option<(TaskId, bool)>,
    /// Whether the current run waits for every task, not just the root.
    wait_all: bool,
    /// The task being polled right now.
    current: Option<TaskId>,
    exit: Option<Box<dyn Any>>,
    next_gen: u32,
    /// Tasks inserted and not yet finished.
    live: usize,
    /// Futures whose drop was deferred until no borrow of the core is held, with the task
    /// each belonged to (a panic in its `Drop` is reported on that task).
    graveyard: Vec<(TaskId, TaskBox)>,
    /// An empty buffer swapped in while the graveyard is being emptied (avoids reallocating).
    spare_graveyard: Vec<(TaskId, TaskBox)>,
    /// Finished task cells kept for reuse.
    cells: CellPool,
    /// Reused buffer for due timers.
    due_buf: Vec<Ticket>,
    /// Reused buffer for the waits a socket event completes.
    io_buf: Vec<Ticket>,
}

impl Shared {
    pub(crate) fn new(core: Core) -> Shared {
        Shared {
            loop_id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            core: RefCell::new(core),
            commands: RefCell::new(Vec::new()),
            woken: RefCell::new(Vec::new()),
            wakers: RefCell::new(Vec::new()),
        }
    }
}

impl Core {
    pub(crate) fn new(driver: Driver, blocking: BlockingPool) -> Core {
        let (remote_tx, remote_rx) = crossbeam_channel::unbounded();
        Core {
            tasks: Slab::new(),
            ready: VecDeque::new(),
            waits: WaitTable::default(),
            timers: TimerWheel::default(),
            driver,
            blocking,
            remote_tx,
            remote_rx,
            handle_token: Arc::new(()),
            stats: LoopStats::default(),
            instrument: None,
            time_polls: false,
            slow_poll: None,
            root: None,
            wait_all: true,
            current: None,
            exit: None,
            next_gen: 0,
            live: 0,
            graveyard: Vec::new(),
            spare_graveyard: Vec::new(),
            cells: CellPool::default(),
            due_buf: Vec::new(),
            io_buf: Vec::new(),
        }
    }

    pub(crate) fn slot(&self, id: TaskId) -> Option<&TaskSlot> {
        self.tasks
            .get(id.key as usize)
            .filter(|s| s.generation == id.generation)
    }

    pub(crate) fn slot_mut(&mut self, id: TaskId) -> Option<&mut TaskSlot> {
        self.tasks
            .get_mut(id.key as usize)
            .filter(|s| s.generation == id.generation)
    }

    /// Inserts a task without queueing it (its state is already `Queued`; the caller pushes it).
    pub(crate) fn add_task(&mut self, future: TaskBox) -> TaskId {
        self.next_gen = self.next_gen.wrapping_add(1);
        let generation = self.next_gen;
        let key = self.tasks.insert(TaskSlot::new(generation, future)) as u32;
        let id = TaskId { key, generation };
        self.live += 1;
        self.stats.tasks_spawned += 1;
        if let Some(i) = self.instrument.as_mut() {
            i.task_spawned(id);
        }
        id
    }

    /// Inserts a task and queues it.
    pub(crate) fn insert_task(&mut self, future: TaskBox) -> TaskId {
        let id = self.add_task(future);
        self.ready.push_back(id);
        id
    }

    /// A waker for slot `key`, for a loop whose id is `loop_id`.
    pub(crate) fn make_waker(&self, key: u32, loop_id: u64) -> (Arc<SlotWaker>, Waker) {
        let w = Arc::new(SlotWaker {
            key,
            loop_id,
            sent: AtomicBool::new(false),
            tx: self.remote_tx.clone(),
            loop_waker: self.driver.waker(),
        });
        (w.clone(), Waker::from(w))
    }

    /// Puts a waiting task on the ready queue (or flags a running one to be re-polled).
    pub(crate) fn wake_key(&mut self, key: u32) {
        let Some(slot) = self.tasks.get_mut(key as usize) else {
            return;
        };
        match slot.state {
            TaskState::Idle => {
                slot.state = TaskState::Queued;
                self.ready.push_back(TaskId {
                    key,
                    generation: slot.generation,
                });
            }
            TaskState::Running => slot.notified = true,
            _ => {}
        }
    }

    /// Completes a wait and wakes its task. Stale or already-completed tickets are ignored
    /// (and make it return `false`).
    pub(crate) fn complete(&mut self, t: Ticket, c: Completion) -> bool {
        let Some((task, kind)) = self.waits.complete(t, c) else {
            return false;
        };
        {
            if let Some(i) = self.instrument.as_mut() {
                if let Some(slot) = self.tasks.get(task as usize) {
                    i.command_completed(
                        TaskId {
                            key: task,
                            generation: slot.generation,
                        },
                        kind,
                    );
                }
            }
            self.wake_key(task);
        }
        true
    }

    /// Records that a task has finished and wakes its joiner; frees the slot if detached.
    pub(crate) fn finish(&mut self, id: TaskId, outcome: Result<(), TaskError>) {
        let Some(slot) = self.slot_mut(id) else { return };
        slot.set_outcome(outcome.clone());
        let joiner = slot.joiner.take();
        let detached = slot.detached;
        self.live -= 1;
        if let Some((root, done)) = self.root.as_mut() {
            *done |= *root == id;
        }
        match &outcome {
            Ok(()) => self.stats.tasks_completed += 1,
            Err(TaskError::Cancelled) => self.stats.tasks_cancelled += 1,
            Err(_) => self.stats.tasks_failed += 1,
        }
        if let Some(i) = self.instrument.as_mut() {
            match &outcome {
                Ok(()) => i.task_completed(id),
                Err(TaskError::Cancelled) => i.task_cancelled(id),
                Err(e) => i.task_failed(id, e),
            }
        }
        if let Some(t) = joiner {
            self.complete(t, Completion::Done);
        }
        if detached {
            self.free_slot(id);
        }
    }

    /// Removes a finished task's slot; its (already finished) cell is dropped later.
    pub(crate) fn free_slot(&mut self, id: TaskId) {
        if let Some(fut) = self.remove_slot(id) {
            self.graveyard.push((id, fut));
        }
    }

    /// Removes a finished task's slot and hands back its cell, for the caller to drop once no
    /// borrow of the core is held.
    pub(crate) fn remove_slot(&mut self, id: TaskId) -> Option<TaskBox> {
        self.slot(id)?;
        self.tasks.remove(id.key as usize).future
    }

    /// Removes a joined task's slot; its cell is kept for reuse if it is empty, else handed
    /// back for the caller to drop outside the borrow.
    pub(crate) fn recycle_slot(&mut self, id: TaskId) -> Option<TaskBox> {
        let cell = self.remove_slot(id)?;
        let limit = self.tasks.capacity();
        self.cells.give(cell, limit)
    }

    /// Tells the instrument that a command without a ticket (it completes at once) completed.
    fn report_completed(&mut self, key: u32, kind: CommandKind) {
        if let Some(i) = self.instrument.as_mut() {
            if let Some(slot) = self.tasks.get(key as usize) {
                i.command_completed(
                    TaskId {
                        key,
                        generation: slot.generation,
                    },
                    kind,
                );
            }
        }
    }

    /// Whether the current run is over: `exit` was called, or the root finished (and, when
    /// waiting for all, every task).
    pub(crate) fn should_stop(&self) -> bool {
        self.exit.is_some() || (self.root.is_some_and(|(_, done)| done) && (!self.wait_all || self.live == 0))
    }

    /// Pops the next task that is really queued (stale entries are skipped), marks it running
    /// and takes its future for polling.
    pub(crate) fn pop_runnable(&mut self) -> Option<(TaskId, TaskBox)> {
        while let Some(id) = self.ready.pop_front() {
            let Some(slot) = self.tasks.get_mut(id.key as usize) else {
                continue;
            };
            if slot.generation != id.generation || slot.state != TaskState::Queued {
                continue;
            }
            let Some(fut) = slot.future.take() else { continue };
            slot.state = TaskState::Running;
            slot.polls = slot.polls.saturating_add(1);
            return Some((id, fut));
        }
        None
    }

    /// Settles a task after its poll: back to idle (or re-queued if woken meanwhile), or
    /// finished with its value, its panic, or a cancellation that arrived during the poll.
    pub(crate) fn after_poll(&mut self, id: TaskId, fut: TaskBox, polled: Result<Poll<()>, String>) {
        let Some(slot) = self.slot_mut(id) else {
            self.graveyard.push((id, fut));
            return;
        };
        let outcome = match polled {
            Ok(Poll::Pending) if !slot.cancel_requested => {
                slot.future = Some(fut);
                slot.state = TaskState::Idle;
                if std::mem::take(&mut slot.notified) {
                    slot.state = TaskState::Queued;
                    self.ready.push_back(id);
                }
                return;
            }
            Ok(Poll::Pending) => {
                self.graveyard.push((id, fut));
                Err(TaskError::Cancelled)
            }
            Ok(Poll::Ready(())) => {
                slot.future = Some(fut);
                Ok(())
            }
            Err(msg) => {
                self.graveyard.push((id, fut));
                Err(TaskError::Panicked(msg))
            }
        };
        self.finish(id, outcome);
    }

    /// Cancels a task: it is finished as cancelled at once and its future goes to the
    /// graveyard, dropped by the loop outside any borrow (so a chain of tasks that cancel each
    /// other from `Drop` is unwound one by one, never recursively). Unknown and finished tasks
    /// are left alone; a running task is flagged and dropped when its poll returns.
    pub(crate) fn cancel_task(&mut self, id: TaskId) {
        let Some(slot) = self.slot_mut(id) else { return };
        match slot.state {
            TaskState::Completed | TaskState::Panicked | TaskState::Cancelled => {}
            TaskState::Running => slot.cancel_requested = true,
            TaskState::Idle | TaskState::Queued => {
                let fut = slot.future.take();
                self.finish(id, Err(TaskError::Cancelled));
                if let Some(fut) = fut {
                    self.graveyard.push((id, fut));
                }
            }
        }
    }

    /// Records that dropping the future of task `id` panicked with `msg`. A task that was
    /// cancelled (and whose outcome nobody has taken yet) now reports the panic instead.
    pub(crate) fn drop_panicked(&mut self, id: TaskId, msg: String) {
        self.stats.drop_panics += 1;
        let Some(slot) = self.slot_mut(id) else { return };
        if slot.state != TaskState::Cancelled {
            return;
        }
        let error = TaskError::Panicked(msg);
        slot.set_outcome(Err(error.clone()));
        self.stats.tasks_cancelled -= 1;
        self.stats.tasks_failed += 1;
        if let Some(i) = self.instrument.as_mut() {
            i.task_failed(id, &error);
        }
    }

    /// Carries out one command issued by task `key`.
    pub(crate) fn execute(&mut self, key: u32, cmd: Command) {
        self.stats.commands[cmd.kind().index()] += 1;
        if let Some(i) = self.instrument.as_mut() {
            if let Some(slot) = self.tasks.get(key as usize) {
                i.command_issued(
                    TaskId {
                        key,
                        generation: slot.generation,
                    },
                    cmd.kind(),
                );
            }
        }
        match cmd {
            Command::Yield => {
                self.wake_key(key);
                self.report_completed(key, CommandKind::Yield);
            }
            Command::Sleep { deadline, wait } => self.start_timer(deadline, wait),
            Command::Spawn { child } => {
                if self.slot(child).is_some_and(|s| s.state == TaskState::Queued) {
                    self.ready.push_back(child);
                }
                self.wake_key(key);
                self.report_completed(key, CommandKind::Spawn);
            }
            Command::Join { target, wait } => match self.slot_mut(target) {
                Some(slot) if !slot.is_finished() => slot.joiner = Some(wait),
                _ => {
                    self.complete(wait, Completion::Done);
                }
            },
            Command::Cancel { target, wait } => {
                self.cancel_task(target);
                self.complete(wait, Completion::Done);
            }
            // Nothing to do: the primitive holds the ticket. It may already be completed or
            // released, if the same poll woke it or dropped the waiting future.
            Command::Park => {}
            Command::Offload { job, wait } => {
                if let Err(e) = self.blocking.submit(job, wait, &self.remote_tx, self.driver.waker()) {
                    self.complete(wait, Completion::Offloaded(Err(e)));
                }
            }
            Command::Exit { value } => {
                self.exit = Some(value);
                // The exiting task can never resume: drop it now, or a later run would wait
                // for it forever (and report `Stalled`).
                if let Some(generation) = self.tasks.get(key as usize).map(|s| s.generation) {
                    self.cancel_task(TaskId { key, generation });
                }
            }
            Command::Accept { io, wait } | Command::Recv { io, wait } => {
                if self.driver.wait_ready(io, Direction::Read, wait) {
                    self.complete(wait, Completion::Done);
                }
            }
            Command::Send { io, wait } | Command::Connect { io, wait } => {
                if self.driver.wait_ready(io, Direction::Write, wait) {
                    self.complete(wait, Completion::Done);
                }
            }
        }
    }

    /// Puts a timer wait on the wheel (unless it was released during the poll that issued
    /// it); a deadline that can never come leaves the wait parked for good.
    fn start_timer(&mut self, deadline: Option<Instant>, wait: Ticket) {
        if !self.waits.is_pending(wait) {
            return;
        }
        match deadline.and_then(|d| self.timers.push(d, wait)) {
            Some(key) => self.waits.set_timer(wait, key),
            None => self.waits.never(wait),
        }
    }

    /// Frees a ticket whose leaf future no longer waits (dropped, cancelled), removing its
    /// timer from the wheel; returns whether it had completed without being taken.
    pub(crate) fn release(&mut self, t: Ticket) -> bool {
        let (result, timer) = self.waits.cancel(t);
        if let Some(key) = timer {
            self.timers.remove(key, t);
        }
        result.is_some()
    }

    /// Fires every timer that is due; returns how many woke a task.
    pub(crate) fn fire_timers(&mut self, now: Instant) -> usize {
        if self.timers.len() == 0 {
            return 0;
        }
        let mut due = std::mem::take(&mut self.due_buf);
        self.timers.drain_due(now, &mut due);
        let mut fired = 0;
        for t in due.drain(..) {
            if self.complete(t, Completion::Done) {
                fired += 1;
            }
        }
        self.due_buf = due;
        self.stats.timers_fired += fired as u64;
        fired
    }

    /// Handles messages from other threads.
    pub(crate) fn drain_remote(&mut self) {
        while let Ok(msg) = self.remote_rx.try_recv() {
            match msg {
                RemoteMsg::Spawn(make) => {
                    let id = self.insert_task(make());
                    if let Some(s) = self.slot_mut(id) {
                        s.detached = true;
                    }
                }
                RemoteMsg::Wake(waker) => {
                    // Cleared first: a wake from now on sends a new message.
                    waker.sent.store(false, Ordering::Release);
                    self.stats.remote_wakes += 1;
                    self.wake_key(waker.key);
                }
                RemoteMsg::Offloaded(t, r) => {
                    self.blocking.job_done();
                    self.complete(t, Completion::Offloaded(r));
                }
            }
        }
    }

    /// True when something outside the ready queue could still wake a task (cloned wakers are
    /// checked by the caller, which owns them).
    pub(crate) fn may_wake(&self) -> bool {
        self.waits.pending_sleeps() > 0
            || self.driver.registrations() > 0
            || self.blocking.in_flight() > 0
            || !self.remote_rx.is_empty()
            || Arc::strong_count(&self.handle_token) > 1
    }
}
