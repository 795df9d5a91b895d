//! The `json` and `type` shelves, run as graph nodes, including malformed JSON, bad pointers,
//! unknown type names and values that do not convert.

mod std_support;

use flowloop_graph::{Graph, Registry, Value};
use std_support::{assert_listed_with_docs, eval};

fn parse(text: &str) -> Result<Value, String> {
    eval("json.parse", &[("text", Value::str(text))])
}

#[test]
fn parse_and_stringify_round_trip_keeping_key_order() {
    let v = parse(r#"{"z": 1, "a": [true, null, 2.5, "s"]}"#).unwrap();
    assert_eq!(v.get("z"), Some(&Value::Int(1)));
    let text = eval("json.stringify", &[("value", v.clone())]).unwrap();
    assert_eq!(text, Value::str(r#"{"z":1,"a":[true,null,2.5,"s"]}"#));
    assert_eq!(parse(text.as_str().unwrap()), Ok(v.clone()));
    let pretty = eval("json.stringify", &[("value", v), ("pretty", Value::Bool(true))]).unwrap();
    assert!(pretty.as_str().unwrap().contains("\n  \"z\": 1"), "{pretty}");
}

#[test]
fn malformed_json_names_the_node_and_the_text_input() {
    let err = parse(r#"{"a": 1,"#).unwrap_err();
    assert!(
        err.starts_with("node `n` failed: input `text`: not valid JSON:"),
        "{err}"
    );
    assert!(err.contains("line 1"), "{err}");
    assert!(parse("").unwrap_err().contains("not valid JSON"));
    assert!(parse("[1] 2").unwrap_err().contains("trailing"));
}

#[test]
fn pointers_walk_maps_and_lists() {
    let doc = parse(r#"{"items": [{"name": "a"}, {"name": "b"}], "a/b": 1, "m~n": 2}"#).unwrap();
    let at = |p: &str| eval("json.pointer", &[("value", doc.clone()), ("pointer", Value::str(p))]);
    assert_eq!(at("/items/1/name"), Ok(Value::str("b")));
    assert_eq!(at(""), Ok(doc.clone()));
    assert_eq!(at("/a~1b"), Ok(Value::Int(1)));
    assert_eq!(at("/m~0n"), Ok(Value::Int(2)));
    let err = at("/items/2/name").unwrap_err();
    assert!(
        err.starts_with("node `n` failed: input `pointer`: `/items/2/name`: nothing at `2`"),
        "{err}"
    );
    assert!(at("/items/01").unwrap_err().contains("nothing at `01`"));
    assert!(at("items").unwrap_err().contains("must be empty or start with `/`"));
    assert!(at("/bad~2").unwrap_err().contains("bad escape"));
}

#[test]
fn parse_feeds_pointer_in_a_graph() {
    let mut g = Graph::new(Registry::with_std());
    g.add("json.parse", Some("doc")).unwrap();
    g.set_constant("doc", "text", Value::str(r#"{"user": {"id": 7}}"#))
        .unwrap();
    g.add("json.pointer", Some("id")).unwrap();
    g.connect("doc", "out", "id", "value").unwrap();
    g.set_constant("id", "pointer", Value::str("/user/id")).unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("id", "out"), Some(Value::Int(7)));
}

#[test]
fn typeof_and_is_name_types() {
    let ty = |v: Value| eval("type.typeof", &[("value", v)]);
    assert_eq!(ty(Value::Int(1)), Ok(Value::str("int")));
    assert_eq!(ty(Value::str("x")), Ok(Value::str("string")));
    assert_eq!(ty(Value::list([1])), Ok(Value::str("list")));
    assert_eq!(ty(Value::Null), Ok(Value::str("null")));
    let is = |v: Value, t: &str| eval("type.is", &[("value", v), ("ty", Value::str(t))]);
    assert_eq!(is(Value::Int(1), "float"), Ok(Value::Bool(true)));
    assert_eq!(is(Value::Float(1.0), "int"), Ok(Value::Bool(false)));
    assert_eq!(is(Value::str("x"), "any"), Ok(Value::Bool(true)));
    let err = is(Value::Int(1), "integer").unwrap_err();
    assert!(
        err.starts_with("node `n` failed: input `ty`: `integer` is not a type"),
        "{err}"
    );
}

#[test]
fn cast_converts_or_names_the_value_that_does_not() {
    let cast = |v: Value, to: &str| eval("type.cast", &[("value", v), ("to", Value::str(to))]);
    assert_eq!(cast(Value::str(" 42 "), "int"), Ok(Value::Int(42)));
    assert_eq!(cast(Value::Float(3.0), "int"), Ok(Value::Int(3)));
    assert_eq!(cast(Value::str("2.5"), "float"), Ok(Value::Float(2.5)));
    assert_eq!(cast(Value::str("7"), "number"), Ok(Value::Int(7)));
    assert_eq!(cast(Value::str("true"), "bool"), Ok(Value::Bool(true)));
    assert_eq!(cast(Value::Int(0), "bool"), Ok(Value::Bool(false)));
    assert_eq!(cast(Value::list([1, 2]), "string"), Ok(Value::str("[1, 2]")));
    assert_eq!(cast(Value::str("hi"), "bytes"), Ok(Value::from(&b"hi"[..])));
    assert_eq!(cast(Value::from(&b"hi"[..]), "string"), Ok(Value::str("hi")));
    assert_eq!(cast(Value::list([1]), "list"), Ok(Value::list([1])));

    assert_eq!(
        cast(Value::Float(3.5), "int").unwrap_err(),
        "node `n` failed: input `value`: float `3.5` does not convert to int"
    );
    assert!(
        cast(Value::str("abc"), "float")
            .unwrap_err()
            .contains(r#"string `"abc"` does not convert to float"#)
    );
    assert!(
        cast(Value::Int(2), "bool")
            .unwrap_err()
            .contains("does not convert to bool")
    );
    assert!(
        cast(Value::from(&[0xff_u8][..]), "string")
            .unwrap_err()
            .contains("does not convert to string")
    );
    assert!(
        cast(Value::Int(1), "map")
            .unwrap_err()
            .contains("does not convert to map")
    );
    assert!(
        cast(Value::Int(1), "text")
            .unwrap_err()
            .contains("input `to`: `text` is not a type")
    );
}

#[test]
fn the_shelves_are_listed_with_docs_and_port_types() {
    assert_listed_with_docs("json", &["json.parse", "json.stringify", "json.pointer"]);
    assert_listed_with_docs("type", &["type.typeof", "type.is", "type.cast"]);
}
