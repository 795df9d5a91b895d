//! `flowloop check`: every problem, with node, port and position; exit codes.

mod common;

use common::{example, file, flowloop, json, text};

#[test]
fn example_graphs_are_fine() {
    for g in ["counter.json", "stream.json", "diamond.json"] {
        let out = flowloop().arg("check").arg(example(g)).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{g}: {}", text(&out.stdout));
        assert!(text(&out.stdout).ends_with(&format!("{g}: ok\n")));
    }
}

/// One problem per line 4..=9, plus a cycle without defaults.
const BROKEN: &str = r#"{
  "format": 1,
  "nodes": [
    {"id": "a", "kind": "math.nope"},
    {"id": "b", "kind": "math.add", "inputs": {"a": "text"}},
    {"id": "c", "kind": "math.sub"},
    {"id": "loop1", "kind": "flow.passthrough"},
    {"id": "loop2", "kind": "flow.passthrough"},
    {"id": "sum", "kind": "streams.sum"}
  ],
  "edges": [
    {"from": "c.out", "to": "b.zz"},
    {"from": "ghost.out", "to": "c.b"},
    {"from": "loop1.out", "to": "loop2.value"},
    {"from": "loop2.out", "to": "loop1.value"}
  ]
}"#;

#[test]
fn every_problem_is_reported_with_its_position() {
    let (_dir, path) = file("broken.json", BROKEN);
    let out = flowloop().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let expect = [
        ("broken.json:4:", "unknown kind `math.nope`"),
        ("broken.json:5:", "input `a` of node `b`"),
        ("broken.json:6:", "input `a` of node `c` is not connected"),
        (
            "broken.json:7:",
            "the cycle `loop1` (inputs value), `loop2` (inputs value) cannot start",
        ),
        ("broken.json:9:", "input `items` of node `sum` is not connected"),
        ("broken.json:12:", "node `b` (math.add) has no input `zz`"),
        ("broken.json:13:", "no node `ghost`"),
    ];
    for (at, what) in expect {
        assert!(
            stdout.lines().any(|l| l.contains(at) && l.contains(what)),
            "missing {at} {what} in:\n{stdout}"
        );
    }
    assert!(stdout.ends_with("7 problems found\n"), "{stdout}");
}

#[test]
fn json_lists_problems_with_node_and_port() {
    let (_dir, path) = file("broken.json", BROKEN);
    let out = flowloop().arg("check").arg(&path).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out.stdout);
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 7);
    let zz = problems
        .iter()
        .find(|p| p["port"] == "zz")
        .expect("the unknown input is reported");
    assert_eq!(zz["node"], "b");
    assert_eq!(zz["line"], 12);
}

#[test]
fn a_cycle_with_a_default_is_fine() {
    let out = flowloop()
        .arg("check")
        .arg(example("counter.json"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(json(&out.stdout)["ok"], true);
}

#[test]
fn malformed_json_is_one_problem_with_line_and_column() {
    let (_dir, path) = file("bad.json", "{\"format\": 1, \"nodes\": [}");
    let out = flowloop().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("bad.json:1:25:"), "{}", text(&out.stdout));
}

#[test]
fn wrong_format_and_unknown_fields_are_problems() {
    let (_dir, path) = file("v9.json", "{\"format\": 9, \"nodes\": []}");
    let out = flowloop().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("unsupported format 9"));
    let (_dir, path) = file("extra.json", "{\"format\": 1, \"nodes\": [], \"colour\": 1}");
    let out = flowloop().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("colour"));
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = flowloop().args(["check", "nowhere.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nowhere.json"));
}
