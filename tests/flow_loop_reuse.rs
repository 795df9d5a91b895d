//! `Flow::run_until_complete` keeps its loop for the next call on the same thread: runs after
//! the first reuse it, and a run that stalled does not leave its waiting tasks to the next one.

mod common;

use std::time::Duration;

use common::{run_stalled_flow, with_watchdog};
use flowloop::flow::{FlowBuilder, FlowError, Generation, RunOptions};
use flowloop::{sleep, spawn};

async fn inc(x: i64) -> i64 {
    x + 1
}

fn chain(len: usize) -> (flowloop::flow::Flow, flowloop::flow::Node<i64>) {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 1..len {
        last = b.node(inc, (last,));
    }
    (b.build().expect("chain builds"), last)
}

#[test]
fn repeated_runs_of_two_flows_run_every_node_again() {
    let (gen_a, gen_b, a, b) = with_watchdog(|| {
        let (mut fa, la) = chain(10);
        let (mut fb, lb) = chain(3);
        for _ in 0..200 {
            fa.run_until_complete(RunOptions::new()).expect("chain a runs");
            fb.run_until_complete(RunOptions::new()).expect("chain b runs");
        }
        (fa.generation(la), fb.generation(lb), fa.value(la), fb.value(lb))
    });
    assert_eq!(gen_a, Some(Generation::from((199,))));
    assert_eq!(gen_b, Some(Generation::from((199,))));
    assert_eq!((a, b), (Some(10), Some(3)));
}

#[test]
fn timers_and_spawned_tasks_work_on_a_reused_loop() {
    let values = with_watchdog(|| {
        let mut b = FlowBuilder::new();
        let n = b.node(
            |x: i64| async move {
                sleep(Duration::from_millis(1)).await;
                let child = spawn(async move { x * 2 }).await;
                child.join().await.expect("child finishes")
            },
            (21,),
        );
        let mut flow = b.build().expect("builds");
        (0..5)
            .map(|_| {
                flow.run_until_complete(RunOptions::new()).expect("runs");
                flow.value(n)
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(values, vec![Some(42); 5]);
}

#[test]
fn a_stalled_run_leaves_nothing_behind_for_the_next_run() {
    let (first, ok, second) = with_watchdog(|| {
        let first = run_stalled_flow();
        let (mut flow, last) = chain(4);
        let ok = flow.run_until_complete(RunOptions::new()).map(|_| flow.value(last));
        (first, ok, run_stalled_flow())
    });
    for err in [&first, &second] {
        match err {
            FlowError::Stalled { nodes } => assert_eq!(nodes, &["waits_forever"]),
            other => panic!("expected a stall, got {other:?}"),
        }
    }
    assert_eq!(ok.expect("the next run completes"), Some(4));
}
