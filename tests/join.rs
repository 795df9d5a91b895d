//! Joining: values, errors, panics, drop policies, finished tasks.

mod common;

use std::time::Duration;

use common::{Log, fail, ms, run, run_ok, with_watchdog};
use flowloop::sync::Event;
use flowloop::{DropPolicy, EventLoop, RunError, TaskError, sleep, spawn, yield_now};

/// E2 (as a returned error): the task's error reaches the joiner unchanged.
#[test]
fn e2_task_returning_an_error_joins_to_that_error() {
    let v = run_ok(|| async {
        let h = spawn(async { Err::<u32, String>("x".to_string()) }).await;
        h.join().await
    });
    assert_eq!(v, Ok(Err("x".to_string())));
}

/// E2 (as a panic): join gives `Panicked` carrying the message, and the loop survives.
#[test]
fn e2_panicking_task_joins_to_panicked_with_message() {
    let (err, after) = run_ok(|| async {
        let h = spawn(async {
            sleep(ms(1)).await;
            fail("x");
        })
        .await;
        let err = h.join().await;
        let after = spawn(async { 5 }).await.join().await;
        (err, after)
    });
    assert_eq!(err, Err(TaskError::Panicked("x".into())));
    assert_eq!(after, Ok(5), "the loop should keep running tasks after a panic");
}

#[test]
fn panic_with_formatted_message_is_kept() {
    let err = run_ok(|| async {
        let n = std::hint::black_box(7);
        spawn(async move {
            if n == 7 {
                panic!("bad value {n}");
            }
        })
        .await
        .join()
        .await
    });
    assert_eq!(err, Err(TaskError::Panicked("bad value 7".into())));
    assert_eq!(
        TaskError::Panicked("bad value 7".into()).to_string(),
        "task panicked: bad value 7",
        "the error message should carry the panic message"
    );
}

#[test]
fn panic_with_a_non_string_payload_is_reported() {
    let err = run_ok(|| async {
        spawn(async {
            if std::hint::black_box(true) {
                std::panic::panic_any(17u8)
            }
        })
        .await
        .join()
        .await
    });
    match err {
        Err(TaskError::Panicked(msg)) => assert!(!msg.is_empty()),
        other => panic!("expected Panicked, got {other:?}"),
    }
}

/// A panic while other tasks wait does not disturb them.
#[test]
fn panic_does_not_disturb_siblings() {
    let log = run_ok(|| async {
        let log = Log::new();
        let go = Event::new();
        let mut hs = Vec::new();
        for i in 0..3 {
            let (l, go) = (log.clone(), go.clone());
            hs.push(
                spawn(async move {
                    go.wait().await;
                    if i == 1 {
                        panic!("task {i} fails");
                    }
                    l.push(format!("ok{i}"));
                    i
                })
                .await,
            );
        }
        go.set();
        for h in hs {
            match h.join().await {
                Ok(i) => log.push(format!("joined{i}")),
                Err(e) => log.push(e.to_string()),
            }
        }
        log.joined()
    });
    assert_eq!(log, "ok0 ok2 joined0 task panicked: task 1 fails joined2");
}

#[test]
fn root_panic_is_a_root_error() {
    let err = run(|| async {
        sleep(ms(1)).await;
        fail("root down");
    })
    .unwrap_err();
    match &err {
        RunError::Root(TaskError::Panicked(msg)) => assert_eq!(msg, "root down"),
        other => panic!("expected Root(Panicked), got {other:?}"),
    }
    assert!(err.to_string().contains("root down"), "{err}");
}

#[test]
fn loop_runs_again_after_a_root_panic() {
    let (first_failed, second) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let first = lp.run_until_complete(async {
            fail("first run fails");
        });
        let second = lp.run_until_complete(async { spawn(async { 3 }).await.join().await });
        (
            matches!(first, Err(RunError::Root(TaskError::Panicked(_)))),
            second.unwrap(),
        )
    });
    assert!(first_failed);
    assert_eq!(second, Ok(3));
}

#[test]
fn join_of_an_already_finished_task_is_immediate() {
    let (finished_before, v) = run_ok(|| async {
        let h = spawn(async { "done" }).await;
        let finished = h.is_finished();
        (finished, h.join().await)
    });
    assert!(
        finished_before,
        "a child without awaits finishes before the parent resumes"
    );
    assert_eq!(v, Ok("done"));
}

#[test]
fn is_finished_tracks_the_task() {
    let seen = run_ok(|| async {
        let h = spawn(sleep(ms(5))).await;
        let before = h.is_finished();
        sleep(ms(20)).await;
        let after = h.is_finished();
        h.join().await.unwrap();
        (before, after)
    });
    assert_eq!(seen, (false, true));
}

#[test]
fn join_waits_for_a_chain_of_tasks() {
    let v = run_ok(|| async {
        let h = spawn(async {
            let inner = spawn(async {
                sleep(ms(2)).await;
                let deepest = spawn(async { 1 }).await;
                deepest.join().await.unwrap() + 1
            })
            .await;
            inner.join().await.unwrap() + 1
        })
        .await;
        h.join().await
    });
    assert_eq!(v, Ok(3));
}

#[test]
fn dropping_a_handle_detaches_by_default() {
    let log = with_watchdog(|| {
        let log = Log::new();
        let l = log.clone();
        flowloop::run(async move {
            let h = spawn(async move {
                sleep(ms(5)).await;
                l.push("detached child finished");
            })
            .await;
            drop(h);
        })
        .unwrap();
        log.joined()
    });
    assert_eq!(log, "detached child finished");
}

#[test]
fn dropping_an_abort_handle_cancels_the_task() {
    let (log, took) = with_watchdog(|| {
        let start = std::time::Instant::now();
        let log = Log::new();
        let l = log.clone();
        flowloop::run(async move {
            let h = spawn(async move {
                sleep(Duration::from_secs(10)).await;
                l.push("must not run");
            })
            .await
            .on_drop(DropPolicy::Abort);
            drop(h);
            yield_now().await;
        })
        .unwrap();
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "");
    assert!(
        took < Duration::from_secs(2),
        "an aborted 10 s sleeper held the loop for {took:?}"
    );
}

#[test]
fn detach_overrides_abort() {
    let log = with_watchdog(|| {
        let log = Log::new();
        let l = log.clone();
        flowloop::run(async move {
            spawn(async move {
                sleep(ms(2)).await;
                l.push("ran");
            })
            .await
            .on_drop(DropPolicy::Abort)
            .detach();
        })
        .unwrap();
        log.joined()
    });
    assert_eq!(log, "ran");
}

#[test]
fn task_stats_count_polls() {
    let polls = run_ok(|| async {
        let h = spawn(async {
            for _ in 0..3 {
                yield_now().await;
            }
        })
        .await;
        while !h.is_finished() {
            yield_now().await;
        }
        h.stats().polls
    });
    assert_eq!(polls, 4, "three yields mean four polls");
}

#[test]
fn dropping_a_pending_join_leaves_the_task_joinable_state_clean() {
    // A join abandoned through `timeout` must not leave a dangling joiner: the task still
    // finishes and the loop ends.
    let (timed_out, log) = with_watchdog(|| {
        let log = Log::new();
        let l = log.clone();
        let r = flowloop::run(async move {
            let h = spawn(async move {
                sleep(ms(30)).await;
                l.push("finished");
            })
            .await;
            flowloop::timeout(ms(5), h.join()).await.is_err()
        })
        .unwrap();
        (r, log.joined())
    });
    assert!(timed_out);
    assert_eq!(log, "finished");
}

/// A task that panics while holding a lock releases it (its future is dropped).
#[test]
fn panicking_lock_holder_releases_the_lock() {
    let v = with_watchdog(|| {
        flowloop::run(async {
            let lock = flowloop::sync::Lock::new();
            let k = lock.clone();
            let holder = spawn(async move {
                let _g = k.lock().await;
                sleep(ms(1)).await;
                fail("holder fails");
            })
            .await;
            let k = lock.clone();
            let waiter = spawn(async move {
                let _g = k.lock().await;
                "waiter got the lock"
            })
            .await;
            let failed = holder.join().await.is_err();
            (failed, waiter.join().await, lock.is_locked())
        })
        .unwrap()
    });
    assert_eq!(v, (true, Ok("waiter got the lock"), false));
}

/// The runtime's and primitives' public errors cross threads and box into
/// `Box<dyn Error + Send + Sync>` / `anyhow` with `?`.
#[test]
fn public_errors_are_send_sync_static() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<flowloop::RunError>();
    assert_error::<TaskError>();
    assert_error::<flowloop::Elapsed>();
    assert_error::<flowloop::sync::Closed<String>>();
    assert_error::<flowloop::sync::TryPutError<String>>();
    assert_error::<flowloop::sync::TryGetError>();
    fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err(flowloop::RunError::Root(TaskError::Cancelled))?
    }
    assert!(boxed().unwrap_err().to_string().contains("cancelled"));
}
