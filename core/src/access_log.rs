//! The access log: one Common Log Format line per request on stderr, as Apache, nginx and
//! Python's http.server write it: `127.0.0.1 - - [23/Nov/2026:20:45:13 +0000] "GET / HTTP/1.1" 200 1234`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;

use http::{Method, StatusCode, Uri, Version};
use time::OffsetDateTime;
use time::macros::format_description;

/// Formats one line; `bytes` is the body length sent, `-` when none.
pub fn line(
    peer: IpAddr,
    at: OffsetDateTime,
    method: &Method,
    target: &Uri,
    version: Version,
    status: StatusCode,
    bytes: Option<u64>,
) -> String {
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    let mut out = String::with_capacity(96);
    let _ = write!(out, "{peer} - - [{stamp}] \"{method} ");
    escape_into(
        &mut out,
        target.path_and_query().map_or("/", |pq| pq.as_str()),
    );
    let _ = write!(out, " {version:?}\" {} ", status.as_u16());
    match bytes {
        Some(n) if n > 0 => {
            let _ = write!(out, "{n}");
        }
        _ => out.push('-'),
    }
    out
}

/// Escapes quotes, backslashes and control characters as Apache does, so a line stays one line.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Writes a line to stderr; a failed write is dropped rather than failing the request.
pub fn write(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn common_log_format() {
        let uri: Uri = "/hello?name=Ada".parse().expect("uri");
        let line = line(
            "127.0.0.1".parse().expect("ip"),
            datetime!(2026-11-23 20:45:13 UTC),
            &Method::GET,
            &uri,
            Version::HTTP_11,
            StatusCode::OK,
            Some(1234),
        );
        assert_eq!(
            line,
            "127.0.0.1 - - [23/Nov/2026:20:45:13 +0000] \"GET /hello?name=Ada HTTP/1.1\" 200 1234"
        );
    }

    #[test]
    fn empty_bodies_and_odd_targets() {
        let uri: Uri = "/a%22b".parse().expect("uri");
        let line = line(
            "::1".parse().expect("ip"),
            datetime!(2026-01-02 03:04:05 UTC),
            &Method::HEAD,
            &uri,
            Version::HTTP_10,
            StatusCode::NO_CONTENT,
            None,
        );
        assert_eq!(
            line,
            "::1 - - [02/Jan/2026:03:04:05 +0000] \"HEAD /a%22b HTTP/1.0\" 204 -"
        );
    }
}
