//! Push evaluation (a live graph): setting inputs re-runs the graph; same-tick sets run once
//! (Funcnodes' trigger coalescing); a node busy when new input arrives runs once more with the
//! latest inputs; errors reach the awaiter and stay visible on the node.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowloop::flow::Outputs;
use flowloop_graph::kind::{FnKind, InputMode, Inputs, KindSpec, PortSpec, pending};
use flowloop_graph::live::{LiveError, LiveEvent, LiveGraph};
use flowloop_graph::{Graph, GraphError, PortRef, Registry, STREAM_OUTPUT, Shelf, Type, Value};

/// `double = x * 2`, `plus = double + 1`, `ratio = 10 / plus`.
fn chain() -> Graph {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.mul", Some("double")).unwrap();
    g.set_constant("double", "a", Value::Int(1)).unwrap();
    g.set_constant("double", "b", Value::Int(2)).unwrap();
    g.add("math.add", Some("plus")).unwrap();
    g.connect("double", "out", "plus", "a").unwrap();
    g.set_constant("plus", "b", Value::Int(1)).unwrap();
    g.add("math.div", Some("ratio")).unwrap();
    g.set_constant("ratio", "a", Value::Int(30)).unwrap();
    g.connect("plus", "out", "ratio", "b").unwrap();
    g
}

fn run<F: std::future::Future + 'static>(f: F) -> F::Output {
    flowloop::run(async move { flowloop::timeout(Duration::from_secs(20), f).await.expect("watchdog") }).unwrap()
}

#[test]
fn setting_an_input_propagates_to_everything_downstream() {
    let live = LiveGraph::new(chain()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("ratio", "out"), Some(Value::Float(10.0)));
        live.inject("double", "a", Value::Int(7)).await.unwrap();
        assert_eq!(live.value("plus", "out"), Some(Value::Int(15)));
        assert_eq!(live.value("ratio", "out"), Some(Value::Float(2.0)));
    });
}

#[test]
fn sets_in_the_same_tick_run_once() {
    let live = LiveGraph::new(chain()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!((live.runs("plus"), live.ticks()), (1, 1));
        for x in 2..=5 {
            live.set_input("double", "a", Value::Int(x)).unwrap();
        }
        live.set_input("plus", "b", Value::Int(0)).unwrap();
        live.idle().await.unwrap();
        assert_eq!(live.ticks(), 2, "five sets, one tick");
        assert_eq!(live.runs("plus"), 2, "each node ran once more");
        assert_eq!(
            live.value("plus", "out"),
            Some(Value::Int(10)),
            "with the latest values"
        );
    });
}

#[test]
fn a_serving_task_ticks_on_input_without_timers() {
    let live = LiveGraph::new(chain()).unwrap();
    run(async move {
        let server = flowloop::spawn(live.serve()).await;
        live.idle().await.unwrap();
        let ticks = live.ticks();
        live.set_input("double", "a", Value::Int(3)).unwrap();
        live.set_input("double", "a", Value::Int(4)).unwrap();
        for _ in 0..100 {
            if live.ticks() > ticks {
                break;
            }
            flowloop::yield_now().await;
        }
        assert_eq!(live.ticks(), ticks + 1, "the server ticked once for both sets");
        assert_eq!(live.value("plus", "out"), Some(Value::Int(9)));
        live.close();
        server.join().await.unwrap();
    });
}

#[test]
fn errors_reach_the_awaiter_and_stay_visible_on_the_node() {
    let live = LiveGraph::new(chain()).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&events);
    live.on_event(move |e| log.borrow_mut().push(e.clone()));
    run(async move {
        live.idle().await.unwrap();
        let err = live.inject("plus", "b", Value::Int(-2)).await.unwrap_err();
        let LiveError::Failed(failures) = &err else {
            panic!("expected failures, got {err}")
        };
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].node.as_deref(), Some("ratio"));
        assert_eq!(err.to_string(), "node `ratio` failed: input `b`: division by zero");
        assert_eq!(
            live.error("ratio").as_deref(),
            Some("node `ratio` failed: input `b`: division by zero")
        );
        assert_eq!(live.error("plus"), None);
        live.idle().await.unwrap();
        live.inject("plus", "b", Value::Int(1)).await.unwrap();
        assert_eq!(live.error("ratio"), None, "a successful run clears the error state");
        assert!(
            events
                .borrow()
                .iter()
                .any(|e| matches!(e, LiveEvent::Failed(f) if f.node.as_deref() == Some("ratio")))
        );
        assert!(
            events
                .borrow()
                .iter()
                .any(|e| matches!(e, LiveEvent::Ticked { tick: 3 }))
        );
    });
}

#[test]
fn bad_sets_are_refused_at_once() {
    let live = LiveGraph::new(chain()).unwrap();
    assert!(matches!(
        live.set_input("ghost", "a", Value::Int(1)),
        Err(GraphError::UnknownNode { .. })
    ));
    assert!(matches!(
        live.set_input("plus", "a", Value::Int(1)),
        Err(GraphError::AlreadyConnected { .. })
    ));
    assert!(matches!(
        live.set_input("plus", "b", Value::str("x")),
        Err(GraphError::BadConstant { .. })
    ));
    run(async move {
        let err = live.inject("plus", "zz", Value::Int(1)).await.unwrap_err();
        assert!(
            matches!(err, LiveError::Graph(GraphError::UnknownInput { .. })),
            "{err}"
        );
    });
}

/// A kind that logs each start with its input and then sleeps a little (so a tick is in
/// progress while the test sets new input).
fn slow_shelf(log: Arc<Mutex<Vec<i64>>>) -> Shelf {
    let spec = KindSpec::new("test.slow")
        .input(PortSpec::new("x", Type::Int))
        .output("out", Type::Int);
    let kind = FnKind::new(spec, move |mut inputs: Inputs| {
        let x = inputs.take::<i64>(0);
        let log = Arc::clone(&log);
        pending(async move {
            let x = x?;
            log.lock().expect("log lock").push(x);
            flowloop::sleep(Duration::from_millis(5)).await;
            Ok(Outputs::One(Value::Int(x)))
        })
    });
    Shelf::new("test", "").with(kind)
}

#[test]
fn a_node_busy_when_input_arrives_runs_once_more_with_the_latest_input() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut reg = Registry::with_std();
    reg.register(slow_shelf(Arc::clone(&log))).unwrap();
    let mut g = Graph::new(reg);
    g.add("test.slow", Some("slow")).unwrap();
    g.set_constant("slow", "x", Value::Int(1)).unwrap();
    let live = LiveGraph::new(g).unwrap();
    let started = Arc::clone(&log);
    run(async move {
        let server = flowloop::spawn(live.serve()).await;
        for _ in 0..1000 {
            if !started.lock().expect("log lock").is_empty() {
                break;
            }
            flowloop::yield_now().await;
        }
        assert_eq!(*started.lock().expect("log lock"), [1], "the first tick is running");
        live.set_input("slow", "x", Value::Int(2)).unwrap();
        live.set_input("slow", "x", Value::Int(3)).unwrap();
        live.idle().await.unwrap();
        assert_eq!(
            *started.lock().expect("log lock"),
            [1, 3],
            "one more run, with the latest input"
        );
        assert_eq!(live.value("slow", "out"), Some(Value::Int(3)));
        live.close();
        server.join().await.unwrap();
    });
}

/// Two independent chains: `a → b` and `c → d` (`math.add`, each adding 1).
fn two_chains() -> Graph {
    let mut g = Graph::new(Registry::with_std());
    for (head, tail) in [("a", "b"), ("c", "d")] {
        g.add("math.add", Some(head)).unwrap();
        g.set_constant(head, "a", Value::Int(0)).unwrap();
        g.set_constant(head, "b", Value::Int(1)).unwrap();
        g.add("math.add", Some(tail)).unwrap();
        g.connect(head, "out", tail, "a").unwrap();
        g.set_constant(tail, "b", Value::Int(1)).unwrap();
    }
    g
}

fn runs_of(live: &LiveGraph, nodes: &[&str]) -> Vec<u64> {
    nodes.iter().map(|n| live.runs(n)).collect()
}

#[test]
fn a_set_reruns_only_what_depends_on_it() {
    let live = LiveGraph::new(two_chains()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(
            runs_of(&live, &["a", "b", "c", "d"]),
            [1, 1, 1, 1],
            "the first tick runs all"
        );
        live.inject("a", "a", Value::Int(10)).await.unwrap();
        assert_eq!(
            runs_of(&live, &["a", "b", "c", "d"]),
            [2, 2, 1, 1],
            "the other chain is untouched"
        );
        assert_eq!(live.value("b", "out"), Some(Value::Int(12)));
        assert_eq!(live.value("d", "out"), Some(Value::Int(2)), "its cached value stays");
        live.inject("d", "b", Value::Int(5)).await.unwrap();
        assert_eq!(
            runs_of(&live, &["a", "b", "c", "d"]),
            [2, 2, 1, 2],
            "only the set node ran"
        );
        assert_eq!(live.value("d", "out"), Some(Value::Int(6)), "reading c's cached output");
    });
}

#[test]
fn a_diamond_runs_its_join_once_per_set() {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("top")).unwrap();
    g.set_constant("top", "a", Value::Int(1)).unwrap();
    for side in ["left", "right"] {
        g.add("math.mul", Some(side)).unwrap();
        g.connect("top", "out", side, "a").unwrap();
        g.set_constant(side, "b", Value::Int(2)).unwrap();
    }
    g.add("math.add", Some("join")).unwrap();
    g.connect("left", "out", "join", "a").unwrap();
    g.connect("right", "out", "join", "b").unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("join", "out"), Some(Value::Int(4)));
        live.inject("top", "a", Value::Int(5)).await.unwrap();
        assert_eq!(live.value("join", "out"), Some(Value::Int(20)));
        assert_eq!(runs_of(&live, &["top", "left", "right", "join"]), [2, 2, 2, 2]);
    });
}

#[test]
fn a_failed_node_keeps_its_last_value_until_it_recovers() {
    let live = LiveGraph::new(chain()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        live.inject("double", "a", Value::Int(2)).await.unwrap();
        assert_eq!(live.value("plus", "out"), Some(Value::Int(5)));
        let err = live.inject("plus", "b", Value::Int(-4)).await.unwrap_err();
        assert!(err.to_string().contains("node `ratio` failed"), "{err}");
        assert_eq!(
            live.value("ratio", "out"),
            Some(Value::Float(6.0)),
            "the last good value stays"
        );
        assert_eq!(live.runs("ratio"), 3, "it ran and failed");
        live.inject("double", "a", Value::Int(3)).await.unwrap();
        assert_eq!(live.value("ratio", "out"), Some(Value::Float(15.0)));
        assert_eq!(live.error("ratio"), None);
    });
}

/// A kind that panics when its input is negative.
fn panicky_shelf() -> Shelf {
    let spec = KindSpec::new("test.panicky")
        .input(PortSpec::new("x", Type::Int))
        .output("out", Type::Int);
    let kind = FnKind::new(spec, |mut inputs: Inputs| {
        let x: i64 = inputs.take(0).unwrap_or(0);
        assert!(x >= 0, "negative input {x}");
        flowloop_graph::kind::ready(Ok(Outputs::One(Value::Int(x))))
    });
    Shelf::new("test", "").with(kind)
}

#[test]
fn a_panicking_node_is_a_visible_failure_not_a_crash() {
    let mut reg = Registry::with_std();
    reg.register(panicky_shelf()).unwrap();
    let mut g = Graph::new(reg);
    g.add("test.panicky", Some("p")).unwrap();
    g.set_constant("p", "x", Value::Int(1)).unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        live.idle().await.unwrap();
        let err = live.inject("p", "x", Value::Int(-1)).await.unwrap_err();
        assert_eq!(err.to_string(), "node `p` failed: panicked: negative input -1");
        assert_eq!(
            live.error("p").as_deref(),
            Some("node `p` failed: panicked: negative input -1")
        );
        live.inject("p", "x", Value::Int(7)).await.unwrap();
        assert_eq!((live.value("p", "out"), live.error("p")), (Some(Value::Int(7)), None));
    });
}

#[test]
fn a_graph_with_a_stream_still_reruns_on_input() {
    let mut g = Graph::new(Registry::with_std());
    g.add("streams.range", Some("r")).unwrap();
    g.set_constant("r", "stop", Value::Int(4)).unwrap();
    g.add("streams.sum", Some("s")).unwrap();
    g.connect("r", STREAM_OUTPUT, "s", "items").unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("s", "out"), Some(Value::Int(6)));
        live.inject("r", "stop", Value::Int(5)).await.unwrap();
        assert_eq!(live.value("s", "out"), Some(Value::Int(10)));
        assert_eq!(live.runs("s"), 2);
    });
}

thread_local! {
    /// Opened by the test each time `test.gated` may take one more chunk.
    static GATE: flowloop::sync::Event = flowloop::sync::Event::new();
}

/// `test.gated`: a stream consumer that takes each chunk only once the test opens [`GATE`]
/// (so a chunk stays published and untaken for as long as the test looks); the final value
/// is how many chunks it took.
fn gated_shelf() -> Shelf {
    let spec = KindSpec::new("test.gated")
        .input(PortSpec::new("items", Type::Any).mode(InputMode::Stream))
        .output("out", Type::Int);
    let kind = FnKind::new(spec, |mut inputs: Inputs| {
        let items = inputs.stream(0);
        pending(async move {
            let mut items = items?;
            let gate = GATE.with(Clone::clone);
            let mut taken = 0;
            loop {
                gate.wait().await;
                gate.clear();
                if items.next().await.is_none() {
                    break;
                }
                taken += 1;
            }
            Ok(Outputs::One(Value::Int(taken)))
        })
    });
    Shelf::new("test", "").with(kind)
}

/// Yields to the tick until `live.stream_lags()` is `want` (bounded in count).
async fn lags_reach(live: &LiveGraph, want: &[(PortRef, u64)]) -> Vec<(PortRef, u64)> {
    for _ in 0..1000 {
        if live.stream_lags() == want {
            break;
        }
        flowloop::yield_now().await;
    }
    live.stream_lags()
}

#[test]
fn a_stream_inputs_lag_counts_the_published_chunk_until_the_consumer_takes_it() {
    let mut reg = Registry::with_std();
    reg.register(gated_shelf()).unwrap();
    let mut g = Graph::new(reg);
    g.add("streams.range", Some("numbers")).unwrap();
    g.set_constant("numbers", "stop", Value::Int(2)).unwrap();
    g.add("test.gated", Some("slow")).unwrap();
    g.connect("numbers", STREAM_OUTPUT, "slow", "items").unwrap();
    let live = LiveGraph::new(g).unwrap();
    let items = PortRef::new("slow", "items");
    run(async move {
        assert_eq!(
            live.stream_lags(),
            [(items.clone(), 0)],
            "nothing published before a tick"
        );
        let tick = flowloop::spawn(live.idle()).await;
        // The producer publishes chunk 0 and waits for it to be taken; the consumer waits on
        // the gate.
        let lags = lags_reach(&live, &[(items.clone(), 1)]).await;
        assert_eq!(lags, [(items.clone(), 1)], "chunk 0 published, not taken");
        assert_eq!(live.value("slow", "out"), None, "the tick is still running");
        GATE.with(flowloop::sync::Event::set);
        let lags = lags_reach(&live, &[(items.clone(), 0)]).await;
        assert_eq!(lags, [(items.clone(), 0)], "chunk 0 taken, chunk 1 not yet pulled");
        // Each opening lets the consumer pull and take one more chunk, then see the end.
        for _ in 0..2 {
            GATE.with(flowloop::sync::Event::set);
            for _ in 0..1000 {
                if !GATE.with(flowloop::sync::Event::is_set) {
                    break;
                }
                flowloop::yield_now().await;
            }
        }
        tick.join().await.unwrap().unwrap();
        assert_eq!(live.value("slow", "out"), Some(Value::Int(2)));
        assert_eq!(live.stream_lags(), [(items, 0)], "the stream ended: every chunk taken");
    });
}

#[test]
fn a_graph_without_streams_has_no_stream_lags() {
    let live = LiveGraph::new(chain()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        assert!(live.stream_lags().is_empty());
    });
}
