//! The `time` shelf: the clock, a delay that lets other nodes run, and an interval stream;
//! bounds are generous (timing is measured by benchmarks, not here).

mod std_support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowloop_graph::{Graph, Registry, Value};
use std_support::{assert_listed_with_docs, eval};

#[test]
fn now_reads_the_system_clock_in_milliseconds() {
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let now = eval("time.now", &[]).unwrap().as_int().unwrap();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!(before <= now && now <= after, "{before} <= {now} <= {after}");
}

#[test]
fn sleep_delays_its_value_without_blocking_other_nodes() {
    let mut g = Graph::new(Registry::with_std());
    g.add("time.sleep", Some("slow")).unwrap();
    g.set_constant("slow", "value", Value::str("late")).unwrap();
    g.set_constant("slow", "ms", Value::Float(30.0)).unwrap();
    g.add("time.sleep", Some("fast")).unwrap();
    g.set_constant("fast", "value", Value::str("early")).unwrap();
    g.set_constant("fast", "ms", Value::Int(30)).unwrap();
    let started = Instant::now();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    let took = started.elapsed();
    assert_eq!(run.value("slow", "out"), Some(Value::str("late")));
    assert_eq!(run.value("fast", "out"), Some(Value::str("early")));
    assert!(took >= Duration::from_millis(30), "{took:?}");
    assert!(took < Duration::from_secs(5), "the two sleeps overlap: {took:?}");
}

#[test]
fn interval_emits_count_ticks() {
    let mut g = Graph::new(Registry::with_std());
    g.add("time.interval", Some("tick")).unwrap();
    g.set_constant("tick", "period", Value::Int(5)).unwrap();
    g.set_constant("tick", "count", Value::Int(4)).unwrap();
    g.add("streams.collect", Some("all")).unwrap();
    g.connect("tick", "stream", "all", "items").unwrap();
    let started = Instant::now();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(run.value("all", "out"), Some(Value::list([0, 1, 2, 3])));
    assert_eq!(run.value("tick", "out"), Some(Value::Int(4)));
}

#[test]
fn bad_durations_name_node_and_port() {
    let err = eval("time.sleep", &[("ms", Value::Float(-1.0))]).unwrap_err();
    assert_eq!(
        err,
        "node `n` failed: input `ms`: -1 ms is not a duration (give 0 or more)"
    );
    let err = eval("time.sleep", &[("ms", Value::Float(f64::NAN))]).unwrap_err();
    assert!(err.contains("input `ms`") && err.contains("not a duration"), "{err}");
    let err = eval("time.interval", &[("period", Value::Int(0)), ("count", Value::Int(1))]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `period`: must be more than 0 ms");
    let err = eval("time.interval", &[("period", Value::Int(1)), ("count", Value::Int(-2))]).unwrap_err();
    assert!(err.contains("input `count`: -2 is not between 0"), "{err}");
    let err = eval("time.sleep", &[("ms", Value::str("soon"))]).unwrap_err();
    assert!(err.contains("`n`") && err.contains("ms"), "{err}");
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs("time", &["time.now", "time.sleep", "time.interval"]);
}
