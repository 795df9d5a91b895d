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

/// A `flowloop` process running in the background (for `serve`, `worker`, a served `run`):
/// its stdout lines arrive on a channel; it is killed if the test ends before it exits.
pub struct Spawned {
    child: Option<std::process::Child>,
    lines: std::sync::mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// How long a spawned process gets to print a line or to exit.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

impl Spawned {
    /// Starts `flowloop ARGS...` with piped stdout and stderr; `env` adds variables.
    pub fn start(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Spawned {
        use std::io::{BufRead, BufReader, Read};
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("flowloop"));
        cmd.args(args)
            .env_remove("FLOWLOOP_LOG")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the flowloop binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Spawned {
            child: Some(child),
            lines,
            stderr: Some(stderr),
        }
    }

    /// The next stdout line (panics after [`PATIENCE`] or when stdout closed).
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(e) => {
                let (code, stderr) = self.stop("KILL");
                panic!("flowloop printed no line ({e}); exit {code:?}, stderr:\n{stderr}")
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the child is running").id()
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`) and waits (at most [`PATIENCE`], then SIGKILL)
    /// for the exit; returns the exit code and everything printed on stderr.
    pub fn stop(&mut self, signal: &str) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("stop is called once");
        let pid = child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status();
        assert!(sent.expect("kill runs").success(), "kill -{signal} reached flowloop");
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child can be waited for") {
                break status;
            }
            if started.elapsed() > PATIENCE {
                let _ = child.kill();
                panic!("flowloop did not exit within {PATIENCE:?} of SIGTERM/SIGINT");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let stderr = self.stderr.take().expect("stderr is read once, at the exit");
        (status.code(), stderr.join().unwrap_or_default())
    }

    /// Every stdout line not read yet (after the process exited).
    pub fn rest(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 exchange with `Connection: close`: the status and the body.
pub fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the server accepts connections");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("a read timeout can be set");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {reply:?}"));
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Runs `flowloop ARGS...` to the end and returns what it printed and its status.
pub fn output<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    flowloop().args(args).output().expect("the flowloop binary runs")
}
