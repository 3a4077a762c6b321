//! The sitebench site on warp 0.4: the site's routes as filters composed with `.or`, the `Site`
//! shared through `warp::any().map(..)`, a static fallback that claims whatever the routes leave,
//! `recover` as the last net under it, and `warp::service` served by hyper's HTTP/1 server with a
//! header-read timeout and graceful shutdown, behind one hook around every request (the core's
//! admission rules, `Server`, access log, panics). Every handler extracts, calls the core, and
//! converts its `Reply`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{FutureExt, Stream, StreamExt};
use http::{HeaderMap, Method, Request, Uri};
use hyper::body::{Body as _, Incoming};
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use percent_encoding::percent_decode_str;
use site_core::server::{GRACE, HEADER_READ_TIMEOUT, block_on_tokio};
use site_core::{
    Allow, BODY_LIMIT, Backend, BodyError, Deviation, Ready, Reply, Shutdown, Site, SiteError,
};
use warp::filters::BoxedFilter;
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply as _, path};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "warp",
    serve,
    deviations: &DEVIATIONS,
};

/// warp lets every line of the contract be met: nothing to declare.
pub const DEVIATIONS: [Deviation; 0] = [];

/// One route (or the whole table), boxed: long `.or` chains of unboxed filters compile slowly.
pub type Route = BoxedFilter<(Response,)>;

/// The site's routes, in the order of SITE.md section 4. Methods other than GET, HEAD and
/// POST never get here (`around` answers 501), so each route only adds the other of the two.
/// `path("users")` and `path("status")` are prefixes: `segment` ends the path.
#[rustfmt::skip] // one route a line, as in the other backends' tables
pub fn app(site: Site) -> Route {
    let s = || with_site(site.clone());
    let table = get(path!("hello"), s().and(raw_query()).and(headers()).then(hello), &site)
        .or(post(path!("users"), s().and(headers()).and(body()).then(sign_up), &site)).unify()
        .or(get(path("users"), s().and(segment()).and(headers()).then(user), &site)).unify()
        .or(post(path!("login"), s().and(headers()).and(body()).then(login), &site)).unify()
        .or(post(path!("logout"), s().and(headers()).and(body()).then(logout), &site)).unify()
        .or(get(path!("me"), s().and(headers()).then(me), &site)).unify()
        .or(get(path!("admin"), s().and(headers()).then(admin), &site)).unify()
        .or(get(path("status"), s().and(segment()).and(headers()).then(status), &site)).unify()
        .or(get(path!("teapot"), s().and(headers()).then(teapot), &site)).unify()
        .or(get(path!("plaintext"), s().then(plaintext), &site)).unify()
        .or(get(path!("json"), s().then(json), &site)).unify()
        .or(get(path!("healthz"), s().then(healthz), &site)).unify()
        .or(get(path!("openapi.json"), s().then(openapi), &site)).unify()
        .boxed();
    let fallback = s().and(warp::method()).and(uri()).and(headers()).then(static_file);
    exact().and(table).or(fallback).unify().recover(unclaimed).unify().boxed()
}

async fn hello(site: Site, query: Option<String>, headers: HeaderMap) -> Response {
    reply(site.hello(query.as_deref(), &headers))
}

async fn sign_up(site: Site, headers: HeaderMap, body: Result<Bytes, BodyError>) -> Response {
    reply(site.sign_up(&headers, body).await)
}

async fn user(site: Site, username: String, headers: HeaderMap) -> Response {
    reply(site.user(&username, &headers).await)
}

async fn login(site: Site, headers: HeaderMap, body: Result<Bytes, BodyError>) -> Response {
    reply(site.login(&headers, body).await)
}

async fn logout(site: Site, headers: HeaderMap, body: Result<Bytes, BodyError>) -> Response {
    reply(site.logout(&headers, body).await)
}

async fn me(site: Site, headers: HeaderMap) -> Response {
    reply(site.me(&headers).await)
}

async fn admin(site: Site, headers: HeaderMap) -> Response {
    reply(site.admin(&headers).await)
}

async fn status(site: Site, code: String, headers: HeaderMap) -> Response {
    reply(site.status(&code, &headers))
}

async fn teapot(site: Site, headers: HeaderMap) -> Response {
    reply(site.teapot(&headers))
}

async fn plaintext(site: Site) -> Response {
    reply(site.plaintext())
}

async fn json(site: Site) -> Response {
    reply(site.json())
}

async fn healthz(site: Site) -> Response {
    reply(site.healthz())
}

async fn openapi(site: Site) -> Response {
    reply(site.openapi())
}

async fn static_file(site: Site, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    reply(site.static_file(&method, &uri, &headers).await)
}

async fn not_get(site: Site, headers: HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::GetHead, &headers))
}

async fn not_post(site: Site, headers: HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::Post, &headers))
}

/// `recover`: a rejection that reached `warp::service` would be rendered by warp itself (404,
/// or 405 without `Allow` even for unknown paths). None can reach here, as the fallback claims
/// every request; one that did would be this adapter's fault, so it gets the core's 500.
async fn unclaimed(_rejection: Rejection) -> Result<Response, Infallible> {
    let cause = "warp: a rejection reached `recover`, which no route should leave unclaimed";
    Ok(reply(
        SiteError::Internal(cause.into()).render(&HeaderMap::new()),
    ))
}

// ----- around every request ------------------------------------------------------------------

/// Around every request, before any filter runs: the core's admission rules (Host, 431, 501),
/// panics turned into the core's 500, then `Server` and the access log. It wraps
/// `warp::service` rather than being a `wrap_fn` filter: a filter cannot catch a handler's
/// unwinding, and `warp::addr::remote()` is `None` outside `warp::serve`.
async fn around(
    site: Site,
    routes: Route,
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
        None => {
            let routes = TowerToHyperService::new(warp::service(routes));
            match AssertUnwindSafe(routes.call(request)).catch_unwind().await {
                Ok(Ok(response)) => response,
                Err(_panic) => reply(exchange.panicked()),
            }
        }
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

/// Serves until `shutdown`, on the core's tokio runtime with `--workers` threads. warp 0.4's
/// own server (`warp::serve`, server.rs) builds hyper's connection builder without a timer, so
/// hyper's header-read timeout never fires, and its `Accept` trait is private, so the
/// connection cannot be wrapped either: hyper's HTTP/1 builder serves `warp::service` directly.
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
    let routes = app(site.clone());
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
        let (site, routes) = (site.clone(), routes.clone());
        let service =
            service_fn(move |request| around(site.clone(), routes.clone(), peer, request));
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

/// The core's reply as warp's response.
fn reply(reply: Reply) -> Response {
    reply.into_response()
}

/// The POST body, read as it arrives up to `BODY_LIMIT + 1` bytes whatever the framing:
/// `warp::body::content_length_limit` only checks the announced length (and refuses chunked
/// bodies with 411), and warp's `json`/`form` filters answer 415/400 before the core could.
fn body() -> impl Filter<Extract = (Result<Bytes, BodyError>,), Error = Rejection> + Copy {
    warp::body::stream().then(body_of)
}

async fn body_of(
    stream: impl Stream<Item = Result<impl Buf, warp::Error>>,
) -> Result<Bytes, BodyError> {
    let mut stream = std::pin::pin!(stream);
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.remaining() > BODY_LIMIT {
            return Err(BodyError::TooLarge);
        }
        body.put(chunk);
    }
    Ok(body.freeze())
}

/// The path parameter, percent-decoded (warp hands over the segment as sent), or as sent when
/// it does not decode to UTF-8 (the core then refuses it as it would any malformed value).
fn segment() -> impl Filter<Extract = (String,), Error = Rejection> + Copy {
    path::param().and(path::end()).map(|raw: String| {
        let decoded = percent_decode_str(&raw)
            .decode_utf8()
            .ok()
            .map(|d| d.into_owned());
        decoded.unwrap_or(raw)
    })
}

/// A GET route: GET and HEAD reach `handler`, POST gets the core's 405 (warp's own 405 has
/// no `Allow`).
fn get<P, H>(at: P, handler: H, site: &Site) -> Route
where
    P: Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static,
    H: Filter<Extract = (Response,)> + Clone + Send + Sync + 'static,
    H::Error: Into<Rejection>,
{
    let wrong = warp::post()
        .and(with_site(site.clone()))
        .and(headers())
        .then(not_get);
    at.and(read().and(handler.boxed()).or(wrong).unify())
        .boxed()
}

/// A POST route: POST reaches `handler`, GET and HEAD get the core's 405.
fn post<P, H>(at: P, handler: H, site: &Site) -> Route
where
    P: Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static,
    H: Filter<Extract = (Response,)> + Clone + Send + Sync + 'static,
    H::Error: Into<Rejection>,
{
    let wrong = read()
        .and(with_site(site.clone()))
        .and(headers())
        .then(not_post);
    at.and(warp::post().and(handler.boxed()).or(wrong).unify())
        .boxed()
}

/// GET and HEAD. warp has no automatic HEAD; hyper drops the body of a HEAD response.
fn read() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::get().or(warp::head()).unify()
}

/// warp's `path!` also matches `/hello/` (the slash after a matched segment is skipped:
/// warp-0.4.3 src/route.rs, `set_unmatched_path`); the site's routes are exact, so a path with
/// a trailing slash is left to the static fallback.
fn exact() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    path::full()
        .and_then(|full: FullPath| async move {
            if full.as_str().len() > 1 && full.as_str().ends_with('/') {
                Err(warp::reject::not_found())
            } else {
                Ok(())
            }
        })
        .untuple_one()
}

/// Shared state, as warp's examples pass a database handle.
fn with_site(site: Site) -> impl Filter<Extract = (Site,), Error = Infallible> + Clone {
    warp::any().map(move || site.clone())
}

/// The request's headers, as every handler hands them to the core.
fn headers() -> impl Filter<Extract = (HeaderMap,), Error = Infallible> + Copy {
    warp::header::headers_cloned()
}

/// `warp::query::raw` rejects a request without a query (warp-0.4.3 src/filters/query.rs,
/// `raw`); the core wants `None` then.
fn raw_query() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Copy {
    warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

/// The request target as sent (path still percent-encoded, query kept): warp has filters for
/// the path and the query but none for the `Uri`.
fn uri() -> impl Filter<Extract = (Uri,), Error = Rejection> + Copy {
    path::full()
        .and(raw_query())
        .and_then(|full: FullPath, query: Option<String>| async move {
            let target = match query {
                Some(query) => format!("{}?{query}", full.as_str()),
                None => full.as_str().to_owned(),
            };
            Uri::try_from(target).map_err(|_| warp::reject::not_found())
        })
}
