//! [`offload`] and [`exit`].

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::command::{Command, CommandKind, Job};
use super::context;
use super::error::TaskError;
use super::wait::{Completion, Ticket};

/// Runs the blocking closure `f` on the loop's offload pool and resumes the task with its
/// value. Other tasks keep running meanwhile.
///
/// The closure cannot be aborted: if the waiting task is cancelled, the closure still runs to
/// the end and its value is discarded.
///
/// # Errors
/// [`TaskError::Panicked`] if the closure panicked; [`TaskError::NoOffloadThread`] if no
/// offload thread runs and none could be started (the closure is then dropped unrun).
///
/// # Examples
/// ```
/// # flowloop::run(async {
/// let n = flowloop::offload(|| (1..=10u64).product::<u64>()).await.unwrap();
/// assert_eq!(n, 3_628_800);
/// # }).unwrap();
/// ```
pub fn offload<F, R>(f: F) -> Offload<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let job: Job = Box::new(move || Box::new(f()) as Box<dyn Any + Send>);
    Offload {
        job: Some(job),
        wait: None,
        _marker: PhantomData,
    }
}

/// Leaf future of [`offload`]: issues `Command::Offload`.
#[must_use = "futures do nothing unless awaited"]
pub struct Offload<R> {
    job: Option<Job>,
    wait: Option<Ticket>,
    _marker: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Offload<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offload").field("issued", &self.wait.is_some()).finish()
    }
}

impl<R: 'static> Future for Offload<R> {
    type Output = Result<R, TaskError>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(job) = self.job.take() {
            self.wait = Some(context::issue(CommandKind::Offload, |wait| Command::Offload {
                job,
                wait,
            }));
            return Poll::Pending;
        }
        let Some(wait) = self.wait else {
            panic!("Offload polled after completion")
        };
        match context::take(wait) {
            Some(Completion::Offloaded(result)) => {
                self.wait = None;
                Poll::Ready(match result {
                    Ok(v) => v
                        .downcast::<R>()
                        .map(|b| *b)
                        .map_err(|_| TaskError::Panicked("offload result type".into())),
                    Err(e) => Err(e),
                })
            }
            _ => Poll::Pending,
        }
    }
}

impl<R> Drop for Offload<R> {
    fn drop(&mut self) {
        if let Some(wait) = self.wait.take() {
            context::release(wait);
        }
    }
}

/// Stops the running [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete) at
/// once and makes it return `value` (which must have the root future's output type, or the run
/// fails with [`RunError::ExitTypeMismatch`](super::RunError::ExitTypeMismatch)). Never
/// resolves: the calling task is dropped (counted as cancelled); other tasks stay in the loop.
///
/// # Examples
/// ```
/// let v = flowloop::run(async {
///     flowloop::spawn(async { flowloop::exit(5u32).await }).await;
///     flowloop::sleep(std::time::Duration::from_secs(60)).await;
///     1u32
/// });
/// assert_eq!(v.unwrap(), 5);
/// ```
pub fn exit<T: 'static>(value: T) -> Exit {
    Exit {
        value: Some(Box::new(value)),
    }
}

/// Leaf future of [`exit`]: issues `Command::Exit`.
#[must_use = "futures do nothing unless awaited"]
pub struct Exit {
    value: Option<Box<dyn Any>>,
}

impl std::fmt::Debug for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exit").finish_non_exhaustive()
    }
}

impl Future for Exit {
    type Output = std::convert::Infallible;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(value) = self.value.take() {
            context::issue_plain(Command::Exit { value });
        }
        Poll::Pending
    }
}
