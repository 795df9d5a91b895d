//! Higher-order kinds (`std::each`): map, filter, reduce and find running a nested graph per
//! item; bad bodies and failing items are errors naming the kind, node and item.

use std::sync::Arc;

use flowloop_graph::std::each::{Each, EachKind};
use flowloop_graph::{Graph, Registry, Value};

/// A body `out = kind(item, constant)` on input port `a`/`b`.
fn body(name: &str, kind: &str, constant: (&str, Value)) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    g.add(kind, Some("f")).unwrap();
    g.set_constant("f", constant.0, constant.1).unwrap();
    let item_port = if constant.0 == "b" { "a" } else { "b" };
    g.declare_input("item", "f", item_port).unwrap();
    g.declare_output("out", "f", "out").unwrap();
    g.set_name(name, "A test body.");
    g
}

/// Runs kind `op` over `items` (with `initial` for reduce) in a one-node graph.
fn over(op: Each, body: Graph, items: Value, initial: Option<Value>) -> Result<Value, String> {
    let mut reg = Registry::with_std();
    let kind = EachKind::new(op, "test.each", body).map_err(|e| e.to_string())?;
    reg.register_kind(Arc::new(kind)).map_err(|e| e.to_string())?;
    let mut g = Graph::new(reg);
    g.add("test.each", Some("n")).unwrap();
    g.set_constant("n", "items", items).map_err(|e| e.to_string())?;
    if let Some(v) = initial {
        g.set_constant("n", "initial", v).unwrap();
    }
    let mut run = g.batch().map_err(|e| e.to_string())?;
    run.run().map_err(|e| e.to_string())?;
    Ok(run.value("n", "out").unwrap_or_default())
}

fn reducer() -> Graph {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("sum")).unwrap();
    g.declare_input("acc", "sum", "a").unwrap();
    g.declare_input("item", "sum", "b").unwrap();
    g.declare_output("out", "sum", "out").unwrap();
    g.set_name("test.sum_body", "Adds.");
    g
}

#[test]
fn map_runs_the_body_per_item() {
    let out = over(
        Each::Map,
        body("test.inc", "math.add", ("b", Value::Int(10))),
        Value::list([1, 2, 3]),
        None,
    );
    assert_eq!(out, Ok(Value::list([11, 12, 13])));
    let empty = over(
        Each::Map,
        body("test.inc", "math.add", ("b", Value::Int(1))),
        Value::list(Vec::<i64>::new()),
        None,
    );
    assert_eq!(empty, Ok(Value::list(Vec::<i64>::new())));
}

#[test]
fn filter_and_find_use_a_boolean_body() {
    let big = || body("test.big", "compare.gt", ("b", Value::Int(2)));
    assert_eq!(
        over(Each::Filter, big(), Value::list([1, 5, 2, 7]), None),
        Ok(Value::list([5, 7]))
    );
    assert_eq!(over(Each::Find, big(), Value::list([1, 5, 7]), None), Ok(Value::Int(5)));
    assert_eq!(over(Each::Find, big(), Value::list([1, 2]), None), Ok(Value::Null));
}

#[test]
fn reduce_threads_the_accumulator() {
    assert_eq!(
        over(
            Each::Reduce,
            reducer(),
            Value::list([1, 2, 3, 4]),
            Some(Value::Int(100))
        ),
        Ok(Value::Int(110))
    );
}

#[test]
fn a_failing_item_names_the_node_and_the_item() {
    let div = body("test.inv", "math.div", ("a", Value::Int(1)));
    let err = over(Each::Map, div, Value::list([1, 0]), None).unwrap_err();
    assert!(err.starts_with("node `n` failed: input `items`: item 1:"), "{err}");
    assert!(err.contains("division by zero"), "{err}");
    let not_bool = body("test.inc", "math.add", ("b", Value::Int(1)));
    let err = over(Each::Filter, not_bool, Value::list([1]), None).unwrap_err();
    assert!(err.contains("the body's `out` for item 0 is int, not a bool"), "{err}");
}

#[test]
fn bad_bodies_are_refused_when_the_kind_is_made() {
    let err = over(
        Each::Reduce,
        body("test.inc", "math.add", ("b", Value::Int(1))),
        Value::list([1]),
        None,
    )
    .unwrap_err();
    assert!(err.contains("inputs `acc` and `item`"), "{err}");
    let err = over(Each::Map, reducer(), Value::list([1]), None).unwrap_err();
    assert!(err.contains("only input `item`"), "{err}");
    let mut no_out = Graph::new(Registry::with_std());
    no_out.add("math.neg", Some("f")).unwrap();
    no_out.declare_input("item", "f", "x").unwrap();
    no_out.declare_output("result", "f", "out").unwrap();
    no_out.set_name("test.neg", "Negates.");
    let err = over(Each::Map, no_out, Value::list([1]), None).unwrap_err();
    assert!(err.contains("must declare output `out`"), "{err}");
    let err = over(
        Each::Map,
        body("test.inc", "math.add", ("b", Value::Int(1))),
        Value::str("x"),
        None,
    )
    .unwrap_err();
    assert!(err.contains("`n`") && err.contains("items"), "{err}");
}

#[test]
fn the_kind_is_listed_with_its_ports() {
    let mut reg = Registry::with_std();
    reg.register_kind(Arc::new(EachKind::new(Each::Reduce, "test.total", reducer()).unwrap()))
        .unwrap();
    let spec = reg.get("test.total").unwrap().spec().to_json();
    assert_eq!(spec["inputs"][0]["name"], "items");
    assert_eq!(spec["inputs"][0]["type"], "list");
    assert_eq!(spec["inputs"][1]["name"], "initial");
    assert!(spec["doc"].as_str().unwrap().contains("test.sum_body"), "{spec}");
}
