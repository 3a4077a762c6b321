//! SITE.md section 4.3: `GET /status/{code}` and the reason-phrase table.

use serde_json::Value;
use site_core::Deviation;

use super::support::framework_reason;
use crate::client::{Ctx, RawConn, Resp};
use crate::expect::{JSON, compact_object, ordered_object};
use crate::fail::CheckResult;

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "4.3";

async fn status(cx: &Ctx, code: &str) -> CheckResult<Resp> {
    cx.get(&format!("/status/{code}")).await
}

/// Under `FrameworkStatusTable`, a code the framework cannot send is answered with the core's
/// `500`: `true` once that is checked, `false` when the caller checks the site's answer.
fn lacked_by_framework(cx: &Ctx, resp: &Resp, code: u16) -> CheckResult<bool> {
    if !cx
        .target
        .deviations
        .contains(&Deviation::FrameworkStatusTable)
        || framework_reason(code).is_some()
    {
        return Ok(false);
    }
    resp.problem(500, Some("Internal Server Error"))
        .map_err(|e| e.context("the declared deviation FrameworkStatusTable"))?;
    Ok(true)
}

/// `{"status":N,"title":T}` as compact JSON.
fn status_body(resp: &Resp, code: u16, title: &str) -> CheckResult {
    resp.status(code)?.content_type(JSON)?;
    let members = ordered_object(&resp.body)?;
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    ensure_eq!(
        keys,
        ["status", "title"],
        "{}: members of the body",
        resp.what
    );
    ensure_eq!(
        members[0].1,
        Value::from(code),
        "{}: status member",
        resp.what
    );
    ensure_eq!(
        members[1].1,
        Value::from(title),
        "{}: title member",
        resp.what
    );
    let compact = compact_object(&members);
    ensure!(
        compact.as_bytes() == resp.body,
        "{}: expected compact JSON {compact}",
        resp.what
    );
    Ok(())
}

pub(crate) async fn status_2xx_body(cx: &Ctx) -> CheckResult {
    for (code, title) in [
        (200, "OK"),
        (201, "Created"),
        (202, "Accepted"),
        (203, "Non-Authoritative Information"),
        (206, "Partial Content"),
        (226, "IM Used"),
    ] {
        status_body(&status(cx, &code.to_string()).await?, code, title)?;
    }
    Ok(())
}

pub(crate) async fn status_3xx_body_and_location(cx: &Ctx) -> CheckResult {
    for (code, title) in [
        (301, "Moved Permanently"),
        (302, "Found"),
        (303, "See Other"),
        (307, "Temporary Redirect"),
        (308, "Permanent Redirect"),
    ] {
        let resp = status(cx, &code.to_string()).await?;
        status_body(&resp, code, title)?;
        resp.header_is("location", "/")?;
    }
    status_body(&status(cx, "300").await?, 300, "Multiple Choices")?;
    let resp = status(cx, "305").await?;
    if !lacked_by_framework(cx, &resp, 305)? {
        status_body(&resp, 305, "Use Proxy")?;
    }
    Ok(())
}

/// 204 and 304: no body, no Content-Length; 205: no body, `Content-Length: 0`. On the wire,
/// the next response on the connection follows directly.
pub(crate) async fn status_without_body_codes(cx: &Ctx) -> CheckResult {
    for code in [204, 205, 304] {
        let resp = status(cx, &code.to_string()).await?;
        resp.status(code)?.empty()?;
        let head = cx.head(&format!("/status/{code}")).await?;
        head.status(code)?;
        let host = &cx.main.authority;
        let mut conn = RawConn::open(&cx.main).await?;
        conn.send(
            format!("GET /status/{code} HTTP/1.1\r\nHost: {host}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let first = conn.read_reply(false).await?.response()?;
        cx.conventions(&first)?;
        first.status(code)?.empty()?;
        let next = conn.read_reply(false).await?.response()?;
        ensure!(
            next.status == 200 && next.body.as_ref() == b"ok",
            "after GET /status/{code} the next response on the connection must be `200 ok`, got {} (was there a body?)",
            next.excerpt()
        );
    }
    Ok(())
}

pub(crate) async fn status_4xx_problem(cx: &Ctx) -> CheckResult {
    for (code, title) in [
        (400, "Bad Request"),
        (402, "Payment Required"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (409, "Conflict"),
        (410, "Gone"),
        (418, "I'm a teapot"),
        (451, "Unavailable For Legal Reasons"),
    ] {
        status(cx, &code.to_string())
            .await?
            .problem(code, Some(title))?;
    }
    Ok(())
}

pub(crate) async fn status_5xx_problem(cx: &Ctx) -> CheckResult {
    for (code, title) in [
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (502, "Bad Gateway"),
        (504, "Gateway Timeout"),
        (505, "HTTP Version Not Supported"),
        (511, "Network Authentication Required"),
    ] {
        status(cx, &code.to_string())
            .await?
            .problem(code, Some(title))?;
    }
    Ok(())
}

/// RFC 9110's phrases where they changed, and the IANA registry for the rest.
pub(crate) async fn status_titles_follow_rfc9110(cx: &Ctx) -> CheckResult {
    for (code, title) in [
        (413, "Content Too Large"),
        (414, "URI Too Long"),
        (415, "Unsupported Media Type"),
        (416, "Range Not Satisfiable"),
        (417, "Expectation Failed"),
        (421, "Misdirected Request"),
        (422, "Unprocessable Content"),
        (425, "Too Early"),
        (426, "Upgrade Required"),
        (428, "Precondition Required"),
        (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"),
        (408, "Request Timeout"),
        (412, "Precondition Failed"),
    ] {
        status(cx, &code.to_string())
            .await?
            .problem(code, Some(title))?;
    }
    status_body(&status(cx, "207").await?, 207, "Multi-Status")?;
    Ok(())
}

pub(crate) async fn status_unassigned_codes_titled(cx: &Ctx) -> CheckResult {
    for code in [299, 209, 399] {
        let resp = status(cx, &code.to_string()).await?;
        if !lacked_by_framework(cx, &resp, code)? {
            status_body(&resp, code, &format!("Status {code}"))?;
        }
    }
    for code in [420, 499, 599, 519] {
        let resp = status(cx, &code.to_string()).await?;
        if !lacked_by_framework(cx, &resp, code)? {
            resp.problem(code, Some(&format!("Status {code}")))?;
        }
    }
    Ok(())
}

pub(crate) async fn status_401_www_authenticate(cx: &Ctx) -> CheckResult {
    let resp = status(cx, "401").await?;
    resp.problem(401, Some("Unauthorized"))?;
    resp.header_is("www-authenticate", "Cookie realm=\"sitebench\"")?;
    Ok(())
}

pub(crate) async fn status_405_allow(cx: &Ctx) -> CheckResult {
    let resp = status(cx, "405").await?;
    resp.problem(405, Some("Method Not Allowed"))?;
    resp.header_is("allow", "GET, HEAD")?;
    Ok(())
}

pub(crate) async fn status_429_503_retry_after(cx: &Ctx) -> CheckResult {
    let resp = status(cx, "429").await?;
    resp.problem(429, Some("Too Many Requests"))?;
    resp.header_is("retry-after", "1")?;
    let resp = status(cx, "503").await?;
    resp.problem(503, Some("Service Unavailable"))?;
    resp.header_is("retry-after", "1")?;
    Ok(())
}

pub(crate) async fn status_1xx_is_400_informational(cx: &Ctx) -> CheckResult {
    for code in ["100", "101", "102", "103", "150", "199"] {
        let resp = status(cx, code).await?;
        let problem = resp.problem(400, Some("Bad Request"))?;
        ensure!(
            problem.detail.to_lowercase().contains("informational"),
            "{}: the detail must say a 1xx code is informational, got {:?}",
            resp.what,
            problem.detail
        );
    }
    Ok(())
}

pub(crate) async fn status_rejects_malformed_codes(cx: &Ctx) -> CheckResult {
    for code in [
        "2000",
        "20",
        "2",
        "abc",
        "099",
        "000",
        "050",
        "600",
        "999",
        "0200",
        "2e2",
        "+20",
        "-20",
        "%20200",
        "200%20",
        "20a",
        "%EF%BC%92%EF%BC%90%EF%BC%90",
        "0x1",
    ] {
        status(cx, code)
            .await?
            .problem(400, Some("Bad Request"))
            .map_err(|e| e.context(&format!("/status/{code}")))?;
    }
    // Not UTF-8, and a line break, once decoded: not three digits either, but a router that
    // matches `{code}` against the decoded segment may not route them at all.
    let unrouted = cx
        .target
        .deviations
        .contains(&Deviation::UndecodableSegmentUnrouted);
    for code in ["%FF", "2%0A0"] {
        let resp = status(cx, code).await?;
        let expected = if unrouted {
            resp.problem(404, Some("Not Found"))
                .map_err(|e| e.context("the declared deviation UndecodableSegmentUnrouted"))
        } else {
            resp.problem(400, Some("Bad Request"))
        };
        expected.map_err(|e| e.context(&format!("/status/{code}")))?;
    }
    Ok(())
}

/// The detail explains the code: different codes, different details.
pub(crate) async fn status_problem_detail_explains_code(cx: &Ctx) -> CheckResult {
    let mut seen: Vec<(u16, String)> = Vec::new();
    for code in [400, 401, 403, 404, 409, 413, 418, 429, 500, 503] {
        let problem = status(cx, &code.to_string()).await?.problem(code, None)?;
        if let Some((other, _)) = seen.iter().find(|(_, d)| *d == problem.detail) {
            fail!(
                "/status/{code} and /status/{other} have the same detail {:?}; each should explain its code",
                problem.detail
            );
        }
        seen.push((code, problem.detail));
    }
    Ok(())
}
