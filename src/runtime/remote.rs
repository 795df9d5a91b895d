//! [`LoopHandle`]: reaching the loop from other threads.

use std::future::Future;
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::core::RemoteMsg;
use super::driver::LoopWaker;
use super::error::TaskError;
use super::task::{TaskBox, TaskCell};

/// A `Send + Clone` handle to an [`EventLoop`](super::EventLoop), for other threads.
///
/// It can spawn `Send` futures into the loop and wake it. While any handle exists, an idle loop
/// waits for it instead of reporting [`RunError::Stalled`](super::RunError::Stalled).
///
/// # Examples
/// ```
/// use flowloop::EventLoop;
/// let mut lp = EventLoop::new().unwrap();
/// let handle = lp.handle();
/// let remote = std::thread::spawn(move || handle.spawn(async { 6 * 7 })).join().unwrap();
/// // Remote tasks are picked up when the loop runs, and waited for like spawned tasks.
/// lp.run_until_complete(async {}).unwrap();
/// assert_eq!(remote.join().unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct LoopHandle {
    tx: Sender<RemoteMsg>,
    waker: LoopWaker,
    _token: Arc<()>,
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopHandle").finish_non_exhaustive()
    }
}

impl LoopHandle {
    pub(crate) fn new(tx: Sender<RemoteMsg>, waker: LoopWaker, token: Arc<()>) -> LoopHandle {
        LoopHandle {
            tx,
            waker,
            _token: token,
        }
    }

    /// Sends `future` to the loop, which runs it as a detached task the next time it runs.
    /// The returned [`RemoteTask`] gives its value to any thread.
    ///
    /// If the loop has been dropped, the task is lost and `RemoteTask::join` reports
    /// [`TaskError::Cancelled`].
    pub fn spawn<F>(&self, future: F) -> RemoteTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let make = move || -> TaskBox {
            Box::pin(TaskCell::new(async move {
                let _ = tx.send(future.await);
            }))
        };
        if self.tx.send(RemoteMsg::Spawn(Box::new(make))).is_ok() {
            self.wake();
        }
        RemoteTask { rx }
    }

    /// Interrupts the loop's OS poll (harmless if it is busy or not running).
    pub fn wake(&self) {
        self.waker.wake();
    }
}

/// The result of a future sent with [`LoopHandle::spawn`].
#[derive(Debug)]
pub struct RemoteTask<T> {
    rx: crossbeam_channel::Receiver<T>,
}

impl<T> RemoteTask<T> {
    /// Blocks this thread until the task has finished.
    ///
    /// # Errors
    /// [`TaskError::Cancelled`] if the task was cancelled, panicked, or its loop was dropped
    /// before running it.
    pub fn join(self) -> Result<T, TaskError> {
        self.rx.recv().map_err(|_| TaskError::Cancelled)
    }

    /// The value, if the task has finished; `None` while it is still running.
    ///
    /// # Errors
    /// As for [`join`](Self::join), once the task can no longer produce a value.
    pub fn try_join(&self) -> Result<Option<T>, TaskError> {
        match self.rx.try_recv() {
            Ok(v) => Ok(Some(v)),
            Err(crossbeam_channel::TryRecvError::Empty) => Ok(None),
            Err(crossbeam_channel::TryRecvError::Disconnected) => Err(TaskError::Cancelled),
        }
    }
}
