//! The graph editor in the browser: `cargo run --release -p flowloop-web --example editor --
//! [FILE]`. Loads FILE (a graph spec) if it exists, serves the editor on 127.0.0.1, and writes
//! the spec back to FILE when the page's Save is pressed. Runs until killed.

use std::path::PathBuf;

use flowloop_graph::{Graph, Registry, Value};
use flowloop_web::{GraphEditor, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "graph.json".into()));
    let graph = match std::fs::read_to_string(&file) {
        Ok(text) => Graph::from_json(&text, Registry::with_std())?,
        Err(_) => {
            let mut g = Graph::new(Registry::with_std());
            g.add("math.add", Some("sum"))?;
            g.set_constant("sum", "a", Value::Int(2))?;
            g.set_constant("sum", "b", Value::Int(3))?;
            g
        }
    };
    let editor = GraphEditor::start(graph, Some(file.clone()), ServerConfig::new())?;
    println!("editor: {} (Save writes {})", editor.url(), file.display());
    loop {
        std::thread::park();
    }
}
