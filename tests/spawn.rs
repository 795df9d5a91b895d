//! Spawning: ordering guarantees, many tasks, task ids, `exit`, `wait_for_spawned`, nesting.

mod common;

use std::time::{Duration, Instant};

use common::{Log, assert_between, ms, run, run_ok, run_timed, with_watchdog};
use flowloop::runtime::{TaskStatus, task_status};
use flowloop::sync::Event;
use flowloop::{EventLoop, RunError, current_task, exit, sleep, spawn, yield_now};

/// E1: a task that sleeps 10 ms and returns 2×21 joins to 42.
#[test]
fn e1_spawn_sleep_join_returns_value() {
    let (v, took) = run_timed(|| async {
        let h = spawn(async {
            sleep(ms(10)).await;
            2 * 21
        })
        .await;
        h.join().await
    });
    assert_eq!(v, Ok(42));
    assert_between("E1 run", took, ms(10), Duration::from_secs(5));
}

#[test]
fn child_runs_before_parent_resumes() {
    let log = run_ok(|| async {
        let log = Log::new();
        log.push("parent:before");
        let l = log.clone();
        let h = spawn(async move { l.push("child") }).await;
        log.push("parent:after");
        h.join().await.unwrap();
        log.joined()
    });
    assert_eq!(log, "parent:before child parent:after");
}

/// Each spawned child runs its first step before the parent's next line, for every spawn in a
/// row; the children's second steps then follow in spawn order.
#[test]
fn successive_spawns_each_run_first() {
    let log = run_ok(|| async {
        let log = Log::new();
        let mut handles = Vec::new();
        for i in 0..3 {
            let l = log.clone();
            handles.push(
                spawn(async move {
                    l.push(format!("c{i}a"));
                    yield_now().await;
                    l.push(format!("c{i}b"));
                })
                .await,
            );
            log.push(format!("p{i}"));
        }
        for h in handles {
            h.join().await.unwrap();
        }
        log.joined()
    });
    // c0 yields behind the parent; the parent then spawns c1, which runs before c0 resumes
    // because it was queued when the parent's spawn command was carried out.
    assert_eq!(log, "c0a p0 c0b c1a p1 c1b c2a p2 c2b");
}

/// Ready tasks run in the order they became ready, and a yield sends a task to the back.
#[test]
fn ready_tasks_run_in_fifo_order() {
    let log = run_ok(|| async {
        let log = Log::new();
        let go = Event::new();
        let mut handles = Vec::new();
        for i in 0..5 {
            let (l, go) = (log.clone(), go.clone());
            handles.push(
                spawn(async move {
                    go.wait().await;
                    l.push(format!("{i}"));
                    yield_now().await;
                    l.push(format!("{i}'"));
                })
                .await,
            );
        }
        go.set();
        for h in handles {
            h.join().await.unwrap();
        }
        log.joined()
    });
    assert_eq!(log, "0 1 2 3 4 0' 1' 2' 3' 4'");
}

#[test]
fn hundred_thousand_tasks_spawned_then_joined() {
    const N: u64 = 100_000;
    let (sum, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let sum = lp
            .run_until_complete(async {
                let mut handles = Vec::with_capacity(N as usize);
                for i in 0..N {
                    handles.push(spawn(async move { i * 2 }).await);
                }
                let mut sum = 0;
                for h in handles {
                    sum += h.join().await.unwrap();
                }
                sum
            })
            .unwrap();
        (sum, lp.stats())
    });
    assert_eq!(sum, N * (N - 1));
    assert_eq!(stats.tasks_spawned, N + 1);
    assert_eq!(stats.tasks_completed, N + 1);
}

#[test]
fn hundred_thousand_tasks_alive_at_once() {
    const N: usize = 100_000;
    let count = run_ok(|| async {
        let go = Event::new();
        let mut handles = Vec::with_capacity(N);
        for _ in 0..N {
            let go = go.clone();
            handles.push(spawn(async move { go.wait().await }).await);
        }
        let waiting = handles
            .iter()
            .filter(|h| task_status(h.id()) == TaskStatus::Waiting)
            .count();
        go.set();
        let mut done = 0;
        for h in handles {
            h.join().await.unwrap();
            done += 1;
        }
        (waiting, done)
    });
    assert_eq!(count, (N, N));
}

/// A joined task's id is stale: once its slot is reused, the old id names nothing, not the new
/// task.
#[test]
fn stale_task_id_does_not_name_the_slot_reuser() {
    let (old, new, old_status, new_status) = run_ok(|| async {
        let a = spawn(async { 1 }).await;
        let old = a.id();
        assert_eq!(task_status(old), TaskStatus::Finished);
        a.join().await.unwrap();
        let b = spawn(async { sleep(ms(1)).await }).await;
        let new = b.id();
        let statuses = (task_status(old), task_status(new));
        b.join().await.unwrap();
        (old, new, statuses.0, statuses.1)
    });
    assert_eq!(
        old.slot(),
        new.slot(),
        "the freed slot should be reused by the next task"
    );
    assert_ne!(old.generation(), new.generation());
    assert_ne!(old, new);
    assert_eq!(old_status, TaskStatus::Unknown);
    assert_eq!(new_status, TaskStatus::Waiting);
}

#[test]
fn task_status_follows_the_lifecycle() {
    let statuses = run_ok(|| async {
        let go = Event::new();
        let g = go.clone();
        let h = spawn(async move { g.wait().await }).await;
        let me = current_task();
        let mut seen = vec![task_status(me), task_status(h.id())];
        go.set();
        seen.push(task_status(h.id()));
        yield_now().await;
        seen.push(task_status(h.id()));
        let id = h.id();
        h.join().await.unwrap();
        seen.push(task_status(id));
        seen
    });
    use TaskStatus::*;
    assert_eq!(statuses, [Running, Waiting, Queued, Finished, Unknown]);
}

#[test]
fn current_task_is_the_polled_task() {
    let (outer, inner_seen, inner_handle) = run_ok(|| async {
        let outer = current_task();
        let h = spawn(async { current_task() }).await;
        let id = h.id();
        let seen = h.join().await.unwrap();
        (outer, seen, id)
    });
    assert_eq!(inner_seen, inner_handle);
    assert_ne!(outer, inner_seen);
}

/// By default the run waits for detached children after the root returned.
#[test]
fn run_waits_for_spawned_tasks_by_default() {
    let (log, took) = with_watchdog(|| {
        let start = Instant::now();
        let log = Log::new();
        let l = log.clone();
        let v = flowloop::run(async move {
            spawn(async move {
                sleep(ms(20)).await;
                l.push("child done");
            })
            .await
            .detach();
            7
        })
        .unwrap();
        assert_eq!(v, 7);
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "child done");
    assert_between("run with a 20 ms child", took, ms(20), Duration::from_secs(5));
}

/// E13: with `wait_for_spawned(false)` the run returns the root's value without waiting for an
/// unfinished child; the child continues on the next run.
#[test]
fn e13_run_without_waiting_for_spawned() {
    let (first, took, log_after_first, log_after_second) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.wait_for_spawned(false);
        let log = Log::new();
        let l = log.clone();
        let start = Instant::now();
        let first = lp
            .run_until_complete(async move {
                spawn(async move {
                    sleep(ms(200)).await;
                    l.push("child done");
                })
                .await
                .detach();
                "main"
            })
            .unwrap();
        let took = start.elapsed();
        let after_first = log.joined();
        lp.wait_for_spawned(true);
        lp.run_until_complete(async {}).unwrap();
        (first, took, after_first, log.joined())
    });
    assert_eq!(first, "main");
    assert!(took < ms(200), "returned after {took:?}, so it waited for the child");
    assert_eq!(log_after_first, "");
    assert_eq!(log_after_second, "child done");
}

#[test]
fn e13_unfinished_long_child_is_dropped_with_the_loop() {
    let took = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.wait_for_spawned(false);
        let start = Instant::now();
        let v = lp
            .run_until_complete(async {
                spawn(sleep(Duration::from_secs(10))).await.detach();
                5
            })
            .unwrap();
        assert_eq!(v, 5);
        drop(lp);
        start.elapsed()
    });
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn exit_returns_its_value_at_once() {
    let (v, took) = with_watchdog(|| {
        let start = Instant::now();
        let v = flowloop::run(async {
            spawn(async { exit(5u32).await }).await.detach();
            sleep(Duration::from_secs(10)).await;
            1u32
        });
        (v.unwrap(), start.elapsed())
    });
    assert_eq!(v, 5);
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
}

#[test]
fn exit_from_the_root_itself() {
    let v = run(|| async {
        exit(String::from("early")).await;
    });
    // The root's output type is `()`, so a `String` is a mismatch; see the next test for a
    // matching one.
    assert!(matches!(v, Err(RunError::ExitTypeMismatch { .. })), "{v:?}");
    let v = run(|| async {
        if std::hint::black_box(true) {
            exit(String::from("early")).await;
        }
        String::from("late")
    });
    assert_eq!(v.unwrap(), "early");
}

#[test]
fn exit_with_the_wrong_type_is_an_error_naming_the_expected_type() {
    let err = run(|| async {
        spawn(async { exit("a &str").await }).await.detach();
        sleep(Duration::from_secs(10)).await;
        1u32
    })
    .unwrap_err();
    match &err {
        RunError::ExitTypeMismatch { expected, .. } => assert_eq!(*expected, "u32"),
        other => panic!("expected ExitTypeMismatch, got {other:?}"),
    }
    assert!(
        err.to_string().contains("u32"),
        "message does not name the root type: {err}"
    );
}

/// After `exit`, the loop can run again; the old root was detached and finishes in the next
/// run (which waits for it by default).
#[test]
fn loop_is_reusable_after_exit() {
    let (a, b, log) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let log = Log::new();
        let l = log.clone();
        let a = lp.run_until_complete(async move {
            spawn(async { exit(1i32).await }).await.detach();
            sleep(ms(20)).await;
            l.push("old root resumed");
            0i32
        });
        let after_first = log.joined();
        let b = lp.run_until_complete(async { 2i32 });
        (a.unwrap(), b.unwrap(), format!("{after_first}|{}", log.joined()))
    });
    assert_eq!((a, b), (1, 2));
    assert_eq!(log, "|old root resumed");
}

#[test]
fn nested_run_is_refused() {
    let (nested_lp, nested_run) = run_ok(|| async {
        let mut inner = EventLoop::new().unwrap();
        let a = matches!(inner.run_until_complete(async { 1 }), Err(RunError::Nested));
        let b = matches!(flowloop::run(async { 2 }), Err(RunError::Nested));
        (a, b)
    });
    assert!(
        nested_lp,
        "EventLoop::run_until_complete inside a task must fail with Nested"
    );
    assert!(nested_run, "flowloop::run inside a task must fail with Nested");
}

#[test]
fn stalled_when_every_task_waits_forever() {
    let err = run(|| async {
        let never = Event::new();
        let n = never.clone();
        let child = spawn(async move { n.wait().await }).await;
        never.wait().await;
        child.join().await.unwrap();
    })
    .unwrap_err();
    match err {
        RunError::Stalled { waiting } => assert_eq!(waiting, 2),
        other => panic!("expected Stalled, got {other:?}"),
    }
}

#[test]
fn stalled_detected_when_detached_child_waits_after_root_returned() {
    let err = run(|| async {
        spawn(async { Event::new().wait().await }).await.detach();
    })
    .unwrap_err();
    assert!(matches!(err, RunError::Stalled { waiting: 1 }), "{err:?}");
}
