//! Composite kinds: graphs with declared ports used as kinds, nested, registered from specs in
//! any order; a composite that includes itself is refused with the path.

use std::sync::Arc;

use flowloop_graph::composite::{CompositeError, CompositeKind, register_composites};
use flowloop_graph::{Graph, GraphError, GraphSpec, Registry, Value};

fn spec(text: &str) -> GraphSpec {
    serde_json::from_str(text).unwrap()
}

const INC: &str = r#"{"format":1,"name":"my.inc","doc":"Adds one.",
  "nodes":[{"id":"add","kind":"math.add","inputs":{"b":1}}],
  "inputs":{"x":"add.a"},"outputs":{"y":"add.out"}}"#;

const INC2: &str = r#"{"format":1,"name":"my.inc2",
  "nodes":[{"id":"first","kind":"my.inc"},{"id":"second","kind":"my.inc"}],
  "edges":[{"from":"first.y","to":"second.x"}],
  "inputs":{"x":"first.x"},"outputs":{"y":"second.y"}}"#;

#[test]
fn composites_nest_and_register_in_any_order() {
    let mut reg = Registry::with_std();
    register_composites(&mut reg, &[spec(INC2), spec(INC)]).unwrap();
    let listed = reg.get("my.inc2").unwrap().spec();
    assert_eq!(listed.inputs[0].name, "x");
    assert_eq!(listed.outputs[0].name, "y");
    let mut g = Graph::new(reg);
    g.add("my.inc2", Some("twice")).unwrap();
    g.set_constant("twice", "x", Value::Int(40)).unwrap();
    g.add("my.inc", Some("thrice")).unwrap();
    g.connect("twice", "y", "thrice", "x").unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("thrice", "y"), Some(Value::Int(43)));
}

#[test]
fn a_composite_input_takes_the_inner_default() {
    let mut reg = Registry::with_std();
    register_composites(&mut reg, &[spec(INC)]).unwrap();
    let doc = &reg.get("my.inc").unwrap().spec().doc;
    assert_eq!(doc, "Adds one.");
    let mut g = Graph::new(reg);
    g.add("my.inc", Some("i")).unwrap();
    assert!(g.validate().is_err(), "math.add's `a` has no default, so `x` has none");
}

#[test]
fn a_composite_that_includes_itself_is_refused() {
    let selfish = r#"{"format":1,"name":"my.loop","nodes":[{"id":"again","kind":"my.loop"}]}"#;
    let mut reg = Registry::with_std();
    let before = reg.kinds().count();
    let err = register_composites(&mut reg, &[spec(selfish)]).unwrap_err();
    assert_eq!(
        err,
        CompositeError::Graph(GraphError::SelfInclusion {
            name: "my.loop".into(),
            path: "my.loop -> my.loop".into()
        })
    );
    let a = r#"{"format":1,"name":"my.a","nodes":[{"id":"n","kind":"my.b"}]}"#;
    let b = r#"{"format":1,"name":"my.b","nodes":[{"id":"n","kind":"my.a"}]}"#;
    let err = register_composites(&mut reg, &[spec(a), spec(b), spec(INC)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "composite kind `my.a` includes itself (through my.a -> my.b -> my.a)"
    );
    assert_eq!(reg.kinds().count(), before, "nothing registered");

    // Through an already registered composite: a new `my.inc` using the old one.
    register_composites(&mut reg, &[spec(INC)]).unwrap();
    let mut g = Graph::new(reg.clone());
    g.add("my.inc", Some("inner")).unwrap();
    g.set_name("my.inc", "");
    let err = CompositeKind::new(g).unwrap_err();
    assert!(matches!(err, GraphError::SelfInclusion { .. }), "{err}");
}

#[test]
fn bad_composites_name_the_problem() {
    let g = Graph::new(Registry::with_std());
    assert!(
        CompositeKind::new(g)
            .unwrap_err()
            .to_string()
            .contains("needs a `name`")
    );
    let connected = r#"{"format":1,"name":"my.c","nodes":[{"id":"a","kind":"math.add","inputs":{"a":1}},{"id":"b","kind":"math.add","inputs":{"b":1}}],
      "edges":[{"from":"a.out","to":"b.a"}],"inputs":{"x":"b.a"}}"#;
    let err = register_composites(&mut Registry::with_std(), &[spec(connected)]).unwrap_err();
    assert!(err.to_string().contains("must be an unconnected value input"), "{err}");
    let unknown = r#"{"format":1,"name":"my.u","nodes":[{"id":"a","kind":"math.nope"}]}"#;
    let err = register_composites(&mut Registry::with_std(), &[spec(unknown)]).unwrap_err();
    assert!(matches!(err, CompositeError::Spec { .. }), "{err}");
    let mut reg = Registry::with_std();
    register_composites(&mut reg, &[spec(INC)]).unwrap();
    let err = register_composites(&mut reg, &[spec(INC)]).unwrap_err();
    assert!(matches!(err, CompositeError::Registry(_)), "{err}");
}

#[test]
fn an_inner_failure_names_the_outer_and_inner_nodes() {
    let div = r#"{"format":1,"name":"my.inv","nodes":[{"id":"d","kind":"math.div","inputs":{"a":1}}],
      "inputs":{"x":"d.b"},"outputs":{"y":"d.out"}}"#;
    let mut reg = Registry::with_std();
    register_composites(&mut reg, &[spec(div)]).unwrap();
    let mut g = Graph::new(reg);
    g.add("my.inv", Some("outer")).unwrap();
    g.set_constant("outer", "x", Value::Int(0)).unwrap();
    let err = g.batch().unwrap().run().unwrap_err().to_string();
    assert_eq!(err, "node `outer` failed: node `d` failed: input `b`: division by zero");
    let k = Arc::clone(g.registry().get("my.inv").unwrap());
    assert_eq!(k.includes(), ["my.inv"]);
}
