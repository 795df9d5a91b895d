//! Basic flow behaviour: FLOW_SEMANTICS §7 cases 1, 2, 3, 13, 14, 15, 16, 31, plus re-runs,
//! stats and exports.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use flowloop::flow::{FlowBuilder, Generation, Outcome, RunOptions};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn case1_chain_declared_in_reverse() {
    let l = log();
    let mut b = FlowBuilder::new();
    let (lb, la) = (b.forward::<i64>("b"), b.forward::<i64>("a"));
    let l1 = l.clone();
    let inc = move |x: i64| {
        let l = l1.clone();
        async move {
            l.borrow_mut().push("Inc".into());
            x + 1
        }
    };
    let c = b.node(inc.clone(), (lb,));
    let bb = b.node(inc, (la,));
    let l2 = l.clone();
    let a = b.node(
        move || {
            let l = l2.clone();
            async move {
                l.borrow_mut().push("Src".into());
                1i64
            }
        },
        (),
    );
    b.define(lb, bb);
    b.define(la, a);
    let mut flow = b.build().unwrap();
    assert_eq!(
        flow.run_until_complete(RunOptions::new()).unwrap(),
        Outcome::Completed { suspended: vec![] }
    );
    assert_eq!(
        (flow.value(c), flow.value(bb), flow.value(a)),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(*l.borrow(), ["Src", "Inc", "Inc"]);
    assert_eq!(flow.generation(c), Some(Generation::from((0,))));
}

async fn add(x: i64, y: i64) -> i64 {
    x + y
}

async fn id(x: i64) -> i64 {
    x
}

async fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn case2_forward_reference_to_a_later_node() {
    let mut b = FlowBuilder::new();
    let fx = b.forward::<i64>("x");
    let y = b.node(add, (fx, 3));
    let x = b.node(add, (1, 2));
    b.define(fx, x);
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!((flow.value(y), flow.value(x)), (Some(6), Some(3)));
}

#[test]
fn case3_tuple_outputs_addressed_one_by_one() {
    async fn sum_diff(x: i64, y: i64) -> (i64, i64) {
        (x + y, x - y)
    }
    let mut b = FlowBuilder::new();
    let sd = b.node(sum_diff, (7, 3));
    let a = b.node(id, (sd.output::<1>(),));
    let bb = b.node(id, (sd.output::<0>(),));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(sd), Some((10, 4)));
    assert_eq!((flow.value(a), flow.value(bb)), (Some(4), Some(10)));
}

#[test]
fn case13_every_node_belongs_to_the_flow() {
    let l = log();
    let mut b = FlowBuilder::new();
    let mk = |name: &'static str, v: i64, l: &Log| {
        let l = l.clone();
        move || {
            let l = l.clone();
            async move {
                l.borrow_mut().push(name.into());
                v
            }
        }
    };
    b.node(mk("A", 1, &l), ());
    let bn = b.node(mk("B", 2, &l), ());
    let lp = l.clone();
    let p = b.node(
        move |x: i64| {
            let l = lp.clone();
            async move { l.borrow_mut().push(format!("P{x}")) }
        },
        (bn,),
    );
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    let got = l.borrow().clone();
    for want in ["A", "B", "P2"] {
        assert!(got.iter().any(|s| s == want), "{want} missing from {got:?}");
    }
    assert_eq!(flow.name(p), "closure#2");
}

#[test]
fn case14_a_node_that_never_ran() {
    let mut b = FlowBuilder::new();
    let x = b.node(inc, (1,));
    let flow = b.build().unwrap();
    assert_eq!(flow.value(x), None);
    assert_eq!(flow.generation(x), None);
}

async fn nap(x: i64) -> i64 {
    flowloop::sleep(Duration::from_millis(100)).await;
    x
}

#[test]
fn case15_disconnected_components_run_concurrently() {
    let mut b = FlowBuilder::new();
    let a = b.node(nap, (1,));
    let c = b.node(nap, (2,));
    let mut flow = b.build().unwrap();
    let t = Instant::now();
    flow.run_until_complete(RunOptions::new()).unwrap();
    let wall = t.elapsed();
    assert!(
        wall >= Duration::from_millis(100) && wall < Duration::from_millis(180),
        "{wall:?}"
    );
    assert_eq!((flow.value(a), flow.value(c)), (Some(1), Some(2)));
}

#[test]
fn case16_diamond_branches_run_concurrently() {
    async fn src() -> i64 {
        5
    }
    async fn join(a: i64, b: i64) -> i64 {
        a * 10 + b
    }
    let mut b = FlowBuilder::new();
    let s = b.node(src, ());
    let x = b.node(nap, (s,));
    let y = b.node(|v: i64| async move { nap(v + 1).await }, (s,));
    let j = b.node(join, (x, y));
    let mut flow = b.build().unwrap();
    let t = Instant::now();
    flow.run_until_complete(RunOptions::new()).unwrap();
    let wall = t.elapsed();
    assert!(
        wall >= Duration::from_millis(100) && wall < Duration::from_millis(180),
        "{wall:?}"
    );
    assert_eq!(flow.value(j), Some(56));
    assert_eq!(flow.stats(j).runs, 1);
}

fn inc_twice(b: &mut FlowBuilder, x: i64) -> flowloop::flow::Node<i64> {
    let once = b.node(inc, (x,));
    b.node(inc, (once,))
}

#[test]
fn case31_subgraph_helper() {
    let mut b = FlowBuilder::new();
    let r = inc_twice(&mut b, 1);
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(r), Some(3));
}

#[test]
fn rerun_continues_from_the_generations() {
    let mut b = FlowBuilder::new();
    let a = b.node(|| async { 1i64 }, ());
    let c = b.node(inc, (a,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.generation(c), Some(Generation::from((0,))));
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.generation(c), Some(Generation::from((1,))));
    assert_eq!(flow.generation(a), Some(Generation::from((1,))));
    assert_eq!(flow.stats(c).runs, 2);
    assert_eq!(flow.value(c), Some(2));
}

#[test]
fn stateful_node_keeps_its_state_across_runs() {
    struct Counter {
        seen: i64,
    }
    impl Counter {
        async fn run(&mut self, x: i64) -> i64 {
            self.seen += x;
            self.seen
        }
    }
    let mut b = FlowBuilder::new();
    let c = b.stateful(Counter { seen: 0 }, Counter::run, (10,));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(c), Some(20));
    assert_eq!(flow.name(c), "Counter#0");
}

#[test]
fn exports_name_nodes_and_inputs() {
    let mut b = FlowBuilder::new();
    let x = b.node(add, (1, 2));
    let y = b.node(inc, (x,));
    b.set_input_names(y, &["x"]);
    let flow = b.build().unwrap();
    let dot = flow.to_dot();
    assert!(
        dot.contains("n0 [label=\"add#0\"]") && dot.contains("n0 -> n1 [label=\"x\"]"),
        "{dot}"
    );
    let mermaid = flow.to_mermaid();
    assert!(
        mermaid.starts_with("flowchart LR") && mermaid.contains("n0 -->|\"x\"| n1"),
        "{mermaid}"
    );
}

#[test]
fn flow_runs_inside_a_loop_task() {
    let mut b = FlowBuilder::new();
    let x = b.node(nap, (7,));
    let mut flow = b.build().unwrap();
    let run = flow.run(RunOptions::new());
    let out = flowloop::run(run).unwrap().unwrap();
    assert!(out.is_completed());
    assert_eq!(flow.value(x), Some(7));
}
