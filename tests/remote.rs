//! Reaching the loop from other threads: `LoopHandle`, `RemoteTask`, and `Waker`s.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_between, ms, run_ok, with_watchdog};
use flowloop::sync::Event;
use flowloop::{EventLoop, LoopHandle, TaskError, offload, yield_now};

fn assert_send_clone<T: Send + Clone + 'static>() {}

#[test]
fn loop_handle_is_send_and_clone() {
    assert_send_clone::<LoopHandle>();
}

/// Four threads spawn into one loop at the same time and each waits for its own results.
#[test]
fn loop_handle_used_from_four_threads_at_once() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 250;
    let (sums, all_on_loop_thread, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        let loop_thread = thread::current().id();
        let result = lp
            .run_until_complete(async move {
                // The threads block on their results, so they run off the loop: the root waits
                // for them through the offload pool.
                offload(move || {
                    let barrier = Arc::new(Barrier::new(THREADS));
                    let workers: Vec<_> = (0..THREADS)
                        .map(|t| {
                            let (h, barrier) = (handle.clone(), barrier.clone());
                            thread::spawn(move || {
                                barrier.wait();
                                let tasks: Vec<_> = (0..PER_THREAD)
                                    .map(|i| {
                                        h.spawn(async move {
                                            yield_now().await;
                                            (t as u64 * 1000 + i, thread::current().id())
                                        })
                                    })
                                    .collect();
                                tasks
                                    .into_iter()
                                    .map(|r| r.join().expect("remote task lost"))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    workers
                        .into_iter()
                        .map(|w| w.join().expect("worker thread panicked"))
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap()
            })
            .unwrap();
        let on_loop = result.iter().flatten().all(|(_, tid)| *tid == loop_thread);
        let sums: Vec<u64> = result.iter().map(|v| v.iter().map(|(x, _)| x).sum()).collect();
        (sums, on_loop, lp.stats())
    });
    let want: Vec<u64> = (0..THREADS as u64)
        .map(|t| t * 1000 * PER_THREAD + PER_THREAD * (PER_THREAD - 1) / 2)
        .collect();
    assert_eq!(
        sums, want,
        "every remote task ran exactly once and its value reached its thread"
    );
    assert!(all_on_loop_thread, "remote futures must run on the loop thread");
    assert_eq!(stats.tasks_spawned, 1 + (THREADS as u64) * PER_THREAD);
}

thread_local! {
    static WAKE_ME: RefCell<Option<Event>> = const { RefCell::new(None) };
}

/// While an outside `LoopHandle` exists, a loop whose tasks all wait is not stalled: a task
/// spawned through the handle 20 ms later wakes the root.
#[test]
fn outside_handle_keeps_an_idle_loop_waiting() {
    let took = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        let start = Instant::now();
        let (registered_tx, registered_rx) = std::sync::mpsc::channel::<()>();
        let remote = thread::spawn(move || {
            registered_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the root never registered");
            thread::sleep(ms(20));
            handle.spawn(async {
                WAKE_ME.with(|w| w.borrow().as_ref().expect("root registered its event").set());
            })
        });
        lp.run_until_complete(async move {
            let ev = Event::new();
            WAKE_ME.with(|w| *w.borrow_mut() = Some(ev.clone()));
            registered_tx.send(()).unwrap();
            ev.wait().await;
        })
        .unwrap();
        remote.join().unwrap().join().unwrap();
        start.elapsed()
    });
    assert_between("waiting for a remote spawn", took, ms(20), Duration::from_secs(5));
}

#[test]
fn remote_spawn_before_run_is_picked_up_by_the_next_run() {
    let (before, after) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        let task = thread::spawn(move || handle.spawn(async { 6 * 7 })).join().unwrap();
        let before = task.try_join();
        lp.run_until_complete(async {}).unwrap();
        (before, task.try_join())
    });
    assert_eq!(before, Ok(None));
    assert_eq!(after, Ok(Some(42)));
}

#[test]
fn remote_task_of_a_dropped_loop_reports_cancelled() {
    let r = with_watchdog(|| {
        let lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        drop(lp);
        handle.wake();
        handle.spawn(async { 1 }).join()
    });
    assert_eq!(r, Err(TaskError::Cancelled));
}

#[test]
fn remote_task_that_panics_reports_cancelled_and_the_loop_survives() {
    let (r, next) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        let bad = handle.spawn(async {
            if std::hint::black_box(true) {
                panic!("remote boom");
            }
            1
        });
        let good = handle.spawn(async { 2 });
        lp.run_until_complete(async {}).unwrap();
        (bad.join(), good.join())
    });
    assert_eq!(r, Err(TaskError::Cancelled));
    assert_eq!(next, Ok(2));
}

/// A oneshot whose sender lives on another thread and wakes the task through its `Waker`.
struct Oneshot(Arc<Mutex<(Option<u32>, Option<Waker>)>>);

impl Future for Oneshot {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut st = self.0.lock().unwrap();
        match st.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                st.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A task's `Waker` used from another thread wakes the loop out of its OS wait.
#[test]
fn waker_from_another_thread_wakes_the_loop() {
    let (v, took) = run_ok(|| async {
        let start = Instant::now();
        let shared = Arc::new(Mutex::new((None, None::<Waker>)));
        let s = shared.clone();
        let sender = thread::spawn(move || {
            // Wait until the task registered its waker (bounded), then send after 10 ms.
            let deadline = Instant::now() + Duration::from_secs(10);
            while s.lock().unwrap().1.is_none() && Instant::now() < deadline {
                thread::yield_now();
            }
            thread::sleep(ms(10));
            let mut st = s.lock().unwrap();
            st.0 = Some(99);
            if let Some(w) = st.1.take() {
                w.wake();
            }
        });
        let v = Oneshot(shared).await;
        sender.join().unwrap();
        (v, start.elapsed())
    });
    assert_eq!(v, 99);
    assert_between("cross-thread wake", took, ms(10), Duration::from_secs(5));
}

/// A future that wakes itself before returning `Pending` is polled again (same-thread wake).
#[test]
fn self_wake_on_the_loop_thread_repolls_the_task() {
    struct WakeOnce(bool);
    impl Future for WakeOnce {
        type Output = &'static str;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if self.0 {
                return Poll::Ready("repolled");
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    let v = run_ok(|| WakeOnce(false));
    assert_eq!(v, "repolled");
}

/// Captures its task's waker on the first poll, then completes once `done` is set.
struct CaptureWaker {
    slot: Arc<Mutex<Option<Waker>>>,
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl Future for CaptureWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done.load(std::sync::atomic::Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Wakes from another thread while the loop is busy are merged: a task whose wake-up is
/// already on its way is not queued again, so 100,000 wakes reach the loop as a handful.
#[test]
fn remote_wakes_of_a_queued_task_are_merged() {
    const WAKES: usize = 100_000;
    let (polls, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let polls = lp
            .run_until_complete(async {
                let slot = Arc::new(Mutex::new(None::<Waker>));
                let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let waiter = flowloop::spawn(CaptureWaker {
                    slot: slot.clone(),
                    done: done.clone(),
                })
                .await;
                yield_now().await;
                let waker = slot.lock().unwrap().take().expect("the task was polled");
                let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let f = finished.clone();
                let d = done.clone();
                let thread = thread::spawn(move || {
                    for _ in 0..WAKES {
                        waker.wake_by_ref();
                    }
                    d.store(true, std::sync::atomic::Ordering::SeqCst);
                    waker.wake();
                    f.store(true, std::sync::atomic::Ordering::SeqCst);
                });
                // Keep the loop busy (no await) until every wake was sent.
                let start = Instant::now();
                while !finished.load(std::sync::atomic::Ordering::SeqCst) && start.elapsed() < Duration::from_secs(30) {
                    std::hint::spin_loop();
                }
                thread.join().unwrap();
                let stats = waiter.stats();
                waiter.join().await.unwrap();
                stats.polls
            })
            .unwrap();
        (polls, lp.stats())
    });
    assert_eq!(polls, 1, "the task was polled once before the wakes");
    assert!(
        stats.remote_wakes <= 2,
        "{} wake messages reached the loop for {WAKES} wakes of one task",
        stats.remote_wakes
    );
}
