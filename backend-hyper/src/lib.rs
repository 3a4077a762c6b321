//! The sitebench site on hyper 1 alone, the no-framework baseline the other backends are
//! measured against: a `match` on the path as sent for the route table, path parameters
//! decoded and POST bodies limited by hand, one hook around every request (the core's
//! admission rules, `Server`, access log, panics), and hyper's HTTP/1 server with a
//! header-read timeout and graceful shutdown. What a framework does for the other adapters is
//! written here in as few lines and allocations as it takes, so that the difference in cost
//! is the framework's.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use percent_encoding::percent_decode_str;
use site_core::server::{GRACE, HEADER_READ_TIMEOUT, block_on_tokio};
use site_core::{Allow, BODY_LIMIT, Backend, BodyError, Deviation, Ready, Reply, Shutdown, Site};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "hyper",
    serve,
    deviations: &DEVIATIONS,
};

/// hyper lets every line of the contract be met: nothing to declare.
pub const DEVIATIONS: [Deviation; 0] = [];

/// hyper wants a `Body`: `Full` sends the core's bytes as one frame of known length.
pub type Response = http::Response<Full<Bytes>>;

/// The site's routes, in the order of SITE.md section 4, matched on the path as sent (so
/// `/hell%6F` and `/hello/` are static paths). Methods other than GET, HEAD and POST never
/// get here (`around` answers 501), so each route only adds the other of the two.
pub async fn app(site: &Site, request: Request<Incoming>) -> Response {
    let (request, body) = request.into_parts();
    let (route, param) = template(request.uri.path());
    let (read, headers) = (request.method != Method::POST, &request.headers);
    debug_assert!(matches!(
        request.method,
        Method::GET | Method::HEAD | Method::POST
    ));
    match route {
        "/hello" if read => hello(site, request.uri.query(), headers),
        "/users" if !read => sign_up(site, headers, body).await,
        "/users/{username}" if read => user(site, param, headers).await,
        "/login" if !read => login(site, headers, body).await,
        "/logout" if !read => logout(site, headers, body).await,
        "/me" if read => me(site, headers).await,
        "/admin" if read => admin(site, headers).await,
        "/status/{code}" if read => status(site, param, headers),
        "/teapot" if read => teapot(site, headers),
        "/plaintext" if read => plaintext(site),
        "/json" if read => json(site),
        "/healthz" if read => healthz(site),
        "/openapi.json" if read => openapi(site),
        "/users" | "/login" | "/logout" => not_post(site, headers),
        "/hello" | "/users/{username}" | "/me" | "/admin" | "/status/{code}" | "/teapot"
        | "/plaintext" | "/json" | "/healthz" | "/openapi.json" => not_get(site, headers),
        _ => static_file(site, &request.method, &request.uri, headers).await,
    }
}

fn hello(site: &Site, query: Option<&str>, headers: &HeaderMap) -> Response {
    reply(site.hello(query, headers))
}

async fn sign_up(site: &Site, headers: &HeaderMap, body: Incoming) -> Response {
    reply(site.sign_up(headers, body_of(body).await).await)
}

async fn user(site: &Site, username: &str, headers: &HeaderMap) -> Response {
    reply(site.user(&segment(username), headers).await)
}

async fn login(site: &Site, headers: &HeaderMap, body: Incoming) -> Response {
    reply(site.login(headers, body_of(body).await).await)
}

async fn logout(site: &Site, headers: &HeaderMap, body: Incoming) -> Response {
    reply(site.logout(headers, body_of(body).await).await)
}

async fn me(site: &Site, headers: &HeaderMap) -> Response {
    reply(site.me(headers).await)
}

async fn admin(site: &Site, headers: &HeaderMap) -> Response {
    reply(site.admin(headers).await)
}

fn status(site: &Site, code: &str, headers: &HeaderMap) -> Response {
    reply(site.status(&segment(code), headers))
}

fn teapot(site: &Site, headers: &HeaderMap) -> Response {
    reply(site.teapot(headers))
}

fn plaintext(site: &Site) -> Response {
    reply(site.plaintext())
}

fn json(site: &Site) -> Response {
    reply(site.json())
}

fn healthz(site: &Site) -> Response {
    reply(site.healthz())
}

fn openapi(site: &Site) -> Response {
    reply(site.openapi())
}

async fn static_file(site: &Site, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    reply(site.static_file(method, uri, headers).await)
}

fn not_get(site: &Site, headers: &HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::GetHead, headers))
}

fn not_post(site: &Site, headers: &HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::Post, headers))
}

// ----- around every request ------------------------------------------------------------------

/// Around every request, before routing: the core's admission rules (Host, 431, 501), panics
/// turned into the core's 500, then `Server` and the access log. hyper itself would close
/// the connection on a panic without answering.
async fn around(
    site: Site,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response, Infallible> {
    let (exchange, early) = site.begin(
        peer.ip(),
        request.method(),
        request.uri(),
        request.version(),
        request.headers(),
    );
    let mut response = match early {
        Some(refused) => reply(refused),
        None => AssertUnwindSafe(app(&site, request))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| reply(exchange.panicked())),
    };
    let length = response.body().size_hint().exact();
    exchange.finish(response.status(), length, response.headers_mut());
    // hyper writes the `http` crate's phrase unless the response carries its own
    // (hyper-1.12 src/proto/h1/role.rs, `Server::encode` reads `ext::ReasonPhrase`).
    if let Some(phrase) = site_core::status_codes::custom_reason(response.status()) {
        let phrase = hyper::ext::ReasonPhrase::from_static(phrase.as_bytes());
        response.extensions_mut().insert(phrase);
    }
    Ok(response)
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown`, on the core's tokio runtime with `--workers` threads.
pub fn serve(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    block_on_tokio(site.workers(), run(listener, site, shutdown, ready))
}

async fn run(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    ready.listening(listener.local_addr()?);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => { tokio::time::sleep(std::time::Duration::from_millis(10)).await; continue }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let site = site.clone();
        let service = service_fn(move |request| around(site.clone(), peer, request));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    Ok(())
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as is: hyper writes `Content-Length` from the body's length, and sends the
/// headers without the body for HEAD.
fn reply(reply: Reply) -> Response {
    reply.map(Full::new)
}

/// The POST body, limited while it is read whatever the framing: an announced length over
/// the limit is refused unread (no `100 Continue` either), any other body stops at the first
/// frame that passes it.
async fn body_of(body: Incoming) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > BODY_LIMIT as u64 {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The path parameter percent-decoded, as axum's `Path<String>` gives it, or as sent when it
/// does not decode to UTF-8 (the core then refuses it as it would any malformed value).
fn segment(sent: &str) -> Cow<'_, str> {
    percent_decode_str(sent)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(sent))
}

/// A path of one of the two routes with a parameter as the table spells it, with the segment
/// as sent: one non-empty segment after the prefix, as axum's router matches `{param}`. Any
/// other path is its own route (or none).
fn template(path: &str) -> (&str, &str) {
    for (prefix, template) in [
        ("/users/", "/users/{username}"),
        ("/status/", "/status/{code}"),
    ] {
        match path.strip_prefix(prefix) {
            Some(param) if !param.is_empty() && !param.contains('/') => {
                return (template, param);
            }
            _ => {}
        }
    }
    (path, "")
}
