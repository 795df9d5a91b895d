//! The compiler's hints for common flow mistakes (`#[diagnostic::on_unimplemented]` on the
//! flow traits): each program under `tests/diagnostics/` must fail to compile with the hint.
//!
//! The fixtures are compiled with the same `rustc` against the `flowloop` library that cargo
//! built for this test (the newest `libflowloop-*.rlib` beside the test binary).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding this test binary and the libraries it was linked against.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.parent()
        .expect("the test binary lives in a directory")
        .to_path_buf()
}

/// The newest `flowloop` rlib beside the test binary.
fn flowloop_rlib(deps: &Path) -> PathBuf {
    let entries = std::fs::read_dir(deps).expect("the deps directory is readable");
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("libflowloop-") && name.ends_with(".rlib")
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .expect("cargo built libflowloop for this test")
}

/// Type-checks `source` as a library against the `flowloop` rlib cargo built for this test
/// (metadata only, written to `out_dir`, which is removed afterwards).
fn rustc_check(source: &Path, out_dir: &Path) -> std::process::Output {
    let deps = deps_dir();
    let rlib = flowloop_rlib(&deps);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--emit=metadata",
            "--color=never",
        ])
        .arg("--out-dir")
        .arg(out_dir)
        .arg(source)
        .arg("--extern")
        .arg(format!("flowloop={}", rlib.display()))
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .output()
        .expect("rustc runs");
    let _ = std::fs::remove_dir_all(out_dir);
    out
}

/// Compiles `tests/diagnostics/{name}.rs` and returns the compiler's error output.
fn compile_error(name: &str) -> String {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/diagnostics/{name}.rs"));
    let out_dir = std::env::temp_dir().join(format!("flowloop-diag-{}-{name}", std::process::id()));
    let out = rustc_check(&source, &out_dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{name} compiled, but it must not:\n{stderr}");
    stderr
}

#[track_caller]
fn assert_hint(name: &str, hints: &[&str]) {
    let stderr = compile_error(name);
    for hint in hints {
        assert!(stderr.contains(hint), "{name}: missing `{hint}` in:\n{stderr}");
    }
}

#[test]
fn a_sync_fn_as_a_node_says_to_make_it_async() {
    assert_hint(
        "sync_fn_as_node",
        &[
            "is not a node body: a node is an `async fn`",
            "a sync `fn` cannot be a node",
        ],
    );
}

#[test]
fn an_emitter_not_first_says_to_move_it() {
    assert_hint(
        "emitter_not_first",
        &["is not a streaming node body", "FIRST parameter is its `Emitter<C>`"],
    );
}

#[test]
fn a_stream_output_into_a_plain_input_is_explained() {
    assert_hint(
        "stream_into_plain",
        &[
            "cannot feed an input of type `i64`",
            "only feeds a `Stream<C>` parameter",
        ],
    );
}

#[test]
fn a_final_value_into_a_stream_input_is_explained() {
    assert_hint(
        "plain_into_stream",
        &[
            "`StreamNode<i64, i64>` cannot feed an input of type",
            "only takes `producer.stream()`",
        ],
    );
}

/// The fixtures fail for the reason they show, not for a typo: the same program with the
/// mistake fixed compiles.
#[test]
fn the_fixed_program_compiles() {
    let dir = std::env::temp_dir().join(format!("flowloop-diag-{}-ok", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = dir.join("ok.rs");
    std::fs::write(
        &source,
        "use flowloop::flow::{Emitter, FlowBuilder, Stream};\n\
         async fn numbers(out: Emitter<i64>, n: i64) -> i64 { let _ = out.emit(n).await; n }\n\
         async fn inc(x: i64) -> i64 { x + 1 }\n\
         async fn total(mut s: Stream<i64>) -> i64 { let mut t = 0; while let Some(x) = s.next().await { t += x; } t }\n\
         pub fn build() { let mut b = FlowBuilder::new(); let s = b.stream(numbers, (3,)); \
         b.node(inc, (s,)); b.node(total, (s.stream(),)); }\n",
    )
    .expect("write the fixture");
    let out = rustc_check(&source, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The plumbing behind the flow traits is sealed: its types are not reachable and the
/// argument traits cannot be implemented outside the crate.
#[test]
fn the_flow_plumbing_is_sealed() {
    assert_hint(
        "sealed_plumbing",
        &["no `InputSpec` in `flow`", "Sealed` is not satisfied"],
    );
}
