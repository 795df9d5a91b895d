//! `flowloop serve`: the real binary serves the editor; edits reach the file only on Save;
//! read-only refuses changes; SIGTERM stops it cleanly; bad options are refused.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{Spawned, example, file, http, output, text};
use serde_json::json;

const SUM: &str = r#"{"format": 1, "nodes": [{"id": "sum", "kind": "math.add", "inputs": {"a": 2, "b": 3}}]}"#;

/// Starts `flowloop serve PATH EXTRA...` and returns it with the `host:port` of its URL.
fn serve(path: &Path, extra: &[&str]) -> (Spawned, String) {
    let mut args: Vec<&OsStr> = vec![OsStr::new("serve"), path.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let mut server = Spawned::start(&args, &[]);
    let url = server.line();
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("the first line is the URL, got {url:?}"))
        .to_string();
    (server, host)
}

/// `flowloop serve examples/graphs/diamond.json EXTRA...` for options refused before serving.
fn serve_once(extra: &[&str]) -> std::process::Output {
    let diamond = example("diamond.json");
    let mut args = vec![OsStr::new("serve"), diamond.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    output(args)
}

fn set_b(host: &str, revision: u64, value: i64) -> (u16, String) {
    let edits =
        json!({"revision": revision, "edits": [{"op": "set", "to": {"node": "sum", "port": "b"}, "value": value}]});
    http(host, "POST", "/api/edits", &edits.to_string())
}

#[test]
fn edits_reach_the_file_only_on_save_and_sigterm_exits_cleanly() {
    let (_dir, path) = file("sum.json", SUM);
    let before = std::fs::read_to_string(&path).expect("the graph file is readable");
    let (mut server, host) = serve(&path, &[]);
    let (status, spec) = http(&host, "GET", "/api/spec", "");
    assert_eq!(status, 200, "{spec}");
    assert!(spec.contains("math.add"), "{spec}");
    let (status, body) = set_b(&host, 0, 40);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("readable"),
        before,
        "an edit alone writes nothing"
    );
    let (status, body) = http(&host, "POST", "/api/save", "");
    assert_eq!(status, 200, "{body}");
    let saved = std::fs::read_to_string(&path).expect("readable");
    assert!(saved.contains("40"), "Save wrote the edited graph: {saved}");
    let (code, stderr) = server.stop("TERM");
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_stale_revision_and_an_unknown_port_are_refused() {
    let (_dir, path) = file("sum.json", SUM);
    let (mut server, host) = serve(&path, &[]);
    assert_eq!(set_b(&host, 7, 1).0, 409);
    let edits = json!({"revision": 0, "edits": [{"op": "set", "to": {"node": "sum", "port": "zz"}, "value": 1}]});
    let (status, body) = http(&host, "POST", "/api/edits", &edits.to_string());
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("zz"), "the refusal names the port: {body}");
    assert_eq!(server.stop("INT").0, Some(0));
}

#[test]
fn read_only_serves_the_graph_and_refuses_edits_and_save() {
    let (_dir, path) = file("sum.json", SUM);
    let before = std::fs::read_to_string(&path).expect("readable");
    let (mut server, host) = serve(&path, &["--read-only"]);
    assert_eq!(http(&host, "GET", "/api/spec", "").0, 200);
    assert_eq!(set_b(&host, 0, 40).0, 403);
    assert_eq!(http(&host, "POST", "/api/save", "").0, 403);
    assert_eq!(std::fs::read_to_string(&path).expect("readable"), before);
    assert_eq!(server.stop("TERM").0, Some(0));
}

#[test]
fn a_token_is_required_by_the_server_and_printed_in_the_url() {
    let (_dir, path) = file("sum.json", SUM);
    let mut args = vec![OsStr::new("serve"), path.as_os_str()];
    args.extend(["--token", "t0k-en"].map(OsStr::new));
    let mut server = Spawned::start(&args, &[]);
    let url = server.line();
    assert!(url.ends_with("/?token=t0k-en"), "{url}");
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("a host")
        .to_string();
    assert_eq!(http(&host, "GET", "/api/spec", "").0, 401);
    assert_eq!(http(&host, "GET", "/api/spec?token=t0k-en", "").0, 200);
    assert_eq!(server.stop("TERM").0, Some(0));
}

#[test]
fn a_public_address_without_a_token_is_a_usage_error_that_says_what_to_do() {
    let out = serve_once(&["--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--token") && err.contains("127.0.0.1"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_refused_before_serving() {
    let missing = output(["serve", "no/such/graph.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no/such/graph.json"));
    let (_dir, bad) = file("bad.json", "{\"format\": 1, \"nodes\": [");
    let malformed = output([OsStr::new("serve"), bad.as_os_str()]);
    assert_eq!(malformed.status.code(), Some(1));
    assert!(
        text(&malformed.stderr).contains("bad.json:1:"),
        "{}",
        text(&malformed.stderr)
    );
    assert_eq!(serve_once(&["--token", "has space"]).status.code(), Some(2));
    assert_eq!(serve_once(&["--addr", "nowhere"]).status.code(), Some(2));
}
