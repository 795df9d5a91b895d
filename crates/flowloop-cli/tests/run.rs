//! `flowloop run`: outputs, limits, `--set`, error policy, exit codes and bad input.

mod common;

use common::{example, file, flowloop, json, text};

#[test]
fn counter_json_prints_every_output_with_value_and_generation() {
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "limit_reached");
    assert_eq!(v["limit"]["node"], "next");
    assert_eq!(v["outputs"]["count.out"]["value"], 5);
    assert_eq!(v["outputs"]["count.out"]["generation"], serde_json::json!([4]));
    assert_eq!(v["outputs"]["next.out"]["value"], 5);
    assert_eq!(v["outputs"]["next.out"]["generation"], serde_json::json!([4]));
    assert_eq!(v["node_runs"], 10);
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr when piped: {}",
        text(&out.stderr)
    );
}

#[test]
fn table_lists_outputs_and_the_ending() {
    let out = flowloop().arg("run").arg(example("diamond.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "OUTPUT    VALUE  GENERATION");
    assert_eq!(lines[1], "join.out  25     (0,)");
    assert_eq!(lines[2], "completed (4 node runs)");
}

#[test]
fn stream_graph_prints_declared_outputs() {
    let out = flowloop()
        .args(["run", "--json"])
        .arg(example("stream.json"))
        .output()
        .unwrap();
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["outputs"]["total.out"]["value"], 10);
    assert_eq!(v["outputs"]["count.out"]["value"], 5);
    assert!(
        v["outputs"].get("items.out").is_none(),
        "items is not a declared output"
    );
}

#[test]
fn limit_option_overrides_the_file_limit() {
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit", "next=2", "--json"])
        .output()
        .unwrap();
    let v = json(&out.stdout);
    assert_eq!(v["outputs"]["next.out"]["value"], 3);
    assert_eq!(v["outputs"]["next.out"]["generation"], serde_json::json!([2]));
}

#[test]
fn limit_all_stops_the_first_node_to_reach_it() {
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit-all", "(1,)", "--json"])
        .output()
        .unwrap();
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "limit_reached");
    assert_eq!(v["limit"]["node"], "count");
    assert_eq!(v["outputs"]["count.out"]["generation"], serde_json::json!([1]));
}

#[test]
fn set_changes_a_constant() {
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "src.a=4", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // (4+1)*10 + (4+1)+3
    assert_eq!(json(&out.stdout)["outputs"]["join.out"]["value"], 58);
}

#[test]
fn set_with_a_wrong_type_is_a_usage_error_naming_node_and_port() {
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "src.a=\"four\""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("diamond.json") && err.contains("src.a") && err.contains("node `src`"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn set_on_unknown_node_or_input_is_a_usage_error() {
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "nope.a=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "src.zz=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no input `zz`"), "{}", text(&out.stderr));
}

#[test]
fn set_with_malformed_json_or_target_is_a_usage_error() {
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "src.a={oops"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not JSON"), "{}", text(&out.stderr));
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .args(["--set", "src=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("NODE.PORT"), "{}", text(&out.stderr));
}

#[test]
fn limit_on_unknown_node_is_a_usage_error_listing_nodes() {
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit", "ghost=3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no node `ghost`") && err.contains("count, next"), "{err}");
}

#[test]
fn bad_generation_is_a_usage_error() {
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit", "next=x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a generation"), "{}", text(&out.stderr));
    let out = flowloop()
        .arg("run")
        .arg(example("counter.json"))
        .args(["--limit-all", "1,2,3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_file_is_a_usage_error_naming_the_file() {
    let out = flowloop().args(["run", "no/such/graph.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: no/such/graph.json: cannot read"), "{err}");
}

#[test]
fn malformed_json_fails_with_line_and_column() {
    let (_dir, path) = file("broken.json", "{\n  \"format\": 1,\n  \"nodes\": [\n}\n");
    let out = flowloop().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("broken.json:4:"), "{err}");
}

#[test]
fn unknown_kind_fails_naming_node_and_kind() {
    let spec = r#"{"format": 1, "nodes": [{"id": "x", "kind": "math.nope"}]}"#;
    let (_dir, path) = file("g.json", spec);
    let out = flowloop().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("node `x`") && err.contains("math.nope") && err.contains("g.json:1:"),
        "{err}"
    );
}

const FAILING: &str = r#"{
  "format": 1,
  "nodes": [
    {"id": "bad", "kind": "math.div", "inputs": {"a": 1, "b": 0}},
    {"id": "after", "kind": "math.add", "inputs": {"b": 1}},
    {"id": "other", "kind": "math.add", "inputs": {"a": 40, "b": 2}}
  ],
  "edges": [{"from": "bad.out", "to": "after.a"}]
}"#;

#[test]
fn failing_node_exits_1_and_names_the_node() {
    let (_dir, path) = file("fail.json", FAILING);
    let out = flowloop().arg("run").arg(&path).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "failed");
    assert!(v["errors"][0].as_str().unwrap().contains("node `bad`"), "{v}");
    let err = text(&out.stderr);
    assert!(
        err.contains("fail.json") && err.contains("node `bad` failed") && err.contains("division by zero"),
        "{err}"
    );
}

#[test]
fn no_terminate_on_error_runs_the_unaffected_part() {
    let (_dir, path) = file("fail.json", FAILING);
    let out = flowloop()
        .arg("run")
        .arg(&path)
        .args(["--json", "--no-terminate-on-error"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out.stdout);
    assert_eq!(v["outputs"]["other.out"]["value"], 42);
    assert_eq!(v["outputs"]["after.out"]["value"], serde_json::Value::Null);
    assert_eq!(v["outputs"]["after.out"]["generation"], serde_json::Value::Null);
}

#[test]
fn flowloop_log_enables_tracing_output() {
    let out = flowloop()
        .arg("run")
        .arg(example("diamond.json"))
        .env("FLOWLOOP_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("task spawned"), "{err}");
    assert_eq!(text(&out.stdout).lines().nth(1), Some("join.out  25     (0,)"));
}

#[test]
fn errors_have_no_colour_codes() {
    let out = flowloop().args(["run", "missing.json"]).output().unwrap();
    assert!(!text(&out.stderr).contains('\u{1b}'));
}

#[test]
fn help_shows_examples() {
    for sub in ["run", "check", "export", "nodes", "test", "deploy"] {
        let out = flowloop().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Examples:"), "{sub} --help has no examples");
    }
    let out = flowloop().output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no subcommand is a usage error");
}
