//! A pipeline as a node kind of a dynamic graph, as a typed-flow node, and a pipeline kind
//! used as a step of another pipeline.

use flowloop::flow::{FlowBuilder, FlowError, RunOptions};
use flowloop_graph::kind::Kind;
use flowloop_graph::pipeline::{Pipeline, PipelineKind, Step, Visibility};
use flowloop_graph::{Graph, Map, Registry, Shelf, Type, Value, kind, par, seq};

#[kind(name = "p.inc", outputs("n"))]
async fn inc(n: i64) -> (i64,) {
    (n + 1,)
}

#[kind(name = "p.scale", outputs("n"))]
fn scale(n: i64, #[default(10)] factor: i64) -> (i64,) {
    (n * factor,)
}

#[kind(name = "p.check", outputs("n"))]
async fn check(n: i64) -> Result<(i64,), String> {
    if n > 1000 {
        Err(format!("{n} is too large"))
    } else {
        Ok((n,))
    }
}

/// n -> (n + 1) * factor, checked, and also n squared.
fn pipeline() -> Pipeline {
    let square = Step::sync_fn("square", |m: Map| {
        let n = m.get("n").and_then(Value::as_int).ok_or("n is not an int")?;
        Ok::<_, String>(Map::from_iter([("squared", n * n)]))
    });
    Pipeline::new(seq![inc_kind(), par![seq![scale_kind(), check_kind()], square]].named("calc")).unwrap()
}

fn registry() -> Registry {
    let mut reg = Registry::with_std();
    let all = PipelineKind::new("p.calc", pipeline()).doc("Scales and squares.");
    let split = PipelineKind::new("p.calc_split", pipeline()).outputs(["n", "squared"]);
    reg.register(Shelf::new("p", "Pipelines").with(all).with(split))
        .unwrap();
    reg
}

#[test]
fn a_pipeline_kind_lists_its_arguments_as_ports() {
    let reg = registry();
    let spec = reg.get("p.calc").unwrap().spec();
    assert_eq!(spec.doc, "Scales and squares.");
    let ports: Vec<_> = spec
        .inputs
        .iter()
        .map(|p| (p.name.as_str(), p.default.clone()))
        .collect();
    assert_eq!(ports, [("n", None)], "factor is produced inside, so it is not a port");
    assert_eq!((spec.outputs[0].name.as_str(), spec.outputs[0].ty), ("out", Type::Map));
    let split = reg.get("p.calc_split").unwrap().spec();
    let outs: Vec<_> = split.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outs, ["n", "squared"]);

    // Under Initial visibility, later steps' arguments are ports too, with their defaults.
    let p = Pipeline::new(seq![inc_kind(), check_kind(), scale_kind()].visibility(Visibility::Initial)).unwrap();
    let spec = PipelineKind::new("p.x", p).spec().clone();
    let ports: Vec<_> = spec
        .inputs
        .iter()
        .map(|p| (p.name.as_str(), p.default.clone()))
        .collect();
    assert_eq!(ports, [("n", None), ("factor", Some(Value::Int(10)))]);

    // Ports can be chosen by hand (computed defaults are kept).
    let p = Pipeline::new(seq![inc_kind(), check_kind(), scale_kind()].visibility(Visibility::Initial)).unwrap();
    let spec = PipelineKind::new("p.y", p).inputs(["factor", "extra"]).spec().clone();
    let ports: Vec<_> = spec
        .inputs
        .iter()
        .map(|p| (p.name.as_str(), p.default.clone()))
        .collect();
    assert_eq!(ports, [("factor", Some(Value::Int(10))), ("extra", None)]);
}

#[test]
fn outputs_known_only_in_part_still_count_as_produced() {
    // `echo` returns a map (keys unknown before running), `inc` certainly produces `n`: under
    // Initial visibility, `check` reads `n` from the par, so `n` is an input only once.
    let echo = Step::async_fn("echo", |m: Map| async move { Ok::<_, String>(m) });
    let p =
        Pipeline::new(seq![inc_kind(), par![echo, inc_kind()], check_kind()].visibility(Visibility::Initial)).unwrap();
    assert_eq!(p.inputs(), [("n".to_string(), None)]);
    assert_eq!(p.outputs(), Some(vec!["n".to_string()]));
}

#[test]
fn a_graph_node_runs_a_pipeline() {
    let mut g = Graph::new(registry());
    g.add("math.add", Some("src")).unwrap();
    g.set_constant("src", "a", Value::Int(2)).unwrap();
    g.set_constant("src", "b", Value::Int(1)).unwrap();
    g.add("p.calc", Some("calc")).unwrap();
    g.connect("src", "out", "calc", "n").unwrap();
    g.add("p.calc_split", Some("split")).unwrap();
    g.connect("src", "out", "split", "n").unwrap();
    g.add("math.add", Some("sum")).unwrap();
    g.connect("split", "n", "sum", "a").unwrap();
    g.connect("split", "squared", "sum", "b").unwrap();
    let mut run = g.batch().unwrap();
    assert!(run.run().unwrap().is_completed());
    // n = 3 -> inc 4 -> scale 40 (checked); squared = 16
    let out = run.value("calc", "out").unwrap();
    assert_eq!(out.to_string(), r#"{"n": 40, "squared": 16}"#);
    assert_eq!(run.value("sum", "out"), Some(Value::Int(56)));
}

#[test]
fn a_failing_pipeline_is_the_nodes_error_naming_the_step() {
    let mut g = Graph::new(registry());
    g.add("p.calc", Some("calc")).unwrap();
    g.set_constant("calc", "n", Value::Int(500)).unwrap();
    let mut run = g.batch().unwrap();
    let err = run.run().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("calc"), "{text}");
    assert!(
        text.contains("step `calc/par/seq/check` failed: 5010 is too large"),
        "the error names the innermost step: {text}"
    );
}

#[test]
fn a_graph_node_given_a_wrong_type_fails_naming_the_step_and_port() {
    let mut g = Graph::new(registry());
    g.add("p.calc", Some("calc")).unwrap();
    g.set_constant("calc", "n", Value::str("seven")).unwrap();
    let mut run = g.batch().unwrap();
    let text = run.run().unwrap_err().to_string();
    assert!(text.contains("calc"), "{text}");
    assert!(
        text.contains("step `calc/inc` failed"),
        "the error names the step: {text}"
    );
    assert!(text.contains("input `n`"), "and the port that did not convert: {text}");
    assert!(run.value("calc", "out").is_none());
}

#[test]
fn a_typed_flow_node_runs_a_pipeline() {
    let p = pipeline();
    let mut b = FlowBuilder::new();
    let args = b.node(|n: i64| async move { Map::from_iter([("n", n)]) }, (4,));
    let out = p.flow_node(&mut b, (args,));
    let bad = p.flow_node(&mut b, (Map::from_iter([("n", Value::Int(5000))]),));
    let mut flow = b.build().unwrap();
    // Keep running past the bad node's error, so the good node's value is there to read.
    let err = flow
        .run_until_complete(RunOptions::new().terminate_on_error(false))
        .unwrap_err();
    assert_eq!(
        flow.value(out).map(|m| m.to_string()).as_deref(),
        Some(r#"{"n": 50, "squared": 25}"#)
    );
    let FlowError::Failed(failures) = &err else {
        panic!("{err}")
    };
    assert_eq!(failures.len(), 1);
    let text = err.to_string();
    assert!(
        text.contains("pipeline calc"),
        "the node is named after the pipeline: {text}"
    );
    assert!(
        text.contains("`calc/par/seq/check` failed: 50010 is too large"),
        "{text}"
    );
    assert!(flow.value(bad).is_none());
}

#[test]
fn a_typed_flow_node_missing_an_argument_fails_naming_step_and_argument() {
    let p = pipeline();
    let mut b = FlowBuilder::new();
    let node = p.flow_node(&mut b, (Map::from_iter([("count", Value::Int(5))]),));
    let mut flow = b.build().unwrap();
    let err = flow.run_until_complete(RunOptions::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("pipeline calc"),
        "the node is named after the pipeline: {text}"
    );
    assert!(
        text.contains("step `calc/inc` is missing argument `n` (visible: count)"),
        "{text}"
    );
    assert!(flow.value(node).is_none());
}

#[test]
fn a_pipeline_kind_is_a_step_of_another_pipeline() {
    let reg = registry();
    let calc = reg.get("p.calc_split").cloned().unwrap();
    let outer = Pipeline::new(seq![inc_kind(), Step::from(calc), check_kind()]).unwrap();
    let report = flowloop::run(outer.run(Map::from_iter([("n", 0)]))).unwrap().unwrap();
    // 0 -> 1 -> calc: 2 * 10 = 20, squared 4 -> check(n = 20)
    assert_eq!(report.outputs.to_string(), r#"{"n": 20}"#);
}
