//! The `streams` shelf beyond `range`: take, batch, window, zip, map, filter, run in graphs fed
//! by `streams.range` and drained by `streams.collect`; bad sizes and ops name node and port.

mod std_support;

use flowloop_graph::{Graph, Registry, Value};
use std_support::assert_listed_with_docs;

/// `numbers = range(0..stop)`; `n = kind(numbers.stream, params)`; `all = collect(n.stream)`.
fn through(kind: &str, stop: i64, params: &[(&str, Value)]) -> Result<(Value, Value), String> {
    let mut g = Graph::new(Registry::with_std());
    g.add("streams.range", Some("numbers")).unwrap();
    g.set_constant("numbers", "stop", Value::Int(stop)).unwrap();
    g.add(kind, Some("n")).unwrap();
    g.connect("numbers", "stream", "n", "items").unwrap();
    for (port, v) in params {
        g.set_constant("n", port, v.clone()).map_err(|e| e.to_string())?;
    }
    g.add("streams.collect", Some("all")).unwrap();
    g.connect("n", "stream", "all", "items").unwrap();
    let mut run = g.batch().map_err(|e| e.to_string())?;
    run.run().map_err(|e| e.to_string())?;
    Ok((
        run.value("all", "out").unwrap_or_default(),
        run.value("n", "out").unwrap_or_default(),
    ))
}

#[test]
fn take_stops_after_count_items_even_of_a_long_stream() {
    let (items, count) = through("streams.take", 1_000_000, &[("count", Value::Int(3))]).unwrap();
    assert_eq!(items, Value::list([0, 1, 2]));
    assert_eq!(count, Value::Int(3));
    let (items, _) = through("streams.take", 2, &[("count", Value::Int(5))]).unwrap();
    assert_eq!(items, Value::list([0, 1]));
    let err = through("streams.take", 2, &[("count", Value::Int(-1))]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `count`: -1 is negative");
}

#[test]
fn batch_and_window_group_items() {
    let (items, count) = through("streams.batch", 5, &[("size", Value::Int(2))]).unwrap();
    assert_eq!(
        items,
        Value::list([Value::list([0, 1]), Value::list([2, 3]), Value::list([4])])
    );
    assert_eq!(count, Value::Int(3));
    let (items, count) = through("streams.window", 4, &[("size", Value::Int(3))]).unwrap();
    assert_eq!(items, Value::list([Value::list([0, 1, 2]), Value::list([1, 2, 3])]));
    assert_eq!(count, Value::Int(2));
    let (items, _) = through("streams.window", 2, &[("size", Value::Int(3))]).unwrap();
    assert_eq!(items, Value::list(Vec::<Value>::new()), "fewer items than a window");
    for kind in ["streams.batch", "streams.window"] {
        let err = through(kind, 3, &[("size", Value::Int(0))]).unwrap_err();
        assert_eq!(err, "node `n` failed: input `size`: 0 is not a positive size", "{kind}");
    }
}

#[test]
fn zip_pairs_two_streams_until_the_shorter_ends() {
    let mut g = Graph::new(Registry::with_std());
    for (id, stop) in [("a", 3), ("b", 10)] {
        g.add("streams.range", Some(id)).unwrap();
        g.set_constant(id, "stop", Value::Int(stop)).unwrap();
    }
    g.set_constant("b", "start", Value::Int(5)).unwrap();
    g.add("streams.zip", Some("z")).unwrap();
    g.connect("a", "stream", "z", "a").unwrap();
    g.connect("b", "stream", "z", "b").unwrap();
    g.add("streams.collect", Some("all")).unwrap();
    g.connect("z", "stream", "all", "items").unwrap();
    let mut run = g.batch().unwrap();
    assert!(run.run().unwrap().is_completed());
    assert_eq!(
        run.value("all", "out"),
        Some(Value::list([
            Value::list([0, 5]),
            Value::list([1, 6]),
            Value::list([2, 7])
        ]))
    );
    assert_eq!(run.value("z", "out"), Some(Value::Int(3)));
}

#[test]
fn map_applies_a_named_operation() {
    let op = |name: &str, operand: Value| through("streams.map", 3, &[("op", Value::str(name)), ("operand", operand)]);
    assert_eq!(op("mul", Value::Int(10)).unwrap().0, Value::list([0, 10, 20]));
    assert_eq!(op("add", Value::Float(0.5)).unwrap().0, Value::list([0.5, 1.5, 2.5]));
    assert_eq!(
        op("div", Value::Int(0)).unwrap_err(),
        "node `n` failed: input `operand`: division by zero"
    );
    assert_eq!(
        op("pow", Value::Int(2)).unwrap_err(),
        "node `n` failed: input `op`: `pow` is not one of add, sub, mul, div, get"
    );
    let err = op("get", Value::Int(0)).unwrap_err();
    assert!(
        err.contains("input `collection`: expected a list or map, got int `0`"),
        "{err}"
    );
    let err = op("sub", Value::str("x")).unwrap_err();
    assert!(err.contains("input `operand`: expected number"), "{err}");
}

#[test]
fn filter_keeps_items_that_compare() {
    let keep = |name: &str, v: Value| through("streams.filter", 6, &[("op", Value::str(name)), ("value", v)]);
    let (items, count) = keep("ge", Value::Int(4)).unwrap();
    assert_eq!(items, Value::list([4, 5]));
    assert_eq!(count, Value::Int(2));
    assert_eq!(keep("eq", Value::Float(2.0)).unwrap().0, Value::list([2]));
    assert_eq!(keep("ne", Value::Int(0)).unwrap().0, Value::list([1, 2, 3, 4, 5]));
    assert_eq!(
        keep("like", Value::Int(1)).unwrap_err(),
        "node `n` failed: input `op`: `like` is not one of eq, ne, lt, le, gt, ge"
    );
    let err = keep("lt", Value::str("a")).unwrap_err();
    assert!(
        err.contains("input `items`") && err.contains("cannot be ordered"),
        "{err}"
    );
}

#[test]
fn a_plain_value_into_a_stream_input_is_refused() {
    let mut g = Graph::new(Registry::with_std());
    g.add("streams.take", Some("t")).unwrap();
    let err = g.set_constant("t", "items", Value::list([1])).unwrap_err().to_string();
    assert!(err.contains("`t`") && err.contains("items"), "{err}");
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs(
        "streams",
        &[
            "streams.range",
            "streams.take",
            "streams.batch",
            "streams.window",
            "streams.zip",
            "streams.map",
            "streams.filter",
        ],
    );
    let reg = Registry::with_std();
    assert_eq!(
        reg.get("streams.batch").unwrap().spec().stream,
        Some(flowloop_graph::Type::List)
    );
}
