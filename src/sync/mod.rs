//! Primitives built on the loop: queues, events, locks, conditions, latches, and async
//! iteration with [`azip`].

mod event;
mod iter;
mod latch;
mod lock;
mod queue;
pub(crate) mod waiter;

pub use event::{Event, EventWait};
pub use iter::{AsyncIterator, Azip, azip};
pub use latch::CountdownLatch;
pub use lock::{Condition, Lock, LockGuard};
pub use queue::{AsyncQueue, AsyncSetQueue, Closed, TryGetError, TryPutError, UntilEmpty};
