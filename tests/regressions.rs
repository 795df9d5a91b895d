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
