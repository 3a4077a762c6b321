//! The life of one request around the routes, the same for every adapter: [`crate::Site::begin`]
//! before routing (the admission rules, and what the access log will need), then
//! [`Exchange::finish`] on whatever response goes out (`Server`, no `Content-Length` on 204 or
//! 304, the access-log line), with [`Exchange::panicked`] as the response when a handler
//! panicked. Each adapter calls these from its one hook around every request.

use std::net::IpAddr;

use http::header::HeaderValue;
use http::{HeaderMap, Method, StatusCode, Uri, Version};

use crate::access_log;
use crate::admission;
use crate::errors::SiteError;
use crate::reply::Reply;

/// What every exchange starts from, fixed when the site opens.
pub(crate) struct Lifecycle {
    server: HeaderValue,
    quiet: bool,
}

impl Lifecycle {
    /// `Err` is one line: a backend name that cannot be a header value.
    pub(crate) fn new(backend: &'static str, quiet: bool) -> Result<Self, String> {
        // Made once and leaked, so that each response's copy is free (a shared `Bytes` would
        // count references on every request).
        let server: &'static str = format!("sitebench-{backend}").leak();
        let server = HeaderValue::from_str(server)
            .map(|_| HeaderValue::from_static(server))
            .map_err(|_| format!("invalid backend name {backend:?}"))?;
        Ok(Self { server, quiet })
    }
}

impl Lifecycle {
    /// [`crate::Site::begin`]: the admission rules, and the exchange to finish.
    pub(crate) fn begin(
        &self,
        peer: IpAddr,
        method: &Method,
        uri: &Uri,
        version: Version,
        headers: &HeaderMap,
    ) -> (Exchange, Option<Reply>) {
        let (admitted, early) = match admission::admit(method, version, headers) {
            Ok(admitted) => (Some(admitted), None),
            Err(error) => (None, Some(error.render(headers))),
        };
        let exchange = Exchange {
            log: (!self.quiet).then(|| {
                Box::new(LogStart {
                    peer,
                    method: method.clone(),
                    uri: uri.clone(),
                    version,
                    at: time::OffsetDateTime::now_utc(),
                })
            }),
            accept: admitted.and_then(|a| a.accept.cloned()),
            head: *method == Method::HEAD,
            server: self.server.clone(),
        };
        (exchange, early)
    }
}

/// What an adapter keeps from `Site::begin` until the response is ready.
pub struct Exchange {
    /// Boxed: adapters carry the exchange across an await, and a small one is cheap to move.
    log: Option<Box<LogStart>>,
    /// For the `500` after a panic, which must still be HTML when HTML was asked for: kept
    /// as sent, and read only then.
    accept: Option<HeaderValue>,
    head: bool,
    server: HeaderValue,
}

/// The request line and its time, taken before routing: the access log names the request as
/// sent, whatever a framework rewrites on the way.
struct LogStart {
    peer: IpAddr,
    method: Method,
    uri: Uri,
    version: Version,
    at: time::OffsetDateTime,
}

impl Exchange {
    /// The end of every exchange: adds `Server`, drops a `Content-Length` a framework put on a
    /// 204 or 304 (they carry none), and writes the access-log line with the body's length
    /// (`body_len`, as the framework knows it: the core leaves `Content-Length` to it).
    pub fn finish(self, status: StatusCode, body_len: Option<u64>, headers: &mut HeaderMap) {
        headers.insert(http::header::SERVER, self.server);
        let bodiless = matches!(status.as_u16(), 204 | 304);
        if bodiless {
            headers.remove(http::header::CONTENT_LENGTH);
        }
        if let Some(log) = self.log {
            access_log::write(&access_log::line(
                log.peer,
                log.at,
                &log.method,
                &log.uri,
                log.version,
                status,
                body_len.filter(|_| !self.head && !bodiless),
            ));
        }
    }

    /// The `500` for a handler that panicked; the server goes on serving.
    pub fn panicked(&self) -> Reply {
        let mut request = HeaderMap::new();
        if let Some(accept) = &self.accept {
            request.insert(http::header::ACCEPT, accept.clone());
        }
        SiteError::Panicked.render(&request)
    }
}
