//! The narrow interface the run loop ([`EventLoop`](crate::runtime::EventLoop)), the leaf
//! futures and the task handles use to reach [`Core`]'s private state.

use std::any::Any;
use std::time::{Duration, Instant};

use super::Core;
use crate::runtime::command::CommandKind;
use crate::runtime::error::TaskId;
use crate::runtime::instrument::{Instrument, LoopStats};
use crate::runtime::remote::LoopHandle;
use crate::runtime::task::{TaskBox, TaskCell};
use crate::runtime::wait::{Completion, Ticket};

impl Core {
    /// Applies the builder's observability settings.
    pub(crate) fn configure(
        &mut self,
        instrument: Option<Box<dyn Instrument>>,
        time_polls: bool,
        slow_poll: Option<Duration>,
    ) {
        self.instrument = instrument;
        self.time_polls = time_polls;
        self.slow_poll = slow_poll;
    }

    /// The slow-poll warning threshold the loop was built with, if any.
    pub(crate) fn slow_poll(&self) -> Option<Duration> {
        self.slow_poll
    }

    /// A new `LoopHandle` for other threads.
    pub(crate) fn loop_handle(&self) -> LoopHandle {
        LoopHandle::new(self.remote_tx.clone(), self.driver.waker(), self.handle_token.clone())
    }

    /// The counters so far, with the gauges read now.
    pub(crate) fn stats_snapshot(&self) -> LoopStats {
        LoopStats {
            timer_entries: self.timers.len() as u64,
            ..self.stats.clone()
        }
    }

    /// Starts a run: inserts and queues `root`, and remembers whether to wait for every task.
    pub(crate) fn start_run(&mut self, root: TaskBox, wait_all: bool) -> TaskId {
        self.exit = None;
        self.wait_all = wait_all;
        let id = self.insert_task(root);
        self.root = Some((id, false));
        id
    }

    /// The value passed to `exit` during this run, if any.
    pub(crate) fn take_exit(&mut self) -> Option<Box<dyn Any>> {
        self.exit.take()
    }

    /// The task being polled right now.
    pub(crate) fn current(&self) -> Option<TaskId> {
        self.current
    }

    /// Marks `id` as the task being polled (`None` after its poll) and counts the poll;
    /// returns whether polls are timed.
    pub(crate) fn set_current(&mut self, id: Option<TaskId>) -> bool {
        self.current = id;
        if id.is_some() {
            self.stats.polls += 1;
        }
        self.time_polls
    }

    /// Whether a poll of `id` must be reported (timed, or an instrument is installed).
    pub(crate) fn wants_poll_report(&self, timed: bool) -> bool {
        timed || self.instrument.is_some()
    }

    /// Adds a timed poll of `id` to the counters; returns whether it was slow.
    pub(crate) fn add_poll_time(&mut self, id: TaskId, elapsed: Duration) -> bool {
        self.stats.poll_time += elapsed;
        if let Some(slot) = self.slot_mut(id) {
            slot.poll_ns += elapsed.as_nanos() as u64;
        }
        let slow = self.slow_poll.is_some_and(|t| elapsed > t);
        if slow {
            self.stats.slow_polls += 1;
        }
        slow
    }

    /// Whether a task is ready to be polled.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Tasks inserted and not yet finished.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// How long an idle loop may block in the OS: until the next live timer, or for ever.
    pub(crate) fn idle_timeout(&self, now: Instant) -> Option<Duration> {
        if self.waits.pending_sleeps() == 0 {
            return None;
        }
        self.timers.next_deadline().map(|d| d.saturating_duration_since(now))
    }

    /// One OS poll (after firing due timers); completes socket waits and remote messages. Waits
    /// at most `timeout`, not at all if a task is ready.
    pub(crate) fn poll_os(&mut self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.fire_timers(Instant::now());
        let timeout = if self.ready.is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let mut ready = std::mem::take(&mut self.io_buf);
        self.stats.os_polls += 1;
        let polled = self.driver.poll(timeout, &mut ready);
        for t in ready.drain(..) {
            self.complete(t, Completion::Done);
        }
        self.io_buf = ready;
        polled?;
        self.drain_remote();
        self.fire_timers(Instant::now());
        Ok(())
    }

    /// Whether futures wait in the graveyard.
    pub(crate) fn has_dead(&self) -> bool {
        !self.graveyard.is_empty()
    }

    /// Takes the graveyard's futures (an empty list if there are none), leaving a spare
    /// buffer in their place.
    pub(crate) fn take_dead(&mut self) -> Vec<(TaskId, TaskBox)> {
        if self.graveyard.is_empty() {
            return Vec::new();
        }
        let spare = std::mem::take(&mut self.spare_graveyard);
        std::mem::replace(&mut self.graveyard, spare)
    }

    /// Hands back an emptied graveyard buffer for reuse.
    pub(crate) fn return_dead_buffer(&mut self, buf: Vec<(TaskId, TaskBox)>) {
        if self.spare_graveyard.capacity() == 0 {
            self.spare_graveyard = buf;
        }
    }

    /// Takes every task's future (the loop is being dropped).
    pub(crate) fn take_all_futures(&mut self) -> Vec<TaskBox> {
        self.tasks.iter_mut().filter_map(|(_, s)| s.future.take()).collect()
    }

    /// Takes a ticket for a command of `kind` issued by task slot `task`.
    pub(crate) fn new_wait(&mut self, task: u32, kind: CommandKind) -> Ticket {
        self.waits.insert(task, kind)
    }

    /// Takes the completion of `t` if its command has completed (and frees the ticket).
    pub(crate) fn take_completion(&mut self, t: Ticket) -> Option<Completion> {
        self.waits.take(t)
    }

    /// A task cell for `future` (taken from the option): a pooled cell of the same type if
    /// there is one, else a new allocation.
    pub(crate) fn new_cell<F: std::future::Future + 'static>(&mut self, future: &mut Option<F>) -> Option<TaskBox> {
        if let Some(cell) = self.cells.take(future) {
            return Some(cell);
        }
        Some(Box::pin(TaskCell::new(future.take()?)))
    }
}
