//! Helpers for the standard-shelf tests: run one node of a kind in a batch graph.
#![allow(dead_code)]

use flowloop_graph::{Graph, Registry, Value};

/// A graph with one node `n` of `kind`, its inputs set to `inputs`.
pub fn one_node(kind: &str, inputs: &[(&str, Value)]) -> Result<Graph, String> {
    let mut g = Graph::new(Registry::with_std());
    g.add(kind, Some("n")).map_err(|e| e.to_string())?;
    for (port, value) in inputs {
        g.set_constant("n", port, value.clone()).map_err(|e| e.to_string())?;
    }
    Ok(g)
}

/// Runs one node of `kind` and returns its `output`, or the error's text.
pub fn eval_out(kind: &str, inputs: &[(&str, Value)], output: &str) -> Result<Value, String> {
    let g = one_node(kind, inputs)?;
    let mut run = g.batch().map_err(|e| e.to_string())?;
    run.run().map_err(|e| e.to_string())?;
    run.value("n", output).ok_or_else(|| format!("no value on `{output}`"))
}

/// Runs one node of `kind` and returns its `out`, or the error's text.
pub fn eval(kind: &str, inputs: &[(&str, Value)]) -> Result<Value, String> {
    eval_out(kind, inputs, "out")
}

/// Runs `kind` with its first input fed through a passthrough (typed `any`), so a wrong type
/// is found when the value arrives rather than when the constant is set.
pub fn eval_untyped(kind: &str, port: &str, value: Value, rest: &[(&str, Value)]) -> Result<Value, String> {
    let mut g = one_node(kind, rest)?;
    g.add("flow.passthrough", Some("src")).map_err(|e| e.to_string())?;
    g.set_constant("src", "value", value).map_err(|e| e.to_string())?;
    g.connect("src", "out", "n", port).map_err(|e| e.to_string())?;
    let mut run = g.batch().map_err(|e| e.to_string())?;
    run.run().map_err(|e| e.to_string())?;
    run.value("n", "out").ok_or_else(|| "no value on `out`".to_string())
}

/// The kind names of a shelf in the standard registry.
pub fn kinds_of(shelf: &str) -> Vec<String> {
    let reg = Registry::with_std();
    reg.kinds()
        .map(|k| k.spec().name.clone())
        .filter(|n| n.starts_with(&format!("{shelf}.")))
        .collect()
}

/// Every kind of `shelf` has a doc and typed ports in the registry's JSON listing.
pub fn assert_listed_with_docs(shelf: &str, expected: &[&str]) {
    let json = Registry::with_std().to_json();
    let entry = json["shelves"]
        .as_array()
        .expect("shelves is a list")
        .iter()
        .find(|s| s["name"] == shelf)
        .unwrap_or_else(|| panic!("shelf {shelf} is listed"));
    let kinds = entry["kinds"].as_array().expect("kinds is a list");
    let names: Vec<&str> = kinds.iter().filter_map(|k| k["name"].as_str()).collect();
    for want in expected {
        assert!(names.contains(want), "{want} listed in {names:?}");
    }
    for k in kinds {
        assert!(!k["doc"].as_str().unwrap_or("").is_empty(), "{} has a doc", k["name"]);
        for port in k["inputs"].as_array().into_iter().flatten() {
            assert!(port["type"].is_string(), "{} input typed", k["name"]);
        }
        for port in k["outputs"].as_array().into_iter().flatten() {
            assert!(port["type"].is_string(), "{} output typed", k["name"]);
        }
    }
}
