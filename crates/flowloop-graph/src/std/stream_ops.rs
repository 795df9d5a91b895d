//! More kinds of the `streams` shelf: `take`, `batch`, `window`, `zip`, and `map`/`filter`
//! with a named operation (an arithmetic op, a field lookup, a comparison). Every kind here
//! emits chunks on its `stream` output and ends with the number of chunks emitted on `out`;
//! it stops reading its input once it needs no more.

use std::collections::VecDeque;

use flowloop::flow::{Emitter, Stream};

use super::order::{equal, incomparable, order};
use crate::kind::{FromPort, IntoPort, KindError, Number, kind_error};
use crate::{Shelf, Value};

/// Reads a positive size, naming `port` when it is not.
fn positive(size: i64, port: &str) -> Result<usize, KindError> {
    usize::try_from(size)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| kind_error(port, &format!("{size} is not a positive size")))
}

/// The first `count` items of a stream.
#[crate::kind(name = "streams.take", chunk = "any")]
pub async fn take(out: Emitter<Value>, mut items: Stream<Value>, count: i64) -> Result<i64, KindError> {
    let limit = usize::try_from(count).map_err(|_| kind_error("count", &format!("{count} is negative")))?;
    let mut sent = 0;
    while sent < limit {
        let Some(x) = items.next().await else { break };
        if out.emit(x).await.is_err() {
            break;
        }
        sent += 1;
    }
    Ok(sent as i64)
}

/// The items of a stream in lists of `size` (the last may be shorter).
#[crate::kind(name = "streams.batch", chunk = "list")]
pub async fn batch(out: Emitter<Value>, mut items: Stream<Value>, size: i64) -> Result<i64, KindError> {
    let size = positive(size, "size")?;
    let mut sent = 0;
    let mut group = Vec::with_capacity(size);
    while let Some(x) = items.next().await {
        group.push(x);
        if group.len() == size {
            if out.emit(Value::from(std::mem::take(&mut group))).await.is_err() {
                return Ok(sent);
            }
            sent += 1;
        }
    }
    if !group.is_empty() && out.emit(Value::from(group)).await.is_ok() {
        sent += 1;
    }
    Ok(sent)
}

/// Sliding windows of the latest `size` items, one per item once `size` have arrived.
#[crate::kind(name = "streams.window", chunk = "list")]
pub async fn window(out: Emitter<Value>, mut items: Stream<Value>, size: i64) -> Result<i64, KindError> {
    let size = positive(size, "size")?;
    let mut sent = 0;
    let mut latest = VecDeque::with_capacity(size);
    while let Some(x) = items.next().await {
        if latest.len() == size {
            latest.pop_front();
        }
        latest.push_back(x);
        if latest.len() == size {
            if out.emit(Value::from(Vec::from(latest.clone()))).await.is_err() {
                break;
            }
            sent += 1;
        }
    }
    Ok(sent)
}

/// Pairs `[a, b]` of items of two streams, until either ends.
#[crate::kind(name = "streams.zip", chunk = "list")]
pub async fn zip(out: Emitter<Value>, mut a: Stream<Value>, mut b: Stream<Value>) -> i64 {
    let mut sent = 0;
    while let Some(x) = a.next().await {
        let Some(y) = b.next().await else { break };
        if out.emit(Value::from(vec![x, y])).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

/// An operation of `streams.map`.
#[derive(Debug, Clone, Copy)]
enum MapOp {
    Add,
    Sub,
    Mul,
    Div,
    Get,
}

impl MapOp {
    fn parse(name: &str) -> Result<MapOp, KindError> {
        Ok(match name {
            "add" => MapOp::Add,
            "sub" => MapOp::Sub,
            "mul" => MapOp::Mul,
            "div" => MapOp::Div,
            "get" => MapOp::Get,
            other => {
                return Err(kind_error(
                    "op",
                    &format!("`{other}` is not one of add, sub, mul, div, get"),
                ));
            }
        })
    }

    fn apply(self, item: Value, operand: &Value) -> Result<Value, KindError> {
        if let MapOp::Get = self {
            return super::collections::get(item, operand.clone());
        }
        let a = Number::from_port(item).map_err(|e| kind_error("items", &e.to_string()))?;
        let b = Number::from_port(operand.clone()).map_err(|e| kind_error("operand", &e.to_string()))?;
        Ok(match self {
            MapOp::Add => super::math::add(a, b).into_port(),
            MapOp::Sub => super::math::sub(a, b).into_port(),
            MapOp::Mul => super::math::mul(a, b).into_port(),
            _ => super::math::div(a, b)
                .map_err(|_| kind_error("operand", "division by zero"))?
                .into_port(),
        })
    }
}

/// Each item with `op` applied: `add`, `sub`, `mul`, `div` by `operand`, or `get` item
/// `operand` of each list or map. An item the op does not apply to is an error.
#[crate::kind(name = "streams.map", chunk = "any")]
pub async fn map(
    out: Emitter<Value>,
    mut items: Stream<Value>,
    op: String,
    #[default(Value::Null)] operand: Value,
) -> Result<i64, KindError> {
    let op = MapOp::parse(&op)?;
    let mut sent = 0;
    while let Some(x) = items.next().await {
        if out.emit(op.apply(x, &operand)?).await.is_err() {
            break;
        }
        sent += 1;
    }
    Ok(sent)
}

/// Whether `item op value` holds for comparison `op` (eq, ne, lt, le, gt, ge).
fn holds(op: &str, item: &Value, value: &Value) -> Result<bool, KindError> {
    if op == "eq" || op == "ne" {
        return Ok(equal(item, value) == (op == "eq"));
    }
    let ord = order(item, value).ok_or_else(|| kind_error("items", &incomparable(item, value)))?;
    Ok(match op {
        "lt" => ord.is_lt(),
        "le" => ord.is_le(),
        "gt" => ord.is_gt(),
        _ => ord.is_ge(),
    })
}

/// The items for which `item op value` holds, `op` being eq, ne, lt, le, gt or ge.
#[crate::kind(name = "streams.filter", chunk = "any")]
pub async fn filter(out: Emitter<Value>, mut items: Stream<Value>, op: String, value: Value) -> Result<i64, KindError> {
    if !["eq", "ne", "lt", "le", "gt", "ge"].contains(&op.as_str()) {
        return Err(kind_error(
            "op",
            &format!("`{op}` is not one of eq, ne, lt, le, gt, ge"),
        ));
    }
    let mut sent = 0;
    while let Some(x) = items.next().await {
        if holds(&op, &x, &value)? {
            if out.emit(x).await.is_err() {
                break;
            }
            sent += 1;
        }
    }
    Ok(sent)
}

/// Adds this module's kinds to the `streams` shelf.
pub fn extend(shelf: Shelf) -> Shelf {
    shelf
        .with(take_kind())
        .with(batch_kind())
        .with(window_kind())
        .with(zip_kind())
        .with(map_kind())
        .with(filter_kind())
}
