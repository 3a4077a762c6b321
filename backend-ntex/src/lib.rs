//! The sitebench site on ntex 3.12 (actix-web's lineage, run on tokio): an `App` of
//! `web::resource`s (so a method mismatch reaches the resource's default service instead of
//! ntex's bare 404/405), `State<Site>`, a `PayloadConfig` body limit and a static default
//! service, finished into a service factory that one `Middleware` wraps from outside (the
//! core's admission rules, `Server`, access log, panics), served by `HttpServer` on the given
//! listener with a header-read timeout and graceful shutdown. Every handler extracts, calls
//! the core, and converts its `Reply`. ntex's `Method`, `Uri`, `Version` and `StatusCode` are
//! the `http` 1 crate's own; its `HeaderMap` and `Bytes` are not, so those conversions live at
//! the end.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use ntex::http::body::{Body, BodySize, MessageBody};
use ntex::http::header::{self, HeaderMap};
use ntex::http::{ConnectionType, HttpServiceConfig, Method, Request, StatusCode};
use ntex::service::cfg::SharedCfg;
use ntex::service::{Middleware, Service, ServiceCtx, ServiceFactory, apply};
use ntex::time::Seconds;
use ntex::util::Bytes;
use ntex::web::error::{PathError, PayloadError};
use ntex::web::types::{Path, PayloadConfig, State};
use ntex::web::{
    self, App, DefaultError, FromRequest, Handler, HttpRequest, HttpResponse, HttpServer, Resource,
    WebResponse, guard,
};
use site_core::server::{GRACE, HEADER_READ_TIMEOUT};
use site_core::{
    Allow, BODY_LIMIT, Backend, BodyError, Deviation, Exchange, Ready, Reply, Shutdown, Site,
};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "ntex",
    serve,
    deviations: &DEVIATIONS,
};

/// Lines of SITE.md that ntex makes impossible. Its router percent-decodes each segment
/// (ntex-router 1.1.0 `src/quoter.rs`, `requote`, which then builds a `String` of the decoded
/// bytes unchecked) and matches a `{param}` against it with a regex (`src/tree.rs`,
/// `find_inner2`, `Segment::Dynamic`); the default pattern does not match a line break, and no
/// pattern can match bytes that are not UTF-8, so `/status/%FF` matches no route and reaches
/// the static fallback's `404` where the route would answer `400`. A custom pattern
/// (`{code:(?s).+}`) routes the line break but not `%FF`.
pub const DEVIATIONS: [Deviation; 1] = [Deviation::UndecodableSegmentUnrouted];

/// The site's routes, in the order of SITE.md section 4. Methods other than GET, HEAD and
/// POST never get here (`around` answers 501), so each resource's default service is the
/// core's 405 for the other of the two; ntex adds no HEAD to a GET route (see `get`). The
/// `App` is finished into its service factory so that `around` can wrap all of it, routing
/// included (in `run`).
pub fn app(
    site: Site,
) -> impl ServiceFactory<Request, SharedCfg, Response = WebResponse, Error = web::Error, InitError = ()>
{
    App::new()
        .state(site)
        .state(PayloadConfig::new(BODY_LIMIT))
        .service(get("/hello", hello))
        .service(post("/users", sign_up))
        .service(get("/users/{username}", user))
        .service(post("/login", login))
        .service(post("/logout", logout))
        .service(get("/me", me))
        .service(get("/admin", admin))
        .service(get("/status/{code}", status))
        .service(get("/teapot", teapot))
        .service(get("/plaintext", plaintext))
        .service(get("/json", json))
        .service(get("/healthz", healthz))
        .service(get("/openapi.json", openapi))
        .default_service(web::to(static_file))
        .finish()
}

async fn hello(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.hello(request.uri().query(), &headers(&request)))
}

async fn sign_up(
    site: State<Site>,
    request: HttpRequest,
    body: Result<Bytes, PayloadError>,
) -> HttpResponse {
    reply(site.sign_up(&headers(&request), body_of(body)).await)
}

async fn user(
    site: State<Site>,
    username: Result<Path<String>, PathError>,
    request: HttpRequest,
) -> HttpResponse {
    reply(
        site.user(&segment(username, &request), &headers(&request))
            .await,
    )
}

async fn login(
    site: State<Site>,
    request: HttpRequest,
    body: Result<Bytes, PayloadError>,
) -> HttpResponse {
    reply(site.login(&headers(&request), body_of(body)).await)
}

async fn logout(
    site: State<Site>,
    request: HttpRequest,
    body: Result<Bytes, PayloadError>,
) -> HttpResponse {
    reply(site.logout(&headers(&request), body_of(body)).await)
}

async fn me(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.me(&headers(&request)).await)
}

async fn admin(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.admin(&headers(&request)).await)
}

async fn status(
    site: State<Site>,
    code: Result<Path<String>, PathError>,
    request: HttpRequest,
) -> HttpResponse {
    reply(site.status(&segment(code, &request), &headers(&request)))
}

async fn teapot(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.teapot(&headers(&request)))
}

async fn plaintext(site: State<Site>) -> HttpResponse {
    reply(site.plaintext())
}

async fn json(site: State<Site>) -> HttpResponse {
    reply(site.json())
}

async fn healthz(site: State<Site>) -> HttpResponse {
    reply(site.healthz())
}

async fn openapi(site: State<Site>) -> HttpResponse {
    reply(site.openapi())
}

async fn static_file(site: State<Site>, request: HttpRequest) -> HttpResponse {
    let headers = headers(&request);
    reply(
        site.static_file(request.method(), request.uri(), &headers)
            .await,
    )
}

async fn not_get(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.method_not_allowed(Allow::GetHead, &headers(&request)))
}

async fn not_post(site: State<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.method_not_allowed(Allow::Post, &headers(&request)))
}

// ----- around every request ------------------------------------------------------------------

/// Around every request, before routing: the core's admission rules (Host, 431, 501), panics
/// turned into the core's 500, then `Server` and the access log. Unlike actix's adapter
/// (`App::wrap`), this is an ntex `Middleware` on the finished app (its `Request` in,
/// `HttpResponse` out), not on `App::middleware`: after a panic the `WebRequest` is gone, and
/// a `WebResponse` can only be built from one (ntex-3.12.3 src/web/response.rs,
/// `WebResponse::new`); returning an `Err` instead, as actix's adapter does, would be rendered
/// as ntex's `text/plain` and close the connection (src/http/h1/control.rs, `Error::ack`).
async fn around<F>(site: &Site, request: Request, next: impl FnOnce(Request) -> F) -> HttpResponse
where
    F: Future<Output = Result<WebResponse, web::Error>>,
{
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let sent = core_headers(request.headers());
    let (exchange, early) = site.begin(
        peer,
        request.method(),
        request.uri(),
        request.version(),
        &sent,
    );
    let mut response = match early {
        Some(refused) => reply(refused),
        None => {
            request.extensions_mut().insert(Sent(sent));
            // The whole call, routing included, runs inside this future (ntex-service's
            // `ServiceCtx::call` is an `async fn`), so catching the future catches all of it.
            match AssertUnwindSafe(next(request)).catch_unwind().await {
                Ok(Ok(response)) => response.into(),
                // ntex turns handler and extractor errors into responses itself (src/web/
                // handler.rs, `HandlerWrapper::call`), so an `Err` here is a bug: it gets the
                // core's 500, as a panic does.
                Ok(Err(_)) | Err(_) => reply(exchange.panicked()),
            }
        }
    };
    finish(exchange, &mut response);
    response
}

/// `around` as ntex middleware: the factory (`Middleware`) and its service.
struct Around(Site);

impl<S> Middleware<S, SharedCfg> for Around {
    type Service = AroundService<S>;

    fn create(&self, service: S, _: SharedCfg) -> Self::Service {
        AroundService {
            service,
            site: self.0.clone(),
        }
    }
}

struct AroundService<S> {
    service: S,
    site: Site,
}

impl<S> Service<Request> for AroundService<S>
where
    S: Service<Request, Response = WebResponse, Error = web::Error>,
{
    type Response = HttpResponse;
    type Error = web::Error;

    ntex::forward_poll!(service);
    ntex::forward_ready!(service);
    ntex::forward_shutdown!(service);

    async fn call(
        &self,
        request: Request,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<HttpResponse, web::Error> {
        Ok(around(&self.site, request, |request| {
            ctx.call(&self.service, request)
        })
        .await)
    }
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown` on ntex's own runtime (`System`, each thread a tokio current-thread
/// runtime, as the `tokio` feature builds it) with `--workers` worker threads; ntex accepts on
/// a thread of its own, which sets `TCP_NODELAY` (ntex-net-3.16.0 src/tokio/mod.rs,
/// `from_tcp_stream`) and backs off 500 ms after an accept error such as EMFILE
/// (ntex-server-3.11.2 src/net/accept.rs, `Accept::accept`).
pub fn serve(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    ntex::rt::System::new("sitebench-ntex", ntex::rt::DefaultRuntime)
        .block_on(run(listener, site, shutdown, ready))
}

async fn run(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    let workers = site.workers();
    let addr = listener.local_addr()?;
    let http = HttpServiceConfig::new()
        // The whole header within the timeout: extended by nothing (max = timeout).
        .set_headers_read_rate(
            seconds(HEADER_READ_TIMEOUT),
            seconds(HEADER_READ_TIMEOUT),
            256,
        )
        // ntex refuses a request with more fields than this with its own bare 431 (96 by
        // default); the core's rule is 100 (SITE.md 7), so the parser lets more through and
        // its parse buffer (below) bounds them (src/http/h1/decoder.rs, `decode_headers`).
        .set_max_headers(usize::MAX)
        // A request head that fills ntex's parse buffer (64 KiB by default) before it ends gets
        // its bare 431 (src/http/h1/decoder.rs, `Decoder::decode`, `max_buf_size`): a 70 KiB
        // request target got that 431 or the 400 for an over-long target, depending on how the
        // reads fell. With room for the whole of it, the target is always what is refused.
        .set_max_buf_size(128 * 1024);
    let server = HttpServer::new(async move || apply(Around(site.clone()), app(site.clone())))
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(seconds(GRACE))
        .config(SharedCfg::new("sitebench-ntex").add(http))
        .listen(listener)?
        .run();
    // The socket was listening before ntex took it: connections queue until workers start.
    ready.listening(addr);
    let stop = server.clone();
    ntex::rt::spawn(async move {
        shutdown.await;
        stop.stop(true).await;
    });
    server.await
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as ntex's response. ntex writes `Content-Length` from the body's size and
/// leaves it off only for `Body::None` (ntex-3.12.3 src/http/h1/encoder.rs, `encode_headers`,
/// which drops it on 204 itself), so a 304 gets that body.
fn reply(reply: Reply) -> HttpResponse {
    let (parts, body) = reply.into_parts();
    let body = match parts.status {
        StatusCode::NOT_MODIFIED => Body::None,
        _ => Body::Bytes(ntex_bytes(&body)),
    };
    let close = parts
        .headers
        .get(http::header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let mut response = HttpResponse::with_body(parts.status, body);
    *response.headers_mut() = ntex_headers(parts.headers);
    // ntex writes `Connection` from the head's connection type and skips the header map's
    // (src/http/h1/encoder.rs, `encode_headers`).
    if close {
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    response
}

/// ntex's body rejections, in the core's terms (the limit comes from `PayloadConfig`).
fn body_of(body: Result<Bytes, PayloadError>) -> Result<bytes::Bytes, BodyError> {
    match body {
        Ok(body) => Ok(core_bytes(&body)),
        Err(PayloadError::Payload(ntex::http::error::PayloadError::Overflow)) => {
            Err(BodyError::TooLarge)
        }
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The decoded path parameter, or the last segment as sent if ntex gives none. ntex matches
/// `{param}` against the decoded segment with the pattern `.+` (ntex-router-1.1.0
/// src/resource.rs), so a segment that does not decode to text, or holds a newline, never
/// reaches a route: the static fallback answers it. This fallback is a guard.
fn segment(decoded: Result<Path<String>, PathError>, request: &HttpRequest) -> String {
    match decoded {
        Ok(value) => value.into_inner(),
        Err(_) => request
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// A GET route, answering HEAD too (ntex adds no HEAD to a GET route: `web::get()` is a
/// method list of one, ntex-3.12.3 src/web/route.rs, `RouteService::check`); POST, the only
/// other method that gets this far, reaches the resource's default service: the core's 405.
fn get<F, Args>(path: &'static str, handler: F) -> Resource<DefaultError>
where
    F: Handler<Args, DefaultError> + 'static,
    Args: FromRequest<DefaultError> + 'static,
    Args::Error: Into<web::Error>,
{
    web::resource(path)
        .guard(exact(path))
        .route(web::get().method(Method::HEAD).to(handler))
        .default_service(web::to(not_get))
}

/// A POST route; GET and HEAD get the core's 405.
fn post<F, Args>(path: &'static str, handler: F) -> Resource<DefaultError>
where
    F: Handler<Args, DefaultError> + 'static,
    Args: FromRequest<DefaultError> + 'static,
    Args::Error: Into<web::Error>,
{
    web::resource(path)
        .guard(exact(path))
        .route(web::post().to(handler))
        .default_service(web::to(not_post))
}

/// ntex matches routes on the path with every escape of a segment decoded (ntex-router-1.1.0
/// src/tree.rs, `find_inner2`, through `ResourcePath::unquote`), so `/hell%6F` would reach
/// `/hello`; the site's routes claim their paths as sent, so a request must spell each literal
/// segment out (else the static fallback answers).
fn exact(template: &'static str) -> impl guard::Guard {
    guard::fn_guard(move |head| {
        let sent = head.uri.path();
        template.split('/').count() == sent.split('/').count()
            && template
                .split('/')
                .zip(sent.split('/'))
                .all(|(t, s)| t.starts_with('{') || t == s)
    })
}

/// The request's headers in the core's `http` 1 types. `around` converts them once and leaves
/// them in the request's extensions, where the handler takes them.
struct Sent(http::HeaderMap);

/// The request's headers, as every handler hands them to the core (converted here if `around`
/// left none).
fn headers(request: &HttpRequest) -> http::HeaderMap {
    let taken = request.extensions_mut().remove::<Sent>();
    taken.map_or_else(|| core_headers(request.headers()), |Sent(headers)| headers)
}

/// `exchange.finish` on an ntex response: what the core adds (`Server`) it writes into an
/// empty `http` 1 map, copied over. ntex writes `Content-Length` itself (none on 204/304).
fn finish(exchange: Exchange, response: &mut HttpResponse) {
    let mut added = http::HeaderMap::new();
    let length = match response.body().size() {
        BodySize::Sized(length) => Some(length),
        BodySize::Empty => Some(0),
        BodySize::None | BodySize::Stream => None,
    };
    exchange.finish(response.status(), length, &mut added);
    for (name, value) in added {
        if let Some(name) = name {
            response
                .headers_mut()
                .insert(name, header::HeaderValue::from(value));
        }
    }
    // ntex writes the `http` crate's phrase (or `<unknown status code>`) unless the head has
    // its own (src/http/message.rs, `ResponseHead::reason`).
    if let Some(phrase) = site_core::status_codes::custom_reason(response.status()) {
        response.head_mut().reason = Some(phrase);
    }
}

// ----- ntex-http and ntex-bytes <-> http 1 and bytes (core), in one place. Header names are
// the same type; both value types accept the same grammar, so a conversion fails only on a bug
// and the fallback skips the field. ntex-bytes cannot take over a `bytes` buffer: bodies are
// copied (ntex-bytes-1.14.0 src/bytes.rs has no `From<bytes::Bytes>`).

fn core_headers(ntex: &HeaderMap) -> http::HeaderMap {
    let mut core = http::HeaderMap::with_capacity(ntex.len());
    for (name, value) in ntex {
        if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
            core.append(name.clone(), value);
        }
    }
    core
}

/// ntex-http's own conversion (`From<http::HeaderMap>`), which keeps repeated fields.
fn ntex_headers(core: http::HeaderMap) -> HeaderMap {
    HeaderMap::from(core)
}

fn core_bytes(ntex: &Bytes) -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(ntex)
}

fn ntex_bytes(core: &bytes::Bytes) -> Bytes {
    Bytes::copy_from_slice(core)
}

/// A duration in ntex's whole seconds (`u16`), saturating.
fn seconds(duration: Duration) -> Seconds {
    Seconds::checked_new(usize::try_from(duration.as_secs()).unwrap_or(usize::MAX))
}
