//! Ordering and equality of values, shared by the `compare` and `collections` shelves.
//!
//! Numbers compare by value (an int equals the float with the same value); strings, bytes and
//! lists compare lexicographically; two values of different kinds have no order.

use std::cmp::Ordering;

use crate::Value;

/// Whether two values are equal, with ints and floats compared by value.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => order(a, b) == Some(Ordering::Equal),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q)),
        _ => a == b,
    }
}

/// The order of two values, `None` when they are of kinds that do not compare (or NaN).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => a.as_float()?.partial_cmp(&b.as_float()?),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => order_lists(x, y),
        _ => None,
    }
}

fn order_lists(x: &[Value], y: &[Value]) -> Option<Ordering> {
    for (p, q) in x.iter().zip(y) {
        match order(p, q)? {
            Ordering::Equal => continue,
            other => return Some(other),
        }
    }
    Some(x.len().cmp(&y.len()))
}

/// The error text for two values that do not compare.
pub fn incomparable(a: &Value, b: &Value) -> String {
    format!(
        "{} `{}` and {} `{}` cannot be ordered (compare values of one type)",
        a.type_of(),
        a.preview(30),
        b.type_of(),
        b.preview(30)
    )
}
