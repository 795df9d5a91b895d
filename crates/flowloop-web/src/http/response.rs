//! Responses: a status, a content type, a body; written with `Content-Length`.

use std::borrow::Cow;

/// Status codes the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    UnprocessableEntity,
    LengthRequired,
    PayloadTooLarge,
    HeaderTooLarge,
    ServiceUnavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::Unauthorized => "401 Unauthorized",
            Status::Forbidden => "403 Forbidden",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::RequestTimeout => "408 Request Timeout",
            Status::Conflict => "409 Conflict",
            Status::UnprocessableEntity => "422 Unprocessable Entity",
            Status::LengthRequired => "411 Length Required",
            Status::PayloadTooLarge => "413 Payload Too Large",
            Status::HeaderTooLarge => "431 Request Header Fields Too Large",
            Status::ServiceUnavailable => "503 Service Unavailable",
        }
    }
}

/// A complete response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: Status,
    pub(crate) content_type: &'static str,
    pub(crate) body: Cow<'static, [u8]>,
}

impl Response {
    /// A JSON body.
    pub(crate) fn json(status: Status, body: String) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: Cow::Owned(body.into_bytes()),
        }
    }

    /// A JSON `{"error": message}` body.
    pub(crate) fn error(status: Status, message: &str) -> Response {
        Response::json(status, serde_json::json!({ "error": message }).to_string())
    }

    /// A static body.
    pub(crate) fn fixed(content_type: &'static str, body: &'static [u8]) -> Response {
        Response {
            status: Status::Ok,
            content_type,
            body: Cow::Borrowed(body),
        }
    }

    /// The bytes to write: head and (unless `head_only`) body.
    pub(crate) fn encode(&self, close: bool, head_only: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
             X-Content-Type-Options: nosniff\r\nConnection: {}\r\n\r\n",
            self.status.line(),
            self.content_type,
            self.body.len(),
            if close { "close" } else { "keep-alive" },
        )
        .into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// What a route answers: a plain response, or a switch to an event stream.
#[derive(Debug)]
pub(crate) enum Reply {
    Plain(Response),
    Events,
}

/// The head of an event-stream response.
pub(crate) const EVENTS_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\nretry: 1000\n\n";
