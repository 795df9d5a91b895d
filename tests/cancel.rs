//! Cancellation of a task waiting on each kind of command; afterwards nothing leaks: the
//! primitive still works for others, a wake is handed on, and the loop ends at once.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Log, ms, run, run_ok, run_timed, with_watchdog};
use flowloop::runtime::{CommandKind, TaskStatus, task_status};
use flowloop::sync::{AsyncQueue, Condition, CountdownLatch, Event, Lock};
use flowloop::{EventLoop, RunError, TaskError, TaskHandle, offload, sleep, spawn, timeout, yield_now};

const LONG: Duration = Duration::from_secs(10);
/// Upper bound for "the loop ends at once" while a `LONG` timer was pending.
const AT_ONCE: Duration = Duration::from_secs(2);

/// Drops a marker into the log when dropped (shows when a task's future is dropped).
struct DropMark(Log, &'static str);

impl Drop for DropMark {
    fn drop(&mut self) {
        self.0.push(self.1);
    }
}

/// E12: cancel a task in `sleep(10 s)`, then join: `Cancelled`, and the loop ends at once.
#[test]
fn e12_cancel_sleeping_task_then_join() {
    let (v, took) = run_timed(|| async {
        let h = spawn(sleep(LONG)).await;
        h.cancel().await;
        h.join().await
    });
    assert_eq!(v, Err(TaskError::Cancelled));
    assert!(took < AT_ONCE, "the loop waited {took:?} for a cancelled timer");
}

#[test]
fn cancel_drops_the_future_at_once() {
    let log = run_ok(|| async {
        let log = Log::new();
        let l = log.clone();
        let h = spawn(async move {
            let _mark = DropMark(l, "dropped");
            sleep(LONG).await;
        })
        .await;
        log.push("cancelling");
        h.cancel().await;
        log.push("cancelled");
        assert_eq!(h.join().await, Err(TaskError::Cancelled));
        log.joined()
    });
    assert_eq!(log, "cancelling dropped cancelled");
}

/// After cancelling a sleeper, a program whose remaining tasks can never wake is reported as
/// stalled at once: the cancelled timer must not keep the loop waiting.
#[test]
fn cancelled_timer_does_not_delay_stall_detection() {
    let start = Instant::now();
    let err = run(|| async {
        let h = spawn(sleep(LONG)).await;
        h.cancel().await;
        Event::new().wait().await;
    })
    .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, RunError::Stalled { waiting: 1 }), "{err:?}");
    assert!(took < AT_ONCE, "stall reported only after {took:?}");
}

#[test]
fn cancel_task_waiting_on_a_yield() {
    let (count_at_cancel, count_later, joined) = run_ok(|| async {
        let count = Rc::new(Cell::new(0u32));
        let c = count.clone();
        let h = spawn(async move {
            for _ in 0..1000 {
                c.set(c.get() + 1);
                yield_now().await;
            }
        })
        .await;
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(task_status(h.id()), TaskStatus::Queued);
        h.cancel().await;
        let at_cancel = count.get();
        for _ in 0..3 {
            yield_now().await;
        }
        (at_cancel, count.get(), h.join().await)
    });
    assert_eq!(
        count_at_cancel, 4,
        "child steps interleave one-for-one with the parent's yields"
    );
    assert_eq!(count_later, 4, "a cancelled task must not run again");
    assert_eq!(joined, Err(TaskError::Cancelled));
}

/// A task waiting on a join is cancelled; the task it joined is detached and runs on.
#[test]
fn cancel_task_waiting_on_join() {
    let (log, took) = with_watchdog(|| {
        let start = Instant::now();
        let log = Log::new();
        let l = log.clone();
        flowloop::run(async move {
            let go = Event::new();
            let (g, l2) = (go.clone(), l.clone());
            let target = spawn(async move {
                g.wait().await;
                l2.push("target finished");
                9
            })
            .await;
            let target_id = target.id();
            let joiner = spawn(async move { target.join().await }).await;
            assert_eq!(task_status(joiner.id()), TaskStatus::Waiting);
            joiner.cancel().await;
            assert_eq!(joiner.join().await, Err(TaskError::Cancelled));
            assert_eq!(
                task_status(target_id),
                TaskStatus::Waiting,
                "the join target keeps running"
            );
            go.set();
            l.push("set");
        })
        .unwrap();
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "set target finished");
    assert!(took < AT_ONCE);
}

#[test]
fn cancel_task_waiting_on_queue_get_leaves_queue_working() {
    let (first, second) = run_ok(|| async {
        let q = AsyncQueue::new();
        let (q1, q2) = (q.clone(), q.clone());
        let g1 = spawn(async move { q1.get().await }).await;
        let g2 = spawn(async move { q2.get().await }).await;
        g1.cancel().await;
        q.put(7).await.unwrap();
        (g1.join().await, g2.join().await)
    });
    assert_eq!(first, Err(TaskError::Cancelled));
    assert_eq!(
        second,
        Ok(Ok(7)),
        "the item must reach the getter behind the cancelled one"
    );
}

/// The item's wake reached a getter that was cancelled before it ran: the wake is handed on.
#[test]
fn cancel_woken_getter_hands_the_item_on() {
    let (first, second, left) = run_ok(|| async {
        let q = AsyncQueue::new();
        let (q1, q2) = (q.clone(), q.clone());
        let g1 = spawn(async move { q1.get().await }).await;
        let g2 = spawn(async move { q2.get().await }).await;
        q.try_put(7).unwrap();
        assert_eq!(task_status(g1.id()), TaskStatus::Queued);
        g1.cancel().await;
        (g1.join().await, g2.join().await, q.len())
    });
    assert_eq!(first, Err(TaskError::Cancelled));
    assert_eq!(second, Ok(Ok(7)));
    assert_eq!(left, 0);
}

#[test]
fn cancel_woken_peeker_hands_the_wake_on() {
    let (first, second) = run_ok(|| async {
        let q = AsyncQueue::new();
        let (q1, q2) = (q.clone(), q.clone());
        let p1 = spawn(async move { q1.peek().await }).await;
        let g2 = spawn(async move { q2.get().await }).await;
        q.try_put("x").unwrap();
        p1.cancel().await;
        (p1.join().await, g2.join().await)
    });
    assert_eq!(first, Err(TaskError::Cancelled));
    assert_eq!(second, Ok(Ok("x")));
}

#[test]
fn cancel_task_waiting_on_queue_put() {
    let (cancelled, other, items) = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        q.put(0).await.unwrap();
        let (q1, q2) = (q.clone(), q.clone());
        let p1 = spawn(async move { q1.put(1).await }).await;
        let p2 = spawn(async move { q2.put(2).await }).await;
        p1.cancel().await;
        let mut items = vec![q.get().await.unwrap()];
        let other = p2.join().await;
        items.push(q.get().await.unwrap());
        (p1.join().await.map(|r| r.is_ok()), other.map(|r| r.is_ok()), items)
    });
    assert_eq!(cancelled, Err(TaskError::Cancelled));
    assert_eq!(other, Ok(true));
    assert_eq!(items, [0, 2], "the cancelled put's item must never enter the queue");
}

/// The free slot's wake reached a putter that was cancelled before it ran: the wake is
/// handed on to the next putter.
#[test]
fn cancel_woken_putter_hands_the_slot_on() {
    let (other, items) = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        q.put(0).await.unwrap();
        let (q1, q2) = (q.clone(), q.clone());
        let p1 = spawn(async move { q1.put(1).await }).await;
        let p2 = spawn(async move { q2.put(2).await }).await;
        let first = q.try_get().unwrap();
        assert_eq!(task_status(p1.id()), TaskStatus::Queued);
        p1.cancel().await;
        let other = p2.join().await.map(|r| r.is_ok());
        (other, vec![first, q.get().await.unwrap()])
    });
    assert_eq!(other, Ok(true));
    assert_eq!(items, [0, 2]);
}

#[test]
fn cancel_task_waiting_on_event() {
    let (log, took) = with_watchdog(|| {
        let start = Instant::now();
        let log = Log::new();
        let l = log.clone();
        flowloop::run(async move {
            let ev = Event::new();
            let (e1, e2, l1, l2) = (ev.clone(), ev.clone(), l.clone(), l.clone());
            let w1 = spawn(async move {
                e1.wait().await;
                l1.push("w1 woke");
            })
            .await;
            let w2 = spawn(async move {
                e2.wait().await;
                l2.push("w2 woke");
            })
            .await;
            w1.cancel().await;
            ev.set();
            w2.join().await.unwrap();
            assert_eq!(w1.join().await, Err(TaskError::Cancelled));
        })
        .unwrap();
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "w2 woke");
    assert!(took < AT_ONCE);
}

#[test]
fn cancel_task_waiting_on_latch() {
    let v = run_ok(|| async {
        let latch = CountdownLatch::new(1);
        let (a, b) = (latch.clone(), latch.clone());
        let w1 = spawn(async move { a.wait().await }).await;
        let w2 = spawn(async move { b.wait().await }).await;
        w1.cancel().await;
        latch.count_down();
        (w1.join().await, w2.join().await)
    });
    assert_eq!(v, (Err(TaskError::Cancelled), Ok(())));
}

#[test]
fn cancel_task_waiting_on_lock() {
    let (log, locked_after) = run_ok(|| async {
        let log = Log::new();
        let lock = Lock::new();
        let guard = lock.lock().await;
        let (k1, k2, l2) = (lock.clone(), lock.clone(), log.clone());
        let w1 = spawn(async move {
            let _g = k1.lock().await;
        })
        .await;
        let w2 = spawn(async move {
            let _g = k2.lock().await;
            l2.push("w2 in");
        })
        .await;
        w1.cancel().await;
        drop(guard);
        w2.join().await.unwrap();
        (log.joined(), lock.is_locked())
    });
    assert_eq!(log, "w2 in");
    assert!(!locked_after, "the lock must be free after the last holder left");
}

/// The lock was handed to a waiter that is cancelled before it ran: it passes the lock on.
#[test]
fn cancel_handed_over_lock_waiter_passes_the_lock_on() {
    let (log, locked_after) = run_ok(|| async {
        let log = Log::new();
        let lock = Lock::new();
        let guard = lock.lock().await;
        let (k1, k2, l2) = (lock.clone(), lock.clone(), log.clone());
        let w1 = spawn(async move {
            let _g = k1.lock().await;
        })
        .await;
        let w2 = spawn(async move {
            let _g = k2.lock().await;
            l2.push("w2 in");
        })
        .await;
        drop(guard);
        assert_eq!(task_status(w1.id()), TaskStatus::Queued, "the lock was handed to w1");
        w1.cancel().await;
        w2.join().await.unwrap();
        (log.joined(), lock.is_locked())
    });
    assert_eq!(log, "w2 in");
    assert!(!locked_after);
}

/// Cancelling the holder releases the lock (its guard is dropped with the future).
#[test]
fn cancel_lock_holder_releases_the_lock() {
    let (v, took) = run_timed(|| async {
        let lock = Lock::new();
        let (k1, k2) = (lock.clone(), lock.clone());
        let holder = spawn(async move {
            let _g = k1.lock().await;
            sleep(LONG).await;
        })
        .await;
        let waiter = spawn(async move {
            let _g = k2.lock().await;
            "got it"
        })
        .await;
        holder.cancel().await;
        waiter.join().await
    });
    assert_eq!(v, Ok("got it"));
    assert!(took < AT_ONCE);
}

#[test]
fn cancel_notified_condition_waiter_passes_the_notification_on() {
    let log = run_ok(|| async {
        let log = Log::new();
        let cond = Condition::new(Lock::new());
        let mut hs = Vec::new();
        for i in 0..2 {
            let (c, l) = (cond.clone(), log.clone());
            hs.push(
                spawn(async move {
                    let g = c.lock().lock().await;
                    let _g = c.wait(g).await;
                    l.push(format!("w{i} notified"));
                })
                .await,
            );
        }
        cond.notify(1);
        hs[0].cancel().await;
        let mut hs = hs.into_iter();
        let first = hs.next().unwrap().join().await;
        hs.next().unwrap().join().await.unwrap();
        log.push(format!("{first:?}"));
        log.joined()
    });
    assert_eq!(log, "w1 notified Err(Cancelled)");
}

#[test]
fn cancel_task_waiting_on_offload() {
    let (joined, closure_finished, next, took) = with_watchdog(|| {
        let start = Instant::now();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let v = flowloop::run(async move {
            let h = spawn(offload(move || {
                let released = release_rx.recv_timeout(Duration::from_secs(20)).is_ok();
                let _ = done_tx.send(());
                released
            }))
            .await;
            yield_now().await;
            h.cancel().await;
            let joined = h.join().await.map(|r| r.is_ok());
            release_tx.send(()).unwrap();
            // The closure cannot be aborted: it runs to the end on its thread.
            let finished = offload(move || done_rx.recv_timeout(Duration::from_secs(20)).is_ok()).await;
            let next = offload(|| 5).await;
            (joined, finished, next)
        })
        .unwrap();
        (v.0, v.1, v.2, start.elapsed())
    });
    assert_eq!(joined, Err(TaskError::Cancelled));
    assert_eq!(closure_finished, Ok(true));
    assert_eq!(next, Ok(5));
    assert!(took < AT_ONCE);
}

/// A task cancelled while its parent was queued to resume from a spawn: the spawned child is
/// detached and runs on.
#[test]
fn cancel_task_waiting_on_spawn() {
    let log = run_ok(|| async {
        let log = Log::new();
        type Slot = Rc<RefCell<Option<TaskHandle<Result<(), TaskError>>>>>;
        let slot: Slot = Rc::default();
        let done = Event::new();
        let (s, l, d) = (slot.clone(), log.clone(), done.clone());
        let parent = spawn(async move {
            let child = spawn(async move {
                // Runs before the parent resumes from its spawn.
                let parent = s.borrow_mut().take().expect("the root stored the parent's handle");
                parent.cancel().await;
                l.push("child cancelled parent");
                let r = parent.join().await;
                l.push(format!("parent joined: {r:?}"));
                d.set();
            })
            .await;
            panic!("the parent must not resume after being cancelled ({child:?})");
        })
        .await;
        slot.borrow_mut().replace(parent);
        done.wait().await;
        log.joined()
    });
    assert_eq!(log, "child cancelled parent parent joined: Err(Cancelled)");
}

#[test]
fn task_cancelling_itself_stops_at_its_await() {
    let (log, cancelled) = with_watchdog(|| {
        let log = Log::new();
        let l = log.clone();
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(async move {
            let slot: Rc<RefCell<Option<TaskHandle<()>>>> = Rc::default();
            let s = slot.clone();
            let h = spawn(async move {
                let _mark = DropMark(l.clone(), "dropped");
                yield_now().await;
                let me = s.borrow_mut().take().expect("handle stored");
                me.cancel().await;
                l.push("after self-cancel");
            })
            .await;
            slot.borrow_mut().replace(h);
        })
        .unwrap();
        (log.joined(), lp.stats().tasks_cancelled)
    });
    assert_eq!(log, "dropped");
    assert_eq!(cancelled, 1);
}

#[test]
fn cancel_of_a_finished_task_keeps_its_value() {
    let v = run_ok(|| async {
        let h = spawn(async { 11 }).await;
        h.cancel().await;
        h.cancel().await;
        h.join().await
    });
    assert_eq!(v, Ok(11));
}

#[test]
fn cancel_twice_is_harmless() {
    let (v, took) = run_timed(|| async {
        let h = spawn(sleep(LONG)).await;
        h.cancel().await;
        h.cancel().await;
        h.join().await
    });
    assert_eq!(v, Err(TaskError::Cancelled));
    assert!(took < AT_ONCE);
}

/// A task waiting on two things at once (a timer inside `timeout`, and a queue) is removed from
/// both by one cancel.
#[test]
fn cancel_removes_task_from_timer_and_queue_together() {
    let (got, took) = run_timed(|| async {
        let q = AsyncQueue::new();
        let (q1, q2) = (q.clone(), q.clone());
        let both = spawn(async move { timeout(LONG, q1.get()).await }).await;
        let other = spawn(async move { q2.get().await }).await;
        both.cancel().await;
        q.put(3).await.unwrap();
        (both.join().await.is_err(), other.join().await)
    });
    assert_eq!(got, (true, Ok(Ok(3))));
    assert!(took < AT_ONCE);
}

#[test]
fn cancel_is_counted_and_reported() {
    let stats = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(async {
            let hs: Vec<_> = {
                let mut v = Vec::new();
                for _ in 0..3 {
                    v.push(spawn(sleep(LONG)).await);
                }
                v
            };
            for h in &hs {
                h.cancel().await;
            }
        })
        .unwrap();
        lp.stats()
    });
    assert_eq!(stats.tasks_cancelled, 3);
    assert_eq!(stats.commands_of(CommandKind::Cancel), 3);
    assert_eq!(stats.timers_fired, 0, "cancelled timers must not fire");
}

/// Many tasks parked on one queue, most cancelled: the survivors still get every item.
#[test]
fn mass_cancel_of_queue_waiters() {
    let got = run_ok(|| async {
        let q = AsyncQueue::new();
        let mut hs = Vec::new();
        for i in 0..100 {
            let q = q.clone();
            hs.push((i, spawn(async move { q.get().await.ok() }).await));
        }
        for (i, h) in &hs {
            if i % 10 != 0 {
                h.cancel().await;
            }
        }
        for i in 0..10 {
            q.put(i).await.unwrap();
        }
        let mut got = Vec::new();
        for (i, h) in hs {
            match h.join().await {
                Ok(v) => got.push(v),
                Err(TaskError::Cancelled) => assert_ne!(i % 10, 0),
                Err(e) => panic!("{e}"),
            }
        }
        got
    });
    assert_eq!(got, (0..10).map(Some).collect::<Vec<_>>());
}

/// A task cancelled in its first wait never runs the code after it.
#[test]
fn cancelled_task_never_resumes() {
    let log = run_ok(|| async {
        let log = Log::new();
        let l = log.clone();
        let h = spawn(async move {
            sleep(ms(1)).await;
            l.push("ran past sleep");
        })
        .await;
        h.cancel().await;
        h.join().await.unwrap_err();
        log.joined()
    });
    assert_eq!(log, "");
}

/// Cancellation is iterative: a chain of 20,000 tasks, each holding an aborting handle to the
/// next, is unwound without recursion (a recursive drop overflows the test thread's stack).
#[test]
fn cancelling_a_long_abort_chain_does_not_overflow_the_stack() {
    const CHAIN: usize = 20_000;
    let (first, cancelled) = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        let first = lp
            .run_until_complete(async {
                let mut next: Option<TaskHandle<()>> = None;
                for _ in 0..CHAIN {
                    let held = next.take();
                    let h = spawn(async move {
                        let _held = held;
                        std::future::pending::<()>().await;
                    })
                    .await;
                    next = Some(h.on_drop(flowloop::DropPolicy::Abort));
                }
                yield_now().await;
                let head = next.expect("chain is not empty");
                head.cancel().await;
                head.join().await
            })
            .expect("run");
        (first, lp.stats().tasks_cancelled)
    });
    assert_eq!(first, Err(TaskError::Cancelled));
    assert_eq!(cancelled, CHAIN as u64, "every task of the chain was cancelled");
}

/// Cancelling many waiters of one queue, event or lock removes each in O(1): 200,000 waiters
/// per primitive, cancelled newest first (the worst order for a list searched from the
/// front), leave the primitive working for the one survivor. Only a generous time bound: a
/// quadratic removal takes tens of seconds here.
#[test]
fn mass_cancel_of_waiters_is_linear() {
    const WAITERS: usize = 200_000;
    let (got, took) = run_timed(|| async {
        let q: AsyncQueue<usize> = AsyncQueue::new();
        let ev = Event::new();
        let lock = Lock::new();
        let mut held = Some(lock.lock().await);
        let mut got = Vec::new();
        for kind in 0..3 {
            let mut hs = Vec::with_capacity(WAITERS);
            for _ in 0..WAITERS {
                let (q, ev, lock) = (q.clone(), ev.clone(), lock.clone());
                hs.push(
                    spawn(async move {
                        match kind {
                            0 => q.get().await.unwrap_or(0),
                            1 => {
                                ev.wait().await;
                                1
                            }
                            _ => {
                                drop(lock.lock().await);
                                2
                            }
                        }
                    })
                    .await,
                );
            }
            yield_now().await;
            let survivor = hs.remove(0);
            for h in hs.iter().rev() {
                h.cancel().await;
            }
            match kind {
                0 => q.put(7).await.unwrap(),
                1 => ev.set(),
                _ => drop(held.take()),
            }
            got.push(survivor.join().await.unwrap());
            let mut cancelled = 0;
            for h in hs {
                assert_eq!(h.join().await, Err(TaskError::Cancelled));
                cancelled += 1;
            }
            assert_eq!(cancelled, WAITERS - 1);
        }
        (got, q.len(), lock.is_locked())
    });
    assert_eq!(got, (vec![7, 1, 2], 0, false));
    assert!(
        took < Duration::from_secs(10),
        "{WAITERS} cancels per primitive took {took:?}"
    );
}
