//! Pull evaluation: only what an output needs runs; lazy branches not taken never run
//! (DataFlow's lazy `if`); memoisation until something upstream changes.

mod common;

use flowloop_graph::pull::{Memo, Pull, PullError};
use flowloop_graph::{Graph, Registry, Value};

/// `pick = if(cond, then = cheap + 1, else = 1 / zero)`, plus an unrelated `other`.
fn branching(cond: bool) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    g.add("flow.if", Some("pick")).unwrap();
    g.set_constant("pick", "cond", Value::Bool(cond)).unwrap();
    g.add("math.add", Some("cheap")).unwrap();
    g.set_constant("cheap", "a", Value::Int(41)).unwrap();
    g.set_constant("cheap", "b", Value::Int(1)).unwrap();
    g.add("math.div", Some("costly")).unwrap();
    g.set_constant("costly", "a", Value::Int(1)).unwrap();
    g.set_constant("costly", "b", Value::Int(0)).unwrap();
    g.connect("cheap", "out", "pick", "then").unwrap();
    g.connect("costly", "out", "pick", "else").unwrap();
    g.add("math.mul", Some("other")).unwrap();
    g.set_constant("other", "a", Value::Int(2)).unwrap();
    g
}

#[test]
fn the_branch_not_taken_is_never_evaluated() {
    let mut pull = Pull::new(branching(true), Memo::Off);
    assert_eq!(pull.resolve("pick", "out").unwrap(), Value::Int(42));
    assert_eq!(pull.runs("costly"), 0, "the else branch (which would fail) never ran");
    assert_eq!(pull.runs("other"), 0, "nodes the output does not need never run");
    assert_eq!(pull.runs("cheap"), 1);

    let mut pull = Pull::new(branching(false), Memo::Off);
    let err = pull.resolve("pick", "out").unwrap_err();
    assert_eq!(err.to_string(), "node `costly` failed: input `b`: division by zero");
    assert_eq!(pull.runs("cheap"), 0);
}

#[test]
fn the_condition_may_itself_be_computed() {
    let mut g = branching(true);
    g.add("flow.gate", Some("cond")).unwrap();
    g.set_constant("cond", "open", Value::Bool(true)).unwrap();
    g.set_constant("cond", "value", Value::Bool(false)).unwrap();
    g.add("flow.passthrough", Some("safe")).unwrap();
    g.set_constant("safe", "value", Value::str("fallback")).unwrap();
    g.connect_with("safe", "out", "pick", "else", flowloop_graph::OnConnected::Replace)
        .unwrap();
    // The gate gives `any`, accepted by the bool input; its value (false) picks `else`.
    g.connect("cond", "out", "pick", "cond").unwrap();
    let mut pull = Pull::new(g, Memo::Off);
    assert_eq!(pull.resolve("pick", "out").unwrap(), Value::str("fallback"));
    assert_eq!((pull.runs("cond"), pull.runs("cheap")), (1, 0));
}

#[test]
fn switch_takes_only_the_selected_case_and_ifs_nest() {
    let mut g = branching(true);
    g.add("flow.switch", Some("sw")).unwrap();
    g.set_constant("sw", "index", Value::Int(1)).unwrap();
    g.connect("costly", "out", "sw", "case0").unwrap();
    g.connect("pick", "out", "sw", "case1").unwrap();
    let mut pull = Pull::new(g, Memo::Off);
    assert_eq!(pull.resolve("sw", "out").unwrap(), Value::Int(42));
    assert_eq!(pull.runs("costly"), 0);
    pull.set_constant("sw", "index", Value::Int(7)).unwrap();
    assert_eq!(
        pull.resolve("sw", "out").unwrap(),
        Value::Null,
        "out of range takes `default`"
    );
}

#[test]
fn memoised_results_are_reused_until_something_upstream_changes() {
    let mut g = branching(true);
    g.add("math.add", Some("top")).unwrap();
    g.connect("pick", "out", "top", "a").unwrap();
    g.connect("other", "out", "top", "b").unwrap();
    let mut pull = Pull::new(g, Memo::On);
    assert_eq!(pull.resolve("top", "out").unwrap(), Value::Int(44));
    assert_eq!(pull.resolve("top", "out").unwrap(), Value::Int(44));
    assert_eq!(
        (pull.runs("cheap"), pull.runs("top")),
        (1, 1),
        "the second pull ran nothing"
    );
    pull.set_constant("other", "b", Value::Int(10)).unwrap();
    assert_eq!(pull.resolve("top", "out").unwrap(), Value::Int(62));
    assert_eq!(
        pull.runs("cheap"),
        1,
        "upstream of the change only: `cheap` stayed memoised"
    );
    assert_eq!((pull.runs("other"), pull.runs("top")), (2, 2));

    let mut fresh = Pull::new(branching(true), Memo::Off);
    fresh.resolve("pick", "out").unwrap();
    fresh.resolve("pick", "out").unwrap();
    assert_eq!(fresh.runs("cheap"), 2, "without memo every pull recomputes");
}

#[test]
fn streams_and_cycles_inside_the_needed_part_run_on_the_executor() {
    let mut pull = Pull::new(common::example("stream.json"), Memo::Off);
    assert_eq!(pull.resolve("total", "out").unwrap(), Value::Int(10));
    assert_eq!(pull.runs("items"), 0);
    let mut pull = Pull::new(common::example("counter.json"), Memo::Off);
    assert_eq!(pull.resolve("next", "out").unwrap(), Value::Int(5));
}

#[test]
fn bad_requests_name_the_node_and_port() {
    let mut pull = Pull::new(common::example("stream.json"), Memo::Off);
    assert!(matches!(pull.resolve("ghost", "out"), Err(PullError::Graph(_))));
    let err = pull.resolve("total", "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `total` (streams.sum) has no output `nope` (outputs: out)"
    );
    let err = pull.resolve("numbers", "stream").unwrap_err();
    assert!(matches!(err, PullError::StreamPort { .. }), "{err}");
}

#[test]
fn a_cycle_through_a_lazy_input_is_an_error_not_a_hang() {
    let mut g = Graph::new(Registry::with_std());
    g.add("flow.if", Some("a")).unwrap();
    g.set_constant("a", "cond", Value::Bool(true)).unwrap();
    g.add("flow.passthrough", Some("b")).unwrap();
    g.connect("a", "out", "b", "value").unwrap();
    g.connect("b", "out", "a", "then").unwrap();
    let mut pull = Pull::new(g, Memo::Off);
    let err = pull.resolve("b", "out").unwrap_err();
    assert!(matches!(err, PullError::LazyCycle { .. }), "{err}");
}
