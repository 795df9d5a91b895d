//! The `http` kinds that shape requests and responses inside a graph: `http.listen`,
//! `http.route`, `http.respond`, `http.respond_first`, `http.params`, `http.body`,
//! `http.fields`. The [`Server`](super::Server) runs the graph once per request.

use flowloop::flow::Outputs;
use flowloop_graph::kind::{FnKind, Inputs, KindError, KindSpec, PortSpec, kind_error, ready};
use flowloop_graph::{Map, Type, Value};

use super::route::{Route, with_params};

/// Number of outputs of `http.route` (`r0` to `r7`).
pub const ROUTE_OUTPUTS: usize = 8;

/// The kind name of the listener.
pub const LISTEN: &str = "http.listen";
/// The kind name of the router.
pub const ROUTE: &str = "http.route";
/// The kind names whose output is a response.
pub const RESPONDERS: [&str; 2] = ["http.respond", "http.respond_first"];

/// A request the client got wrong (a missing field, a body of the wrong shape): the server
/// answers 400 with the message instead of 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// `http.listen`: the requests of the server listening on `addr`. Outside a
/// [`Server`](super::Server) (a plain batch run) it emits its `request` input, null unless set.
pub fn listen_kind() -> FnKind {
    let spec = KindSpec::new(LISTEN)
        .doc("The requests arriving at `addr` (one graph run per request): a map with id, method, path, params, query, headers, body (JSON-decoded for a JSON content type).")
        .input(PortSpec::new("addr", Type::Str).default("127.0.0.1:0"))
        .input(PortSpec::new("request", Type::Any).default(Value::Null))
        .output("request", Type::Any);
    FnKind::new(spec, |mut inputs: Inputs| {
        ready(inputs.value(1).map(Outputs::One).map_err(Into::into))
    })
}

/// The routes of an `http.route` node, parsed.
///
/// # Errors
/// A [`KindError`] naming the bad route or the extra routes.
pub(crate) fn parse_routes(routes: &Value) -> Result<Vec<Route>, KindError> {
    let list = routes
        .as_list()
        .ok_or_else(|| kind_error("routes", "must be a list of texts like \"GET /todos/{id}\""))?;
    if list.len() > ROUTE_OUTPUTS {
        return Err(kind_error(
            "routes",
            &format!("at most {ROUTE_OUTPUTS} routes per node (chain another http.route)"),
        ));
    }
    list.iter()
        .map(|r| {
            let text = r
                .as_str()
                .ok_or_else(|| kind_error("routes", &format!("{} is not a text", r.preview(30))))?;
            Route::parse(text).map_err(|e| kind_error("routes", &e.to_string()))
        })
        .collect()
}

/// The index of the first route `request` matches, with its path parameters.
pub(crate) fn match_request(routes: &[Route], request: &Value) -> Option<(usize, Map)> {
    let method = request.get("method").and_then(Value::as_str)?;
    let path = request.get("path").and_then(Value::as_str)?;
    routes
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.matches(method, path).map(|p| (i, p)))
}

/// `http.route`: output `r<i>` carries the request (with its path parameters) when route `i`
/// is the first that matches; the others carry null. The server runs only the branch taken.
pub fn route_kind() -> FnKind {
    let mut spec = KindSpec::new(ROUTE)
        .doc("Switches a request by method and path: `routes` is a list like [\"GET /todos\", \"GET /todos/{id:int}\"]; output r<i> gets the request (params filled) for the first matching route, the others null; unknown routes get 404 from the listener.")
        .input(PortSpec::new("request", Type::Any))
        .input(PortSpec::new("routes", Type::List));
    for i in 0..ROUTE_OUTPUTS {
        spec = spec.output(&format!("r{i}"), Type::Any);
    }
    FnKind::new(spec, |mut inputs: Inputs| {
        let mut run = || -> Result<Outputs<Value>, KindError> {
            let request = inputs.value(0)?;
            let routes = parse_routes(&inputs.value(1)?)?;
            let mut outs = vec![Value::Null; ROUTE_OUTPUTS];
            if let Some((i, params)) = match_request(&routes, &request) {
                outs[i] = with_params(&request, params);
            }
            Ok(Outputs::Many(outs))
        };
        ready(run().map_err(Into::into))
    })
}

/// The request id inside a request value.
fn request_id(request: &Value) -> Result<i64, KindError> {
    request.get("id").and_then(Value::as_int).ok_or_else(|| {
        kind_error(
            "request",
            &format!("{} is not a request from http.listen", request.preview(40)),
        )
    })
}

/// The response value the server reads back: `request` (the id), `status`, `body`, `headers`.
fn response(request: &Value, status: i64, body: Value, headers: Value) -> Result<Value, KindError> {
    if !(100..=599).contains(&status) {
        return Err(kind_error(
            "status",
            &format!("{status} is not an HTTP status (100 to 599)"),
        ));
    }
    if !headers.is_null() && headers.as_map().is_none() {
        return Err(kind_error("headers", "must be a map of header names to texts"));
    }
    let mut m = Map::new();
    m.insert("request", request_id(request)?);
    m.insert("status", status);
    m.insert("body", body);
    m.insert("headers", headers);
    Ok(Value::from(m))
}

/// Answers `request` with `status` and `body` (texts as they are, other values as JSON).
#[flowloop_graph::kind(name = "http.respond")]
pub fn respond(
    request: Value,
    #[default(200)] status: i64,
    #[default(Value::Null)] body: Value,
    #[default(Value::Null)] headers: Value,
) -> Result<Value, KindError> {
    response(&request, status, body, headers)
}

/// Answers `request` with the first of `rows` (status `status`), or 404 when there is none.
#[flowloop_graph::kind(name = "http.respond_first")]
pub fn respond_first(request: Value, rows: Vec<Value>, #[default(200)] status: i64) -> Result<Value, KindError> {
    match rows.into_iter().next() {
        Some(row) => response(&request, status, row, Value::Null),
        None => response(&request, 404, Value::from(error_map("not found")), Value::Null),
    }
}

fn error_map(message: &str) -> Map {
    let mut m = Map::new();
    m.insert("error", message);
    m
}

/// The path parameters of a routed request (a map).
#[flowloop_graph::kind(name = "http.params")]
pub fn params(request: Value) -> Value {
    request.get("params").cloned().unwrap_or(Value::Null)
}

/// The body of a request (JSON-decoded for a JSON content type).
#[flowloop_graph::kind(name = "http.body")]
pub fn body(request: Value) -> Value {
    request.get("body").cloned().unwrap_or(Value::Null)
}

/// Checks that the body is a JSON object with the listed `fields` of the types in `types`
/// (same order; `str`, `int`, `bool`, `any`...) and returns just those fields; anything else
/// is a 400 for the client.
pub fn fields_kind() -> FnKind {
    let spec = KindSpec::new("http.fields")
        .doc("The listed fields of a request's JSON object body (checked against `types`: str, int, float, bool, list, map, any); a missing or mistyped field answers 400.")
        .input(PortSpec::new("request", Type::Any))
        .input(PortSpec::new("fields", Type::List))
        .input(PortSpec::new("types", Type::List).default(Value::list(Vec::<Value>::new())))
        .output("out", Type::Map);
    FnKind::new(spec, |mut inputs: Inputs| {
        let mut run = || -> Result<Value, flowloop::flow::BoxError> {
            let request = inputs.value(0)?;
            let fields = inputs.value(1)?;
            let types = inputs.value(2)?;
            pick_fields(&request, &fields, &types)
        };
        ready(run().map(Outputs::One))
    })
}

fn pick_fields(request: &Value, fields: &Value, types: &Value) -> Result<Value, flowloop::flow::BoxError> {
    let names = fields
        .as_list()
        .ok_or_else(|| kind_error("fields", "must be a list of field names"))?;
    let types = types.as_list().unwrap_or(&[]);
    let body = request
        .get("body")
        .and_then(Value::as_map)
        .ok_or_else(|| BadRequest("the body must be a JSON object (send Content-Type: application/json)".into()))?;
    let mut out = Map::new();
    for (i, name) in names.iter().enumerate() {
        let name = name
            .as_str()
            .ok_or_else(|| kind_error("fields", "must be a list of field names"))?;
        let value = body
            .get(name)
            .ok_or_else(|| BadRequest(format!("field `{name}` is missing")))?;
        let want = types.get(i).and_then(Value::as_str).unwrap_or("any");
        let ty = Type::from_name(want).ok_or_else(|| kind_error("types", &format!("`{want}` is not a type name")))?;
        if !ty.accepts(value) {
            return Err(BadRequest(format!("field `{name}` must be {want}, not {}", value.type_of().name())).into());
        }
        out.insert(name, value.clone());
    }
    Ok(Value::from(out))
}
