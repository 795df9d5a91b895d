//! `http.fetch`: an HTTP/1.1 client over flowloop sockets (plain TCP, or TLS through rustls
//! with the Mozilla roots of `webpki-roots` unless a config is given). One request per
//! connection; redirects are followed only when asked; the whole exchange has a timeout.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use flowloop::net::{BufReader, ByteSink, ByteSource, Line, TcpStream, TlsConnector};
use flowloop_graph::{Map, Value};

use super::wire::{Limits, ReadError, header, read_body};

/// Whether [`fetch`] follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Redirects {
    /// A 3xx response is returned as it is.
    #[default]
    None,
    /// Follow `Location` up to this many times.
    Follow(u32),
}

/// Options of [`fetch`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Limit on the whole exchange (connect, TLS, request, response), per hop.
    pub timeout: Duration,
    /// Redirect policy.
    pub redirects: Redirects,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// TLS client config for `https` (the `webpki-roots` store when `None`).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Largest response body accepted.
    pub max_body: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(30),
            redirects: Redirects::None,
            headers: Vec::new(),
            tls: None,
            max_body: 16 * 1024 * 1024,
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is not `http://host[:port]/path` or `https://...`.
    #[error("url `{url}`: {problem}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// Connecting, TLS, sending or receiving failed.
    #[error("fetching `{url}`: {source}")]
    Io {
        /// The URL.
        url: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The response is not valid HTTP.
    #[error("fetching `{url}`: bad response: {problem}")]
    Response {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// No response within the timeout.
    #[error("fetching `{url}`: no response within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// More redirects than allowed.
    #[error("fetching `{url}`: more than {limit} redirects")]
    TooManyRedirects {
        /// The first URL.
        url: String,
        /// The limit.
        limit: u32,
    },
}

/// A parsed `http(s)://host[:port]/path?query`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    tls: bool,
    host: String,
    port: u16,
    target: String,
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    let err = |p: &str| FetchError::Url {
        url: url.to_string(),
        problem: p.to_string(),
    };
    let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(err("only http:// and https:// URLs are supported"));
    };
    let (authority, target) = rest.find(['/', '?']).map_or((rest, "/"), |i| rest.split_at(i));
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h,
            p.parse::<u16>()
                .map_err(|_| err(&format!("port `{p}` is not a number")))?,
        ),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(err("the host is empty"));
    }
    Ok(Url {
        tls,
        host: host.to_string(),
        port,
        target,
    })
}

/// The request bytes; non-text bodies are sent as JSON.
fn request_bytes(url: &Url, method: &str, body: &Value, extra: &[(String, String)]) -> Vec<u8> {
    let (bytes, ct) = match body {
        Value::Null => (Vec::new(), None),
        Value::Str(s) => (s.as_bytes().to_vec(), Some("text/plain; charset=utf-8")),
        Value::Bytes(b) => (b.to_vec(), Some("application/octet-stream")),
        other => (serde_json::to_vec(other).unwrap_or_default(), Some("application/json")),
    };
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
        url.target, url.host
    );
    if let Some(ct) = ct.filter(|_| !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))) {
        head.push_str(&format!("content-type: {ct}\r\n"));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !bytes.is_empty() || !matches!(method, "GET" | "HEAD") {
        head.push_str(&format!("content-length: {}\r\n", bytes.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&bytes);
    out
}

/// A response as the kind returns it: `status`, `headers`, `body`.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_reply<S: ByteSource>(r: &mut BufReader<S>, url: &str, max_body: usize) -> Result<Reply, FetchError> {
    let bad = |p: String| FetchError::Response {
        url: url.to_string(),
        problem: p,
    };
    let io = |e| FetchError::Io {
        url: url.to_string(),
        source: e,
    };
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match r.read_until(b'\n', &mut head).await.map_err(io)? {
            Line::Complete(_) if head[before..].trim_ascii().is_empty() => break,
            Line::Complete(_) => {}
            _ => return Err(bad("the connection ended inside the response head".into())),
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut slots);
    parsed.parse(&head).map_err(|e| bad(e.to_string()))?;
    let status = parsed.code.ok_or_else(|| bad("no status".into()))?;
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let limits = Limits {
        max_body,
        ..Limits::default()
    };
    let framed = header(&headers, "content-length").is_some() || header(&headers, "transfer-encoding").is_some();
    let body = if framed {
        read_body(r, &headers, &limits).await.map_err(|e| match e {
            ReadError::Io(e) => io(e),
            ReadError::Reject(_, m) => bad(m),
            ReadError::Closed => bad("closed".into()),
        })?
    } else {
        read_to_end(r, max_body).await.map_err(io)?
    };
    Ok(Reply { status, headers, body })
}

async fn read_to_end<S: ByteSource>(r: &mut BufReader<S>, max: usize) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = r.recv(&mut chunk).await?;
        if n == 0 || body.len() + n > max {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

async fn exchange<S: ByteSource + ByteSink>(
    stream: S,
    request: &[u8],
    url: &str,
    max_body: usize,
) -> Result<Reply, FetchError> {
    let mut r = BufReader::new(stream);
    r.send_all(request).await.map_err(|e| FetchError::Io {
        url: url.to_string(),
        source: e,
    })?;
    read_reply(&mut r, url, max_body).await
}

fn default_tls() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn resolve(url: &Url, text: &str) -> Result<SocketAddr, FetchError> {
    let target = (url.host.clone(), url.port);
    let found = flowloop::offload(move || target.to_socket_addrs().map(|mut a| a.next()))
        .await
        .map_err(|e| FetchError::Url {
            url: text.to_string(),
            problem: e.to_string(),
        })?;
    let io = |e| FetchError::Io {
        url: text.to_string(),
        source: e,
    };
    found.map_err(io)?.ok_or_else(|| FetchError::Url {
        url: text.to_string(),
        problem: "the host has no address".into(),
    })
}

async fn one_hop(text: &str, method: &str, body: &Value, options: &FetchOptions) -> Result<Reply, FetchError> {
    let url = parse_url(text)?;
    let addr = resolve(&url, text).await?;
    let io = |e| FetchError::Io {
        url: text.to_string(),
        source: e,
    };
    let stream = TcpStream::connect(addr).await.map_err(io)?;
    let request = request_bytes(&url, method, body, &options.headers);
    if !url.tls {
        return exchange(stream, &request, text, options.max_body).await;
    }
    let config = options.tls.clone().unwrap_or_else(default_tls);
    let tls = TlsConnector::new(config).connect(&url.host, stream).await.map_err(io)?;
    exchange(tls, &request, text, options.max_body).await
}

fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find(['/', '?'])
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}{}", &base[..host_end], location)
}

/// Fetches `url` with `method` and `body` (texts as they are, other non-null values as JSON);
/// returns `{"status", "headers", "body"}` with a JSON body decoded.
///
/// # Errors
/// [`FetchError`] naming the URL.
pub async fn fetch(url: &str, method: &str, body: &Value, options: &FetchOptions) -> Result<Value, FetchError> {
    let mut current = url.to_string();
    let mut hops = 0;
    loop {
        let hop = flowloop::timeout(options.timeout, one_hop(&current, method, body, options)).await;
        let reply = hop.map_err(|_| FetchError::Timeout {
            url: current.clone(),
            timeout: options.timeout,
        })??;
        let location = header(&reply.headers, "location").map(str::to_string);
        match (options.redirects, location) {
            (Redirects::Follow(limit), Some(loc)) if (300..400).contains(&reply.status) => {
                if hops >= limit {
                    return Err(FetchError::TooManyRedirects {
                        url: url.to_string(),
                        limit,
                    });
                }
                hops += 1;
                current = resolve_location(&current, &loc);
            }
            _ => return Ok(reply_value(reply)),
        }
    }
}

fn reply_value(reply: Reply) -> Value {
    let json = header(&reply.headers, "content-type").is_some_and(|c| c.contains("json"));
    let body = match (json, std::str::from_utf8(&reply.body)) {
        _ if reply.body.is_empty() => Value::Null,
        (true, Ok(t)) => serde_json::from_str::<Value>(t).unwrap_or_else(|_| Value::str(t)),
        (false, Ok(t)) => Value::str(t),
        (_, Err(_)) => Value::from(reply.body.as_slice()),
    };
    let mut headers = Map::new();
    for (k, v) in &reply.headers {
        headers.insert(k, v.as_str());
    }
    let mut m = Map::new();
    m.insert("status", i64::from(reply.status));
    m.insert("headers", headers);
    m.insert("body", body);
    Value::from(m)
}

/// Fetches `url` (http or https) with `method` and `body`; returns `{status, headers, body}`.
/// Follows up to `redirects` redirects (none by default); fails after `timeout_ms`.
#[flowloop_graph::kind(name = "http.fetch")]
pub async fn fetch_node(
    url: String,
    #[default("GET")] method: String,
    #[default(Value::Null)] body: Value,
    #[default(30_000)] timeout_ms: i64,
    #[default(0)] redirects: i64,
) -> Result<Value, FetchError> {
    let options = FetchOptions {
        timeout: Duration::from_millis(timeout_ms.max(1) as u64),
        redirects: if redirects > 0 {
            Redirects::Follow(redirects as u32)
        } else {
            Redirects::None
        },
        ..FetchOptions::default()
    };
    fetch(&url, &method.to_ascii_uppercase(), &body, &options).await
}

pub(crate) use fetch_node_kind as fetch_kind;
