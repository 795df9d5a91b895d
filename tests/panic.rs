//! Panics in the `Drop` of a task's future are contained: they never escape
//! `run_until_complete` or the loop's own drop, and they are reported on the task whose future
//! panicked (its join returns the panic as an error).

mod common;

use std::future::{Future, pending};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{Log, run_ok, with_watchdog};
use flowloop::{DropPolicy, EventLoop, TaskError, sleep, spawn, yield_now};

/// Panics with its message when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// A future that is ready at once with `value` but panics when it is dropped afterwards
/// (the second field is only there for its `Drop`).
struct ReadyThenPanic(u32, #[allow(dead_code)] PanicOnDrop);

impl Future for ReadyThenPanic {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(self.0)
    }
}

fn quiet_panics() {
    // The panics below are expected; keep the test output readable.
    std::panic::set_hook(Box::new(|_| {}));
}

#[test]
fn cancelled_task_whose_drop_panics_reports_the_panic_on_its_join() {
    quiet_panics();
    let (joined, sibling, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        let out = lp
            .run_until_complete(async {
                let sibling = spawn(async {
                    sleep(Duration::from_millis(2)).await;
                    7
                })
                .await;
                let h = spawn(async {
                    let _bomb = PanicOnDrop("bomb in cancelled task");
                    pending::<()>().await;
                })
                .await;
                yield_now().await;
                h.cancel().await;
                (h.join().await, sibling.join().await)
            })
            .expect("the drop panic must not escape the run");
        (out.0, out.1, lp.stats())
    });
    assert_eq!(joined, Err(TaskError::Panicked("bomb in cancelled task".into())));
    assert_eq!(sibling, Ok(7), "other tasks are unaffected");
    assert_eq!(stats.drop_panics, 1);
    assert_eq!(stats.tasks_failed, 1);
    assert_eq!(stats.tasks_cancelled, 0);
}

#[test]
fn finished_task_whose_drop_panics_reports_the_panic_on_its_join() {
    quiet_panics();
    let joined = run_ok(|| async {
        let h = spawn(ReadyThenPanic(5, PanicOnDrop("bomb in finished task"))).await;
        h.join().await
    });
    assert_eq!(joined, Err(TaskError::Panicked("bomb in finished task".into())));
}

#[test]
fn aborted_handle_drop_panic_is_contained() {
    quiet_panics();
    let log = run_ok(|| async {
        let log = Log::new();
        let h = spawn(async {
            let _bomb = PanicOnDrop("bomb in aborted task");
            pending::<()>().await;
        })
        .await
        .on_drop(DropPolicy::Abort);
        yield_now().await;
        drop(h);
        yield_now().await;
        log.push("root goes on");
        log.joined()
    });
    assert_eq!(log, "root goes on");
}

#[test]
fn detached_finished_task_drop_panic_is_contained() {
    quiet_panics();
    let (v, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        let v = lp
            .run_until_complete(async {
                spawn(ReadyThenPanic(1, PanicOnDrop("bomb in detached task")))
                    .await
                    .detach();
                sleep(Duration::from_millis(1)).await;
                3
            })
            .expect("the drop panic must not escape the run");
        (v, lp.stats())
    });
    assert_eq!(v, 3);
    assert_eq!(stats.tasks_failed, 1, "the detached task is counted as failed");
}

#[test]
fn loop_drop_contains_drop_panics_of_unfinished_tasks() {
    quiet_panics();
    let v = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        lp.wait_for_spawned(false);
        let v = lp
            .run_until_complete(async {
                for _ in 0..3 {
                    spawn(async {
                        let _bomb = PanicOnDrop("bomb left in the loop");
                        pending::<()>().await;
                    })
                    .await
                    .detach();
                }
                yield_now().await;
                11
            })
            .expect("run");
        drop(lp);
        v
    });
    assert_eq!(v, 11);
}
