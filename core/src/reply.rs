//! Building the core's answers: `http::Response<Bytes>` with the headers every response must
//! carry (`Content-Type` with charset for text; `Content-Length: 0` on an empty one; what
//! caches must know, SITE.md 1: `Vary: Accept` on a negotiated body, `Cache-Control:
//! no-store` on a personal one), so that every framework sends the same bytes, HEAD included.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, VARY};
use http::{Response, StatusCode};

/// What the core answers; each adapter converts it to its framework's response type.
pub type Reply = Response<Bytes>;

pub const TEXT_HTML: &str = "text/html; charset=utf-8";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const APPLICATION_JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A response with a body of the given type. Its `Content-Length` is the framework's to
/// write from the body's known length: every backend's does (for HEAD, salvo's adapter writes
/// the GET body's length itself), and one the core wrote
/// would be parsed back by hyper on every response.
pub fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(body.into());
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
}

/// A JSON response serialised from `value`.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    // Serialising our own plain structs cannot fail; an empty object is the safe fallback.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_body(status, APPLICATION_JSON, body)
}

/// A response without a body: `Content-Length: 0`, except 204 and 304, which carry none.
/// Written here because hyper omits a zero length on a HEAD response.
pub fn empty(status: StatusCode) -> Reply {
    let mut reply = Response::new(Bytes::new());
    *reply.status_mut() = status;
    if !matches!(status.as_u16(), 204 | 304) {
        reply
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    reply
}

/// The body was chosen by the request's `Accept` (JSON or HTML): a shared cache must keep one
/// copy per `Accept`, or it serves HTML to a script.
pub fn negotiated(mut reply: Reply) -> Reply {
    reply
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    reply
}

/// The response depends on the session (or sets or clears its cookie): no cache may store
/// it, whatever its status, or one user's page reaches another.
pub fn personal(mut reply: Reply) -> Reply {
    reply
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}
