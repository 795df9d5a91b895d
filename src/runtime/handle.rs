//! Spawning, joining and cancelling tasks.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::command::{Command, CommandKind};
use super::context;
use super::core::Core;
use super::error::{TaskError, TaskId};
use super::instrument::TaskStats;
use super::task::{TaskBox, TaskState};
use super::wait::Ticket;

/// Spawns `future` as a new task of the running loop and returns its [`TaskHandle`] once the
/// child has been queued. The child is polled before the spawning task resumes.
///
/// # Panics
/// When awaited outside a running [`EventLoop`](super::EventLoop).
///
/// # Examples
/// ```
/// # flowloop::run(async {
/// let h = flowloop::spawn(async { 40 + 2 }).await;
/// assert_eq!(h.join().await, Ok(42));
/// # }).unwrap();
/// ```
pub fn spawn<F>(future: F) -> Spawn<F>
where
    F: Future + 'static,
{
    Spawn {
        future: Some(future),
        child: None,
    }
}

/// Leaf future of [`spawn`]: places the child in the task slab and issues `Command::Spawn`.
#[must_use = "futures do nothing unless awaited"]
pub struct Spawn<F: Future> {
    future: Option<F>,
    child: Option<TaskId>,
}

// The child future is only moved (into its box) before it is ever polled.
impl<F: Future> Unpin for Spawn<F> {}

impl<F: Future> std::fmt::Debug for Spawn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawn").field("child", &self.child).finish()
    }
}

impl<F: Future + 'static> Future for Spawn<F> {
    type Output = TaskHandle<F::Output>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.future.is_some() {
            let future = &mut self.future;
            let child = context::with(|s| {
                let (parent, child) = {
                    let mut core = s.core.borrow_mut();
                    let parent = core.current().expect("no task is being polled").key;
                    let task = core.new_cell(future).expect("the future is present: checked above");
                    (parent, core.add_task(task))
                };
                s.commands.borrow_mut().push((parent, Command::Spawn { child }));
                child
            });
            self.child = Some(child);
            return Poll::Pending;
        }
        match self.child.take() {
            Some(id) => Poll::Ready(TaskHandle::new(id)),
            None => panic!("Spawn polled after completion"),
        }
    }
}

impl<F: Future> Drop for Spawn<F> {
    fn drop(&mut self) {
        // Spawned, but nobody will ever see the handle: the child runs detached.
        if let Some(id) = self.child.take() {
            let _ = context::try_with_core(|c| detach(c, id));
        }
    }
}

/// What happens to a task when its [`TaskHandle`] is dropped without being joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DropPolicy {
    /// The task keeps running; its value is discarded when it finishes (the default).
    #[default]
    Detach,
    /// The task is cancelled at once, as by [`TaskHandle::cancel`].
    Abort,
}

/// Owns a spawned task: join it, cancel it, or let it go.
///
/// Dropping the handle applies its [`DropPolicy`] (detach by default).
pub struct TaskHandle<T> {
    id: TaskId,
    policy: DropPolicy,
    joined: bool,
    _marker: PhantomData<fn() -> T>,
    _not_send: PhantomData<Rc<()>>,
}

impl<T> std::fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .finish()
    }
}

impl<T: 'static> TaskHandle<T> {
    fn new(id: TaskId) -> Self {
        TaskHandle {
            id,
            policy: DropPolicy::Detach,
            joined: false,
            _marker: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Chooses what dropping this handle does (see [`DropPolicy`]).
    pub fn on_drop(mut self, policy: DropPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Lets the task run on with nobody waiting for its value.
    pub fn detach(mut self) {
        self.policy = DropPolicy::Detach;
    }

    /// Whether the task has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        context::with_core(|c| c.slot(self.id).is_none_or(|s| s.is_finished()))
    }

    /// Polls and poll time so far (poll time needs [`Builder::time_polls`](super::Builder::time_polls)).
    pub fn stats(&self) -> TaskStats {
        context::with_core(|c| {
            c.slot(self.id)
                .map(|s| TaskStats {
                    polls: u64::from(s.polls),
                    poll_time: std::time::Duration::from_nanos(s.poll_ns),
                })
                .unwrap_or_default()
        })
    }

    /// Waits for the task and returns its value.
    ///
    /// # Errors
    /// [`TaskError::Panicked`] if it panicked (the loop survives), [`TaskError::Cancelled`] if
    /// it was cancelled.
    pub fn join(self) -> Join<T> {
        Join {
            handle: self,
            wait: None,
        }
    }

    /// Cancels the task: its future is dropped, releasing every timer, queue wait and socket
    /// interest it held, and a later [`join`](Self::join) returns [`TaskError::Cancelled`].
    /// Completes at once; cancelling a finished task does nothing.
    pub fn cancel(&self) -> Cancel {
        Cancel {
            target: self.id,
            wait: None,
        }
    }
}

impl<T> Drop for TaskHandle<T> {
    fn drop(&mut self) {
        if self.joined {
            return;
        }
        let id = self.id;
        let policy = self.policy;
        // An aborted task's future is dropped by the loop after this poll (not here), so
        // handles that abort each other from `Drop` never recurse.
        let _ = context::try_with_core(|c| {
            if policy == DropPolicy::Abort {
                c.cancel_task(id);
            }
            detach(c, id);
        });
    }
}

fn detach(core: &mut Core, id: TaskId) {
    if let Some(slot) = core.slot_mut(id) {
        if slot.is_finished() {
            core.free_slot(id);
        } else {
            slot.detached = true;
        }
    }
}

/// Leaf future of [`TaskHandle::join`]: issues `Command::Join` unless the task already
/// finished.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Join<T> {
    handle: TaskHandle<T>,
    wait: Option<Ticket>,
}

impl<T: 'static> Future for Join<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.handle.id;
        if let Some(wait) = self.wait {
            if context::take(wait).is_none() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        let taken = context::with_core(|c| take_outcome::<T>(c, id));
        match taken {
            Some((result, cell)) => {
                // The finished cell is dropped here, outside the borrow of the loop.
                drop(cell);
                self.handle.joined = true;
                Poll::Ready(result)
            }
            None => {
                self.wait = Some(context::issue(CommandKind::Join, |wait| Command::Join {
                    target: id,
                    wait,
                }));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Join<T> {
    fn drop(&mut self) {
        if let Some(wait) = self.wait.take() {
            context::release(wait);
            let id = self.handle.id;
            let _ = context::try_with_core(|c| {
                if let Some(s) = c.slot_mut(id) {
                    s.joiner = None;
                }
            });
        }
    }
}

/// Takes a finished task's outcome and frees its slot, handing back its cell for the caller to
/// drop; `None` while the task is still running.
fn take_outcome<T: 'static>(core: &mut Core, id: TaskId) -> Option<(Result<T, TaskError>, Option<TaskBox>)> {
    let Some(slot) = core.slot_mut(id) else {
        return Some((Err(TaskError::Cancelled), None));
    };
    let outcome = slot.outcome()?;
    let mut out: Option<T> = None;
    if let Some(fut) = slot.future.as_mut() {
        fut.as_mut().take_output(&mut out);
    }
    let cell = core.recycle_slot(id);
    Some((outcome.and_then(|()| out.ok_or(TaskError::Cancelled)), cell))
}

/// Leaf future of [`TaskHandle::cancel`]: issues `Command::Cancel`.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Cancel {
    target: TaskId,
    wait: Option<Ticket>,
}

impl Future for Cancel {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        match self.wait {
            None => {
                let target = self.target;
                self.wait = Some(context::issue(CommandKind::Cancel, |wait| Command::Cancel {
                    target,
                    wait,
                }));
                Poll::Pending
            }
            Some(wait) => match context::take(wait) {
                Some(_) => {
                    self.wait = None;
                    Poll::Ready(())
                }
                None => Poll::Pending,
            },
        }
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        if let Some(wait) = self.wait.take() {
            context::release(wait);
        }
    }
}

/// The id of the task being polled.
///
/// # Panics
/// Outside a task of a running loop.
pub fn current_task() -> TaskId {
    context::current_task()
}

/// Where a task id stands, as seen by [`task_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Waiting for a command to complete.
    Waiting,
    /// In the ready queue.
    Queued,
    /// Being polled (only the calling task itself).
    Running,
    /// Finished, and its handle has not taken the outcome yet.
    Finished,
    /// No such task: never existed, or finished and already joined or detached. A stale id
    /// never reports the newer task that reuses its slot.
    Unknown,
}

/// Looks up a task by id in the running loop.
pub fn task_status(id: TaskId) -> TaskStatus {
    context::with_core(|c| match c.slot(id).map(|s| &s.state) {
        None => TaskStatus::Unknown,
        Some(TaskState::Idle) => TaskStatus::Waiting,
        Some(TaskState::Queued) => TaskStatus::Queued,
        Some(TaskState::Running) => TaskStatus::Running,
        Some(_) => TaskStatus::Finished,
    })
}
