//! Errors: FLOW_SEMANTICS §7 cases 4, 5, 12, 12b; panics, gather errors, instrument events.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flowloop::EventLoop;
use flowloop::flow::{BuildError, Failure, FlowBuilder, FlowError, NodeFault, RunOptions, unconnected};
use flowloop::runtime::{FlowNode, Instrument};

async fn add(x: i64, y: i64) -> i64 {
    x + y
}

async fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn case4_unconnected_input_without_default_names_node_and_input() {
    let mut b = FlowBuilder::new();
    let a = b.node(add, (1, unconnected()));
    b.set_name(a, "Add");
    b.set_input_names(a, &["x", "y"]);
    let err = b.build().unwrap_err();
    assert_eq!(
        err,
        BuildError::Unconnected {
            node: "Add".into(),
            input: "y".into()
        }
    );
    assert!(
        err.to_string().contains("node `Add`: input y is not connected"),
        "{err}"
    );
}

#[test]
fn case5_undefined_forward_reference_is_named() {
    let mut b = FlowBuilder::new();
    let nope = b.forward::<i64>("nope");
    b.node(inc, (nope,));
    let err = b.build().unwrap_err();
    assert!(matches!(&err, BuildError::UndefinedForward { name, .. } if name == "nope"));
    assert!(
        err.to_string().contains("`nope`") && err.to_string().contains("inc#0"),
        "{err}"
    );
}

/// The first problem in creation order is the one reported, whichever its kind: an
/// unconnected input is noted as its node is added, an undefined forward reference is found
/// at `build()`, and the two are compared by where their inputs were created.
#[test]
fn the_first_problem_in_creation_order_is_reported_whatever_its_kind() {
    // Unconnected first, then an undefined forward reference.
    let mut b = FlowBuilder::new();
    let fine = b.forward::<i64>("fine");
    let one = b.node(inc, (1,));
    b.node(inc, (fine,));
    b.define(fine, one);
    let early = b.node(add, (one, unconnected()));
    b.set_name(early, "early");
    let nope = b.forward::<i64>("nope");
    let late = b.node(inc, (nope,));
    b.set_name(late, "late");
    assert_eq!(
        b.build().unwrap_err(),
        BuildError::Unconnected {
            node: "early".into(),
            input: "#1".into()
        }
    );

    // The same two problems the other way round.
    let mut b = FlowBuilder::new();
    let nope = b.forward::<i64>("nope");
    let early = b.node(add, (1, nope));
    b.set_name(early, "early");
    let late = b.node(add, (unconnected(), 2));
    b.set_name(late, "late");
    assert_eq!(
        b.build().unwrap_err(),
        BuildError::UndefinedForward {
            name: "nope".into(),
            node: "early".into(),
            input: "#1".into()
        }
    );

    // Input names given after the node was added still name the culprit.
    let mut b = FlowBuilder::new();
    let a = b.node(add, (unconnected(), unconnected()));
    b.set_name(a, "Add");
    b.set_input_names(a, &["left", "right"]);
    assert_eq!(
        b.build().unwrap_err(),
        BuildError::Unconnected {
            node: "Add".into(),
            input: "left".into()
        }
    );
}

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

type Log = Rc<RefCell<Vec<String>>>;

fn fail_and_slow(l: &Log) -> (FlowBuilder, flowloop::flow::Node<i64>) {
    let mut b = FlowBuilder::new();
    b.try_node(|| async { Err::<i64, _>(Boom) }, ());
    let l = l.clone();
    let slow = b.node(
        move || {
            let l = l.clone();
            async move {
                l.borrow_mut().push("start".into());
                flowloop::sleep(Duration::from_millis(50)).await;
                l.borrow_mut().push("end".into());
                1i64
            }
        },
        (),
    );
    (b, slow)
}

#[test]
fn case12_error_ends_the_run() {
    let l: Log = Rc::default();
    let (b, _) = fail_and_slow(&l);
    let mut flow = b.build().unwrap();
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    assert_eq!(err.failures().len(), 1);
    assert!(
        err.to_string().contains("boom") && err.to_string().contains("closure#0"),
        "{err}"
    );
}

#[test]
fn case12b_terminate_on_error_off_keeps_the_rest_running() {
    let l: Log = Rc::default();
    let (b, slow) = fail_and_slow(&l);
    let mut flow = b.build().unwrap();
    let err = flow
        .run_until_complete(RunOptions::new().terminate_on_error(false))
        .unwrap_err();
    assert_eq!(*l.borrow(), ["start", "end"]);
    assert_eq!(flow.value(slow), Some(1));
    assert!(matches!(err.failures(), [Failure::Node { fault: NodeFault::Body(e), .. }] if e.to_string() == "boom"));
}

#[test]
fn dependents_of_a_failed_node_do_not_run_and_all_errors_are_reported() {
    let mut b = FlowBuilder::new();
    let bad1 = b.try_node(|| async { Err::<i64, _>(Boom) }, ());
    let dep = b.node(inc, (bad1,));
    let bad2 = b.try_node(|x: i64| async move { if x > 0 { Err(Boom) } else { Ok(x) } }, (5,));
    let ok = b.node(inc, (1,));
    let mut flow = b.build().unwrap();
    let err = flow
        .run_until_complete(RunOptions::new().terminate_on_error(false))
        .unwrap_err();
    let nodes: Vec<_> = err.failures().iter().filter_map(Failure::node).collect();
    assert_eq!(nodes, [bad1.id(), bad2.id()]);
    assert_eq!(flow.value(dep), None);
    assert_eq!(flow.value(ok), Some(2));
}

#[test]
fn a_panicking_body_is_a_node_error() {
    let mut b = FlowBuilder::new();
    let p = b.node(|x: i64| async move { if x == 1 { panic!("kaput") } else { x } }, (1,));
    b.set_name(p, "Panicky");
    let mut flow = b.build().unwrap();
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    assert!(
        matches!(err.failures(), [Failure::Node { fault: NodeFault::Panicked(m), name, .. }] if m == "kaput" && name == "Panicky")
    );
}

#[test]
fn rerun_after_an_error_retries_the_node() {
    let tries = Rc::new(RefCell::new(0));
    let t = tries.clone();
    let mut b = FlowBuilder::new();
    let n = b.try_node(
        move || {
            let t = t.clone();
            async move {
                *t.borrow_mut() += 1;
                if *t.borrow() == 1 { Err(Boom) } else { Ok(7i64) }
            }
        },
        (),
    );
    let mut flow = b.build().unwrap();
    assert!(matches!(
        flow.run_until_complete(RunOptions::new()),
        Err(FlowError::Failed(_))
    ));
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    assert_eq!(flow.value(n), Some(7));
}

#[derive(Default)]
struct Recorder(Rc<RefCell<Vec<String>>>);

impl Instrument for Recorder {
    fn flow_node_started(&mut self, node: FlowNode<'_>) {
        self.0.borrow_mut().push(format!("start {}", node.name));
    }
    fn flow_node_finished(&mut self, node: FlowNode<'_>) {
        self.0
            .borrow_mut()
            .push(format!("finish {} {:?}", node.name, node.generation));
    }
    fn flow_node_errored(&mut self, node: FlowNode<'_>, error: &str) {
        self.0.borrow_mut().push(format!("error {} {error}", node.name));
    }
    fn flow_cycle_broken(&mut self, node: FlowNode<'_>, inputs: &[usize]) {
        self.0.borrow_mut().push(format!("cycle {} {inputs:?}", node.name));
    }
    fn flow_limit_reached(&mut self, node: FlowNode<'_>) {
        self.0.borrow_mut().push(format!("limit {}", node.name));
    }
}

#[test]
fn flow_events_reach_the_instrument() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut lp = EventLoop::builder()
        .instrument(Recorder(events.clone()))
        .build()
        .unwrap();
    let mut b = FlowBuilder::new();
    let fi = b.forward::<i64>("i");
    let i = b.node(inc, (fi.or(0),));
    b.define(fi, i);
    let mut flow = b.build().unwrap();
    flow.run_on(&mut lp, RunOptions::new().limit(i, (1,))).unwrap();
    assert_eq!(
        *events.borrow(),
        [
            "start inc#0",
            "cycle inc#0 [0]",
            "finish inc#0 Some([0])",
            "start inc#0",
            "finish inc#0 Some([1])",
            "limit inc#0"
        ]
    );
}

thread_local! {
    /// Whether cloning a [`Fragile`] panics.
    static CLONE_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A value whose `Clone` panics while [`CLONE_PANICS`] is set.
#[derive(Debug, PartialEq)]
struct Fragile(i64);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(!CLONE_PANICS.with(|p| p.get()), "clone of Fragile({}) refused", self.0);
        Fragile(self.0)
    }
}

/// A consumer's read clones its producer's value out of the producer's cell: a `Clone` that
/// panics there fails the consumer with that panic (as a panicking body does), and neither
/// the value nor the node is lost: the value reads back once cloning works again, and the next
/// run retries the consumer. Both the general step (two inputs) and a fused chain link (one
/// plain input) are covered.
#[test]
fn a_panicking_clone_of_an_input_fails_the_consumer_and_loses_nothing() {
    async fn make(x: i64) -> Fragile {
        Fragile(x)
    }
    async fn read(f: Fragile) -> i64 {
        f.0 * 2
    }
    async fn read_two(f: Fragile, k: i64) -> i64 {
        f.0 * k
    }
    let mut b = FlowBuilder::new();
    let src = b.node(make, (21,));
    let k = b.node(|| async { 3i64 }, ());
    let general = b.node(read_two, (src, k));
    // The sole consumer of its producer, through one plain input: a chain link.
    let link_src = b.node(make, (21,));
    let linked = b.node(read, (link_src,));
    b.set_name(linked, "linked");
    b.set_name(general, "general");
    let mut flow = b.build().expect("builds");
    CLONE_PANICS.with(|p| p.set(true));
    let ended = flow.run_until_complete(RunOptions::new().terminate_on_error(false));
    CLONE_PANICS.with(|p| p.set(false));
    let err = ended.expect_err("the clones panicked");
    let failed: Vec<&str> = err
        .failures()
        .iter()
        .map(|f| match f {
            Failure::Node {
                name,
                fault: NodeFault::Panicked(m),
                ..
            } if m.contains("clone of Fragile(21) refused") => name.as_str(),
            other => panic!("unexpected failure: {other}"),
        })
        .collect();
    assert_eq!(failed.len(), 2, "{err}");
    assert!(failed.contains(&"linked") && failed.contains(&"general"), "{failed:?}");
    assert_eq!(flow.value(src), Some(Fragile(21)), "the value stays in its cell");
    assert_eq!(flow.value(link_src), Some(Fragile(21)), "the value stays in its cell");
    flow.run_until_complete(RunOptions::new()).expect("runs again");
    assert_eq!((flow.value(linked), flow.value(general)), (Some(42), Some(63)));
}
