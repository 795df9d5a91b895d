//! `flowloop nodes`: the kinds with ports and docs, as text or JSON.

mod common;

use common::{flowloop, json, text};

#[test]
fn text_lists_kinds_with_ports_defaults_and_docs() {
    let out = flowloop().arg("nodes").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.contains("math — Arithmetic on numbers"), "{t}");
    assert!(
        t.contains("  math.add(a: number, b: number = 0) -> out: number\n      Adds two numbers."),
        "{t}"
    );
    assert!(
        t.contains("math.divmod(a: int, b: int) -> quotient: int, remainder: int"),
        "{t}"
    );
    assert!(t.contains("streams.sum(items: stream<any>) -> out: any"), "{t}");
    assert!(
        t.contains("streams.range(start: int = 0, stop: int, step: int = 1) -> out: int, streams int"),
        "{t}"
    );
    assert!(
        t.contains("flow.if(cond: bool, then: lazy any = null, else: lazy any = null)"),
        "{t}"
    );
}

#[test]
fn shelf_argument_limits_the_listing() {
    let out = flowloop().args(["nodes", "streams"]).output().unwrap();
    let t = text(&out.stdout);
    assert!(t.contains("streams.range"));
    assert!(!t.contains("math.add"));
}

#[test]
fn json_listing_has_ports_types_and_docs() {
    let out = flowloop().args(["nodes", "--json", "math"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out.stdout);
    let shelves = v["shelves"].as_array().unwrap();
    assert_eq!(shelves.len(), 1);
    let add = shelves[0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "math.add")
        .unwrap();
    assert_eq!(add["doc"], "Adds two numbers.");
    assert_eq!(add["inputs"][1]["name"], "b");
    assert_eq!(add["inputs"][1]["type"], "number");
    assert_eq!(add["inputs"][1]["default"], 0);
    let all = json(&flowloop().args(["nodes", "--json"]).output().unwrap().stdout);
    assert!(all["shelves"].as_array().unwrap().len() >= 3);
}

#[test]
fn unknown_shelf_is_a_usage_error_listing_shelves() {
    let out = flowloop().args(["nodes", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no shelf `nope`") && err.contains("math"), "{err}");
}
