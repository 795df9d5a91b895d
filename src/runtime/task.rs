//! Task storage: the type-erased task cell and the slab slot around it.

use std::any::{Any, TypeId};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::TaskError;
use super::wait::Ticket;

pin_project_lite::pin_project! {
    /// A task's future together with the place its output is kept until joined.
    ///
    /// The future is dropped in place as soon as it returns its value, inside the same
    /// guarded poll: a panic in its `Drop` then becomes the task's panic.
    pub(crate) struct TaskCell<F: Future> {
        #[pin]
        future: Option<F>,
        output: Option<F::Output>,
    }
}

impl<F: Future> TaskCell<F> {
    pub(crate) fn new(future: F) -> Self {
        TaskCell {
            future: Some(future),
            output: None,
        }
    }
}

/// Object-safe view of a [`TaskCell`]: poll it, and move its output into a typed slot.
pub(crate) trait ErasedTask {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
    /// `out` must be a `&mut Option<F::Output>`; anything else leaves it untouched.
    fn take_output(self: Pin<&mut Self>, out: &mut dyn Any);
    /// Puts a new future into a finished, empty cell. `future` must be a `&mut Option<F>`
    /// (it is taken); anything else leaves both untouched.
    fn refill(self: Pin<&mut Self>, future: &mut dyn Any);
    /// Whether the cell holds neither a future nor an output (dropping it runs no user code).
    fn is_empty(&self) -> bool;
    /// `TypeId` and size of the concrete cell.
    fn cell_type(&self) -> (TypeId, usize);
}

impl<F: Future + 'static> ErasedTask for TaskCell<F> {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        match future.poll(cx) {
            Poll::Ready(v) => {
                *this.output = Some(v);
                this.future.set(None);
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

    fn refill(self: Pin<&mut Self>, future: &mut dyn Any) {
        if let Some(f) = future.downcast_mut::<Option<F>>() {
            self.project().future.set(f.take());
        }
    }

    fn is_empty(&self) -> bool {
        self.future.is_none() && self.output.is_none()
    }

    fn cell_type(&self) -> (TypeId, usize) {
        (TypeId::of::<Self>(), std::mem::size_of::<Self>())
    }
}

/// Cells up to this size are kept for reuse.
const MAX_POOLED_CELL: usize = 128;

/// How many distinct task types the pool keeps cells for (later types are not pooled).
const MAX_POOLED_TYPES: usize = 8;

/// Finished, empty task cells of small futures, kept by type so that later tasks of the same
/// type reuse them instead of allocating (a spawn/join cycle then costs no allocator call).
/// Holds at most as many cells as the task slab has room for, so its memory is bounded by the
/// peak number of tasks, like the slab's. Few types are expected (one per hot spawn site), so
/// they are found by a linear scan.
#[derive(Default)]
pub(crate) struct CellPool {
    by_type: Vec<(TypeId, Vec<TaskBox>)>,
    held: usize,
}

impl CellPool {
    fn list(&mut self, ty: TypeId) -> Option<&mut Vec<TaskBox>> {
        self.by_type.iter_mut().find(|(t, _)| *t == ty).map(|(_, v)| v)
    }

    /// A pooled cell of `TaskCell<F>`, refilled with the future taken from `future`.
    pub(crate) fn take<F: Future + 'static>(&mut self, future: &mut Option<F>) -> Option<TaskBox> {
        if self.held == 0 {
            return None;
        }
        let mut cell = self.list(TypeId::of::<TaskCell<F>>())?.pop()?;
        self.held -= 1;
        cell.as_mut().refill(future);
        Some(cell)
    }

    /// Keeps an empty cell for reuse if there is room (at most `limit` cells); otherwise hands
    /// it back (a cell that is not empty is always handed back, for dropping outside the loop's
    /// borrow).
    pub(crate) fn give(&mut self, cell: TaskBox, limit: usize) -> Option<TaskBox> {
        let (ty, size) = cell.cell_type();
        if self.held >= limit || size > MAX_POOLED_CELL || !cell.is_empty() {
            return Some(cell);
        }
        match self.by_type.iter().position(|(t, _)| *t == ty) {
            Some(i) => self.by_type[i].1.push(cell),
            None if self.by_type.len() < MAX_POOLED_TYPES => self.by_type.push((ty, vec![cell])),
            None => return Some(cell),
        }
        self.held += 1;
        None
    }
}

pub(crate) type TaskBox = Pin<Box<dyn ErasedTask>>;

/// Lifecycle of a task slot.
///
/// `Idle → Queued → Running → (Idle | Queued | finished)`. The three finished states are
/// terminal; the slot is freed once the handle has taken the outcome (or was dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    /// Waiting for a command to complete or a waker to fire.
    Idle,
    /// In the ready queue.
    Queued,
    /// Being polled right now.
    Running,
    /// Returned its value, which sits in the cell until joined.
    Completed,
    /// Panicked; the message is in [`TaskSlot::panic`].
    Panicked,
    /// Cancelled; its future was dropped.
    Cancelled,
}

/// One entry of the task slab, kept within one cache line.
pub(crate) struct TaskSlot {
    /// `None` while the task is being polled, or after it failed or was cancelled.
    pub(crate) future: Option<TaskBox>,
    /// The panic message of a task that panicked (a thin pointer keeps the slot small).
    #[allow(clippy::box_collection)]
    pub(crate) panic: Option<Box<String>>,
    /// Time spent in polls, in nanoseconds (only with poll timing on).
    pub(crate) poll_ns: u64,
    pub(crate) polls: u32,
    pub(crate) generation: u32,
    /// The join waiting for this task, if any.
    pub(crate) joiner: Option<Ticket>,
    pub(crate) state: TaskState,
    /// Woken while running: re-queue after the poll returns.
    pub(crate) notified: bool,
    /// A cancel arrived while the task was running (it cancelled itself).
    pub(crate) cancel_requested: bool,
    /// Nobody holds the handle any more: free the slot as soon as the task finishes.
    pub(crate) detached: bool,
}

impl TaskSlot {
    pub(crate) fn new(generation: u32, future: TaskBox) -> Self {
        TaskSlot {
            future: Some(future),
            panic: None,
            poll_ns: 0,
            polls: 0,
            generation,
            joiner: None,
            state: TaskState::Queued,
            notified: false,
            cancel_requested: false,
            detached: false,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(
            self.state,
            TaskState::Completed | TaskState::Panicked | TaskState::Cancelled
        )
    }

    /// The outcome of a finished task; `None` while it runs.
    pub(crate) fn outcome(&self) -> Option<Result<(), TaskError>> {
        match self.state {
            TaskState::Completed => Some(Ok(())),
            TaskState::Cancelled => Some(Err(TaskError::Cancelled)),
            TaskState::Panicked => Some(Err(TaskError::Panicked(
                self.panic.as_deref().cloned().unwrap_or_default(),
            ))),
            TaskState::Idle | TaskState::Queued | TaskState::Running => None,
        }
    }

    /// Records the outcome.
    pub(crate) fn set_outcome(&mut self, outcome: Result<(), TaskError>) {
        self.state = match outcome {
            Ok(()) => TaskState::Completed,
            Err(TaskError::Cancelled) => TaskState::Cancelled,
            Err(TaskError::Panicked(msg)) => {
                self.panic = Some(Box::new(msg));
                TaskState::Panicked
            }
            // Not a task outcome; kept as a failure with its message should it ever arrive.
            Err(e @ TaskError::NoOffloadThread(_)) => {
                self.panic = Some(Box::new(e.to_string()));
                TaskState::Panicked
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished_cell<F: Future<Output = u8> + 'static>(f: F) -> TaskBox {
        let mut cell: TaskBox = Box::pin(TaskCell::new(f));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(cell.as_mut().poll_task(&mut cx), Poll::Ready(()));
        let mut out = None::<u8>;
        cell.as_mut().take_output(&mut out);
        assert!(out.is_some() && cell.is_empty());
        cell
    }

    #[test]
    fn pool_reuses_cells_by_type_and_within_its_limit() {
        let make = |v: u8| async move { v };
        let mut pool = CellPool::default();
        assert!(pool.give(finished_cell(make(1)), 1).is_none());
        assert!(pool.give(finished_cell(make(2)), 1).is_some(), "over the limit");
        let mut other = Some(async { 9u16 });
        assert!(pool.take(&mut other).is_none(), "another type gets no cell");
        let mut next = Some(make(7));
        let mut cell = pool.take(&mut next).expect("a pooled cell");
        assert!(next.is_none(), "the future moved into the cell");
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(cell.as_mut().poll_task(&mut cx), Poll::Ready(()));
        let mut out = None::<u8>;
        cell.as_mut().take_output(&mut out);
        assert_eq!(out, Some(7));
    }

    #[test]
    fn slot_stays_small() {
        assert!(
            std::mem::size_of::<super::TaskSlot>() <= 56,
            "{}",
            std::mem::size_of::<super::TaskSlot>()
        );
    }
}
