//! The status-code catalogue: the reason phrase that titles every problem on the site, the
//! sentence that explains when each error code is used, and the rules of `GET /status/{code}`.
//! Phrases follow RFC 9110 where it names the code, the IANA registry elsewhere, plus 418.

use http::StatusCode;

/// The reason phrase for `code`, or `None` for a code no standard names.
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// The status line's reason phrase where it differs from the one the frameworks write by
/// default (the `http` crate's `canonical_reason`): RFC 9110's newer names (`413 Content Too
/// Large`, `422 Unprocessable Content`), and an empty phrase for a code
/// no standard names, where frameworks write placeholders (`<none>`, `<unknown status
/// code>`). `None`: the default is already the site's, so adapters set nothing (setting a
/// phrase costs hyper an allocation per response).
pub fn custom_reason(status: StatusCode) -> Option<&'static str> {
    phrase_to_set(status.as_u16(), status.canonical_reason())
}

/// [`custom_reason`] against a framework's own default phrase: actix writes the phrases of
/// `http` 0.2, whose table is older than the core's `http` 1 (it has no `425 Too Early`).
pub fn phrase_to_set(code: u16, framework_default: Option<&str>) -> Option<&'static str> {
    let ours = reason_phrase(code).unwrap_or("");
    (framework_default != Some(ours)).then_some(ours)
}

/// The title of a problem or status body: the reason phrase, or `Status <code>`.
pub fn title(status: StatusCode) -> String {
    match reason_phrase(status.as_u16()) {
        Some(phrase) => phrase.to_owned(),
        None => format!("Status {}", status.as_u16()),
    }
}

/// One sentence saying when a server answers with this error code; the `detail` of
/// `/status/{code}` problems and the default detail of any problem.
pub fn explanation(code: u16) -> &'static str {
    specific_explanation(code).unwrap_or(if code < 500 {
        "A client error: the request cannot be fulfilled as sent."
    } else {
        "A server error: the server failed to fulfil a valid request."
    })
}

fn specific_explanation(code: u16) -> Option<&'static str> {
    Some(match code {
        400 => "The server cannot process the request because it is malformed.",
        401 => "The request lacks valid authentication credentials for the resource.",
        402 => "Reserved for future use; some services use it when payment is required.",
        403 => "The server understood the request but refuses to fulfil it.",
        404 => "The server has no resource at this path.",
        405 => "The resource exists but does not support this method.",
        406 => "The server cannot produce a representation the client said it accepts.",
        407 => "The client must first authenticate with the proxy.",
        408 => "The server timed out waiting for the complete request.",
        409 => "The request conflicts with the current state of the resource.",
        410 => "The resource was here but has been removed for good.",
        411 => "The server requires a Content-Length header for this request.",
        412 => "A precondition in the request headers was not met.",
        413 => "The request body is larger than the server is willing to read.",
        414 => "The request target is longer than the server is willing to interpret.",
        415 => "The request body is in a format the server does not support for this resource.",
        416 => "The requested range cannot be satisfied for this resource.",
        417 => "The expectation in the Expect header cannot be met.",
        418 => "The server is a teapot and refuses to brew coffee.",
        421 => "The request was sent to a server that cannot answer for this origin.",
        422 => "The request is well-formed but its content breaks the resource's rules.",
        423 => "The resource is locked.",
        424 => "The request failed because an earlier request it depends on failed.",
        425 => "The server will not process a request that might be replayed.",
        426 => "The client must switch to another protocol.",
        428 => "The server requires the request to be conditional.",
        429 => "The client has sent too many requests in a given time; retry later.",
        431 => "The request's header fields are too large.",
        451 => "The resource is unavailable for legal reasons.",
        500 => "The server met an unexpected condition that prevented it from answering.",
        501 => "The server does not support the functionality required, such as this method.",
        502 => "A gateway received an invalid response from the server behind it.",
        503 => "The server cannot handle the request right now; retry later.",
        504 => "A gateway did not receive a timely response from the server behind it.",
        505 => "The server does not support the HTTP version of the request.",
        506 => "The server's content negotiation is misconfigured.",
        507 => "The server cannot store what is needed to complete the request.",
        508 => "The server detected an infinite loop while processing the request.",
        510 => "The request needs further extensions to be fulfilled.",
        511 => "The client must authenticate to gain network access.",
        _ => return None,
    })
}

/// One sentence saying what `code` means, for every code the table names: the
/// [`explanation`] of an error code, and for 1xx to 3xx what the client should do next. The
/// status-code explorer (`/status-codes/`) lists these; error pages and `/status/{code}` say
/// the same words, so each code has one wording on the site.
pub fn meaning(code: u16) -> &'static str {
    match code {
        100 => "The server has the request's headers; the client may send the body.",
        101 => "The server switches to the protocol the client asked for in Upgrade.",
        102 => "The server has accepted the request and is still working on it.",
        103 => "Headers the final response will probably carry, sent early for preloading.",
        200 => "The request succeeded; the body is what was asked for.",
        201 => "The request created a new resource; Location says where it is.",
        202 => "The request was accepted for processing, which has not finished.",
        203 => "The body comes from a transforming proxy, not the origin server.",
        204 => "The request succeeded and there is no body to send.",
        205 => "The request succeeded; the client should reset the form it sent.",
        206 => "The body holds only the ranges the client asked for.",
        207 => "The body holds a status for each of several resources (WebDAV).",
        208 => "These members were already listed earlier in this reply (WebDAV).",
        226 => "The body is the result of instance manipulations on the resource.",
        300 => "The resource has several representations; the client should pick one.",
        301 => "The resource has moved for good to the URL in Location.",
        302 => "The resource is for now at the URL in Location.",
        303 => "The answer is at another URL, in Location, to get with GET.",
        304 => "The client's cached copy is still good; no body is sent.",
        305 => "Deprecated: the resource was to be reached through a proxy.",
        307 => "The resource is for now at the URL in Location; repeat the same method there.",
        308 => "The resource has moved for good to Location; repeat the same method there.",
        _ => explanation(code),
    }
}

/// Every code the table names, in order: what the status-code explorer lists.
pub fn named_codes() -> impl Iterator<Item = u16> {
    (100..=599).filter(|&code| reason_phrase(code).is_some())
}

/// What `GET /status/{code}` should answer, decided from the raw path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRequest {
    /// 200..=599: answer with this status.
    Final(StatusCode),
    /// 100..=199: a 1xx code cannot be a final response.
    Informational(u16),
    /// Not exactly three ASCII digits, under 100, or 600 and over.
    Invalid,
}

impl StatusRequest {
    pub fn parse(segment: &str) -> Self {
        let digits = segment.as_bytes();
        if digits.len() != 3 || !digits.iter().all(u8::is_ascii_digit) {
            return Self::Invalid;
        }
        let code = digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        match code {
            100..=199 => Self::Informational(code),
            200..=599 => StatusCode::from_u16(code).map_or(Self::Invalid, Self::Final),
            _ => Self::Invalid,
        }
    }
}

/// Codes whose responses never carry a body (and 204/304 not even `Content-Length`).
pub fn has_no_body(status: StatusCode) -> bool {
    matches!(status.as_u16(), 204 | 205 | 304)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9110_phrases_win_over_older_ones() {
        assert_eq!(reason_phrase(413), Some("Content Too Large"));
        assert_eq!(reason_phrase(422), Some("Unprocessable Content"));
        assert_eq!(reason_phrase(418), Some("I'm a teapot"));
        assert_eq!(reason_phrase(499), None);
        assert_eq!(
            title(StatusCode::from_u16(299).expect("valid")),
            "Status 299"
        );
    }

    #[test]
    fn status_segment_rules() {
        assert_eq!(
            StatusRequest::parse("404"),
            StatusRequest::Final(StatusCode::NOT_FOUND)
        );
        assert_eq!(StatusRequest::parse("599").to_string_code(), Some(599));
        assert_eq!(
            StatusRequest::parse("101"),
            StatusRequest::Informational(101)
        );
        for bad in [
            "",
            "20",
            "2000",
            "099",
            "600",
            "999",
            "20a",
            "+20",
            " 200",
            "２００",
        ] {
            assert_eq!(StatusRequest::parse(bad), StatusRequest::Invalid, "{bad:?}");
        }
    }

    #[test]
    fn every_error_code_has_a_distinct_explanation_where_named() {
        for code in 400..=599u16 {
            let sentence = explanation(code);
            assert!(sentence.ends_with('.'), "{code}");
        }
        assert_ne!(explanation(404), explanation(405));
    }

    #[test]
    fn every_named_code_has_its_own_meaning() {
        let codes: Vec<u16> = named_codes().collect();
        assert_eq!(codes.first(), Some(&100));
        assert_eq!(codes.last(), Some(&511));
        for (i, &code) in codes.iter().enumerate() {
            let sentence = meaning(code);
            assert!(sentence.ends_with('.'), "{code}: {sentence:?}");
            if let Some(&other) = codes[..i].iter().find(|&&c| meaning(c) == sentence) {
                panic!("{other} and {code} share the meaning {sentence:?}");
            }
        }
        assert_eq!(meaning(418), explanation(418));
    }

    impl StatusRequest {
        fn to_string_code(self) -> Option<u16> {
            match self {
                Self::Final(s) => Some(s.as_u16()),
                _ => None,
            }
        }
    }

    #[test]
    fn only_phrases_that_differ_from_the_frameworks_are_set() {
        let custom = |code| custom_reason(StatusCode::from_u16(code).expect("a status code"));
        assert_eq!(custom(200), None);
        assert_eq!(custom(404), None);
        assert_eq!(custom(413), Some("Content Too Large"));
        assert_eq!(custom(422), Some("Unprocessable Content"));
        assert_eq!(custom(418), None);
        assert_eq!(custom(599), Some(""));
        assert_eq!(phrase_to_set(425, None), Some("Too Early"));
        assert_eq!(phrase_to_set(425, Some("Too Early")), None);
    }

    proptest::proptest! {
        /// Only three ASCII digits from 200 to 599 are a final status, and they are that status.
        #[test]
        fn only_three_digits_in_range_are_final(segment in "\\PC{0,5}|[0-9]{1,4}") {
            if let StatusRequest::Final(status) = StatusRequest::parse(&segment) {
                proptest::prop_assert_eq!(status.as_str(), segment.as_str());
                proptest::prop_assert!((200..600).contains(&status.as_u16()));
            }
        }
    }
}
