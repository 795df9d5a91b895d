//! Route patterns (`GET /users/{id}`, `/todos/{id:int}`) and the request [`Value`].

use flowloop_graph::{Map, Value};

use super::wire::RawRequest;

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Must equal this text.
    Literal(String),
    /// Binds the segment to a name; `int` ones must parse as an integer.
    Param { name: String, int: bool },
}

/// A route: an optional method and a path pattern whose `{name}` segments become path
/// parameters (`{name:int}` ones must be integers and become ints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    method: Option<String>,
    segments: Vec<Segment>,
    text: String,
}

/// A route text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route `{route}`: {problem}")]
pub struct RouteError {
    /// The route as written.
    pub route: String,
    /// What is wrong with it.
    pub problem: String,
}

impl Route {
    /// Parses `"METHOD /path/{param}"` or `"/path"` (any method).
    ///
    /// # Errors
    /// [`RouteError`] if the path does not start with `/` or a `{...}` segment is malformed.
    pub fn parse(text: &str) -> Result<Route, RouteError> {
        let err = |problem: &str| RouteError {
            route: text.to_string(),
            problem: problem.to_string(),
        };
        let (method, path) = match text.trim().split_once(' ') {
            Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
            None => (None, text.trim()),
        };
        if !path.starts_with('/') {
            return Err(err("the path must start with `/`"));
        }
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                parse_segment(s)
                    .ok_or_else(|| err(&format!("segment `{s}` is not `name`, `{{name}}` or `{{name:int}}`")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Route {
            method,
            segments,
            text: text.trim().to_string(),
        })
    }

    /// The route as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The path parameters if `method` and `path` match.
    pub fn matches(&self, method: &str, path: &str) -> Option<Map> {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return None;
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param { name, int: true } => {
                    params.insert(name, part.parse::<i64>().ok()?);
                }
                Segment::Param { name, int: false } => {
                    params.insert(name, percent_decode(part));
                }
            }
        }
        Some(params)
    }
}

fn parse_segment(s: &str) -> Option<Segment> {
    let Some(inner) = s.strip_prefix('{') else {
        return (!s.contains(['{', '}'])).then(|| Segment::Literal(s.to_string()));
    };
    let inner = inner.strip_suffix('}')?;
    let (name, int) = match inner.split_once(':') {
        Some((n, "int")) => (n, true),
        Some(_) => return None,
        None => (inner, false),
    };
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| Segment::Param {
        name: name.to_string(),
        int,
    })
}

/// Decodes `%XX` escapes (and `+` as space when `plus` says so); bad escapes stay as they are.
fn decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) if plus => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_decode(s: &str) -> String {
    decode(s, false)
}

/// The query string as a map (later keys win).
fn parse_query(query: &str) -> Map {
    let mut map = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(&decode(k, true), decode(v, true));
    }
    map
}

/// The body as a value: JSON-decoded when the content type says JSON, text when it is
/// UTF-8, else bytes.
///
/// # Errors
/// The JSON error, for a JSON content type with a body that does not parse.
fn body_value(req: &RawRequest) -> Result<Value, String> {
    if req.body.is_empty() {
        return Ok(Value::Null);
    }
    let json = req.header("content-type").is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.starts_with("application/json") || c.contains("+json")
    });
    if json {
        return serde_json::from_slice::<Value>(&req.body).map_err(|e| format!("the body is not valid JSON: {e}"));
    }
    Ok(match std::str::from_utf8(&req.body) {
        Ok(t) => Value::str(t),
        Err(_) => Value::from(req.body.as_slice()),
    })
}

/// The request value the listener emits: `id`, `method`, `path`, `params`, `query`,
/// `headers` (lowercase names), `body`.
///
/// # Errors
/// A message for a body that should be JSON and is not (the listener answers 400).
pub(crate) fn request_value(id: u64, req: &RawRequest) -> Result<Value, String> {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let mut headers = Map::new();
    for (k, v) in &req.headers {
        headers.insert(k, v.as_str());
    }
    let mut m = Map::new();
    m.insert("id", id as i64);
    m.insert("method", req.method.as_str());
    m.insert("path", percent_decode(path));
    m.insert("params", Map::new());
    m.insert("query", parse_query(query));
    m.insert("headers", headers);
    m.insert("body", body_value(req)?);
    Ok(Value::from(m))
}

/// `request` with its `params` replaced.
pub(crate) fn with_params(request: &Value, params: Map) -> Value {
    let mut r = request.clone();
    if let Some(m) = r.as_map_mut() {
        m.insert("params", params);
    }
    r
}
