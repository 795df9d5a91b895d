//! The page in real headless Chromium, driven by `playwright-core` (tests/browser/): it loads
//! without console errors, node statuses go from running to done, values show up, and the page
//! survives the server restarting on the same port (the restarted program's flow has stream
//! edges, labelled with their lag). Saves a screenshot to
//! `target/flowloop-web-dashboard.png`.
//!
//! Needs `/usr/bin/chromium` and `node`; `scripts/test` installs chromium, and this test runs
//! `npm ci` in tests/browser/ when its `node_modules` is missing.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;

use flowloop::EventLoop;
use flowloop::flow::{FlowBuilder, RunOptions};
use flowloop_web::{FlowDashboard, ServerConfig};

async fn slow_a() -> i64 {
    flowloop::sleep(Duration::from_millis(400)).await;
    2
}

async fn slow_b(a: i64) -> i64 {
    flowloop::sleep(Duration::from_millis(600)).await;
    a * 10
}

/// What the server thread is told.
enum Cmd {
    Run,
    Quit,
}

/// A server thread: a dashboard bound to `addr`, running its flow when told (`run_now` skips
/// the wait), kept up until `Quit`.
fn server(addr: SocketAddr, second: bool) -> (SocketAddr, mpsc::Sender<Cmd>, std::thread::JoinHandle<()>) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let mut lp = EventLoop::new().expect("loop");
        let mut b = FlowBuilder::new();
        let config = ServerConfig::new().bind(addr);
        let dash = if second {
            let slow = common::stream_fan(&mut b);
            let dash = FlowDashboard::start(b.build().expect("builds"), &lp, config).expect("starts");
            dash.watch(slow);
            dash
        } else {
            let a = b.node(slow_a, ());
            let bn = b.node(slow_b, (a,));
            let dash = FlowDashboard::start(b.build().expect("builds"), &lp, config).expect("starts");
            dash.watch(a).watch(bn);
            dash
        };
        ready_tx.send(dash.addr()).expect("test alive");
        while let Ok(cmd) = cmd_rx.recv() {
            match cmd {
                Cmd::Run => {
                    dash.run_on(&mut lp, RunOptions::new()).expect("flow runs");
                }
                Cmd::Quit => break,
            }
        }
    });
    (ready_rx.recv().expect("server thread started"), cmd_tx, t)
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn ensure_tools() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the browser tests need /usr/bin/chromium: run scripts/test (it installs it) or `apt-get install -y chromium`"
    );
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (install nodejs and npm)");
        assert!(status.success(), "npm ci in {}", dir.display());
    }
}

fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&target).expect("target dir");
    target.join("flowloop-web-dashboard.png")
}

#[test]
fn the_page_shows_the_run_live_and_survives_a_server_restart() {
    ensure_tools();
    let (addr, cmd, first) = server("127.0.0.1:0".parse().unwrap(), false);
    let shot = screenshot_path();
    let _ = std::fs::remove_file(&shot);
    let mut child = Command::new("node")
        .arg(browser_dir().join("dashboard.mjs"))
        .arg(format!("http://{addr}/"))
        .arg(&shot)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut to_child = child.stdin.take().expect("stdin");
    let from_child = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = Some((cmd, first));
    let mut second = None;
    let mut result = None;
    for line in from_child.lines().take(100) {
        let line = line.expect("script output");
        eprintln!("script: {line}");
        match line.as_str() {
            "RUN" => {
                first
                    .as_ref()
                    .expect("first server")
                    .0
                    .send(Cmd::Run)
                    .expect("server alive");
                writeln!(to_child, "RUNNING").expect("script alive");
            }
            "RESTART" => {
                let (cmd, t) = first.take().expect("first server");
                cmd.send(Cmd::Quit).expect("server alive");
                t.join().expect("first server thread");
                let (again, cmd2, t2) = server(addr, true);
                assert_eq!(again, addr, "restarted on the same port");
                cmd2.send(Cmd::Run).expect("server alive");
                second = Some((cmd2, t2));
                writeln!(to_child, "RESTARTED").expect("script alive");
            }
            other => {
                if let Some(json) = other.strip_prefix("RESULT ") {
                    result = Some(serde_json::from_str::<serde_json::Value>(json).expect("result is JSON"));
                    break;
                }
            }
        }
    }
    drop(to_child);
    let status = child.wait().expect("node exits");
    let r = result.expect("the script reported a result");
    assert!(
        status.success() && r.get("failure").is_none(),
        "browser checks failed: {r:#}"
    );
    assert_eq!(
        r["loadConsoleErrors"],
        serde_json::json!([]),
        "console errors on load: {r:#}"
    );
    assert_eq!(
        r["loadBadResponses"],
        serde_json::json!([]),
        "failed requests on load (favicon?): {r:#}"
    );
    assert_eq!(r["pageErrors"], serde_json::json!([]), "script exceptions: {r:#}");
    assert_eq!(r["value"], "= 20");
    assert!(
        r["pendingLabel"].as_str().is_some_and(|l| l.ends_with("⟵ 0")),
        "the edge into the running node shows the pending generation: {r:#}"
    );
    assert_eq!((r["runs"].as_str(), r["generation"].as_str()), (Some("1"), Some("0")));
    assert!(r["header"].as_str().unwrap().contains("completed"), "{r:#}");
    assert_eq!(
        (r["afterRestartNodes"].as_u64(), r["afterRestartValue"].as_str()),
        (Some(3), Some("= 3"))
    );
    let stream_labels = r["streamLabels"].as_array().map_or(&[][..], Vec::as_slice);
    assert!(
        stream_labels.len() == 2
            && stream_labels
                .iter()
                .all(|l| l.as_str().is_some_and(|l| l.ends_with(" · lag 0"))),
        "both stream edges (and no plain one) show their lag once caught up: {r:#}"
    );
    assert!(std::fs::metadata(&shot).expect("screenshot saved").len() > 1000);
    if let Some((cmd, t)) = second.or(first) {
        let _ = cmd.send(Cmd::Quit);
        t.join().expect("server thread");
    }
}

#[test]
fn the_editor_adds_connects_sets_runs_and_refuses_a_type_mismatch() {
    use flowloop_graph::{Graph, Registry, Value};
    use flowloop_web::GraphEditor;
    ensure_tools();
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("src")).expect("adds");
    g.set_constant("src", "a", Value::Int(2)).expect("sets a");
    g.set_constant("src", "b", Value::Int(3)).expect("sets b");
    let dir = std::env::temp_dir().join(format!("flowloop-web-editor-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("graph.json");
    let ed = GraphEditor::start(g, Some(file.clone()), ServerConfig::new()).expect("editor starts");
    let shot = screenshot_path().with_file_name("flowloop-web-editor.png");
    let out = Command::new("node")
        .arg(browser_dir().join("editor.mjs"))
        .arg(ed.url())
        .arg(&shot)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "editor.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"first\":\"-5\""), "{stdout}");
    assert!(
        stdout.contains("\"edgeDelete\":{\"key\":[false,true],\"button\":[false,true]}"),
        "an edge is deleted (gone from the spec) and undo restores it, by key and by button: {stdout}"
    );
    assert!(
        stdout.contains("\"liveUndo\":{\"runsGrew\":true,\"note\":\"\",\"state\":\"running\"}"),
        "an undo while live is applied to the running graph, which keeps its run counts: {stdout}"
    );
    assert!(shot.exists(), "screenshot at {}", shot.display());
    let saved = std::fs::read_to_string(&file).expect("Save wrote the spec");
    // (collect1's input is still unconnected, so the spec is saved but `Graph::from_json`
    // would refuse to load it until that input is wired.)
    let saved: serde_json::Value = serde_json::from_str(&saved).expect("the saved spec is JSON");
    let ids: Vec<&str> = saved["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(ids, ["src", "neg1", "collect1"]);
    assert_eq!(
        saved["nodes"][0]["inputs"]["b"], 10,
        "the value set in the panel was saved"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs editor_edges.mjs against `ed` (with `mode` as its third argument), checks that it
/// passed with no page errors, and returns its result.
fn editor_edges(ed: &flowloop_web::GraphEditor, shot: &Path, mode: Option<&str>) -> serde_json::Value {
    let out = Command::new("node")
        .arg(browser_dir().join("editor_edges.mjs"))
        .arg(ed.url())
        .arg(shot)
        .args(mode)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: serde_json::Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| {
            panic!(
                "no result from editor_edges.mjs:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        out.status.success() && r.get("failure").is_none(),
        "browser checks failed: {r:#}"
    );
    assert_eq!(r["pageErrors"], serde_json::json!([]), "{r:#}");
    r
}

#[test]
fn the_editor_labels_an_edge_with_its_pending_generation_in_batch_and_live_runs() {
    use flowloop_graph::{Graph, Registry, Value};
    use flowloop_web::GraphEditor;
    ensure_tools();
    let mut g = Graph::new(Registry::with_std());
    g.add("math.add", Some("src")).expect("adds src");
    g.set_constant("src", "a", Value::Int(2)).expect("sets a");
    g.set_constant("src", "b", Value::Int(3)).expect("sets b");
    g.add("time.sleep", Some("nap")).expect("adds nap");
    g.set_constant("nap", "ms", Value::Float(60_000.0)).expect("sets ms");
    g.connect("src", "out", "nap", "value").expect("connects");
    for (id, x) in [("src", 20.0), ("nap", 320.0)] {
        let at = flowloop_graph::Layout {
            x,
            y: 40.0,
            label: None,
        };
        g.set_layout(id, at).expect("places the node");
    }
    let ed = GraphEditor::start(g, None, ServerConfig::new()).expect("editor starts");
    let shot = screenshot_path().with_file_name("flowloop-web-editor-edges.png");
    let r = editor_edges(&ed, &shot, None);
    assert_eq!(r["before"], "", "no label before a run: {r:#}");
    assert_eq!(r["batch"], "⟵ 0", "the batch's edge shows src's generation 0: {r:#}");
    let live_generation = r["liveSrcGeneration"].as_str().expect("src's generation");
    assert_eq!(
        r["live"].as_str(),
        Some(format!("⟵ {live_generation}").as_str()),
        "the live run's edge shows the tick's generation of src: {r:#}"
    );
    assert!(shot.exists(), "screenshot at {}", shot.display());
}

#[test]
fn the_editor_labels_a_live_runs_stream_edge_with_its_lag() {
    use flowloop_web::GraphEditor;
    ensure_tools();
    let mut g = common::stream_edge_graph();
    for (id, x) in [("ticks", 20.0), ("all", 280.0), ("n", 540.0)] {
        let at = flowloop_graph::Layout {
            x,
            y: 40.0,
            label: None,
        };
        g.set_layout(id, at).expect("places the node");
    }
    let ed = GraphEditor::start(g, None, ServerConfig::new()).expect("editor starts");
    let shot = screenshot_path().with_file_name("flowloop-web-editor-stream-lag.png");
    let r = editor_edges(&ed, &shot, Some("stream"));
    assert_eq!(r["before"], "", "no label before a run: {r:#}");
    assert_eq!(r["liveStream"], "lag 0", "every chunk taken once the tick ended: {r:#}");
    assert_eq!(r["liveStreamLag"], "0", "{r:#}");
    assert_eq!(r["livePlain"], "", "a plain edge shows no lag: {r:#}");
    assert!(shot.exists(), "screenshot at {}", shot.display());
}
