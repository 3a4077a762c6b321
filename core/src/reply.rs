//! Building the core's answers: `http::Response<Bytes>` with the headers every response must
//! carry (`Content-Type` with charset for text, an explicit `Content-Length`), so that every
//! framework sends the same bytes, HEAD included.

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

/// What the core answers; each adapter converts it to its framework's response type.
pub type Reply = Response<Bytes>;

pub const TEXT_HTML: &str = "text/html; charset=utf-8";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const APPLICATION_JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A response with a body of the given type and its exact `Content-Length`.
pub fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let body = body.into();
    let mut reply = Response::new(Bytes::new());
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, content_length(body.len()));
    *reply.body_mut() = body;
    reply
}

/// Bodies up to this size get a `Content-Length` made once, at first use.
const SHARED_LENGTHS: usize = 16 * 1024;

/// The `Content-Length` value for `len`. `HeaderValue::from(usize)` formats into a new
/// allocation for every response; the values of the lengths most bodies have are written once
/// into one string and handed out as static slices of it, which cost nothing to copy.
fn content_length(len: usize) -> HeaderValue {
    static LENGTHS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut digits = String::new();
        let mut ends = Vec::with_capacity(SHARED_LENGTHS + 1);
        for n in 0..=SHARED_LENGTHS {
            digits.push_str(&n.to_string());
            ends.push(digits.len());
        }
        let digits: &'static str = digits.leak();
        let mut start = 0;
        ends.into_iter()
            .map(|end| {
                let text = &digits[start..end];
                start = end;
                text
            })
            .collect()
    });
    match LENGTHS.get(len) {
        Some(text) => HeaderValue::from_static(text),
        None => HeaderValue::from(len),
    }
}

/// A JSON response serialised from `value`.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    // Serialising our own plain structs cannot fail; an empty object is the safe fallback.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_body(status, APPLICATION_JSON, body)
}

/// A response without a body: `Content-Length: 0`, except 204 and 304, which carry none.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_the_decimal_length_shared_or_not() {
        for len in [0, 1, 9, 10, 13, 999, 1000, 16383, 16384, 16385, 1_000_000] {
            assert_eq!(content_length(len), len.to_string().as_str(), "{len}");
        }
    }
}
