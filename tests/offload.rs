//! `offload`: blocking closures on the pool, their errors, and the loop running meanwhile.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{assert_between, ms, run_ok, with_watchdog};
use flowloop::runtime::CommandKind;
use flowloop::{EventLoop, TaskError, offload, sleep, spawn};

#[test]
fn offload_returns_the_closure_value_from_another_thread() {
    let (v, same_thread) = run_ok(|| async {
        let loop_thread = std::thread::current().id();
        let (v, worker) = offload(|| ((1..=10u64).product::<u64>(), std::thread::current().id()))
            .await
            .unwrap();
        (v, worker == loop_thread)
    });
    assert_eq!(v, 3_628_800);
    assert!(!same_thread, "offloaded work must not run on the loop thread");
}

#[test]
fn offload_panic_is_a_panicked_error_and_the_loop_survives() {
    let (err, next) = run_ok(|| async {
        let err = offload(|| -> u32 {
            if std::hint::black_box(true) {
                panic!("boom in the pool");
            }
            1
        })
        .await;
        let next = offload(|| 2u32).await;
        (err, next)
    });
    assert_eq!(err, Err(TaskError::Panicked("boom in the pool".into())));
    assert_eq!(next, Ok(2), "the pool must keep working after a panicking job");
}

#[test]
fn offload_panic_with_formatted_message() {
    let err = run_ok(|| async {
        let n = std::hint::black_box(3);
        offload(move || {
            if n == 3 {
                panic!("job {n} failed");
            }
        })
        .await
    });
    assert_eq!(err, Err(TaskError::Panicked("job 3 failed".into())));
}

/// While a closure blocks on the pool, other tasks keep running: here the closure waits for a
/// message that only a loop task sends.
#[test]
fn loop_keeps_running_while_a_closure_blocks() {
    let released = run_ok(|| async {
        let (tx, rx) = mpsc::channel::<()>();
        let waiter = spawn(offload(move || rx.recv_timeout(Duration::from_secs(20)).is_ok())).await;
        let sender = spawn(async move {
            sleep(ms(5)).await;
            tx.send(()).unwrap();
        })
        .await;
        sender.join().await.unwrap();
        waiter.join().await.unwrap()
    });
    assert_eq!(released, Ok(true));
}

/// More jobs than threads: all finish, never more than the configured number run at once.
#[test]
fn pool_respects_its_thread_limit() {
    const JOBS: usize = 8;
    let (results, peak, took, offloads) = with_watchdog(|| {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut lp = EventLoop::builder().offload_threads(2).build().unwrap();
        let start = Instant::now();
        let (r, p) = (running.clone(), peak.clone());
        let results = lp
            .run_until_complete(async move {
                let mut hs = Vec::new();
                for i in 0..JOBS {
                    let (running, peak) = (r.clone(), p.clone());
                    hs.push(
                        spawn(offload(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(ms(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            i
                        }))
                        .await,
                    );
                }
                let mut out = Vec::new();
                for h in hs {
                    out.push(h.join().await.unwrap().unwrap());
                }
                out
            })
            .unwrap();
        (
            results,
            peak.load(Ordering::SeqCst),
            start.elapsed(),
            lp.stats().commands_of(CommandKind::Offload),
        )
    });
    assert_eq!(results, (0..JOBS).collect::<Vec<_>>());
    assert!(peak <= 2, "{peak} jobs ran at once on a 2-thread pool");
    assert_eq!(offloads, JOBS as u64);
    // Four rounds of two 20 ms jobs.
    assert_between("8 jobs of 20 ms on 2 threads", took, ms(80), Duration::from_secs(5));
}

/// A loop whose only task waits for an offloaded job is not stalled.
#[test]
fn waiting_only_for_offload_is_not_a_stall() {
    let v = run_ok(|| async {
        offload(|| {
            std::thread::sleep(ms(30));
            "slow"
        })
        .await
    });
    assert_eq!(v, Ok("slow"));
}

#[test]
fn offload_moves_owned_data_both_ways() {
    let v = run_ok(|| async {
        let data: Vec<String> = (0..5).map(|i| format!("w{i}")).collect();
        offload(move || data.into_iter().rev().collect::<Vec<_>>().join(",")).await
    });
    assert_eq!(v.as_deref(), Ok("w4,w3,w2,w1,w0"));
}

/// When no offload thread can be started (here: a stack no OS can map), `offload` returns an
/// error instead of waiting for ever, the closure does not run, and the loop goes on.
#[test]
fn offload_without_a_startable_thread_is_an_error() {
    let (err, ran, after) = with_watchdog(|| {
        let mut lp = EventLoop::builder().offload_stack_size(1 << 50).build().expect("loop");
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let (err, after) = lp
            .run_until_complete(async move {
                let err = offload(move || r.fetch_add(1, Ordering::SeqCst)).await;
                sleep(ms(1)).await;
                (err, "loop still runs")
            })
            .expect("run");
        (err, ran.load(Ordering::SeqCst), after)
    });
    match err {
        Err(TaskError::NoOffloadThread(reason)) => assert!(!reason.is_empty()),
        other => panic!("expected NoOffloadThread, got {other:?}"),
    }
    assert_eq!(ran, 0, "the closure must not run");
    assert_eq!(after, "loop still runs");
    let msg = TaskError::NoOffloadThread("x".into()).to_string();
    assert!(msg.contains("offload") && msg.contains("thread"), "{msg}");
}
