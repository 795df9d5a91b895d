//! [`AsyncQueue`] (FIFO, bounded or not) and [`AsyncSetQueue`] (ignores duplicates).

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::iter::AsyncIterator;
use super::waiter::{WaitList, Waiter};
use crate::runtime::context;

/// Puts into an unbounded queue in a row before one of them yields to the other ready tasks.
const PUT_BUDGET: u32 = 128;

/// A put or get on a closed queue. For a put it carries the item back, so nothing is lost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Closed<T = ()>(pub T);

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is closed")
    }
}

impl<T> std::error::Error for Closed<T> {}

/// Why [`AsyncQueue::try_put`] did not store the item (which it hands back).
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryPutError<T> {
    /// The queue is at capacity.
    #[error("queue is full")]
    Full(T),
    /// The queue is closed.
    #[error("queue is closed")]
    Closed(T),
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

/// Why [`AsyncQueue::try_get`] returned no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TryGetError {
    /// Nothing is queued right now.
    #[error("queue is empty")]
    Empty,
    /// The queue is closed and drained.
    #[error("queue is closed")]
    Closed,
}

mod private {
    pub trait Sealed {}
}

/// How a queue stores its items: [`Fifo`] keeps every item, [`Dedup`] drops an item equal to
/// one already queued. Sealed.
pub trait Store<T>: private::Sealed + Default {
    /// Appends `item` (a `Dedup` store checks [`contains`](Store::contains) first).
    fn push(&mut self, item: T);
    /// Removes the oldest item.
    fn pop(&mut self) -> Option<T>;
    /// The oldest item.
    fn front(&self) -> Option<&T>;
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether an equal item is queued (always `false` for `Fifo`).
    fn contains(&self, item: &T) -> bool;
}

/// Plain FIFO storage (the default for [`AsyncQueue`]).
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> private::Sealed for Fifo<T> {}

impl<T> Store<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn front(&self) -> Option<&T> {
        self.0.front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn contains(&self, _item: &T) -> bool {
        false
    }
}

/// FIFO storage that ignores an item equal to one already queued (for [`AsyncSetQueue`]).
#[derive(Debug)]
pub struct Dedup<T> {
    items: VecDeque<T>,
    present: HashSet<T>,
}

impl<T> Default for Dedup<T> {
    fn default() -> Self {
        Dedup {
            items: VecDeque::new(),
            present: HashSet::new(),
        }
    }
}

impl<T> private::Sealed for Dedup<T> {}

impl<T: Eq + Hash + Clone> Store<T> for Dedup<T> {
    fn push(&mut self, item: T) {
        if self.present.insert(item.clone()) {
            self.items.push_back(item);
        }
    }
    fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.present.remove(&item);
        Some(item)
    }
    fn front(&self) -> Option<&T> {
        self.items.front()
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn contains(&self, item: &T) -> bool {
        self.present.contains(item)
    }
}

struct State<S> {
    store: S,
    capacity: Option<usize>,
    closed: bool,
    /// Puts into an unbounded queue since the last cooperative yield.
    puts_since_yield: u32,
    getters: WaitList,
    putters: WaitList,
}

impl<S> State<S> {
    fn full<T>(&self) -> bool
    where
        S: Store<T>,
    {
        self.capacity.is_some_and(|c| self.store.len() >= c)
    }
}

/// An async FIFO queue shared by the tasks of one loop (clone the handle to share it).
///
/// `put` waits while a bounded queue is full, `get` while it is empty. `close` wakes every
/// waiter: later puts fail and hand the item back, gets drain what is left and then fail.
///
/// # Examples
/// ```
/// use flowloop::sync::{AsyncIterator, AsyncQueue};
/// # flowloop::run(async {
/// let q = AsyncQueue::bounded(2);
/// let producer = {
///     let q = q.clone();
///     flowloop::spawn(async move {
///         for i in 0..5 { q.put(i).await.unwrap(); }
///         q.close();
///     }).await
/// };
/// let mut got = Vec::new();
/// let mut rx = q.clone();
/// while let Some(x) = rx.next().await { got.push(x); }
/// producer.join().await.unwrap();
/// assert_eq!(got, [0, 1, 2, 3, 4]);
/// # }).unwrap();
/// ```
pub struct AsyncQueue<T, S: Store<T> = Fifo<T>> {
    state: Rc<RefCell<State<S>>>,
    _marker: PhantomData<T>,
}

/// An [`AsyncQueue`] that ignores a put of an item equal to one already queued.
pub type AsyncSetQueue<T> = AsyncQueue<T, Dedup<T>>;

impl<T, S: Store<T>> Clone for AsyncQueue<T, S> {
    fn clone(&self) -> Self {
        AsyncQueue {
            state: self.state.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T, S: Store<T>> fmt::Debug for AsyncQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        f.debug_struct("AsyncQueue")
            .field("len", &st.store.len())
            .field("capacity", &st.capacity)
            .field("closed", &st.closed)
            .finish()
    }
}

impl<T> AsyncQueue<T> {
    /// An unbounded queue.
    pub fn new() -> Self {
        Self::with_capacity(None)
    }

    /// A queue holding at most `capacity` items (at least 1).
    pub fn bounded(capacity: usize) -> Self {
        Self::with_capacity(Some(capacity.max(1)))
    }
}

impl<T> Default for AsyncQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Eq + Hash + Clone> AsyncQueue<T, Dedup<T>> {
    /// An unbounded queue that ignores duplicates of queued items.
    pub fn new_dedup() -> Self {
        Self::with_capacity(None)
    }

    /// A bounded queue that ignores duplicates of queued items.
    pub fn bounded_dedup(capacity: usize) -> Self {
        Self::with_capacity(Some(capacity.max(1)))
    }
}

impl<T, S: Store<T>> AsyncQueue<T, S> {
    fn with_capacity(capacity: Option<usize>) -> Self {
        let state = State {
            store: S::default(),
            capacity,
            closed: false,
            puts_since_yield: 0,
            getters: WaitList::default(),
            putters: WaitList::default(),
        };
        AsyncQueue {
            state: Rc::new(RefCell::new(state)),
            _marker: PhantomData,
        }
    }

    /// Appends `item`, waiting while the queue is full.
    ///
    /// An unbounded queue never makes a put wait for room, but every 128th put yields once to
    /// the other ready tasks before it stores its item, so a producer cannot run arbitrarily far
    /// ahead of its consumers (the queue's memory and cache footprint stay small).
    ///
    /// # Errors
    /// [`Closed`] carrying the item back if the queue is (or becomes, while waiting) closed.
    pub fn put(&self, item: T) -> Put<'_, T, S> {
        Put {
            queue: self,
            item: Some(item),
            waiter: Waiter::default(),
            yielded: false,
        }
    }

    /// Removes and returns the oldest item, waiting while the queue is empty.
    ///
    /// # Errors
    /// [`Closed`] once the queue is closed and drained.
    pub fn get(&self) -> Get<'_, T, S> {
        Get {
            queue: self,
            waiter: Waiter::default(),
        }
    }

    /// Returns a clone of the oldest item without removing it, waiting while the queue is empty.
    ///
    /// # Errors
    /// [`Closed`] once the queue is closed and drained.
    pub fn peek(&self) -> Peek<'_, T, S>
    where
        T: Clone,
    {
        Peek {
            queue: self,
            waiter: Waiter::default(),
        }
    }

    /// Appends `item` if there is room, without waiting.
    ///
    /// # Errors
    /// [`TryPutError::Full`] or [`TryPutError::Closed`], with the item.
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut st = self.state.borrow_mut();
        if st.closed {
            return Err(TryPutError::Closed(item));
        }
        if st.store.contains(&item) {
            return Ok(());
        }
        if st.full() {
            return Err(TryPutError::Full(item));
        }
        st.store.push(item);
        st.getters.wake_one();
        Ok(())
    }

    /// Removes the oldest item if there is one, without waiting.
    ///
    /// # Errors
    /// [`TryGetError::Empty`] or, once closed and drained, [`TryGetError::Closed`].
    pub fn try_get(&self) -> Result<T, TryGetError> {
        let mut st = self.state.borrow_mut();
        match st.store.pop() {
            Some(item) => {
                st.putters.wake_one();
                Ok(item)
            }
            None if st.closed => Err(TryGetError::Closed),
            None => Err(TryGetError::Empty),
        }
    }

    /// Closes the queue and wakes every waiting put and get. Idempotent.
    pub fn close(&self) {
        let mut st = self.state.borrow_mut();
        st.closed = true;
        st.getters.wake_all();
        st.putters.wake_all();
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.state.borrow().store.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// The bound, or `None` for an unbounded queue.
    pub fn capacity(&self) -> Option<usize> {
        self.state.borrow().capacity
    }

    /// Iterates over the items queued now and stops at the first moment the queue is empty,
    /// closing it.
    pub fn until_empty(&self) -> UntilEmpty<T, S> {
        UntilEmpty { queue: self.clone() }
    }
}

impl<T: 'static, S: Store<T> + 'static> AsyncIterator for AsyncQueue<T, S> {
    type Item = T;

    /// The next item; `None` once the queue is closed and drained.
    async fn next(&mut self) -> Option<T> {
        self.get().await.ok()
    }
}

/// Leaf future of [`AsyncQueue::put`]; parks with `Command::Park` while full.
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, S: Store<T>> {
    queue: &'a AsyncQueue<T, S>,
    item: Option<T>,
    waiter: Waiter,
    /// Already yielded for the unbounded queue's put budget.
    yielded: bool,
}

impl<T, S: Store<T>> Unpin for Put<'_, T, S> {}

impl<T, S: Store<T>> fmt::Debug for Put<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").field("parked", &self.waiter.is_parked()).finish()
    }
}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), Closed<T>>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.waiter.poll_woken().is_pending() {
            return Poll::Pending;
        }
        let mut st = this.queue.state.borrow_mut();
        let item = this.item.take().expect("Put polled after completion");
        if st.closed {
            return Poll::Ready(Err(Closed(item)));
        }
        if st.store.contains(&item) {
            return Poll::Ready(Ok(()));
        }
        if st.full() {
            this.item = Some(item);
            this.waiter.park(&mut st.putters);
            return Poll::Pending;
        }
        if st.capacity.is_none() && !this.yielded {
            st.puts_since_yield += 1;
            if st.puts_since_yield >= PUT_BUDGET {
                st.puts_since_yield = 0;
                this.yielded = true;
                this.item = Some(item);
                context::yield_task();
                return Poll::Pending;
            }
        }
        st.store.push(item);
        st.getters.wake_one();
        Poll::Ready(Ok(()))
    }
}

impl<T, S: Store<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if !self.waiter.is_parked() {
            return;
        }
        let Ok(mut st) = self.queue.state.try_borrow_mut() else {
            return;
        };
        if self.waiter.abandon(&mut st.putters) && !st.full() {
            st.putters.wake_one();
        }
    }
}

/// Leaf future of [`AsyncQueue::get`]; parks while empty.
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T, S: Store<T>> {
    queue: &'a AsyncQueue<T, S>,
    waiter: Waiter,
}

impl<T, S: Store<T>> fmt::Debug for Get<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("parked", &self.waiter.is_parked()).finish()
    }
}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, Closed>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.waiter.poll_woken().is_pending() {
            return Poll::Pending;
        }
        let mut st = this.queue.state.borrow_mut();
        match st.store.pop() {
            Some(item) => {
                st.putters.wake_one();
                Poll::Ready(Ok(item))
            }
            None if st.closed => Poll::Ready(Err(Closed(()))),
            None => {
                this.waiter.park(&mut st.getters);
                Poll::Pending
            }
        }
    }
}

/// Passes an unused wake on to the next getter, so an item is never left unclaimed.
fn abandon_getter<S>(waiter: &mut Waiter, state: &RefCell<State<S>>, has_items: impl Fn(&S) -> bool) {
    if !waiter.is_parked() {
        return;
    }
    let Ok(mut st) = state.try_borrow_mut() else { return };
    if waiter.abandon(&mut st.getters) && (has_items(&st.store) || st.closed) {
        st.getters.wake_one();
    }
}

impl<T, S: Store<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        abandon_getter(&mut self.waiter, &self.queue.state, |s| s.len() > 0);
    }
}

/// Leaf future of [`AsyncQueue::peek`]; parks while empty.
#[must_use = "futures do nothing unless awaited"]
pub struct Peek<'a, T, S: Store<T>> {
    queue: &'a AsyncQueue<T, S>,
    waiter: Waiter,
}

impl<T, S: Store<T>> fmt::Debug for Peek<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peek")
            .field("parked", &self.waiter.is_parked())
            .finish()
    }
}

impl<T: Clone, S: Store<T>> Future for Peek<'_, T, S> {
    type Output = Result<T, Closed>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let was_woken = this.waiter.is_parked();
        if this.waiter.poll_woken().is_pending() {
            return Poll::Pending;
        }
        let mut st = this.queue.state.borrow_mut();
        match st.store.front().cloned() {
            Some(item) => {
                // A peek does not consume: let the next getter have the item.
                if was_woken {
                    st.getters.wake_one();
                }
                Poll::Ready(Ok(item))
            }
            None if st.closed => Poll::Ready(Err(Closed(()))),
            None => {
                this.waiter.park(&mut st.getters);
                Poll::Pending
            }
        }
    }
}

impl<T, S: Store<T>> Drop for Peek<'_, T, S> {
    fn drop(&mut self) {
        abandon_getter(&mut self.waiter, &self.queue.state, |s| s.len() > 0);
    }
}

/// Iterator of [`AsyncQueue::until_empty`].
pub struct UntilEmpty<T, S: Store<T>> {
    queue: AsyncQueue<T, S>,
}

impl<T, S: Store<T>> fmt::Debug for UntilEmpty<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UntilEmpty").field("queue", &self.queue).finish()
    }
}

impl<T, S: Store<T>> AsyncIterator for UntilEmpty<T, S> {
    type Item = T;

    async fn next(&mut self) -> Option<T> {
        match self.queue.try_get() {
            Ok(item) => Some(item),
            Err(_) => {
                self.queue.close();
                None
            }
        }
    }
}
