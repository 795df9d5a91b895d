//! Cycles: FLOW_SEMANTICS §7 cases 6, 8, 34, long cycles with bounded memory, determinism.

use std::cell::RefCell;
use std::rc::Rc;

use flowloop::flow::{BuildError, FlowBuilder, Generation, Outcome, RunOptions};

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn id(x: i64) -> i64 {
    x
}

async fn dbl(x: i64) -> i64 {
    x * 2
}

#[test]
fn case6_cycle_without_defaults_is_an_error_naming_nodes_and_inputs() {
    let ran = Rc::new(RefCell::new(0));
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let r1 = ran.clone();
    let a = b.node(
        move |x: i64| {
            *r1.borrow_mut() += 1;
            inc(x)
        },
        (fb,),
    );
    let r2 = ran.clone();
    let bn = b.node(
        move |x: i64| {
            *r2.borrow_mut() += 1;
            dbl(x)
        },
        (a,),
    );
    b.set_name(a, "Inc");
    b.set_name(bn, "Dbl");
    b.set_input_names(a, &["x"]);
    b.set_input_names(bn, &["x"]);
    b.define(fb, bn);
    // The graph alone proves this cycle can never start, so `build()` reports it (issue 7);
    // before, the first run failed with the same error.
    let err = b.build().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("missing default") && msg.contains("`Inc` (inputs x)") && msg.contains("`Dbl` (inputs x)"),
        "{msg}"
    );
    match &err {
        BuildError::MissingDefault { cycles } => match &cycles[..] {
            [cycle] => {
                let names: Vec<_> = cycle.iter().map(|m| (m.name.as_str(), m.inputs.clone())).collect();
                assert_eq!(names, [("Inc", vec!["x".to_string()]), ("Dbl", vec!["x".to_string()])]);
            }
            other => panic!("unexpected cycles {other:?}"),
        },
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(*ran.borrow(), 0, "no body ran");
}

fn self_loop() -> (flowloop::flow::Flow, flowloop::flow::Node<i64>) {
    let mut b = FlowBuilder::new();
    let fi = b.forward::<i64>("i");
    let i = b.node(inc, (fi.or(42),));
    b.define(fi, i);
    (b.build().unwrap(), i)
}

#[test]
fn case8_self_loop_with_default_and_limit() {
    let (mut flow, i) = self_loop();
    let out = flow.run_until_complete(RunOptions::new().limit(i, (0,))).unwrap();
    assert!(matches!(out, Outcome::LimitReached { generation, .. } if generation == Generation::from((0,))));
    assert_eq!(flow.value(i), Some(43));

    let (mut flow, i) = self_loop();
    let out = flow.run_until_complete(RunOptions::new().limit(i, (1,))).unwrap();
    assert!(matches!(out, Outcome::LimitReached { .. }));
    assert_eq!(flow.value(i), Some(44));
}

#[test]
fn case8_rerun_continues_the_cycle() {
    let (mut flow, i) = self_loop();
    flow.run_until_complete(RunOptions::new().limit(i, (0,))).unwrap();
    assert_eq!(flow.value(i), Some(43));
    flow.run_until_complete(RunOptions::new().limit(i, (1,))).unwrap();
    assert_eq!(flow.value(i), Some(44));
    assert_eq!(flow.generation(i), Some(Generation::from((1,))));
}

type Calls = Rc<RefCell<Vec<String>>>;

fn case34() -> (
    Outcome,
    Vec<String>,
    Option<Generation>,
    Option<Generation>,
    Option<String>,
) {
    let calls: Calls = Rc::new(RefCell::new(Vec::new()));
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let c1 = calls.clone();
    let a = b.node(
        move |x: i64| {
            c1.borrow_mut().push(format!("Inc({x})"));
            inc(x)
        },
        (fb.or(0),),
    );
    let c2 = calls.clone();
    let bn = b.node(
        move |x: i64| {
            c2.borrow_mut().push(format!("Id({x})"));
            id(x)
        },
        (a,),
    );
    b.define(fb, bn);
    let mut flow = b.build().unwrap();
    let out = flow.run_until_complete(RunOptions::new().limit(bn, (1,))).unwrap();
    let name = match &out {
        Outcome::LimitReached { name, .. } => Some(name.clone()),
        _ => None,
    };
    let log = calls.borrow().clone();
    (out, log, flow.generation(a), flow.generation(bn), name)
}

#[test]
fn case34_two_node_cycle_with_limit() {
    let (out, calls, ga, gb, name) = case34();
    assert!(matches!(out, Outcome::LimitReached { generation, .. } if generation == Generation::from((1,))));
    assert_eq!(name.as_deref(), Some("closure#1"));
    assert_eq!(calls, ["Inc(0)", "Id(1)", "Inc(1)", "Id(2)"]);
    assert_eq!((ga, gb), (Some(Generation::from((1,))), Some(Generation::from((1,)))));
}

#[test]
fn cycle_cases_are_deterministic_over_200_runs() {
    let first = format!("{:?}", case34());
    for _ in 0..200 {
        assert_eq!(format!("{:?}", case34()), first);
    }
}

#[test]
fn long_cycle_runs_100k_generations_and_counts_runs() {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(0),));
    let bn = b.node(id, (a,));
    b.define(fb, bn);
    let mut flow = b.build().unwrap();
    let out = flow.run_until_complete(RunOptions::new().limit(bn, (99_999,))).unwrap();
    assert!(!out.is_completed());
    assert_eq!(flow.value(bn), Some(100_000));
    assert_eq!(flow.stats(a).runs, 100_000);
    assert_eq!(flow.stats(bn).runs, 100_000);
}

#[test]
fn global_limit_applies_to_every_node() {
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(0),));
    let bn = b.node(id, (a,));
    b.define(fb, bn);
    let mut flow = b.build().unwrap();
    let out = flow.run_until_complete(RunOptions::new().limit_all((2,))).unwrap();
    match out {
        Outcome::LimitReached { node, generation, .. } => {
            assert_eq!(node, a.id());
            assert_eq!(generation, Generation::from((2,)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(flow.value(a), Some(3));
}

#[test]
fn cycle_breaker_is_the_first_member_with_defaults_in_creation_order() {
    // Both members have defaults: the first created one (a) starts with its default.
    let mut b = FlowBuilder::new();
    let fb = b.forward::<i64>("b");
    let a = b.node(inc, (fb.or(100),));
    let bn = b.node(dbl, (a.or(7),));
    b.define(fb, bn);
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new().limit(a, (0,))).unwrap();
    assert_eq!(flow.value(a), Some(101));
    assert_eq!(flow.value(bn), None);
}
