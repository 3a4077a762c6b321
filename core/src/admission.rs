//! What every request must satisfy before any route sees it: a header section within 32 KiB
//! and 100 fields (else `431`), a method the site implements (else `501`, as Python's
//! `BaseHTTPRequestHandler` answers), exactly one `Host` header in HTTP/1.1 (else `400`), and
//! for `POST` routes, not being a cross-site post (else `403`).

use http::header::{ACCEPT, HOST, HeaderValue, ORIGIN};
use http::{HeaderMap, Method, Version};

use crate::errors::SiteError;

/// The most a request's header section may hold (SITE.md 7): its bytes from the end of the
/// request line to the blank line, and its fields. Every framework's own parser allows more
/// (hyper up to about 400 KB, actix 128 KiB), so the rule is the core's.
pub const HEADER_SECTION_BYTES: usize = 32 * 1024;
pub const HEADER_FIELDS: usize = 100;

/// What the exchange keeps of an admitted request's header section.
#[derive(Debug, PartialEq, Eq)]
pub struct Admitted<'h> {
    /// The first `Accept`, for the `500` after a panic (HTML when HTML was asked for).
    pub accept: Option<&'h HeaderValue>,
}

/// The header-section rule, the `Host` rule, then the method rule; checked for every request
/// on every path. The fields are read in one pass, which also finds `Accept`: a lookup by
/// name would hash the name again, and every request pays for this.
pub fn admit<'h>(
    method: &Method,
    version: Version,
    headers: &'h HeaderMap,
) -> Result<Admitted<'h>, SiteError> {
    if headers.len() > HEADER_FIELDS {
        return Err(SiteError::HeaderSectionTooLarge);
    }
    // The blank line's CRLF, then `name: value` and CRLF per field, as parsed (whitespace
    // around values, which parsers drop, is not counted).
    let (mut bytes, mut hosts, mut accept) = (2, 0, None);
    for (name, value) in headers {
        bytes += name.as_str().len() + 2 + value.len() + 2;
        if name == HOST {
            hosts += 1;
        } else if name == ACCEPT && accept.is_none() {
            accept = Some(value);
        }
    }
    if bytes > HEADER_SECTION_BYTES {
        return Err(SiteError::HeaderSectionTooLarge);
    }
    if hosts > 1 {
        return Err(SiteError::DuplicateHost);
    }
    if hosts == 0 && version == Version::HTTP_11 {
        return Err(SiteError::MissingHost);
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::POST) {
        return Err(SiteError::NotImplemented);
    }
    Ok(Admitted { accept })
}

/// The CSRF rule of SITE.md section 7, for the site's `POST` routes: refuse a post that the
/// browser marks as cross-site, or whose `Origin` is not the host it was sent to.
pub fn same_origin_post(headers: &HeaderMap) -> Result<(), SiteError> {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site {
        return Err(SiteError::CrossSite);
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().ok().and_then(Authority::from_origin);
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) if origin.matches_host(host) => Ok(()),
        _ => Err(SiteError::CrossSite),
    }
}

/// Host and port of an `Origin` (`scheme://host[:port]`), the port defaulted by scheme.
#[derive(Debug, PartialEq, Eq)]
struct Authority {
    host: String,
    port: u16,
    default_port: u16,
}

impl Authority {
    fn from_origin(origin: &str) -> Option<Self> {
        let (scheme, rest) = origin.split_once("://")?;
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = split_host_port(rest)?;
        Some(Self {
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            default_port,
        })
    }

    fn matches_host(&self, host_header: &str) -> bool {
        split_host_port(host_header).is_some_and(|(host, port)| {
            host.eq_ignore_ascii_case(&self.host) && port.unwrap_or(self.default_port) == self.port
        })
    }
}

/// Splits `host[:port]`, keeping IPv6 literals in brackets whole.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let rest = &authority[end..];
        (&authority[..end], rest.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains('/') {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `admit` without what it keeps, for the rules alone.
    fn admitted(method: &Method, version: Version, headers: &HeaderMap) -> Result<(), SiteError> {
        admit(method, version, headers).map(drop)
    }

    #[test]
    fn the_first_accept_is_kept_from_the_same_pass() {
        let mut h = headers(&[("host", "a"), ("accept", "text/html")]);
        h.append(ACCEPT, HeaderValue::from_static("application/json"));
        let kept = admit(&Method::GET, Version::HTTP_11, &h).map(|a| a.accept.cloned());
        assert_eq!(kept, Ok(Some(HeaderValue::from_static("text/html"))));
        let none = headers(&[("host", "a")]);
        assert_eq!(
            admit(&Method::GET, Version::HTTP_11, &none),
            Ok(Admitted { accept: None })
        );
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn host_rules_by_version() {
        let none = HeaderMap::new();
        assert_eq!(
            admitted(&Method::GET, Version::HTTP_11, &none),
            Err(SiteError::MissingHost)
        );
        assert_eq!(admitted(&Method::GET, Version::HTTP_10, &none), Ok(()));
        let two = headers(&[("host", "a"), ("host", "b")]);
        assert_eq!(
            admitted(&Method::GET, Version::HTTP_10, &two),
            Err(SiteError::DuplicateHost)
        );
    }

    #[test]
    fn only_get_head_post_are_implemented() {
        let h = headers(&[("host", "a")]);
        for m in ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"] {
            let method = Method::from_bytes(m.as_bytes()).expect("token");
            assert_eq!(
                admitted(&method, Version::HTTP_11, &h),
                Err(SiteError::NotImplemented),
                "{m}"
            );
        }
        assert_eq!(admitted(&Method::HEAD, Version::HTTP_11, &h), Ok(()));
    }

    #[test]
    fn csrf_compares_origin_with_host() {
        let ok = |pairs| same_origin_post(&headers(pairs)).is_ok();
        assert!(ok(&[("host", "127.0.0.1:8080")]));
        assert!(ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(ok(&[
            ("host", "Example.com"),
            ("origin", "http://example.com:80")
        ]));
        assert!(ok(&[
            ("host", "[::1]:8080"),
            ("origin", "http://[::1]:8080")
        ]));
        assert!(ok(&[("host", "a"), ("sec-fetch-site", "same-site")]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9090")
        ]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example:8080")
        ]));
        // A bare Host takes the Origin scheme's default port (TLS may end at a proxy).
        assert!(ok(&[
            ("host", "example.com"),
            ("origin", "https://example.com")
        ]));
        assert!(!ok(&[
            ("host", "example.com"),
            ("origin", "https://example.com:8443")
        ]));
        assert!(!ok(&[("host", "a"), ("origin", "null")]));
        assert!(!ok(&[("host", "a"), ("sec-fetch-site", "Cross-Site")]));
    }

    #[test]
    fn a_header_section_over_32_kib_or_100_fields_is_refused() {
        let with = |fields: usize, value_len: usize| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, http::HeaderValue::from_static("x"));
            for i in 1..fields {
                let name = http::HeaderName::try_from(format!("x-f{i}")).expect("a name");
                let value = http::HeaderValue::try_from("v".repeat(value_len)).expect("a value");
                headers.append(name, value);
            }
            admitted(&Method::GET, Version::HTTP_11, &headers)
        };
        assert_eq!(with(100, 10), Ok(()));
        assert_eq!(with(101, 10), Err(SiteError::HeaderSectionTooLarge));
        // One field of 30,000 bytes passes; of 33,000 it does not.
        assert_eq!(with(2, 30_000), Ok(()));
        assert_eq!(with(2, 33_000), Err(SiteError::HeaderSectionTooLarge));
    }
}
