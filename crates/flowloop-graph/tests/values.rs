//! `Value`: conversions, serde round trips, sharing on clone, copy-on-write, display.

use std::sync::Arc;

use flowloop_graph::{ConvertError, Map, Type, Value, from_value, to_value};
use proptest::prelude::*;

#[test]
fn scalars_convert_both_ways() {
    assert_eq!(Value::from(3i32), Value::Int(3));
    assert_eq!(Value::from(2.5f32), Value::Float(2.5));
    assert_eq!(Value::from("hi"), Value::str("hi"));
    assert_eq!(Value::from(String::from("hi")), Value::str("hi"));
    assert_eq!(Value::from(true), Value::Bool(true));
    assert_eq!(Value::from(None::<i64>), Value::Null);
    assert_eq!(i64::try_from(Value::Int(-4)), Ok(-4));
    assert_eq!(f64::try_from(Value::Int(2)), Ok(2.0), "ints widen to floats");
    assert_eq!(String::try_from(Value::str("x")).as_deref(), Ok("x"));
    assert_eq!(usize::try_from(Value::Int(5)), Ok(5));
    assert!(Value::try_from(u64::MAX).is_err());
    assert_eq!(Value::try_from(7u64), Ok(Value::Int(7)));
}

#[test]
fn wrong_types_name_expected_and_found() {
    let err = i64::try_from(Value::str("seven")).unwrap_err();
    assert!(matches!(
        err,
        ConvertError::Type {
            expected: Type::Int,
            found: Type::Str,
            ..
        }
    ));
    assert_eq!(err.to_string(), r#"expected int, got string `"seven"`"#);
    let err = usize::try_from(Value::Int(-1)).unwrap_err();
    assert!(err.to_string().contains("does not fit in usize"), "{err}");
    assert!(bool::try_from(Value::Null).is_err());
    assert!(Vec::<u8>::try_from(Value::list([1])).is_err());
}

#[test]
fn maps_keep_insertion_order() {
    let mut m = Map::new();
    m.insert("z", 1);
    m.insert("a", 2);
    m.insert("m", 3);
    assert_eq!(m.insert("a", 20), Some(Value::Int(2)), "replacing keeps the position");
    assert_eq!(m.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
    assert_eq!(m.remove("z"), Some(Value::Int(1)));
    let json = serde_json::to_string(&Value::from(m)).unwrap();
    assert_eq!(json, r#"{"a":20,"m":3}"#);
}

#[test]
fn clones_share_and_writes_copy_only_when_shared() {
    let big = Value::list((0..10_000).map(Value::from).collect::<Vec<_>>());
    let fan_out: Vec<Value> = (0..100).map(|_| big.clone()).collect();
    assert!(
        fan_out.iter().all(|v| v.shares_with(&big)),
        "fan-out copies one pointer"
    );
    let mut writer = big.clone();
    writer.as_list_mut().unwrap().push(Value::Null);
    assert!(!writer.shares_with(&big), "a write to a shared list copies it");
    assert_eq!(big.as_list().unwrap().len(), 10_000, "the original is untouched");
    let mut sole = Value::list([1, 2]);
    let before = match &sole {
        Value::List(l) => Arc::as_ptr(l),
        _ => unreachable!(),
    };
    sole.as_list_mut().unwrap().push(Value::Int(3));
    let after = match &sole {
        Value::List(l) => Arc::as_ptr(l),
        _ => unreachable!(),
    };
    assert_eq!(before, after, "an unshared list is written in place");
}

#[test]
fn values_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Value>();
    let v = Value::list(["a", "b"]);
    let copy = v.clone();
    let len = std::thread::spawn(move || copy.as_list().map(<[Value]>::len))
        .join()
        .unwrap();
    assert_eq!(len, Some(2));
}

#[test]
fn values_stay_three_words_and_options_of_them_too() {
    // The word-sized tag (see `Value`) must not grow values or lose the niche `Option` uses.
    assert_eq!(std::mem::size_of::<Value>(), 24);
    assert_eq!(std::mem::size_of::<Option<Value>>(), 24);
    let b = Value::Bool(true);
    assert_eq!(b.clone(), Value::Bool(true));
    let maybe: Vec<Option<Value>> = vec![None, Some(Value::Null), Some(Value::Bool(false))];
    assert_eq!(
        maybe.iter().filter(|v| v.is_some()).count(),
        2,
        "null and false are values"
    );
}

#[test]
fn json_round_trip_keeps_int_and_float_apart() {
    let text = r#"{"i":1,"f":1.0,"s":"x","n":null,"l":[true,[]],"m":{"b":2,"a":1}}"#;
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v.get("i"), Some(&Value::Int(1)));
    assert_eq!(v.get("f"), Some(&Value::Float(1.0)));
    assert_eq!(serde_json::to_string(&v).unwrap(), text);
    let dup = serde_json::from_str::<Value>(r#"{"a":1,"a":2}"#).unwrap_err();
    assert!(dup.to_string().contains("duplicate key `a`"), "{dup}");
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Point {
    x: i64,
    y: f64,
    tag: Option<String>,
}

#[test]
fn any_serde_type_converts() {
    let p = Point {
        x: 1,
        y: 2.5,
        tag: None,
    };
    let v = to_value(&p).unwrap();
    assert_eq!(v.to_string(), r#"{"x": 1, "y": 2.5, "tag": null}"#);
    assert_eq!(from_value::<Point>(&v).unwrap(), p);
    let err = from_value::<Point>(&Value::from(3)).unwrap_err();
    assert!(matches!(err, ConvertError::Serde(_)), "{err}");
}

#[test]
fn display_and_preview() {
    assert_eq!(Value::Float(2.0).to_string(), "2.0");
    assert_eq!(Value::Float(0.5).to_string(), "0.5");
    assert_eq!(Value::from(&b"a\n"[..]).to_string(), r#"b"a\n""#);
    let long = Value::str(&"x".repeat(100));
    let p = long.preview(10);
    assert_eq!(p.chars().count(), 10);
    assert!(p.ends_with('…'));
    assert_eq!(Value::Int(5).preview(10), "5");
}

#[test]
fn types_feed_by_the_rules() {
    assert!(Type::Int.feeds(Type::Float));
    assert!(Type::Any.feeds(Type::Str));
    assert!(Type::Str.feeds(Type::Any));
    assert!(!Type::Str.feeds(Type::Int));
    assert!(!Type::Float.feeds(Type::Int));
    assert!(Type::Float.accepts(&Value::Int(1)));
    assert!(!Type::Int.accepts(&Value::Float(1.0)));
    assert_eq!(Type::from_name("string"), Some(Type::Str));
    assert_eq!(Type::from_name("nope"), None);
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e12f64..1e12).prop_map(Value::Float),
        "[a-z\"\\\\ ]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(("[a-c]{1,2}", inner), 0..4)
                .prop_map(|kv| Value::from(kv.into_iter().collect::<Map>())),
        ]
    })
}

proptest! {
    #[test]
    fn json_round_trip_is_lossless(v in arb_value()) {
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, v);
    }
}
