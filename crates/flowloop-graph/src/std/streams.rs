//! The `streams` shelf (the start of it): `range` produces a stream; `sum` and `collect`
//! consume one.

use flowloop::flow::{Emitter, Stream};

use crate::kind::kind_error;
use crate::{Shelf, Value};

/// Emits `start`, `start + step`, ... up to (not including) `stop`; the final value is the
/// number of items emitted. A zero `step` is an error.
#[crate::kind(name = "streams.range", chunk = "int")]
pub async fn range(
    out: Emitter<Value>,
    #[default(0)] start: i64,
    stop: i64,
    #[default(1)] step: i64,
) -> Result<i64, crate::kind::KindError> {
    if step == 0 {
        return Err(kind_error("step", "must not be zero"));
    }
    let mut count = 0;
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if out.emit(Value::Int(i)).await.is_err() {
            break;
        }
        count += 1;
        let Some(next) = i.checked_add(step) else { break };
        i = next;
    }
    Ok(count)
}

/// The sum of a stream of numbers (an int unless a float arrives).
#[crate::kind(name = "streams.sum")]
pub async fn sum(mut items: Stream<Value>) -> Result<Value, crate::kind::KindError> {
    let mut total = Value::Int(0);
    while let Some(x) = items.next().await {
        total = match (&total, &x) {
            (Value::Int(a), Value::Int(b)) => a
                .checked_add(*b)
                .map_or(Value::Float(*a as f64 + *b as f64), Value::Int),
            _ => match (total.as_float(), x.as_float()) {
                (Some(a), Some(b)) => Value::Float(a + b),
                _ => return Err(kind_error("items", &format!("{} is not a number", x.preview(30)))),
            },
        };
    }
    Ok(total)
}

/// Every item of a stream, as a list.
#[crate::kind(name = "streams.collect")]
pub async fn collect(mut items: Stream<Value>) -> Vec<Value> {
    let mut all = Vec::new();
    while let Some(x) = items.next().await {
        all.push(x);
    }
    all
}

/// The `streams` shelf.
pub fn shelf() -> Shelf {
    let shelf = Shelf::new(
        "streams",
        "Streams of values: range, sum, collect, take, batch, window, zip, map, filter",
    )
    .with(range_kind())
    .with(sum_kind())
    .with(collect_kind());
    super::stream_ops::extend(shelf)
}
