//! A real redis-server per test, on a free port, killed on drop.
//!
//! Shared with `flowloop-cli`'s worker test (included there by path), so it uses nothing but
//! std and `flowloop_redis::resp::Config`.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flowloop_redis::resp::Config;

/// What redis-server logs once its TCP listener is bound (7.0 and later; 7.2 adds " tcp").
const READY_LINE: &str = "Ready to accept connections";

/// A redis-server child process.
pub struct RedisServer {
    child: Option<Child>,
    /// The TCP port the server listens on (127.0.0.1).
    pub port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    /// How many servers this value has started; names each one's log file.
    spawns: u32,
}

/// Whether `redis-server` is installed; prints why a test is skipped when it is not.
pub fn redis_available(test: &str) -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "SKIPPED {test}: redis-server is not installed (scripts/test installs it: apt-get install -y redis-server)"
        );
    }
    ok
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("bound listener has an address").port()
}

impl RedisServer {
    /// A server without persistence; `None` (after printing why) when redis-server is missing.
    pub fn start(test: &str) -> Option<RedisServer> {
        RedisServer::start_with(test, &["--save", "", "--appendonly", "no"])
    }

    /// A server with extra arguments.
    pub fn start_with(test: &str, extra: &[&str]) -> Option<RedisServer> {
        if !redis_available(test) {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("flowloop-redis-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("create a temp dir for redis-server");
        let mut s = RedisServer {
            child: None,
            port: free_port(),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            spawns: 0,
        };
        for _ in 0..5 {
            if s.try_spawn() {
                return Some(s);
            }
            s.port = free_port();
        }
        panic!(
            "redis-server did not start on 5 different ports (logs in {})",
            s.dir.display()
        );
    }

    /// Starts redis-server on `self.port`. False when the server exits before it is ready: the
    /// port was taken by another process after `free_port` released it.
    ///
    /// Ready means the server's own log says its listener is bound. A successful TCP connect
    /// alone is not proof: another test's listener may hold the port while this server fails to
    /// bind it, and the test would then talk to a port nobody serves once that listener closes.
    fn try_spawn(&mut self) -> bool {
        self.spawns += 1;
        let log = self.dir.join(format!("redis-{}.log", self.spawns));
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let start = Instant::now();
        loop {
            if child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if logged_ready(&log) && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return true;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server was not ready on port {} within 10 s; its log: {}",
                    self.port,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the server with SIGTERM (it writes its AOF) and starts it again on the same port,
    /// which clients reconnect to. Should another process take the port meanwhile, it retries
    /// for a few seconds, then panics naming the port.
    pub fn restart(&mut self) {
        self.stop();
        let start = Instant::now();
        while !self.try_spawn() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "redis-server could not listen on port {} again after a restart: another process holds it",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "TERM");
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A client configuration for the server.
    pub fn config(&self) -> Config {
        Config::local(self.port)
    }

    /// Runs `redis-cli` against the server (for independent checks).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Whether the log at `path` says the server is ready.
fn logged_ready(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|log| log.contains(READY_LINE))
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends `SIGNAME` to `pid` with the `kill` command.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}
