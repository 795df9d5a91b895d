//! `Event`, `Lock`, `Condition`, `CountdownLatch` (E9, E10).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{Log, assert_between, ms, run_ok};
use flowloop::sync::{Condition, CountdownLatch, Event, Lock};
use flowloop::{sleep, spawn, yield_now};

/// E9: two tasks wait on an Event; a third sets it after 10 ms.
#[test]
fn e9_event_wakes_every_waiter_in_order() {
    let (log, took) = run_ok(|| async {
        let start = Instant::now();
        let log = Log::new();
        let ev = Event::new();
        let mut hs = Vec::new();
        for i in 1..=2 {
            let (ev, l) = (ev.clone(), log.clone());
            hs.push(
                spawn(async move {
                    l.push(format!("wait{i}"));
                    ev.wait().await;
                    l.push(format!("woke{i}"));
                })
                .await,
            );
        }
        let (ev2, l) = (ev.clone(), log.clone());
        hs.push(
            spawn(async move {
                sleep(ms(10)).await;
                l.push("set");
                ev2.set();
            })
            .await,
        );
        for h in hs {
            h.join().await.unwrap();
        }
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "wait1 wait2 set woke1 woke2");
    assert_between("E9", took, ms(10), Duration::from_secs(3));
}

#[test]
fn event_wait_when_already_set_is_immediate_and_clear_resets() {
    let v = run_ok(|| async {
        let ev = Event::new();
        ev.set();
        ev.wait().await;
        let was_set = ev.is_set();
        ev.clear();
        let after_clear = ev.is_set();
        let e = ev.clone();
        let w = spawn(async move { e.wait().await }).await;
        let waiting = !w.is_finished();
        ev.set();
        w.join().await.unwrap();
        (was_set, after_clear, waiting)
    });
    assert_eq!(v, (true, false, true));
}

/// A waiter woken by `set` returns even if the flag was cleared before it ran.
#[test]
fn event_set_then_clear_still_releases_the_woken_waiter() {
    let v = run_ok(|| async {
        let ev = Event::new();
        let e = ev.clone();
        let w = spawn(async move { e.wait().await }).await;
        ev.set();
        ev.clear();
        w.join().await
    });
    assert_eq!(v, Ok(()));
}

/// E10: three tasks take a Lock, each logging in/out around a 5 ms sleep: FIFO.
#[test]
fn e10_lock_is_fifo_and_exclusive() {
    let (log, took) = run_ok(|| async {
        let start = Instant::now();
        let log = Log::new();
        let lock = Lock::new();
        let mut hs = Vec::new();
        for i in 0..3 {
            let (lock, l) = (lock.clone(), log.clone());
            hs.push(
                spawn(async move {
                    let _guard = lock.lock().await;
                    l.push(format!("in{i}"));
                    sleep(ms(5)).await;
                    l.push(format!("out{i}"));
                })
                .await,
            );
        }
        for h in hs {
            h.join().await.unwrap();
        }
        (log.joined(), start.elapsed())
    });
    assert_eq!(log, "in0 out0 in1 out1 in2 out2");
    assert_between(
        "three 5 ms critical sections in a row",
        took,
        ms(15),
        Duration::from_secs(3),
    );
}

/// On release the lock goes to the oldest waiter, not to a task that asks later.
#[test]
fn lock_hand_off_beats_a_newcomer() {
    let log = run_ok(|| async {
        let log = Log::new();
        let lock = Lock::new();
        let guard = lock.lock().await;
        let (k, l) = (lock.clone(), log.clone());
        let waiter = spawn(async move {
            let _g = k.lock().await;
            l.push("waiter");
        })
        .await;
        drop(guard);
        let newcomer_got_it = lock.try_lock().is_some();
        log.push(format!("try_lock {newcomer_got_it}"));
        let g = lock.lock().await;
        log.push("main again");
        drop(g);
        waiter.join().await.unwrap();
        log.joined()
    });
    assert_eq!(log, "try_lock false waiter main again");
}

#[test]
fn lock_under_contention_never_admits_two() {
    let (max_inside, entries) = run_ok(|| async {
        let lock = Lock::new();
        let inside = Rc::new(Cell::new(0u32));
        let max_inside = Rc::new(Cell::new(0u32));
        let entries = Rc::new(Cell::new(0u32));
        let mut hs = Vec::new();
        for _ in 0..20 {
            let (lock, inside, max_inside, entries) =
                (lock.clone(), inside.clone(), max_inside.clone(), entries.clone());
            hs.push(
                spawn(async move {
                    for _ in 0..5 {
                        let _g = lock.lock().await;
                        inside.set(inside.get() + 1);
                        max_inside.set(max_inside.get().max(inside.get()));
                        entries.set(entries.get() + 1);
                        yield_now().await;
                        inside.set(inside.get() - 1);
                    }
                })
                .await,
            );
        }
        for h in hs {
            h.join().await.unwrap();
        }
        (max_inside.get(), entries.get())
    });
    assert_eq!(max_inside, 1);
    assert_eq!(entries, 100);
}

#[test]
fn try_lock_and_is_locked() {
    let v = run_ok(|| async {
        let lock = Lock::new();
        let g = lock.try_lock();
        let second = lock.try_lock();
        let locked = lock.is_locked();
        drop(g);
        (second.is_none(), locked, lock.is_locked())
    });
    assert_eq!(v, (true, true, false));
}

#[test]
fn condition_notify_one_wakes_the_oldest_waiter() {
    let log = run_ok(|| async {
        let log = Log::new();
        let cond = Condition::new(Lock::new());
        let turn = Rc::new(Cell::new(0u32));
        let mut hs = Vec::new();
        for i in 0..3 {
            let (c, l, turn) = (cond.clone(), log.clone(), turn.clone());
            hs.push(
                spawn(async move {
                    let mut g = c.lock().lock().await;
                    l.push(format!("wait{i}"));
                    while turn.get() == 0 {
                        g = c.wait(g).await;
                    }
                    turn.set(turn.get() - 1);
                    l.push(format!("run{i}"));
                    drop(g);
                })
                .await,
            );
        }
        for _ in 0..3 {
            let g = cond.lock().lock().await;
            turn.set(turn.get() + 1);
            cond.notify(1);
            drop(g);
            yield_now().await;
        }
        for h in hs {
            h.join().await.unwrap();
        }
        log.joined()
    });
    assert_eq!(log, "wait0 wait1 wait2 run0 run1 run2");
}

#[test]
fn condition_notify_all_wakes_everyone_and_each_retakes_the_lock() {
    let (log, max_inside) = run_ok(|| async {
        let log = Log::new();
        let cond = Condition::new(Lock::new());
        let ready = Rc::new(Cell::new(false));
        let inside = Rc::new(Cell::new(0u32));
        let max_inside = Rc::new(Cell::new(0u32));
        let mut hs = Vec::new();
        for i in 0..3 {
            let (c, l, ready, inside, max_inside) = (
                cond.clone(),
                log.clone(),
                ready.clone(),
                inside.clone(),
                max_inside.clone(),
            );
            hs.push(
                spawn(async move {
                    let mut g = c.lock().lock().await;
                    while !ready.get() {
                        g = c.wait(g).await;
                    }
                    inside.set(inside.get() + 1);
                    max_inside.set(max_inside.get().max(inside.get()));
                    sleep(ms(1)).await;
                    l.push(format!("done{i}"));
                    inside.set(inside.get() - 1);
                    drop(g);
                })
                .await,
            );
        }
        let g = cond.lock().lock().await;
        ready.set(true);
        cond.notify_all();
        drop(g);
        for h in hs {
            h.join().await.unwrap();
        }
        (log.joined(), max_inside.get())
    });
    assert_eq!(log, "done0 done1 done2");
    assert_eq!(max_inside, 1, "woken waiters must re-take the lock one at a time");
}

#[test]
fn notify_without_waiters_is_not_remembered() {
    let timed_out = run_ok(|| async {
        let cond = Condition::new(Lock::new());
        cond.notify(1);
        cond.notify_all();
        let g = cond.lock().lock().await;
        flowloop::timeout(ms(10), cond.wait(g)).await.is_err()
    });
    assert!(timed_out, "a notify before anyone waited must not wake a later waiter");
}

#[test]
fn latch_opens_after_the_count() {
    let log = run_ok(|| async {
        let log = Log::new();
        let latch = CountdownLatch::new(3);
        let (lw, l) = (latch.clone(), log.clone());
        let waiter = spawn(async move {
            lw.wait().await;
            l.push("open");
        })
        .await;
        for i in 0..3 {
            let (lc, l) = (latch.clone(), log.clone());
            spawn(async move {
                sleep(ms(1 + i)).await;
                l.push(format!("down{i}"));
                lc.count_down();
            })
            .await
            .detach();
        }
        waiter.join().await.unwrap();
        latch.count_down();
        log.push(format!("count {}", latch.count()));
        log.joined()
    });
    assert_eq!(log, "down0 down1 down2 open count 0");
}

#[test]
fn latch_of_zero_is_open() {
    let v = run_ok(|| async {
        let latch = CountdownLatch::new(0);
        latch.wait().await;
        latch.count()
    });
    assert_eq!(v, 0);
}
