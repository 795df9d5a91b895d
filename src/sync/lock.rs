//! [`Lock`] (FIFO hand-off mutual exclusion) and [`Condition`].

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiter::{WaitList, Waiter};

#[derive(Default)]
struct LockState {
    locked: bool,
    waiters: WaitList,
}

/// An async mutual-exclusion lock with FIFO hand-off: on release, ownership passes straight to
/// the oldest waiter, so no newcomer can overtake it. Clone the handle to share it.
///
/// # Examples
/// ```
/// use flowloop::sync::Lock;
/// # flowloop::run(async {
/// let lock = Lock::new();
/// let guard = lock.lock().await;
/// assert!(lock.is_locked());
/// drop(guard);
/// assert!(!lock.is_locked());
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Lock {
    state: Rc<RefCell<LockState>>,
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").field("locked", &self.is_locked()).finish()
    }
}

impl Lock {
    /// An unlocked lock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether someone holds the lock (or it is being handed to a waiter).
    pub fn is_locked(&self) -> bool {
        self.state.borrow().locked
    }

    /// Waits for the lock; it is released when the guard drops.
    pub fn lock(&self) -> Acquire {
        Acquire {
            lock: self.clone(),
            waiter: Waiter::default(),
        }
    }

    /// Takes the lock if it is free and nobody is waiting.
    pub fn try_lock(&self) -> Option<LockGuard> {
        let mut st = self.state.borrow_mut();
        if st.locked {
            return None;
        }
        st.locked = true;
        Some(LockGuard { lock: self.clone() })
    }

    /// Hands the lock to the oldest waiter, or frees it.
    fn release(&self) {
        let Ok(mut st) = self.state.try_borrow_mut() else {
            return;
        };
        if !st.waiters.wake_one() {
            st.locked = false;
        }
    }
}

/// Holds a [`Lock`]; dropping it releases the lock to the next waiter.
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard {
    lock: Lock,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}

impl LockGuard {
    /// The lock this guard holds.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.lock.release();
    }
}

/// Leaf future of [`Lock::lock`]. A wake means the lock was handed over to this waiter.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire {
    lock: Lock,
    waiter: Waiter,
}

impl Future for Acquire {
    type Output = LockGuard;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<LockGuard> {
        let this = &mut *self;
        let handed_over = this.waiter.is_parked();
        if this.waiter.poll_woken().is_pending() {
            return Poll::Pending;
        }
        let mut st = this.lock.state.borrow_mut();
        if handed_over || !st.locked {
            st.locked = true;
            return Poll::Ready(LockGuard {
                lock: this.lock.clone(),
            });
        }
        this.waiter.park(&mut st.waiters);
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let handed_over = match self.lock.state.try_borrow_mut() {
            Ok(mut st) => self.waiter.abandon(&mut st.waiters),
            Err(_) => false,
        };
        // The lock was handed to us but never taken: pass it on.
        if handed_over {
            self.lock.release();
        }
    }
}

/// A condition variable tied to a [`Lock`]: [`wait`](Condition::wait) releases the lock,
/// suspends until notified, and takes the lock again before returning.
///
/// # Examples
/// ```
/// use flowloop::sync::{Condition, Lock};
/// use std::{cell::Cell, rc::Rc};
/// # flowloop::run(async {
/// let cond = Condition::new(Lock::new());
/// let ready = Rc::new(Cell::new(false));
/// let waiter = {
///     let (cond, ready) = (cond.clone(), ready.clone());
///     flowloop::spawn(async move {
///         let mut guard = cond.lock().lock().await;
///         while !ready.get() { guard = cond.wait(guard).await; }
///         "done"
///     }).await
/// };
/// let guard = cond.lock().lock().await;
/// ready.set(true);
/// cond.notify_all();
/// drop(guard);
/// assert_eq!(waiter.join().await, Ok("done"));
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Condition {
    lock: Lock,
    waiters: Rc<RefCell<WaitList>>,
}

impl Condition {
    /// A condition variable using `lock`.
    pub fn new(lock: Lock) -> Self {
        Condition {
            lock,
            waiters: Rc::default(),
        }
    }

    /// The lock waits release and re-take.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Releases `guard`'s lock, waits for a notification, re-takes the lock.
    ///
    /// # Panics
    /// If `guard` holds a different lock than this condition's.
    pub async fn wait(&self, guard: LockGuard) -> LockGuard {
        assert!(
            Rc::ptr_eq(&guard.lock.state, &self.lock.state),
            "Condition::wait with a guard of another lock"
        );
        CondWait {
            cond: self,
            guard: Some(guard),
            waiter: Waiter::default(),
        }
        .await;
        self.lock.lock().await
    }

    /// Wakes up to `n` waiters (oldest first).
    pub fn notify(&self, n: usize) {
        let mut list = self.waiters.borrow_mut();
        for _ in 0..n {
            if !list.wake_one() {
                break;
            }
        }
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.waiters.borrow_mut().wake_all();
    }
}

/// Parks on the condition, then releases the guard, in one poll (so no notify is missed).
struct CondWait<'a> {
    cond: &'a Condition,
    guard: Option<LockGuard>,
    waiter: Waiter,
}

impl Future for CondWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if let Some(guard) = this.guard.take() {
            this.waiter.park(&mut this.cond.waiters.borrow_mut());
            drop(guard);
            return Poll::Pending;
        }
        this.waiter.poll_woken()
    }
}

impl Drop for CondWait<'_> {
    fn drop(&mut self) {
        if let Ok(mut list) = self.cond.waiters.try_borrow_mut() {
            if self.waiter.abandon(&mut list) {
                list.wake_one();
            }
        }
    }
}
