//! Fused chains: runs of single-producer/single-consumer plain nodes take a tight path through
//! the scheduler (`src/flow/fuse.rs`). Everything an observer can see must be what the general
//! path gives: generations, run counts, statuses, values, outcomes, errors, the order bodies run
//! in. A run on a loop with an [`Instrument`] takes the general path for every node, so most
//! tests run the same flow both ways and compare, beside explicit expectations. The same holds
//! for the one-call steps every other node takes on an untimed, untraced run (last tests).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use flowloop::EventLoop;
use flowloop::flow::{
    Emitter, Failure, Flow, FlowBuilder, FlowError, Generation, Node, NodeFault, NodeId, NodeStatus, Outcome,
    RunBeacon, RunOptions, Stream, WithDefault,
};
use flowloop::runtime::Instrument;
use flowloop::sync::{AsyncIterator, azip};

/// An instrument that listens to nothing: installing it makes every run a traced run.
struct Traced;

impl Instrument for Traced {}

type Log = Rc<RefCell<Vec<String>>>;

/// Every node's status, generation and run count, in creation order.
fn views(flow: &Flow) -> Vec<(NodeStatus, Option<Generation>, u64)> {
    flow.node_views()
        .iter()
        .map(|v| (v.status, v.generation, v.runs))
        .collect()
}

fn run_gen(run: u64) -> Option<Generation> {
    Some(Generation::from((run,)))
}

/// A run's result as text (outcome or error), for comparing two runs.
fn shown(result: &Result<Outcome, FlowError>) -> String {
    match result {
        Ok(outcome) => format!("ok: {outcome}"),
        Err(e) => format!("err: {e}"),
    }
}

/// Builds the flow twice (each with its own log), runs one on a traced loop (general path) and
/// one untraced (fused path) `runs` times with `options`, and checks that every run gives the
/// same result, the same views and the same log. Returns the untraced flow and its log.
fn same_both_ways(runs: usize, options: impl Fn() -> RunOptions, build: impl Fn(&Log) -> FlowBuilder) -> (Flow, Log) {
    compare_both_ways(runs, options, build, true)
}

/// [`same_both_ways`] with or without comparing the order bodies ran in.
fn compare_both_ways(
    runs: usize,
    options: impl Fn() -> RunOptions,
    build: impl Fn(&Log) -> FlowBuilder,
    order: bool,
) -> (Flow, Log) {
    let (traced_log, fused_log) = (Log::default(), Log::default());
    let mut traced = build(&traced_log).build().expect("the flow builds");
    let mut fused = build(&fused_log).build().expect("the flow builds");
    let mut lp = EventLoop::builder().instrument(Traced).build().expect("a loop");
    for i in 0..runs {
        let a = traced.run_on(&mut lp, options());
        let b = fused.run_until_complete(options());
        assert_eq!(shown(&a), shown(&b), "result of run {i}");
        assert_eq!(views(&traced), views(&fused), "views after run {i}");
        if order {
            assert_eq!(*traced_log.borrow(), *fused_log.borrow(), "body order up to run {i}");
        } else {
            let sorted = |log: &Log| {
                let mut names = log.borrow().clone();
                names.sort();
                names
            };
            assert_eq!(sorted(&traced_log), sorted(&fused_log), "bodies run up to run {i}");
        }
    }
    (fused, fused_log)
}

async fn inc(x: i64) -> i64 {
    x + 1
}

/// `len` `inc` nodes after a head node; returns the nodes (head first).
fn chain_after(b: &mut FlowBuilder, head: Node<i64>, len: usize) -> Vec<Node<i64>> {
    let mut nodes = vec![head];
    for _ in 0..len {
        let last = *nodes.last().expect("the head is there");
        nodes.push(b.node(inc, (last,)));
    }
    nodes
}

/// An `inc` that logs its name first.
fn logged(b: &mut FlowBuilder, log: &Log, name: &'static str, input: Node<i64>) -> Node<i64> {
    let log = Rc::clone(log);
    let n = b.node(
        move |x: i64| {
            log.borrow_mut().push(name.to_string());
            async move { x + 1 }
        },
        (input,),
    );
    b.set_name(n, name);
    n
}

/// An `inc` that logs its name first, on a port with a default (a cycle's way back).
fn logged_with_default(b: &mut FlowBuilder, log: &Log, name: &'static str, input: WithDefault<i64>) -> Node<i64> {
    let log = Rc::clone(log);
    let n = b.node(
        move |x: i64| {
            log.borrow_mut().push(name.to_string());
            async move { x + 1 }
        },
        (input,),
    );
    b.set_name(n, name);
    n
}

/// A node that logs its name and returns 5.
fn logged_const(b: &mut FlowBuilder, log: &Log, name: &'static str) -> Node<i64> {
    let log = Rc::clone(log);
    let n = b.node(
        move || {
            log.borrow_mut().push(name.to_string());
            async move { 5 }
        },
        (),
    );
    b.set_name(n, name);
    n
}

#[test]
fn a_chain_has_one_generation_and_one_run_per_node_and_flow_run() {
    let mut b = FlowBuilder::new();
    let head = b.node(inc, (0,));
    let nodes = chain_after(&mut b, head, 49);
    let mut flow = b.build().unwrap();
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    for (i, &n) in nodes.iter().enumerate() {
        assert_eq!(flow.generation(n), run_gen(0), "node {i}");
        assert_eq!(flow.stats(n).runs, 1, "node {i}");
        assert_eq!(flow.value(n), Some(i as i64 + 1), "node {i}");
    }
    for _ in 0..4 {
        let outcome = flow.run_until_complete(RunOptions::new()).unwrap();
        assert_eq!(outcome, Outcome::Completed { suspended: Vec::new() });
    }
    for (i, &n) in nodes.iter().enumerate() {
        assert_eq!(flow.generation(n), run_gen(4), "node {i}");
        assert_eq!(flow.stats(n).runs, 5, "node {i}");
    }
    assert!(views(&flow).iter().all(|v| v.0 == NodeStatus::Idle));
    assert_eq!(flow.value(nodes[49]), Some(50));
}

#[test]
fn a_chain_gives_the_same_views_traced_and_untraced() {
    let (flow, log) = same_both_ways(3, RunOptions::new, |log| {
        let mut b = FlowBuilder::new();
        let mut last = b.node(inc, (0,));
        for name in ["a", "b", "c", "d", "e"] {
            last = logged(&mut b, log, name, last);
        }
        // A fork and a join after the chain: the last link wakes several consumers.
        let x = logged(&mut b, log, "x", last);
        let y = logged(&mut b, log, "y", last);
        let join = b.node(|x: i64, y: i64| async move { x + y }, (x, y));
        logged(&mut b, log, "tail", join);
        b
    });
    assert_eq!(log.borrow().len(), 3 * 8);
    assert!(views(&flow).iter().all(|v| v.1 == run_gen(2) && v.2 == 3));
}

/// Hands out 10, 20, 30, ...: a new value on every run.
struct Feed(i64);

impl Feed {
    async fn next(&mut self) -> i64 {
        self.0 += 10;
        self.0
    }
}

#[test]
fn a_chain_whose_head_gets_a_new_value_runs_again_with_it() {
    let mut b = FlowBuilder::new();
    let head = b.stateful(Feed(0), Feed::next, ());
    let nodes = chain_after(&mut b, head, 20);
    let last = nodes[20];
    let mut flow = b.build().unwrap();
    for k in 0..3u64 {
        flow.run_until_complete(RunOptions::new()).unwrap();
        assert_eq!(flow.value(last), Some(10 * (k as i64 + 1) + 20));
        for (i, &n) in nodes.iter().enumerate() {
            assert_eq!(flow.generation(n), run_gen(k), "node {i} after run {k}");
            assert_eq!(flow.stats(n).runs, k + 1, "node {i} after run {k}");
        }
    }
    same_both_ways(3, RunOptions::new, |_| {
        let mut b = FlowBuilder::new();
        let head = b.stateful(Feed(0), Feed::next, ());
        chain_after(&mut b, head, 20);
        b
    });
}

/// A chain built with other nodes between its links (`a1`, `k1`, `a2`, `k2`, ...: the `k`s
/// take constants), then a chain in order: the first is not laid out link after link, so it
/// takes the general segment path, the second the one for chains in order; both must agree
/// with a traced run.
#[test]
fn a_chain_with_gaps_and_a_chain_in_order_agree_both_ways() {
    let (flow, log) = same_both_ways(3, RunOptions::new, |log| {
        let mut b = FlowBuilder::new();
        let mut a = b.stateful(Feed(0), Feed::next, ());
        let mut k = a;
        for (x, y) in [("a1", "k1"), ("a2", "k2"), ("a3", "k3"), ("a4", "k4")] {
            a = logged(&mut b, log, x, a);
            k = b.node(inc, (0,));
            b.set_name(k, y);
        }
        let mut d = b.node(|x: i64, y: i64| async move { x + y }, (a, k));
        for name in ["d1", "d2", "d3", "d4", "d5"] {
            d = logged(&mut b, log, name, d);
        }
        b
    });
    assert_eq!(log.borrow().len(), 3 * 9);
    assert!(views(&flow).iter().all(|v| v.1 == run_gen(2) && v.2 == 3));
}

/// A reduction chain `c1 = add(c0, p)` whose side producer `p` has a newer value waiting to
/// be published (`p` laps a cycle faster than `c0` gets its inputs): when `c0`'s segment goes
/// on into `c1`, `c1`'s read of `p`'s older value lets `p` publish, so the segment ends at
/// `c1` and `p` publishes next. The bodies that ran, the results and every node's view after
/// each run agree with a traced run; the order does not quite: a traced run resolves the
/// queued `c1` first, which pulls `x` ahead of `p`'s next lap, where an untraced run starts `p`
/// (made ready at once by its input) first — a known difference of incremental readiness.
#[test]
fn a_segment_ends_where_a_read_lets_a_waiting_side_producer_publish() {
    let (flow, log) = compare_both_ways(3, || RunOptions::new().limit_all((3,)), build_waiting_side, false);
    assert!(log.borrow().iter().any(|n| n == "tail"));
    assert!(views(&flow).iter().any(|v| v.2 > 1), "the cycle lapped");
}

/// The flow of [`a_segment_ends_where_a_read_lets_a_waiting_side_producer_publish`].
fn build_waiting_side(log: &Log) -> FlowBuilder {
    {
        let mut b = FlowBuilder::new();
        let x = logged_const(&mut b, log, "x");
        let back = b.forward::<i64>("back");
        let p = logged_with_default(&mut b, log, "p", back.or(0));
        let r = logged(&mut b, log, "r", p);
        b.define(back, r);
        let s = logged(&mut b, log, "s", p);
        let c0 = b.node(|a: i64, b: i64| async move { a + b }, (s, x));
        b.set_name(c0, "c0");
        let c1 = b.node(|a: i64, b: i64| async move { a * 1000 + b }, (c0, p));
        b.set_name(c1, "c1");
        logged(&mut b, log, "tail", c1);
        b
    }
}

/// A chain in order longer than the scheduler's step budget per poll: the segment ends at the
/// budget and the next poll goes on from there, the same as the general path.
#[test]
fn a_chain_longer_than_the_step_budget_runs_whole_both_ways() {
    let (flow, _) = same_both_ways(3, RunOptions::new, |_| {
        let mut b = FlowBuilder::new();
        let head = b.stateful(Feed(0), Feed::next, ());
        chain_after(&mut b, head, 2500);
        b
    });
    assert!(views(&flow).iter().all(|v| v.1 == run_gen(2) && v.2 == 3));
}

/// Run options for [`same_both_ways`], which asks for them twice per run (traced, then
/// untraced): the `k`th run stops every node at generation `5k - 1`, five laps of a cycle on.
fn five_laps_a_run() -> impl Fn() -> RunOptions {
    let calls = Cell::new(0u64);
    move || {
        calls.set(calls.get() + 1);
        let run = calls.get().div_ceil(2);
        RunOptions::new().limit_all((5 * run - 1,))
    }
}

/// `h → a → t → h`, `h`'s way back with a default: `h` is a cycle's head, a link because `a`
/// follows it, so from its second lap each lap runs as one segment `h, a, t`. Returns `h`.
fn logged_cycle(log: &Log) -> (FlowBuilder, Node<i64>) {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let h = logged_with_default(&mut b, log, "h", back.or(0));
    let a = logged(&mut b, log, "a", h);
    let t = logged(&mut b, log, "t", a);
    b.define(back, t);
    (b, h)
}

/// A cycle laps from its head (a link whose port has a default and comes from a later node)
/// exactly as the general path: every lap, value, view and body of three runs agrees with a
/// traced run, and each run goes five generations further.
#[test]
fn a_cycle_laps_from_its_head_the_same_both_ways() {
    let (flow, log) = same_both_ways(3, five_laps_a_run(), |log| logged_cycle(log).0);
    // Each run: `h` reaches the limit in its fifth lap and the run stops there.
    let laps = ["h", "a", "t"].repeat(6);
    let mut want = Vec::new();
    for k in 0..3 {
        // A run after the first begins with `a` and `t` of the lap its predecessor stopped in.
        let run = if k == 0 { &laps[..13] } else { &laps[1..16] };
        want.extend_from_slice(run);
    }
    assert_eq!(*log.borrow(), want);
    let h = logged_cycle(&Log::default()).1;
    assert_eq!(flow.generation(h), run_gen(14));
    // `h` adds 1 to what `t` gives back, and `a` and `t` add 1 each: 3 per lap.
    assert_eq!(flow.value(h), Some(3 * 14 + 1));
}

/// A cycle whose head has two ports (its way back, with a default, and `x`, which feeds
/// another node too), whose second node also feeds a side node (so the segment from the head
/// ends there) and whose third node fails in its third lap of each flow: every result, view
/// and body agrees with a traced run.
#[test]
fn a_cycle_with_a_two_port_head_a_fork_and_a_failure_agrees_both_ways() {
    let (flow, log) = same_both_ways(
        3,
        || RunOptions::new().limit_all((6,)).terminate_on_error(false),
        |log| {
            let mut b = FlowBuilder::new();
            let x0 = logged_const(&mut b, log, "x0");
            // `x` also feeds `xs`: the head does not follow it.
            let x = logged(&mut b, log, "x", x0);
            logged(&mut b, log, "xs", x);
            let back = b.forward::<i64>("back");
            let l = Rc::clone(log);
            let h = b.node(
                move |back: i64, x: i64| {
                    l.borrow_mut().push("h".into());
                    async move { back + x }
                },
                (back.or(0), x),
            );
            b.set_name(h, "h");
            let a = logged(&mut b, log, "a", h);
            logged(&mut b, log, "side", a);
            let (l, laps) = (Rc::clone(log), Rc::new(Cell::new(0)));
            let t = b.try_node(
                move |v: i64| {
                    l.borrow_mut().push("t".into());
                    laps.set(laps.get() + 1);
                    let fail = laps.get() == 3;
                    async move { if fail { Err("t refuses its third lap") } else { Ok(v) } }
                },
                (a,),
            );
            b.set_name(t, "t");
            b.define(back, t);
            b
        },
    );
    // `t` failed once (its third lap) and ran six laps besides: the run after the failure
    // retried it, then went on until `x0` reached the limit (the third run had nothing to do).
    assert_eq!(log.borrow().iter().filter(|n| n.as_str() == "t").count(), 7);
    let views = views(&flow);
    assert_eq!(views[6], (NodeStatus::Idle, run_gen(5), 7), "t");
    assert_eq!(views[3], (NodeStatus::Idle, run_gen(5), 6), "h");
    assert_eq!(views[0].1, run_gen(6), "x0");
}

/// A port with a default fed by an earlier node that fails in the first run: the node waits
/// for its producer in that run (a default breaks cycles, it does not stand in for a failed
/// producer); later runs read the producer, and the node, a link because the rest of the
/// chain follows it, runs them as one segment. Everything agrees with a traced run.
#[test]
fn a_chain_node_whose_port_has_a_default_agrees_both_ways() {
    let build = |log: &Log| {
        let mut b = FlowBuilder::new();
        let first = Rc::new(Cell::new(true));
        let p = b.try_node(
            move || {
                let fail = first.replace(false);
                async move { if fail { Err("not yet") } else { Ok(100) } }
            },
            (),
        );
        b.set_name(p, "p");
        // `q` feeds `c` and `qs`: `c` does not follow it.
        let q = logged(&mut b, log, "q", p);
        logged(&mut b, log, "qs", q);
        let l = Rc::clone(log);
        let c = b.node(
            move |v: i64| {
                l.borrow_mut().push(format!("c{v}"));
                async move { v + 1 }
            },
            (flowloop::flow::Output::from(q).or(5),),
        );
        b.set_name(c, "c");
        let d = logged(&mut b, log, "d", c);
        let e = logged(&mut b, log, "e", d);
        (b, e)
    };
    let (flow, log) = same_both_ways(3, || RunOptions::new().terminate_on_error(false), |log| build(log).0);
    assert_eq!(*log.borrow(), ["q", "qs", "c101", "d", "e"].repeat(2));
    let e = build(&Log::default()).1;
    assert_eq!(flow.value(e), Some(104));
    assert_eq!(flow.generation(e), run_gen(1));
}

#[test]
fn a_body_that_waits_on_a_timer_in_a_chain_behaves_as_before() {
    let (flow, log) = same_both_ways(2, RunOptions::new, |log| {
        let mut b = FlowBuilder::new();
        let head = b.node(inc, (0,));
        let a = logged(&mut b, log, "a", head);
        let l = Rc::clone(log);
        let slow = b.node(
            move |x: i64| {
                let l = Rc::clone(&l);
                async move {
                    l.borrow_mut().push("slow start".into());
                    flowloop::sleep(Duration::from_millis(2)).await;
                    l.borrow_mut().push("slow end".into());
                    x * 10
                }
            },
            (a,),
        );
        let c = logged(&mut b, log, "c", slow);
        logged(&mut b, log, "d", c);
        b
    });
    let want = ["a", "slow start", "slow end", "c", "d"];
    assert_eq!(*log.borrow(), [want, want].concat());
    let last = views(&flow);
    assert!(last.iter().all(|v| *v == (NodeStatus::Idle, run_gen(1), 2)), "{last:?}");
}

/// A chain `inc#0 → a → b → boom → c → d` whose `boom` panics while `fuse` is set.
fn panicky_chain(log: &Log, fuse: &Rc<Cell<bool>>) -> FlowBuilder {
    let mut b = FlowBuilder::new();
    let head = b.node(inc, (0,));
    let a = logged(&mut b, log, "a", head);
    let bb = logged(&mut b, log, "b", a);
    let fuse = Rc::clone(fuse);
    let boom = b.node(
        move |x: i64| {
            let fuse = Rc::clone(&fuse);
            async move {
                if fuse.get() {
                    panic!("blown at {x}");
                }
                x
            }
        },
        (bb,),
    );
    b.set_name(boom, "boom");
    let c = logged(&mut b, log, "c", boom);
    logged(&mut b, log, "d", c);
    b
}

#[test]
fn a_panicking_node_in_a_chain_is_named_and_the_rest_wait() {
    let log = Log::default();
    let fuse = Rc::new(Cell::new(true));
    let mut flow = panicky_chain(&log, &fuse).build().unwrap();
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    assert!(
        matches!(err.failures(), [Failure::Node { fault: NodeFault::Panicked(m), name, .. }]
            if m == "blown at 3" && name == "boom"),
        "{err}"
    );
    assert_eq!(*log.borrow(), ["a", "b"]);
    let v = views(&flow);
    assert_eq!(v[..3], [(NodeStatus::Idle, run_gen(0), 1); 3]);
    assert_eq!(v[3], (NodeStatus::Failed, None, 1));
    assert_eq!(v[4..], [(NodeStatus::Idle, None, 0); 2]);
    // The next run retries the failed node (under the same run index) and the rest follow.
    fuse.set(false);
    flow.run_until_complete(RunOptions::new()).unwrap();
    let v = views(&flow);
    assert_eq!(v[..3], [(NodeStatus::Idle, run_gen(1), 2); 3]);
    assert_eq!(v[3], (NodeStatus::Idle, run_gen(0), 2));
    assert_eq!(v[4..], [(NodeStatus::Idle, run_gen(0), 1); 2]);

    for terminate in [true, false] {
        let fuses = (Rc::new(Cell::new(true)), Rc::new(Cell::new(true)));
        let runs = Cell::new(0);
        let options = || {
            // Panics on the first run only: `same_both_ways` asks for options twice per run
            // (traced, then untraced), so both flows see the same fuse.
            runs.set(runs.get() + 1);
            if runs.get() > 2 {
                fuses.0.set(false);
                fuses.1.set(false);
            }
            RunOptions::new().terminate_on_error(terminate)
        };
        let which = Cell::new(0);
        same_both_ways(3, options, |log| {
            which.set(which.get() + 1);
            panicky_chain(log, if which.get() == 1 { &fuses.0 } else { &fuses.1 })
        });
    }
}

#[test]
fn a_failing_node_in_a_chain_is_reported_and_the_rest_wait() {
    let (flow, log) = same_both_ways(
        2,
        || RunOptions::new().terminate_on_error(false),
        |log| {
            let mut b = FlowBuilder::new();
            let head = b.node(inc, (0,));
            let a = logged(&mut b, log, "a", head);
            let bad = b.try_node(
                |x: i64| async move { if x > 0 { Err(format!("bad {x}")) } else { Ok(x) } },
                (a,),
            );
            b.set_name(bad, "bad");
            logged(&mut b, log, "after", bad);
            b
        },
    );
    assert_eq!(*log.borrow(), ["a", "a"]);
    let v = views(&flow);
    assert_eq!(v[2], (NodeStatus::Failed, None, 2));
    assert_eq!(v[3], (NodeStatus::Idle, None, 0));
}

#[test]
fn a_limit_on_a_middle_node_of_a_chain_stops_there() {
    let mut b = FlowBuilder::new();
    let head = b.node(inc, (0,));
    let nodes = chain_after(&mut b, head, 9);
    let mid = nodes[4];
    let mut flow = b.build().unwrap();
    let outcome = flow.run_until_complete(RunOptions::new().limit(mid, (0,))).unwrap();
    assert!(
        matches!(&outcome, Outcome::LimitReached { node, generation, .. }
            if *node == mid.id() && *generation == Generation::from((0,))),
        "{outcome}"
    );
    for (i, &n) in nodes.iter().enumerate() {
        let (want_gen, want_runs) = if i <= 4 { (run_gen(0), 1) } else { (None, 0) };
        assert_eq!(flow.generation(n), want_gen, "node {i}");
        assert_eq!(flow.stats(n).runs, want_runs, "node {i}");
    }
    same_both_ways(
        3,
        || RunOptions::new().limit_all((1,)),
        |_| {
            let mut b = FlowBuilder::new();
            let head = b.node(inc, (0,));
            let nodes = chain_after(&mut b, head, 9);
            b.set_name(nodes[4], "mid");
            b
        },
    );
}

#[test]
fn a_link_whose_value_was_not_read_waits_as_before() {
    // `link` feeds `join`, whose other input never comes (its producer fails every run): from
    // the second run on, `link` has a value nobody read, and waits to publish the next one.
    let (flow, log) = same_both_ways(
        3,
        || RunOptions::new().terminate_on_error(false),
        |log| {
            let mut b = FlowBuilder::new();
            let head = b.node(inc, (0,));
            let link = logged(&mut b, log, "link", head);
            let never = b.try_node(|| async { Err::<i64, _>("never") }, ());
            b.node(|x: i64, y: i64| async move { x + y }, (link, never));
            b
        },
    );
    assert_eq!(*log.borrow(), ["link", "link"]);
    let v = views(&flow);
    assert_eq!(v[1], (NodeStatus::Waiting, run_gen(0), 2));
    assert_eq!(v[3], (NodeStatus::Idle, None, 0));
}

#[test]
fn dashboard_runs_mark_every_chain_node_in_the_beacon() {
    let mut b = FlowBuilder::new();
    let head = b.node(inc, (0,));
    let nodes = chain_after(&mut b, head, 30);
    let mut flow = b.build().unwrap();
    let beacon = RunBeacon::new();
    for run in 1..=2 {
        flow.run_until_complete(RunOptions::new().beacon(beacon.clone()))
            .unwrap();
        let mark = beacon.last().expect("the run marked its nodes");
        assert_eq!((mark.node, mark.run), (nodes[30].id(), run));
    }
}

#[test]
fn every_chain_body_runs_marked_in_the_beacon_and_sees_its_last_generation() {
    // The links of a chain run back to back and their bookkeeping comes after the whole
    // segment; while a body runs, the beacon must already name it (a dashboard shows the
    // running node) and `current_node` must show its own last generation and run index.
    let beacon = RunBeacon::new();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 0..40 {
        let (beacon, seen) = (beacon.clone(), Rc::clone(&seen));
        last = b.node(
            move |x: i64| {
                let me = flowloop::flow::current_node().expect("inside a body");
                let mark = beacon.last().expect("the run marked this node");
                let runs_before = me.run; // one run per flow run here
                let want_gen = me.run.checked_sub(1).map(|r| Generation::from((r,)));
                if mark.node != me.id || u64::from(mark.run) != runs_before + 1 || me.generation != want_gen {
                    seen.borrow_mut().push(format!("{me:?} under {mark:?}"));
                }
                async move { x + 1 }
            },
            (last,),
        );
    }
    let mut flow = b.build().unwrap();
    for run in 0..3u64 {
        flow.run_until_complete(RunOptions::new().beacon(beacon.clone()))
            .unwrap();
        assert_eq!(flow.value(last), Some(41), "run {run}");
        assert_eq!(flow.generation(last), run_gen(run), "run {run}");
    }
    assert_eq!(*seen.borrow(), Vec::<String>::new());
}

#[test]
fn a_body_sees_its_own_node_in_a_chain() {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 0..3 {
        last = b.node(
            |x: i64| async move {
                let me = flowloop::flow::current_node().expect("inside a body");
                x * 100 + me.id.index() as i64 * 10 + me.run as i64
            },
            (last,),
        );
    }
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(last), Some(((100 + 10) * 100 + 20) * 100 + 30));
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(last), Some(((100 + 11) * 100 + 21) * 100 + 31));
}

// Reduction chains: an adder `add(acc, x)` whose inputs feed nothing else is a link with two
// ports; a run of them is one segment, its other reads counted as the general step counts them.

/// A reduction: `head` → `width` logged `inc` nodes (`m0`…) → a chain of logged adders (`a1`…)
/// folding them, closed into a cycle through `head`'s default input when `cycle` is set. The
/// adder `a3` fails while `fail` is set; after `a2` comes `shared`, which also adds `head`
/// itself (a side input whose producer feeds every mid as well). Returns the builder and the
/// adders in order (`shared` included).
fn reduction(log: &Log, width: usize, fail: &Rc<Cell<bool>>, cycle: bool) -> (FlowBuilder, Vec<Node<i64>>) {
    const NAMES: [&str; 8] = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"];
    let mut b = FlowBuilder::new();
    let back = cycle.then(|| b.forward::<i64>("back"));
    let head = match back {
        Some(back) => b.node(|x: i64| async move { x % 1000 }, (back.or(1),)),
        None => b.node(inc, (0,)),
    };
    let mids: Vec<_> = (0..width)
        .map(|i| logged(&mut b, log, ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"][i], head))
        .collect();
    let mut adders = Vec::new();
    let mut acc = mids[0];
    for (&m, name) in mids[1..].iter().zip(NAMES) {
        let (log, fail) = (Rc::clone(log), Rc::clone(fail));
        acc = b.try_node(
            move |x: i64, y: i64| {
                log.borrow_mut().push(name.to_string());
                let broken = name == "a3" && fail.get();
                async move { if broken { Err("a3 refuses") } else { Ok(x + y) } }
            },
            (acc, m),
        );
        b.set_name(acc, name);
        adders.push(acc);
        if name == "a2" {
            acc = b.node(|x: i64, h: i64| async move { x + h }, (acc, head));
            b.set_name(acc, "shared");
            adders.push(acc);
        }
    }
    if let Some(back) = back {
        b.define(back, acc);
    }
    (b, adders)
}

#[test]
fn a_reduction_chain_gives_the_same_views_traced_and_untraced() {
    let fail = Rc::new(Cell::new(false));
    let (flow, log) = same_both_ways(3, RunOptions::new, |log| reduction(log, 6, &fail, false).0);
    // Every run: the six mids, then the adders in order.
    let one_run = ["m0", "m1", "m2", "m3", "m4", "m5", "a1", "a2", "a3", "a4", "a5"];
    assert_eq!(*log.borrow(), one_run.repeat(3));
    let (_, adders) = reduction(&Log::default(), 6, &fail, false);
    let total = *adders.last().expect("adders");
    // Six mids of 2 each, plus `head` (1) once.
    assert_eq!(flow.value(total), Some(13));
    assert_eq!(flow.generation(total), run_gen(2));
}

#[test]
fn a_reduction_chain_in_a_cycle_laps_the_same_both_ways() {
    let fail = Rc::new(Cell::new(false));
    let (flow, log) = same_both_ways(
        2,
        || RunOptions::new().limit_all((4,)),
        |log| reduction(log, 6, &fail, true).0,
    );
    // `head` reaches generation 4 in the first run's fifth lap, which ends the run before the
    // adders' fifth lap; the second run starts with the limit reached and runs nothing.
    assert_eq!(log.borrow().iter().filter(|n| n.as_str() == "a5").count(), 4);
    assert!(flow.node_views().iter().all(|v| v.runs >= 4));
}

#[test]
fn a_failing_adder_in_a_reduction_chain_stops_the_rest_the_same_both_ways() {
    // One run: in a later one `a3`, which never consumed its inputs, is ready as soon as `m3`
    // publishes, and the order it then takes beside `a2` differs between the traced path (which
    // resolves queued nodes after the ready ones) and the untraced one.
    let fail = Rc::new(Cell::new(true));
    let (flow, log) = same_both_ways(
        1,
        || RunOptions::new().terminate_on_error(false),
        |log| reduction(log, 6, &fail, false).0,
    );
    let (_, adders) = reduction(&Log::default(), 6, &fail, false);
    let a3 = adders.iter().position(|&a| flow.name(a) == "a3").expect("a3");
    assert_eq!(flow.node_views()[adders[a3].id().index()].status, NodeStatus::Failed);
    // The adders after `a3` never ran; the ones before it ran every time.
    for &later in &adders[a3 + 1..] {
        assert_eq!((flow.generation(later), flow.stats(later).runs), (None, 0));
    }
    assert_eq!(log.borrow().iter().filter(|n| n.as_str() == "a2").count(), 1);
    assert_eq!(log.borrow().iter().filter(|n| n.as_str() == "a4").count(), 0);
}

#[test]
fn a_limit_on_an_adder_of_a_reduction_chain_stops_there_the_same_both_ways() {
    let fail = Rc::new(Cell::new(false));
    let (_, adders) = reduction(&Log::default(), 6, &fail, false);
    let a2 = adders[1];
    let (flow, log) = same_both_ways(
        2,
        move || RunOptions::new().limit(a2, (0,)),
        |log| reduction(log, 6, &fail, false).0,
    );
    // The first run stops once `a2` published; the second stops before anything runs.
    assert_eq!(flow.generation(a2), run_gen(0));
    assert_eq!(flow.generation(adders[2]), None);
    assert_eq!(log.borrow().iter().filter(|n| n.starts_with('a')).count(), 2);
}

#[test]
fn adders_sharing_a_producer_after_a_failed_run_agree_both_ways() {
    // Run 0: `pre` fails, so neither `c` nor `d` runs, and `q`'s value is not read. Run 1:
    // `c` and `d` (both adders, `d` fed by `c`) read `q`, whose second value is published by
    // then, and the traced and untraced runs agree on every view and on the body order.
    // Each flow gets its own switch: `pre` fails in that flow's first run only.
    let (flow, _) = same_both_ways(
        2,
        || RunOptions::new().terminate_on_error(false),
        |log| shared_side_producer(log, &Rc::new(Cell::new(true))).0,
    );
    let (_, d) = shared_side_producer(&Log::default(), &Rc::new(Cell::new(true)));
    // `c` = s (1 + 1) + q's second value (200); `d` = c * 1000 + 200.
    assert_eq!(flow.value(d), Some(202 * 1000 + 200));
}

/// The flow of the test above; returns it and `d`.
fn shared_side_producer(log: &Log, fail: &Rc<Cell<bool>>) -> (FlowBuilder, Node<i64>) {
    let mut b = FlowBuilder::new();
    let fail = Rc::clone(fail);
    let head = b.node(inc, (0,));
    let pre = b.try_node(
        move |x: i64| {
            let broken = fail.replace(false);
            async move { if broken { Err("not yet") } else { Ok(x) } }
        },
        (head,),
    );
    let s = logged(&mut b, log, "s", pre);
    let counter = Rc::new(Cell::new(0));
    let q = b.node(
        move |_: i64| {
            counter.set(counter.get() + 100);
            let v = counter.get();
            async move { v }
        },
        (head,),
    );
    let c = b.node(|x: i64, y: i64| async move { x + y }, (s, q));
    b.set_name(c, "c");
    let d = b.node(|x: i64, y: i64| async move { x * 1000 + y }, (c, q));
    b.set_name(d, "d");
    (b, d)
}

// Whole steps: any node that starts while no consumer still has to read its previous value
// runs its start, first poll and publication in one runner call on an untimed, untraced run
// (`Runner::run_whole`). Timed and traced runs take the general path, so the same flows are
// compared between them.

/// A value whose `Clone` panics while `BOOM` is set (the clone a consumer's read makes).
#[derive(Debug, Default)]
struct Brittle(i64);

thread_local! {
    static BOOM: Cell<bool> = const { Cell::new(false) };
}

impl Clone for Brittle {
    fn clone(&self) -> Self {
        if BOOM.with(Cell::get) {
            panic!("clone of {} refused", self.0);
        }
        Brittle(self.0)
    }
}

/// A diamond closed into a cycle: `src` (fed back, default 1) fans out to three logged nodes,
/// two-input joins add them up, one join fails while `fail` is set and another one panics on
/// run 6; the sum feeds `src`.
fn diamond(log: &Log, fail: &Rc<Cell<bool>>) -> (FlowBuilder, Node<i64>) {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let src = b.node(|x: i64| async move { x % 97 }, (back.or(1),));
    b.set_name(src, "src");
    let mids: Vec<_> = ["m0", "m1", "m2"]
        .into_iter()
        .map(|m| logged(&mut b, log, m, src))
        .collect();
    let fail = Rc::clone(fail);
    let j1 = b.try_node(
        move |x: i64, y: i64| {
            let fail = fail.get();
            async move {
                if fail {
                    Err(format!("refused {x}+{y}"))
                } else {
                    Ok(x + y)
                }
            }
        },
        (mids[0], mids[1]),
    );
    b.set_name(j1, "j1");
    let j2 = b.node(
        |x: i64, y: i64| async move {
            let me = flowloop::flow::current_node().expect("inside a body");
            if me.run == 6 && x > 0 {
                panic!("j2 at run 6");
            }
            x + y
        },
        (j1, mids[2]),
    );
    b.set_name(j2, "j2");
    b.define(back, j2);
    (b, j2)
}

#[test]
fn a_diamond_with_feedback_failures_and_panics_is_the_same_traced_and_untraced() {
    for terminate in [true, false] {
        let fails = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
        let runs = Cell::new(0);
        let last = Cell::new(None);
        let options = || {
            // Run 2 (asked for twice: traced, then untraced) fails `j1`; the others do not.
            runs.set(runs.get() + 1);
            let failing = (3..=4).contains(&runs.get());
            fails.0.set(failing);
            fails.1.set(failing);
            let options = RunOptions::new().terminate_on_error(terminate);
            match last.get() {
                Some(j2) => options.limit(j2, ((runs.get() as u64).div_ceil(2) + 3,)),
                None => options,
            }
        };
        let which = Cell::new(0);
        let (flow, log) = same_both_ways(4, options, |log| {
            which.set(which.get() + 1);
            let (b, j2) = diamond(log, if which.get() == 1 { &fails.0 } else { &fails.1 });
            last.set(Some(j2));
            b
        });
        assert!(!log.borrow().is_empty());
        assert!(
            flow.node_views().iter().any(|v| v.runs > 1),
            "the cycle ran more than once"
        );
    }
    // What the runs compared above report, untraced: the failure, then the panic.
    let fail = Rc::new(Cell::new(false));
    let (b, j2) = diamond(&Log::default(), &fail);
    let mut flow = b.build().unwrap();
    let mut seen = Vec::new();
    for run in 1..=4u64 {
        fail.set(run == 2);
        let options = RunOptions::new().terminate_on_error(false).limit(j2, (run + 3,));
        seen.push(shown(&flow.run_until_complete(options)));
    }
    assert!(seen[0].starts_with("ok: "), "{seen:?}");
    assert!(seen[1].contains("refused"), "{seen:?}");
    assert!(seen.iter().any(|s| s.contains("j2 at run 6")), "{seen:?}");
}

#[test]
fn a_panicking_clone_of_one_of_two_inputs_fails_the_consumer_both_ways() {
    let build = |_: &Log| {
        let mut b = FlowBuilder::new();
        let x = b.node(|| async { Brittle(7) }, ());
        let y = b.node(|| async { 5i64 }, ());
        let sum = b.node(|x: Brittle, y: i64| async move { x.0 + y }, (x, y));
        b.set_name(sum, "sum");
        b.node(inc, (sum,));
        b
    };
    BOOM.with(|b| b.set(true));
    let (flow, _) = same_both_ways(1, || RunOptions::new().terminate_on_error(false), build);
    BOOM.with(|b| b.set(false));
    let v = views(&flow);
    assert_eq!(v[2], (NodeStatus::Failed, None, 1), "{v:?}");
    assert_eq!(v[3], (NodeStatus::Idle, None, 0));
    let (flow, _) = same_both_ways(2, RunOptions::new, build);
    assert_eq!(views(&flow)[3], (NodeStatus::Idle, run_gen(1), 2));
}

#[test]
fn timed_and_untimed_runs_of_streams_and_waits_agree() {
    async fn count(out: flowloop::flow::Emitter<i64>, n: i64) -> i64 {
        for i in 0..n {
            if out.emit(i).await.is_err() {
                break;
            }
        }
        n
    }
    async fn total(mut s: flowloop::flow::Stream<i64>, k: i64) -> i64 {
        let mut t = 0;
        while let Some(x) = s.next().await {
            t += x * k;
        }
        flowloop::sleep(Duration::from_millis(1)).await;
        t
    }
    let build = || {
        let mut b = FlowBuilder::new();
        let k = b.node(|| async { 3i64 }, ());
        let src = b.stream(count, (50i64,));
        let t = b.node(total, (src.stream(), k));
        let both = b.node(|t: i64, n: i64| async move { t + n }, (t, src));
        (b.build().unwrap(), both, t)
    };
    let (mut timed, a, timed_total) = build();
    let (mut plain, b, plain_total) = build();
    for _ in 0..3 {
        let x = timed.run_until_complete(RunOptions::new().time_nodes(true));
        let y = plain.run_until_complete(RunOptions::new());
        assert_eq!(shown(&x), shown(&y));
        assert_eq!(views(&timed), views(&plain));
    }
    assert_eq!(timed.value(a), Some(3 * 49 * 50 / 2 + 50));
    assert_eq!(plain.value(b), timed.value(a));
    // The timed flow took the general (timed) step: its stream consumer's 150 polls over three
    // runs add up to body time; the untimed one's record none.
    assert_eq!(timed.stats(timed_total).runs, 3);
    assert!(timed.stats(timed_total).run_time > Duration::ZERO);
    assert_eq!(plain.stats(plain_total).run_time, Duration::ZERO);
}

// Rings: a cycle laid out as a chain whose last node feeds its head alone laps in one loop,
// each body's own node updated as it publishes and the rest of the bookkeeping done once after
// the loop (`run_laps` in `fuse.rs`). Every stop of that loop — the step budget, a limit in
// the middle of a lap, a body that fails, panics or waits, in the head or further on — must
// leave what the general path leaves.

/// What one node of [`ring`] does besides adding 1, on its `k`th call (counted from 1 over
/// the flow's life).
#[derive(Debug, Clone, Copy)]
enum Twist {
    Nothing,
    FailAt(u32),
    PanicAt(u32),
    WaitAt(u32),
}

type RingFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<i64, String>>>>;

/// The body of ring node `name`: logs its name, then adds 1, with `twist` on the call it names.
fn ring_body(log: &Log, name: &'static str, twist: Twist) -> impl Fn(i64) -> RingFuture + 'static {
    let (log, calls) = (Rc::clone(log), Rc::new(Cell::new(0u32)));
    move |x: i64| -> RingFuture {
        log.borrow_mut().push(name.to_string());
        calls.set(calls.get() + 1);
        let k = calls.get();
        if matches!(twist, Twist::PanicAt(at) if at == k) {
            panic!("{name} panics on call {k}");
        }
        let fail = matches!(twist, Twist::FailAt(at) if at == k);
        let wait = matches!(twist, Twist::WaitAt(at) if at == k);
        Box::pin(async move {
            if wait {
                flowloop::sleep(Duration::from_millis(1)).await;
            }
            if fail {
                Err(format!("{name} refuses call {k}"))
            } else {
                Ok(x + 1)
            }
        })
    }
}

/// `h → a → b → t → h`, `h`'s way back with default 0: a ring of four links. The node named
/// `which` takes `twist`. Returns the builder and the nodes in ring order.
fn ring(log: &Log, which: &str, twist: Twist) -> (FlowBuilder, Vec<Node<i64>>) {
    let twist_of = |name: &str| if name == which { twist } else { Twist::Nothing };
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let h = b.try_node(ring_body(log, "h", twist_of("h")), (back.or(0),));
    b.set_name(h, "h");
    let mut nodes = vec![h];
    for name in ["a", "b", "t"] {
        let n = b.try_node(ring_body(log, name, twist_of(name)), (*nodes.last().expect("h"),));
        b.set_name(n, name);
        nodes.push(n);
    }
    b.define(back, nodes[3]);
    (b, nodes)
}

/// Options for [`same_both_ways`] (asked for twice per run: traced, then untraced): the `k`th
/// run stops `node` (every node when `None`) at generation `laps * k - 1`.
fn laps_a_run(laps: u64, node: Option<Node<i64>>, terminate: bool) -> impl Fn() -> RunOptions {
    let calls = Cell::new(0u64);
    move || {
        calls.set(calls.get() + 1);
        let limit = (laps * calls.get().div_ceil(2) - 1,);
        let options = RunOptions::new().terminate_on_error(terminate);
        match node {
            Some(n) => options.limit(n, limit),
            None => options.limit_all(limit),
        }
    }
}

#[test]
fn a_ring_laps_past_the_step_budget_the_same_both_ways() {
    // 1,500 laps of four links a run: several polls' worth of steps (1,024 each).
    let (flow, log) = same_both_ways(3, laps_a_run(1_500, None, true), |log| ring(log, "", Twist::Nothing).0);
    let nodes = ring(&Log::default(), "", Twist::Nothing).1;
    // `h` reaches its limit first in each run; the next run finishes that lap first.
    assert_eq!(flow.generation(nodes[0]), run_gen(4_499));
    assert_eq!(flow.value(nodes[0]), Some(4 * 4_499 + 1));
    assert_eq!(log.borrow().len(), 4 * 4_499 + 1);
    assert_eq!(flow.stats(nodes[3]).runs, 4_499);
}

#[test]
fn a_limit_on_a_middle_node_of_a_ring_stops_mid_lap_the_same_both_ways() {
    let nodes = ring(&Log::default(), "", Twist::Nothing).1;
    let b = nodes[2];
    let (flow, _) = same_both_ways(3, laps_a_run(700, Some(b), true), |log| ring(log, "", Twist::Nothing).0);
    assert_eq!(flow.generation(b), run_gen(2_099));
    // `h` and `a` ran the lap `b` stopped in; `t` did not.
    assert_eq!(flow.generation(nodes[1]), run_gen(2_099));
    assert_eq!(flow.generation(nodes[3]), run_gen(2_098));
    let v = views(&flow);
    assert_eq!(v[3], (NodeStatus::Idle, run_gen(2_098), 2_099), "t");
    // And the outcome names `b`, untraced too.
    let mut fresh = ring(&Log::default(), "", Twist::Nothing).0.build().unwrap();
    let outcome = fresh.run_until_complete(RunOptions::new().limit(b, (9,))).unwrap();
    assert!(
        matches!(&outcome, Outcome::LimitReached { node, generation, .. }
            if *node == b.id() && *generation == Generation::from((9,))),
        "{outcome}"
    );
}

#[test]
fn ring_nodes_that_fail_panic_or_wait_mid_lap_agree_both_ways() {
    let twists = [Twist::FailAt(700), Twist::PanicAt(1_100), Twist::WaitAt(900)];
    for which in ["h", "a", "t"] {
        for twist in twists {
            for terminate in [true, false] {
                let (flow, log) = same_both_ways(3, laps_a_run(500, None, terminate), |log| ring(log, which, twist).0);
                // Each twist came deep inside a run's laps (the second or third run's), and
                // the laps went on around it.
                let calls = log.borrow().iter().filter(|n| n.as_str() == which).count();
                assert!(calls >= 1_100, "{which} {twist:?} {terminate}: {calls} calls");
                let v = views(&flow);
                assert!(v.iter().all(|v| v.2 >= 1_000), "{which} {twist:?} {terminate}: {v:?}");
            }
        }
    }
}

#[test]
fn ring_bodies_see_their_own_node_and_the_beacon_on_every_lap() {
    let beacon = RunBeacon::new();
    let wrong: Rc<RefCell<Vec<String>>> = Rc::default();
    fn check(
        beacon: &std::sync::Arc<RunBeacon>,
        wrong: &Rc<RefCell<Vec<String>>>,
    ) -> impl Fn(i64) -> std::future::Ready<i64> + 'static {
        let (beacon, wrong) = (beacon.clone(), Rc::clone(wrong));
        move |x: i64| {
            let me = flowloop::flow::current_node().expect("inside a body");
            let mark = beacon.last().expect("the run marked this node");
            // No run failed: the run index counts the runs before this one.
            let want_gen = me.run.checked_sub(1).map(|r| Generation::from((r,)));
            if mark.node != me.id || u64::from(mark.run) != me.run + 1 || me.generation != want_gen {
                wrong.borrow_mut().push(format!("{me:?} under {mark:?}"));
            }
            std::future::ready(x + 1)
        }
    }
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let h = b.node(check(&beacon, &wrong), (back.or(0),));
    let a = b.node(check(&beacon, &wrong), (h,));
    let t = b.node(check(&beacon, &wrong), (a,));
    b.define(back, t);
    let mut flow = b.build().unwrap();
    for run in 1..=2u64 {
        let options = RunOptions::new().beacon(beacon.clone()).limit(t, (run * 1_000 - 1,));
        flow.run_until_complete(options).unwrap();
        assert_eq!(flow.value(t), Some(3 * run as i64 * 1_000), "run {run}");
    }
    assert_eq!(*wrong.borrow(), Vec::<String>::new());
}

// Siblings: the one-port links a fan-out made ready, numbered one after another and listed
// together, run back to back (`run_siblings` in `fuse.rs`), then each one's bookkeeping in
// list order.

/// `p` feeds `p1` and `p2` (siblings themselves); `m0 ← p1`, `m1 ← p2`, `m2 ← p2`, `m3 ← p2`
/// are created in one loop and listed together in that order, but fed by two producers;
/// `join` adds them up. Every node but `join` logs its name. Returns the builder and `[m0, m1,
/// m2, m3, join]`.
fn two_fans(log: &Log) -> (FlowBuilder, Vec<Node<i64>>) {
    let mut b = FlowBuilder::new();
    let p = logged_const(&mut b, log, "p");
    let p1 = logged(&mut b, log, "p1", p);
    let p2 = logged(&mut b, log, "p2", p);
    let mut nodes: Vec<Node<i64>> = ["m0", "m1", "m2", "m3"]
        .iter()
        .enumerate()
        .map(|(i, name)| logged(&mut b, log, name, if i == 0 { p1 } else { p2 }))
        .collect();
    let join = b.node(
        |a: i64, b: i64, c: i64, d: i64| async move { a + b + c + d },
        (nodes[0], nodes[1], nodes[2], nodes[3]),
    );
    nodes.push(join);
    (b, nodes)
}

#[test]
fn siblings_fed_by_two_producers_count_each_ones_reads() {
    let (flow, log) = same_both_ways(3, RunOptions::new, |log| two_fans(log).0);
    let join = two_fans(&Log::default()).1[4];
    assert_eq!(flow.value(join), Some(4 * 7));
    let run = ["p", "p1", "p2", "m0", "m1", "m2", "m3"];
    assert_eq!(*log.borrow(), run.repeat(3));
    // Every producer's value was read by all its consumers: each run started afresh.
    assert!(
        views(&flow).iter().all(|v| *v == (NodeStatus::Idle, run_gen(2), 3)),
        "{:?}",
        views(&flow)
    );
}

#[test]
fn a_limit_on_a_sibling_stops_the_run_there_the_same_both_ways() {
    let nodes = two_fans(&Log::default()).1;
    // On a lone link (`m0`), the first sibling of a run of them, one in the middle, the last.
    for at in [0, 1, 2, 3] {
        let limited = nodes[at];
        let (flow, log) = same_both_ways(3, || RunOptions::new().limit(limited, (1,)), |log| two_fans(log).0);
        assert_eq!(flow.generation(limited), run_gen(1), "m{at}");
        // The siblings after it in the list did not start in the run that reached the limit.
        let second_run = &log.borrow()[7..];
        assert_eq!(
            second_run.last().map(String::as_str),
            Some(["m0", "m1", "m2", "m3"][at]),
            "m{at}"
        );
        assert_eq!(flow.generation(nodes[4]), run_gen(0), "join after m{at}'s limit");
    }
}

/// Siblings whose producer waits for their reads to publish a newer value: `p` laps a cycle
/// with `q` while its siblings `s0`, `s1`, `s2` sleep in their first run, so `p`'s next run
/// ends waiting for them to read its value. When they wake they come back one at a time (from
/// the resolution queue), and the last one's read lets `p` publish; everything agrees with a
/// traced run.
#[test]
fn siblings_whose_producer_waits_to_publish_agree_both_ways() {
    let build = |log: &Log| {
        let mut b = FlowBuilder::new();
        let back = b.forward::<i64>("back");
        let p = logged_with_default(&mut b, log, "p", back.or(0));
        for name in ["s0", "s1", "s2"] {
            let (log, first) = (Rc::clone(log), Rc::new(Cell::new(true)));
            let s = b.node(
                move |x: i64| {
                    log.borrow_mut().push(name.to_string());
                    let sleep = first.replace(false);
                    async move {
                        if sleep {
                            flowloop::sleep(Duration::from_millis(1)).await;
                        }
                        x * 10
                    }
                },
                (p,),
            );
            b.set_name(s, name);
        }
        let q = logged(&mut b, log, "q", p);
        b.define(back, q);
        b
    };
    let (flow, log) = same_both_ways(2, || RunOptions::new().limit_all((4,)), build);
    let log = log.borrow();
    // `p` ran two more laps while the siblings slept (the third body's value waits for
    // them), then they read its second value, one after another.
    let third_p = log
        .iter()
        .enumerate()
        .filter(|(_, n)| *n == "p")
        .nth(2)
        .expect("three laps")
        .0;
    let reads_before = log[..third_p].iter().filter(|n| n.starts_with('s')).count();
    assert_eq!(reads_before, 3, "{log:?}");
    assert_eq!(log[third_p + 1..third_p + 4], ["s0", "s1", "s2"], "{log:?}");
    assert!(views(&flow).iter().all(|v| v.2 >= 4), "{:?}", views(&flow));
}

// Stream hand-offs: a producer's emit resumes its stalled consumer and the consumer's next pull
// resumes the producer, chunk after chunk, in one loop of the scheduler (`resume_laps`); a
// producer with one consumer port and no stream input publishes every chunk after its run's
// first in one pass (`publish_lone_chunk`). Streams longer than the step budget (1,024 steps
// per poll of the scheduler) check that the loop hands back and picks up where it was.

/// What the bodies of [`logged_stream`] do at chunk `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trip {
    Nothing,
    ConsumerPanics,
    ConsumerFails,
    ConsumerSleeps,
    ConsumerStops,
    ConsumerCancels,
    ProducerFails,
    ProducerSleeps,
}

const TRIPS: [Trip; 8] = [
    Trip::Nothing,
    Trip::ConsumerPanics,
    Trip::ConsumerFails,
    Trip::ConsumerSleeps,
    Trip::ConsumerStops,
    Trip::ConsumerCancels,
    Trip::ProducerFails,
    Trip::ProducerSleeps,
];

/// A producer `p` emitting `0..count` (`count` from a node before it, so `p` has a connected
/// plain input; it logs `e{i}` before each emit), optionally through a
/// mapper `m` (a stream input and a stream output: it doubles each chunk) into a consumer `c`
/// that logs `t{x}` for each chunk it takes and returns the sum; `trip` at chunk `at`. Returns
/// the builder, `p`, `c`.
fn logged_stream(log: &Log, count: i64, mapped: bool, trip: Trip, at: i64) -> (FlowBuilder, NodeId, Node<i64>) {
    let mut b = FlowBuilder::new();
    let count = b.node(move || async move { count }, ());
    let l = Rc::clone(log);
    let p = b.try_stream(
        move |out: Emitter<i64>, count: i64| {
            let l = Rc::clone(&l);
            async move {
                for i in 0..count {
                    if i == at && trip == Trip::ProducerSleeps {
                        flowloop::sleep(Duration::from_millis(1)).await;
                    }
                    l.borrow_mut().push(format!("e{i}"));
                    if out.emit(i).await.is_err() {
                        return Ok(-1);
                    }
                    if i == at && trip == Trip::ProducerFails {
                        return Err(format!("producer failed after chunk {i}"));
                    }
                }
                Ok(count)
            }
        },
        (count,),
    );
    b.set_name(p.id(), "p");
    let source = if mapped {
        let m = b.stream(
            |out: Emitter<i64>, mut s: Stream<i64>| async move {
                let mut n = 0;
                while let Some(x) = s.next().await {
                    n += 1;
                    if out.emit(2 * x).await.is_err() {
                        break;
                    }
                }
                n
            },
            (p.stream(),),
        );
        b.set_name(m.id(), "m");
        m.stream()
    } else {
        p.stream()
    };
    let l = Rc::clone(log);
    let c = b.try_node(
        move |mut s: Stream<i64>| {
            let l = Rc::clone(&l);
            async move {
                let (mut total, mut k) = (0, 0);
                while let Some(x) = s.next().await {
                    l.borrow_mut().push(format!("t{x}"));
                    total += x;
                    if k == at {
                        match trip {
                            Trip::ConsumerPanics => panic!("consumer panicked at chunk {k}"),
                            Trip::ConsumerFails => return Err(format!("consumer failed at chunk {k}")),
                            Trip::ConsumerSleeps => flowloop::sleep(Duration::from_millis(1)).await,
                            Trip::ConsumerStops => return Ok(total),
                            Trip::ConsumerCancels => {
                                s.cancel().await;
                                return Ok(total);
                            }
                            _ => {}
                        }
                    }
                    k += 1;
                }
                Ok(total)
            }
        },
        (source,),
    );
    b.set_name(c, "c");
    (b, p.id(), c)
}

#[test]
fn a_stream_longer_than_the_step_budget_hands_off_the_same_both_ways() {
    for mapped in [false, true] {
        let count = 2_500;
        let (flow, log) = same_both_ways(2, RunOptions::new, |log| {
            logged_stream(log, count, mapped, Trip::Nothing, -1).0
        });
        let (_, p, c) = logged_stream(&Log::default(), count, mapped, Trip::Nothing, -1);
        let factor = if mapped { 2 } else { 1 };
        assert_eq!(
            flow.value(c),
            Some(factor * count * (count - 1) / 2),
            "mapped: {mapped}"
        );
        assert_eq!(flow.generation(p), run_gen(1));
        // Lockstep: every chunk is taken before the next is emitted.
        let log = log.borrow();
        let run: Vec<String> = (0..count)
            .flat_map(|i| [format!("e{i}"), format!("t{}", factor * i)])
            .collect();
        assert_eq!(*log, [run.clone(), run].concat(), "mapped: {mapped}");
    }
}

#[test]
fn a_stream_whose_bodies_fail_panic_sleep_or_stop_mid_way_agrees_both_ways() {
    for trip in TRIPS {
        // At the first chunk (the general publication), the second (the first lone one), one
        // past the step budget, and the last.
        for at in [0, 1, 1_300, 1_999] {
            for mapped in [false, true] {
                for terminate in [true, false] {
                    let options = || RunOptions::new().terminate_on_error(terminate);
                    let build = |log: &Log| logged_stream(log, 2_000, mapped, trip, at).0;
                    // A second run continues what the first left suspended: compared both
                    // ways; the expectations below are those of one run.
                    same_both_ways(2, options, build);
                    let (flow, log) = same_both_ways(1, options, build);
                    let (_, p, c) = logged_stream(&Log::default(), 2_000, mapped, trip, at);
                    let case = format!("{trip:?} at {at}, mapped: {mapped}, terminate: {terminate}");
                    let taken = log.borrow().iter().filter(|e| e.starts_with('t')).count();
                    match trip {
                        Trip::Nothing | Trip::ConsumerSleeps | Trip::ProducerSleeps => {
                            assert_eq!(taken, 2_000, "{case}");
                            assert_eq!(flow.generation(p), run_gen(0), "{case}");
                            assert_eq!(flow.generation(c), run_gen(0), "{case}");
                        }
                        Trip::ConsumerStops | Trip::ConsumerCancels => {
                            assert_eq!(taken, at as usize + 1, "{case}");
                            assert_eq!(flow.generation(c), run_gen(0), "{case}");
                        }
                        Trip::ConsumerPanics | Trip::ConsumerFails | Trip::ProducerFails => {
                            assert_eq!(taken, at as usize + 1, "{case}");
                            assert_eq!(flow.generation(c), None, "{case}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_limit_on_a_streaming_producer_stops_mid_stream_the_same_both_ways() {
    for at in [0, 1, 1_300] {
        for mapped in [false, true] {
            let limited = logged_stream(&Log::default(), 2_000, mapped, Trip::Nothing, -1).1;
            let (flow, log) = same_both_ways(
                2,
                || RunOptions::new().limit(limited, (1, at)),
                |log| logged_stream(log, 2_000, mapped, Trip::Nothing, -1).0,
            );
            let case = format!("limit (1,{at}), mapped: {mapped}");
            assert_eq!(flow.generation(limited), Some(Generation::from((1, at))), "{case}");
            // The first run streamed everything; the second stopped at the chunk that reached
            // the limit, before any consumer took it.
            let log = log.borrow();
            let second = &log[4_000..];
            assert_eq!(second.last(), Some(&format!("e{at}")), "{case}");
            assert_eq!(second.len() as u64, 2 * at + 1, "{case}");
        }
    }
}

/// Two producers `l` and `r` of 1,500 chunks each, zipped by one consumer `z` that logs and
/// sums the pairs (it stalls on each port in turn).
fn zipped(log: &Log) -> (FlowBuilder, Node<i64>) {
    let mut b = FlowBuilder::new();
    let mut sources = Vec::new();
    for (name, from) in [("l", 0), ("r", 10_000)] {
        let l = Rc::clone(log);
        let s = b.stream(
            move |out: Emitter<i64>, from: i64| {
                let l = Rc::clone(&l);
                async move {
                    for i in from..from + 1_500 {
                        l.borrow_mut().push(format!("{name}{i}"));
                        if out.emit(i).await.is_err() {
                            break;
                        }
                    }
                    from
                }
            },
            (from,),
        );
        b.set_name(s.id(), name);
        sources.push(s);
    }
    let l = Rc::clone(log);
    let z = b.node(
        move |left: Stream<i64>, right: Stream<i64>| {
            let l = Rc::clone(&l);
            async move {
                let mut pairs = azip((left, right));
                let mut total = 0;
                while let Some((x, y)) = pairs.next().await {
                    l.borrow_mut().push(format!("z{x}+{y}"));
                    total += x + y;
                }
                total
            }
        },
        (sources[0].stream(), sources[1].stream()),
    );
    b.set_name(z, "z");
    (b, z)
}

#[test]
fn streams_zipped_into_one_consumer_hand_off_the_same_both_ways() {
    let (flow, log) = same_both_ways(2, RunOptions::new, |log| zipped(log).0);
    let z = zipped(&Log::default()).1;
    let want: i64 = (0..1_500).map(|i| i + 10_000 + i).sum();
    assert_eq!(flow.value(z), Some(want));
    assert_eq!(log.borrow().len(), 2 * 3 * 1_500);
}

/// Emits `0..n`, then returns 0.
async fn count_up(out: Emitter<i64>, n: i64) -> i64 {
    for i in 0..n {
        if out.emit(i).await.is_err() {
            break;
        }
    }
    0
}

/// The hand-off loop spends the scheduler's step budget like every other step: a stream of
/// 5,000 chunks (10,000 polls) hands the loop back about every 1,024 polls, so a task beside
/// the run gets polled in between, many times before the run ends.
#[test]
fn a_long_stream_leaves_the_loop_to_other_tasks_between_budgets() {
    let mut flow = {
        let mut b = FlowBuilder::new();
        let p = b.stream(count_up, (5_000,));
        b.node(
            |mut s: Stream<i64>| async move {
                let mut n = 0;
                while s.next().await.is_some() {
                    n += 1;
                }
                n
            },
            (p.stream(),),
        );
        b.build().expect("the flow builds")
    };
    let run = flow.run(RunOptions::new());
    let (ticks, done) = (Rc::new(Cell::new(0u32)), Rc::new(Cell::new(false)));
    let (t, d) = (Rc::clone(&ticks), Rc::clone(&done));
    let outcome = flowloop::run(async move {
        let ticker = flowloop::spawn(async move {
            // Bounded: the run needs about ten turns; a stuck run ends the ticker anyway.
            while !d.get() && t.get() < 1_000_000 {
                t.set(t.get() + 1);
                flowloop::yield_now().await;
            }
        })
        .await;
        let outcome = run.await;
        done.set(true);
        let _ = ticker.join().await;
        outcome
    })
    .expect("the loop runs");
    assert!(matches!(outcome, Ok(Outcome::Completed { .. })), "{outcome:?}");
    assert!(
        (5..1_000).contains(&ticks.get()),
        "ticks beside the run: {}",
        ticks.get()
    );
}

/// A value that logs, when dropped, the node `current_node()` names then (or `none`).
#[derive(Clone)]
struct DropWitness(Log);

impl Drop for DropWitness {
    fn drop(&mut self) {
        let seen = flowloop::flow::current_node().map_or("none".to_string(), |n| n.name);
        self.0.borrow_mut().push(format!("dropped under {seen}"));
    }
}

/// A stream consumer's return goes through the hand-off loop (the producer's last publication
/// resumes it); its value is then published outside any node's poll, as the general step does
/// it: the value it replaces is dropped with no current node.
#[test]
fn a_stream_consumer_publishes_outside_any_nodes_poll() {
    let build = |log: &Log| {
        let mut b = FlowBuilder::new();
        let p = b.stream(count_up, (100,));
        let l = Rc::clone(log);
        let c = b.node(
            move |mut s: Stream<i64>| {
                let l = Rc::clone(&l);
                async move {
                    while s.next().await.is_some() {}
                    DropWitness(l)
                }
            },
            (p.stream(),),
        );
        b.set_name(c, "c");
        b
    };
    // The flow (and the value it keeps) lives past the check.
    let (_flow, log) = same_both_ways(2, RunOptions::new, build);
    // The second run's value replaced the first one's.
    assert_eq!(*log.borrow(), ["dropped under none"]);
}

/// Where a pair's odd poll happens: every `EVERY` chunks, from chunk 3 on.
const EVERY: i64 = 700;

/// A producer of 2,500 chunks into one consumer: a lone pair, whose hand-off runs in pair mode
/// (`src/flow/pair.rs`) past several step budgets, beside an idle node `x` (a generation limit
/// on it, never reached, makes a run take the general hand-off instead). Both bodies log each
/// chunk with the generation and run `current_node()` shows them (what a body can see of the
/// records pair mode keeps current). Every [`EVERY`] chunks, from chunk 3 on, one of them
/// does something else in the same poll: `odd` says what.
fn odd_pair(log: &Log, odd: Odd) -> (FlowBuilder, Node<i64>, Node<i64>) {
    let mut b = FlowBuilder::new();
    let x = b.node(|| async { 0i64 }, ());
    let l = Rc::clone(log);
    let p = b.stream(
        move |out: Emitter<i64>| {
            let l = Rc::clone(&l);
            async move {
                for i in 0..2_500i64 {
                    let me = flowloop::flow::current_node().expect("inside a body");
                    l.borrow_mut().push(format!("p{i} {:?} {}", me.generation, me.run));
                    if i % EVERY == 3 && odd == Odd::SameEmitTwice {
                        // The same emit polled again at once, its chunk not taken yet.
                        let mut emit = out.emit(i);
                        let done = std::future::poll_fn(|cx| {
                            let first = std::pin::Pin::new(&mut emit).poll(cx);
                            if first.is_ready() {
                                return first;
                            }
                            std::pin::Pin::new(&mut emit).poll(cx)
                        })
                        .await;
                        if done.is_err() {
                            return -1;
                        }
                        continue;
                    }
                    let in_poll = matches!(odd, Odd::TwoEmits | Odd::PanicAfterEmit | Odd::ReturnAfterEmit);
                    if i % EVERY != 3 || !in_poll {
                        if out.emit(i).await.is_err() {
                            return -1;
                        }
                        continue;
                    }
                    // Two emits, or an emit and then a panic or a return, in one poll.
                    let (mut first, mut second) = (Some(out.emit(i)), Some(out.emit(-i)));
                    std::future::poll_fn(|cx| {
                        if let Some(f) = first.as_mut() {
                            if std::pin::Pin::new(f).poll(cx).is_ready() {
                                first = None;
                            }
                        }
                        match odd {
                            Odd::PanicAfterEmit => panic!("producer panicked after chunk {i}"),
                            Odd::ReturnAfterEmit => return std::task::Poll::Ready(()),
                            _ => {}
                        }
                        if let Some(f) = second.as_mut() {
                            if std::pin::Pin::new(f).poll(cx).is_ready() {
                                second = None;
                            }
                        }
                        if first.is_none() && second.is_none() {
                            std::task::Poll::Ready(())
                        } else {
                            std::task::Poll::Pending
                        }
                    })
                    .await;
                    if odd == Odd::ReturnAfterEmit {
                        return i;
                    }
                }
                2_500
            }
        },
        (),
    );
    b.set_name(p.id(), "p");
    let l = Rc::clone(log);
    let c = b.node(
        move |mut s: Stream<i64>| {
            let l = Rc::clone(&l);
            async move {
                let mut total = 0;
                let mut k = 0i64;
                loop {
                    if odd == Odd::CancelBeforeTake && k % EVERY == 3 {
                        // Stalls, and once resumed for the next chunk cancels before taking it.
                        let mut resumed = false;
                        std::future::poll_fn(|cx| {
                            if !resumed {
                                resumed = true;
                                let pulled = std::pin::Pin::new(&mut s.next()).poll(cx);
                                assert!(pulled.is_pending(), "the chunk after a take is not there yet");
                                return std::task::Poll::Pending;
                            }
                            let mut cancel = std::pin::pin!(s.cancel());
                            cancel.as_mut().poll(cx)
                        })
                        .await;
                        l.borrow_mut().push(format!("cancelled after {k}"));
                        break;
                    }
                    let twice = odd == Odd::TwoPulls && k % EVERY == 3;
                    // Two pulls in one poll: the second finds the consumer stalled already.
                    let next = std::future::poll_fn(|cx| {
                        let first = std::pin::Pin::new(&mut s.next()).poll(cx);
                        if first.is_ready() || !twice {
                            return first;
                        }
                        std::pin::Pin::new(&mut s.next()).poll(cx)
                    })
                    .await;
                    let Some(v) = next else { break };
                    let me = flowloop::flow::current_node().expect("inside a body");
                    l.borrow_mut().push(format!("c{v} {:?} {}", me.generation, me.run));
                    total += v;
                    k += 1;
                }
                total
            }
        },
        (p.stream(),),
    );
    b.set_name(c, "c");
    (b, c, x)
}

/// What [`odd_pair`]'s bodies do besides the hand-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Odd {
    Nothing,
    /// The producer polls two emits in one poll (the second while the first is offered).
    TwoEmits,
    /// The producer polls an emit again in the poll that published its chunk.
    SameEmitTwice,
    /// The producer panics in the poll that published a chunk.
    PanicAfterEmit,
    /// The producer's body returns in the poll that published a chunk.
    ReturnAfterEmit,
    /// The consumer pulls twice in one poll (the second while already stalled).
    TwoPulls,
    /// The consumer, resumed for a chunk, cancels the stream before taking it.
    CancelBeforeTake,
}

/// A lone pair's hand-off in pair mode gives what the general hand-off gives, whatever its
/// bodies do in the poll that moves it: two emits or two pulls in one poll, a panic or a
/// return right after an emit — each ends pair mode with the records as the general steps
/// leave them at that point (in the producer's poll with a chunk offered, in the consumer's
/// after it stalled), and so does every step budget spent in between. Compared over two runs
/// with the same flow run through the general hand-off (an unreached limit) and, where the
/// traced steps agree with the untraced ones, with a traced run.
#[test]
fn a_lone_pair_hands_off_as_the_general_steps_do_whatever_its_bodies_do() {
    for odd in [
        Odd::Nothing,
        Odd::TwoEmits,
        Odd::SameEmitTwice,
        Odd::PanicAfterEmit,
        Odd::ReturnAfterEmit,
        Odd::TwoPulls,
        Odd::CancelBeforeTake,
    ] {
        let (pair_log, general_log) = (Log::default(), Log::default());
        let (b, c, x) = odd_pair(&pair_log, odd);
        let mut paired = b.build().expect("the flow builds");
        let (b, _, _) = odd_pair(&general_log, odd);
        let mut general = b.build().expect("the flow builds");
        for run in 0..2 {
            let a = paired.run_until_complete(RunOptions::new());
            let b = general.run_until_complete(RunOptions::new().limit(x, (1_000_000,)));
            assert_eq!(shown(&a), shown(&b), "{odd:?}: result of run {run}");
            assert_eq!(views(&paired), views(&general), "{odd:?}: views after run {run}");
            assert_eq!(
                *pair_log.borrow(),
                *general_log.borrow(),
                "{odd:?}: bodies up to run {run}"
            );
        }
        let log = pair_log.borrow();
        let produced = log.iter().filter(|e| e.starts_with('p')).count();
        match odd {
            Odd::Nothing | Odd::TwoPulls | Odd::SameEmitTwice => {
                same_both_ways(2, RunOptions::new, |log| odd_pair(log, odd).0);
                assert_eq!(paired.value(c), Some((0..2_500).sum()), "{odd:?}");
                assert_eq!(produced, 2 * 2_500, "{odd:?}");
                // The producer sees the generation of its last chunk before each emit.
                assert!(log.contains(&"p2 Some(Generation { run: 0, chunk: Some(1) }) 0".to_string()));
            }
            Odd::CancelBeforeTake => {
                same_both_ways(2, RunOptions::new, |log| odd_pair(log, odd).0);
                // Chunks 0, 1 and 2 taken; chunk 3 offered, then the stream cancelled.
                assert_eq!(paired.value(c), Some(3), "{odd:?}");
                assert!(log.contains(&"cancelled after 3".to_string()), "{odd:?}");
            }
            Odd::TwoEmits | Odd::PanicAfterEmit | Odd::ReturnAfterEmit => {
                assert!(produced > 3, "{odd:?}: {produced}");
            }
        }
    }
}

/// A chunk whose `Clone` logs the node `current_node()` names while it is cloned.
struct Peek {
    value: i64,
    log: Log,
}

impl Clone for Peek {
    fn clone(&self) -> Self {
        let seen = flowloop::flow::current_node().map(|n| n.name);
        self.log.borrow_mut().push(format!("clone {} in {seen:?}", self.value));
        Peek {
            value: self.value,
            log: Rc::clone(&self.log),
        }
    }
}

/// A stream of [`Peek`] chunks taken by a consumer, past the step budget.
fn peeking(log: &Log) -> FlowBuilder {
    let mut b = FlowBuilder::new();
    let l = Rc::clone(log);
    let p = b.stream(
        move |out: Emitter<Peek>| {
            let l = Rc::clone(&l);
            async move {
                for value in 0..1_500 {
                    let chunk = Peek {
                        value,
                        log: Rc::clone(&l),
                    };
                    if out.emit(chunk).await.is_err() {
                        break;
                    }
                }
                0i64
            }
        },
        (),
    );
    b.set_name(p.id(), "p");
    let c = b.node(
        |mut s: Stream<Peek>| async move {
            let mut total = 0;
            while let Some(chunk) = s.next().await {
                total += chunk.value;
            }
            total
        },
        (p.stream(),),
    );
    b.set_name(c, "c");
    b
}

/// A chunk is cloned for its consumer with the flow's records released, as a plain input's
/// value is: its `Clone` sees the consumer as the node running (through the general hand-off,
/// traced, and in pair mode alike).
#[test]
fn a_chunk_is_cloned_inside_its_consumer_with_the_flow_free() {
    let (_, log) = same_both_ways(1, RunOptions::new, peeking);
    let log = log.borrow();
    assert_eq!(log.len(), 1_500);
    assert!(
        log.iter().all(|e| e.ends_with("in Some(\"c\")")),
        "{:?}",
        log.iter().find(|e| !e.ends_with("in Some(\"c\")"))
    );
}
