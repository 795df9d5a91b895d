//! The `io` shelf: real files in a fresh temporary directory, and a TCP request to a real
//! server on 127.0.0.1 port 0 (a std thread serving exactly one connection).

mod std_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use flowloop_graph::{Graph, Registry, Value};
use std_support::{assert_listed_with_docs, eval};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowloop-graph-io-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

fn path_value(p: &std::path::Path) -> Value {
    Value::str(p.to_str().expect("temp paths are UTF-8"))
}

#[test]
fn write_then_read_a_file_in_one_graph() {
    let file = scratch("write_read").join("note.txt");
    let mut g = Graph::new(Registry::with_std());
    g.add("io.write_file", Some("save")).unwrap();
    g.set_constant("save", "path", path_value(&file)).unwrap();
    g.set_constant("save", "content", Value::str("héllo")).unwrap();
    g.add("flow.gate", Some("after")).unwrap();
    g.add("compare.gt", Some("written")).unwrap();
    g.connect("save", "out", "written", "a").unwrap();
    g.set_constant("written", "b", Value::Int(0)).unwrap();
    g.connect("written", "out", "after", "open").unwrap();
    g.set_constant("after", "value", path_value(&file)).unwrap();
    g.add("io.read_text", Some("load")).unwrap();
    g.connect("after", "out", "load", "path").unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("save", "out"), Some(Value::Int(6)));
    assert_eq!(run.value("load", "out"), Some(Value::str("héllo")));
}

#[test]
fn append_and_bytes() {
    let file = scratch("append").join("log.bin");
    let write = |content: Value, append: bool| {
        eval(
            "io.write_file",
            &[
                ("path", path_value(&file)),
                ("content", content),
                ("append", Value::Bool(append)),
            ],
        )
    };
    assert_eq!(write(Value::from(&[1u8, 2][..]), false), Ok(Value::Int(2)));
    assert_eq!(write(Value::from(&[3u8][..]), true), Ok(Value::Int(1)));
    assert_eq!(
        eval("io.read_bytes", &[("path", path_value(&file))]),
        Ok(Value::from(&[1u8, 2, 3][..]))
    );
    assert_eq!(write(Value::str("x"), false), Ok(Value::Int(1)));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    let err = write(Value::Int(5), false).unwrap_err();
    assert_eq!(
        err,
        "node `n` failed: input `content`: expected string or bytes, got int"
    );
}

#[test]
fn missing_files_and_bad_text_name_the_path() {
    let dir = scratch("missing");
    let missing = dir.join("nope.txt");
    let err = eval("io.read_text", &[("path", path_value(&missing))]).unwrap_err();
    assert!(err.starts_with("node `n` failed: input `path`: cannot read `"), "{err}");
    assert!(err.contains("nope.txt"), "{err}");
    let binary = dir.join("binary");
    std::fs::write(&binary, [0xff, 0xfe]).unwrap();
    let err = eval("io.read_text", &[("path", path_value(&binary))]).unwrap_err();
    assert!(err.contains("input `path`") && err.contains("UTF-8"), "{err}");
    let err = eval(
        "io.write_file",
        &[
            ("path", path_value(&dir.join("no/such/dir/f"))),
            ("content", Value::str("x")),
        ],
    )
    .unwrap_err();
    assert!(err.contains("input `path`: cannot open"), "{err}");
}

/// A server that answers one connection with `reply:` and what it read.
fn one_shot_server() -> (String, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        conn.write_all(b"reply:").unwrap();
        conn.write_all(&got).unwrap();
        got
    });
    (addr, handle)
}

#[test]
fn a_tcp_request_gets_the_whole_reply() {
    let (addr, server) = one_shot_server();
    let out = eval(
        "io.tcp_request",
        &[("address", Value::str(&addr)), ("request", Value::str("ping"))],
    );
    assert_eq!(out, Ok(Value::from(&b"reply:ping"[..])));
    assert_eq!(server.join().unwrap(), b"ping");
}

#[test]
fn a_reply_over_the_limit_is_an_error() {
    let (addr, server) = one_shot_server();
    let err = eval(
        "io.tcp_request",
        &[
            ("address", Value::str(&addr)),
            ("request", Value::str("0123456789")),
            ("max_bytes", Value::Int(4)),
        ],
    )
    .unwrap_err();
    assert!(
        err.contains("input `address`") && err.contains("is over 4 bytes"),
        "{err}"
    );
    let _ = server.join();
}

#[test]
fn bad_addresses_and_refused_connections_name_the_address() {
    let err = eval(
        "io.tcp_request",
        &[("address", Value::str("localhost")), ("request", Value::str(""))],
    )
    .unwrap_err();
    assert!(
        err.starts_with("node `n` failed: input `address`: `localhost` is not an ip:port address"),
        "{err}"
    );
    // A socket bound to a port but not listening: connects to it are refused, and no other
    // test can take the port while the socket lives.
    let held = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    held.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = held.local_addr().unwrap().as_socket().unwrap().port();
    let err = eval(
        "io.tcp_request",
        &[
            ("address", Value::str(&format!("127.0.0.1:{port}"))),
            ("request", Value::str("x")),
        ],
    )
    .unwrap_err();
    assert!(err.contains("input `address`: cannot connect to 127.0.0.1:"), "{err}");
    let err = eval(
        "io.tcp_request",
        &[
            ("address", Value::str("127.0.0.1:1")),
            ("request", Value::str("x")),
            ("timeout", Value::Int(0)),
        ],
    )
    .unwrap_err();
    assert!(err.contains("input `timeout`"), "{err}");
}

#[test]
fn the_shelf_is_listed_with_docs_and_port_types() {
    assert_listed_with_docs(
        "io",
        &["io.read_text", "io.read_bytes", "io.write_file", "io.tcp_request"],
    );
}
