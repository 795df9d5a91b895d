//! Repros of bugs found in the runtime; each test names the bug it guards against.

mod common;

use std::time::{Duration, Instant};

use common::{Log, ms, with_watchdog};
use flowloop::{EventLoop, exit, sleep, spawn};

/// Drops a marker into the log when the owning future is dropped.
struct DropMark(Log, &'static str);

impl Drop for DropMark {
    fn drop(&mut self) {
        self.0.push(self.1);
    }
}

/// Bug: the task that called `exit` stayed in the loop forever (its `Exit` future never
/// completes), so the next `run_until_complete` on the same loop waited for it and failed with
/// `RunError::Stalled`. Now the exiting task is dropped when the loop stops.
#[test]
fn exit_task_does_not_stall_the_next_run() {
    let (first, second, took, log) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let log = Log::new();
        let l = log.clone();
        let first = lp.run_until_complete(async move {
            spawn(async move {
                let _mark = DropMark(l, "exiter dropped");
                exit(1u8).await;
            })
            .await
            .detach();
            sleep(ms(30)).await;
            0u8
        });
        let start = Instant::now();
        // Waits for the detached old root (30 ms), and must not wait for the exiter.
        let second = lp.run_until_complete(async { 2u8 });
        (
            first.map_err(|e| e.to_string()),
            second.map_err(|e| e.to_string()),
            start.elapsed(),
            log.joined(),
        )
    });
    assert_eq!(first, Ok(1));
    assert_eq!(second, Ok(2));
    assert_eq!(log, "exiter dropped");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// Bug (same cause): a root that called `exit` itself was left in the slab; the next run
/// stalled waiting for it.
#[test]
fn root_calling_exit_does_not_stall_the_next_run() {
    let (first, second) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let first = lp.run_until_complete(async {
            if std::hint::black_box(true) {
                exit(7u16).await;
            }
            0u16
        });
        let second = lp.run_until_complete(async {
            sleep(ms(1)).await;
            8u16
        });
        (first.map_err(|e| e.to_string()), second.map_err(|e| e.to_string()))
    });
    assert_eq!(first, Ok(7));
    assert_eq!(second, Ok(8));
}

/// Bug: a cancelled timer stayed in the timer heap (lazy removal) and counted as something
/// that could still wake a task, so a loop whose remaining tasks could never wake blocked until
/// the dead timer's deadline (10 s here) before reporting `RunError::Stalled`. Now cancelled
/// timers at the top of the heap are discarded before the loop decides to block.
#[test]
fn cancelled_timer_does_not_delay_stall_detection() {
    let (err, took) = with_watchdog(|| {
        let start = Instant::now();
        let r = flowloop::run(async {
            let sleeper = spawn(sleep(Duration::from_secs(10))).await;
            sleeper.cancel().await;
            flowloop::sync::Event::new().wait().await;
        });
        (r.map_err(|e| e.to_string()), start.elapsed())
    });
    assert!(err.is_err_and(|e| e.starts_with("stalled")));
    assert!(took < Duration::from_secs(2), "stall reported after {took:?}");
}

/// Same bug, other symptom: with a live 20 ms timer behind a cancelled 10 s one, the loop must
/// still finish after about 20 ms.
#[test]
fn cancelled_long_timer_does_not_hide_a_live_short_one() {
    let took = with_watchdog(|| {
        let start = Instant::now();
        flowloop::run(async {
            let sleeper = spawn(sleep(Duration::from_secs(10))).await;
            sleeper.cancel().await;
            sleep(ms(20)).await;
        })
        .unwrap();
        start.elapsed()
    });
    assert!(took >= ms(20) && took < Duration::from_secs(2), "took {took:?}");
}
