//! Build a graph in code, save it as JSON, load it back and run it in batch.
//!
//! `cargo run -p flowloop-graph --example build_save_load [path]` — with a path (for example
//! `examples/graphs/counter.json`) it loads and runs that file instead.

use flowloop_graph::{Graph, Layout, Registry, Value};

fn build() -> Result<Graph, flowloop_graph::GraphError> {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("src"))?;
    g.set_constant("src", "a", Value::Int(1))?;
    g.set_constant("src", "b", Value::Int(1))?;
    g.add("math.mul", Some("left"))?;
    g.set_constant("left", "b", Value::Int(10))?;
    g.add("math.add", Some("right"))?;
    g.set_constant("right", "b", Value::Int(3))?;
    g.add("math.add", Some("join"))?;
    g.connect("src", "out", "left", "a")?;
    g.connect("src", "out", "right", "a")?;
    g.connect("left", "out", "join", "a")?;
    g.connect("right", "out", "join", "b")?;
    g.set_layout(
        "join",
        Layout {
            x: 400.0,
            y: 0.0,
            label: Some("result".into()),
        },
    )?;
    Ok(g)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?,
        None => {
            let text = build()?.to_json();
            println!("saved:\n{text}");
            text
        }
    };
    let graph = Graph::from_json(&text, Registry::with_std())?;
    let mut run = graph.batch()?;
    let outcome = run.run()?;
    println!("outcome: {outcome}");
    for node in graph.nodes() {
        for out in &node.spec().outputs {
            let value = run
                .value(node.id(), &out.name)
                .map_or("-".to_string(), |v| v.to_string());
            let generation = run.generation(node.id()).map_or("None".to_string(), |g| g.to_string());
            println!("{}.{} = {value}  (generation {generation})", node.id(), out.name);
        }
    }
    Ok(())
}
