//! The sitebench site on rocket 0.5: attribute routes with `State<Site>`, request and data
//! guards, a static fallback, one fairing around every request (the core's admission rules,
//! `Server`, access log), catchers for what rocket answers itself (panics, requests it cannot
//! represent), and rocket's own server on the core's tokio runtime, configured explicitly and
//! stopped by the core's `Shutdown`. Every handler extracts, calls the core, and converts its
//! `Reply`.

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::{Cursor, SeekFrom};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri, Version};
use rocket::config::{self, Config, Ident, LogLevel};
use rocket::data::{self, Capped, Data, FromData, ToByteUnit};
use rocket::error::ErrorKind;
use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::form::Form;
use rocket::http::{Method, RawStr, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder};
use rocket::route::{self, Route};
use rocket::shield::Shield;
use rocket::{Build, Response, Rocket, State, catch, catchers, get, post, routes, uri};
use site_core::server::{GRACE, block_on_tokio};
use site_core::{
    Allow, BODY_LIMIT, Backend, BodyError, Deviation, Exchange, Ready, Reply, Shutdown, Site,
};
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "rocket",
    serve,
    deviations: &DEVIATIONS,
};

/// Lines of SITE.md rocket 0.5 makes impossible (the application gets no way around them):
/// - no header-read timeout: rocket-0.5.2/src/server.rs builds its hyper 1 HTTP/1 server with
///   `.header_read_timeout(None)` (around line 641) and binds and accepts by itself (`http_server` and
///   `default_tcp_http_server` are `pub(crate)`); `Config` has no such setting (`keep_alive`
///   only turns keep-alive on or off);
/// - the HTTP version is invisible: rocket's `Request` does not keep hyper's version
///   (rocket-0.5.2/src/request/request.rs, `from_hyp`), so every request is taken as HTTP/1.1:
///   an HTTP/1.0 request without `Host` gets `400`, and the access log says `HTTP/1.1`;
/// - the status line's reason phrase is hyper's: rocket-0.5.2/src/server.rs (`send_response`,
///   around line 174) builds the `hyper::Response` from the status code and the headers
///   alone, so nothing of ours (hyper's `ReasonPhrase` extension) reaches it, and hyper writes
///   the `http` crate's phrase: `413 Payload Too Large`, `422 Unprocessable Entity`,
///   `599 <none>`.
///
/// Not a deviation, though FRAMEWORKS.md expected one: an extension method such as `BREW` is
/// refused by `Request::from_hyp` (rocket's `Method::from_hyp` knows 9 methods) and answered
/// `400` without any fairing, but through the app's `400` catcher, which answers the core's
/// `501` (see `bad_request`).
pub const DEVIATIONS: [Deviation; 3] = [
    Deviation::NoHeaderReadTimeout,
    Deviation::HttpVersionHidden,
    Deviation::CanonicalReasonPhrase,
];

/// The site's routes, in the order of SITE.md section 4, then the other one of GET and POST
/// on each (405) and the static fallback for both. Methods other than GET, HEAD and POST never
/// get routed (`Around` answers 501), and rocket answers HEAD with the GET routes.
pub fn app(site: Site, config: Config) -> Rocket<Build> {
    use Method::{Get, Post};
    let wrong_method = [
        Route::new(Post, "/hello", not_get),
        Route::new(Get, "/users", not_post),
        Route::new(Post, "/users/<_>", not_get),
        Route::new(Get, "/login", not_post),
        Route::new(Get, "/logout", not_post),
        Route::new(Post, "/me", not_get),
        Route::new(Post, "/admin", not_get),
        Route::new(Post, "/status/<_>", not_get),
        Route::new(Post, "/teapot", not_get),
        Route::new(Post, "/plaintext", not_get),
        Route::new(Post, "/json", not_get),
        Route::new(Post, "/healthz", not_get),
        Route::new(Post, "/openapi.json", not_get),
        Route::ranked(100, Get, "/<_..>", static_file),
        Route::ranked(100, Post, "/<_..>", static_file),
    ];
    rocket::custom(config)
        .mount(
            "/",
            routes![
                hello, sign_up, user, login, logout, me, admin, status, teapot, plaintext, json,
                healthz, openapi, early
            ],
        )
        .mount("/", wrong_method)
        .register("/", catchers![bad_request, panicked, unforeseen])
        // `Shield::new()` has no policies: it replaces the default Shield and its headers.
        .attach(Shield::new())
        .attach(Around(site.clone()))
        .manage(site)
}

#[get("/hello")]
fn hello(site: &State<Site>, request: &Sent) -> Answer {
    reply(site.hello(request.uri.query(), &request.headers))
}

#[post("/users", data = "<body>")]
async fn sign_up(site: &State<Site>, request: &Sent, body: Body) -> Answer {
    reply(site.sign_up(&request.headers, body.0).await)
}

#[get("/users/<username>")]
async fn user(site: &State<Site>, username: &str, request: &Sent) -> Answer {
    reply(
        site.user(segment(username, &request.uri), &request.headers)
            .await,
    )
}

#[post("/login", data = "<body>")]
async fn login(site: &State<Site>, request: &Sent, body: Body) -> Answer {
    reply(site.login(&request.headers, body.0).await)
}

#[post("/logout", data = "<body>")]
async fn logout(site: &State<Site>, request: &Sent, body: Body) -> Answer {
    reply(site.logout(&request.headers, body.0).await)
}

#[get("/me")]
async fn me(site: &State<Site>, request: &Sent) -> Answer {
    reply(site.me(&request.headers).await)
}

#[get("/admin")]
async fn admin(site: &State<Site>, request: &Sent) -> Answer {
    reply(site.admin(&request.headers).await)
}

#[get("/status/<code>")]
fn status(site: &State<Site>, code: &str, request: &Sent) -> Answer {
    reply(site.status(segment(code, &request.uri), &request.headers))
}

#[get("/teapot")]
fn teapot(site: &State<Site>, request: &Sent) -> Answer {
    reply(site.teapot(&request.headers))
}

#[get("/plaintext")]
fn plaintext(site: &State<Site>, _request: &Sent) -> Answer {
    reply(site.plaintext())
}

#[get("/json")]
fn json(site: &State<Site>, _request: &Sent) -> Answer {
    reply(site.json())
}

#[get("/healthz")]
fn healthz(site: &State<Site>, _request: &Sent) -> Answer {
    reply(site.healthz())
}

#[get("/openapi.json")]
fn openapi(site: &State<Site>, _request: &Sent) -> Answer {
    reply(site.openapi())
}

/// GET, HEAD and POST on any path no route claims, with the path and query as sent.
fn static_file<'r>(request: &'r Request<'_>, _: Data<'r>) -> route::BoxFuture<'r> {
    Box::pin(async move {
        let answer = match sent(request) {
            Some(sent) => reply(
                site(request)
                    .static_file(&sent.method, &sent.uri, &sent.headers)
                    .await,
            ),
            None => return route::Outcome::error(Status::InternalServerError),
        };
        route::Outcome::Success(answer.0)
    })
}

fn not_get<'r>(request: &'r Request<'_>, data: Data<'r>) -> route::BoxFuture<'r> {
    wrong_method(request, data, Allow::GetHead)
}

fn not_post<'r>(request: &'r Request<'_>, data: Data<'r>) -> route::BoxFuture<'r> {
    wrong_method(request, data, Allow::Post)
}

fn wrong_method<'r>(
    request: &'r Request<'_>,
    data: Data<'r>,
    allow: Allow,
) -> route::BoxFuture<'r> {
    Box::pin(async move {
        match sent(request) {
            Some(sent) if exact(request) => route::Outcome::Success(
                reply(site(request).method_not_allowed(allow, &sent.headers)).0,
            ),
            _ => route::Outcome::forward(data, Status::NotFound),
        }
    })
}

/// The reply `Around` already has: it points such a request here, so no route of the site runs.
#[get("/__sitebench/early")]
fn early(reply_before_routing: Early) -> Answer {
    reply(reply_before_routing.0)
}

// ----- around every request: a fairing, and catchers for what rocket answers itself ----------

/// Around every request: the core's admission rules (Host, 431, 501) before routing, then `Server`
/// and the access log. Panics are rocket's to catch (see `panicked`).
struct Around(Site);

#[rocket::async_trait]
impl Fairing for Around {
    fn info(&self) -> Info {
        Info {
            name: "sitebench around",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, data: &mut Data<'_>) {
        let body_broken = peek_failed(data).await;
        undo_method_override(request, data).await;
        let method = core_method(request.method());
        let uri = core_uri(request);
        let headers = core_headers(request);
        let (exchange, early) =
            self.0
                .begin(peer(request), &method, &uri, Version::HTTP_11, &headers);
        if early.is_some() {
            // A fairing cannot answer: route the request to `early` instead (keeping HEAD, whose
            // body rocket strips), which hands back this reply.
            if request.method() != Method::Head {
                request.set_method(Method::Get);
            }
            request.set_uri(uri!("/__sitebench/early"));
        }
        let exchange = Mutex::new(Some(exchange));
        let early = Mutex::new(early);
        request.local_cache(|| {
            Some(Sent {
                method,
                uri,
                headers,
                body_broken,
                exchange,
                early,
            })
        });
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let exchange = sent(request).and_then(|sent| sent.exchange.lock().ok()?.take());
        if let Some(exchange) = exchange {
            finish(exchange, response);
        }
    }
}

/// How far rocket peeks into every body for `_method` (rocket-0.5.2/src/server.rs,
/// `preprocess_request`: `"_method=delete".len()`).
const METHOD_PEEK: usize = 14;

/// Whether reading the body failed while rocket peeked into it: rocket logs the error and drops
/// it (rocket-0.5.2/src/data/data.rs, `peek`), and the body then reads as if it had ended. Its
/// peek stops early only at the end of the body, which it records, or at an error.
async fn peek_failed(data: &mut Data<'_>) -> bool {
    !data.peek_complete() && data.peek(METHOD_PEEK).await.len() < METHOD_PEEK
}

/// rocket turns a form `POST` whose first field is `_method` into that method before any
/// fairing runs (rocket-0.5.2/src/server.rs, `preprocess_request`); the site knows no such
/// field, so the request is put back to `POST` (a request sent with that very method and field
/// is taken for such a `POST`).
async fn undo_method_override(request: &mut Request<'_>, data: &mut Data<'_>) {
    let is_form = request.content_type().is_some_and(|ct| ct.is_form());
    if !is_form || request.method() == Method::Post {
        return;
    }
    let peeked = data.peek(METHOD_PEEK).await;
    let overridden = std::str::from_utf8(peeked)
        .ok()
        .and_then(|form| Form::values(form).next())
        .filter(|field| field.name == "_method")
        .and_then(|field| field.value.parse::<Method>().ok());
    if overridden == Some(request.method()) {
        request.set_method(Method::Post);
    }
}

/// rocket answers `400` without running any fairing when `Request::from_hyp` cannot represent
/// the request (rocket-0.5.2/src/server.rs, `hyper_service_fn`): a method outside the 9 rocket
/// knows (`BREW`), or a target that is not a path (authority form). Both are "another method"
/// to the site: rocket no longer tells which method was sent, so the core is given `-`, which
/// it answers `501` (after its `Host` rule), and `-` is what the access log shows.
#[catch(400)]
fn bad_request(request: &Request<'_>) -> Answer {
    let site = site(request);
    if sent(request).is_some() {
        return reply(site.status("400", &core_headers(request)));
    }
    let headers = core_headers(request);
    let uri = core_uri(request);
    let unknown = http::Method::from_bytes(b"-").unwrap_or(http::Method::CONNECT);
    let (exchange, early) = site.begin(peer(request), &unknown, &uri, Version::HTTP_11, &headers);
    let mut answer = reply(early.unwrap_or_else(|| site.status("400", &headers)));
    finish(exchange, &mut answer.0);
    answer
}

/// A handler panicked: rocket caught it (rocket-0.5.2/src/server.rs, `handle`) and kept serving.
#[catch(500)]
fn panicked(request: &Request<'_>) -> Answer {
    let exchange =
        sent(request).map(|sent| sent.exchange.lock().unwrap_or_else(PoisonError::into_inner));
    match exchange.as_deref() {
        Some(Some(exchange)) => reply(exchange.panicked()),
        _ => reply(site(request).status("500", &core_headers(request))),
    }
}

/// Any other status rocket might raise itself (none is expected: every guard here forwards or
/// succeeds), rendered by the core as `/status/<code>` renders that code.
#[catch(default)]
fn unforeseen(status: Status, request: &Request<'_>) -> Answer {
    reply(site(request).status(&status.code.to_string(), &core_headers(request)))
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown`, on the core's tokio runtime with `--workers` threads rather than
/// one built by `#[launch]`, which would size it from `ROCKET_WORKERS`/`Rocket.toml` first.
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
    // rocket 0.5 binds its socket itself from `Config` (its listener API is crate-private): the
    // socket the core bound (proving the port free) is closed, rocket binds the same address
    // and port again (SO_REUSEADDR), and the core is told it is ready at rocket's liftoff, so
    // nobody learns the port before rocket listens on it.
    let addr = listener.local_addr()?;
    drop(listener);
    let workers = site.workers();
    let ready = std::sync::Mutex::new(Some(ready));
    let rocket = app(site, config(addr, workers))
        .attach(AdHoc::on_liftoff("ready", move |rocket| {
            let ready = ready.lock().ok().and_then(|mut r| r.take());
            let config = rocket.config();
            let bound = SocketAddr::new(config.address, config.port);
            Box::pin(async move {
                if let Some(ready) = ready {
                    ready.listening(bound);
                }
            })
        }))
        .ignite()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let stop = rocket.shutdown();
    tokio::spawn(async move {
        shutdown.await;
        stop.notify();
    });
    match rocket.launch().await {
        Ok(_) => Ok(()),
        // Connections still open past the grace period were cut: the server has stopped.
        Err(e) if matches!(e.kind(), ErrorKind::Shutdown(..)) => Ok(()),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}

/// rocket's configuration, all of it here: no `Rocket.toml`, no `ROCKET_*` variables (a
/// `Config` value is the whole figment), no log, no `Server: Rocket`, no client IP taken from
/// `X-Real-IP`, and no signal handling: the core's `Shutdown` stops the server. rocket waits
/// at most `grace + mercy + 1` seconds for connections after shutdown starts.
pub fn config(addr: SocketAddr, workers: usize) -> Config {
    let grace = u32::try_from(GRACE.as_secs())
        .unwrap_or(5)
        .saturating_sub(1);
    Config {
        address: addr.ip(),
        port: addr.port(),
        workers,
        ident: Ident::none(),
        ip_header: None,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: config::Shutdown {
            ctrlc: false,
            signals: HashSet::new(),
            grace,
            mercy: 0,
            ..config::Shutdown::default()
        },
        ..Config::default()
    }
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as rocket's response. rocket writes `Content-Length` itself from a sized
/// body (the core's `Content-Length: 0` included); a reply with neither body nor length (204,
/// 304) gets a body whose size cannot be known (see `Unmeasured`).
fn reply(reply: Reply) -> Answer {
    let (parts, body) = reply.into_parts();
    let mut response = Response::build();
    response.status(Status::new(parts.status.as_u16()));
    for (name, value) in &parts.headers {
        if name != CONTENT_LENGTH {
            response.raw_header_adjoin(name.as_str().to_owned(), rocket_header_value(value));
        }
    }
    if body.is_empty() && !parts.headers.contains_key(CONTENT_LENGTH) {
        response.sized_body(None, Unmeasured);
    } else {
        response.sized_body(body.len(), Cursor::new(body));
    }
    Answer(response.finalize())
}

/// rocket's data stream, in the core's terms.
fn body_of(read: std::io::Result<Capped<Vec<u8>>>) -> Result<Bytes, BodyError> {
    match read {
        Ok(body) if body.len() > BODY_LIMIT => Err(BodyError::TooLarge),
        Ok(body) => Ok(Bytes::from(body.into_inner())),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// rocket's decoded path parameter, or the segment as sent when it does not decode to UTF-8
/// (rocket decodes lossily, so the core would see U+FFFD instead).
fn segment<'a>(decoded: &'a str, uri: &'a Uri) -> &'a str {
    match uri.path().rsplit('/').next() {
        Some(raw) if RawStr::new(raw).percent_decode().is_err() => raw,
        _ => decoded,
    }
}

/// A converted reply, as rocket's handlers and catchers return it.
struct Answer(Response<'static>);

impl<'r> Responder<'r, 'static> for Answer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Ok(self.0)
    }
}

/// An empty body of unknown size, so that rocket sends no `Content-Length`, HEAD included: it
/// strips a HEAD response's unsized body into one of size 0 and announces that
/// (rocket-0.5.2/src/response/body.rs, `strip`), but keeps an unmeasurable sized one as is.
struct Unmeasured;

impl AsyncRead for Unmeasured {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Unmeasured {
    fn start_seek(self: Pin<&mut Self>, _: SeekFrom) -> std::io::Result<()> {
        Err(std::io::Error::other("a body without Content-Length"))
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        Poll::Ready(Err(std::io::Error::other("a body without Content-Length")))
    }
}

/// The data guard of the POST routes: the body read up to one byte past the limit, whether its
/// length is announced or it is chunked, handed to the core as is (rocket's own limits would
/// answer 413 before the core sees the content type).
struct Body(Result<Bytes, BodyError>);

#[rocket::async_trait]
impl<'r> FromData<'r> for Body {
    type Error = Infallible;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if sent(request).is_none_or(|sent| sent.body_broken) {
            return data::Outcome::Success(Body(Err(BodyError::Unreadable)));
        }
        let read = data.open((BODY_LIMIT + 1).bytes()).into_bytes().await;
        data::Outcome::Success(Body(body_of(read)))
    }
}

/// Whether the path as sent spells out the route that matched it (see the guard of `Sent`).
fn exact(request: &Request<'_>) -> bool {
    let Some(route) = request.route() else {
        return false;
    };
    let (template, sent) = (route.uri.path(), request.uri().path().as_str());
    template.split('/').count() == sent.split('/').count()
        && template
            .split('/')
            .zip(sent.split('/'))
            .all(|(expected, segment)| {
                if expected.starts_with('<') {
                    !segment.is_empty()
                } else {
                    expected == segment
                }
            })
}

/// The request as sent, kept in rocket's request-local cache by `Around` before routing (rocket
/// may later rewrite the method of HEAD to GET, and `Around` the path of an early reply).
struct Sent {
    method: http::Method,
    uri: Uri,
    headers: HeaderMap,
    body_broken: bool,
    exchange: Mutex<Option<Exchange>>,
    early: Mutex<Option<Reply>>,
}

fn sent<'r>(request: &'r Request<'_>) -> Option<&'r Sent> {
    request.local_cache(|| None::<Sent>).as_ref()
}

/// The request guard of every route: the request as sent. It forwards (to the static fallback)
/// when the route matched only through rocket's path normalisation: rocket matches the
/// percent-decoded, non-empty segments, so `/hello/`, `//hello` and `/hell%6F` would reach
/// `hello`, while the site's routes claim exactly their paths (`/a//b` is a static `404`).
#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Sent {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Infallible> {
        match sent(request) {
            Some(sent) if exact(request) => request::Outcome::Success(sent),
            _ => request::Outcome::Forward(Status::NotFound),
        }
    }
}

/// The guard of `early`: forwards unless `Around` left a reply, so a client asking for
/// `/__sitebench/early` itself gets the static fallback's 404.
struct Early(Reply);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Early {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Infallible> {
        let early = sent(request).and_then(|sent| sent.early.lock().ok()?.take());
        match early {
            Some(reply) => request::Outcome::Success(Early(reply)),
            None => request::Outcome::Forward(Status::NotFound),
        }
    }
}

/// `exchange.finish` on rocket's response: the core sees an empty header map (rocket adds
/// `Content-Length` only when sending, from the body's size), and what it adds (`Server`) is
/// copied over.
fn finish(exchange: Exchange, response: &mut Response<'_>) {
    let mut headers = HeaderMap::new();
    let length = response.body().preset_size().map(|size| size as u64);
    let status =
        StatusCode::from_u16(response.status().code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    exchange.finish(status, length, &mut headers);
    for (name, value) in &headers {
        response.set_raw_header(name.as_str().to_owned(), rocket_header_value(value));
    }
}

/// rocket 0.5 keeps its own header types (on `http` 0.2): every request header as `http` 1.x.
/// (rocket has already dropped values that are not UTF-8.)
fn core_headers(request: &Request<'_>) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(request.headers().len());
    for header in request.headers().iter() {
        let name = HeaderName::from_bytes(header.name().as_str().as_bytes());
        let value = HeaderValue::from_str(header.value());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    headers
}

/// Every method rocket knows is one of `http`'s; a failed conversion would be a bug, and the
/// core refuses the fallback (501).
fn core_method(method: Method) -> http::Method {
    http::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(http::Method::CONNECT)
}

/// The path and query as sent (rocket's `Origin` keeps them raw).
fn core_uri(request: &Request<'_>) -> Uri {
    Uri::try_from(request.uri().to_string()).unwrap_or_else(|_| Uri::from_static("/"))
}

/// rocket's headers take text: a value that is not UTF-8 is converted lossily, not dropped.
fn rocket_header_value(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// The client's address for the access log; `Request::remote` may have none.
fn peer(request: &Request<'_>) -> IpAddr {
    request
        .remote()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip())
}

/// The `Site` for what gets no `&State<Site>` (catchers and hand-built routes).
fn site<'r>(request: &'r Request<'_>) -> &'r Site {
    request
        .rocket()
        .state::<Site>()
        .expect("rocket() manages the Site")
}
