//! The `todo_api` example binary: its first line of output is the address, it serves the API,
//! and SIGTERM stops it cleanly (exit status 0, database closed with its rows on disk) even
//! with a keep-alive connection open.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// The example next to this test binary (`target/<profile>/examples/todo_api`), which
/// `cargo test` builds along with the tests.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir
        .join("examples")
        .join(format!("todo_api{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo test` builds it; to run this test alone, first run `cargo build --release -p flowloop-kinds-web --example todo_api`",
        bin.display()
    );
    bin
}

fn start(args: &[&str]) -> Child {
    Command::new(example_binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts")
}

/// The child's first line of output (within the client timeout).
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(CLIENT_TIMEOUT).expect("the example prints a line")
}

/// Waits (bounded) for the child to exit; its status and standard error.
fn wait_exit(child: &mut Child) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the example did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    (status, stderr)
}

fn sigterm(child: &Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

#[test]
fn prints_its_address_serves_and_stops_cleanly_on_sigterm() {
    let db = std::env::temp_dir().join(format!("flowloop-todo-example-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let mut child = start(&["--db", &db.to_string_lossy()]);
    let line = first_line(&mut child);
    let addr = line
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/\n"))
        .unwrap_or_else(|| panic!("first line is `{line}`"));
    let addr: SocketAddr = addr.parse().expect("an address");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");

    let mut conn = connect(addr);
    let (status, created) = call(&mut conn, "POST", "/todos", Some(r#"{"title":"ship it"}"#));
    assert_eq!((status, &created["title"]), (201, &json!("ship it")));
    let id = created["id"].as_i64().expect("an id");
    assert_eq!(call(&mut conn, "GET", &format!("/todos/{id}"), None), (200, created));

    sigterm(&child); // with `conn` still open
    let (status, stderr) = wait_exit(&mut child);
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("closed 1 database connection"), "{stderr}");
    let reopened = rusqlite::Connection::open(&db).expect("the database file is there");
    let title: String = reopened
        .query_row("SELECT title FROM todos WHERE id = ?1", [id], |r| r.get(0))
        .expect("the row was written");
    assert_eq!(title, "ship it");
    drop(conn);
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let mut child = start(&["--port", "80"]);
    let (status, stderr) = wait_exit(&mut child);
    assert!(!status.success());
    assert!(stderr.contains("unknown option `--port`"), "{stderr}");
    let mut child = start(&["/no/such/graph.json"]);
    let (status, stderr) = wait_exit(&mut child);
    assert!(!status.success());
    assert!(stderr.contains("cannot read `/no/such/graph.json`"), "{stderr}");
}
