//! The wait table: one entry per pending command, so results find the leaf future that asked.
//!
//! A leaf future that must suspend takes a [`Ticket`], puts it in the [`Command`] it hands the
//! loop, and returns `Pending`. Whoever completes the command (the loop, a timer, a queue, the
//! driver, an offload worker) stores a [`Completion`] under the ticket and re-queues the owning
//! task. On its next poll the leaf future takes the completion. Tickets carry a generation, so
//! a stale ticket (its future was dropped, its task cancelled) is ignored wherever it still sits
//! — in the timer heap, a queue's waiter list or a socket's registration.
//!
//! [`Command`]: super::command::Command

use std::any::Any;

use slab::Slab;

use super::command::CommandKind;
use super::error::TaskError;
use super::timer::TimerKey;

/// Names one pending command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Ticket {
    pub(crate) key: u32,
    pub(crate) generation: u32,
}

/// What a completed command hands back to its leaf future.
pub(crate) enum Completion {
    /// The awaited thing happened (timer fired, task finished, queue or socket ready, ...).
    Done,
    /// An offloaded closure returned (or panicked, or could not be started).
    Offloaded(Result<Box<dyn Any + Send>, TaskError>),
}

pub(crate) struct WaitEntry {
    generation: u32,
    /// Slab key of the task that owns the wait.
    pub(crate) task: u32,
    pub(crate) kind: CommandKind,
    result: Option<Completion>,
    /// The wheel entry of a pending timer wait (removed from the wheel when the wait is
    /// released early).
    timer: Option<TimerKey>,
}

/// Slab of pending waits.
#[derive(Default)]
pub(crate) struct WaitTable {
    entries: Slab<WaitEntry>,
    next_gen: u32,
    /// Timer waits still pending (a timer that can never fire is not counted): the stall
    /// check considers only these.
    pending_sleeps: usize,
}

impl WaitTable {
    pub(crate) fn insert(&mut self, task: u32, kind: CommandKind) -> Ticket {
        self.next_gen = self.next_gen.wrapping_add(1);
        let generation = self.next_gen;
        if kind == CommandKind::Sleep {
            self.pending_sleeps += 1;
        }
        let key = self.entries.insert(WaitEntry {
            generation,
            task,
            kind,
            result: None,
            timer: None,
        });
        Ticket {
            key: key as u32,
            generation,
        }
    }

    fn entry_mut(&mut self, t: Ticket) -> Option<&mut WaitEntry> {
        self.entries
            .get_mut(t.key as usize)
            .filter(|e| e.generation == t.generation)
    }

    /// Stores the result; returns the owning task and kind if the ticket is live and was still
    /// pending.
    pub(crate) fn complete(&mut self, t: Ticket, c: Completion) -> Option<(u32, CommandKind)> {
        let e = self.entry_mut(t)?;
        if e.result.is_some() {
            return None;
        }
        e.result = Some(c);
        e.timer = None;
        let (task, kind) = (e.task, e.kind);
        if kind == CommandKind::Sleep {
            self.pending_sleeps -= 1;
        }
        Some((task, kind))
    }

    /// Takes the result and frees the ticket if the command completed.
    pub(crate) fn take(&mut self, t: Ticket) -> Option<Completion> {
        let e = self.entry_mut(t)?;
        let c = e.result.take()?;
        self.entries.remove(t.key as usize);
        Some(c)
    }

    /// Frees the ticket whatever its state; returns its unconsumed result, if any, and the
    /// wheel entry of a timer that had not fired (for the caller to remove).
    pub(crate) fn cancel(&mut self, t: Ticket) -> (Option<Completion>, Option<TimerKey>) {
        if self.entry_mut(t).is_none() {
            return (None, None);
        }
        let e = self.entries.remove(t.key as usize);
        if e.kind == CommandKind::Sleep && e.result.is_none() {
            self.pending_sleeps -= 1;
        }
        (e.result, e.timer)
    }

    /// Whether `t` names a wait that is still pending (not completed, not released).
    pub(crate) fn is_pending(&self, t: Ticket) -> bool {
        self.entries
            .get(t.key as usize)
            .is_some_and(|e| e.generation == t.generation && e.result.is_none())
    }

    /// Remembers the wheel entry of a timer wait.
    pub(crate) fn set_timer(&mut self, t: Ticket, key: TimerKey) {
        if let Some(e) = self.entry_mut(t) {
            e.timer = Some(key);
        }
    }

    /// Marks a timer wait whose deadline can never come: it no longer counts as a pending
    /// timer, so a loop with nothing else to wake it reports a stall instead of hanging.
    pub(crate) fn never(&mut self, t: Ticket) {
        if let Some(e) = self.entry_mut(t) {
            if e.kind == CommandKind::Sleep && e.result.is_none() {
                e.kind = CommandKind::Park;
                self.pending_sleeps -= 1;
            }
        }
    }

    /// Number of timer waits that have neither fired nor been cancelled.
    pub(crate) fn pending_sleeps(&self) -> usize {
        self.pending_sleeps
    }
}
