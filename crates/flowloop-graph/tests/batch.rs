//! Batch evaluation on the flow executor: the example graphs, cycles with defaults and limits,
//! streams, errors naming nodes, and agreement with the equivalent typed flow.

mod common;

use flowloop::flow::{FlowBuilder, Generation, Outcome, RunOptions};
use flowloop_graph::std::math::add_node;
use flowloop_graph::{Graph, Registry, Value};

#[test]
fn the_diamond_computes_each_node_once() {
    let g = common::example("diamond.json");
    let mut run = g.batch().unwrap();
    assert!(run.run().unwrap().is_completed());
    assert_eq!(run.value("join", "out"), Some(Value::Int(25)));
    for node in ["src", "left", "right", "join"] {
        assert_eq!(run.runs(node), 1, "{node} ran once");
        assert_eq!(run.generation(node), Some(Generation::finished(0)));
    }
}

#[test]
fn the_counter_cycle_starts_from_its_default_and_stops_at_its_limit() {
    let g = common::example("counter.json");
    let mut run = g.batch().unwrap();
    let outcome = run.run().unwrap();
    assert!(
        matches!(outcome, Outcome::LimitReached { ref name, .. } if name == "next"),
        "{outcome}"
    );
    assert_eq!(run.value("next", "out"), Some(Value::Int(5)));
    assert_eq!(run.value("count", "out"), Some(Value::Int(5)));
    assert_eq!(run.generation("count"), Some(Generation::finished(4)));
}

#[test]
fn the_counter_matches_the_equivalent_typed_flow() {
    // count = add(next or 0, 1); next = passthrough(count); limit next at (4,).
    let mut b = FlowBuilder::new();
    let fwd = b.forward::<flowloop_graph::kind::Number>("next");
    let count = add_node(
        &mut b,
        (
            fwd.or(flowloop_graph::kind::Number::Int(0)),
            flowloop_graph::kind::Number::Int(1),
        ),
    );
    let next = b.node(|x: flowloop_graph::kind::Number| async move { x }, (count,));
    b.define(fwd, next);
    let mut typed = b.build().unwrap();
    typed.run_until_complete(RunOptions::new().limit(next, (4,))).unwrap();

    let mut run = common::example("counter.json").batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.generation("count"), typed.generation(count));
    assert_eq!(run.generation("next"), typed.generation(next));
    let typed_value = typed.value(next).map(flowloop_graph::kind::IntoPort::into_port);
    assert_eq!(run.value("next", "out"), typed_value);
}

#[test]
fn streams_hand_chunks_to_stream_inputs_and_the_final_value_to_plain_ones() {
    let g = common::example("stream.json");
    let mut run = g.batch().unwrap();
    assert!(run.run().unwrap().is_completed());
    assert_eq!(run.value("total", "out"), Some(Value::Int(10)));
    assert_eq!(run.value("items", "out"), Some(Value::list([0, 1, 2, 3, 4])));
    assert_eq!(run.value("count", "out"), Some(Value::Int(5)));
    assert_eq!(run.value("numbers", "nope"), None);
}

#[test]
fn a_node_error_names_the_node_and_the_input() {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.div", Some("ratio")).unwrap();
    g.set_constant("ratio", "a", Value::Int(1)).unwrap();
    g.set_constant("ratio", "b", Value::Int(0)).unwrap();
    g.add("flow.passthrough", Some("after")).unwrap();
    g.connect("ratio", "out", "after", "value").unwrap();
    let mut run = g.batch().unwrap();
    let err = run.run().unwrap_err();
    assert_eq!(err.to_string(), "node `ratio` failed: input `b`: division by zero");
    assert_eq!(run.value("after", "out"), None, "the consumer never ran");
}

#[test]
fn a_cycle_without_default_is_a_clear_error() {
    let mut g = Graph::new(Registry::with_std());
    g.add("flow.passthrough", Some("p")).unwrap();
    g.add("flow.passthrough", Some("q")).unwrap();
    g.connect("p", "out", "q", "value").unwrap();
    g.connect("q", "out", "p", "value").unwrap();
    // Reported when compiling (or, by executors that find it later, when running).
    let err = match g.batch() {
        Err(e) => e.to_string(),
        Ok(mut run) => run.run().unwrap_err().to_string(),
    };
    assert!(
        err.contains("`p` (inputs value)") && err.contains("`q` (inputs value)"),
        "{err}"
    );
    assert!(err.contains("give one of these inputs a default"), "{err}");
}

#[test]
fn a_value_that_does_not_convert_at_run_time_names_the_input() {
    // `flow.select` takes a list; a passthrough of a string is typed `any`, so the check
    // happens when the value arrives.
    let mut g = Graph::new(Registry::with_std());
    g.add("flow.passthrough", Some("text")).unwrap();
    g.set_constant("text", "value", Value::str("abc")).unwrap();
    g.add("flow.select", Some("pick")).unwrap();
    g.connect("text", "out", "pick", "items").unwrap();
    g.set_constant("pick", "index", Value::Int(0)).unwrap();
    let err = g.batch().unwrap().run().unwrap_err().to_string();
    assert_eq!(
        err,
        r#"node `pick` failed: input `items`: expected list, got string `"abc"`"#
    );
}

#[test]
fn runs_continue_from_their_generations() {
    let g = common::example("diamond.json");
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    run.run().unwrap();
    assert_eq!(run.generation("join"), Some(Generation::finished(1)));
    assert_eq!(run.runs("join"), 2);
}
