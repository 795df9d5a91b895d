//! Building large flows and every kind of input binding (issue 14: cheap node creation). Input
//! slots bind once at `build()` to their producer's cells: a whole value through the typed cell,
//! a tuple element or a stream through a projection; these tests run each kind through the
//! public API and check values, generations and run counts.

use flowloop::flow::{
    DynArgs, DynCall, DynInput, DynNode, DynSource, DynamicBuilder, Emitter, FlowBuilder, Generation, Outputs,
    RunOptions, Stream,
};

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn add(x: i64, y: i64) -> i64 {
    x + y
}

async fn split(x: i64) -> (i64, String) {
    (x * 2, format!("v{x}"))
}

async fn len(s: String) -> i64 {
    s.len() as i64
}

async fn count_to(out: Emitter<i64>, n: i64) -> i64 {
    for i in 1..=n {
        if out.emit(i).await.is_err() {
            break;
        }
    }
    n
}

async fn total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        t += x;
    }
    t
}

struct Acc(i64);

impl Acc {
    async fn push(&mut self, x: i64) -> i64 {
        self.0 += x;
        self.0
    }
}

#[test]
fn a_100k_node_chain_builds_runs_and_each_node_runs_once() {
    const N: i64 = 100_000;
    let mut b = FlowBuilder::new();
    let first = b.node(inc, (0,));
    let mut last = first;
    let mut middle = first;
    for i in 1..N {
        last = b.node(inc, (last,));
        if i == N / 2 {
            middle = last;
        }
    }
    assert_eq!(b.len(), N as usize);
    let mut flow = b.build().expect("a chain builds");
    assert_eq!(flow.len(), N as usize);
    assert_eq!(flow.value(last), None, "nothing ran yet");
    let outcome = flow.run_until_complete(RunOptions::new()).expect("the chain runs");
    assert!(outcome.is_completed());
    assert_eq!(flow.value(first), Some(1));
    assert_eq!(flow.value(middle), Some(N / 2 + 1));
    assert_eq!(flow.value(last), Some(N));
    for node in [first.id(), middle.id(), last.id()] {
        assert_eq!(flow.generation(node), Some(Generation::finished(0)));
        assert_eq!(flow.stats(node).runs, 1);
    }
    assert_eq!(flow.name(last), format!("inc#{}", N - 1));
}

#[test]
fn a_100k_node_chain_with_a_forward_reference_and_a_default_laps_twice() {
    // The chain's head reads its tail through a forward reference (default 0 on lap 0).
    const N: i64 = 100_000;
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("tail");
    let head = b.node(inc, (back.or(0),));
    let mut last = head;
    for _ in 1..N {
        last = b.node(inc, (last,));
    }
    b.define(back, last);
    let mut flow = b.build().expect("the default breaks the cycle");
    flow.run_until_complete(RunOptions::new().limit(last, (1,)))
        .expect("two laps");
    assert_eq!(flow.value(last), Some(2 * N));
    assert_eq!(flow.generation(last), Some(Generation::finished(1)));
    assert_eq!(flow.generation(head), Some(Generation::finished(1)));
    assert_eq!(flow.stats(head).runs, 2);
}

#[test]
fn tuple_elements_streams_state_and_defaults_each_bind_to_the_right_cell() {
    let mut b = FlowBuilder::new();
    let s = b.node(split, (21,));
    let doubled = b.node(inc, (s.output::<0>(),));
    let text_len = b.node(len, (s.output::<1>(),));
    let n = b.node(add, (doubled, text_len)); // 43 + 3
    let counter = b.stream(count_to, (4,));
    let sum = b.node(total, (counter.stream(),));
    let acc = b.stateful(Acc(100), Acc::push, (sum,));
    let fwd = b.forward::<i64>("later");
    let uses_later = b.node(add, (fwd, 1));
    let later = b.node(inc, (n,));
    b.define(fwd, later);
    let unconnected = b.node(inc, (flowloop::flow::unconnected_or(9),));
    let mut flow = b.build().expect("every input is connected");
    flow.run_until_complete(RunOptions::new()).expect("the flow runs");

    assert_eq!(flow.value(s.output::<1>()), Some("v21".to_string()));
    assert_eq!(flow.value(s), Some((42, "v21".to_string())));
    assert_eq!(flow.value(doubled), Some(43));
    assert_eq!(flow.value(text_len), Some(3));
    assert_eq!(flow.value(n), Some(46));
    assert_eq!(flow.value(counter), Some(4));
    assert_eq!(flow.latest_chunk(counter), Some(4));
    assert!(flow.value(counter.stream()).is_none(), "a stream output has no value");
    assert_eq!(flow.value(sum), Some(1 + 2 + 3 + 4));
    assert_eq!(flow.value(acc), Some(110));
    assert_eq!(flow.with_state(acc, |a: &Acc| a.0), Some(110));
    assert_eq!(flow.with_state(sum, |a: &Acc| a.0), None, "not a stateful node");
    assert_eq!(flow.with_state(acc, |a: &i64| *a), None, "another state type");
    assert_eq!(flow.value(later), Some(47));
    assert_eq!(flow.value(uses_later), Some(48));
    assert_eq!(flow.value(unconnected), Some(10));
    assert_eq!(flow.generation(counter), Some(Generation::finished(0)));
    assert_eq!(flow.stats(acc).runs, 1);
}

#[test]
fn dynamic_nodes_bind_to_typed_and_dynamic_producers_alike() {
    fn sum(args: DynArgs<i64>) -> DynCall<i64> {
        DynCall::Ready(Ok(Outputs::One(args.into_values().iter().sum())))
    }
    let mut b = FlowBuilder::new();
    let typed = b.node(inc, (1,));
    let mut d = DynamicBuilder::new();
    let a = d.add(DynNode::new("a", sum).input(DynInput::constant("x", 40)));
    let c = d.add(
        DynNode::new("c", sum)
            .input(DynInput::connect("x", DynSource::output(a, 0)))
            .input(DynInput::constant("y", 2)),
    );
    let ids = d.install(&mut b).expect("references are valid");
    let mut flow = b.build().expect("inputs are connected");
    flow.run_until_complete(RunOptions::new()).expect("the flow runs");
    assert_eq!(flow.dyn_value::<i64>(ids[c.index()], 0), Some(42));
    assert_eq!(flow.value(typed), Some(2));
    assert_eq!(
        flow.dyn_value::<i64>(typed.id(), 0),
        None,
        "a typed node is no dynamic node"
    );
    assert_eq!(flow.dyn_value::<String>(ids[a.index()], 0), None, "another value type");
}

#[test]
fn nodes_of_interleaved_value_types_keep_their_own_values() {
    // Value cells are handed out in blocks per value type: interleaving three types over
    // several blocks must still give every node its own cell.
    async fn text(x: i64) -> String {
        format!("n{x}")
    }
    async fn ratio(s: String) -> f64 {
        s.len() as f64 / 2.0
    }
    let mut b = FlowBuilder::new();
    let mut nodes = Vec::new();
    for i in 0..100 {
        let n = b.node(inc, (i,));
        let t = b.node(text, (n,));
        let r = b.node(ratio, (t.out(),));
        nodes.push((n, t, r));
    }
    let mut flow = b.build().expect("every input is connected");
    flow.run_until_complete(RunOptions::new()).expect("the flow runs");
    for (i, (n, t, r)) in nodes.into_iter().enumerate() {
        let i = i as i64;
        assert_eq!(flow.value(n), Some(i + 1));
        assert_eq!(flow.value(t), Some(format!("n{}", i + 1)));
        assert_eq!(flow.value(r), Some(format!("n{}", i + 1).len() as f64 / 2.0));
    }
}
