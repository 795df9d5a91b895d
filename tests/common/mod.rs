//! Helpers shared by the behaviour tests: a shared log, a watchdog around every loop run, and
//! timing assertions.
//!
//! Every test runs its loop on a fresh thread guarded by a watchdog, so a hang fails the test
//! (naming the limit) instead of blocking the whole suite. Roots that are not `Send` use
//! [`run_here`] (an in-loop watchdog); the socket helpers in `net.rs` build on this file.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::panic::resume_unwind;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use flowloop::RunError;

/// How long one test's loop may run before the watchdog fails the test.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// A log that tasks of one loop append to; clones share the same list.
#[derive(Clone, Default, Debug)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one entry.
    pub fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    /// A copy of the entries so far.
    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    /// The entries joined by single spaces (the form FLOW_SEMANTICS.md writes logs in).
    pub fn joined(&self) -> String {
        self.0.borrow().join(" ")
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// Whether nothing was logged.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

/// Runs `body` on a fresh thread and returns its value; fails the test if it takes longer than
/// [`WATCHDOG`]. A panic inside `body` is re-raised here.
pub fn with_watchdog<T, B>(body: B) -> T
where
    T: Send + 'static,
    B: FnOnce() -> T + Send + 'static,
{
    with_watchdog_limit(WATCHDOG, body)
}

/// [`with_watchdog`] with an explicit limit.
pub fn with_watchdog_limit<T, B>(limit: Duration, body: B) -> T
where
    T: Send + 'static,
    B: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let worker = thread::Builder::new()
        .name("test-loop".into())
        .spawn(move || {
            let _ = tx.send(body());
        })
        .expect("cannot start the test thread");
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = worker.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => resume_unwind(payload),
            Ok(()) => panic!("test thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("watchdog: the loop did not finish within {limit:?}"),
    }
}

/// Builds the root future on a watched thread and runs it with `flowloop::run`.
pub fn run<T, F, M>(make: M) -> Result<T, RunError>
where
    T: Send + 'static,
    F: Future<Output = T> + 'static,
    M: FnOnce() -> F + Send + 'static,
{
    with_watchdog(move || flowloop::run(make()))
}

/// Runs `root` on a fresh loop on this thread (for roots that are not `Send`, such as socket
/// tests): the watchdog is a timer inside the loop, so a hang fails the test after `limit`.
/// Unwraps the result, naming the error if there is one.
pub fn run_here<F: Future + 'static>(limit: Duration, root: F) -> F::Output {
    let bounded = async move {
        flowloop::timeout(limit, root)
            .await
            .unwrap_or_else(|_| panic!("watchdog: the test body did not finish within {limit:?}"))
    };
    flowloop::run(bounded).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Like [`run`], but unwraps the result, naming the error if there is one.
pub fn run_ok<T, F, M>(make: M) -> T
where
    T: Send + 'static,
    F: Future<Output = T> + 'static,
    M: FnOnce() -> F + Send + 'static,
{
    match run(make) {
        Ok(v) => v,
        Err(e) => panic!("run failed: {e}"),
    }
}

/// Like [`run_ok`], and also returns how long the run took.
pub fn run_timed<T, F, M>(make: M) -> (T, Duration)
where
    T: Send + 'static,
    F: Future<Output = T> + 'static,
    M: FnOnce() -> F + Send + 'static,
{
    with_watchdog(move || {
        let start = Instant::now();
        let v = flowloop::run(make()).unwrap_or_else(|e| panic!("run failed: {e}"));
        (v, start.elapsed())
    })
}

/// Asserts `lo <= elapsed < hi`, naming `what` in the message.
#[track_caller]
pub fn assert_between(what: &str, elapsed: Duration, lo: Duration, hi: Duration) {
    assert!(
        elapsed >= lo,
        "{what}: took {elapsed:?}, earlier than the lower bound {lo:?}"
    );
    assert!(
        elapsed < hi,
        "{what}: took {elapsed:?}, not under the upper bound {hi:?}"
    );
}

/// Milliseconds as a `Duration`.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Busy-waits (without yielding to the loop) for `d`: a deliberately slow poll.
pub fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Panics with `msg` (a function returning `()`, so task bodies that fail keep a `()` type).
#[track_caller]
pub fn fail(msg: &str) {
    if std::hint::black_box(true) {
        panic!("{msg}");
    }
}

/// Builds and runs a one-node flow whose node (`waits_forever`) waits on an event nobody sets,
/// and returns the run's error (a stall naming it). Call it under [`with_watchdog`].
pub fn run_stalled_flow() -> flowloop::flow::FlowError {
    let mut b = flowloop::flow::FlowBuilder::new();
    let n = b.node(
        |x: i64| async move {
            flowloop::sync::Event::new().wait().await; // nobody will ever set it
            x
        },
        (1,),
    );
    b.set_name(n, "waits_forever");
    let mut flow = b.build().expect("a one-node flow builds");
    flow.run_until_complete(flowloop::flow::RunOptions::new())
        .expect_err("a node waiting forever stalls the run")
}
