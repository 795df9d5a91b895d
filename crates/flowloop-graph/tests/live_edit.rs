//! Live edits: a batch is validated as a whole (an invalid one changes nothing), applied
//! between ticks, and untouched nodes keep their state and their set inputs.

use std::time::Duration;

use flowloop::flow::Outputs;
use flowloop_graph::kind::{Inputs, Instance, Kind, KindSpec, PortSpec, ready};
use flowloop_graph::live::{Edit, LiveGraph};
use flowloop_graph::{Graph, GraphError, Layout, OnConnected, PortRef, Registry, Shelf, Type, Value};

/// `test.count`: how many times this node ran (state kept by the instance), plus its input.
struct Count(KindSpec);

struct CountInstance {
    runs: i64,
}

impl Instance for CountInstance {
    fn call(&mut self, mut inputs: Inputs) -> flowloop_graph::kind::Call {
        self.runs += 1;
        let step = inputs.take::<i64>(0);
        let runs = self.runs;
        ready(step.map(|s| Outputs::One(Value::Int(runs * s))).map_err(Into::into))
    }
}

impl Kind for Count {
    fn spec(&self) -> &KindSpec {
        &self.0
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(CountInstance { runs: 0 })
    }
}

fn registry() -> Registry {
    let mut reg = Registry::with_std();
    let spec = KindSpec::new("test.count")
        .input(PortSpec::new("step", Type::Int).default(1))
        .output("out", Type::Int);
    reg.register(Shelf::new("test", "").with(Count(spec))).unwrap();
    reg
}

fn base() -> Graph {
    let mut g = Graph::new(registry());
    g.add("test.count", Some("counter")).unwrap();
    g.add("math.add", Some("plus")).unwrap();
    g.set_constant("plus", "a", Value::Int(100)).unwrap();
    g
}

fn run<F: std::future::Future + 'static>(f: F) -> F::Output {
    flowloop::run(async move { flowloop::timeout(Duration::from_secs(20), f).await.expect("watchdog") }).unwrap()
}

fn port(node: &str, p: &str) -> PortRef {
    PortRef::new(node, p)
}

#[test]
fn a_valid_batch_applies_and_untouched_nodes_keep_their_state() {
    let live = LiveGraph::new(base()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        live.inject("counter", "step", Value::Int(10)).await.unwrap();
        assert_eq!(
            live.value("counter", "out"),
            Some(Value::Int(20)),
            "second run, step 10"
        );
        live.apply(&[
            Edit::Add {
                kind: "flow.passthrough".into(),
                id: "show".into(),
            },
            Edit::Connect {
                from: port("counter", "out"),
                to: port("show", "value"),
                on_connected: OnConnected::Refuse,
            },
            Edit::Layout {
                id: "show".into(),
                layout: Layout::default(),
            },
        ])
        .unwrap();
        assert_eq!(
            live.value("counter", "out"),
            Some(Value::Int(20)),
            "values survive the edit"
        );
        live.idle().await.unwrap();
        assert_eq!(
            live.runs("counter"),
            2,
            "the edit did not touch the counter: it did not re-run"
        );
        assert_eq!(
            live.value("show", "out"),
            Some(Value::Int(20)),
            "the new node read its value"
        );
        live.inject("counter", "step", Value::Int(10)).await.unwrap();
        assert_eq!(
            live.value("counter", "out"),
            Some(Value::Int(30)),
            "the counter kept its state and its step"
        );
        assert_eq!(live.value("show", "out"), Some(Value::Int(30)));
    });
}

/// `a → b → c` and `d → e` of `math.add` (each adding 1).
fn two_chains() -> Graph {
    let mut g = Graph::new(registry());
    for (id, from) in [
        ("a", None),
        ("b", Some("a")),
        ("c", Some("b")),
        ("d", None),
        ("e", Some("d")),
    ] {
        g.add("math.add", Some(id)).unwrap();
        g.set_constant(id, "b", Value::Int(1)).unwrap();
        match from {
            Some(f) => g.connect(f, "out", id, "a").unwrap(),
            None => g.set_constant(id, "a", Value::Int(0)).unwrap(),
        }
    }
    g
}

fn runs_of(live: &LiveGraph, nodes: &[&str]) -> Vec<u64> {
    nodes.iter().map(|n| live.runs(n)).collect()
}

#[test]
fn the_tick_after_an_edit_reruns_only_what_the_edit_affects() {
    let live = LiveGraph::new(two_chains()).unwrap();
    let nodes = ["a", "b", "c", "d", "e"];
    run(async move {
        live.idle().await.unwrap();
        assert_eq!(runs_of(&live, &nodes), [1, 1, 1, 1, 1]);
        // A new node reading `c`, and a constant changed on `d`.
        live.apply(&[
            Edit::Add {
                kind: "math.mul".into(),
                id: "f".into(),
            },
            Edit::Connect {
                from: port("c", "out"),
                to: port("f", "a"),
                on_connected: OnConnected::Refuse,
            },
            Edit::Set {
                to: port("f", "b"),
                value: Value::Int(10),
            },
            Edit::Set {
                to: port("d", "b"),
                value: Value::Int(5),
            },
        ])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(
            runs_of(&live, &nodes),
            [1, 1, 1, 2, 2],
            "only d and what reads it re-ran"
        );
        assert_eq!(live.runs("f"), 1);
        assert_eq!(live.value("f", "out"), Some(Value::Int(30)));
        assert_eq!(live.value("e", "out"), Some(Value::Int(6)));
        // Rewiring `c` to read `e` re-runs `c` and `f` only.
        live.apply(&[Edit::Connect {
            from: port("e", "out"),
            to: port("c", "a"),
            on_connected: OnConnected::Replace,
        }])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(runs_of(&live, &nodes), [1, 1, 2, 2, 2]);
        assert_eq!(live.runs("f"), 2);
        assert_eq!(live.value("f", "out"), Some(Value::Int(70)));
        // An edit that changes nothing a node reads (layout only) runs nothing.
        live.apply(&[Edit::Layout {
            id: "a".into(),
            layout: Layout::default(),
        }])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(runs_of(&live, &nodes), [1, 1, 2, 2, 2]);
    });
}

#[test]
fn an_input_set_while_an_edit_waits_still_runs_after_the_swap() {
    let live = LiveGraph::new(two_chains()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        live.set_input("a", "a", Value::Int(100)).unwrap();
        live.apply(&[Edit::Layout {
            id: "e".into(),
            layout: Layout::default(),
        }])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(
            live.value("c", "out"),
            Some(Value::Int(103)),
            "the set before the edit counted"
        );
        assert_eq!(runs_of(&live, &["a", "b", "c", "d", "e"]), [2, 2, 2, 1, 1]);
    });
}

#[test]
fn an_invalid_batch_changes_nothing() {
    let live = LiveGraph::new(base()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        let before = live.graph().to_json();
        let err = live
            .apply(&[
                Edit::Add {
                    kind: "flow.passthrough".into(),
                    id: "show".into(),
                },
                Edit::Connect {
                    from: port("counter", "out"),
                    to: port("show", "nope"),
                    on_connected: OnConnected::Refuse,
                },
            ])
            .unwrap_err();
        assert!(matches!(err, GraphError::UnknownInput { .. }), "{err}");
        let err = live
            .apply(&[Edit::Add {
                kind: "math.div".into(),
                id: "d".into(),
            }])
            .unwrap_err();
        assert_eq!(
            err,
            GraphError::Unconnected {
                node: "d".into(),
                input: "a".into()
            },
            "checked as a whole"
        );
        assert_eq!(live.graph().to_json(), before);
        live.idle().await.unwrap();
        assert_eq!(live.ticks(), 1, "nothing to do after refused batches");
    });
}

#[test]
fn removed_nodes_disappear_and_edges_can_be_rewired() {
    let live = LiveGraph::new(base()).unwrap();
    run(async move {
        live.idle().await.unwrap();
        live.apply(&[Edit::Connect {
            from: port("counter", "out"),
            to: port("plus", "b"),
            on_connected: OnConnected::Refuse,
        }])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(
            live.value("plus", "out"),
            Some(Value::Int(101)),
            "plus re-ran on the new edge; the counter, untouched, kept its first value"
        );
        assert_eq!(live.runs("counter"), 1);
        live.apply(&[
            Edit::Disconnect { to: port("plus", "b") },
            Edit::Set {
                to: port("plus", "b"),
                value: Value::Int(5),
            },
            Edit::Remove { id: "counter".into() },
        ])
        .unwrap();
        assert_eq!(live.value("counter", "out"), None);
        live.idle().await.unwrap();
        assert_eq!(live.value("plus", "out"), Some(Value::Int(105)));
    });
}

#[test]
fn an_edit_during_a_tick_waits_for_the_tick_to_end() {
    let mut g = base();
    g.add("streams.range", Some("numbers")).unwrap();
    g.set_constant("numbers", "stop", Value::Int(3)).unwrap();
    g.add("streams.sum", Some("total")).unwrap();
    g.connect("numbers", "stream", "total", "items").unwrap();
    let live = LiveGraph::new(g).unwrap();
    run(async move {
        let server = flowloop::spawn(live.serve()).await;
        flowloop::yield_now().await;
        // The first tick may be running now; the edit is queued or applied, never mixed in.
        live.apply(&[Edit::Set {
            to: port("numbers", "stop"),
            value: Value::Int(5),
        }])
        .unwrap();
        live.idle().await.unwrap();
        assert_eq!(live.value("total", "out"), Some(Value::Int(10)));
        live.close();
        server.join().await.unwrap();
    });
}

#[test]
fn node_views_count_runs_over_edits_and_name_every_node() {
    use flowloop::flow::NodeStatus;
    let live = LiveGraph::new(base()).unwrap();
    run(async move {
        let before = live.node_views();
        let ids: Vec<&str> = before.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["counter", "plus"]);
        assert!(before.iter().all(|(_, v)| v.runs == 0 && v.generation.is_none()));
        live.idle().await.unwrap();
        live.inject("counter", "step", Value::Int(2)).await.unwrap();
        let views = live.node_views();
        assert_eq!(views[0].1.runs, 2);
        assert_eq!(views[0].1.status, NodeStatus::Idle);
        assert!(views[0].1.generation.is_some());
        live.apply(&[Edit::Add {
            kind: "math.neg".into(),
            id: "neg".into(),
        }])
        .unwrap_err();
        live.apply(&[Edit::Remove { id: "plus".into() }]).unwrap();
        live.idle().await.unwrap();
        let views = live.node_views();
        assert_eq!(views.len(), 1, "the removed node is gone: {views:?}");
        assert_eq!(
            views[0].1.runs, 2,
            "runs of the replaced flow carry over (counter did not re-run)"
        );
        live.inject("counter", "step", Value::Int(2)).await.unwrap();
        assert_eq!(live.node_views()[0].1.runs, 3);
    });
}

#[test]
fn a_beacon_names_the_node_a_tick_started_last_through_flow_keys() {
    let live = LiveGraph::new(base()).unwrap();
    let beacon = flowloop::flow::RunBeacon::new();
    live.beacon(std::sync::Arc::clone(&beacon));
    assert!(beacon.last().is_none());
    run(async move {
        live.idle().await.unwrap();
        let mark = beacon.last().expect("the tick marked its node starts");
        let keys = live.flow_keys();
        let named = &keys[mark.node.index()];
        assert!(["counter", "plus"].contains(&named.as_str()), "{keys:?}");
        live.apply(&[Edit::Remove { id: "plus".into() }]).unwrap();
        live.idle().await.unwrap();
        assert_eq!(live.flow_keys(), ["counter"], "the keys follow the edit");
        live.inject("counter", "step", Value::Int(2)).await.unwrap();
        assert_eq!(beacon.last().map(|m| m.node.index()), Some(0));
    });
}
