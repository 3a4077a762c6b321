//! The sitebench site on axum 0.8: a `Router` of the site's routes with `State<Site>`, a
//! static fallback, one `from_fn` middleware around every request (the core's admission
//! rules, `Server`, access log, panics), and hyper's HTTP/1 server with a header-read timeout
//! and graceful shutdown. Every handler extracts, calls the core, and converts its `Reply`.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::FutureExt;
use hyper::body::Body as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use site_core::server::{GRACE, HEADER_READ_TIMEOUT, block_on_tokio};
use site_core::{Allow, BODY_LIMIT, Backend, BodyError, Deviation, Ready, Reply, Shutdown, Site};
use tower::{Layer, ServiceExt};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "axum",
    serve,
    deviations: &DEVIATIONS,
};

/// axum lets every line of the contract be met: nothing to declare.
pub const DEVIATIONS: [Deviation; 0] = [];

/// The site's routes, in the order of SITE.md section 4. Methods other than GET, HEAD and
/// POST never get here (`around` answers 501), so each route only adds the other of the two.
pub fn app(site: Site) -> Router {
    Router::new()
        .route("/hello", get(hello).post(not_get))
        .route("/users", post(sign_up).get(not_post))
        .route("/users/{username}", get(user).post(not_get))
        .route("/login", post(login).get(not_post))
        .route("/logout", post(logout).get(not_post))
        .route("/me", get(me).post(not_get))
        .route("/admin", get(admin).post(not_get))
        .route("/status/{code}", get(status).post(not_get))
        .route("/teapot", get(teapot).post(not_get))
        .route("/plaintext", get(plaintext).post(not_get))
        .route("/json", get(json).post(not_get))
        .route("/healthz", get(healthz).post(not_get))
        .route("/openapi.json", get(openapi).post(not_get))
        .fallback(static_file)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(site)
}

async fn hello(
    State(site): State<Site>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    reply(site.hello(query.as_deref(), &headers))
}

async fn sign_up(
    State(site): State<Site>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply(site.sign_up(&headers, body_of(body)).await)
}

async fn user(
    State(site): State<Site>,
    username: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(site.user(&segment(username, &uri), &headers).await)
}

async fn login(
    State(site): State<Site>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply(site.login(&headers, body_of(body)).await)
}

async fn logout(
    State(site): State<Site>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    reply(site.logout(&headers, body_of(body)).await)
}

async fn me(State(site): State<Site>, headers: HeaderMap) -> Response {
    reply(site.me(&headers).await)
}

async fn admin(State(site): State<Site>, headers: HeaderMap) -> Response {
    reply(site.admin(&headers).await)
}

async fn status(
    State(site): State<Site>,
    code: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(site.status(&segment(code, &uri), &headers))
}

async fn teapot(State(site): State<Site>, headers: HeaderMap) -> Response {
    reply(site.teapot(&headers))
}

async fn plaintext(State(site): State<Site>) -> Response {
    reply(site.plaintext())
}

async fn json(State(site): State<Site>) -> Response {
    reply(site.json())
}

async fn healthz(State(site): State<Site>) -> Response {
    reply(site.healthz())
}

async fn openapi(State(site): State<Site>) -> Response {
    reply(site.openapi())
}

async fn static_file(
    State(site): State<Site>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(site.static_file(&method, &uri, &headers).await)
}

async fn not_get(State(site): State<Site>, headers: HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::GetHead, &headers))
}

async fn not_post(State(site): State<Site>, headers: HeaderMap) -> Response {
    reply(site.method_not_allowed(Allow::Post, &headers))
}

// ----- around every request ------------------------------------------------------------------

/// Around every request: the core's admission rules (Host, 431, 501), panics turned into the
/// core's 500, then `Server` and the access log.
async fn around(
    State(site): State<Site>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let (exchange, early) = site.begin(
        peer.ip(),
        request.method(),
        request.uri(),
        request.version(),
        request.headers(),
    );
    let mut response = match early {
        Some(refused) => reply(refused),
        None => AssertUnwindSafe(next.run(request))
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
    response
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown`, on the core's tokio runtime with `--workers` threads. hyper's
/// HTTP/1 connection builder is used directly (not `axum::serve`) to get a header-read timeout.
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
    // `around` wraps the whole router (not `Router::layer`), so it runs before routing and
    // sees the response after axum's own touches (axum sets `Content-Length` for HEAD).
    let app = middleware::from_fn_with_state(site.clone(), around).layer(app(site));
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
        let service =
            app.clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.map(Body::new)
                });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    Ok(())
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as axum's response.
fn reply(reply: Reply) -> Response {
    reply.map(Body::from)
}

/// axum's body rejections, in the core's terms (the limit comes from `DefaultBodyLimit`).
fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, BodyError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => BodyError::TooLarge,
        _ => BodyError::Unreadable,
    })
}

/// The decoded path parameter, or the last segment as sent when it does not decode to UTF-8
/// (the core then refuses it as it would any malformed value).
fn segment(decoded: Result<Path<String>, PathRejection>, uri: &Uri) -> String {
    match decoded {
        Ok(Path(value)) => value,
        Err(_) => uri.path().rsplit('/').next().unwrap_or_default().to_owned(),
    }
}
