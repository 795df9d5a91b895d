//! [`Connection`]: one socket, a handshake, pipelined commands.

use std::net::{SocketAddr, ToSocketAddrs};

use bytes::BytesMut;
use flowloop::net::TcpStream;

use super::{Cmd, Config, Protocol, Reply, RespError};

/// One open connection. Commands are written back to back and replies read in order, so a
/// [`Connection::pipeline`] of N commands costs one round trip.
///
/// A connection is driven by one task at a time (`&mut self`). A blocking command such as
/// `XREADGROUP ... BLOCK` occupies it until the server answers, so give each blocking reader
/// its own connection.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    input: Vec<u8>,
    /// Bytes of `input` already decoded.
    consumed: usize,
    output: BytesMut,
    speaks: Protocol,
    addr: String,
}

impl Connection {
    /// Connects and performs the handshake: `HELLO 3` (with `AUTH` when the config has a
    /// password), or RESP2 with `AUTH` when the server refuses `HELLO 3` or the config asks for
    /// RESP2; then `SELECT` when the database is not 0.
    ///
    /// # Errors
    /// [`RespError::Io`] when the server is unreachable, [`RespError::Auth`] for bad credentials.
    pub async fn connect(config: &Config) -> Result<Connection, RespError> {
        let addr = resolve(config).await?;
        let io = |source| RespError::Io {
            addr: config.addr(),
            source,
        };
        let stream = TcpStream::connect_timeout(addr, config.connect_timeout)
            .await
            .map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let mut conn = Connection {
            stream,
            input: Vec::with_capacity(16 * 1024),
            consumed: 0,
            output: BytesMut::with_capacity(16 * 1024),
            speaks: Protocol::Resp2,
            addr: config.addr(),
        };
        conn.handshake(config).await?;
        Ok(conn)
    }

    /// The protocol this connection settled on.
    pub fn protocol(&self) -> Protocol {
        self.speaks
    }

    /// Sends one command and reads its reply. An error reply is returned as
    /// [`Reply::Error`]; use [`Reply::check`] to turn it into an error.
    ///
    /// # Errors
    /// Socket and decoding errors; after one, drop the connection.
    pub async fn call(&mut self, cmd: &Cmd) -> Result<Reply, RespError> {
        let mut replies = self.pipeline(std::slice::from_ref(cmd)).await?;
        Ok(replies.pop().expect("pipeline returns one reply per command"))
    }

    /// Writes every command in one go, then reads one reply per command, in order.
    ///
    /// # Errors
    /// Socket and decoding errors; after one, drop the connection.
    pub async fn pipeline(&mut self, cmds: &[Cmd]) -> Result<Vec<Reply>, RespError> {
        self.output.clear();
        for cmd in cmds {
            cmd.encode(&mut self.output);
        }
        let out = std::mem::take(&mut self.output);
        let sent = self.stream.send_all(&out).await;
        self.output = out;
        sent.map_err(|source| RespError::Io {
            addr: self.addr.clone(),
            source,
        })?;
        let mut replies = Vec::with_capacity(cmds.len());
        while replies.len() < cmds.len() {
            if let Some(reply) = self.read_reply().await? {
                replies.push(reply);
            }
        }
        Ok(replies)
    }

    /// Reads one frame; `None` for an out-of-band push frame, which is skipped.
    async fn read_reply(&mut self) -> Result<Option<Reply>, RespError> {
        loop {
            if let Some((reply, used)) = self.decode()? {
                self.consumed += used;
                return Ok(reply);
            }
            self.input.drain(..self.consumed);
            self.consumed = 0;
            self.fill().await?;
        }
    }

    #[allow(clippy::type_complexity)]
    fn decode(&self) -> Result<Option<(Option<Reply>, usize)>, RespError> {
        let bad = |e: redis_protocol::error::RedisProtocolError| RespError::Protocol {
            addr: self.addr.clone(),
            reason: e.to_string(),
        };
        let input = &self.input[self.consumed..];
        if input.is_empty() {
            return Ok(None);
        }
        match self.speaks {
            Protocol::Resp2 => Ok(redis_protocol::resp2::decode::decode(input)
                .map_err(bad)?
                .map(|(f, n)| (Some(Reply::from_resp2(f)), n))),
            _ => Ok(redis_protocol::resp3::decode::complete::decode(input)
                .map_err(bad)?
                .map(|(f, n)| {
                    let push = matches!(f, redis_protocol::resp3::types::OwnedFrame::Push { .. });
                    (if push { None } else { Some(Reply::from_resp3(f)) }, n)
                })),
        }
    }

    async fn fill(&mut self) -> Result<(), RespError> {
        let start = self.input.len();
        self.input.resize(start + 64 * 1024, 0);
        let got = self.stream.recv(&mut self.input[start..]).await;
        let n = *got.as_ref().unwrap_or(&0);
        self.input.truncate(start + n);
        let n = got.map_err(|source| RespError::Io {
            addr: self.addr.clone(),
            source,
        })?;
        if n == 0 {
            let source = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection");
            return Err(RespError::Io {
                addr: self.addr.clone(),
                source,
            });
        }
        Ok(())
    }

    async fn handshake(&mut self, config: &Config) -> Result<(), RespError> {
        if config.protocol == Protocol::Resp3OrFallback {
            let mut hello = Cmd::new("HELLO").arg("3");
            if let Some(password) = &config.password {
                hello = hello
                    .arg("AUTH")
                    .arg(config.user.as_deref().unwrap_or("default"))
                    .arg(password);
            }
            self.speaks = Protocol::Resp3OrFallback;
            match self.call(&hello).await? {
                Reply::Error(message) if is_auth_error(&message) => {
                    return Err(RespError::Auth {
                        addr: self.addr.clone(),
                        message,
                    });
                }
                // NOPROTO or an unknown HELLO: the server answered in RESP2; speak RESP2.
                Reply::Error(_) => self.speaks = Protocol::Resp2,
                _ => return self.select(config).await,
            }
        }
        self.auth_resp2(config).await?;
        self.select(config).await
    }

    async fn auth_resp2(&mut self, config: &Config) -> Result<(), RespError> {
        let Some(password) = &config.password else {
            return Ok(());
        };
        let mut auth = Cmd::new("AUTH");
        if let Some(user) = &config.user {
            auth = auth.arg(user);
        }
        match self.call(&auth.arg(password)).await? {
            Reply::Error(message) => Err(RespError::Auth {
                addr: self.addr.clone(),
                message,
            }),
            _ => Ok(()),
        }
    }

    async fn select(&mut self, config: &Config) -> Result<(), RespError> {
        if config.db != 0 {
            self.call(&Cmd::new("SELECT").int(i64::from(config.db)))
                .await?
                .check("SELECT")?;
        }
        Ok(())
    }
}

/// True when a `HELLO` error refuses the credentials (rather than `HELLO` itself: a Redis
/// before 6 answers "unknown command `HELLO`, with args beginning with: `3`, `AUTH`, ...",
/// which quotes `AUTH` but is a reason to fall back, not an authentication failure).
fn is_auth_error(message: &str) -> bool {
    if message.contains("unknown command") || message.starts_with("NOPROTO") {
        return false;
    }
    message.starts_with("WRONGPASS") || message.starts_with("NOAUTH") || message.contains("AUTH")
}

async fn resolve(config: &Config) -> Result<SocketAddr, RespError> {
    if let Ok(ip) = config.host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, config.port));
    }
    let target = (config.host.clone(), config.port);
    let found = flowloop::offload(move || target.to_socket_addrs().map(|mut a| a.next()))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|r| r);
    match found {
        Ok(Some(addr)) => Ok(addr),
        Ok(None) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the host name has no address",
        )),
        Err(e) => Err(e),
    }
    .map_err(|source| RespError::Io {
        addr: config.addr(),
        source,
    })
}
