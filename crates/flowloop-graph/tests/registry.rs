//! Kinds from `#[kind]`, shelves, the registry and its JSON listing; typed-flow nodes with
//! named inputs.

use flowloop::flow::{BuildError, DynCall, FlowBuilder, Outputs, RunOptions, unconnected};
use flowloop_graph::kind::{FnKind, InputMode, Inputs, Kind, KindSpec, PortSpec, ready};
use flowloop_graph::{Registry, RegistryError, Shelf, Type, Value, kind};

/// Scales a number.
///
/// Second paragraph.
#[kind(name = "test.scale")]
fn scale(x: f64, #[default(2.0)] factor: f64) -> f64 {
    x * factor
}

/// Splits a pair.
#[kind(name = "test.split", outputs("left", "right"))]
async fn split(pair: Vec<Value>) -> Result<(Value, Value), String> {
    match pair.as_slice() {
        [a, b] => Ok((a.clone(), b.clone())),
        _ => Err(format!("expected 2 items, got {}", pair.len())),
    }
}

/// Runs one call of a kind on a fresh loop.
fn call(kind: &dyn Kind, values: Vec<Value>) -> Result<Outputs<Value>, String> {
    let call = kind.instance().call(Inputs::from_values(values));
    flowloop::run(async move {
        match call {
            DynCall::Pending(f) => f.await.map_err(|e| e.to_string()),
            DynCall::Ready(r) => r.map_err(|e| e.to_string()),
            _ => Err("unknown call".into()),
        }
    })
    .expect("the loop runs")
}

#[test]
fn the_macro_reads_names_defaults_docs_types_and_outputs() {
    let k = scale_kind();
    let spec = k.spec();
    assert_eq!(spec.name, "test.scale");
    assert_eq!(spec.doc, "Scales a number.\n\nSecond paragraph.");
    assert_eq!(spec.inputs.len(), 2);
    assert_eq!((spec.inputs[0].name.as_str(), spec.inputs[0].ty), ("x", Type::Float));
    assert_eq!(spec.inputs[1].default, Some(Value::Float(2.0)));
    assert_eq!(spec.outputs[0].name, "out");
    assert_eq!(spec.stream, None);
    assert_eq!(
        call(&k, vec![Value::Int(3), Value::Float(2.0)]),
        Ok(Outputs::One(Value::Float(6.0)))
    );
    let err = call(&k, vec![Value::str("three"), Value::Float(2.0)]).unwrap_err();
    assert_eq!(err, r#"input `x`: expected float, got string `"three"`"#);

    let s = split_kind();
    let names: Vec<_> = s.spec().outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["left", "right"]);
    assert_eq!(s.spec().inputs[0].ty, Type::List);
}

#[test]
fn async_and_fallible_kinds_run_on_the_loop() {
    let s = split_kind();
    let out = call(&s, vec![Value::list([1, 2])]);
    assert_eq!(out, Ok(Outputs::Many(vec![Value::Int(1), Value::Int(2)])));
    assert_eq!(
        call(&s, vec![Value::list([1])]),
        Err("expected 2 items, got 1".to_string())
    );
}

#[test]
fn streaming_kinds_declare_their_chunk_type() {
    let reg = Registry::with_std();
    let range = reg.get("streams.range").unwrap().spec();
    assert_eq!(range.stream, Some(Type::Int));
    let names: Vec<_> = range.inputs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["start", "stop", "step"], "the emitter is not a port");
    let sum = reg.get("streams.sum").unwrap().spec();
    assert_eq!(sum.inputs[0].mode, InputMode::Stream);
    let cond = reg.get("flow.if").unwrap().spec();
    assert_eq!(cond.lazy_inputs().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn the_registry_lists_shelves_as_stable_json() {
    let mut reg = Registry::with_std();
    reg.register(Shelf::new("test", "Test kinds").with(scale_kind()).with(split_kind()))
        .unwrap();
    let json = reg.to_json();
    let shelves: Vec<_> = json["shelves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in ["flow", "math", "streams", "test"] {
        assert!(shelves.contains(&name), "{name} in {shelves:?}");
    }
    let mut sorted = shelves.clone();
    sorted.sort_unstable();
    assert_eq!(shelves, sorted, "shelves are sorted");
    let shelf = |name: &str| {
        json["shelves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
    };
    let test = shelf("test");
    assert_eq!(test["kinds"][0]["name"], "test.scale");
    assert_eq!(
        test["kinds"][0]["inputs"][1],
        serde_json::json!({"name": "factor", "type": "float", "default": 2.0, "mode": "value"})
    );
    assert_eq!(
        test["kinds"][0]["outputs"],
        serde_json::json!([{"name": "out", "type": "float"}])
    );
    let range = shelf("streams")["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "streams.range")
        .unwrap();
    assert_eq!(range["stream"], "int");
    assert_eq!(
        serde_json::to_string(&json).unwrap(),
        serde_json::to_string(&reg.to_json()).unwrap()
    );
}

#[test]
fn bad_shelves_are_refused_whole() {
    let mut reg = Registry::with_std();
    let before = reg.kinds().count();
    let err = reg
        .register(Shelf::new("test", "").with(scale_kind()).with(scale_kind()))
        .unwrap_err();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            name: "test.scale".into()
        }
    );
    assert_eq!(reg.kinds().count(), before, "nothing of a refused shelf is registered");
    let err = reg.register(Shelf::new("other", "").with(scale_kind())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "kind `test.scale` is not in shelf `other` (its name must start with `other.`)"
    );
    let err = reg
        .register(Shelf::new("math", "").with(flowloop_graph::std::math::add_kind()))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Duplicate { .. }));
    let bad = FnKind::new(KindSpec::new("bad name.x"), |_| ready(Ok(Outputs::One(Value::Null))));
    assert!(matches!(
        reg.register(Shelf::new("bad name", "").with(bad)),
        Err(RegistryError::BadName { .. })
    ));
}

#[test]
fn third_party_kinds_register_like_standard_ones() {
    let upper = FnKind::new(
        KindSpec::new("acme.upper")
            .input(PortSpec::new("text", Type::Str))
            .output("out", Type::Str),
        |mut inputs: Inputs| {
            ready(
                inputs
                    .take::<String>(0)
                    .map(|t| Outputs::One(Value::from(t.to_uppercase())))
                    .map_err(Into::into),
            )
        },
    );
    let mut reg = Registry::new();
    reg.register(Shelf::new("acme", "Acme").with(upper)).unwrap();
    let k = reg.get("acme.upper").unwrap();
    assert_eq!(call(&**k, vec![Value::str("hi")]), Ok(Outputs::One(Value::str("HI"))));
    assert_eq!(reg.shelves().collect::<Vec<_>>(), ["acme"]);
}

#[test]
fn typed_flow_nodes_from_the_macro_have_named_inputs() {
    let mut b = FlowBuilder::new();
    scale_node(&mut b, (unconnected(), 3.0));
    let err = b.build().unwrap_err();
    assert_eq!(
        err,
        BuildError::Unconnected {
            node: "test.scale#0".into(),
            input: "x".into()
        }
    );

    let mut b = FlowBuilder::new();
    let x = scale_node(&mut b, (2.0, 3.0));
    let y = scale_node(&mut b, (x, 10.0));
    let mut flow = b.build().unwrap();
    flow.run_until_complete(RunOptions::new()).unwrap();
    assert_eq!(flow.value(y), Some(60.0));
}
