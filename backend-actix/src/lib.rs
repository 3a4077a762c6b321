//! The sitebench site on actix-web 4: an `App` of `web::resource`s (so a method mismatch
//! reaches the resource's default service instead of actix's bare 404/405), `ThinData<Site>`,
//! a `PayloadConfig` body limit, a static default service, one `from_fn` middleware around
//! every request (the core's admission rules, `Server`, access log, panics through a
//! `ResponseError`), and `HttpServer` on the given listener with a header-read timeout and
//! graceful shutdown. Every handler extracts, calls the core, and converts its `Reply`;
//! actix speaks `http` 0.2, so the conversions to and from the core's `http` 1 live at the end.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::panic::{AssertUnwindSafe, catch_unwind};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::guard;
use actix_web::http::{Method, StatusCode, Uri, Version, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, Bytes, ThinData};
use actix_web::{
    App, Error, FromRequest, Handler, HttpMessage, HttpRequest, HttpResponse, HttpServer, Resource,
    Responder, ResponseError,
};
use futures_util::FutureExt;
use site_core::server::{GRACE, HEADER_READ_TIMEOUT};
use site_core::{
    Allow, BODY_LIMIT, Backend, BodyError, Deviation, Exchange, Ready, Reply, Shutdown, Site,
};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "actix",
    serve,
    deviations: &DEVIATIONS,
};

/// Lines of SITE.md that actix-web makes impossible. actix-http 3.18.11 and later answer an
/// HTTP/1.1 request with no `Host` header, or with two, with their own bare `400` (no problem
/// body, no `Server`, `Connection: close`) while parsing the head, before any application code
/// runs; no setting turns this off (actix-http 3.19.0 `src/h1/decoder.rs`, `set_headers` and
/// `decode`; its CHANGES.md, 3.18.11). The same decoder parses into a fixed array of
/// `MAX_HEADERS = 96` fields (`src/h1/decoder.rs`, line 15), a constant, so a request with 97
/// to 100 fields, which SITE.md 7 allows, gets actix's `431`. And after the `413` for an
/// over-limit chunked body, actix-http reads the rest of it to the end and drops it: its
/// dispatcher marks a chunked payload "drainable" (`src/h1/dispatcher.rs`, `payload_drainable
/// = req.chunked()`), and `should_close_for_unread_payload` then keeps the connection
/// reading a payload the extractor dropped; an announced length is cut off (see `run`).
pub const DEVIATIONS: [Deviation; 3] = [
    Deviation::HostRefusedByFramework,
    Deviation::HeaderFieldsCappedAt96,
    Deviation::ChunkedBodyDrained,
];

/// The site's routes, in the order of SITE.md section 4. Methods other than GET, HEAD and
/// POST never get here (`around` answers 501), so each resource's default service is the
/// core's 405 for the other of the two; actix adds no HEAD to a GET route, hence `web::head`.
pub fn app(
    site: Site,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(ThinData(site))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
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
        .wrap(from_fn(around))
}

async fn hello(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.hello(request.uri().query(), &headers(&request)))
}

async fn sign_up(
    ThinData(site): ThinData<Site>,
    request: HttpRequest,
    body: Result<Bytes, Error>,
) -> HttpResponse {
    reply(site.sign_up(&headers(&request), body_of(body)).await)
}

async fn user(
    ThinData(site): ThinData<Site>,
    username: Result<web::Path<String>, Error>,
    request: HttpRequest,
) -> HttpResponse {
    reply(
        site.user(&segment(username, &request), &headers(&request))
            .await,
    )
}

async fn login(
    ThinData(site): ThinData<Site>,
    request: HttpRequest,
    body: Result<Bytes, Error>,
) -> HttpResponse {
    reply(site.login(&headers(&request), body_of(body)).await)
}

async fn logout(
    ThinData(site): ThinData<Site>,
    request: HttpRequest,
    body: Result<Bytes, Error>,
) -> HttpResponse {
    reply(site.logout(&headers(&request), body_of(body)).await)
}

async fn me(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.me(&headers(&request)).await)
}

async fn admin(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.admin(&headers(&request)).await)
}

async fn status(
    ThinData(site): ThinData<Site>,
    code: Result<web::Path<String>, Error>,
    request: HttpRequest,
) -> HttpResponse {
    reply(site.status(&segment(code, &request), &headers(&request)))
}

async fn teapot(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.teapot(&headers(&request)))
}

async fn plaintext(ThinData(site): ThinData<Site>) -> HttpResponse {
    reply(site.plaintext())
}

async fn json(ThinData(site): ThinData<Site>) -> HttpResponse {
    reply(site.json())
}

async fn healthz(ThinData(site): ThinData<Site>) -> HttpResponse {
    reply(site.healthz())
}

async fn openapi(ThinData(site): ThinData<Site>) -> HttpResponse {
    reply(site.openapi())
}

async fn static_file(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    let sent = sent(&request);
    reply(
        site.static_file(&sent.method, &sent.uri, &sent.headers)
            .await,
    )
}

async fn not_get(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.method_not_allowed(Allow::GetHead, &headers(&request)))
}

async fn not_post(ThinData(site): ThinData<Site>, request: HttpRequest) -> HttpResponse {
    reply(site.method_not_allowed(Allow::Post, &headers(&request)))
}

// ----- around every request ------------------------------------------------------------------

/// Around every request, before routing: the core's admission rules (Host, 431, 501), panics
/// turned into the core's 500, then `Server` and the access log. actix itself lets a panic
/// end the connection's task without a response, so both the call (routing runs in it) and
/// the future are caught here.
async fn around(
    ThinData(site): ThinData<Site>,
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let sent = Sent::of(request.request());
    let version = core_version(request.version());
    let (exchange, early) = site.begin(peer, &sent.method, &sent.uri, version, &sent.headers);
    let mut response = match early {
        Some(refused) => request.into_response(reply(refused)),
        None => {
            request.extensions_mut().insert(sent);
            let called = catch_unwind(AssertUnwindSafe(|| next.call(request)));
            let answered = match called {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await.ok(),
                Err(_) => None,
            };
            match answered {
                Some(Ok(response)) => response,
                // No inner service yields an error (every extractor is infallible or a
                // `Result`), and the request is gone either way: render the core's 500.
                Some(Err(_)) | None => {
                    let mut failed = exchange.panicked();
                    let length = Some(failed.body().len() as u64);
                    exchange.finish(failed.status(), length, failed.headers_mut());
                    return Err(Rendered(failed).into());
                }
            }
        }
    };
    finish(exchange, response.response_mut());
    Ok(response)
}

/// A finished core reply sent through actix's error path: once the `ServiceRequest` has
/// gone into a panicking service, an `Error` is all a middleware can return, and actix
/// renders it with `error_response`, i.e. the core's bytes.
#[derive(Debug)]
struct Rendered(Reply);

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.status())
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> StatusCode {
        actix_status(self.0.status())
    }

    fn error_response(&self) -> HttpResponse {
        response(self.0.status(), self.0.headers(), self.0.body().clone())
    }
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown` on actix's own runtime (`System`) with `--workers` worker threads.
/// actix's signal handling is off (the core owns signals); `shutdown` stops the server
/// gracefully, and actix waits for in-flight requests at most `GRACE`.
pub fn serve(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(run(listener, site, shutdown, ready))
}

async fn run(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    let workers = site.workers();
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || app(site.clone()))
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(GRACE.as_secs())
        .client_request_timeout(HEADER_READ_TIMEOUT)
        // After a 413 actix would linger, reading and dropping the rest of the body until the
        // client leaves or this timeout (1 s by default) ends: 100 MB fit in that. SITE.md 7
        // wants none of it read, so the connection shuts at once (actix-http 3.19
        // src/h1/dispatcher.rs, `should_close_for_unread_payload` and `enter_linger`).
        .client_disconnect_timeout(std::time::Duration::ZERO)
        .tcp_nodelay(true)
        .listen(listener)?
        .run();
    let handle = server.handle();
    // The socket was listening before actix took it: connections queue until workers start.
    ready.listening(addr);
    actix_web::rt::spawn(async move {
        shutdown.await;
        handle.stop(true).await;
    });
    server.await
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as actix's response.
fn reply(reply: Reply) -> HttpResponse {
    let (parts, body) = reply.into_parts();
    response(parts.status, &parts.headers, body)
}

/// actix's body rejections, in the core's terms (the limit comes from `PayloadConfig`).
fn body_of(body: Result<Bytes, Error>) -> Result<Bytes, BodyError> {
    body.map_err(|error| match error.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => BodyError::TooLarge,
        _ => BodyError::Unreadable,
    })
}

/// The decoded path parameter, or the last segment as sent if actix could not decode it
/// (actix decodes lossily, so this is a guard rather than a common path).
fn segment(decoded: Result<web::Path<String>, Error>, request: &HttpRequest) -> String {
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

/// A GET route, answering HEAD too (actix adds no HEAD to a GET route: `web::get()` is a
/// `GET` guard alone, actix-web 4 src/web.rs, `method_route!`); POST, the only other method
/// that gets this far, reaches the resource's default service: the core's 405.
fn get<F, Args>(path: &'static str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .guard(exact(path))
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(not_get))
}

/// A POST route; GET and HEAD get the core's 405.
fn post<F, Args>(path: &'static str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .guard(exact(path))
        .route(web::post().to(handler))
        .default_service(web::to(not_post))
}

/// actix matches routes on the path with unreserved escapes decoded (actix-router's
/// `Url::new`), so `/hell%6F` would reach `/hello`; the site's routes claim their paths as
/// sent, so a request must spell each literal segment out (else the static fallback answers).
fn exact(template: &'static str) -> impl guard::Guard {
    guard::fn_guard(move |ctx| {
        let sent = ctx.head().uri.path();
        template.split('/').count() == sent.split('/').count()
            && template
                .split('/')
                .zip(sent.split('/'))
                .all(|(t, s)| t.starts_with('{') || t == s)
    })
}

/// The request as sent, in the core's `http` 1 types. `around` converts it once and leaves it
/// in the request's extensions (actix's way to hand data from a middleware to a handler), where
/// the handler takes it: converting the headers twice cost more than the rest of the adapter.
struct Sent {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
}

impl Sent {
    fn of(request: &HttpRequest) -> Self {
        Sent {
            method: core_method(request.method()),
            uri: core_uri(request.uri()),
            headers: core_headers(request.headers()),
        }
    }
}

/// What `around` converted, taken out of the extensions (converted here if it is not there).
fn sent(request: &HttpRequest) -> Sent {
    let taken = request.extensions_mut().remove::<Sent>();
    taken.unwrap_or_else(|| Sent::of(request))
}

/// The request's headers, as every handler hands them to the core.
fn headers(request: &HttpRequest) -> http::HeaderMap {
    sent(request).headers
}

/// `exchange.finish` on an actix response: what the core adds (`Server`) it writes into an
/// empty `http` 1 map, copied over (converting all the response's headers there and back cost
/// more than the rest of the adapter). actix writes `Content-Length` itself, none on 204/304.
fn finish(exchange: Exchange, response: &mut HttpResponse) {
    let mut added = http::HeaderMap::new();
    let length = match response.body().size() {
        BodySize::Sized(length) => Some(length),
        BodySize::None | BodySize::Stream => None,
    };
    let status = core_status(response.status());
    exchange.finish(status, length, &mut added);
    for (name, value) in actix_headers(&added) {
        response.headers_mut().insert(name, value);
    }
    // actix writes its `http` 0.2 crate's phrase (or `<unknown status code>`, as for 425)
    // unless told one; that table, not the core's `http` 1, is what to compare with.
    let default = response.status().canonical_reason();
    if let Some(phrase) = site_core::status_codes::phrase_to_set(status.as_u16(), default) {
        response.head_mut().reason = Some(phrase);
    }
}

// ----- http 0.2 (actix) <-> http 1 (core), through u16 and bytes, in one place. Both crates
// accept the same grammar, so a conversion fails only on a bug; the fallbacks keep that from
// becoming a panic.

fn response(status: http::StatusCode, headers: &http::HeaderMap, body: Bytes) -> HttpResponse {
    let mut response = HttpResponse::with_body(actix_status(status), body).map_into_boxed_body();
    *response.headers_mut() = actix_headers(headers);
    // actix writes `Connection` from the head's connection type and skips the header map's
    // (actix-http 3.19 src/h1/encoder.rs, `encode_headers`).
    if headers
        .get(http::header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
    {
        response
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    response
}

fn actix_headers(core: &http::HeaderMap) -> header::HeaderMap {
    let mut actix = header::HeaderMap::with_capacity(core.len());
    for (name, value) in core {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_str().as_bytes()),
            header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            actix.append(name, value);
        }
    }
    actix
}

fn actix_status(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn core_headers(actix: &header::HeaderMap) -> http::HeaderMap {
    let mut core = http::HeaderMap::with_capacity(actix.len());
    for (name, value) in actix.iter() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            core.append(name, value);
        }
    }
    core
}

/// An unconvertible method becomes one the core refuses (501).
fn core_method(method: &Method) -> http::Method {
    http::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(http::Method::CONNECT)
}

fn core_uri(uri: &Uri) -> http::Uri {
    http::Uri::try_from(uri.to_string()).unwrap_or_default()
}

fn core_version(version: Version) -> http::Version {
    match version {
        Version::HTTP_09 => http::Version::HTTP_09,
        Version::HTTP_10 => http::Version::HTTP_10,
        Version::HTTP_2 => http::Version::HTTP_2,
        Version::HTTP_3 => http::Version::HTTP_3,
        _ => http::Version::HTTP_11,
    }
}

fn core_status(status: StatusCode) -> http::StatusCode {
    http::StatusCode::from_u16(status.as_u16()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}
