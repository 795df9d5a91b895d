//! The `text` shelf, run as graph nodes, including bad templates and bad regexes.

mod std_support;

use flowloop_graph::{Map, Value};
use std_support::{assert_listed_with_docs, eval, eval_untyped};

fn format(template: &str, values: Value) -> Result<Value, String> {
    eval("text.format", &[("template", Value::str(template)), ("values", values)])
}

#[test]
fn format_fills_named_and_numbered_placeholders() {
    let m: Map = [("name", Value::str("Ada")), ("n", Value::Int(3))]
        .into_iter()
        .collect();
    assert_eq!(
        format("{name} has {n} cats", Value::from(m.clone())),
        Ok(Value::str("Ada has 3 cats"))
    );
    assert_eq!(format("{1}-{0}", Value::list(["a", "b"])), Ok(Value::str("b-a")));
    assert_eq!(format("{{literal}} é", Value::Null), Ok(Value::str("{literal} é")));
    assert_eq!(
        format("{0}", Value::list([Value::list([1, 2])])),
        Ok(Value::str("[1, 2]"))
    );
    assert_eq!(
        format("{missing}", Value::from(m.clone())).unwrap_err(),
        "node `n` failed: input `values`: no value for placeholder `{missing}`"
    );
    assert_eq!(
        format("ab {name", Value::from(m)).unwrap_err(),
        "node `n` failed: input `template`: unclosed `{` at byte 3"
    );
    assert!(
        format("a } b", Value::Null)
            .unwrap_err()
            .contains("unmatched `}` at byte 2")
    );
    assert!(
        format("{5}", Value::list([1]))
            .unwrap_err()
            .contains("placeholder `{5}`")
    );
}

#[test]
fn split_and_join_round_trip() {
    assert_eq!(
        eval("text.split", &[("text", Value::str("a,b,,c"))]),
        Ok(Value::list(["a", "b", "", "c"]))
    );
    assert_eq!(
        eval(
            "text.split",
            &[("text", Value::str("añb")), ("separator", Value::str(""))]
        ),
        Ok(Value::list(["a", "ñ", "b"]))
    );
    assert_eq!(
        eval(
            "text.join",
            &[
                ("items", Value::list([Value::str("x"), Value::Int(2)])),
                ("separator", Value::str(" + "))
            ]
        ),
        Ok(Value::str("x + 2"))
    );
    let err = eval_untyped("text.split", "text", Value::Int(5), &[]).unwrap_err();
    assert_eq!(err, "node `n` failed: input `text`: expected string, got int `5`");
}

#[test]
fn case_and_trim() {
    assert_eq!(
        eval("text.upper", &[("text", Value::str("abc"))]),
        Ok(Value::str("ABC"))
    );
    assert_eq!(eval("text.lower", &[("text", Value::str("ÀB"))]), Ok(Value::str("àb")));
    assert_eq!(
        eval("text.trim", &[("text", Value::str("  x \n"))]),
        Ok(Value::str("x"))
    );
}

#[test]
fn regex_kinds_match_find_replace_and_capture() {
    let re = |kind: &str, text: &str, pattern: &str| {
        eval(kind, &[("text", Value::str(text)), ("pattern", Value::str(pattern))])
    };
    assert_eq!(re("text.regex_match", "order 66", r"\d+"), Ok(Value::Bool(true)));
    assert_eq!(re("text.regex_match", "none", r"^\d+$"), Ok(Value::Bool(false)));
    assert_eq!(
        re("text.regex_find", "a1b22c333", r"\d+"),
        Ok(Value::list(["1", "22", "333"]))
    );
    assert_eq!(
        eval(
            "text.regex_replace",
            &[
                ("text", Value::str("2026-11-30")),
                ("pattern", Value::str(r"(\d+)-(\d+)-(\d+)")),
                ("with", Value::str("$3/$2/$1"))
            ]
        ),
        Ok(Value::str("30/11/2026"))
    );
    let caps = re("text.regex_captures", "key=value", r"(?P<k>\w+)=(\w+)").unwrap();
    assert_eq!(caps.get("0"), Some(&Value::str("key=value")));
    assert_eq!(caps.get("k"), Some(&Value::str("key")));
    assert_eq!(caps.get("2"), Some(&Value::str("value")));
    assert_eq!(re("text.regex_captures", "nothing", r"\d"), Ok(Value::Null));
}

#[test]
fn a_bad_regex_names_the_node_and_the_pattern_input() {
    for kind in ["text.regex_match", "text.regex_find", "text.regex_captures"] {
        let err = eval(kind, &[("text", Value::str("x")), ("pattern", Value::str("(unclosed"))]).unwrap_err();
        assert!(
            err.starts_with("node `n` failed: input `pattern`: not a valid regex:"),
            "{kind}: {err}"
        );
    }
    let err = eval(
        "text.regex_replace",
        &[
            ("text", Value::str("x")),
            ("pattern", Value::str("[z-a]")),
            ("with", Value::str("")),
        ],
    )
    .unwrap_err();
    assert!(err.contains("input `pattern`: not a valid regex"), "{err}");
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs(
        "text",
        &[
            "text.format",
            "text.split",
            "text.join",
            "text.regex_match",
            "text.regex_find",
            "text.regex_replace",
            "text.regex_captures",
        ],
    );
}

#[test]
fn a_regex_node_follows_a_changed_pattern_between_runs() {
    use flowloop_graph::live::LiveGraph;
    let mut g = flowloop_graph::Graph::new(flowloop_graph::Registry::with_std());
    g.add("text.regex_replace", Some("r")).unwrap();
    g.set_constant("r", "text", Value::str("a1b2")).unwrap();
    g.set_constant("r", "pattern", Value::str(r"\d")).unwrap();
    g.set_constant("r", "with", Value::str("#")).unwrap();
    let live = LiveGraph::new(g).unwrap();
    flowloop::run(async move {
        live.idle().await.unwrap();
        assert_eq!(live.value("r", "out"), Some(Value::str("a#b#")));
        live.inject("r", "text", Value::str("c3")).await.unwrap();
        assert_eq!(live.value("r", "out"), Some(Value::str("c#")), "same pattern, new text");
        live.inject("r", "pattern", Value::str("[a-z]")).await.unwrap();
        assert_eq!(
            live.value("r", "out"),
            Some(Value::str("#3")),
            "the new pattern applies"
        );
        let err = live.inject("r", "pattern", Value::str("(")).await.unwrap_err();
        assert!(err.to_string().contains("input `pattern`: not a valid regex"), "{err}");
        live.inject("r", "pattern", Value::str("c")).await.unwrap();
        assert_eq!(
            live.value("r", "out"),
            Some(Value::str("#3")),
            "a good pattern after a bad one"
        );
    })
    .unwrap();
}
