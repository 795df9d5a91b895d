//! Lazy inputs in batch and push evaluation: `flow.if` / `flow.switch` run only the branch
//! they take (run counts), also when the condition is computed, nested, or changes live.

use flowloop_graph::live::LiveGraph;
use flowloop_graph::{Graph, Registry, Value};

/// `x = a + 1` (the condition's input), `test = x > 5`, and
/// `pick = if(test, then = t2(t1), else = e2(e1))` where `e1` divides by `zero` (fails if run),
/// plus `side`, unrelated, and `shared`, read by both `t1` and `side`.
fn branching(a: i64) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    add(&mut g, "math.add", "x", &[("a", Value::Int(a)), ("b", Value::Int(1))]);
    add(&mut g, "compare.gt", "test", &[("b", Value::Int(5))]);
    g.connect("x", "out", "test", "a").unwrap();
    add(&mut g, "flow.if", "pick", &[]);
    g.connect("test", "out", "pick", "cond").unwrap();
    add(
        &mut g,
        "math.add",
        "shared",
        &[("a", Value::Int(10)), ("b", Value::Int(0))],
    );
    add(&mut g, "math.add", "t1", &[("b", Value::Int(1))]);
    g.connect("shared", "out", "t1", "a").unwrap();
    add(&mut g, "math.mul", "t2", &[("b", Value::Int(2))]);
    chain(&mut g, "t1", "t2", "pick", "then");
    add(&mut g, "math.div", "e1", &[("a", Value::Int(1)), ("b", Value::Int(0))]);
    add(&mut g, "math.add", "e2", &[("b", Value::Int(0))]);
    chain(&mut g, "e1", "e2", "pick", "else");
    add(&mut g, "math.neg", "side", &[]);
    g.connect("shared", "out", "side", "x").unwrap();
    g
}

fn add(g: &mut Graph, kind: &str, id: &str, constants: &[(&str, Value)]) {
    g.add(kind, Some(id)).unwrap();
    for (input, v) in constants {
        g.set_constant(id, input, v.clone()).unwrap();
    }
}

/// `first → second → node.input`.
fn chain(g: &mut Graph, first: &str, second: &str, node: &str, input: &str) {
    let into = if g.node(second).unwrap().spec().input_index("a").is_some() {
        "a"
    } else {
        "x"
    };
    g.connect(first, "out", second, into).unwrap();
    g.connect(second, "out", node, input).unwrap();
}

fn batch_runs(g: &Graph, nodes: &[&str]) -> (Option<Value>, Vec<u64>) {
    let mut b = g.batch().unwrap();
    b.run().unwrap();
    (b.value("pick", "out"), nodes.iter().map(|n| b.runs(n)).collect())
}

#[test]
fn batch_runs_only_the_branch_taken() {
    let nodes = ["x", "test", "pick", "shared", "t1", "t2", "e1", "e2", "side"];
    let (v, runs) = batch_runs(&branching(9), &nodes);
    assert_eq!(v, Some(Value::Int(22)), "(10 + 1) * 2");
    assert_eq!(
        runs,
        [1, 1, 1, 1, 1, 1, 0, 0, 1],
        "e1 (which would fail) and e2 never ran"
    );
}

#[test]
fn batch_takes_the_other_branch_when_the_condition_flips() {
    let mut g = branching(0);
    // The else branch would divide by zero: make it divide by one instead.
    g.set_constant("e1", "b", Value::Int(1)).unwrap();
    let nodes = ["shared", "t1", "t2", "e1", "e2", "side"];
    let (v, runs) = batch_runs(&g, &nodes);
    assert_eq!(v, Some(Value::Float(1.0)));
    assert_eq!(runs, [1, 0, 0, 1, 1, 1], "shared still runs: side reads it");
}

#[test]
fn a_failing_untaken_branch_is_no_error_but_a_taken_one_is() {
    let mut b = branching(9).batch().unwrap();
    assert!(b.run().is_ok());
    let mut b = branching(0).batch().unwrap();
    let err = b.run().unwrap_err().to_string();
    assert!(err.contains("e1") && err.contains("division by zero"), "{err}");
}

#[test]
fn switch_in_batch_runs_only_the_case_chosen() {
    let mut g = Graph::new(Registry::with_std());
    add(&mut g, "flow.switch", "sw", &[("index", Value::Int(2))]);
    for c in 0..4 {
        let id = format!("c{c}");
        add(
            &mut g,
            "math.add",
            &id,
            &[("a", Value::Int(c * 100)), ("b", Value::Int(1))],
        );
        g.connect(&id, "out", "sw", &format!("case{c}")).unwrap();
    }
    add(
        &mut g,
        "math.add",
        "fallback",
        &[("a", Value::Int(-1)), ("b", Value::Int(0))],
    );
    g.connect("fallback", "out", "sw", "default").unwrap();
    let mut b = g.batch().unwrap();
    b.run().unwrap();
    assert_eq!(b.value("sw", "out"), Some(Value::Int(201)));
    let runs: Vec<u64> = ["c0", "c1", "c2", "c3", "fallback"].iter().map(|n| b.runs(n)).collect();
    assert_eq!(runs, [0, 0, 1, 0, 0]);
}

#[test]
fn nested_ifs_skip_the_inner_branches_of_an_untaken_outer_branch() {
    let mut g = Graph::new(Registry::with_std());
    add(&mut g, "flow.if", "outer", &[("cond", Value::Bool(true))]);
    add(
        &mut g,
        "math.add",
        "then",
        &[("a", Value::Int(1)), ("b", Value::Int(0))],
    );
    g.connect("then", "out", "outer", "then").unwrap();
    add(&mut g, "flow.if", "inner", &[]);
    g.connect("inner", "out", "outer", "else").unwrap();
    add(
        &mut g,
        "compare.gt",
        "inner_test",
        &[("a", Value::Int(3)), ("b", Value::Int(1))],
    );
    g.connect("inner_test", "out", "inner", "cond").unwrap();
    add(
        &mut g,
        "math.add",
        "inner_then",
        &[("a", Value::Int(2)), ("b", Value::Int(0))],
    );
    g.connect("inner_then", "out", "inner", "then").unwrap();
    let mut b = g.batch().unwrap();
    b.run().unwrap();
    assert_eq!(b.value("outer", "out"), Some(Value::Int(1)));
    for n in ["inner", "inner_test", "inner_then"] {
        assert_eq!(b.runs(n), 0, "{n} is inside the untaken else branch");
    }
    g.set_constant("outer", "cond", Value::Bool(false)).unwrap();
    let mut b = g.batch().unwrap();
    b.run().unwrap();
    assert_eq!(b.value("outer", "out"), Some(Value::Int(2)));
    assert_eq!([b.runs("then"), b.runs("inner"), b.runs("inner_then")], [0, 1, 1]);
}

fn live_runs(live: &LiveGraph, nodes: &[&str]) -> Vec<u64> {
    nodes.iter().map(|n| live.runs(n)).collect()
}

#[test]
fn push_runs_only_the_branch_taken_and_follows_the_condition() {
    let mut g = branching(9);
    g.set_constant("e1", "b", Value::Int(4)).unwrap();
    let live = LiveGraph::new(g).unwrap();
    let nodes = ["t1", "t2", "e1", "e2", "side"];
    flowloop::run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("pick", "out"), Some(Value::Int(22)));
        assert_eq!(live_runs(&live, &nodes), [1, 1, 0, 0, 1]);
        // A change inside the untaken branch runs nothing of it.
        live.inject("e1", "a", Value::Int(8)).await.unwrap();
        assert_eq!(live_runs(&live, &nodes), [1, 1, 0, 0, 1]);
        // Flipping the condition runs the other branch (with its latest inputs) once.
        live.inject("x", "a", Value::Int(0)).await.unwrap();
        assert_eq!(live.value("pick", "out"), Some(Value::Float(2.0)));
        assert_eq!(live_runs(&live, &nodes), [1, 1, 1, 1, 1]);
        // A change the taken branch does not read leaves both branches alone.
        live.inject("x", "b", Value::Int(2)).await.unwrap();
        assert_eq!(live_runs(&live, &nodes), [1, 1, 1, 1, 1]);
        assert_eq!(live.runs("test"), 3);
    })
    .unwrap();
}

#[test]
fn push_with_a_constant_condition_reruns_the_branch_newly_taken() {
    let mut g = Graph::new(Registry::with_std());
    add(&mut g, "flow.if", "pick", &[("cond", Value::Bool(true))]);
    add(&mut g, "math.add", "yes", &[("a", Value::Int(1)), ("b", Value::Int(0))]);
    add(&mut g, "math.add", "no", &[("a", Value::Int(2)), ("b", Value::Int(0))]);
    g.connect("yes", "out", "pick", "then").unwrap();
    g.connect("no", "out", "pick", "else").unwrap();
    let live = LiveGraph::new(g).unwrap();
    flowloop::run(async move {
        live.idle().await.unwrap();
        assert_eq!(live_runs(&live, &["yes", "no", "pick"]), [1, 0, 1]);
        live.inject("pick", "cond", Value::Bool(false)).await.unwrap();
        assert_eq!(live.value("pick", "out"), Some(Value::Int(2)));
        assert_eq!(live_runs(&live, &["yes", "no", "pick"]), [1, 1, 2]);
    })
    .unwrap();
}
