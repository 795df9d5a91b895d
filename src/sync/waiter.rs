//! Waiter lists: how queues and synchronisation primitives park tasks.

use std::task::Poll;

use slab::Slab;

use crate::runtime::context;
use crate::runtime::wait::Ticket;

/// End of the list.
const NIL: u32 = u32::MAX;

/// Names a waiter's entry in its [`WaitList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot(u32);

#[derive(Debug)]
struct Node {
    ticket: Ticket,
    prev: u32,
    next: u32,
}

/// FIFO of parked tickets belonging to one primitive: a doubly linked list through a slab, so
/// parking, waking the oldest and removing a cancelled waiter are all O(1).
#[derive(Debug)]
pub(crate) struct WaitList {
    nodes: Slab<Node>,
    head: u32,
    tail: u32,
}

impl Default for WaitList {
    fn default() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
        }
    }
}

impl WaitList {
    fn push_back(&mut self, ticket: Ticket) -> Slot {
        let key = self.nodes.insert(Node {
            ticket,
            prev: self.tail,
            next: NIL,
        }) as u32;
        match self.tail {
            NIL => self.head = key,
            t => self.nodes[t as usize].next = key,
        }
        self.tail = key;
        Slot(key)
    }

    fn pop_front(&mut self) -> Option<Ticket> {
        if self.head == NIL {
            return None;
        }
        let node = self.nodes.remove(self.head as usize);
        self.head = node.next;
        match node.next {
            NIL => self.tail = NIL,
            n => self.nodes[n as usize].prev = NIL,
        }
        Some(node.ticket)
    }

    /// Unlinks `slot` if it still holds `ticket` (it may have been woken and reused since).
    fn remove(&mut self, slot: Slot, ticket: Ticket) {
        let k = slot.0 as usize;
        if self.nodes.get(k).is_none_or(|n| n.ticket != ticket) {
            return;
        }
        let node = self.nodes.remove(k);
        match node.prev {
            NIL => self.head = node.next,
            p => self.nodes[p as usize].next = node.next,
        }
        match node.next {
            NIL => self.tail = node.prev,
            n => self.nodes[n as usize].prev = node.prev,
        }
    }

    /// Wakes the oldest live waiter; returns whether one was woken.
    pub(crate) fn wake_one(&mut self) -> bool {
        while let Some(t) = self.pop_front() {
            if context::complete(t) {
                return true;
            }
        }
        false
    }

    /// Wakes every waiter.
    pub(crate) fn wake_all(&mut self) {
        while let Some(t) = self.pop_front() {
            context::complete(t);
        }
    }

    /// Number of parked waiters.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.nodes.len()
    }
}

/// The waiting half kept inside a primitive's leaf future.
///
/// `park` takes a ticket (issuing `Command::Park`) and
/// joins a [`WaitList`]; `poll_woken` reports whether the primitive completed it; `abandon`
/// (from `Drop`) leaves the list and says whether a wake was received but never used, so the
/// primitive can pass it on.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    wait: Option<(Ticket, Slot)>,
}

impl Waiter {
    /// `Ready(())` if not parked or the wake arrived (the ticket is consumed); `Pending` while
    /// still parked.
    pub(crate) fn poll_woken(&mut self) -> Poll<()> {
        match self.wait {
            None => Poll::Ready(()),
            Some((t, _)) => match context::take(t) {
                Some(_) => {
                    self.wait = None;
                    Poll::Ready(())
                }
                None => Poll::Pending,
            },
        }
    }

    /// Parks on `list`. The caller returns `Pending`.
    pub(crate) fn park(&mut self, list: &mut WaitList) {
        let t = context::park();
        let slot = list.push_back(t);
        self.wait = Some((t, slot));
    }

    /// Leaves `list`; `true` if a wake had been delivered and not consumed.
    pub(crate) fn abandon(&mut self, list: &mut WaitList) -> bool {
        let Some((t, slot)) = self.wait.take() else {
            return false;
        };
        let woken = context::release(t);
        if !woken {
            list.remove(slot, t);
        }
        woken
    }

    pub(crate) fn is_parked(&self) -> bool {
        self.wait.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(key: u32) -> Ticket {
        Ticket { key, generation: 1 }
    }

    #[test]
    fn removal_from_anywhere_keeps_fifo_order() {
        let mut l = WaitList::default();
        let slots: Vec<Slot> = (0..5).map(|i| l.push_back(t(i))).collect();
        l.remove(slots[0], t(0));
        l.remove(slots[2], t(2));
        l.remove(slots[4], t(4));
        l.remove(slots[4], t(4));
        assert_eq!(l.len(), 2);
        assert_eq!(l.pop_front(), Some(t(1)));
        let s5 = l.push_back(t(5));
        // A stale slot that now holds another ticket is left alone.
        l.remove(slots[1], t(1));
        assert_eq!(l.pop_front(), Some(t(3)));
        l.remove(s5, t(5));
        assert_eq!(l.pop_front(), None);
        l.push_back(t(6));
        assert_eq!(l.pop_front(), Some(t(6)));
    }
}
