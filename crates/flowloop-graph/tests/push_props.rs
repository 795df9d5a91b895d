//! Property: after any sequence of input sets, a live graph (incremental push) shows the same
//! value on every node as a batch run of the same graph with those inputs.

use flowloop_graph::live::LiveGraph;
use flowloop_graph::{Graph, Registry, Value};
use proptest::prelude::*;

const KINDS: [&str; 3] = ["math.add", "math.sub", "math.mul"];

/// Per node: kind, and per input (`a`, `b`) either an earlier node to read or a constant.
type Shape = Vec<(usize, [Result<usize, i64>; 2])>;

/// Small constants and at most 8 nodes: a product chain then stays finite (overflowing ints
/// turn into floats, and an infinity could make NaN, which equals nothing).
fn shape() -> impl Strategy<Value = Shape> {
    let input = prop_oneof![any::<usize>().prop_map(Ok), (-3i64..3).prop_map(Err)];
    prop::collection::vec((0..KINDS.len(), [input.clone(), input]), 1..8)
}

fn build(shape: &Shape) -> Graph {
    let mut g = Graph::new(Registry::with_std());
    for (i, (kind, inputs)) in shape.iter().enumerate() {
        let id = format!("n{i}");
        g.add(KINDS[*kind], Some(&id)).expect("fresh id");
        for (port, input) in ["a", "b"].into_iter().zip(inputs) {
            match input {
                Ok(from) if i > 0 => g.connect(&format!("n{}", from % i), "out", &id, port),
                Ok(_) => g.set_constant(&id, port, Value::Int(1)),
                Err(v) => g.set_constant(&id, port, Value::Int(*v)),
            }
            .expect("a valid edit");
        }
    }
    g
}

/// The unconnected inputs of `g`, as (node, port).
fn settable(g: &Graph) -> Vec<(String, &'static str)> {
    g.nodes()
        .flat_map(|n| ["a", "b"].map(|p| (n.id().to_string(), p)))
        .filter(|(n, p)| g.source_of(n, p).is_none())
        .collect()
}

/// Every node's value after a batch run of `g` (on the running loop).
async fn batch_values(g: &Graph) -> Vec<Option<Value>> {
    let mut batch = g.batch().expect("compiles");
    let options = batch.options();
    batch.run_async(options).await.expect("runs");
    g.nodes().map(|n| batch.value(n.id(), "out")).collect()
}

fn live_values(live: &LiveGraph, g: &Graph) -> Vec<Option<Value>> {
    g.nodes().map(|n| live.value(n.id(), "out")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn live_values_equal_a_batch_run(shape in shape(), sets in prop::collection::vec((any::<usize>(), -3i64..3), 0..8)) {
        let g = build(&shape);
        let inputs = settable(&g);
        let live = LiveGraph::new(g.clone()).expect("compiles");
        let (ok, why) = flowloop::run(async move {
            live.idle().await.expect("first tick");
            for (pick, v) in sets {
                if inputs.is_empty() {
                    break;
                }
                let (node, port) = &inputs[pick % inputs.len()];
                live.inject(node, port, Value::Int(v)).await.expect("a set settles");
                let now = live.graph();
                let (want, got) = (batch_values(&now).await, live_values(&live, &now));
                if want != got {
                    return (false, format!("after {node}.{port} = {v}: batch {want:?}, live {got:?}"));
                }
            }
            let now = live.graph();
            (batch_values(&now).await == live_values(&live, &now), "at the end".to_string())
        })
        .expect("the loop runs");
        prop_assert!(ok, "{}", why);
    }
}
