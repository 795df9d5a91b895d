//! [`Config`]: where the server is and how to talk to it.

use std::time::Duration;

use super::RespError;

/// Which protocol the handshake asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// Send `HELLO 3`; fall back to RESP2 when the server does not know `HELLO` or RESP3.
    Resp3OrFallback,
    /// Speak RESP2 only (no `HELLO`), as a Redis before 6 would need.
    Resp2,
}

/// Connection settings, usually parsed from a `redis://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User for `AUTH` (`default` when only a password is given).
    pub user: Option<String>,
    /// Password for `AUTH`.
    pub password: Option<String>,
    /// Database number selected after connecting.
    pub db: u32,
    /// Protocol preference.
    pub protocol: Protocol,
    /// Limit for one connection attempt.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt up to `backoff_max`.
    pub backoff_start: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Give up reconnecting after this long without a connection.
    pub reconnect_deadline: Duration,
}

impl Config {
    /// Parses `redis://[user:password@]host[:port][/db]` (port 6379 and db 0 by default).
    ///
    /// # Errors
    /// [`RespError::BadUrl`] naming the URL and what is wrong.
    pub fn from_url(url: &str) -> Result<Config, RespError> {
        let bad = |reason: &str| RespError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| bad("it must start with redis://"))?;
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((auth, host)) => (Some(auth), host),
            None => (None, rest),
        };
        let (hostport, db) = match hostpart.split_once('/') {
            Some((hp, "")) => (hp, 0),
            Some((hp, db)) => (
                hp,
                db.parse().map_err(|_| bad("the database after / must be a number"))?,
            ),
            None => (hostpart, 0),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("the port must be a number below 65536"))?),
            None => (hostport, 6379),
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        let (user, password) = split_auth(auth);
        Ok(Config {
            host: host.to_string(),
            port,
            user,
            password,
            db,
            ..Config::local(port)
        })
    }

    /// Settings for `127.0.0.1:port`, no password, RESP3 with fallback.
    pub fn local(port: u16) -> Config {
        Config {
            host: "127.0.0.1".to_string(),
            port,
            user: None,
            password: None,
            db: 0,
            protocol: Protocol::Resp3OrFallback,
            connect_timeout: Duration::from_secs(2),
            backoff_start: Duration::from_millis(20),
            backoff_max: Duration::from_secs(1),
            reconnect_deadline: Duration::from_secs(30),
        }
    }

    /// `host:port`, for messages.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The URL that [`Config::from_url`] would parse back into these settings (password
    /// included, so do not log it).
    pub fn to_url(&self) -> String {
        let auth = match (&self.user, &self.password) {
            (Some(u), Some(p)) => format!("{u}:{p}@"),
            (None, Some(p)) => format!(":{p}@"),
            _ => String::new(),
        };
        format!("redis://{auth}{}:{}/{}", self.host, self.port, self.db)
    }
}

fn split_auth(auth: Option<&str>) -> (Option<String>, Option<String>) {
    match auth {
        None => (None, None),
        Some(a) => match a.split_once(':') {
            Some(("", p)) => (None, Some(p.to_string())),
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
            None => (None, Some(a.to_string())),
        },
    }
}
