//! Repros of flow bugs found from outside (issue 7, "Flow semantics" and "Panics"); each test
//! names the bug it guards against and goes through the public API only.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::with_watchdog;
use flowloop::flow::{Emitter, FlowBuilder, FlowError, Generation, RunOptions, Stream};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
}

/// Emits `x`, `x+1`, `x+2` (no stream consumer: each chunk waits to be pulled) and returns
/// `x + 10`.
async fn three_from(out: Emitter<i64>, x: i64) -> i64 {
    for i in 0..3 {
        if out.emit(x + i).await.is_err() {
            break;
        }
    }
    x + 10
}

/// Bug: a plain consumer inside a cycle whose producer is a streaming node stopped pulling once
/// it had run in the current run (the "already ran, nothing new" shortcut returned before its
/// stale inputs were walked), so the producer was left after the first chunk of its second
/// run and the run returned `Completed` early.
#[test]
fn plain_consumer_in_a_cycle_keeps_pulling_its_streaming_producer() {
    let (outcome, value, generation) = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let back = b.forward::<i64>("c");
        let s = b.stream(three_from, (back.or(0),));
        let c = b.node(inc, (s,));
        b.define(back, c);
        let mut flow = b.build().unwrap();
        let outcome = flow.run_until_complete(RunOptions::new().limit(c, (1,))).unwrap();
        (outcome.to_string(), flow.value(c), flow.generation(s))
    });
    // Lap 0: s(0) = 10, c = 11. Lap 1: s(11) = 21, c = 22.
    assert_eq!(outcome, "limit reached: inc#1 at generation (1,)");
    assert_eq!(value, Some(22));
    assert_eq!(generation, Some(Generation::from((1,))));
}

/// Bug: when one stream consumer cancelled while a sibling had not yet taken the current
/// chunk, the producer was resumed at once and the sibling lost that chunk.
#[test]
fn a_cancel_waits_until_siblings_took_the_current_chunk() {
    let (a_saw, b_saw, src) = with_watchdog(|| {
        let (a_saw, b_saw) = (log(), log());
        let mut b = FlowBuilder::new();
        let src = b.stream(
            |out: Emitter<i64>| async move {
                let mut sent = 0;
                for i in 0..5 {
                    if out.emit(i).await.is_err() {
                        break;
                    }
                    sent += 1;
                }
                sent
            },
            (),
        );
        let la = a_saw.clone();
        // The canceller is created first, so it takes each chunk before its sibling.
        b.node(
            move |mut s: Stream<i64>| {
                let l = la.clone();
                async move {
                    while let Some(x) = s.next().await {
                        push(&l, x.to_string());
                        if x == 1 {
                            s.cancel().await;
                        }
                    }
                }
            },
            (src.stream(),),
        );
        let lb = b_saw.clone();
        b.node(
            move |mut s: Stream<i64>| {
                let l = lb.clone();
                async move {
                    while let Some(x) = s.next().await {
                        push(&l, x.to_string());
                    }
                }
            },
            (src.stream(),),
        );
        let mut flow = b.build().unwrap();
        flow.run_until_complete(RunOptions::new()).unwrap();
        (a_saw.take(), b_saw.take(), flow.value(src))
    });
    assert_eq!(a_saw, ["0", "1"]);
    assert_eq!(b_saw, ["0", "1"], "the sibling keeps every chunk emitted before the cancel");
    assert_eq!(src, Some(1), "the producer saw the cancel at its next emit");
}

/// Bug: when several cycles without usable defaults fed one node, only the last one was
/// reported. `z` needs `b1` and `b2`; each sits in a cycle (`b1 <-> c1`, `b2 <-> c2`) that has
/// no default of its own once `a` (the breaker of the enclosing cycle) has run.
#[test]
fn every_cycle_without_defaults_is_reported() {
    let failures = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let (fa, fb1, fb2) = (b.forward::<i64>("a"), b.forward::<i64>("b1"), b.forward::<i64>("b2"));
        let (fc1, fc2) = (b.forward::<i64>("c1"), b.forward::<i64>("c2"));
        let z = b.node(|a: i64, x: i64, y: i64| async move { a + x + y }, (fa, fb1, fb2));
        let a = b.node(|x: i64, y: i64| async move { x + y }, (fc1.or(0), fc2.or(0)));
        let b1 = b.node(|a: i64, c: i64| async move { a + c }, (a, fc1));
        let c1 = b.node(id, (b1,));
        let b2 = b.node(|a: i64, c: i64| async move { a + c }, (a, fc2));
        let c2 = b.node(id, (b2,));
        for (n, name) in [(b1, "b1"), (c1, "c1"), (b2, "b2"), (c2, "c2"), (z, "z")] {
            b.set_name(n, name);
        }
        b.define(fa, a);
        b.define(fb1, b1);
        b.define(fb2, b2);
        b.define(fc1, c1);
        b.define(fc2, c2);
        let mut flow = b.build().unwrap();
        match flow.run_until_complete(RunOptions::new()) {
            Err(FlowError::Failed(f)) => f.iter().map(ToString::to_string).collect::<Vec<_>>(),
            other => panic!("expected missing defaults, got {other:?}"),
        }
    });
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].contains("`b1`") && failures[0].contains("`c1`"), "{failures:?}");
    assert!(failures[1].contains("`b2`") && failures[1].contains("`c2`"), "{failures:?}");
}
