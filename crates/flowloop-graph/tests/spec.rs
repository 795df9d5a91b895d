//! The JSON spec: canonical round trips, layout apart from meaning, and load errors with line
//! and column naming the node and port.

mod common;

use flowloop_graph::{Graph, GraphError, Layout, Registry, SpecError, Value};

fn load(text: &str) -> Result<Graph, SpecError> {
    Graph::from_json(text, Registry::with_std())
}

fn spec(nodes: &[&str], edges: &[&str]) -> String {
    format!(
        "{{\n  \"format\": 1,\n  \"nodes\": [\n    {}\n  ],\n  \"edges\": [\n    {}\n  ]\n}}\n",
        nodes.join(",\n    "),
        edges.join(",\n    ")
    )
}

#[test]
fn example_files_are_canonical() {
    for name in ["counter.json", "stream.json", "diamond.json"] {
        let text = common::example_text(name);
        let g = load(&text).unwrap();
        assert_eq!(g.to_json(), text, "{name} is written back byte for byte");
    }
}

#[test]
fn built_graphs_round_trip_through_text() {
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("b")).unwrap();
    g.add("math.add", Some("a")).unwrap();
    g.set_constant("a", "a", flowloop_graph::Value::Float(1.5)).unwrap();
    g.set_constant("b", "b", flowloop_graph::Value::str("x \"quoted\""))
        .unwrap_err();
    g.connect("a", "out", "b", "a").unwrap();
    g.set_layout(
        "a",
        Layout {
            x: 1.0,
            y: 2.0,
            label: None,
        },
    )
    .unwrap();
    g.declare_output("sum", "b", "out").unwrap();
    let text = g.to_json();
    let back = load(&text).unwrap();
    assert_eq!(back.to_json(), text);
    assert_eq!(
        back.nodes().map(|n| n.id()).collect::<Vec<_>>(),
        ["b", "a"],
        "node order is kept"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("\"kind\"")).count(),
        2,
        "one node per line:\n{text}"
    );
}

#[test]
fn moving_a_node_changes_only_the_layout() {
    let mut g = common::example("diamond.json");
    let before = g.to_spec();
    g.set_layout(
        "join",
        Layout {
            x: -1.0,
            y: 99.0,
            label: Some("moved".into()),
        },
    )
    .unwrap();
    let after = g.to_spec();
    assert_eq!(
        (before.nodes, before.edges, before.inputs, before.outputs),
        (after.nodes, after.edges, after.inputs, after.outputs)
    );
    assert_ne!(before.layout, after.layout);
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = load("{\n  \"format\": 1,\n  \"nodes\": [ {\"id\": \"a\",, } ]\n}").unwrap_err();
    assert_eq!((err.line, err.column), (3, 25), "{err}");
    assert!(err.graph.is_none());
    let err = load("").unwrap_err();
    assert_eq!(err.line, 1);
    let err = load("{\"format\": 1, \"nodes\": [], \"extra\": true}").unwrap_err();
    assert!(err.message.contains("unknown field `extra`"), "{err}");
}

#[test]
fn an_unsupported_format_is_refused() {
    let err = load("{\"format\": 2, \"nodes\": []}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1, column 1: unsupported format 2 (this build reads format 1)"
    );
}

#[test]
fn an_unknown_kind_points_at_its_node() {
    let text = spec(
        &[
            r#"{"id":"a","kind":"math.add","inputs":{"a":1}}"#,
            r#"{"id":"b","kind":"math.nope"}"#,
        ],
        &[],
    );
    let err = load(&text).unwrap_err();
    assert_eq!((err.line, err.column), (5, 11), "{err}");
    assert_eq!(
        err.graph.as_deref(),
        Some(&GraphError::UnknownKind {
            node: "b".into(),
            kind: "math.nope".into()
        })
    );
}

#[test]
fn a_duplicate_id_points_at_the_second_node() {
    let text = spec(
        &[
            r#"{"id":"a","kind":"math.add","inputs":{"a":1}}"#,
            r#"{"id":"a","kind":"math.add"}"#,
        ],
        &[],
    );
    let err = load(&text).unwrap_err();
    assert_eq!(err.line, 5, "{err}");
    assert_eq!(
        err.graph.as_deref(),
        Some(&GraphError::DuplicateId { node: "a".into() })
    );
}

#[test]
fn a_dangling_edge_names_the_missing_node() {
    let text = spec(
        &[r#"{"id":"a","kind":"math.add","inputs":{"a":1}}"#],
        &[r#"{"from":"ghost.out","to":"a.b"}"#],
    );
    let err = load(&text).unwrap_err();
    assert_eq!((err.line, err.column), (7, 13), "{err}");
    assert_eq!(err.message, "no node `ghost` in the graph");
    let text = spec(
        &[r#"{"id":"a","kind":"math.add","inputs":{"a":1}}"#],
        &[r#"{"from":"a.out","to":"a.zz"}"#],
    );
    let err = load(&text).unwrap_err();
    assert_eq!((err.line, err.column), (7, 26), "{err}");
    assert!(err.message.contains("no input `zz`"), "{err}");
    let text = spec(
        &[r#"{"id":"a","kind":"math.add","inputs":{"a":1}}"#],
        &[r#"{"from":"a","to":"a.b"}"#],
    );
    assert!(load(&text).unwrap_err().message.contains("expected `node.port`"));
}

#[test]
fn a_wrong_constant_type_names_node_and_input() {
    let text = spec(&[r#"{"id":"a","kind":"math.add","inputs":{"a":"one"}}"#], &[]);
    let err = load(&text).unwrap_err();
    assert_eq!(err.line, 4);
    assert_eq!(
        err.message,
        r#"input `a` of node `a`: expected number, got string `"one"`"#
    );
}

#[test]
fn an_input_without_value_names_node_and_input() {
    let text = spec(&[r#"{"id":"x","kind":"math.add"}"#], &[]);
    let err = load(&text).unwrap_err();
    assert_eq!(err.line, 4);
    assert_eq!(
        err.graph.as_deref(),
        Some(&GraphError::Unconnected {
            node: "x".into(),
            input: "a".into()
        })
    );
}

#[test]
fn bad_declarations_and_limits_are_refused() {
    let base = r#"{"format":1,"nodes":[{"id":"a","kind":"math.add","inputs":{"a":1}}],"#;
    assert!(load(&format!(r#"{base}"outputs":{{"r":"a.nope"}}}}"#)).is_err());
    assert!(load(&format!(r#"{base}"inputs":{{"r":"zz.a"}}}}"#)).is_err());
    assert!(load(&format!(r#"{base}"limits":{{"a":[1,2,3]}}}}"#)).is_err());
    assert!(load(&format!(r#"{base}"limits":{{"zz":[1]}}}}"#)).is_err());
    assert!(load(&format!(r#"{base}"layout":{{"zz":{{"x":0,"y":0}}}}}}"#)).is_err());
    load(&format!(r#"{base}"limits":{{"a":[1]}}}}"#)).unwrap();
}

#[test]
fn the_published_schema_describes_the_spec_fields() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/graph-spec.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut fields: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let full = flowloop_graph::GraphSpec {
        format: 1,
        name: Some("x.y".into()),
        doc: "d".into(),
        kinds: vec![flowloop_graph::KindDecl {
            name: "x.z".into(),
            each: None,
            body: flowloop_graph::GraphSpec::default(),
        }],
        nodes: Vec::new(),
        edges: Vec::new(),
        inputs: [("i".to_string(), "a.b".to_string())].into(),
        outputs: [("o".to_string(), "a.b".to_string())].into(),
        limits: [("a".to_string(), vec![1])].into(),
        layout: [(
            "a".to_string(),
            flowloop_graph::spec::LayoutSpec {
                x: 0.0,
                y: 0.0,
                label: None,
            },
        )]
        .into(),
    };
    let json = serde_json::to_value(&full).unwrap();
    let mut written: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    written.sort_unstable();
    assert_eq!(fields, written, "the schema lists exactly the fields the spec has");
}

/// A spec declaring `my.double_all` (map over a body doubling `item`) and a composite
/// `my.inc`, used by two nodes.
const DECLARED: &str = r#"{
  "format": 1,
  "kinds": [
    {"body":{"edges":[],"format":1,"inputs":{"item":"twice.a"},"nodes":[{"id":"twice","inputs":{"b":2},"kind":"math.mul"}],"outputs":{"out":"twice.out"}},"each":"map","name":"my.double_all"},
    {"body":{"edges":[],"format":1,"inputs":{"x":"plus.a"},"nodes":[{"id":"plus","inputs":{"b":1},"kind":"math.add"}],"outputs":{"y":"plus.out"}},"name":"my.inc"}
  ],
  "nodes": [
    {"id":"d","inputs":{"items":[1,2,3]},"kind":"my.double_all"},
    {"id":"i","inputs":{"x":41},"kind":"my.inc"}
  ],
  "edges": []
}
"#;

#[test]
fn higher_order_and_composite_kinds_are_declared_in_the_spec() {
    let g = load(DECLARED).unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("d", "out"), Some(Value::list([2, 4, 6])));
    assert_eq!(run.value("i", "y"), Some(Value::Int(42)));
    let saved = g.to_json();
    assert_eq!(saved, DECLARED, "the declarations round-trip canonically");
    assert_eq!(load(&saved).unwrap().to_json(), saved);
}

#[test]
fn a_bad_kind_declaration_names_the_kind_and_where_it_is() {
    let unknown_op = DECLARED.replace(r#""each":"map""#, r#""each":"fold""#);
    let err = load(&unknown_op).unwrap_err();
    assert_eq!(
        (err.line, err.message.starts_with("kind `my.double_all`: ")),
        (4, true),
        "{err}"
    );
    assert!(err.message.contains("expected map, filter, reduce or find"), "{err}");
    let bad_body = DECLARED.replace(r#""kind":"math.mul""#, r#""kind":"math.nope""#);
    let err = load(&bad_body).unwrap_err();
    assert!(err.message.starts_with("kind `my.double_all`: body: "), "{err}");
    assert!(err.message.contains("math.nope"), "{err}");
    let taken = DECLARED.replace(r#""name":"my.inc""#, r#""name":"math.add""#);
    let err = load(&taken).unwrap_err();
    assert!(err.message.contains("already registered"), "{err}");
    let no_item = DECLARED.replace(r#""inputs":{"item":"twice.a"}"#, r#""inputs":{"thing":"twice.a"}"#);
    let err = load(&no_item).unwrap_err();
    assert!(err.message.contains("`item`"), "{err}");
}
