//! Pull one output; `flow.if` evaluates only the branch it takes.
//!
//! `cargo run -p flowloop-graph --example pull_lazy_if`

use flowloop_graph::pull::{Memo, Pull};
use flowloop_graph::{Graph, Registry, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut g = Graph::new(Registry::with_std());
    g.add("flow.if", Some("pick"))?;
    g.set_constant("pick", "cond", Value::Bool(true))?;
    g.add("math.mul", Some("cheap"))?;
    g.set_constant("cheap", "a", Value::Int(6))?;
    g.set_constant("cheap", "b", Value::Int(7))?;
    g.add("math.div", Some("broken"))?; // 1 / 0 fails if it ever runs
    g.set_constant("broken", "a", Value::Int(1))?;
    g.set_constant("broken", "b", Value::Int(0))?;
    g.connect("cheap", "out", "pick", "then")?;
    g.connect("broken", "out", "pick", "else")?;

    let mut pull = Pull::new(g, Memo::On);
    println!("pick = {}", pull.resolve("pick", "out")?);
    println!("runs: cheap {}, broken {}", pull.runs("cheap"), pull.runs("broken"));
    println!("again (memoised) = {}", pull.resolve("pick", "out")?);
    println!("runs: cheap {}", pull.runs("cheap"));
    pull.set_constant("pick", "cond", Value::Bool(false))?;
    match pull.resolve("pick", "out") {
        Ok(v) => println!("else branch = {v}"),
        Err(e) => println!("else branch failed as expected: {e}"),
    }
    Ok(())
}
