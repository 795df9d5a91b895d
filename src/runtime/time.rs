//! Timers: [`sleep`], [`sleep_until`], [`yield_now`] and [`timeout`].

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::command::{Command, CommandKind};
use super::context;
use super::error::Elapsed;
use super::wait::Ticket;

/// Suspends the task for `duration`. `sleep(Duration::ZERO)` is a yield: the task goes to the
/// back of the ready queue.
///
/// Resolution is 1 ms (the OS poll's); a timer never fires early, and due timers fire before
/// the loop asks the OS for events. A duration too long to be represented (e.g.
/// `Duration::MAX`) sleeps for ever: the sleep never fires, and a loop with nothing else left
/// to wake its tasks reports [`RunError::Stalled`](super::RunError::Stalled).
pub fn sleep(duration: Duration) -> Sleep {
    if duration.is_zero() {
        Sleep {
            state: SleepState::Yield { issued: false },
        }
    } else {
        Sleep {
            state: SleepState::Timer {
                deadline: Instant::now().checked_add(duration),
                wait: None,
            },
        }
    }
}

/// Suspends the task until `deadline` (a deadline in the past completes on the next timer
/// check; one more than about 584 years away never comes, as for [`sleep`]).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        state: SleepState::Timer {
            deadline: Some(deadline),
            wait: None,
        },
    }
}

/// Lets every other ready task run once before this one continues.
pub fn yield_now() -> Sleep {
    sleep(Duration::ZERO)
}

/// Leaf future of [`sleep`], [`sleep_until`] and [`yield_now`]: issues `Command::Sleep` or
/// `Command::Yield`.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    state: SleepState,
}

#[derive(Debug)]
enum SleepState {
    Yield {
        issued: bool,
    },
    /// `deadline: None` never comes.
    Timer {
        deadline: Option<Instant>,
        wait: Option<Ticket>,
    },
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.state {
            SleepState::Yield { issued: true } => Poll::Ready(()),
            SleepState::Yield { issued } => {
                *issued = true;
                context::issue_plain(Command::Yield);
                Poll::Pending
            }
            SleepState::Timer { deadline, wait: None } => {
                let deadline = *deadline;
                let t = context::issue(CommandKind::Sleep, |wait| Command::Sleep { deadline, wait });
                self.state = SleepState::Timer {
                    deadline,
                    wait: Some(t),
                };
                Poll::Pending
            }
            SleepState::Timer { wait: Some(t), .. } => match context::take(*t) {
                Some(_) => {
                    self.state = SleepState::Yield { issued: true };
                    Poll::Ready(())
                }
                None => Poll::Pending,
            },
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let SleepState::Timer { wait: Some(t), .. } = self.state {
            context::release(t);
        }
    }
}

/// Runs `future`, giving up after `duration`: `Err(Elapsed)` if the deadline passed first (the
/// future is then dropped, which releases whatever it waited on). A `duration` too long to be
/// represented (e.g. `Duration::MAX`) never elapses.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// # flowloop::run(async {
/// let slow = flowloop::sleep(Duration::from_secs(10));
/// assert!(flowloop::timeout(Duration::from_millis(5), slow).await.is_err());
/// assert_eq!(flowloop::timeout(Duration::from_secs(1), async { 3 }).await, Ok(3));
/// # }).unwrap();
/// ```
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut timer = sleep(duration);
    poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
