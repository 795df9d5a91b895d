//! Shared helpers of the CLI tests: the real `flowloop` binary, the example graphs, temporary
//! graph files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `flowloop` binary built by this package.
pub fn flowloop() -> Command {
    let mut cmd = Command::cargo_bin("flowloop").expect("cargo builds the flowloop binary for its tests");
    cmd.env_remove("FLOWLOOP_LOG").env("NO_COLOR", "1");
    cmd
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An example graph from `examples/graphs/`.
pub fn example(name: &str) -> PathBuf {
    workspace().join("examples/graphs").join(name)
}

/// A temporary directory holding one file `name` with `text`.
pub fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("the temp directory is writable");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("the temp file is writable");
    (dir, path)
}

/// Parses stdout as one JSON object.
pub fn json(stdout: &[u8]) -> serde_json::Value {
    let text = std::str::from_utf8(stdout).expect("stdout is UTF-8");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {text}"))
}

/// Stdout or stderr as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
