//! Task storage: the type-erased task cell and the slab slot around it.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::TaskError;
use super::wait::Ticket;

pin_project_lite::pin_project! {
    /// A task's future together with the place its output is kept until joined.
    pub(crate) struct TaskCell<F: Future> {
        #[pin]
        future: F,
        output: Option<F::Output>,
    }
}

impl<F: Future> TaskCell<F> {
    pub(crate) fn new(future: F) -> Self {
        TaskCell { future, output: None }
    }
}

/// Object-safe view of a [`TaskCell`]: poll it, and move its output into a typed slot.
pub(crate) trait ErasedTask {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
    /// `out` must be a `&mut Option<F::Output>`; anything else leaves it untouched.
    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any);
}

impl<F: Future + 'static> ErasedTask for TaskCell<F> {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        match this.future.poll(cx) {
            Poll::Ready(v) => {
                *this.output = Some(v);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any) {
        if let Some(slot) = out.downcast_mut::<Option<F::Output>>() {
            *slot = self.project().output.take();
        }
    }
}

pub(crate) type TaskBox = Pin<Box<dyn ErasedTask>>;

/// Lifecycle of a task slot.
///
/// `Idle → Queued → Running → (Idle | Queued | Finished)`; `Finished` is terminal and the slot
/// is freed once the handle has taken the outcome (or was dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskState {
    /// Waiting for a command to complete or a waker to fire.
    Idle,
    /// In the ready queue.
    Queued,
    /// Being polled right now.
    Running,
    /// Done; `Ok` means the output is in the cell.
    Finished(Result<(), TaskError>),
}

/// One entry of the task slab.
pub(crate) struct TaskSlot {
    pub(crate) generation: u32,
    pub(crate) state: TaskState,
    /// `None` while the task is being polled, or after it failed or was cancelled.
    pub(crate) future: Option<TaskBox>,
    /// Woken while running: re-queue after the poll returns.
    pub(crate) notified: bool,
    /// A cancel arrived while the task was running (it cancelled itself).
    pub(crate) cancel_requested: bool,
    /// Nobody holds the handle any more: free the slot as soon as the task finishes.
    pub(crate) detached: bool,
    /// The join waiting for this task, if any.
    pub(crate) joiner: Option<Ticket>,
    pub(crate) polls: u64,
    pub(crate) poll_time: Duration,
}

impl TaskSlot {
    pub(crate) fn new(generation: u32, future: TaskBox) -> Self {
        TaskSlot {
            generation,
            state: TaskState::Queued,
            future: Some(future),
            notified: false,
            cancel_requested: false,
            detached: false,
            joiner: None,
            polls: 0,
            poll_time: Duration::ZERO,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.state, TaskState::Finished(_))
    }
}
