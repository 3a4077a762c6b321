//! Every way a request can fail, and the one mapping from each to its status code, detail
//! sentence and extra headers. Handlers return `SiteError`; nothing else picks error statuses.

use http::header::{ALLOW, CONNECTION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};

use crate::problem::{FieldError, Problem};
use crate::reply::Reply;

/// The challenge every `401` carries.
pub const WWW_AUTHENTICATE_VALUE: &str = "Cookie realm=\"sitebench\"";

/// The methods a route answers, for `405` and its `Allow` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    GetHead,
    Post,
}

impl Allow {
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GetHead => "GET, HEAD",
            Self::Post => "POST",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteError {
    NotFound,
    MethodNotAllowed(Allow),
    NotImplemented,
    MissingHost,
    DuplicateHost,
    CrossSite,
    UnsupportedMediaType(&'static str),
    ContentTooLarge,
    /// A header section over `HEADER_SECTION_BYTES` or with more than `HEADER_FIELDS`.
    HeaderSectionTooLarge,
    MalformedBody(String),
    BadQuery(&'static str),
    RulesBroken(Vec<FieldError>),
    UsernameTaken,
    BadCredentials,
    NotSignedIn,
    NotAdmin,
    Throttled {
        retry_after_secs: u64,
    },
    InformationalStatus,
    InvalidStatus,
    /// A failure of ours (SQLite, a hashing thread, argon2), with its cause: the client gets
    /// the generic problem, and the cause goes to stderr when the 500 is rendered.
    Internal(String),
    Panicked,
}

impl SiteError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::MissingHost
            | Self::DuplicateHost
            | Self::MalformedBody(_)
            | Self::BadQuery(_)
            | Self::InformationalStatus
            | Self::InvalidStatus => StatusCode::BAD_REQUEST,
            Self::CrossSite | Self::NotAdmin => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ContentTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::HeaderSectionTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::RulesBroken(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UsernameTaken => StatusCode::CONFLICT,
            Self::BadCredentials | Self::NotSignedIn => StatusCode::UNAUTHORIZED,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) | Self::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(self) -> Problem {
        let problem = Problem::new(self.status());
        match self {
            Self::NotFound => problem.detail("There is no page at this path."),
            Self::MethodNotAllowed(allow) => problem
                .detail("This resource does not support this method; see the Allow header.")
                .header(ALLOW, allow.header_value()),
            Self::NotImplemented => {
                problem.detail("The site implements only the GET, HEAD and POST methods.")
            }
            Self::MissingHost => problem.detail("An HTTP/1.1 request must carry a Host header."),
            Self::DuplicateHost => problem.detail("A request must not carry two Host headers."),
            Self::CrossSite => problem
                .detail("Cross-site form posts are refused.")
                .next_step(
                    "<p>Send the form from this site's own pages: the browser said it came from \
                 another site (<code>Origin</code>, <code>Sec-Fetch-Site</code>), and logging \
                 in would not change that. <a href=\"/#forms\">The forms are on the home \
                 page</a>.</p>",
                ),
            Self::UnsupportedMediaType(why) => problem.detail(why),
            // The rest of the body is never read (SITE.md 7): the connection must end with it.
            Self::ContentTooLarge => problem
                .detail("The request body is larger than 16384 bytes.")
                .header(CONNECTION, HeaderValue::from_static("close")),
            Self::HeaderSectionTooLarge => problem
                .detail("The request's header section is over 32 KiB or has over 100 fields.")
                .header(CONNECTION, HeaderValue::from_static("close")),
            Self::MalformedBody(why) => problem.detail(why),
            Self::BadQuery(why) => problem.detail(why),
            Self::RulesBroken(errors) => problem
                .detail("The submitted fields break the site's rules; see errors.")
                .errors(errors),
            Self::UsernameTaken => problem.detail("That username is already taken."),
            Self::BadCredentials => problem.detail("The username or password is wrong.").header(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE_VALUE),
            ),
            Self::NotSignedIn => problem
                .detail("This page needs a valid session; log in first.")
                .header(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(WWW_AUTHENTICATE_VALUE),
                ),
            Self::NotAdmin => problem.detail("This page is for admins only."),
            Self::Throttled { retry_after_secs } => problem
                .detail("Too many failed logins for this username; retry later.")
                .header(RETRY_AFTER, HeaderValue::from(retry_after_secs)),
            Self::InformationalStatus => {
                problem.detail("A 1xx code is informational and cannot be a final response.")
            }
            Self::InvalidStatus => {
                problem.detail("The code must be exactly three digits from 200 to 599.")
            }
            Self::Internal(_) => problem.detail("The server failed to complete the request."),
            Self::Panicked => {
                problem.detail("The handler failed unexpectedly; the server goes on.")
            }
        }
    }

    /// Renders for the request whose headers are given (JSON or HTML, see `problem`).
    /// A 500 of ours also writes its cause on stderr, one line, even under `--quiet`
    /// (SITE.md 1): otherwise nobody learns why (a panic's line is the panic hook's, `server`).
    pub fn render(self, request: &HeaderMap) -> Reply {
        if let Self::Internal(cause) = &self {
            eprintln!("sitebench: 500 Internal Server Error: {cause}");
        }
        self.problem().render(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_always_challenges() {
        for error in [SiteError::BadCredentials, SiteError::NotSignedIn] {
            let reply = error.render(&HeaderMap::new());
            assert_eq!(reply.status(), 401);
            assert_eq!(reply.headers()[WWW_AUTHENTICATE], WWW_AUTHENTICATE_VALUE);
        }
    }

    #[test]
    fn throttle_says_when_to_retry() {
        let reply = SiteError::Throttled {
            retry_after_secs: 42,
        }
        .render(&HeaderMap::new());
        assert_eq!(reply.status(), 429);
        assert_eq!(reply.headers()[RETRY_AFTER], "42");
    }
}
