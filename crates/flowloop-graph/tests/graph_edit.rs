//! Editing a graph by name: every edit is checked at once, names the node and port, and
//! changes nothing when refused.

use flowloop_graph::{Graph, GraphError, Layout, OnConnected, Registry, Type, Value};

fn graph() -> Graph {
    Graph::new(Registry::with_std())
}

#[test]
fn nodes_get_user_or_fresh_ids() {
    let mut g = graph();
    assert_eq!(g.add("math.add", None).unwrap(), "add1");
    assert_eq!(g.add("math.add", None).unwrap(), "add2");
    assert_eq!(g.add("math.mul", Some("scale")).unwrap(), "scale");
    assert_eq!(
        g.add("math.mul", Some("scale")),
        Err(GraphError::DuplicateId { node: "scale".into() })
    );
    assert!(matches!(
        g.add("math.mul", Some("bad id")),
        Err(GraphError::BadId { .. })
    ));
    let err = g.add("math.nope", Some("x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `x`: unknown kind `math.nope` (see the registry listing for the kinds there are)"
    );
    assert_eq!(g.len(), 3, "refused adds change nothing");
    assert_eq!(g.nodes().map(|n| n.id()).collect::<Vec<_>>(), ["add1", "add2", "scale"]);
}

#[test]
fn connect_checks_nodes_ports_and_types() {
    let mut g = graph();
    g.add("math.add", Some("a")).unwrap();
    g.add("math.div", Some("d")).unwrap();
    g.add("flow.if", Some("choose")).unwrap();
    g.add("streams.range", Some("r")).unwrap();
    g.add("streams.sum", Some("s")).unwrap();
    g.connect("a", "out", "d", "a").unwrap();
    assert_eq!(
        g.connect("zz", "out", "d", "b"),
        Err(GraphError::UnknownNode { node: "zz".into() })
    );
    let err = g.connect("a", "result", "d", "b").unwrap_err();
    assert_eq!(
        err.to_string(),
        "node `a` (math.add) has no output `result` (outputs: out)"
    );
    let err = g.connect("a", "out", "d", "c").unwrap_err();
    assert_eq!(err.to_string(), "node `d` (math.div) has no input `c` (inputs: a, b)");
    // number into bool: a type mismatch; float into any: fine.
    let err = g.connect("a", "out", "choose", "cond").unwrap_err();
    assert_eq!(
        err,
        GraphError::TypeMismatch {
            from: "a".into(),
            output_type: Type::Number,
            node: "choose".into(),
            input: "cond".into(),
            input_type: Type::Bool,
        }
    );
    g.connect("d", "out", "choose", "then").unwrap();
    // streams: stream into plain needs an adapter; plain into stream is refused too.
    let err = g.connect("r", "stream", "d", "b").unwrap_err();
    assert!(matches!(err, GraphError::StreamToPlain { .. }), "{err}");
    assert!(err.to_string().contains("streams.collect"), "{err}");
    assert!(matches!(
        g.connect("a", "out", "s", "items"),
        Err(GraphError::PlainToStream { .. })
    ));
    g.connect("r", "stream", "s", "items").unwrap();
    g.connect("r", "out", "d", "b").unwrap();
    assert_eq!(g.edges().count(), 4, "only accepted edges exist");
}

#[test]
fn a_connected_input_refuses_a_second_edge_unless_replaced() {
    let mut g = graph();
    g.add("math.add", Some("a")).unwrap();
    g.add("math.add", Some("b")).unwrap();
    g.add("math.add", Some("c")).unwrap();
    g.connect("a", "out", "c", "a").unwrap();
    let err = g.connect("b", "out", "c", "a").unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `a` of node `c` is already connected to `a.out` (disconnect it, or connect with replace)"
    );
    g.connect_with("b", "out", "c", "a", OnConnected::Replace).unwrap();
    assert_eq!(g.source_of("c", "a").unwrap().to_string(), "b.out");
    assert_eq!(g.disconnect("c", "a").unwrap().to_string(), "b.out");
    assert_eq!(
        g.disconnect("c", "a"),
        Err(GraphError::NotConnected {
            node: "c".into(),
            input: "a".into()
        })
    );
}

#[test]
fn constants_are_type_checked() {
    let mut g = graph();
    g.add("math.add", Some("a")).unwrap();
    g.add("flow.if", Some("i")).unwrap();
    g.add("streams.sum", Some("s")).unwrap();
    g.set_constant("a", "a", Value::Int(1)).unwrap();
    g.set_constant("a", "b", Value::Float(2.5)).unwrap();
    let err = g.set_constant("a", "b", Value::str("two")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"input `b` of node `a`: expected number, got string `"two"`"#
    );
    assert_eq!(
        g.node("a").unwrap().constants().get("b"),
        Some(&Value::Float(2.5)),
        "unchanged"
    );
    assert!(g.set_constant("i", "cond", Value::Int(1)).is_err());
    assert!(matches!(
        g.set_constant("s", "items", Value::Null),
        Err(GraphError::StreamConstant { .. })
    ));
    assert_eq!(g.clear_constant("a", "b").unwrap(), Some(Value::Float(2.5)));
    assert_eq!(
        g.node("a").unwrap().input_value(1),
        Some(&Value::Int(0)),
        "the kind's default applies again"
    );
}

#[test]
fn removing_a_node_removes_its_edges() {
    let mut g = graph();
    g.add("math.add", Some("a")).unwrap();
    g.add("math.add", Some("b")).unwrap();
    g.add("math.add", Some("c")).unwrap();
    g.connect("a", "out", "b", "a").unwrap();
    g.connect("b", "out", "c", "a").unwrap();
    g.remove("b").unwrap();
    assert_eq!(g.edges().count(), 0);
    assert!(g.node("b").is_none());
    assert_eq!(g.remove("b"), Err(GraphError::UnknownNode { node: "b".into() }));
    g.connect("a", "out", "c", "a").unwrap();
    assert_eq!(g.downstream("a").len(), 2);
}

#[test]
fn layout_is_metadata() {
    let mut g = graph();
    g.add("math.add", Some("a")).unwrap();
    let l = Layout {
        x: 10.0,
        y: -5.0,
        label: Some("sum".into()),
    };
    g.set_layout("a", l.clone()).unwrap();
    assert_eq!(g.node("a").unwrap().layout(), Some(&l));
    assert!(g.set_layout("zz", l).is_err());
}

#[test]
fn validate_names_the_first_input_without_value() {
    let mut g = graph();
    g.add("math.div", Some("d")).unwrap();
    assert_eq!(
        g.validate(),
        Err(GraphError::Unconnected {
            node: "d".into(),
            input: "a".into()
        })
    );
    g.set_constant("d", "a", Value::Int(1)).unwrap();
    g.set_constant("d", "b", Value::Int(2)).unwrap();
    g.validate().unwrap();
    g.add("streams.sum", Some("s")).unwrap();
    let err = g.batch().unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `items` of node `s` is not connected and has no value (connect it or set a constant)"
    );
}
