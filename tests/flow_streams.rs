//! Streams: FLOW_SEMANTICS §7 cases 17, 18, 20, 21, 22, 23, 27, 28, 32; sub-generation limits;
//! determinism over 200 runs.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flowloop::flow::{Emitter, FlowBuilder, Generation, Outcome, RunOptions, Stream, Waiting};
use flowloop::sync::{AsyncIterator, azip};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

async fn words(out: Emitter<String>) -> String {
    let _ = out.emit("hello".into()).await;
    let _ = out.emit("world".into()).await;
    "helloworld".into()
}

#[test]
fn case17_plain_consumer_gets_the_final_value_once() {
    let mut b = FlowBuilder::new();
    let w = b.stream(words, ());
    let u = b.node(|s: String| async move { s.to_uppercase() }, (w,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(u).as_deref(), Some("HELLOWORLD"));
    assert_eq!(flow.stats(u).runs, 1);
    assert_eq!(flow.generation(w), Some(Generation::from((0,))));
}

async fn one_two_three(out: Emitter<i64>) -> i64 {
    let mut sum = out.fold(0, |acc, x| acc + x);
    for i in 1..=3 {
        if sum.emit(i).await.is_err() {
            break;
        }
    }
    sum.value()
}

#[test]
fn case18_final_value_folded_by_the_accumulator_helper() {
    let mut b = FlowBuilder::new();
    let s = b.stream(one_two_three, ());
    let i = b.node(|x: i64| async move { x }, (s,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(i), Some(6));
}

#[test]
fn case20_two_plain_consumers_get_the_final_value() {
    async fn partial(out: Emitter<String>) -> String {
        let _ = out.emit("partial".into()).await;
        "full".into()
    }
    let mut b = FlowBuilder::new();
    let s = b.stream(partial, ());
    let c1 = b.node(|x: String| async move { x }, (s,));
    let c2 = b.node(|x: String| async move { x }, (s,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(c1).as_deref(), Some("full"));
    assert_eq!(flow.value(c2).as_deref(), Some("full"));
}

#[test]
fn case21_producer_without_consumer_emits_one_chunk() {
    let emitted = log();
    let e = emitted.clone();
    let mut b = FlowBuilder::new();
    let s = b.stream(
        move |out: Emitter<i64>| {
            let e = e.clone();
            async move {
                for i in 0..5 {
                    push(&e, i.to_string());
                    if out.emit(i).await.is_err() {
                        break;
                    }
                }
                5i64
            }
        },
        (),
    );
    let mut flow = b.build().unwrap();
    let outcome = flow.run_until_complete(RunOptions::new()).unwrap();
    assert!(outcome.is_completed());
    // The unfinished producer is listed, so "completed" does not hide it (issue 7).
    match outcome.suspended() {
        [s0] => assert_eq!(
            s0.waiting,
            Waiting::Pull {
                generation: Generation::from((0, 0))
            }
        ),
        other => panic!("expected the producer to be listed, got {other:?}"),
    }
    assert_eq!(*emitted.borrow(), ["0"]);
    assert_eq!(flow.generation(s), Some(Generation::from((0, 0))));
    assert_eq!(flow.value(s), None);
}

fn case22() -> (Option<i64>, Vec<String>) {
    let l = log();
    let mut b = FlowBuilder::new();
    let ls = l.clone();
    let src = b.stream(
        move |out: Emitter<i64>| {
            let l = ls.clone();
            async move {
                push(&l, "src start");
                for i in 0..3 {
                    push(&l, format!("y{i}"));
                    let _ = out.emit(i).await;
                }
                push(&l, "src end");
                3i64
            }
        },
        (),
    );
    let lc = l.clone();
    let sum = b.node(
        move |mut s: Stream<i64>| {
            let l = lc.clone();
            async move {
                push(&l, "sum start");
                let mut total = 0;
                while let Some(x) = s.next().await {
                    push(&l, format!("got{x}"));
                    total += x;
                }
                push(&l, "sum end");
                total
            }
        },
        (src.stream(),),
    );
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    let v = flow.value(sum);
    (v, l.borrow().clone())
}

#[test]
fn case22_lockstep_hand_off_log() {
    let (sum, l) = case22();
    assert_eq!(sum, Some(3));
    assert_eq!(
        l,
        [
            "src start",
            "y0",
            "sum start",
            "got0",
            "y1",
            "got1",
            "y2",
            "got2",
            "src end",
            "sum end"
        ]
    );
}

async fn range(out: Emitter<i64>, a: i64, b: i64) -> i64 {
    for i in a..b {
        flowloop::sleep(Duration::from_millis(10)).await;
        if out.emit(i).await.is_err() {
            break;
        }
    }
    b - a
}

async fn add_pairs(out: Emitter<i64>, l: Stream<i64>, r: Stream<i64>) -> i64 {
    let mut pairs = azip((l, r));
    let mut n = 0;
    while let Some((x, y)) = pairs.next().await {
        n += 1;
        if out.emit(x + y).await.is_err() {
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

#[test]
fn case23_zip_two_streams_into_a_stream() {
    let mut b = FlowBuilder::new();
    let l = b.stream(range, (0, 3));
    let r = b.stream(range, (100, 103));
    let p = b.stream(add_pairs, (l.stream(), r.stream()));
    let s = b.node(sum, (p.stream(),));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(s), Some(306));
    assert_eq!(flow.value(p), Some(3));
}

fn case27() -> Vec<String> {
    let l = log();
    let mut b = FlowBuilder::new();
    let ls = l.clone();
    let src = b.stream(
        move |out: Emitter<&'static str>| {
            let l = ls.clone();
            async move {
                push(&l, "src start");
                let _ = out.emit("a").await;
                let _ = out.emit("b").await;
                push(&l, "src end");
                "ab"
            }
        },
        (),
    );
    for name in ["c1", "c2"] {
        let lc = l.clone();
        b.node(
            move |mut s: Stream<&'static str>| {
                let l = lc.clone();
                async move {
                    push(&l, format!("{name} start"));
                    while let Some(x) = s.next().await {
                        push(&l, format!("{name} {x}"));
                    }
                    push(&l, format!("{name} end"));
                }
            },
            (src.stream(),),
        );
    }
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    l.take()
}

#[test]
fn case27_two_stream_consumers_in_lockstep() {
    assert_eq!(
        case27(),
        [
            "src start",
            "c1 start",
            "c1 a",
            "c2 start",
            "c2 a",
            "c1 b",
            "c2 b",
            "src end",
            "c1 end",
            "c2 end"
        ]
    );
}

fn case28() -> (Vec<i64>, Vec<String>, Option<String>, Option<String>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let src_log = log();
    let mut b = FlowBuilder::new();
    let sl = src_log.clone();
    let src = b.stream(
        move |out: Emitter<i64>| {
            let l = sl.clone();
            async move {
                for i in 0..3 {
                    push(&l, format!("emit{i}"));
                    if out.emit(i).await.is_err() {
                        push(&l, "cancelled");
                        return "stopped".to_string();
                    }
                }
                "done".to_string()
            }
        },
        (),
    );
    let sc = seen.clone();
    let consumer = b.node(
        move |mut s: Stream<i64>| {
            let seen = sc.clone();
            async move {
                if let Some(x) = s.next().await {
                    seen.borrow_mut().push(x);
                }
                s.cancel().await;
                "c".to_string()
            }
        },
        (src.stream(),),
    );
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    let (a, l) = (seen.borrow().clone(), src_log.borrow().clone());
    (a, l, flow.value(consumer), flow.value(src))
}

#[test]
fn case28_consumer_cancels_the_stream() {
    let (seen, src_log, consumer, src) = case28();
    assert_eq!(seen, [0]);
    assert_eq!(src_log, ["emit0", "cancelled"]);
    assert_eq!(consumer.as_deref(), Some("c"));
    assert_eq!(src.as_deref(), Some("stopped"));
}

#[test]
fn case32_stateful_stream_consumer() {
    #[derive(Default)]
    struct Acc {
        total: f64,
        count: u64,
    }
    impl Acc {
        async fn run(&mut self, mut s: Stream<f64>) -> (f64, u64) {
            while let Some(x) = s.next().await {
                self.total += x;
                self.count += 1;
            }
            (self.total, self.count)
        }
    }
    async fn floats(out: Emitter<f64>) -> f64 {
        for x in [1.0, 2.0, 3.0] {
            let _ = out.emit(x).await;
        }
        6.0
    }
    let mut b = FlowBuilder::new();
    let src = b.stream(floats, ());
    let acc = b.stateful(Acc::default(), Acc::run, (src.stream(),));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(acc), Some((6.0, 3)));
    // State persists: the next run streams 1, 2, 3 again and the totals keep growing.
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(acc), Some((12.0, 6)));
}

#[test]
fn sub_generation_limit_stops_after_the_second_chunk() {
    let emitted = log();
    let e = emitted.clone();
    let mut b = FlowBuilder::new();
    let src = b.stream(
        move |out: Emitter<i64>| {
            let e = e.clone();
            async move {
                for i in 0..5 {
                    push(&e, i.to_string());
                    let _ = out.emit(i).await;
                }
                0i64
            }
        },
        (),
    );
    b.node(sum, (src.stream(),));
    let mut flow = b.build().unwrap();
    let out = flow.run_until_complete(RunOptions::new().limit(src, (0, 1))).unwrap();
    assert!(matches!(out, Outcome::LimitReached { generation, .. } if generation == Generation::from((0, 1))));
    assert_eq!(*emitted.borrow(), ["0", "1"]);
}

#[test]
fn stream_cases_are_deterministic_over_200_runs() {
    let (a, b, c) = (case22(), case27(), case28());
    for _ in 0..200 {
        assert_eq!(case22(), a);
        assert_eq!(case27(), b);
        assert_eq!(case28(), c);
    }
}

#[test]
fn restarted_stream_runs_again_for_a_new_consumer_run() {
    let mut b = FlowBuilder::new();
    let src = b.stream(one_two_three, ());
    let s = b.node(sum, (src.stream(),));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(s), Some(6));
    assert_eq!(flow.generation(src), Some(Generation::from((1,))));
    assert_eq!(flow.stats(s).runs, 2);
}
