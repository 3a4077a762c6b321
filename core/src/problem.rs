//! Problem details (RFC 9457): the one shape every error on the site takes, rendered as
//! `application/problem+json`, or as an HTML page when the request prefers HTML.

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::negotiation::prefers_html;
use crate::reply::{self, Reply};
use crate::{pages, status_codes};

/// One broken rule of a submitted form, listed under the problem member `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    #[serde(skip)]
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Asked for on purpose (`/status/{code}`): nothing went wrong, so the HTML page does
    /// not tell the reader how to recover.
    #[serde(skip)]
    demonstration: bool,
    /// What the HTML page tells the reader to do, where the status alone does not say
    /// (`pages` words the usual next step of each status).
    #[serde(skip)]
    next_step: Option<&'static str>,
}

impl Problem {
    /// A problem for `status`, titled by the catalogue, with its default explanation.
    pub fn new(status: StatusCode) -> Self {
        Self {
            kind: "about:blank",
            title: status_codes::title(status),
            status: status.as_u16(),
            detail: status_codes::explanation(status.as_u16()).to_owned(),
            errors: Vec::new(),
            headers: Vec::new(),
            demonstration: false,
            next_step: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Marks the problem as one the client asked for (`/status/{code}`).
    pub fn demonstration(mut self) -> Self {
        self.demonstration = true;
        self
    }

    /// The HTML page's advice, as HTML, for a cause its status shares with others.
    pub fn next_step(mut self, html: &'static str) -> Self {
        self.next_step = Some(html);
        self
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Renders for the request whose headers are given: JSON, or HTML when preferred.
    pub fn render(self, request: &HeaderMap) -> Reply {
        let status = self.status();
        let mut reply = if prefers_html(request) {
            let header = |name: HeaderName| {
                self.headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, value)| value.to_str().ok())
            };
            let context = pages::ErrorContext {
                errors: self.errors.iter().map(|e| (e.field, e.message)).collect(),
                retry_after: header(http::header::RETRY_AFTER),
                allow: header(http::header::ALLOW),
                demonstration: self.demonstration,
                next_step: self.next_step,
            };
            reply::with_body(
                status,
                reply::TEXT_HTML,
                pages::error(self.status, &self.title, &self.detail, &context),
            )
        } else {
            let body = serde_json::to_vec(&self).unwrap_or_default();
            reply::with_body(status, reply::PROBLEM_JSON, body)
        };
        for (name, value) in self.headers {
            reply.headers_mut().append(name, value);
        }
        reply::negotiated(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{ACCEPT, CONTENT_TYPE};

    #[test]
    fn json_members_in_contract_order() {
        let reply = Problem::new(StatusCode::IM_A_TEAPOT)
            .detail("Short and stout.")
            .render(&HeaderMap::new());
        assert_eq!(reply.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            reply.body().as_ref(),
            br#"{"type":"about:blank","title":"I'm a teapot","status":418,"detail":"Short and stout."}"#
        );
    }

    #[test]
    fn errors_member_only_when_there_are_errors() {
        let reply = Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .errors(vec![FieldError {
                field: "username",
                message: "too short",
            }])
            .render(&HeaderMap::new());
        let text = std::str::from_utf8(reply.body()).expect("utf-8");
        assert!(text.ends_with(r#","errors":[{"field":"username","message":"too short"}]}"#));
    }

    #[test]
    fn html_when_preferred_with_escaping() {
        let mut request = HeaderMap::new();
        request.insert(ACCEPT, HeaderValue::from_static("text/html"));
        let reply = Problem::new(StatusCode::NOT_FOUND)
            .detail("No <file> here.")
            .render(&request);
        assert_eq!(reply.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let text = std::str::from_utf8(reply.body()).expect("utf-8");
        assert!(text.contains("404 Not Found") && text.contains("No &lt;file&gt; here."));
    }
}
