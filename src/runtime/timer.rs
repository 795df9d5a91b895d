//! Timers: a min-heap keyed by deadline, with lazy removal.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::wait::Ticket;

/// Pending timers ordered by deadline, ties broken by insertion order (FIFO).
///
/// A cancelled timer is not searched for: its ticket goes stale and the entry is discarded when
/// it reaches the top.
#[derive(Default)]
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Reverse<(Instant, u64, TicketKey)>>,
    seq: u64,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
struct TicketKey(u32, u32);

impl TimerHeap {
    pub(crate) fn push(&mut self, deadline: Instant, t: Ticket) {
        self.seq += 1;
        self.heap
            .push(Reverse((deadline, self.seq, TicketKey(t.key, t.generation))));
    }

    /// The earliest deadline, stale entries included.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((d, _, _))| *d)
    }

    /// Pops one timer due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Ticket> {
        match self.heap.peek() {
            Some(Reverse((d, _, _))) if *d <= now => {
                let Reverse((_, _, TicketKey(key, generation))) = self.heap.pop()?;
                Some(Ticket { key, generation })
            }
            _ => None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
