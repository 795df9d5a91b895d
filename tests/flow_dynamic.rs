//! Runtime-arity (dynamic) nodes on the flow executor: chains, several outputs, cycles broken
//! by defaults, limits, streams, errors naming node and input, shared input cells, guards, and a
//! property test against the equivalent typed flow.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flowloop::flow::{
    BuildError, DynArg, DynArgs, DynBuildError, DynCall, DynId, DynInput, DynNode, DynSource, DynamicBuilder, Flow,
    FlowBuilder, FlowError, Generation, InputCell, Node, NodeId, Outcome, Outputs, RunOptions,
};
use proptest::prelude::*;

fn sum(args: DynArgs<i64>) -> DynCall<i64> {
    DynCall::Ready(Ok(Outputs::One(args.into_values().iter().sum())))
}

fn build(d: DynamicBuilder<i64>) -> (Flow, Vec<NodeId>) {
    let mut b = FlowBuilder::new();
    let ids = d.install(&mut b).expect("references are valid");
    (b.build().expect("inputs are connected"), ids)
}

fn out(node: DynId) -> DynSource {
    DynSource::output(node, 0)
}

#[test]
fn a_chain_declared_in_reverse_runs_in_dependency_order() {
    let mut d = DynamicBuilder::new();
    // c reads b, b reads a: ids are known before the producers are added.
    let c = d.add(DynNode::new("c", sum).input(DynInput::connect("x", out(DynId::from(1)))));
    let b = d.add(
        DynNode::new("b", sum)
            .input(DynInput::connect("x", out(DynId::from(2))))
            .input(DynInput::constant("one", 1)),
    );
    let a = d.add(DynNode::new("a", sum).input(DynInput::constant("x", 41)));
    let (mut flow, ids) = build(d);
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    assert_eq!(flow.dyn_value::<i64>(ids[c.index()], 0), Some(42));
    assert_eq!(flow.dyn_value::<i64>(ids[b.index()], 0), Some(42));
    assert_eq!(flow.dyn_value::<i64>(ids[a.index()], 0), Some(41));
    assert_eq!(flow.generation(ids[c.index()]), Some(Generation::finished(0)));
    assert_eq!(flow.name(ids[c.index()]), "c");
}

#[test]
fn several_outputs_are_read_by_index() {
    let mut d = DynamicBuilder::new();
    let sd = d.add(
        DynNode::new("sum_diff", |args: DynArgs<i64>| {
            let v = args.into_values();
            DynCall::Ready(Ok(Outputs::Many(vec![v[0] + v[1], v[0] - v[1]])))
        })
        .outputs(2)
        .input(DynInput::constant("x", 7))
        .input(DynInput::constant("y", 3)),
    );
    let diff = d.add(DynNode::new("diff", sum).input(DynInput::connect("x", DynSource::output(sd, 1))));
    let total = d.add(DynNode::new("total", sum).input(DynInput::connect("x", DynSource::output(sd, 0))));
    let (mut flow, ids) = build(d);
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.dyn_value::<i64>(ids[diff.index()], 0), Some(4));
    assert_eq!(flow.dyn_value::<i64>(ids[total.index()], 0), Some(10));
    assert_eq!(
        flow.dyn_outputs::<i64>(ids[sd.index()]),
        Some(Outputs::Many(vec![10, 4]))
    );
    assert_eq!(flow.dyn_value::<i64>(ids[sd.index()], 2), None);
    assert_eq!(
        flow.dyn_value::<String>(ids[sd.index()], 0),
        None,
        "wrong value type reads nothing"
    );
}

#[test]
fn a_cycle_with_a_default_advances_one_generation_per_lap() {
    // Case 34: a = Inc(b) with default 0, b = Id(a); limit b at (1,).
    let calls = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&calls);
    let inc = move |args: DynArgs<i64>| {
        let x = args.into_values()[0];
        log.borrow_mut().push(format!("inc({x})"));
        DynCall::Ready(Ok(Outputs::One(x + 1)))
    };
    let mut d = DynamicBuilder::new();
    let a = d.add(DynNode::new("a", inc).input(DynInput::connect("x", out(DynId::from(1))).or(0)));
    let b = d.add(DynNode::new("b", sum).input(DynInput::connect("x", out(DynId::from(0)))));
    let (mut flow, ids) = build(d);
    let outcome = flow
        .run_until_complete(RunOptions::new().limit(ids[b.index()], (1,)))
        .unwrap();
    assert!(matches!(outcome, Outcome::LimitReached { .. }), "{outcome}");
    assert_eq!(*calls.borrow(), ["inc(0)", "inc(1)"]);
    assert_eq!(flow.generation(ids[a.index()]), Some(Generation::finished(1)));
    assert_eq!(flow.dyn_value::<i64>(ids[b.index()], 0), Some(2));
}

#[test]
fn a_cycle_without_default_names_every_member_and_input() {
    let mut d = DynamicBuilder::new();
    d.add(DynNode::new("inc", sum).input(DynInput::connect("x", out(DynId::from(1)))));
    d.add(DynNode::new("dbl", sum).input(DynInput::connect("y", out(DynId::from(0)))));
    let mut b = FlowBuilder::new();
    d.install(&mut b).unwrap();
    // Reported when building (or, by executors that find it later, when running).
    let err = match b.build() {
        Err(e) => e.to_string(),
        Ok(mut flow) => flow.run_until_complete(RunOptions::new()).unwrap_err().to_string(),
    };
    assert!(
        err.contains("`inc` (inputs x)") && err.contains("`dbl` (inputs y)"),
        "{err}"
    );
}

#[test]
fn bad_references_are_refused_before_anything_is_added() {
    let mut d = DynamicBuilder::<i64>::new();
    d.add(DynNode::new("n", sum).input(DynInput::connect("x", out(DynId::from(9)))));
    let mut b = FlowBuilder::new();
    let err = d.install(&mut b).unwrap_err();
    assert!(matches!(err, DynBuildError::UnknownNode { target: 9, .. }));
    assert_eq!(
        err.to_string(),
        "node `n`, input `x`: no dynamic node #9 (only 1 were added)"
    );
    assert!(b.is_empty(), "nothing partially added");

    let mut d = DynamicBuilder::<i64>::new();
    let p = d.add(DynNode::new("p", sum));
    d.add(DynNode::new("q", sum).input(DynInput::connect("x", DynSource::output(p, 3))));
    assert!(matches!(
        d.install(&mut b),
        Err(DynBuildError::NoSuchOutput {
            output: 3,
            outputs: 1,
            ..
        })
    ));

    let mut d = DynamicBuilder::<i64>::new();
    let p = d.add(DynNode::new("p", sum));
    d.add(DynNode::new("q", sum).input(DynInput::connect("s", DynSource::stream(p))));
    let err = d.install(&mut b).unwrap_err();
    assert_eq!(err.to_string(), "node `q`, input `s`: node `p` is not a streaming node");
}

#[test]
fn an_unconnected_input_without_value_is_a_build_error_naming_it() {
    let mut d = DynamicBuilder::<i64>::new();
    d.add(
        DynNode::new("add", sum)
            .input(DynInput::constant("x", 1))
            .input(DynInput::unconnected("y")),
    );
    let mut b = FlowBuilder::new();
    d.install(&mut b).unwrap();
    let err = b.build().unwrap_err();
    assert_eq!(
        err,
        BuildError::Unconnected {
            node: "add".into(),
            input: "y".into()
        }
    );
}

#[test]
fn a_body_error_names_the_node_and_stops_the_run() {
    let mut d = DynamicBuilder::<i64>::new();
    let bad = d.add(DynNode::new("bad", |_: DynArgs<i64>| {
        DynCall::Ready(Err("boom".into()))
    }));
    d.add(DynNode::new("after", sum).input(DynInput::connect("x", out(bad))));
    let (mut flow, ids) = build(d);
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    assert!(matches!(err, FlowError::Failed(_)));
    assert_eq!(err.to_string(), "node `bad` failed: boom");
    assert_eq!(flow.dyn_value::<i64>(ids[1], 0), None, "the consumer never ran");
}

#[test]
fn async_bodies_await_timers_and_streams_flow_chunk_by_chunk() {
    let mut d = DynamicBuilder::<i64>::new();
    let range = d.add(
        DynNode::new("range", |args: DynArgs<i64>| {
            let (args, emitter) = args.into_parts();
            let Some(DynArg::Value(n)) = args.into_iter().next() else {
                return DynCall::Ready(Err("n missing".into()));
            };
            let emitter = emitter.expect("streaming nodes get an emitter");
            DynCall::Pending(Box::pin(async move {
                for i in 0..n {
                    flowloop::sleep(Duration::from_millis(1)).await;
                    emitter.emit(i).await?;
                }
                Ok(Outputs::One(n))
            }))
        })
        .streaming()
        .input(DynInput::constant("n", 4)),
    );
    let total = d.add(
        DynNode::new("total", |args: DynArgs<i64>| {
            let (args, _) = args.into_parts();
            let Some(DynArg::Stream(mut s)) = args.into_iter().next() else {
                return DynCall::Ready(Err("stream missing".into()));
            };
            DynCall::Pending(Box::pin(async move {
                let mut t = 0;
                while let Some(x) = s.next().await {
                    t += x;
                }
                Ok(Outputs::One(t))
            }))
        })
        .input(DynInput::connect("s", DynSource::stream(range))),
    );
    let last = d.add(DynNode::new("final", sum).input(DynInput::connect("x", out(range))));
    let (mut flow, ids) = build(d);
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    assert_eq!(flow.dyn_value::<i64>(ids[total.index()], 0), Some(6));
    assert_eq!(
        flow.dyn_value::<i64>(ids[last.index()], 0),
        Some(4),
        "plain consumer gets the final value"
    );
    assert_eq!(flow.generation(ids[range.index()]), Some(Generation::finished(0)));
}

#[test]
fn input_cells_change_what_the_next_run_reads() {
    let cell = InputCell::new(Some(1));
    let mut d = DynamicBuilder::<i64>::new();
    let src = d.add(DynNode::new("src", sum).input(DynInput::cell("x", cell.clone())));
    let dbl = d.add(
        DynNode::new("dbl", sum)
            .input(DynInput::connect("a", out(src)))
            .input(DynInput::connect("b", out(src))),
    );
    let (mut flow, ids) = build(d);
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.dyn_value::<i64>(ids[dbl.index()], 0), Some(2));
    cell.set(Some(21));
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.dyn_value::<i64>(ids[dbl.index()], 0), Some(42));
    assert_eq!(flow.generation(ids[dbl.index()]), Some(Generation::finished(1)));
}

// ---- property: dynamic and typed flows agree on values and generations ----

#[derive(Debug, Clone, Copy)]
enum Arg {
    Const(i64),
    /// Node `j`; edges to `j >= i` close cycles and carry the default.
    Node(usize, i64),
}

fn graphs() -> impl Strategy<Value = Vec<(Arg, Arg)>> {
    (1usize..16).prop_flat_map(|n| {
        let arg = prop_oneof![
            (-9i64..9).prop_map(Arg::Const),
            (0..n, -9i64..9).prop_map(|(j, d)| Arg::Node(j, d))
        ];
        prop::collection::vec((arg.clone(), arg), n)
    })
}

fn mix(i: usize, a: i64, b: i64) -> i64 {
    (a.wrapping_mul(3).wrapping_add(b).wrapping_add(i as i64)) % 1_000_003
}

fn dynamic_flow(spec: &[(Arg, Arg)]) -> (Flow, Vec<NodeId>) {
    let mut d = DynamicBuilder::<i64>::new();
    for (i, (a, b)) in spec.iter().enumerate() {
        let input = |name: &str, arg: &Arg| match *arg {
            Arg::Const(c) => DynInput::constant(name, c),
            Arg::Node(j, def) if j >= i => DynInput::connect(name, out(DynId::from(j))).or(def),
            Arg::Node(j, _) => DynInput::connect(name, out(DynId::from(j))),
        };
        let body = move |args: DynArgs<i64>| {
            let v = args.into_values();
            DynCall::Ready(Ok(Outputs::One(mix(i, v[0], v[1]))))
        };
        d.add(
            DynNode::new(&format!("n{i}"), body)
                .input(input("a", a))
                .input(input("b", b)),
        );
    }
    build(d)
}

fn typed_flow(spec: &[(Arg, Arg)]) -> (Flow, Vec<Node<i64>>) {
    let mut b = FlowBuilder::new();
    let fwds: Vec<_> = (0..spec.len()).map(|j| b.forward::<i64>(&format!("n{j}"))).collect();
    let mut nodes = Vec::new();
    for (i, (x, y)) in spec.iter().enumerate() {
        let body = move |a: i64, c: i64| async move { mix(i, a, c) };
        let arg = |arg: &Arg| match *arg {
            Arg::Const(c) => flowloop::flow::unconnected_or(c),
            Arg::Node(j, def) if j >= i => fwds[j].or(def),
            Arg::Node(j, _) => fwds[j].or(0),
        };
        // Typed inputs from earlier nodes have no default: build them without `.or`.
        let node = match (x, y) {
            (Arg::Node(j, _), Arg::Node(k, _)) if *j < i && *k < i => b.node(body, (fwds[*j], fwds[*k])),
            (Arg::Node(j, _), _) if *j < i => b.node(body, (fwds[*j], arg(y))),
            (_, Arg::Node(k, _)) if *k < i => b.node(body, (arg(x), fwds[*k])),
            _ => b.node(body, (arg(x), arg(y))),
        };
        nodes.push(node);
    }
    for (j, f) in fwds.into_iter().enumerate() {
        b.define(f, nodes[j]);
    }
    (b.build().expect("typed flow builds"), nodes)
}

/// Value and generation of every node.
type State = Vec<(Option<i64>, Option<Generation>)>;

fn run_both(spec: &[(Arg, Arg)]) -> (State, State) {
    let options = || RunOptions::new().limit_all((2,)).terminate_on_error(false);
    let (mut df, dids) = dynamic_flow(spec);
    let (mut tf, tids) = typed_flow(spec);
    let dr = df.run_until_complete(options()).map_err(|e| e.to_string());
    let tr = tf.run_until_complete(options()).map_err(|e| e.to_string());
    assert_eq!(dr.is_ok(), tr.is_ok(), "dynamic {dr:?} vs typed {tr:?}");
    let dyn_state = dids
        .iter()
        .map(|&n| (df.dyn_value::<i64>(n, 0), df.generation(n)))
        .collect();
    let typed_state = tids.iter().map(|&n| (tf.value(n), tf.generation(n))).collect();
    (dyn_state, typed_state)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn dynamic_and_typed_flows_agree(spec in graphs()) {
        let (d, t) = run_both(&spec);
        prop_assert_eq!(d, t);
    }
}

/// A decider that outputs `flag`, and a guarded node that counts its body's calls.
fn guarded_flow(flag: i64) -> (Flow, Vec<NodeId>, Rc<RefCell<u32>>) {
    let calls = Rc::new(RefCell::new(0));
    let seen = Rc::clone(&calls);
    let mut d = DynamicBuilder::new();
    let decider = d.add(DynNode::new("decider", sum).input(DynInput::constant("flag", flag)));
    let guarded = d.add(
        DynNode::new("guarded", move |args: DynArgs<i64>| {
            *seen.borrow_mut() += 1;
            sum(args)
        })
        .input(DynInput::constant("x", 5))
        .guard(decider, 0, |v| *v != 0),
    );
    d.add(DynNode::new("after", sum).input(DynInput::connect("x", out(guarded)).or(-1)));
    let (flow, ids) = build(d);
    (flow, ids, calls)
}

#[test]
fn a_guard_that_refuses_skips_the_body_and_consumers_read_the_default() {
    let (mut flow, ids, calls) = guarded_flow(0);
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    assert_eq!(*calls.borrow(), 0, "the refused body never ran");
    assert_eq!(
        flow.dyn_value::<i64>(ids[1], 0),
        None,
        "a skipped run publishes nothing"
    );
    assert_eq!(
        flow.dyn_value::<i64>(ids[2], 0),
        Some(-1),
        "the consumer read its default"
    );

    let (mut flow, ids, calls) = guarded_flow(1);
    assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
    assert_eq!(*calls.borrow(), 1, "the accepted body ran once");
    assert_eq!(flow.dyn_value::<i64>(ids[2], 0), Some(5));
}

#[test]
fn a_guard_on_a_missing_node_is_a_build_error_naming_the_guard() {
    let mut d = DynamicBuilder::<i64>::new();
    d.add(DynNode::new("guarded", sum).guard(DynId::from(7), 0, |_| true));
    let err = d.install(&mut FlowBuilder::new()).unwrap_err();
    assert!(matches!(err, DynBuildError::UnknownNode { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("`guarded`") && message.contains("<guard>"),
        "{message}"
    );
}
