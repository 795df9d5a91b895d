//! The `compare` and `logic` shelves, run as graph nodes, including bad input.

mod std_support;

use flowloop_graph::Value;
use std_support::{assert_listed_with_docs, eval, eval_untyped};

fn pair(kind: &str, a: Value, b: Value) -> Result<Value, String> {
    eval(kind, &[("a", a), ("b", b)])
}

#[test]
fn equality_compares_numbers_by_value_and_lists_deeply() {
    assert_eq!(
        pair("compare.eq", Value::Int(1), Value::Float(1.0)),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        pair("compare.eq", Value::str("a"), Value::str("b")),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        pair(
            "compare.eq",
            Value::list([1, 2]),
            Value::list([Value::Float(1.0), Value::Int(2)])
        ),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        pair("compare.eq", Value::Int(1), Value::str("1")),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        pair("compare.ne", Value::Int(1), Value::str("1")),
        Ok(Value::Bool(true))
    );
    assert_eq!(pair("compare.ne", Value::Null, Value::Null), Ok(Value::Bool(false)));
}

#[test]
fn order_kinds_follow_numbers_strings_and_lists() {
    assert_eq!(
        pair("compare.lt", Value::Int(1), Value::Float(1.5)),
        Ok(Value::Bool(true))
    );
    assert_eq!(pair("compare.le", Value::Int(2), Value::Int(2)), Ok(Value::Bool(true)));
    assert_eq!(
        pair("compare.gt", Value::str("b"), Value::str("a")),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        pair("compare.ge", Value::list([1]), Value::list([1, 0])),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        pair("compare.lt", Value::list([1, 2]), Value::list([1, 3])),
        Ok(Value::Bool(true))
    );
}

#[test]
fn ordering_different_types_names_the_node_and_input() {
    let err = pair("compare.lt", Value::Int(1), Value::str("x")).unwrap_err();
    assert_eq!(
        err,
        r#"node `n` failed: input `b`: int `1` and string `"x"` cannot be ordered (compare values of one type)"#
    );
    let err = pair("compare.gt", Value::Float(f64::NAN), Value::Int(1)).unwrap_err();
    assert!(err.contains("cannot be ordered"), "{err}");
}

#[test]
fn between_checks_its_bounds() {
    let run = |v: i64, lo: i64, hi: i64| {
        eval(
            "compare.between",
            &[
                ("value", Value::Int(v)),
                ("low", Value::Int(lo)),
                ("high", Value::Int(hi)),
            ],
        )
    };
    assert_eq!(run(3, 1, 5), Ok(Value::Bool(true)));
    assert_eq!(run(6, 1, 5), Ok(Value::Bool(false)));
    assert_eq!(run(1, 1, 1), Ok(Value::Bool(true)));
    assert_eq!(
        run(1, 5, 1).unwrap_err(),
        "node `n` failed: input `high`: 1 is below low 5"
    );
    let err = eval("compare.between", &[("value", Value::str("3"))]).unwrap_err();
    assert!(err.contains("`n`") && err.contains("value"), "{err}");
}

#[test]
fn logic_kinds_take_bools_only() {
    let b = Value::Bool;
    assert_eq!(pair("logic.and", b(true), b(false)), Ok(b(false)));
    assert_eq!(pair("logic.or", b(true), b(false)), Ok(b(true)));
    assert_eq!(pair("logic.xor", b(true), b(true)), Ok(b(false)));
    assert_eq!(eval("logic.not", &[("value", b(false))]), Ok(b(true)));
    assert_eq!(eval("logic.all", &[("items", Value::list([true, true]))]), Ok(b(true)));
    assert_eq!(
        eval("logic.all", &[("items", Value::list(Vec::<bool>::new()))]),
        Ok(b(true))
    );
    assert_eq!(eval("logic.any", &[("items", Value::list([false, true]))]), Ok(b(true)));
    assert_eq!(eval("logic.any", &[("items", Value::list([false]))]), Ok(b(false)));

    let err = eval_untyped("logic.not", "value", Value::Int(1), &[]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `value`: expected bool, got int `1`");
    let err = eval(
        "logic.any",
        &[("items", Value::list([Value::Bool(false), Value::str("yes")]))],
    )
    .unwrap_err();
    assert_eq!(
        err,
        r#"node `n` failed: input `items`: item 1 is string `"yes"`, not a bool"#
    );
}

#[test]
fn the_shelves_are_listed_with_docs_and_port_types() {
    assert_listed_with_docs(
        "compare",
        &[
            "compare.eq",
            "compare.ne",
            "compare.lt",
            "compare.le",
            "compare.gt",
            "compare.ge",
            "compare.between",
        ],
    );
    assert_listed_with_docs(
        "logic",
        &[
            "logic.and",
            "logic.or",
            "logic.xor",
            "logic.not",
            "logic.all",
            "logic.any",
        ],
    );
}
