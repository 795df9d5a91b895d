//! Pins the observable behaviour behind the scheduler's shortcuts (issue 14): cached staleness
//! updated per publication (cycles, stitches, defaults, diamonds), and stream hand-offs that
//! step the consumer (or the pulled producer) at once when it is the only ready node. Each
//! test checks generations, values, run counts or the order of events, so that a shortcut
//! that skips or reorders a step fails here.

use std::cell::RefCell;
use std::rc::Rc;

use flowloop::flow::{Emitter, FlowBuilder, FlowError, Generation, Outcome, RunOptions, Stream};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
}

async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// `a = inc(b or default)`, `b = id(a)`.
fn two_cycle(
    default: i64,
) -> (
    flowloop::flow::Flow,
    flowloop::flow::Node<i64>,
    flowloop::flow::Node<i64>,
) {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(default),));
    let bn = b.node(id, (a,));
    b.define(fb, bn);
    (b.build().unwrap(), a, bn)
}

#[test]
fn cycle_takes_its_default_once_then_counts_laps() {
    for laps in [1u64, 2, 3, 57, 1000] {
        let (mut flow, a, bn) = two_cycle(100);
        let out = flow
            .run_until_complete(RunOptions::new().limit(bn, (laps - 1,)))
            .unwrap();
        match out {
            Outcome::LimitReached { node, generation, .. } => {
                assert_eq!(node, bn.id());
                assert_eq!(generation, Generation::from((laps - 1,)));
            }
            other => panic!("unexpected outcome {other:?}"),
        }
        // The default (100) feeds only the first lap; every later lap reads b's value.
        assert_eq!(flow.value(bn), Some(100 + laps as i64), "laps {laps}");
        assert_eq!(flow.value(a), Some(100 + laps as i64));
        assert_eq!(flow.generation(a), Some(Generation::from((laps - 1,))));
        assert_eq!(flow.generation(bn), Some(Generation::from((laps - 1,))));
        assert_eq!(flow.stats(a).runs, laps);
        assert_eq!(flow.stats(bn).runs, laps);
    }
}

#[test]
fn cycle_continues_across_runs_without_taking_the_default_again() {
    let (mut flow, a, bn) = two_cycle(0);
    flow.run_until_complete(RunOptions::new().limit(bn, (9,))).unwrap();
    assert_eq!(flow.value(bn), Some(10));
    // The next run goes on from b's latest value: the stitch taken on the first lap stays.
    flow.run_until_complete(RunOptions::new().limit(bn, (24,))).unwrap();
    assert_eq!(flow.value(bn), Some(25));
    assert_eq!(flow.generation(a), Some(Generation::from((24,))));
    assert_eq!(flow.stats(a).runs, 25);
    // A limit already reached runs nothing.
    flow.run_until_complete(RunOptions::new().limit(bn, (3,))).unwrap();
    assert_eq!(flow.value(bn), Some(25));
    assert_eq!(flow.stats(bn).runs, 25);
}

#[test]
fn limit_on_the_defaulted_node_stops_before_its_reader_runs_again() {
    let (mut flow, a, bn) = two_cycle(5);
    let out = flow.run_until_complete(RunOptions::new().limit(a, (3,))).unwrap();
    assert!(matches!(out, Outcome::LimitReached { node, .. } if node == a.id()));
    assert_eq!(flow.value(a), Some(9));
    assert_eq!(flow.generation(a), Some(Generation::from((3,))));
    // b read a's (2,) value and published (2,); a's (3,) is not read in this run.
    assert_eq!(flow.generation(bn), Some(Generation::from((2,))));
    assert_eq!(flow.value(bn), Some(8));
    // The next run lets b catch up first, then the cycle goes on.
    flow.run_until_complete(RunOptions::new().limit(bn, (5,))).unwrap();
    assert_eq!(flow.value(bn), Some(11));
    assert_eq!(flow.generation(a), Some(Generation::from((5,))));
}

/// A three-node cycle where two ports have defaults: which one breaks the cycle depends on
/// where the first walk enters it, and the other default is never used.
#[test]
fn three_cycle_breaks_at_one_default_and_keeps_it() {
    let seen = log();
    let mut b = FlowBuilder::new();
    let fz = b.forward::<i64>("z");
    let s1 = seen.clone();
    let x = b.node(
        move |v: i64| {
            s1.borrow_mut().push(format!("x{v}"));
            async move { v + 1 }
        },
        (fz.or(1000),),
    );
    let fx = b.forward::<i64>("x");
    let s2 = seen.clone();
    let y = b.node(
        move |v: i64| {
            s2.borrow_mut().push(format!("y{v}"));
            async move { v * 2 }
        },
        (fx.or(-7),),
    );
    let z = b.node(id, (y,));
    b.define(fz, z);
    b.define(fx, x);
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new().limit(z, (3,))).unwrap();
    let got = seen.take();
    // x is created first, so the walk starts there and x takes its default; y never does.
    assert_eq!(got[0], "x1000");
    assert!(!got.iter().any(|s| s == "y-7"), "{got:?}");
    let mut v = 1000;
    let mut want = Vec::new();
    for _ in 0..4 {
        want.push(format!("x{v}"));
        want.push(format!("y{}", v + 1));
        v = (v + 1) * 2;
    }
    assert_eq!(got, want);
    assert_eq!(flow.value(z), Some(v));
    assert_eq!(flow.generation(x), Some(Generation::from((3,))));
    assert_eq!(flow.generation(y), Some(Generation::from((3,))));
}

/// Source → `width` `inc` nodes → a chain of adders, fed back into the source.
fn diamond(width: usize, gens: u64) -> (flowloop::flow::Flow, Vec<flowloop::flow::NodeId>, i64) {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let src = b.node(|x: i64| async move { x % 1000 }, (back.or(1),));
    let mids: Vec<_> = (0..width).map(|_| b.node(inc, (src,))).collect();
    let mut acc = mids[0];
    let mut ids = vec![src.id()];
    ids.extend(mids.iter().map(|m| m.id()));
    for m in &mids[1..] {
        acc = b.node(add, (acc, *m));
        ids.push(acc.id());
    }
    b.define(back, acc);
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new().limit(acc, (gens - 1,)))
        .unwrap();
    let value = flow.value(acc).unwrap();
    (flow, ids, value)
}

#[test]
fn diamond_every_node_reaches_the_same_generation_with_the_model_value() {
    for (width, gens) in [(2usize, 1u64), (3, 4), (10, 7), (100, 5)] {
        let (flow, ids, value) = diamond(width, gens);
        let mut x = 1i64;
        for _ in 0..gens {
            x = width as i64 * (x % 1000 + 1);
        }
        assert_eq!(value, x, "width {width} gens {gens}");
        for &n in &ids {
            assert_eq!(
                flow.generation(n),
                Some(Generation::from((gens - 1,))),
                "{}",
                flow.name(n)
            );
            assert_eq!(flow.stats(n).runs, gens, "{}", flow.name(n));
        }
    }
}

/// A producer, two stream consumers (the second cancels after two chunks) and a plain
/// consumer of the final value; every step is logged.
fn siblings(chunks: i64, cancel_after: usize) -> (Vec<String>, Option<i64>, Option<i64>, Option<String>) {
    let l = log();
    let mut b = FlowBuilder::new();
    let lp = l.clone();
    let src = b.stream(
        move |out: Emitter<i64>| {
            let l = lp.clone();
            async move {
                let mut sent = 0;
                for i in 0..chunks {
                    l.borrow_mut().push(format!("emit {i}"));
                    if out.emit(i).await.is_err() {
                        l.borrow_mut().push("cancelled".into());
                        break;
                    }
                    sent += 1;
                }
                sent
            }
        },
        (),
    );
    let l1 = l.clone();
    let c1 = b.node(
        move |mut s: Stream<i64>| {
            let l = l1.clone();
            async move {
                let mut total = 0;
                while let Some(x) = s.next().await {
                    l.borrow_mut().push(format!("c1 {x}"));
                    total += x;
                }
                l.borrow_mut().push("c1 end".into());
                total
            }
        },
        (src.stream(),),
    );
    let l2 = l.clone();
    b.node(
        move |mut s: Stream<i64>| {
            let l = l2.clone();
            async move {
                let mut got = 0;
                while let Some(x) = s.next().await {
                    l.borrow_mut().push(format!("c2 {x}"));
                    got += 1;
                    if got == cancel_after {
                        s.cancel().await;
                        l.borrow_mut().push("c2 cancel".into());
                    }
                }
                l.borrow_mut().push("c2 end".into());
            }
        },
        (src.stream(),),
    );
    let l3 = l.clone();
    let plain = b.node(
        move |n: i64| {
            l3.borrow_mut().push(format!("plain {n}"));
            async move { format!("got {n}") }
        },
        (src,),
    );
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    (l.take(), flow.value(c1), flow.value(src), flow.value(plain))
}

#[test]
fn stream_siblings_take_every_chunk_in_lockstep() {
    let (log, c1, src, plain) = siblings(3, usize::MAX);
    assert_eq!(
        log,
        [
            "emit 0", "c1 0", "c2 0", "emit 1", "c1 1", "c2 1", "emit 2", "c1 2", "c2 2", "c1 end", "c2 end", "plain 3"
        ]
    );
    assert_eq!(c1, Some(3));
    assert_eq!(src, Some(3));
    assert_eq!(plain.as_deref(), Some("got 3"));
}

#[test]
fn a_cancelling_sibling_leaves_the_other_every_chunk_emitted_before() {
    let (log, c1, src, plain) = siblings(6, 2);
    assert_eq!(
        log,
        [
            "emit 0",
            "c1 0",
            "c2 0",
            "emit 1",
            "c1 1",
            "c2 1",
            "c2 cancel",
            "c2 end",
            "cancelled",
            "c1 end",
            "plain 1"
        ]
    );
    // c1 got chunks 0 and 1 (the one c2 cancelled on); the producer's second emit failed.
    assert_eq!(c1, Some(1));
    assert_eq!(src, Some(1));
    assert_eq!(plain.as_deref(), Some("got 1"));
}

#[test]
fn producer_error_mid_stream_fails_the_run_after_the_chunks_taken() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut b = FlowBuilder::new();
    let src = b.try_stream(
        |out: Emitter<i64>| async move {
            for i in 0..3 {
                let _ = out.emit(i).await;
            }
            Err::<i64, _>("broken after three".to_string())
        },
        (),
    );
    let s = seen.clone();
    let consumer = b.node(
        move |mut st: Stream<i64>| {
            let seen = s.clone();
            async move {
                while let Some(x) = st.next().await {
                    seen.borrow_mut().push(x);
                }
                seen.borrow_mut().push(-1);
            }
        },
        (src.stream(),),
    );
    let mut flow = b.build().unwrap();
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    match &err {
        FlowError::Failed(failures) => {
            assert_eq!(failures.len(), 1, "{err}");
            assert!(err.to_string().contains("broken after three"), "{err}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    // The consumer took every chunk and never saw an end.
    assert_eq!(*seen.borrow(), [0, 1, 2]);
    assert_eq!(flow.generation(src), Some(Generation::from((0, 2))));
    assert_eq!(flow.value(consumer), None);
}

#[test]
fn long_stream_hand_off_counts_every_chunk_once() {
    async fn numbers(out: Emitter<i64>, n: i64) -> i64 {
        for i in 0..n {
            if out.emit(i).await.is_err() {
                break;
            }
        }
        n
    }
    async fn sum(mut s: Stream<i64>) -> i64 {
        let mut total = 0;
        while let Some(x) = s.next().await {
            total += x;
        }
        total
    }
    let mut b = FlowBuilder::new();
    let src = b.stream(numbers, (5000,));
    let total = b.node(sum, (src.stream(),));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(total), Some(5000 * 4999 / 2));
    assert_eq!(flow.generation(src), Some(Generation::from((0,))));
    // A sub-generation limit stops the hand-off at that chunk.
    let mut b = FlowBuilder::new();
    let src = b.stream(numbers, (5000,));
    b.node(sum, (src.stream(),));
    let mut flow = b.build().unwrap();
    let out = flow
        .run_until_complete(RunOptions::new().limit(src, (0, 1234)))
        .unwrap();
    assert!(matches!(out, Outcome::LimitReached { generation, .. } if generation == Generation::from((0, 1234))));
    assert_eq!(flow.generation(src), Some(Generation::from((0, 1234))));
    assert_eq!(flow.latest_chunk(src), Some(1234));
}
