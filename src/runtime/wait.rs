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
use super::error::TaskId;

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
    /// A spawn command inserted this task.
    Spawned(TaskId),
    /// An offloaded closure returned (or panicked with this message).
    Offloaded(Result<Box<dyn Any + Send>, String>),
}

pub(crate) struct WaitEntry {
    generation: u32,
    /// Slab key of the task that owns the wait.
    pub(crate) task: u32,
    pub(crate) kind: CommandKind,
    result: Option<Completion>,
}

/// Slab of pending waits.
#[derive(Default)]
pub(crate) struct WaitTable {
    entries: Slab<WaitEntry>,
    next_gen: u32,
}

impl WaitTable {
    pub(crate) fn insert(&mut self, task: u32, kind: CommandKind) -> Ticket {
        self.next_gen = self.next_gen.wrapping_add(1);
        let generation = self.next_gen;
        let key = self.entries.insert(WaitEntry {
            generation,
            task,
            kind,
            result: None,
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
        Some((e.task, e.kind))
    }

    /// True when the ticket is live and its command has not completed yet.
    pub(crate) fn is_pending(&self, t: Ticket) -> bool {
        self.entries
            .get(t.key as usize)
            .is_some_and(|e| e.generation == t.generation && e.result.is_none())
    }

    /// Takes the result and frees the ticket if the command completed.
    pub(crate) fn take(&mut self, t: Ticket) -> Option<Completion> {
        let e = self.entry_mut(t)?;
        let c = e.result.take()?;
        self.entries.remove(t.key as usize);
        Some(c)
    }

    /// Frees the ticket whatever its state; returns its unconsumed result, if any.
    pub(crate) fn cancel(&mut self, t: Ticket) -> Option<Completion> {
        self.entry_mut(t)?;
        self.entries.remove(t.key as usize).result
    }
}
