//! [`Client`]: a connection that comes back after the server went away, and Lua scripts.

use std::collections::HashMap;
use std::time::Instant;

use super::{Cmd, Config, Connection, Reply, RespError};

/// A Lua script, loaded with `SCRIPT LOAD` on first use and run with `EVALSHA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Script {
    /// A short name, for error messages.
    pub name: &'static str,
    /// The Lua source.
    pub source: &'static str,
}

/// A connection that reconnects with exponential backoff (from `backoff_start`, doubling up to
/// `backoff_max`, until `reconnect_deadline`), and keeps [`Script`]s loaded: after a reconnect
/// or a `NOSCRIPT` reply it loads them again.
///
/// A socket error during a call drops the connection and is returned; the next call
/// reconnects. [`Client::call_retrying`] and friends retry such calls, which is right only for
/// commands that are safe to repeat (every script in this crate is).
#[derive(Debug)]
pub struct Client {
    config: Config,
    conn: Option<Connection>,
    shas: HashMap<&'static str, String>,
    reconnects: u32,
}

impl Client {
    /// A client that connects on its first call.
    pub fn new(config: Config) -> Client {
        Client {
            config,
            conn: None,
            shas: HashMap::new(),
            reconnects: 0,
        }
    }

    /// The settings this client connects with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How many times the connection was re-established after being lost.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// Connects now if not connected (with backoff).
    ///
    /// # Errors
    /// [`RespError::GaveUp`] after `reconnect_deadline`; [`RespError::Auth`] at once.
    pub async fn connect(&mut self) -> Result<&mut Connection, RespError> {
        if self.conn.is_none() {
            let conn = self.connect_with_backoff().await?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("set just above"))
    }

    async fn connect_with_backoff(&mut self) -> Result<Connection, RespError> {
        let start = Instant::now();
        let mut delay = self.config.backoff_start;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match Connection::connect(&self.config).await {
                Ok(conn) => {
                    if !self.shas.is_empty() || attempts > 1 {
                        self.reconnects += 1;
                    }
                    self.shas.clear();
                    return Ok(conn);
                }
                Err(e) if !e.is_connection() => return Err(e),
                Err(e) if start.elapsed() >= self.config.reconnect_deadline => {
                    let addr = self.config.addr();
                    return Err(RespError::GaveUp {
                        addr,
                        attempts,
                        last: e.to_string(),
                    });
                }
                Err(_) => {}
            }
            flowloop::sleep(delay).await;
            delay = (delay * 2).min(self.config.backoff_max);
        }
    }

    /// One command; an error reply comes back as [`Reply::Error`].
    ///
    /// # Errors
    /// Connection errors (the connection is dropped; the next call reconnects).
    pub async fn call(&mut self, cmd: &Cmd) -> Result<Reply, RespError> {
        let mut replies = self.pipeline(std::slice::from_ref(cmd)).await?;
        Ok(replies.pop().expect("one reply per command"))
    }

    /// Several commands in one round trip.
    ///
    /// # Errors
    /// Connection errors (the connection is dropped; the next call reconnects).
    ///
    /// A server still loading its data set (`LOADING` after a restart) executes nothing; the
    /// pipeline is sent again after a pause, until `reconnect_deadline`.
    pub async fn pipeline(&mut self, cmds: &[Cmd]) -> Result<Vec<Reply>, RespError> {
        let start = Instant::now();
        let mut delay = self.config.backoff_start;
        loop {
            let result = self.connect().await?.pipeline(cmds).await;
            let replies = self.forget_on_error(result)?;
            let loading = replies
                .iter()
                .any(|r| r.error().is_some_and(|e| e.starts_with("LOADING")));
            if !loading || start.elapsed() >= self.config.reconnect_deadline {
                return Ok(replies);
            }
            flowloop::sleep(delay).await;
            delay = (delay * 2).min(self.config.backoff_max);
        }
    }

    /// [`Client::call`], repeated after a reconnect while the connection keeps failing.
    ///
    /// # Errors
    /// [`RespError::GaveUp`] when reconnecting exceeded the deadline.
    pub async fn call_retrying(&mut self, cmd: &Cmd) -> Result<Reply, RespError> {
        loop {
            match self.call(cmd).await {
                Err(e) if e.is_connection() => continue,
                other => return other,
            }
        }
    }

    fn forget_on_error<T>(&mut self, result: Result<T, RespError>) -> Result<T, RespError> {
        if matches!(&result, Err(e) if e.is_connection()) {
            self.conn = None;
        }
        result
    }

    async fn sha(&mut self, script: &Script) -> Result<String, RespError> {
        if let Some(sha) = self.shas.get(script.name) {
            return Ok(sha.clone());
        }
        let reply = self.call(&Cmd::new("SCRIPT").arg("LOAD").arg(script.source)).await?;
        let reply = reply.check(&format!("SCRIPT LOAD ({})", script.name))?;
        let sha = reply.as_str().unwrap_or_default().to_string();
        self.shas.insert(script.name, sha.clone());
        Ok(sha)
    }

    /// The `EVALSHA` command for `script` (loading it first if needed).
    async fn evalsha(&mut self, script: &Script, keys: &[String], args: &[Vec<u8>]) -> Result<Cmd, RespError> {
        let sha = self.sha(script).await?;
        Ok(Cmd::new("EVALSHA")
            .arg(sha)
            .int(keys.len() as i64)
            .args(keys)
            .args(args))
    }

    /// Runs `script` once; on `NOSCRIPT` loads it again and retries; on a lost connection
    /// reconnects and retries (scripts must be safe to repeat).
    ///
    /// # Errors
    /// [`RespError::Server`] naming the script when it raised an error.
    pub async fn eval(&mut self, script: &Script, keys: &[String], args: &[Vec<u8>]) -> Result<Reply, RespError> {
        let mut replies = self.eval_many(script, &[(keys.to_vec(), args.to_vec())]).await?;
        Ok(replies.pop().expect("one reply per invocation"))
    }

    /// Runs `script` once per `(keys, args)` in one pipeline, with the same retry rules as
    /// [`Client::eval`]. Each reply is checked: a script error fails the whole call.
    ///
    /// # Errors
    /// [`RespError::Server`] naming the script when one invocation raised an error.
    pub async fn eval_many(
        &mut self,
        script: &Script,
        calls: &[(Vec<String>, Vec<Vec<u8>>)],
    ) -> Result<Vec<Reply>, RespError> {
        loop {
            let mut cmds = Vec::with_capacity(calls.len());
            for (keys, args) in calls {
                cmds.push(self.evalsha(script, keys, args).await?);
            }
            let replies = match self.pipeline(&cmds).await {
                Err(e) if e.is_connection() => continue,
                other => other?,
            };
            if replies
                .iter()
                .any(|r| r.error().is_some_and(|e| e.starts_with("NOSCRIPT")))
            {
                self.shas.clear();
                continue;
            }
            let command = format!("EVALSHA {}", script.name);
            return replies.into_iter().map(|r| r.check(&command)).collect();
        }
    }
}
