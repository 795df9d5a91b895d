//! `flowloop test`: cases with inputs, limits and expected outputs; pass/fail with a diff.

mod common;

use common::{example, file, flowloop, text};

const CASES: &str = r#"{
  "cases": [
    {"name": "default seed", "expect": {"result": 25, "join.out": 25}, "generations": {"join": [0]}},
    {"name": "seed 4", "set": {"seed": 4}, "expect": {"result": 58}},
    {"name": "float seed", "set": {"src.a": 0.5}, "expect": {"result": 19.5}},
    {"name": "wrong on purpose", "set": {"seed": 2}, "expect": {"result": 40}, "outcome": "completed"}
  ]
}"#;

#[test]
fn cases_pass_and_fail_with_a_diff() {
    let (_dir, cases) = file("cases.json", CASES);
    let out = flowloop()
        .arg("test")
        .arg(example("diamond.json"))
        .arg(&cases)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "one case fails");
    let t = text(&out.stdout);
    assert!(t.contains("PASS  default seed\n"), "{t}");
    assert!(t.contains("PASS  seed 4\n"), "{t}");
    assert!(t.contains("PASS  float seed\n"), "{t}");
    // (2+1)*10 + (2+1)+3 = 36
    assert!(
        t.contains("FAIL  wrong on purpose\n      result:\n      - expected: 40\n      + actual:   36\n"),
        "{t}"
    );
    assert!(t.ends_with("4 cases: 3 passed, 1 failed\n"), "{t}");
}

#[test]
fn all_passing_exits_0_and_limits_and_errors_can_be_expected() {
    let cases = r#"{"cases": [
        {"name": "stops at 2", "limits": {"next": [2]}, "outcome": "limit_reached",
         "expect": {"count.out": 3}, "generations": {"count": [2], "next": [2]}},
        {"name": "limit_all", "limit_all": [0], "outcome": "limit_reached", "generations": {"next": [-1]}}
    ]}"#;
    let (_dir, path) = file("cases.json", cases);
    let out = flowloop()
        .arg("test")
        .arg(example("counter.json"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a negative generation is a malformed cases file"
    );
    let cases = r#"{"cases": [
        {"name": "stops at 2", "limits": {"next": [2]}, "outcome": "limit_reached",
         "expect": {"count.out": 3}, "generations": {"count": [2], "next": [2]}},
        {"name": "limit_all", "limit_all": [0], "outcome": "limit_reached", "generations": {"next": null}}
    ]}"#;
    let (_dir, path) = file("cases.json", cases);
    let out = flowloop()
        .arg("test")
        .arg(example("counter.json"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with("2 cases: 2 passed, 0 failed\n"));
}

#[test]
fn expected_errors_match_by_text() {
    let graph = r#"{"format": 1, "nodes": [{"id": "d", "kind": "math.div", "inputs": {"a": 1, "b": 2}}]}"#;
    let cases = r#"{"cases": [
        {"name": "half", "expect": {"d.out": 0.5}},
        {"name": "by zero", "set": {"d.b": 0}, "error": "division by zero"},
        {"name": "wrong text", "set": {"d.b": 0}, "error": "overflow"},
        {"name": "unexpected failure", "set": {"d.b": 0}, "expect": {"d.out": 1}}
    ]}"#;
    let (_g, graph) = file("div.json", graph);
    let (_c, cases) = file("cases.json", cases);
    let out = flowloop().arg("test").arg(&graph).arg(&cases).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out.stdout);
    assert!(t.contains("PASS  half\nPASS  by zero\nFAIL  wrong text\n"), "{t}");
    assert!(t.contains("error: expected a message containing \"overflow\""), "{t}");
    assert!(
        t.contains("FAIL  unexpected failure\n      the run failed (node `d` failed"),
        "{t}"
    );
    assert!(t.contains("nothing (the node never produced a value)"), "{t}");
}

#[test]
fn bad_keys_fail_the_case_naming_them() {
    let cases = r#"{"cases": [{"name": "bad", "set": {"nosuch": 1}, "expect": {"ghost.out": 1}}]}"#;
    let (_dir, path) = file("cases.json", cases);
    let out = flowloop()
        .arg("test")
        .arg(example("diamond.json"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out.stdout);
    assert!(
        t.contains("set `nosuch`: not `node.port` and not a declared name (declared: seed)"),
        "{t}"
    );
}

#[test]
fn malformed_cases_file_is_a_usage_error_with_position() {
    let (_dir, path) = file("cases.json", "{\"cases\": [{\"nme\": \"x\"}]}");
    let out = flowloop()
        .arg("test")
        .arg(example("diamond.json"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cases.json:1:") && err.contains("nme"), "{err}");
    let out = flowloop()
        .arg("test")
        .arg(example("diamond.json"))
        .arg("missing-cases.json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
