//! The `time` shelf: the clock, delays and periodic ticks on the event loop's timers (mio
//! rounds waits under 1 ms up to 1 ms). Durations are in milliseconds; a negative one is an
//! error naming its input.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowloop::flow::Emitter;

use crate::kind::{KindError, kind_error};
use crate::{Shelf, Value};

/// Reads a duration in milliseconds, naming `port` when it is negative or not finite.
fn millis(ms: f64, port: &str) -> Result<Duration, KindError> {
    Duration::try_from_secs_f64(ms / 1000.0)
        .map_err(|_| kind_error(port, &format!("{ms} ms is not a duration (give 0 or more)")))
}

/// Milliseconds since the Unix epoch, read each run; `trigger` (any value) lets an edge decide
/// when the node runs again.
#[crate::kind(name = "time.now")]
pub fn now(#[default(Value::Null)] trigger: Value) -> Result<i64, KindError> {
    let _ = trigger;
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| kind_error("trigger", "the system clock is before 1970"))?;
    Ok(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// Passes `value` on after waiting `ms` milliseconds (other nodes run meanwhile).
#[crate::kind(name = "time.sleep")]
pub async fn sleep(#[default(Value::Null)] value: Value, ms: f64) -> Result<Value, KindError> {
    flowloop::sleep(millis(ms, "ms")?).await;
    Ok(value)
}

/// Emits ticks 0, 1, 2, ... every `period` ms (the first after one period), `count` of them;
/// ends with the number emitted. Deadlines are fixed in advance, so ticks do not drift.
#[crate::kind(name = "time.interval", chunk = "int")]
pub async fn interval(out: Emitter<Value>, period: f64, count: i64) -> Result<i64, KindError> {
    let step = millis(period, "period")?;
    if step.is_zero() {
        return Err(kind_error("period", "must be more than 0 ms"));
    }
    let total =
        u32::try_from(count).map_err(|_| kind_error("count", &format!("{count} is not between 0 and {}", u32::MAX)))?;
    let start = Instant::now();
    let mut sent = 0;
    for tick in 1..=total {
        flowloop::sleep_until(start + step * tick).await;
        if out.emit(Value::Int(i64::from(tick) - 1)).await.is_err() {
            break;
        }
        sent += 1;
    }
    Ok(sent)
}

/// The `time` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("time", "The clock and timers: now, sleep, interval")
        .with(now_kind())
        .with(sleep_kind())
        .with(interval_kind())
}
