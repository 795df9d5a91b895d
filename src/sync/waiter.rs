//! Waiter lists: how queues and synchronisation primitives park tasks.

use std::collections::VecDeque;
use std::task::Poll;

use crate::runtime::context;
use crate::runtime::wait::Ticket;

/// FIFO of parked tickets belonging to one primitive.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    tickets: VecDeque<Ticket>,
}

impl WaitList {
    /// Wakes the oldest live waiter; returns whether one was woken.
    pub(crate) fn wake_one(&mut self) -> bool {
        while let Some(t) = self.tickets.pop_front() {
            if context::complete(t) {
                return true;
            }
        }
        false
    }

    /// Wakes every waiter.
    pub(crate) fn wake_all(&mut self) {
        for t in self.tickets.drain(..) {
            context::complete(t);
        }
    }

    fn remove(&mut self, t: Ticket) {
        if let Some(i) = self.tickets.iter().position(|x| *x == t) {
            self.tickets.remove(i);
        }
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
    wait: Option<Ticket>,
}

impl Waiter {
    /// `Ready(())` if not parked or the wake arrived (the ticket is consumed); `Pending` while
    /// still parked.
    pub(crate) fn poll_woken(&mut self) -> Poll<()> {
        match self.wait {
            None => Poll::Ready(()),
            Some(t) => match context::take(t) {
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
        list.tickets.push_back(t);
        self.wait = Some(t);
    }

    /// Leaves `list`; `true` if a wake had been delivered and not consumed.
    pub(crate) fn abandon(&mut self, list: &mut WaitList) -> bool {
        let Some(t) = self.wait.take() else { return false };
        let woken = context::release(t);
        if !woken {
            list.remove(t);
        }
        woken
    }

    pub(crate) fn is_parked(&self) -> bool {
        self.wait.is_some()
    }
}
