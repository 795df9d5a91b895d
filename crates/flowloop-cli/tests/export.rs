//! `flowloop export`: DOT, Mermaid and canonical JSON.

mod common;

use common::{example, file, flowloop, text};

#[test]
fn dot_has_every_node_and_edge() {
    let out = flowloop()
        .arg("export")
        .arg(example("stream.json"))
        .args(["--format", "dot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dot = text(&out.stdout);
    assert!(dot.starts_with("digraph flow {"));
    assert!(
        dot.contains("\"numbers\" [label=\"numbers\\nstreams.range\", peripheries=2];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"numbers\" -> \"total\" [label=\"stream → items\", style=dashed];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"numbers\" -> \"count\" [label=\"out → value\"];"),
        "{dot}"
    );
    assert_eq!(dot.matches("->").count(), 3);
}

#[test]
fn mermaid_has_every_node_and_edge() {
    let out = flowloop()
        .arg("export")
        .arg(example("counter.json"))
        .args(["--format", "mermaid"])
        .output()
        .unwrap();
    let m = text(&out.stdout);
    assert!(m.starts_with("flowchart LR\n"));
    assert!(m.contains("  count[\"count<br/>math.add\"]"), "{m}");
    assert!(m.contains("  next -->|\"out → a\"| count"), "{m}");
    assert!(m.contains("  count -->|\"out → value\"| next"), "{m}");
}

#[test]
fn json_is_canonical_and_stable() {
    let messy = r#"{"nodes": [{"kind": "math.add", "inputs": {"b": 2, "a": 1}, "id": "x"}],
        "format": 1}"#;
    let (dir, path) = file("messy.json", messy);
    let out = flowloop()
        .arg("export")
        .arg(&path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let canonical = text(&out.stdout);
    assert_eq!(
        canonical,
        "{\n  \"format\": 1,\n  \"nodes\": [\n    {\"id\":\"x\",\"inputs\":{\"a\":1,\"b\":2},\"kind\":\"math.add\"}\n  ],\n  \"edges\": []\n}\n"
    );
    let again = dir.path().join("again.json");
    std::fs::write(&again, &canonical).unwrap();
    let out = flowloop()
        .arg("export")
        .arg(&again)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), canonical);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let out = flowloop()
        .arg("export")
        .arg(example("counter.json"))
        .args(["--format", "svg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("svg"));
}

#[test]
fn invalid_graph_is_not_exported() {
    let (_dir, path) = file(
        "g.json",
        r#"{"format": 1, "nodes": [{"id": "x", "kind": "nope.nope"}]}"#,
    );
    let out = flowloop()
        .arg("export")
        .arg(&path)
        .args(["--format", "dot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("node `x`"));
}
