//! The `compare` shelf: equality and order of values. Ints and floats compare by value;
//! strings, bytes and lists lexicographically; ordering values of different types is an error
//! naming input `b`.

use std::cmp::Ordering;

use super::order::{equal, incomparable, order};
use crate::kind::{KindError, kind_error};
use crate::{Shelf, Value};

fn ordered(a: &Value, b: &Value, test: fn(Ordering) -> bool) -> Result<bool, KindError> {
    order(a, b)
        .map(test)
        .ok_or_else(|| kind_error("b", &incomparable(a, b)))
}

/// Whether `a` equals `b` (`1` equals `1.0`).
#[crate::kind(name = "compare.eq")]
pub fn eq(a: Value, b: Value) -> bool {
    equal(&a, &b)
}

/// Whether `a` differs from `b`.
#[crate::kind(name = "compare.ne")]
pub fn ne(a: Value, b: Value) -> bool {
    !equal(&a, &b)
}

/// Whether `a < b`; values of different types are an error.
#[crate::kind(name = "compare.lt")]
pub fn lt(a: Value, b: Value) -> Result<bool, KindError> {
    ordered(&a, &b, Ordering::is_lt)
}

/// Whether `a <= b`; values of different types are an error.
#[crate::kind(name = "compare.le")]
pub fn le(a: Value, b: Value) -> Result<bool, KindError> {
    ordered(&a, &b, Ordering::is_le)
}

/// Whether `a > b`; values of different types are an error.
#[crate::kind(name = "compare.gt")]
pub fn gt(a: Value, b: Value) -> Result<bool, KindError> {
    ordered(&a, &b, Ordering::is_gt)
}

/// Whether `a >= b`; values of different types are an error.
#[crate::kind(name = "compare.ge")]
pub fn ge(a: Value, b: Value) -> Result<bool, KindError> {
    ordered(&a, &b, Ordering::is_ge)
}

/// Whether `low <= value <= high` (numbers only).
#[crate::kind(name = "compare.between")]
pub fn between(value: f64, low: f64, high: f64) -> Result<bool, KindError> {
    if low > high {
        return Err(kind_error("high", &format!("{high} is below low {low}")));
    }
    Ok(low <= value && value <= high)
}

/// The `compare` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "compare",
        "Equality and order of values: eq, ne, lt, le, gt, ge, between",
    )
    .with(eq_kind())
    .with(ne_kind())
    .with(lt_kind())
    .with(le_kind())
    .with(gt_kind())
    .with(ge_kind())
    .with(between_kind())
}
