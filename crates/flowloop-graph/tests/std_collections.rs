//! The `collections` shelf, run as graph nodes, including bad input.

mod std_support;

use flowloop_graph::{Graph, Map, Registry, Value};
use std_support::{assert_listed_with_docs, eval, eval_untyped};

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::from(pairs.iter().cloned().collect::<Map>())
}

#[test]
fn list_and_map_build_collections() {
    let items = [
        ("a", Value::Int(1)),
        ("b", Value::str("x")),
        ("c", Value::Null),
        ("count", Value::Int(3)),
    ];
    assert_eq!(
        eval("collections.list", &items),
        Ok(Value::list([Value::Int(1), Value::str("x"), Value::Null]))
    );
    assert_eq!(
        eval("collections.list", &[("a", Value::Int(1))]),
        Ok(Value::list([Value::Int(1), Value::Null]))
    );
    let err = eval("collections.list", &[("count", Value::Int(5))]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `count`: 5 is not between 0 and 4");
    assert_eq!(
        eval(
            "collections.map",
            &[("keys", Value::list(["x", "y"])), ("values", Value::list([1, 2]))]
        ),
        Ok(map(&[("x", Value::Int(1)), ("y", Value::Int(2))]))
    );
    let err = eval(
        "collections.map",
        &[("keys", Value::list(["x"])), ("values", Value::list([1, 2]))],
    )
    .unwrap_err();
    assert_eq!(err, "node `n` failed: input `values`: 2 values for 1 keys");
    let err = eval(
        "collections.map",
        &[("keys", Value::list([7])), ("values", Value::list([1]))],
    )
    .unwrap_err();
    assert_eq!(err, "node `n` failed: input `keys`: key 0 is int, not a string");
}

#[test]
fn get_and_set_take_indices_and_keys() {
    let l = Value::list([10, 20, 30]);
    let get = |c: &Value, k: Value| eval("collections.get", &[("collection", c.clone()), ("key", k)]);
    assert_eq!(get(&l, Value::Int(0)), Ok(Value::Int(10)));
    assert_eq!(get(&l, Value::Int(-1)), Ok(Value::Int(30)));
    assert_eq!(
        get(&l, Value::Int(3)).unwrap_err(),
        "node `n` failed: input `key`: index 3 is out of range for 3 items"
    );
    assert!(get(&l, Value::Int(-4)).unwrap_err().contains("out of range"));
    assert_eq!(
        get(&l, Value::str("a")).unwrap_err(),
        r#"node `n` failed: input `key`: a list index must be an int, got string `"a"`"#
    );
    let m = map(&[("k", Value::Bool(true))]);
    assert_eq!(get(&m, Value::str("k")), Ok(Value::Bool(true)));
    assert_eq!(
        get(&m, Value::str("z")).unwrap_err(),
        "node `n` failed: input `key`: no key `z` in the map"
    );
    assert_eq!(
        get(&Value::Int(3), Value::Int(0)).unwrap_err(),
        "node `n` failed: input `collection`: expected a list or map, got int `3`"
    );

    let set = |c: &Value, k: Value, v: Value| {
        eval(
            "collections.set",
            &[("collection", c.clone()), ("key", k), ("value", v)],
        )
    };
    assert_eq!(set(&l, Value::Int(1), Value::Int(0)), Ok(Value::list([10, 0, 30])));
    assert_eq!(l, Value::list([10, 20, 30]), "the input is not changed");
    assert!(
        set(&l, Value::Int(9), Value::Int(0))
            .unwrap_err()
            .contains("index 9 is out of range")
    );
    assert_eq!(
        set(&m, Value::str("n"), Value::Int(1)),
        Ok(map(&[("k", Value::Bool(true)), ("n", Value::Int(1))]))
    );
}

#[test]
fn len_slice_concat() {
    let len = |v: Value| eval("collections.len", &[("collection", v)]);
    assert_eq!(len(Value::list([1, 2])), Ok(Value::Int(2)));
    assert_eq!(len(Value::str("héllo")), Ok(Value::Int(5)));
    assert_eq!(len(map(&[("a", Value::Null)])), Ok(Value::Int(1)));
    assert_eq!(
        len(Value::Int(1)).unwrap_err(),
        "node `n` failed: input `collection`: int has no length"
    );

    let slice = |start: i64, stop: Value| {
        eval(
            "collections.slice",
            &[
                ("items", Value::list([0, 1, 2, 3, 4])),
                ("start", Value::Int(start)),
                ("stop", stop),
            ],
        )
    };
    assert_eq!(slice(1, Value::Int(3)), Ok(Value::list([1, 2])));
    assert_eq!(slice(-2, Value::Null), Ok(Value::list([3, 4])));
    assert_eq!(slice(0, Value::Int(-4)), Ok(Value::list([0])));
    assert_eq!(
        slice(6, Value::Null).unwrap_err(),
        "node `n` failed: input `start`: 6 is out of range for 5 items"
    );
    assert_eq!(
        slice(3, Value::Int(1)).unwrap_err(),
        "node `n` failed: input `stop`: ends at 1, before start 3"
    );
    assert!(slice(0, Value::str("end")).unwrap_err().contains("input `stop`"));

    let concat = |a: Value, b: Value| eval("collections.concat", &[("a", a), ("b", b)]);
    assert_eq!(
        concat(Value::list([1]), Value::list([2, 3])),
        Ok(Value::list([1, 2, 3]))
    );
    assert_eq!(
        concat(
            map(&[("a", Value::Int(1)), ("b", Value::Int(1))]),
            map(&[("b", Value::Int(2))])
        ),
        Ok(map(&[("a", Value::Int(1)), ("b", Value::Int(2))]))
    );
    assert_eq!(
        concat(Value::list([1]), map(&[])).unwrap_err(),
        "node `n` failed: input `b`: cannot join list and map (give two lists or two maps)"
    );
}

#[test]
fn sort_orders_values_and_records() {
    let sort = |items: Value, rest: &[(&str, Value)]| {
        let mut inputs = vec![("items", items)];
        inputs.extend(rest.iter().cloned());
        eval("collections.sort", &inputs)
    };
    assert_eq!(sort(Value::list([3, 1, 2]), &[]), Ok(Value::list([1, 2, 3])));
    assert_eq!(
        sort(
            Value::list([Value::Float(2.5), Value::Int(1)]),
            &[("descending", Value::Bool(true))]
        ),
        Ok(Value::list([Value::Float(2.5), Value::Int(1)]))
    );
    let people = Value::list([map(&[("age", Value::Int(40))]), map(&[("age", Value::Int(30))])]);
    assert_eq!(
        sort(people.clone(), &[("by", Value::str("age"))]),
        Ok(Value::list([
            map(&[("age", Value::Int(30))]),
            map(&[("age", Value::Int(40))])
        ]))
    );
    let err = sort(people, &[("by", Value::str("name"))]).unwrap_err();
    assert!(
        err.starts_with("node `n` failed: input `items`: item") && err.contains("no field `name`"),
        "{err}"
    );
    let err = sort(Value::list([Value::Int(1), Value::str("a")]), &[]).unwrap_err();
    assert!(
        err.contains("input `items`") && err.contains("cannot be ordered"),
        "{err}"
    );
}

#[test]
fn keys_and_contains() {
    let m = map(&[("b", Value::Int(1)), ("a", Value::Int(2))]);
    assert_eq!(
        eval("collections.keys", &[("map", m.clone())]),
        Ok(Value::list(["b", "a"]))
    );
    let has = |c: Value, i: Value| eval("collections.contains", &[("collection", c), ("item", i)]);
    assert_eq!(has(m.clone(), Value::str("a")), Ok(Value::Bool(true)));
    assert_eq!(has(Value::list([1, 2]), Value::Float(2.0)), Ok(Value::Bool(true)));
    assert_eq!(has(Value::list([1, 2]), Value::Int(3)), Ok(Value::Bool(false)));
    assert!(
        has(m, Value::Int(1))
            .unwrap_err()
            .contains("a map key must be a string")
    );
    let err = eval_untyped("collections.keys", "map", Value::list([1]), &[]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `map`: expected map, got list `[1]`");
}

#[test]
fn a_wrong_constant_type_is_refused_when_set_naming_node_and_port() {
    let mut g = Graph::new(Registry::with_std());
    g.add("collections.slice", Some("cut")).unwrap();
    let err = g.set_constant("cut", "start", Value::str("x")).unwrap_err().to_string();
    assert!(err.contains("cut") && err.contains("start"), "{err}");
}

#[test]
fn chained_collection_nodes_share_one_graph() {
    let mut g = Graph::new(Registry::with_std());
    g.add("collections.sort", Some("sorted")).unwrap();
    g.set_constant("sorted", "items", Value::list([5, 3, 9, 1])).unwrap();
    g.add("collections.slice", Some("top")).unwrap();
    g.connect("sorted", "out", "top", "items").unwrap();
    g.set_constant("top", "start", Value::Int(-2)).unwrap();
    g.add("collections.len", Some("count")).unwrap();
    g.connect("top", "out", "count", "collection").unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("top", "out"), Some(Value::list([5, 9])));
    assert_eq!(run.value("count", "out"), Some(Value::Int(2)));
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs(
        "collections",
        &[
            "collections.list",
            "collections.map",
            "collections.get",
            "collections.set",
            "collections.len",
            "collections.slice",
            "collections.concat",
            "collections.sort",
        ],
    );
}
