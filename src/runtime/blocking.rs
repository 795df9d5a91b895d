//! The offload pool: a few threads that run blocking closures for the loop.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Receiver, Sender};

use super::command::Job;
use super::core::RemoteMsg;
use super::error::panic_message;
use super::wait::Ticket;

struct WorkItem {
    job: Job,
    wait: Ticket,
    reply: Sender<RemoteMsg>,
    waker: Arc<mio::Waker>,
}

/// Lazily started worker threads fed through a crossbeam channel. Results return as
/// [`RemoteMsg::Offloaded`] and wake the loop through its `mio::Waker`. Jobs cannot be aborted:
/// a cancelled waiter only makes the loop discard the result.
pub(crate) struct BlockingPool {
    tx: Sender<WorkItem>,
    rx: Receiver<WorkItem>,
    max_threads: usize,
    threads: usize,
    in_flight: usize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        let (tx, rx) = crossbeam_channel::unbounded();
        BlockingPool {
            tx,
            rx,
            max_threads: max_threads.max(1),
            threads: 0,
            in_flight: 0,
        }
    }

    pub(crate) fn submit(&mut self, job: Job, wait: Ticket, reply: &Sender<RemoteMsg>, waker: Arc<mio::Waker>) {
        self.in_flight += 1;
        if self.threads < self.in_flight && self.threads < self.max_threads {
            self.spawn_worker();
        }
        let item = WorkItem {
            job,
            wait,
            reply: reply.clone(),
            waker,
        };
        // The pool owns a receiver, so the channel cannot be disconnected here.
        let _ = self.tx.send(item);
    }

    fn spawn_worker(&mut self) {
        let rx = self.rx.clone();
        let spawned = thread::Builder::new()
            .name(format!("flowloop-offload-{}", self.threads))
            .spawn(move || worker(rx));
        if spawned.is_ok() {
            self.threads += 1;
        }
    }

    pub(crate) fn job_done(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }
}

fn worker(rx: Receiver<WorkItem>) {
    // Ends when the pool (its sender) is dropped and the queue is drained.
    while let Ok(item) = rx.recv() {
        let result = catch_unwind(AssertUnwindSafe(item.job)).map_err(|p| panic_message(&*p));
        if item.reply.send(RemoteMsg::Offloaded(item.wait, result)).is_ok() {
            let _ = item.waker.wake();
        }
    }
}
