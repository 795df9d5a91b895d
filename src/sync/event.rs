//! [`Event`]: a flag tasks can wait for.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiter::{WaitList, Waiter};

#[derive(Default)]
struct State {
    set: bool,
    waiters: WaitList,
}

/// A one-way flag: [`wait`](Event::wait) suspends until [`set`](Event::set) is called; every
/// waiter wakes, in the order it started waiting. Clone the handle to share it.
///
/// # Examples
/// ```
/// use flowloop::sync::Event;
/// # flowloop::run(async {
/// let ev = Event::new();
/// let waiter = { let ev = ev.clone(); flowloop::spawn(async move { ev.wait().await; 1 }).await };
/// ev.set();
/// assert_eq!(waiter.join().await, Ok(1));
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Event {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("set", &self.is_set()).finish()
    }
}

impl Event {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut st = self.state.borrow_mut();
        st.set = true;
        st.waiters.wake_all();
    }

    /// Clears the flag; later waits suspend again.
    pub fn clear(&self) {
        self.state.borrow_mut().set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }

    /// Waits until the flag is set (at once if it already is).
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            waiter: Waiter::default(),
        }
    }
}

/// Leaf future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    waiter: Waiter,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let woken = this.waiter.is_parked();
        if this.waiter.poll_woken().is_pending() {
            return Poll::Pending;
        }
        let mut st = this.event.state.borrow_mut();
        // A wake means the flag was set at that moment, even if it was cleared since.
        if st.set || woken {
            return Poll::Ready(());
        }
        this.waiter.park(&mut st.waiters);
        Poll::Pending
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Ok(mut st) = self.event.state.try_borrow_mut() {
            self.waiter.abandon(&mut st.waiters);
        }
    }
}
