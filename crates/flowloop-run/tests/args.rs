//! Parsing the run options: generations, `--limit`, `--set`, and applying them to a graph.

use flowloop::flow::Generation;
use flowloop_graph::{Graph, Registry, Value};
use flowloop_run::{
    InputSet, NodeLimit, RunArgs, RunFailure, apply_sets, limits, parse_generation, parse_limit, parse_set,
};

#[test]
fn generations_in_every_accepted_spelling() {
    for text in ["4", "(4,)", "[4]", " 4 "] {
        assert_eq!(parse_generation(text), Ok(Generation::finished(4)), "{text}");
    }
    for text in ["0,2", "(0,2)", "[0, 2]"] {
        assert_eq!(parse_generation(text), Ok(Generation::chunk(0, 2)), "{text}");
    }
    for text in ["", "x", "1,2,3", "-1", "(,)"] {
        let err = parse_generation(text).unwrap_err();
        assert!(err.contains("is not a generation"), "{text}: {err}");
    }
}

#[test]
fn limits_need_a_node_and_a_generation() {
    assert_eq!(
        parse_limit("count=3"),
        Ok(NodeLimit {
            node: "count".into(),
            generation: Generation::finished(3)
        })
    );
    assert!(parse_limit("count").unwrap_err().contains("NODE=GEN"));
    assert!(parse_limit("=3").unwrap_err().contains("names no node"));
    assert!(parse_limit("count=x").unwrap_err().contains("not a generation"));
}

#[test]
fn sets_take_json_values() {
    let set = parse_set("greet.text=\"hi\"").unwrap();
    assert_eq!(
        set,
        InputSet {
            node: "greet".into(),
            input: "text".into(),
            value: Value::from("hi")
        }
    );
    assert_eq!(parse_set("a.b=[1, 2]").unwrap().value, Value::list([1, 2]));
    assert!(parse_set("a.b=hi").unwrap_err().contains("not JSON"));
    assert!(parse_set("ab=1").unwrap_err().contains("not NODE.PORT"));
    assert!(parse_set("a.b").unwrap_err().contains("NODE.PORT=JSON"));
}

fn diamond() -> Graph {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/graphs/diamond.json"
    ))
    .expect("the example graph exists");
    Graph::from_json(&text, Registry::with_std()).expect("the example graph loads")
}

#[test]
fn sets_apply_like_edits_and_name_node_and_input() {
    let mut g = diamond();
    let ok = [parse_set("src.a=5").unwrap()];
    apply_sets(&mut g, &ok).unwrap();
    assert_eq!(g.node("src").unwrap().constants().get("a"), Some(&Value::Int(5)));
    let bad = [parse_set("src.a=true").unwrap()];
    let err = apply_sets(&mut g, &bad).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().starts_with("--set src.a: input `a` of node `src`"),
        "{err}"
    );
    let unknown = [parse_set("zz.a=1").unwrap()];
    assert!(matches!(apply_sets(&mut g, &unknown), Err(RunFailure::Usage(m)) if m.contains("zz")));
}

#[test]
fn limit_options_follow_the_file_limits_and_must_name_nodes() {
    let g = diamond();
    let args = RunArgs {
        limits: vec![parse_limit("join=2").unwrap()],
        ..RunArgs::default()
    };
    let all = limits(&g, &args).unwrap();
    assert_eq!(all.last().unwrap().node, "join");
    let args = RunArgs {
        limits: vec![parse_limit("nope=2").unwrap()],
        ..RunArgs::default()
    };
    let err = limits(&g, &args).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("no node `nope` (nodes: src, left, right, join)"),
        "{err}"
    );
}
