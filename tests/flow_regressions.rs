//! Repros of flow bugs found from outside (issue 7, "Flow semantics" and "Panics"); each test
//! names the bug it guards against and goes through the public API only.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{run_stalled_flow, with_watchdog};
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
    assert_eq!(
        b_saw,
        ["0", "1"],
        "the sibling keeps every chunk emitted before the cancel"
    );
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
    assert!(
        failures[0].contains("`b1`") && failures[0].contains("`c1`"),
        "{failures:?}"
    );
    assert!(
        failures[1].contains("`b2`") && failures[1].contains("`c2`"),
        "{failures:?}"
    );
}

/// Bug: a cycle the graph alone proves can never start (no member has defaults on its inputs
/// from inside the cycle) was only found when the flow ran. `build()` now lists every such
/// cycle, each with its members and the inputs that need a default.
#[test]
fn build_reports_every_cycle_that_can_never_start() {
    let mut b = FlowBuilder::new();
    let (fx, fy, fs) = (b.forward::<i64>("x"), b.forward::<i64>("y"), b.forward::<i64>("s"));
    let x = b.node(inc, (fy,));
    let y = b.node(id, (x,));
    let s = b.node(inc, (fs,)); // a self-loop without default
    let ok = b.node(inc, (x.or(0),)); // outside the cycles: fine
    b.define(fx, x);
    b.define(fy, y);
    b.define(fs, s);
    let _ = (fx, ok);
    let err = b.build().unwrap_err();
    match &err {
        flowloop::flow::BuildError::MissingDefault { cycles } => {
            let names: Vec<Vec<&str>> = cycles
                .iter()
                .map(|c| c.iter().map(|m| m.name.as_str()).collect())
                .collect();
            assert_eq!(names, [vec!["inc#0", "id#1"], vec!["inc#2"]]);
            assert_eq!(cycles[1][0].inputs, ["#0"]);
        }
        other => panic!("expected the cycles, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("`inc#0` (inputs #0), `id#1` (inputs #0)") && msg.contains("`inc#2`"),
        "{msg}"
    );
}

/// Bug: a streaming producer that panicked mid-stream made every re-run return
/// `Ok(Completed)` while its generation went backwards (its chunks restarted at `(0, 0)`) and
/// its stream consumer never finished. Now the retried body goes on counting chunks in the same
/// run, so the generation only grows, and the consumer reads on and finishes.
#[test]
fn generations_never_go_backwards_after_a_panicking_producer() {
    let (first, gen_after_panic, second, gen_after_rerun, total) = with_watchdog(|| {
        let runs = Rc::new(RefCell::new(0));
        let mut b = FlowBuilder::new();
        let r = runs.clone();
        let src = b.stream(
            move |out: Emitter<i64>| {
                let r = r.clone();
                async move {
                    *r.borrow_mut() += 1;
                    let first_run = *r.borrow() == 1;
                    for i in 0..3 {
                        if first_run && i == 2 {
                            panic!("producer broke");
                        }
                        if out.emit(i).await.is_err() {
                            break;
                        }
                    }
                    3i64
                }
            },
            (),
        );
        let sum = b.node(
            |mut s: Stream<i64>| async move {
                let mut t = 0;
                while let Some(x) = s.next().await {
                    t += x;
                }
                t
            },
            (src.stream(),),
        );
        let mut flow = b.build().unwrap();
        let first = flow.run_until_complete(RunOptions::new()).map_err(|e| e.to_string());
        let gen_after_panic = flow.generation(src);
        let second = flow
            .run_until_complete(RunOptions::new())
            .map(|o| o.to_string())
            .map_err(|e| e.to_string());
        (first, gen_after_panic, second, flow.generation(src), flow.value(sum))
    });
    assert!(first.is_err_and(|e| e.contains("producer broke")));
    assert_eq!(gen_after_panic, Some(Generation::from((0, 1))));
    assert_eq!(second, Ok("completed".to_string()));
    assert!(gen_after_rerun > gen_after_panic, "{gen_after_rerun:?}");
    assert_eq!(gen_after_rerun, Some(Generation::from((0,))));
    // The consumer took 0 and 1 before the panic, then the retried body's 0, 1, 2 (published
    // as chunks (0,2), (0,3), (0,4)).
    assert_eq!(total, Some(4));
}

/// Bug: re-running with a limit that was already reached ran the flow on (a cycle went past
/// the limit). Now the run returns `LimitReached` at once, without running a body.
#[test]
fn rerun_with_a_reached_limit_returns_at_once() {
    let (second, runs_before, runs_after, value) = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let back = b.forward::<i64>("i");
        let i = b.node(inc, (back.or(0),));
        b.define(back, i);
        let mut flow = b.build().unwrap();
        flow.run_until_complete(RunOptions::new().limit(i, (2,))).unwrap();
        let runs_before = flow.stats(i).runs;
        let second = flow.run_until_complete(RunOptions::new().limit(i, (1,))).unwrap();
        (second.to_string(), runs_before, flow.stats(i).runs, flow.value(i))
    });
    assert_eq!(second, "limit reached: inc#0 at generation (2,)");
    assert_eq!(runs_after, runs_before, "no body ran");
    assert_eq!(value, Some(3));
}

/// Bug: `Completed` hid a consumer that stopped early: its producer, still inside `emit`, was
/// not mentioned anywhere. The outcome now lists it.
#[test]
fn completed_lists_a_producer_left_by_a_consumer_that_stopped_early() {
    let outcome = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let src = b.stream(three_from, (0,));
        b.node(
            |mut s: Stream<i64>| async move {
                let first = s.next().await;
                drop(s); // stops reading without cancelling
                first
            },
            (src.stream(),),
        );
        let mut flow = b.build().unwrap();
        let outcome = flow.run_until_complete(RunOptions::new()).unwrap();
        (
            outcome.is_completed(),
            outcome.suspended().to_vec(),
            outcome.to_string(),
        )
    });
    assert!(outcome.0);
    assert_eq!(outcome.1.len(), 1, "{:?}", outcome.1);
    assert_eq!(outcome.1[0].name, "three_from#0");
    assert_eq!(
        outcome.2,
        "completed; left suspended: `three_from#0` emitted (0,0) and waits to be pulled"
    );
}

/// Bug: when a node waited for something that could never happen, the run failed with the
/// loop's anonymous "stalled: 1 task(s) wait" error. The flow error names the waiting nodes.
#[test]
fn a_stall_names_the_waiting_nodes() {
    let err = with_watchdog(run_stalled_flow);
    match &err {
        FlowError::Stalled { nodes } => assert_eq!(nodes, &["waits_forever"]),
        other => panic!("expected a stall, got {other:?}"),
    }
    assert!(err.to_string().contains("`waits_forever`"), "{err}");
}

async fn total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        t += x;
    }
    t
}

async fn upto(out: Emitter<i64>, n: i64) -> i64 {
    for i in 0..n {
        if out.emit(i).await.is_err() {
            break;
        }
    }
    n
}

/// Gap: a stream input could not take a default, so a cycle through a stream edge could not
/// be broken. Now `or_empty()` / `or_chunks(..)` give one, on outputs and forward references.
#[test]
fn stream_inputs_take_defaults_to_break_a_cycle() {
    let (empty, given) = with_watchdog(|| {
        let mut results = Vec::new();
        for chunks in [vec![], vec![10, 20]] {
            let mut b = FlowBuilder::new();
            let fs = b.forward("s");
            let t = b.node(total, (fs.or_chunks(chunks),));
            let n = b.node(|t: i64| async move { t % 5 + 2 }, (t,));
            let s = b.stream(upto, (n,));
            b.define(fs, s.stream());
            let mut flow = b.build().unwrap();
            flow.run_until_complete(RunOptions::new().limit(t, (1,))).unwrap();
            results.push((flow.value(t), flow.generation(s)));
        }
        (results[0], results[1])
    });
    // Lap 0 takes the default: empty → 0, then upto(0 % 5 + 2 = 2) → 0 + 1.
    assert_eq!(empty, (Some(1), Some(Generation::from((0,)))));
    // Lap 0 with chunks 10, 20 → 30, then upto(30 % 5 + 2 = 2) → 1 (a different lap 0, the
    // same lap 1).
    assert_eq!(given, (Some(1), Some(Generation::from((0,)))));
}

/// An unconnected stream input with a default takes its chunks on every run.
#[test]
fn an_unconnected_stream_input_takes_its_default_chunks() {
    let value = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let t = b.node(total, (flowloop::flow::unconnected_stream([1, 2, 3]),));
        let mut flow = b.build().unwrap();
        flow.run_until_complete(RunOptions::new()).unwrap();
        flow.value(t)
    });
    assert_eq!(value, Some(6));
}

/// Gap: after a run only a streaming node's final value was readable, not its latest chunk,
/// and a stateful node's state could not be read at all.
#[test]
fn latest_chunk_and_state_are_readable_after_a_run() {
    struct Acc {
        total: f64,
        count: u32,
    }
    impl Acc {
        async fn run(&mut self, mut s: Stream<f64>) -> f64 {
            while let Some(x) = s.next().await {
                self.total += x;
                self.count += 1;
            }
            self.total
        }
    }
    let (chunk, state, value) = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let src = b.stream(
            |out: Emitter<f64>| async move {
                for x in [1.0, 2.0, 3.0] {
                    let _ = out.emit(x).await;
                }
                "done"
            },
            (),
        );
        let acc = b.stateful(Acc { total: 0.0, count: 0 }, Acc::run, (src.stream(),));
        let mut flow = b.build().unwrap();
        flow.run_until_complete(RunOptions::new()).unwrap();
        let state = flow.with_state(acc, |a: &Acc| (a.total, a.count));
        let wrong_type = flow.with_state(acc, |_: &String| ());
        assert!(wrong_type.is_none(), "another state type reads nothing");
        (flow.latest_chunk(src), state, flow.value(src))
    });
    assert_eq!(chunk, Some(3.0));
    assert_eq!(state, Some((6.0, 3)));
    assert_eq!(value, Some("done"));
}

/// Gap: a body could not learn which node it is (name, generation) nor read a per-run value
/// supplied by the caller (Flowno's `context_factory`).
#[test]
fn a_body_sees_its_node_and_the_callers_context() {
    use flowloop::flow::{NodeInfo, context, current_node};
    let (seen, outside) = with_watchdog(|| {
        let seen = log();
        let mut b = FlowBuilder::new();
        let back = b.forward::<i64>("i");
        let l = seen.clone();
        let i = b.node(
            move |x: i64| {
                let l = l.clone();
                async move {
                    let me = current_node().expect("inside a body");
                    let tag = context::<String>().expect("a context per node");
                    push(
                        &l,
                        format!("{} gen={:?} run={} ctx={tag}", me.name, me.generation, me.run),
                    );
                    x + 1
                }
            },
            (back.or(0),),
        );
        b.set_name(i, "counter");
        b.define(back, i);
        let mut flow = b.build().unwrap();
        let options = RunOptions::new()
            .limit(i, (1,))
            .context_factory(|node: &NodeInfo| format!("for {}", node.name));
        flow.run_until_complete(options).unwrap();
        // A plain shared value on the next run; a wrong type reads nothing.
        let l = seen.clone();
        let mut b = FlowBuilder::new();
        b.node(
            move || {
                let l = l.clone();
                async move {
                    push(&l, format!("{:?} {:?}", context::<u32>(), context::<&str>().is_none()));
                }
            },
            (),
        );
        b.build()
            .unwrap()
            .run_until_complete(RunOptions::new().context(7u32))
            .unwrap();
        (seen.take(), current_node())
    });
    assert_eq!(
        seen,
        [
            "counter gen=None run=0 ctx=for counter",
            "counter gen=Some(Generation { run: 0, chunk: None }) run=1 ctx=for counter",
            "Some(7) true",
        ]
    );
    assert!(outside.is_none(), "no node outside a body");
}

/// Panics in its `Drop` (what a careless guard inside a node body does).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("guard dropped badly");
    }
}

/// Bug: a node body whose `Drop` panicked while the run was torn down after another node had
/// failed lost the first error, and the flow answered `AlreadyRunning` for ever. Now both
/// errors are reported and the flow runs again.
#[test]
fn a_panicking_drop_during_teardown_keeps_both_errors_and_the_flow() {
    let (first, second) = with_watchdog(|| {
        let armed = Rc::new(std::cell::Cell::new(true));
        let mut b = FlowBuilder::new();
        let a = armed.clone();
        let waiter = b.node(
            move |x: i64| {
                let armed = a.clone();
                async move {
                    let guard = armed.get().then(|| PanicOnDrop);
                    flowloop::sleep(std::time::Duration::from_millis(200)).await;
                    std::mem::forget(guard);
                    x
                }
            },
            (1,),
        );
        let a = armed.clone();
        let fail = b.try_node(
            move |x: i64| {
                let armed = a.clone();
                async move {
                    flowloop::sleep(std::time::Duration::from_millis(1)).await;
                    if armed.get() { Err("first failure") } else { Ok(x) }
                }
            },
            (2,),
        );
        b.set_name(waiter, "waiter");
        b.set_name(fail, "fail");
        let mut flow = b.build().unwrap();
        let first = match flow.run_until_complete(RunOptions::new()) {
            Err(FlowError::Failed(f)) => f.iter().map(ToString::to_string).collect::<Vec<_>>(),
            other => panic!("expected failures, got {other:?}"),
        };
        armed.set(false);
        let second = flow.run_until_complete(RunOptions::new()).map(|o| o.to_string());
        (first, second.map_err(|e| e.to_string()))
    });
    assert_eq!(
        first,
        [
            "node `fail` failed: first failure",
            "node `waiter` failed: panicked while its body was dropped: guard dropped badly"
        ]
    );
    assert_eq!(second, Ok("completed".to_string()));
}

/// `FlowError` and the other public flow errors can cross threads and convert with `?` into
/// `Box<dyn Error + Send + Sync>` (and so into `anyhow::Error`).
#[test]
fn flow_errors_are_send_sync_and_static() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<FlowError>();
    assert_send_sync::<flowloop::flow::BuildError>();
    assert_send_sync::<flowloop::flow::Failure>();
    assert_send_sync::<flowloop::flow::NodeFault>();
    assert_send_sync::<flowloop::flow::StreamCancelled>();
    assert_send_sync::<flowloop::flow::BoxError>();

    fn run_it() -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
        let mut b = FlowBuilder::new();
        let n = b.try_node(|| async { Err::<i64, _>("nope") }, ());
        let mut flow = b.build()?;
        flow.run_until_complete(RunOptions::new())?;
        Ok(flow.value(n).unwrap_or(0))
    }
    let err = std::thread::spawn(run_it).join().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "node `closure#0` failed: nope");
}
