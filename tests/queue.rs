//! `AsyncQueue`, `AsyncSetQueue`, `until_empty` and `azip` (E4–E7), and closing with waiters.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::{Log, run_ok};
use flowloop::runtime::{TaskStatus, task_status};
use flowloop::sync::{AsyncIterator, AsyncQueue, AsyncSetQueue, Closed, TryGetError, TryPutError, azip};
use flowloop::{spawn, yield_now};

/// E4: capacity 2: put 1, 2; peek; get, get; put 3; close; put 4; get; get.
#[test]
fn e4_bounded_queue_sequence() {
    let log = run_ok(|| async {
        let q = AsyncQueue::bounded(2);
        let log = Log::new();
        q.put(1).await.unwrap();
        q.put(2).await.unwrap();
        log.push(format!("peek {}", q.peek().await.unwrap()));
        log.push(format!("get {}", q.get().await.unwrap()));
        log.push(format!("get {}", q.get().await.unwrap()));
        q.put(3).await.unwrap();
        q.close();
        match q.put(4).await {
            Err(Closed(item)) => log.push(format!("put {item} closed")),
            Ok(()) => log.push("put 4 accepted"),
        }
        log.push(format!("get {:?}", q.get().await));
        log.push(format!("get {:?}", q.get().await));
        log.joined()
    });
    assert_eq!(log, "peek 1 get 1 get 2 put 4 closed get Ok(3) get Err(Closed(..))");
}

/// E5: capacity 1; a producer puts 0, 1, 2 (logging before each put) and closes; a consumer
/// iterates, logging each item, then "done".
#[test]
fn e5_producer_consumer_lockstep() {
    let log = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        let log = Log::new();
        let (qp, lp) = (q.clone(), log.clone());
        let producer = spawn(async move {
            for i in 0..3 {
                lp.push(format!("put{i}"));
                qp.put(i).await.unwrap();
            }
            lp.push("close");
            qp.close();
        })
        .await;
        let (mut qc, lc) = (q.clone(), log.clone());
        let consumer = spawn(async move {
            while let Some(x) = qc.next().await {
                lc.push(format!("got{x}"));
            }
            lc.push("done");
        })
        .await;
        producer.join().await.unwrap();
        consumer.join().await.unwrap();
        log.joined()
    });
    assert_eq!(log, "put0 put1 got0 put2 got1 close got2 done");
}

/// E5 with the consumer started first: the same log.
#[test]
fn e5_consumer_first_gives_the_same_log() {
    let log = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        let log = Log::new();
        let (mut qc, lc) = (q.clone(), log.clone());
        let consumer = spawn(async move {
            while let Some(x) = qc.next().await {
                lc.push(format!("got{x}"));
            }
            lc.push("done");
        })
        .await;
        let (qp, lp) = (q.clone(), log.clone());
        let producer = spawn(async move {
            for i in 0..3 {
                lp.push(format!("put{i}"));
                qp.put(i).await.unwrap();
            }
            lp.push("close");
            qp.close();
        })
        .await;
        producer.join().await.unwrap();
        consumer.join().await.unwrap();
        log.joined()
    });
    assert_eq!(log, "put0 put1 got0 put2 got1 close got2 done");
}

/// E6: put 0, 1, 2 then iterate "until empty": all three, and the queue is closed afterwards.
#[test]
fn e6_until_empty_drains_and_closes() {
    let (items, closed, put_after) = run_ok(|| async {
        let q = AsyncQueue::new();
        for i in 0..3 {
            q.put(i).await.unwrap();
        }
        let items = q.until_empty().collect_vec().await;
        let put_after = q.put(9).await.is_err();
        (items, q.is_closed(), put_after)
    });
    assert_eq!(items, [0, 1, 2]);
    assert!(closed, "until_empty must close the queue when it stops");
    assert!(put_after);
}

/// An async iterator over `0..n` that counts how often it was asked for an item.
struct Counter {
    next: u32,
    end: u32,
    calls: Rc<Cell<u32>>,
}

impl AsyncIterator for Counter {
    type Item = u32;

    async fn next(&mut self) -> Option<u32> {
        self.calls.set(self.calls.get() + 1);
        yield_now().await;
        if self.next < self.end {
            self.next += 1;
            Some(self.next - 1)
        } else {
            None
        }
    }
}

fn counter(end: u32) -> (Counter, Rc<Cell<u32>>) {
    let calls = Rc::new(Cell::new(0));
    (
        Counter {
            next: 0,
            end,
            calls: calls.clone(),
        },
        calls,
    )
}

/// E7: azip of a 3-item and a 5-item async iterator stops at the shortest.
#[test]
fn e7_azip_stops_at_the_shortest() {
    let (pairs, calls_a, calls_b) = run_ok(|| async {
        let (a, ca) = counter(3);
        let (b, cb) = counter(5);
        let pairs = azip((a, b)).collect_vec().await;
        (pairs, ca.get(), cb.get())
    });
    assert_eq!(pairs, [(0, 0), (1, 1), (2, 2)]);
    assert_eq!(calls_a, 4, "the short iterator is asked once more and ends");
    assert_eq!(
        calls_b, 3,
        "the long iterator is not advanced after the short one ended"
    );
}

#[test]
fn azip_of_three_queues() {
    let triples = run_ok(|| async {
        let (a, b, c) = (AsyncQueue::new(), AsyncQueue::new(), AsyncQueue::new());
        for i in 0..4 {
            a.put(i).await.unwrap();
            b.put(i * 10).await.unwrap();
            c.put(format!("s{i}")).await.unwrap();
        }
        a.close();
        b.close();
        c.close();
        azip((a, b, c)).collect_vec().await
    });
    let want: Vec<_> = (0..4).map(|i| (i, i * 10, format!("s{i}"))).collect();
    assert_eq!(triples, want);
}

/// Closing a queue with waiters on both sides: a getter already handed an item (queued, not
/// yet run), a parked getter and a parked putter. Every waiter wakes; the put returns its item
/// in `Closed`, gets drain what is left and then fail.
#[test]
fn close_with_waiters_on_both_sides() {
    let (g1, g2, p, statuses, left) = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        let (q1, q2, q3) = (q.clone(), q.clone(), q.clone());
        let g1 = spawn(async move { q1.get().await }).await;
        let g2 = spawn(async move { q2.get().await }).await;
        // The producer's first put fills the queue and wakes g1; its second put parks.
        let p = spawn(async move {
            q3.put(1).await.unwrap();
            q3.put(2).await
        })
        .await;
        let statuses = [task_status(g1.id()), task_status(g2.id()), task_status(p.id())];
        q.close();
        let r = (g1.join().await, g2.join().await, p.join().await);
        (r.0, r.1, r.2, statuses, q.len())
    });
    use TaskStatus::*;
    assert_eq!(
        statuses,
        [Queued, Waiting, Waiting],
        "set-up: g1 woken, g2 and the putter parked"
    );
    assert_eq!(g1, Ok(Ok(1)), "the queued item is still drained after close");
    assert_eq!(g2, Ok(Err(Closed(()))));
    assert_eq!(p, Ok(Err(Closed(2))), "the parked put hands its item back");
    assert_eq!(left, 0);
}

#[test]
fn close_wakes_every_parked_putter_with_its_item() {
    let (results, drained) = run_ok(|| async {
        let q = AsyncQueue::bounded(1);
        q.put(0).await.unwrap();
        let mut hs = Vec::new();
        for i in 1..=3 {
            let q = q.clone();
            hs.push(spawn(async move { q.put(i).await }).await);
        }
        q.close();
        let mut results = Vec::new();
        for h in hs {
            results.push(h.join().await.unwrap());
        }
        let drained = (q.get().await, q.get().await);
        (results, drained)
    });
    assert_eq!(results, [Err(Closed(1)), Err(Closed(2)), Err(Closed(3))]);
    assert_eq!(drained, (Ok(0), Err(Closed(()))));
}

#[test]
fn close_wakes_every_parked_getter() {
    let results = run_ok(|| async {
        let q: AsyncQueue<u8> = AsyncQueue::new();
        let mut hs = Vec::new();
        for _ in 0..4 {
            let q = q.clone();
            hs.push(spawn(async move { q.get().await }).await);
        }
        let p = {
            let q = q.clone();
            spawn(async move { q.peek().await }).await
        };
        q.close();
        q.close();
        let mut results = Vec::new();
        for h in hs {
            results.push(h.join().await.unwrap());
        }
        results.push(p.join().await.unwrap());
        results
    });
    assert_eq!(results, vec![Err(Closed(())); 5]);
}

#[test]
fn gets_drain_a_closed_queue_then_fail() {
    let v = run_ok(|| async {
        let q = AsyncQueue::new();
        for i in 0..3 {
            q.put(i).await.unwrap();
        }
        q.close();
        let mut items = Vec::new();
        let mut rx = q.clone();
        while let Some(x) = rx.next().await {
            items.push(x);
        }
        (items, q.try_get(), q.try_put(5), q.get().await, q.peek().await)
    });
    assert_eq!(v.0, [0, 1, 2]);
    assert_eq!(v.1, Err(TryGetError::Closed));
    assert!(matches!(v.2, Err(TryPutError::Closed(5))));
    assert_eq!(v.3, Err(Closed(())));
    assert_eq!(v.4, Err(Closed(())));
}

#[test]
fn try_put_and_try_get_never_wait() {
    let v = run_ok(|| async {
        let q = AsyncQueue::bounded(2);
        let e0 = q.try_get();
        let a = q.try_put('a');
        let b = q.try_put('b');
        let c = q.try_put('c');
        let x = q.try_get();
        (
            e0,
            a.is_ok() && b.is_ok(),
            matches!(c, Err(TryPutError::Full('c'))),
            x,
            q.len(),
        )
    });
    assert_eq!(v, (Err(TryGetError::Empty), true, true, Ok('a'), 1));
}

#[test]
fn peek_does_not_consume_and_waits_for_an_item() {
    let v = run_ok(|| async {
        let q = AsyncQueue::new();
        let (q1, q2) = (q.clone(), q.clone());
        let peeker = spawn(async move { q1.peek().await }).await;
        let getter = spawn(async move { q2.get().await }).await;
        q.put("item").await.unwrap();
        (peeker.join().await, getter.join().await, q.len())
    });
    assert_eq!(
        v,
        (Ok(Ok("item")), Ok(Ok("item")), 0),
        "peek sees the item and the getter still gets it"
    );
}

#[test]
fn queue_reports_its_shape() {
    let v = run_ok(|| async {
        let b: AsyncQueue<u8> = AsyncQueue::bounded(3);
        let z: AsyncQueue<u8> = AsyncQueue::bounded(0);
        let u: AsyncQueue<u8> = AsyncQueue::new();
        b.put(1).await.unwrap();
        (
            b.capacity(),
            z.capacity(),
            u.capacity(),
            b.len(),
            b.is_empty(),
            u.is_empty(),
            b.is_closed(),
        )
    });
    assert_eq!(v, (Some(3), Some(1), None, 1, false, true, false));
}

#[test]
fn set_queue_ignores_duplicates() {
    let v = run_ok(|| async {
        let q: AsyncSetQueue<&str> = AsyncSetQueue::new_dedup();
        for x in ["a", "b", "a", "c", "b", "a"] {
            q.put(x).await.unwrap();
        }
        let len = q.len();
        let first = q.get().await.unwrap();
        // "a" left the queue, so it may be queued again.
        q.put("a").await.unwrap();
        q.try_put("c").unwrap();
        q.close();
        let rest = q.clone().collect_vec().await;
        (len, first, rest)
    });
    assert_eq!(v, (3, "a", vec!["b", "c", "a"]));
}

/// A duplicate put on a full bounded set queue does not wait: the item is already there.
#[test]
fn bounded_set_queue_duplicate_put_does_not_wait() {
    let v = run_ok(|| async {
        let q = AsyncSetQueue::bounded_dedup(1);
        q.put(5).await.unwrap();
        q.put(5).await.unwrap();
        let full = q.try_put(6);
        (q.len(), matches!(full, Err(TryPutError::Full(6))))
    });
    assert_eq!(v, (1, true));
}

/// Several producers and consumers on a small bounded queue: every item arrives exactly once,
/// each producer's items leave in the order they were put, and the bound is never exceeded.
#[test]
fn many_producers_and_consumers_on_a_bounded_queue() {
    const PRODUCERS: u32 = 4;
    const PER_PRODUCER: u32 = 500;
    const CAP: usize = 8;
    let (order, max_len) = run_ok(|| async {
        let q = AsyncQueue::bounded(CAP);
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let max_len = Rc::new(Cell::new(0usize));
        let mut producers = Vec::new();
        for p in 0..PRODUCERS {
            let (q, max_len) = (q.clone(), max_len.clone());
            producers.push(
                spawn(async move {
                    for i in 0..PER_PRODUCER {
                        q.put((p, i)).await.unwrap();
                        max_len.set(max_len.get().max(q.len()));
                    }
                })
                .await,
            );
        }
        let mut consumers = Vec::new();
        for _ in 0..3 {
            let (mut q, order) = (q.clone(), order.clone());
            consumers.push(
                spawn(async move {
                    while let Some(item) = q.next().await {
                        order.borrow_mut().push(item);
                    }
                })
                .await,
            );
        }
        for h in producers {
            h.join().await.unwrap();
        }
        q.close();
        for h in consumers {
            h.join().await.unwrap();
        }
        let order = order.borrow().clone();
        (order, max_len.get())
    });
    assert_eq!(order.len(), (PRODUCERS * PER_PRODUCER) as usize);
    for p in 0..PRODUCERS {
        let mine: Vec<u32> = order.iter().filter(|(q, _)| *q == p).map(|(_, i)| *i).collect();
        assert_eq!(
            mine,
            (0..PER_PRODUCER).collect::<Vec<_>>(),
            "producer {p}'s items out of order or lost"
        );
    }
    assert!(max_len <= CAP, "queue held {max_len} items, capacity {CAP}");
}

#[test]
fn unbounded_queue_carries_a_hundred_thousand_items() {
    let (sum, n) = run_ok(|| async {
        let q = AsyncQueue::new();
        let mut rx = q.clone();
        let consumer = spawn(async move {
            let (mut sum, mut n) = (0u64, 0u32);
            while let Some(x) = rx.next().await {
                sum += x;
                n += 1;
            }
            (sum, n)
        })
        .await;
        for i in 0..100_000u64 {
            q.put(i).await.unwrap();
        }
        q.close();
        consumer.join().await.unwrap()
    });
    assert_eq!((sum, n), (99_999 * 100_000 / 2, 100_000));
}

#[test]
fn closed_error_message() {
    assert_eq!(Closed(3).to_string(), "queue is closed");
    assert_eq!(TryGetError::Empty.to_string(), "queue is empty");
    assert_eq!(TryPutError::Full(1).to_string(), "queue is full");
}

/// A producer cannot run arbitrarily far ahead on an unbounded queue: every 128th put yields
/// once, so a consumer that is ready keeps the backlog small.
#[test]
fn unbounded_producer_yields_to_its_consumer() {
    let (sum, max_backlog) = run_ok(|| async {
        let q = AsyncQueue::new();
        let rx = q.clone();
        let consumer = spawn(async move {
            let (mut sum, mut max_backlog) = (0u64, 0usize);
            while let Ok(x) = rx.get().await {
                sum += x;
                max_backlog = max_backlog.max(rx.len());
            }
            (sum, max_backlog)
        })
        .await;
        for i in 0..10_000u64 {
            q.put(i).await.unwrap();
        }
        q.close();
        consumer.join().await.unwrap()
    });
    assert_eq!(sum, 10_000 * 9_999 / 2);
    assert!(max_backlog <= 256, "the consumer saw {max_backlog} items queued");
}
