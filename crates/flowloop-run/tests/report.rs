//! The printed report: table and JSON forms, exit codes, and the same report from a dynamic
//! batch and from a typed flow built with `TypedBuilder`.

use flowloop::flow::{Generation, unconnected_or};
use flowloop_graph::{Graph, Registry, Value};
use flowloop_run::typed::TypedBuilder;
use flowloop_run::{Ending, OutputRow, Progress, Report, RunArgs, RunFailure, Target, run};

fn row(node: &str, value: Option<Value>, generation: Option<Generation>) -> OutputRow {
    OutputRow {
        node: node.into(),
        output: "out".into(),
        value,
        generation,
    }
}

#[test]
fn table_aligns_columns_and_ends_with_the_outcome() {
    let report = Report {
        ending: Ending::LimitReached {
            node: "next".into(),
            generation: Generation::finished(4),
        },
        outputs: vec![
            row("count", Some(Value::Int(5)), Some(Generation::finished(4))),
            row("never", None, None),
        ],
        node_runs: 10,
    };
    assert_eq!(
        report.to_table(),
        "OUTPUT     VALUE  GENERATION\ncount.out  5      (4,)\nnever.out  -      -\nlimit reached: node `next` at generation (4,) (10 node runs)\n"
    );
    assert_eq!(
        report.to_json(),
        r#"{"outcome":"limit_reached","limit":{"generation":[4],"node":"next"},"node_runs":10,"outputs":{"count.out":{"generation":[4],"value":5},"never.out":{"generation":null,"value":null}}}"#
    );
    assert_eq!(report.ending.exit_code(), 0);
}

#[test]
fn failures_and_interruptions_have_their_own_exit_codes() {
    let failed = Report {
        ending: Ending::Failed(vec!["node `d` failed: boom".into()]),
        outputs: vec![],
        node_runs: 1,
    };
    assert_eq!(failed.ending.exit_code(), 1);
    assert!(failed.to_json().contains(r#""errors":["node `d` failed: boom"]"#));
    assert!(
        failed
            .to_table()
            .ends_with("failed (1 node runs): node `d` failed: boom\n")
    );
    let stopped = Report {
        ending: Ending::Interrupted,
        outputs: vec![],
        node_runs: 7,
    };
    assert_eq!(stopped.ending.exit_code(), 130);
    assert_eq!(
        stopped.to_table(),
        "OUTPUT  VALUE  GENERATION\ninterrupted by Ctrl-C (7 node runs)\n"
    );
}

const ADD_THEN_SHOW: &str = r#"{"format": 1, "nodes": [
    {"id": "sum", "kind": "math.add", "inputs": {"a": 40, "b": 2}},
    {"id": "show", "kind": "flow.passthrough"}
  ], "edges": [{"from": "sum.out", "to": "show.value"}]}"#;

/// The typed equivalent of ADD_THEN_SHOW, as `flowloop deploy` would generate it.
fn typed(graph: &Graph) -> Result<Box<dyn Target>, RunFailure> {
    let mut t = TypedBuilder::new(graph);
    let sum_a = t.constant("sum", "a")?;
    let sum_b = t.constant("sum", "b")?;
    let sum = flowloop_graph::std::math::add_node(t.builder(), (unconnected_or(sum_a), unconnected_or(sum_b)));
    t.node("sum", sum, &["a", "b"]);
    t.output("sum", "out", sum.out());
    let show_value = t.convert("show", "value", sum.out());
    let show = flowloop_graph::std::flow::passthrough_node(t.builder(), (show_value,));
    t.node("show", show, &["value"]);
    t.output("show", "out", show.out());
    t.finish()
}

#[test]
fn batch_and_typed_flow_give_the_same_report() {
    let graph = Graph::from_json(ADD_THEN_SHOW, Registry::with_std()).unwrap();
    let mut batch = graph.batch().unwrap();
    let dynamic = run(&graph, &mut batch, &RunArgs::default(), Progress::Off).unwrap();
    let mut flow = typed(&graph).unwrap();
    let typed = run(&graph, flow.as_mut(), &RunArgs::default(), Progress::Off).unwrap();
    assert_eq!(dynamic, typed);
    assert_eq!(
        dynamic.to_json(),
        r#"{"outcome":"completed","node_runs":2,"outputs":{"show.out":{"generation":[0],"value":42}}}"#
    );
}

#[test]
fn a_value_that_does_not_convert_fails_naming_the_consumer_and_input() {
    let text = r#"{"format": 1, "nodes": [
        {"id": "src", "kind": "flow.passthrough", "inputs": {"value": "text"}},
        {"id": "sum", "kind": "math.add", "inputs": {"b": 1}}
      ], "edges": [{"from": "src.out", "to": "sum.a"}]}"#;
    let graph = Graph::from_json(text, Registry::with_std()).unwrap();
    let build = |graph: &Graph| -> Result<Box<dyn Target>, RunFailure> {
        let mut t = TypedBuilder::new(graph);
        let src_value = t.constant("src", "value")?;
        let src = flowloop_graph::std::flow::passthrough_node(t.builder(), (unconnected_or(src_value),));
        t.node("src", src, &["value"]);
        let sum_a = t.convert("sum", "a", src.out());
        let sum_b = t.constant("sum", "b")?;
        let sum = flowloop_graph::std::math::add_node(t.builder(), (sum_a, unconnected_or(sum_b)));
        t.node("sum", sum, &["a", "b"]);
        t.output("sum", "out", sum.out());
        t.finish()
    };
    let mut typed = build(&graph).unwrap();
    let typed = run(&graph, typed.as_mut(), &RunArgs::default(), Progress::Off).unwrap();
    let mut batch = graph.batch().unwrap();
    let dynamic = run(&graph, &mut batch, &RunArgs::default(), Progress::Off).unwrap();
    assert_eq!(typed.ending, dynamic.ending);
    let Ending::Failed(errors) = typed.ending else {
        panic!("the run fails")
    };
    assert!(errors[0].starts_with("node `sum` failed: input `a`:"), "{errors:?}");
}
