//! The `state` shelf: values kept between runs of a batch and of a live graph, a counter in a
//! cycle, and bad input.

mod std_support;

use std::time::Duration;

use flowloop_graph::live::LiveGraph;
use flowloop_graph::{Graph, Registry, Value};
use std_support::{assert_listed_with_docs, eval, one_node};

fn run<F: std::future::Future + 'static>(f: F) -> F::Output {
    flowloop::run(async move { flowloop::timeout(Duration::from_secs(20), f).await.expect("watchdog") })
        .expect("the loop runs")
}

#[test]
fn a_counter_counts_batch_runs_of_its_node() {
    let g = one_node("state.counter", &[("step", Value::Int(5))]).unwrap();
    let mut batch = g.batch().unwrap();
    for want in [5, 10, 15] {
        batch.run().unwrap();
        assert_eq!(batch.value("n", "out"), Some(Value::Int(want)));
    }
    let mut fresh = g.batch().unwrap();
    fresh.run().unwrap();
    assert_eq!(
        fresh.value("n", "out"),
        Some(Value::Int(5)),
        "a new batch starts from zero"
    );
}

#[test]
fn a_counter_resets_and_refuses_overflow() {
    assert_eq!(
        eval("state.counter", &[("reset", Value::Bool(true))]),
        Ok(Value::Int(1))
    );
    let max = eval("state.counter", &[("step", Value::Int(i64::MAX))]);
    assert_eq!(max, Ok(Value::Int(i64::MAX)));
    let g = one_node("state.counter", &[("step", Value::Int(i64::MAX))]).unwrap();
    let mut batch = g.batch().unwrap();
    batch.run().unwrap();
    let err = batch.run().unwrap_err().to_string();
    assert_eq!(err, "node `n` failed: input `step`: the count overflows an int");
}

#[test]
fn a_variable_holds_the_last_set_value_in_a_live_graph() {
    let mut g = Graph::new(Registry::with_std());
    g.add("state.variable", Some("v")).unwrap();
    g.set_constant("v", "initial", Value::str("start")).unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("v", "out"), Some(Value::str("start")));
        live.inject("v", "set", Value::Int(3)).await.unwrap();
        assert_eq!(live.value("v", "out"), Some(Value::Int(3)));
        live.inject("v", "set", Value::Null).await.unwrap();
        assert_eq!(
            live.value("v", "out"),
            Some(Value::Int(3)),
            "a null set keeps the value"
        );
        live.inject("v", "reset", Value::Bool(true)).await.unwrap();
        assert_eq!(live.value("v", "out"), Some(Value::str("start")));
    });
}

#[test]
fn accumulate_collects_live_values_and_keeps_the_latest() {
    let mut g = Graph::new(Registry::with_std());
    g.add("state.accumulate", Some("acc")).unwrap();
    g.set_constant("acc", "value", Value::Int(0)).unwrap();
    g.set_constant("acc", "keep", Value::Int(3)).unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        live.idle().await.unwrap();
        for i in 1..=4 {
            live.inject("acc", "value", Value::Int(i)).await.unwrap();
        }
        assert_eq!(live.value("acc", "out"), Some(Value::list([2, 3, 4])));
    });
}

#[test]
fn accumulate_follows_a_counter_over_batch_runs() {
    // count = counter(); acc = accumulate(count); four runs of the same batch.
    let mut g = Graph::new(Registry::with_std());
    g.add("state.counter", Some("count")).unwrap();
    g.add("state.accumulate", Some("acc")).unwrap();
    g.connect("count", "out", "acc", "value").unwrap();
    let mut batch = g.batch().unwrap();
    for _ in 0..4 {
        batch.run().unwrap();
    }
    assert_eq!(batch.value("acc", "out"), Some(Value::list([1, 2, 3, 4])));
}

#[test]
fn bad_state_inputs_name_node_and_port() {
    let err = eval(
        "state.accumulate",
        &[("value", Value::Int(1)), ("keep", Value::Int(-1))],
    )
    .unwrap_err();
    assert_eq!(
        err,
        "node `n` failed: input `keep`: -1 is negative (0 keeps everything)"
    );
    let err = eval("state.counter", &[("step", Value::str("one"))]).unwrap_err();
    assert!(err.contains("`n`") && err.contains("step"), "{err}");
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs("state", &["state.variable", "state.counter", "state.accumulate"]);
}
