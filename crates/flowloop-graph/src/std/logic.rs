//! The `logic` shelf: boolean operations. Inputs must be bools (no truthiness): a string or
//! number is an error naming the input.

use crate::Shelf;

/// `a` and `b`.
#[crate::kind(name = "logic.and")]
pub fn and(a: bool, b: bool) -> bool {
    a && b
}

/// `a` or `b`.
#[crate::kind(name = "logic.or")]
pub fn or(a: bool, b: bool) -> bool {
    a || b
}

/// `a` exclusive-or `b`.
#[crate::kind(name = "logic.xor")]
pub fn xor(a: bool, b: bool) -> bool {
    a ^ b
}

/// Not `value`.
#[crate::kind(name = "logic.not")]
pub fn not(value: bool) -> bool {
    !value
}

/// Whether every item of a list of bools is true (true for an empty list).
#[crate::kind(name = "logic.all")]
pub fn all(items: Vec<crate::Value>) -> Result<bool, crate::kind::KindError> {
    bools(&items).map(|b| b.iter().all(|x| *x))
}

/// Whether any item of a list of bools is true (false for an empty list).
#[crate::kind(name = "logic.any")]
pub fn any(items: Vec<crate::Value>) -> Result<bool, crate::kind::KindError> {
    bools(&items).map(|b| b.iter().any(|x| *x))
}

fn bools(items: &[crate::Value]) -> Result<Vec<bool>, crate::kind::KindError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_bool().ok_or_else(|| {
                crate::kind::kind_error(
                    "items",
                    &format!("item {i} is {} `{}`, not a bool", v.type_of(), v.preview(30)),
                )
            })
        })
        .collect()
}

/// The `logic` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("logic", "Boolean operations: and, or, xor, not, all, any")
        .with(and_kind())
        .with(or_kind())
        .with(xor_kind())
        .with(not_kind())
        .with(all_kind())
        .with(any_kind())
}
