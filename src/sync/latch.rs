//! [`CountdownLatch`]: wait until a count reaches zero.

use std::cell::Cell;
use std::fmt;

use super::event::Event;

/// Counts down from `n`; [`wait`](CountdownLatch::wait) suspends until the count reaches zero.
/// Clone the handle to share it.
///
/// # Examples
/// ```
/// use flowloop::sync::CountdownLatch;
/// # flowloop::run(async {
/// let latch = CountdownLatch::new(2);
/// for _ in 0..2 {
///     let l = latch.clone();
///     flowloop::spawn(async move { l.count_down() }).await;
/// }
/// latch.wait().await;
/// assert_eq!(latch.count(), 0);
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct CountdownLatch {
    count: std::rc::Rc<Cell<usize>>,
    zero: Event,
}

impl fmt::Debug for CountdownLatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountdownLatch").field("count", &self.count()).finish()
    }
}

impl CountdownLatch {
    /// A latch that opens after `count` calls to [`count_down`](Self::count_down) (at once for 0).
    pub fn new(count: usize) -> Self {
        let zero = Event::new();
        if count == 0 {
            zero.set();
        }
        CountdownLatch {
            count: std::rc::Rc::new(Cell::new(count)),
            zero,
        }
    }

    /// Decrements the count; at zero, wakes every waiter. Extra calls at zero do nothing.
    pub fn count_down(&self) {
        let c = self.count.get();
        if c == 0 {
            return;
        }
        self.count.set(c - 1);
        if c == 1 {
            self.zero.set();
        }
    }

    /// The remaining count.
    pub fn count(&self) -> usize {
        self.count.get()
    }

    /// Waits until the count is zero.
    pub async fn wait(&self) {
        self.zero.wait().await;
    }
}
