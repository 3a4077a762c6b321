//! Assertions on responses: status, headers, exact bodies, JSON with its key order, problem
//! details, HTML error pages, and the section 1 conventions every response must follow.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::client::{Ctx, Resp};
use super::fail::{CheckResult, Failure};

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";
pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const JSON: &str = "application/json";

/// A problem details body, checked.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) detail: String,
    /// The `errors` member (422): `(field, message)` pairs.
    pub(crate) errors: Option<Vec<(String, String)>>,
}

impl Resp {
    /// The first value of a header, if it is valid text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header, lossily as text.
    pub(crate) fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// A short description for failure messages.
    pub(crate) fn excerpt(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let mut shown: String = body.chars().take(300).collect();
        if shown.len() < body.len() {
            shown.push_str("...");
        }
        format!(
            "status {}, Content-Type {:?}, body {:?}",
            self.status,
            self.header("content-type").unwrap_or("(none)"),
            shown
        )
    }

    pub(crate) fn status(&self, want: u16) -> CheckResult<&Self> {
        if self.status != want {
            fail!(
                "{}: expected status {want}, got {}",
                self.what,
                self.excerpt()
            );
        }
        Ok(self)
    }

    pub(crate) fn status_in(&self, allowed: &[u16]) -> CheckResult<&Self> {
        if !allowed.contains(&self.status) {
            fail!(
                "{}: expected a status in {allowed:?}, got {}",
                self.what,
                self.excerpt()
            );
        }
        Ok(self)
    }

    /// Exactly one header of that name, with exactly that value.
    pub(crate) fn header_is(&self, name: &str, want: &str) -> CheckResult<&Self> {
        let all = self.header_all(name);
        if all.len() != 1 || all[0] != want {
            fail!(
                "{}: expected header `{name}: {want}`, got {all:?}",
                self.what
            );
        }
        Ok(self)
    }

    pub(crate) fn no_header(&self, name: &str) -> CheckResult<&Self> {
        let all = self.header_all(name);
        if !all.is_empty() {
            fail!("{}: expected no `{name}` header, got {all:?}", self.what);
        }
        Ok(self)
    }

    /// A header that must be present; its value.
    pub(crate) fn must_header(&self, name: &str) -> CheckResult<&str> {
        match self.header(name) {
            Some(value) => Ok(value),
            None => fail!(
                "{}: expected a `{name}` header, there is none ({})",
                self.what,
                self.excerpt()
            ),
        }
    }

    pub(crate) fn content_type(&self, want: &str) -> CheckResult<&Self> {
        self.header_is("content-type", want)
    }

    pub(crate) fn body_is(&self, want: &[u8]) -> CheckResult<&Self> {
        if self.body != want {
            fail!(
                "{}: expected body {:?}, got {:?}",
                self.what,
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&self.body)
            );
        }
        Ok(self)
    }

    pub(crate) fn text(&self) -> CheckResult<&str> {
        match std::str::from_utf8(&self.body) {
            Ok(text) => Ok(text),
            Err(_) => fail!("{}: the body is not UTF-8", self.what),
        }
    }

    /// The body contains `needle` (as text).
    pub(crate) fn body_contains(&self, needle: &str) -> CheckResult<&Self> {
        if !self.text()?.contains(needle) {
            fail!(
                "{}: expected the body to contain {needle:?}; {}",
                self.what,
                self.excerpt()
            );
        }
        Ok(self)
    }

    /// No body, `Content-Length: 0` (or no `Content-Length` at all for 204 and 304).
    pub(crate) fn empty(&self) -> CheckResult<&Self> {
        if !self.body.is_empty() {
            fail!("{}: expected no body, got {}", self.what, self.excerpt());
        }
        if self.status == 204 || self.status == 304 {
            self.no_header("content-length")?;
        } else if !self.head {
            self.header_is("content-length", "0")?;
        }
        Ok(self)
    }

    pub(crate) fn json(&self) -> CheckResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Failure::fail(format!(
                "{}: the body is not JSON ({e}): {}",
                self.what,
                self.excerpt()
            ))
        })
    }

    /// A JSON object body whose members are exactly `keys`, in that order; the values.
    pub(crate) fn json_object(&self, keys: &[&str]) -> CheckResult<Vec<Value>> {
        let members = ordered_object(&self.body).map_err(|e| e.context(&self.what))?;
        let got: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        if got != keys {
            fail!(
                "{}: expected JSON members {keys:?} in that order, got {got:?}",
                self.what
            );
        }
        Ok(members.into_iter().map(|(_, v)| v).collect())
    }

    /// A JSON (`application/json`) response with exactly these members in order.
    pub(crate) fn json_doc(&self, keys: &[&str]) -> CheckResult<Vec<Value>> {
        self.content_type(JSON)?;
        self.json_object(keys)
    }

    /// The account document of `/login` and `/me`: `{"username","admin"}` for this user.
    pub(crate) fn account(&self, username: &str, admin: bool) -> CheckResult {
        let values = self.json_doc(&["username", "admin"])?;
        ensure_eq!(values[0], Value::from(username), "{}: username", self.what);
        ensure_eq!(values[1], Value::Bool(admin), "{}: admin", self.what);
        Ok(())
    }

    /// A problem details response: status, content type, members in order, compact
    /// serialisation, `type` `about:blank`, the given title (if any), a one-sentence detail.
    pub(crate) fn problem(&self, status: u16, title: Option<&str>) -> CheckResult<Problem> {
        self.status(status)?;
        self.content_type(PROBLEM_JSON)?;
        let problem = check_problem_body(&self.body, status).map_err(|e| e.context(&self.what))?;
        if let Some(title) = title {
            let got = problem_title(&self.body).unwrap_or_default();
            ensure!(
                got == title,
                "{}: expected problem title {title:?}, got {got:?}",
                self.what
            );
        }
        Ok(problem)
    }

    /// An HTML error page: status, `text/html; charset=utf-8`, showing status, title and
    /// the given detail, HTML-escaped.
    pub(crate) fn html_error(
        &self,
        status: u16,
        title: &str,
        detail: Option<&str>,
    ) -> CheckResult<&str> {
        self.status(status)?;
        self.content_type(HTML)?;
        let text = self.text()?;
        ensure!(
            text.contains(&status.to_string()),
            "{}: the HTML error page does not show the status {status}",
            self.what
        );
        ensure!(
            contains_escaped(text, title),
            "{}: the HTML error page does not show the title {title:?} (HTML-escaped)",
            self.what
        );
        if let Some(detail) = detail {
            ensure!(
                contains_escaped(text, detail),
                "{}: the HTML error page does not show the detail {detail:?} (HTML-escaped): {}",
                self.what,
                self.excerpt()
            );
        }
        Ok(text)
    }
}

impl Ctx {
    /// Section 1: `Server`, `Date`, `Content-Type`/`Content-Length` for bodies (never chunked),
    /// `Content-Length: 0` for empty bodies but 204/304, charset on text types, errors as
    /// problem details or HTML pages.
    pub(crate) fn conventions(&self, r: &Resp) -> CheckResult {
        self.conventions_inner(r)
            .map_err(|e| e.context(&format!("{} (conventions, SITE.md 1)", r.what)))
    }

    fn conventions_inner(&self, r: &Resp) -> CheckResult {
        let servers = r.header_all("server");
        match &self.target.backend {
            Some(backend) => {
                let want = format!("sitebench-{backend}");
                ensure!(
                    servers == [want.clone()],
                    "expected `Server: {want}`, got {servers:?}"
                );
            }
            None => ensure!(
                servers.len() == 1
                    && servers[0].starts_with("sitebench-")
                    && servers[0].len() > "sitebench-".len(),
                "expected one `Server: sitebench-<backend>`, got {servers:?}"
            ),
        }
        let dates = r.header_all("date");
        ensure!(dates.len() == 1, "expected one Date header, got {dates:?}");
        ensure!(
            imf_fixdate(&dates[0]).is_some(),
            "Date {:?} is not an IMF-fixdate",
            dates[0]
        );
        let te = r.header_all("transfer-encoding");
        ensure!(
            te.is_empty(),
            "expected no Transfer-Encoding (bodies carry Content-Length), got {te:?}"
        );
        let lengths = r.header_all("content-length");
        ensure!(
            lengths.len() <= 1,
            "expected at most one Content-Length, got {lengths:?}"
        );
        let length: Option<u64> = match lengths.first() {
            Some(text) => match text.parse() {
                Ok(n) => Some(n),
                Err(_) => fail!("unparsable Content-Length {text:?}"),
            },
            None => None,
        };
        if r.status == 204 || r.status == 304 {
            ensure!(
                length.is_none(),
                "a {} has no Content-Length, got {lengths:?}",
                r.status
            );
            ensure!(
                r.body.is_empty(),
                "a {} has no body, got {} bytes",
                r.status,
                r.body.len()
            );
        } else if r.head {
            ensure!(
                length.is_some(),
                "HEAD: expected the Content-Length GET would send, got none"
            );
        } else {
            let Some(length) = length else {
                fail!(
                    "expected Content-Length {} (Content-Length: 0 for an empty body), got none",
                    r.body.len()
                );
            };
            ensure!(
                length == r.body.len() as u64,
                "Content-Length {length} but the body has {} bytes",
                r.body.len()
            );
        }
        let has_body = if r.head {
            length.unwrap_or(0) > 0
        } else {
            !r.body.is_empty()
        };
        let types = r.header_all("content-type");
        ensure!(
            types.len() <= 1,
            "expected at most one Content-Type, got {types:?}"
        );
        if has_body {
            ensure!(
                types.len() == 1,
                "a response with a body needs a Content-Type"
            );
        }
        if let Some(content_type) = types.first()
            && content_type.to_ascii_lowercase().starts_with("text/")
        {
            ensure!(
                content_type.ends_with("; charset=utf-8"),
                "text type {content_type:?} must carry `; charset=utf-8`"
            );
        }
        if r.status >= 400 {
            let content_type = types.first().map(String::as_str).unwrap_or("");
            match content_type {
                PROBLEM_JSON => {
                    if !r.head {
                        check_problem_body(&r.body, r.status)?;
                    }
                }
                HTML => {
                    if !r.head {
                        let text = std::str::from_utf8(&r.body)
                            .map_err(|_| Failure::fail("the HTML error page is not UTF-8"))?;
                        ensure!(
                            text.contains(&r.status.to_string()),
                            "the HTML error page does not show the status {}",
                            r.status
                        );
                    }
                }
                other => fail!(
                    "an error must be `{PROBLEM_JSON}` (or `{HTML}` when Accept prefers HTML), got Content-Type {other:?}"
                ),
            }
        }
        Ok(())
    }
}

/// Checks a problem details body; its detail and errors.
fn check_problem_body(body: &[u8], status: u16) -> CheckResult<Problem> {
    let members = ordered_object(body)?;
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    let with_errors = keys == ["type", "title", "status", "detail", "errors"];
    ensure!(
        keys == ["type", "title", "status", "detail"] || with_errors,
        "problem members must be type, title, status, detail (+ errors for 422) in that order, got {keys:?}"
    );
    ensure!(
        members[0].1 == "about:blank",
        "problem type must be \"about:blank\", got {}",
        members[0].1
    );
    ensure!(
        members[1].1.as_str().is_some_and(|t| !t.is_empty()),
        "problem title must be a non-empty string, got {}",
        members[1].1
    );
    ensure!(
        members[2].1 == status,
        "problem status must be {status}, got {}",
        members[2].1
    );
    let detail = match members[3].1.as_str() {
        Some(detail) if !detail.trim().is_empty() => detail.to_owned(),
        _ => fail!(
            "problem detail must be a non-empty string, got {}",
            members[3].1
        ),
    };
    let compact = compact_object(&members);
    ensure!(
        compact.as_bytes() == body,
        "the problem body must be compact JSON ({compact}), got {:?}",
        String::from_utf8_lossy(body)
    );
    let errors = if with_errors {
        ensure!(
            status == 422,
            "only a 422 problem carries `errors`, this is a {status}"
        );
        let Some(list) = members[4].1.as_array() else {
            fail!("`errors` must be an array, got {}", members[4].1);
        };
        let mut pairs = Vec::new();
        for entry in list {
            let field = entry.get("field").and_then(Value::as_str);
            let message = entry.get("message").and_then(Value::as_str);
            match (field, message, entry.as_object().map(|o| o.len())) {
                (Some(field), Some(message), Some(2)) if !message.is_empty() => {
                    pairs.push((field.to_owned(), message.to_owned()))
                }
                _ => fail!(
                    "each `errors` entry must be {{\"field\":\"...\",\"message\":\"...\"}}, got {entry}"
                ),
            }
        }
        Some(pairs)
    } else {
        None
    };
    Ok(Problem { detail, errors })
}

fn problem_title(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("title")?.as_str().map(str::to_owned)
}

/// Compact JSON of an object with members in the given order.
pub(crate) fn compact_object(members: &[(String, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(key.as_str()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

/// The members of a top-level JSON object, in document order (duplicates kept).
pub(crate) fn ordered_object(body: &[u8]) -> CheckResult<Vec<(String, Value)>> {
    match serde_json::from_slice::<Ordered>(body) {
        Ok(Ordered(members)) => Ok(members),
        Err(e) => Err(Failure::fail(format!(
            "expected a JSON object, got {:?} ({e})",
            String::from_utf8_lossy(body)
                .chars()
                .take(300)
                .collect::<String>()
        ))),
    }
}

struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    members.push((key, value));
                }
                Ok(Ordered(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Ordered, A::Error> {
                Err(serde::de::Error::custom("an array, not an object"))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Whether `haystack` contains `text` HTML-escaped: `&`, `<`, `>` must be escaped (any
/// entity form), quotes may be.
pub(crate) fn contains_escaped(haystack: &str, text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    haystack
        .char_indices()
        .any(|(i, _)| matches_escaped(&haystack[i..], text))
}

fn matches_escaped(mut rest: &str, text: &str) -> bool {
    for c in text.chars() {
        let single = [c.to_string()];
        let alternatives: &[&str] = match c {
            '&' => &["&amp;", "&#38;", "&#x26;", "&#X26;"],
            '<' => &["&lt;", "&#60;", "&#x3c;", "&#x3C;", "&#X3C;"],
            '>' => &["&gt;", "&#62;", "&#x3e;", "&#x3E;", "&#X3E;"],
            '"' => &["\"", "&quot;", "&#34;", "&#x22;", "&#X22;"],
            '\'' => &["'", "&#39;", "&#x27;", "&#X27;", "&apos;"],
            _ => &[],
        };
        let matched = if alternatives.is_empty() {
            rest.strip_prefix(single[0].as_str())
        } else {
            alternatives.iter().find_map(|a| rest.strip_prefix(a))
        };
        match matched {
            Some(after) => rest = after,
            None => return false,
        }
    }
    true
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), strictly.
pub(crate) fn imf_fixdate(text: &str) -> Option<SystemTime> {
    let time = httpdate::parse_http_date(text).ok()?;
    (httpdate::fmt_http_date(time) == text).then_some(time)
}

pub(crate) fn fmt_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp (`Z` or `+00:00`), strictly.
pub(crate) fn rfc3339_utc(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    if !matches!(rest, "Z" | "z" | "+00:00") {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn unix(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_matching() {
        assert!(contains_escaped(
            "<p>a &lt;b&gt; &amp; 'c'</p>",
            "a <b> & 'c'"
        ));
        assert!(contains_escaped("x I&#39;m y", "I'm"));
        assert!(!contains_escaped("<p>a <b></p>", "a <b>"));
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_utc("2001-09-09T01:46:40.123Z"), Some(1_000_000_000));
        assert_eq!(rfc3339_utc("2001-09-09T01:46:40+02:00"), None);
        assert_eq!(rfc3339_utc("2001-09-09 01:46:40Z"), None);
    }

    #[test]
    fn ordered_members() {
        let members = ordered_object(br#"{"b":1,"a":2}"#).ok().map(|m| m.len());
        assert_eq!(members, Some(2));
        assert_eq!(
            compact_object(&ordered_object(br#"{"b": 1, "a":"x"}"#).unwrap_or_default()),
            r#"{"b":1,"a":"x"}"#
        );
    }
}
