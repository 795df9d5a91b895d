//! Timers: lower bounds, deadline order, `sleep(ZERO)` as a yield, `timeout`, fairness.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{Log, assert_between, ms, run_ok, with_watchdog};
use flowloop::runtime::CommandKind;
use flowloop::sync::{AsyncQueue, Event};
use flowloop::{Elapsed, EventLoop, sleep, sleep_until, spawn, timeout, yield_now};

/// Generous upper bound for timing tests on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(3);

#[test]
fn sleep_never_returns_early() {
    let took = run_ok(|| async {
        for d in [1u64, 2, 5, 20] {
            let start = Instant::now();
            sleep(ms(d)).await;
            let took = start.elapsed();
            assert!(took >= ms(d), "sleep({d} ms) returned after {took:?}");
        }
        let start = Instant::now();
        sleep(ms(30)).await;
        start.elapsed()
    });
    assert_between("sleep(30 ms)", took, ms(30), SLACK);
}

#[test]
fn sleep_until_never_returns_before_the_deadline() {
    let late = run_ok(|| async {
        let deadline = Instant::now() + ms(15);
        sleep_until(deadline).await;
        Instant::now().checked_duration_since(deadline)
    });
    let late = late.expect("sleep_until returned before its deadline");
    assert!(late < SLACK, "sleep_until woke {late:?} late");
}

#[test]
fn sleep_until_a_past_deadline_completes() {
    let took = run_ok(|| async {
        let start = Instant::now();
        sleep_until(start - ms(50)).await;
        start.elapsed()
    });
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn timers_fire_in_deadline_order() {
    let log = run_ok(|| async {
        let log = Log::new();
        let mut hs = Vec::new();
        for d in [30u64, 10, 20, 5, 25] {
            let l = log.clone();
            hs.push(
                spawn(async move {
                    sleep(ms(d)).await;
                    l.push(d.to_string());
                })
                .await,
            );
        }
        for h in hs {
            h.join().await.unwrap();
        }
        log.joined()
    });
    assert_eq!(log, "5 10 20 25 30");
}

#[test]
fn timers_with_the_same_deadline_fire_in_start_order() {
    let log = run_ok(|| async {
        let log = Log::new();
        let deadline = Instant::now() + ms(10);
        let mut hs = Vec::new();
        for i in 0..6 {
            let l = log.clone();
            hs.push(
                spawn(async move {
                    sleep_until(deadline).await;
                    l.push(i.to_string());
                })
                .await,
            );
        }
        for h in hs {
            h.join().await.unwrap();
        }
        log.joined()
    });
    assert_eq!(log, "0 1 2 3 4 5");
}

/// Many timers with scattered deadlines: each fires at or after its deadline, and they fire
/// in deadline order (ties in start order).
#[test]
fn many_timers_fire_in_order_and_never_early() {
    const N: u64 = 300;
    let (order, early) = run_ok(|| async {
        let base = Instant::now() + ms(5);
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let early = Rc::new(Cell::new(0u32));
        let mut hs = Vec::new();
        for i in 0..N {
            // A deterministic scatter over 0..=20 ms.
            let offset = Duration::from_micros((i * 7919) % 20_001);
            let deadline = base + offset;
            let (order, early) = (order.clone(), early.clone());
            hs.push(
                spawn(async move {
                    sleep_until(deadline).await;
                    if Instant::now() < deadline {
                        early.set(early.get() + 1);
                    }
                    order.borrow_mut().push((offset, i));
                })
                .await,
            );
        }
        for h in hs {
            h.join().await.unwrap();
        }
        let order = order.borrow().clone();
        (order, early.get())
    });
    assert_eq!(early, 0, "{early} timers fired before their deadline");
    assert_eq!(order.len(), N as usize);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "timers fired out of deadline order");
}

/// `sleep(ZERO)` goes to the back of the ready queue, like `yield_now`, and takes no timer.
#[test]
fn sleep_zero_is_a_yield_to_the_back() {
    let (log, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        let log = lp
            .run_until_complete(async {
                let log = Log::new();
                let go = Event::new();
                let (la, lb, ga, gb) = (log.clone(), log.clone(), go.clone(), go.clone());
                let a = spawn(async move {
                    ga.wait().await;
                    la.push("a1");
                    sleep(Duration::ZERO).await;
                    la.push("a2");
                })
                .await;
                let b = spawn(async move {
                    gb.wait().await;
                    lb.push("b1");
                    lb.push("b2");
                })
                .await;
                go.set();
                a.join().await.unwrap();
                b.join().await.unwrap();
                log.joined()
            })
            .unwrap();
        (log, lp.stats())
    });
    assert_eq!(log, "a1 b1 b2 a2");
    assert_eq!(stats.commands_of(CommandKind::Yield), 1);
    assert_eq!(stats.commands_of(CommandKind::Sleep), 0);
    assert_eq!(stats.timers_fired, 0);
}

#[test]
fn timeout_gives_elapsed_after_the_deadline() {
    let (r, took) = run_ok(|| async {
        let start = Instant::now();
        let r = timeout(ms(15), sleep(Duration::from_secs(10))).await;
        (r, start.elapsed())
    });
    let r: Result<(), Elapsed> = r;
    let err = r.expect_err("a 10 s sleep under a 15 ms timeout must time out");
    assert_eq!(err.to_string(), "deadline elapsed before the operation finished");
    assert_between("timeout(15 ms)", took, ms(15), SLACK);
}

#[test]
fn timeout_passes_through_a_value_in_time() {
    let (ready, later, took) = run_ok(|| async {
        let start = Instant::now();
        let ready = timeout(Duration::from_secs(10), async { 3 }).await;
        let later = timeout(Duration::from_secs(10), async {
            sleep(ms(5)).await;
            4
        })
        .await;
        (ready, later, start.elapsed())
    });
    assert_eq!(ready, Ok(3));
    assert_eq!(later, Ok(4));
    assert_between("two timeouts that did not expire", took, ms(5), SLACK);
}

#[test]
fn timeout_of_zero_still_returns_a_ready_value() {
    let (ready, pending) = run_ok(|| async {
        let ready = timeout(Duration::ZERO, async { 1 }).await;
        let pending = timeout(Duration::ZERO, Event::new().wait()).await;
        (ready, pending.is_err())
    });
    assert_eq!(ready, Ok(1));
    assert!(pending, "a pending future under a zero timeout must time out");
}

/// A timed-out `get` leaves the queue: the next item goes to a later getter, not to the
/// abandoned one.
#[test]
fn timeout_releases_the_inner_wait() {
    let (timed_out, got, left) = run_ok(|| async {
        let q = AsyncQueue::new();
        let timed_out = timeout(ms(5), q.get()).await.is_err();
        q.put(1).await.unwrap();
        let got = q.get().await.unwrap();
        (timed_out, got, q.len())
    });
    assert!(timed_out);
    assert_eq!((got, left), (1, 0));
}

/// Ready tasks that never stop yielding must not starve timers: the loop checks them every
/// fairness interval.
#[test]
fn timers_fire_while_tasks_stay_ready() {
    let (spins, fired) = run_ok(|| async {
        let flag = Rc::new(Cell::new(false));
        let f = flag.clone();
        let sleeper = spawn(async move {
            sleep(ms(5)).await;
            f.set(true);
        })
        .await;
        let mut spins = 0u64;
        while !flag.get() && spins < 20_000_000 {
            spins += 1;
            yield_now().await;
        }
        // Read the flag before joining: the join itself would let the timer fire.
        let fired = flag.get();
        sleeper.cancel().await;
        (spins, fired)
    });
    assert!(
        fired,
        "the 5 ms timer never fired while a task kept yielding ({spins} yields)"
    );
}

#[test]
fn sequential_sleeps_add_up() {
    let took = run_ok(|| async {
        let start = Instant::now();
        for _ in 0..10 {
            sleep(ms(2)).await;
        }
        start.elapsed()
    });
    assert_between("10 × sleep(2 ms)", took, ms(20), SLACK);
}

#[test]
fn concurrent_sleeps_overlap() {
    let took = run_ok(|| async {
        let start = Instant::now();
        let mut hs = Vec::new();
        for _ in 0..20 {
            hs.push(spawn(sleep(ms(30))).await);
        }
        for h in hs {
            h.join().await.unwrap();
        }
        start.elapsed()
    });
    assert_between("20 concurrent 30 ms sleeps", took, ms(30), ms(600));
}

#[test]
fn fired_timers_are_counted() {
    let stats = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(async {
            for _ in 0..3 {
                sleep(ms(1)).await;
            }
            let _ = timeout(Duration::from_secs(10), async {}).await;
        })
        .unwrap();
        lp.stats()
    });
    assert_eq!(
        stats.timers_fired, 3,
        "a timeout that did not expire must not count as fired"
    );
    assert_eq!(
        stats.commands_of(CommandKind::Sleep),
        3,
        "a ready future under timeout issues no timer"
    );
}

/// `sleep(Duration::MAX)` and `timeout(Duration::MAX, ..)` do not panic; such a sleep never
/// fires, and it does not keep a loop with nothing else to do waiting: that is a stall.
#[test]
fn duration_max_saturates_and_means_never() {
    let (quick, sleeper_done, stalled) = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        let (quick, sleeper_done) = lp
            .run_until_complete(async {
                let quick = timeout(Duration::MAX, async { 5 }).await;
                let sleeper = spawn(sleep(Duration::MAX)).await;
                let waited = timeout(Duration::MAX, sleep(ms(2))).await;
                assert_eq!(waited, Ok(()));
                let done = sleeper.is_finished();
                sleeper.cancel().await;
                (quick, done)
            })
            .expect("run");
        let stalled = lp.run_until_complete(sleep(Duration::MAX));
        (quick, sleeper_done, stalled)
    });
    assert_eq!(quick, Ok(5));
    assert!(!sleeper_done, "sleep(Duration::MAX) fired");
    assert!(
        matches!(stalled, Err(flowloop::RunError::Stalled { waiting: 1 })),
        "a root that sleeps for ever with nothing else to wake it is a stall: {stalled:?}"
    );
}

/// A deadline more than 2^64 ns away must not wrap around and fire early.
#[test]
fn sleep_past_two_to_the_64_nanoseconds_does_not_fire_early() {
    let fired = run_ok(|| async {
        let far = Instant::now() + Duration::from_nanos(u64::MAX) + ms(20);
        let sleeper = spawn(sleep_until(far)).await;
        sleep(ms(200)).await;
        let fired = sleeper.is_finished();
        sleeper.cancel().await;
        fired
    });
    assert!(!fired, "a sleep 584 years away fired after 200 ms");
}

/// A timer whose wait ends early (the timed-out future finished first, or its task was
/// cancelled) leaves the wheel at once instead of lingering until its deadline.
#[test]
fn finished_timeouts_and_cancelled_sleeps_free_their_wheel_entries() {
    const N: usize = 100_000;
    let (done, stats) = with_watchdog(|| {
        let mut lp = EventLoop::new().expect("loop");
        let done = lp
            .run_until_complete(async {
                let q = AsyncQueue::new();
                let mut done = 0;
                for i in 0..N {
                    // The get parks (so the timer is set), then the item arrives at once.
                    let feeder = {
                        let q = q.clone();
                        spawn(async move { q.put(i).await.expect("open queue") }).await
                    };
                    if timeout(Duration::from_secs(60), q.get()).await.is_ok() {
                        done += 1;
                    }
                    feeder.join().await.expect("feeder");
                }
                let sleepers: Vec<_> = {
                    let mut v = Vec::new();
                    for _ in 0..1000 {
                        v.push(spawn(sleep(Duration::from_secs(60))).await);
                    }
                    v
                };
                yield_now().await;
                for s in &sleepers {
                    s.cancel().await;
                }
                done
            })
            .expect("run");
        (done, lp.stats())
    });
    assert_eq!(done, N);
    assert_eq!(stats.timer_entries, 0, "cancelled timers still held in the wheel");
    assert!(stats.commands_of(CommandKind::Sleep) >= 1000);
}
