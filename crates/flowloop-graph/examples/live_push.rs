//! A live graph: setting an input re-runs what depends on it; sets in one tick coalesce.
//!
//! `cargo run -p flowloop-graph --example live_push`

use flowloop_graph::live::{LiveEvent, LiveGraph};
use flowloop_graph::{Graph, Registry, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.mul", Some("celsius_x9"))?;
    g.set_constant("celsius_x9", "a", Value::Int(0))?;
    g.set_constant("celsius_x9", "b", Value::Int(9))?;
    g.add("math.div", Some("fifths"))?;
    g.set_constant("fifths", "b", Value::Int(5))?;
    g.connect("celsius_x9", "out", "fifths", "a")?;
    g.add("math.add", Some("fahrenheit"))?;
    g.set_constant("fahrenheit", "b", Value::Int(32))?;
    g.connect("fifths", "out", "fahrenheit", "a")?;

    let live = LiveGraph::new(g)?;
    live.on_event(|e| {
        if let LiveEvent::Failed(f) = e {
            println!("event: {f}");
        }
    });
    flowloop::run(async move {
        let server = flowloop::spawn(live.serve()).await;
        for c in [0, 37, 100] {
            live.inject("celsius_x9", "a", Value::Int(c)).await?;
            println!("{c} °C = {} °F", live.value("fahrenheit", "out").unwrap_or_default());
        }
        for c in [1, 2, 3] {
            live.set_input("celsius_x9", "a", Value::Int(c))?; // same tick: one run
        }
        live.idle().await?;
        println!(
            "after three sets in one tick: {} ticks, fahrenheit ran {} times",
            live.ticks(),
            live.runs("fahrenheit")
        );
        live.close();
        server.join().await.map_err(|e| e.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    Ok(())
}
