//! The offload pool: a few threads that run blocking closures for the loop.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use crossbeam_channel::{Receiver, Sender};

use super::command::Job;
use super::core::RemoteMsg;
use super::driver::LoopWaker;
use super::error::{TaskError, panic_message};
use super::wait::Ticket;

struct WorkItem {
    job: Job,
    wait: Ticket,
    reply: Sender<RemoteMsg>,
    waker: LoopWaker,
}

/// Lazily started worker threads fed through a crossbeam channel. Results return as
/// [`RemoteMsg::Offloaded`] and wake the loop through its [`LoopWaker`]. Jobs cannot be aborted:
/// a cancelled waiter only makes the loop discard the result.
pub(crate) struct BlockingPool {
    tx: Sender<WorkItem>,
    rx: Receiver<WorkItem>,
    max_threads: usize,
    /// Stack size of new workers (`None`: the platform default).
    stack_size: Option<usize>,
    threads: usize,
    in_flight: usize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, stack_size: Option<usize>) -> BlockingPool {
        let (tx, rx) = crossbeam_channel::unbounded();
        BlockingPool {
            tx,
            rx,
            max_threads: max_threads.max(1),
            stack_size,
            threads: 0,
            in_flight: 0,
        }
    }

    /// Queues `job` for a worker, starting one if every worker is busy and the limit allows.
    ///
    /// # Errors
    /// [`TaskError::NoOffloadThread`] when no worker runs and none could be started (the job
    /// would wait for ever); the job is dropped.
    pub(crate) fn submit(
        &mut self,
        job: Job,
        wait: Ticket,
        reply: &Sender<RemoteMsg>,
        waker: LoopWaker,
    ) -> Result<(), TaskError> {
        if self.threads < self.in_flight + 1 && self.threads < self.max_threads {
            if let Err(e) = self.spawn_worker() {
                if self.threads == 0 {
                    return Err(TaskError::NoOffloadThread(e.to_string()));
                }
            }
        }
        self.in_flight += 1;
        let item = WorkItem {
            job,
            wait,
            reply: reply.clone(),
            waker,
        };
        // The pool owns a receiver, so the channel cannot be disconnected here.
        let _ = self.tx.send(item);
        Ok(())
    }

    fn spawn_worker(&mut self) -> std::io::Result<()> {
        let rx = self.rx.clone();
        let mut builder = thread::Builder::new().name(format!("flowloop-offload-{}", self.threads));
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        builder.spawn(move || worker(rx))?;
        self.threads += 1;
        Ok(())
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
        let result = catch_unwind(AssertUnwindSafe(item.job)).map_err(|p| TaskError::Panicked(panic_message(&*p)));
        if item.reply.send(RemoteMsg::Offloaded(item.wait, result)).is_ok() {
            item.waker.wake();
        }
    }
}
