//! The sitebench site on trillium 1.4: one tuple of handlers run in order until one halts
//! (`State<Site>`, the `Around` handler, a `trillium_router::Router` of the site's routes, the
//! static fallback), `Around` holding the hook around every request (the core's admission rules
//! in its `run`, `Server` and the access log in its `before_send`), served by trillium-tokio on
//! the core's runtime and stopped gracefully through its `Swansong`. Every handler extracts,
//! calls the core, and writes its `Reply` into the `Conn`; trillium has its own `Method`,
//! `Status` and `Headers`, so the conversions to and from the core's `http` 1 live at the end.

use std::borrow::Cow;
use std::future::Future;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr};
use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use futures_util::FutureExt;
use percent_encoding::percent_decode_str;
use site_core::server::{GRACE, block_on_tokio};
use site_core::{
    Allow, BODY_LIMIT, Backend, BodyError, Deviation, Exchange, Ready, Reply, Shutdown, Site,
    SiteError,
};
use trillium::{
    Conn, Handler, HeaderName, HeaderValue, Headers, HttpConfig, Info, KnownHeaderName, Method,
    State, Status, Version, conn_unwrap,
};
use trillium_router::{Router, RouterConnExt, RouterRef};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "trillium",
    serve,
    deviations: &DEVIATIONS,
};

/// Lines of SITE.md that trillium makes impossible (sources: trillium-http 1.6.1 unless named).
/// - `HostRefusedByFramework`, `MethodRefusedByFramework`: trillium-http checks the request head
///   before any handler runs (`src/conn/h1.rs`, `parse_head`) and answers by itself, with no
///   body and `Connection: close`: `400` for an HTTP/1.1 request without `Host` or with two
///   (`validate_headers_h1`), `501` for a method outside the 40 its `Method` enum names
///   (`BREW`, a lowercase `get`: `Method::parse` in `src/method.rs`, then `From<&Error> for
///   Status` in `src/error.rs`). No setting turns either off.
/// - `FrameworkStatusTable`: a response's status is trillium's `Status`, an enum of the codes
///   it names (`src/status.rs`, `TryFrom<u16>`), and the status line is written from it with
///   its `canonical_reason` (`src/conn/h1.rs`, `write_headers`): `413 Payload Too Large`,
///   `300 Multiple Choice`, and no way to send `208`, `305` or `599` (`reply` answers those
///   with the core's 500).
/// - `NoHeaderReadTimeout`: the request head is read with no timer (`src/conn/h1.rs`,
///   `Conn::head`; only the wait for a keep-alive connection's next request ends at shutdown),
///   and neither `HttpConfig` nor trillium-server-common 0.7.11's `Config` has a timeout.
/// - `OversizedHeadClosed`: a head past `HttpConfig::head_max_len` ends `Conn::head` with
///   `Error::HeadersTooLong`, which `parse_head` treats as fatal: the connection closes with
///   nothing written, where SITE.md wants `431`.
/// - `TrickledHeadGrowsMemory`: while a head is unfinished, `Conn::head` calls
///   `Buffer::expand` before every read, and `expand` grows the `Vec` whenever its length
///   equals its capacity, which `fill_capacity` has just made so (`src/buffer.rs`): the buffer
///   doubles per read, and is zeroed each time. A head trickled a byte every 0.5 s, as a
///   slow client sends it (and no header-read timeout ends), held 1.6 GiB after 50 bytes,
///   with the one worker busy zeroing it. trillium-http 1.8 rewrote `Buffer` to grow only with
///   the data, but needs a newer Rust than 1.95.
pub const DEVIATIONS: [Deviation; 6] = [
    Deviation::HostRefusedByFramework,
    Deviation::MethodRefusedByFramework,
    Deviation::FrameworkStatusTable,
    Deviation::NoHeaderReadTimeout,
    Deviation::OversizedHeadClosed,
    Deviation::TrickledHeadGrowsMemory,
];

/// How much of a request head (request line and header section) trillium reads before it gives
/// up on it: room for the 32 KiB header section the core judges (SITE.md 7) and a long request
/// line (the 70 KiB request target gets the bare 400 for an over-long target, however it is
/// split into reads), where trillium's default is 8 KiB. It is checked before each read, so a
/// head may run up to one read past it (see `OversizedHeadClosed` for what happens beyond).
const HEAD_MAX_LEN: usize = 128 * 1024;

/// The site as trillium runs it: a tuple of handlers, run in order until one halts. `State`
/// puts a clone of the `Site` into every conn; `Around` refuses what the core refuses before
/// routing; the router's routes are in the order of SITE.md section 4; the static fallback
/// claims whatever they leave. Methods other than GET, HEAD and POST never get past `Around`
/// (501), so each route only adds the other of the two (`get`/`post`), and the router's own
/// answer to OPTIONS (`204` with `Allow`) is off.
pub fn app(site: Site) -> impl Handler {
    let routes = Router::build(|mut routes| {
        routes.set_options_handling(false);
        get(&mut routes, "/hello", hello);
        post(&mut routes, "/users", sign_up);
        get(&mut routes, "/users/:username", user);
        post(&mut routes, "/login", login);
        post(&mut routes, "/logout", logout);
        get(&mut routes, "/me", me);
        get(&mut routes, "/admin", admin);
        get(&mut routes, "/status/:code", status);
        get(&mut routes, "/teapot", teapot);
        get(&mut routes, "/plaintext", plaintext);
        get(&mut routes, "/json", json);
        get(&mut routes, "/healthz", healthz);
        get(&mut routes, "/openapi.json", openapi);
    });
    (State::new(site), Around, routes, static_file)
}

async fn hello(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.hello(sent.uri.query(), &sent.headers) }).await
}

async fn sign_up(mut conn: Conn) -> Conn {
    let body = body_of(&mut conn).await;
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.sign_up(&sent.headers, body)).await
}

async fn user(mut conn: Conn) -> Conn {
    let username = segment(&conn, "username");
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.user(&username, &sent.headers)).await
}

async fn login(mut conn: Conn) -> Conn {
    let body = body_of(&mut conn).await;
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.login(&sent.headers, body)).await
}

async fn logout(mut conn: Conn) -> Conn {
    let body = body_of(&mut conn).await;
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.logout(&sent.headers, body)).await
}

async fn me(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.me(&sent.headers)).await
}

async fn admin(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, site.admin(&sent.headers)).await
}

async fn status(mut conn: Conn) -> Conn {
    let code = segment(&conn, "code");
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.status(&code, &sent.headers) }).await
}

async fn teapot(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.teapot(&sent.headers) }).await
}

async fn plaintext(mut conn: Conn) -> Conn {
    let (site, _) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.plaintext() }).await
}

async fn json(mut conn: Conn) -> Conn {
    let (site, _) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.json() }).await
}

async fn healthz(mut conn: Conn) -> Conn {
    let (site, _) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.healthz() }).await
}

async fn openapi(mut conn: Conn) -> Conn {
    let (site, _) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async { site.openapi() }).await
}

async fn static_file(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(
        conn,
        site.static_file(&sent.method, &sent.uri, &sent.headers),
    )
    .await
}

async fn not_get(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async {
        site.method_not_allowed(Allow::GetHead, &sent.headers)
    })
    .await
}

async fn not_post(mut conn: Conn) -> Conn {
    let (site, sent) = conn_unwrap!(request(&mut conn), conn);
    answer(conn, async {
        site.method_not_allowed(Allow::Post, &sent.headers)
    })
    .await
}

// ----- around every request ------------------------------------------------------------------

/// Around every request: in `run`, before routing, the core's admission rules (Host, 431, 501);
/// in `before_send`, which trillium's server calls on the whole tuple after `run`, halted or
/// not (trillium-server-common 0.7.11 src/running_config.rs, `handle_stream`), `Server` and the
/// access log. Panics are caught where the core is called (`answer`).
struct Around;

impl Handler for Around {
    async fn run(&self, mut conn: Conn) -> Conn {
        // A request target trillium takes but the `http` crate refuses (64 KiB or more; `<`,
        // `>` or a backtick in the path) cannot be handed to the core: a bare 400, as the
        // backends built on hyper get from hyper itself (400 or 414: hyper-1.12
        // src/proto/h1/role.rs, `Server::parse`), before any code of theirs runs.
        let Some(sent) = Sent::of(&conn) else {
            return conn
                .with_status(Status::BadRequest)
                .with_response_header(KnownHeaderName::Connection, "close")
                .halt();
        };
        let peer = conn.peer_ip().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let version = core_version(conn.http_version());
        let site = conn_unwrap!(conn.state::<Site>(), conn);
        let (exchange, early) = site.begin(peer, &sent.method, &sent.uri, version, &sent.headers);
        conn.insert_state(exchange);
        match early {
            Some(refused) => reply(conn, refused),
            None => conn.with_state(sent),
        }
    }

    async fn before_send(&self, mut conn: Conn) -> Conn {
        let exchange = conn_unwrap!(conn.take_state::<Exchange>(), conn);
        finish(exchange, &mut conn);
        conn
    }

    /// trillium's server puts `Server: trillium/1.4.0 trillium-http/1.6.1` among the default
    /// headers of every response (trillium-server-common 0.7.11 src/config.rs,
    /// `info_with_server_header`), the bare ones it answers by itself included; `finish` writes
    /// the site's, so trillium's goes.
    async fn init(&mut self, info: &mut Info) {
        if let Some(defaults) = info.shared_state_mut::<Headers>() {
            defaults.remove(KnownHeaderName::Server);
        }
    }
}

// ----- the server ----------------------------------------------------------------------------

/// Serves until `shutdown`, on the core's tokio runtime with `--workers` threads (trillium-tokio
/// takes the runtime it is started in).
pub fn serve(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    block_on_tokio(site.workers(), run(listener, site, shutdown, ready))
}

/// trillium's signal handling is off (the core owns signals); `shutdown` shuts its `Swansong`,
/// which stops the accept loop and lets each connection finish its request, for at most `GRACE`.
async fn run(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let server = trillium_tokio::config()
        .with_prebound_server(listener)
        .with_nodelay()
        .without_signals()
        .with_http_config(HttpConfig::default().with_head_max_len(HEAD_MAX_LEN))
        .spawn(app(site));
    // Resolves once trillium has taken the listener and run the handlers' `init`.
    server.info().await;
    ready.listening(addr);
    shutdown.await;
    let _ = tokio::time::timeout(GRACE, server.shut_down()).await;
    Ok(())
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply written into the conn, which halts the tuple. trillium's `Status` is a list
/// of the codes it knows (trillium-http 1.6.1 src/status.rs, `TryFrom<u16>`): another one
/// (`599`) becomes the core's 500.
fn reply(mut conn: Conn, reply: Reply) -> Conn {
    let code = reply.status().as_u16();
    let (status, reply) = match Status::try_from(code) {
        Ok(status) => (status, reply),
        Err(_) => {
            // Tagged as declared, so that the outside tools' runs do not count it as a bug.
            let cause = format!(
                "trillium cannot send status {code} (declared deviation FrameworkStatusTable)"
            );
            let request = core_headers(conn.request_headers());
            let failed = SiteError::Internal(cause).render(&request);
            (Status::InternalServerError, failed)
        }
    };
    let (parts, body) = reply.into_parts();
    trillium_headers(&parts.headers, conn.response_headers_mut());
    conn.with_status(status).with_body(Vec::from(body)).halt()
}

/// The POST body, read up to `BODY_LIMIT` whatever the framing: `with_max_len` refuses an
/// announced length over it before reading a byte, and stops a chunked body one byte past it
/// (trillium-http 1.6.1 src/received_body/raw.rs and chunked.rs: "content too long").
async fn body_of(conn: &mut Conn) -> Result<Bytes, BodyError> {
    let body = conn.request_body().with_max_len(BODY_LIMIT as u64);
    body.read_bytes()
        .await
        .map(Bytes::from)
        .map_err(|error| match error {
            trillium::Error::ReceivedBodyTooLong(_) => BodyError::TooLarge,
            trillium::Error::Io(e) if e.kind() == ErrorKind::Unsupported => BodyError::TooLarge,
            _ => BodyError::Unreadable,
        })
}

/// The path parameter, percent-decoded (trillium's router hands over the segment as sent), or
/// as sent when it does not decode to UTF-8 (the core then refuses it as it would any malformed
/// value).
fn segment(conn: &Conn, name: &str) -> String {
    let raw = conn.param(name).unwrap_or_default();
    percent_decode_str(raw)
        .decode_utf8()
        .map_or_else(|_| raw.to_owned(), Cow::into_owned)
}

/// The core's answer, written into the conn by `reply`. A panic in it becomes the core's 500
/// here, not in `Around`: trillium hands the `Conn`, and the connection's socket with it, to
/// each handler by value (trillium 1.4.0 src/handler.rs, `Handler::run`), so a hook that caught
/// the panic further out would have no conn left to answer on.
async fn answer(conn: Conn, answer: impl Future<Output = Reply>) -> Conn {
    let answered = match AssertUnwindSafe(answer).catch_unwind().await {
        Ok(answered) => answered,
        Err(_panic) => match conn.state::<Exchange>() {
            Some(exchange) => exchange.panicked(),
            None => SiteError::Panicked.render(&http::HeaderMap::new()),
        },
    };
    reply(conn, answered)
}

/// A GET route: GET and HEAD reach `handler` (trillium's router adds no HEAD to `get`;
/// trillium-http writes no body for HEAD), POST gets the core's 405.
fn get(routes: &mut RouterRef<'_>, path: &'static str, handler: impl Handler) {
    routes.any(&[Method::Get, Method::Head], path, (exact, handler));
    routes.post(path, (exact, not_get));
}

/// A POST route: POST reaches `handler`, GET and HEAD get the core's 405.
fn post(routes: &mut RouterRef<'_>, path: &'static str, handler: impl Handler) {
    routes.post(path, (exact, handler));
    routes.any(&[Method::Get, Method::Head], path, (exact, not_post));
}

/// First in every route: routefinder, under trillium's router, trims slashes from both ends of
/// the path, skips repeated ones and lets a `:param` follow a literal without its slash
/// (routefinder-0.6.0 src/route_spec.rs, `inner_match`), so `/healthz/`, `//healthz` and
/// `/usersada` would reach `healthz` and `user`. The site's routes claim their paths as sent:
/// a path of another shape than the route's goes to the static fallback.
async fn exact(conn: Conn) -> Conn {
    let as_sent = conn.route().is_some_and(|route| {
        let (route, sent) = (route.split('/'), conn.path().split('/'));
        route.clone().count() == sent.clone().count()
            && route.zip(sent).all(|(r, s)| r.starts_with(':') || r == s)
    });
    if as_sent {
        conn
    } else {
        static_file(conn).await
    }
}

/// The site and the request, as every handler hands them to the core; `None` only if `State`
/// and `Around` did not run first (`conn_unwrap!` then passes the conn on untouched).
fn request(conn: &mut Conn) -> Option<(Site, Sent)> {
    let site = conn.take_state::<Site>()?;
    let sent = conn.take_state::<Sent>().or_else(|| Sent::of(conn))?;
    Some((site, sent))
}

/// `exchange.finish` on a trillium conn: what the core adds (`Server`) it writes into an empty
/// `http` 1 map, copied over. trillium writes `Date` and `Content-Length` itself (none on 204
/// and 304), and answers 404 for a conn no handler gave a status.
fn finish(exchange: Exchange, conn: &mut Conn) {
    let status = conn
        .status()
        .map_or(http::StatusCode::NOT_FOUND, core_status);
    let mut added = http::HeaderMap::new();
    exchange.finish(status, conn.response_len(), &mut added);
    trillium_headers(&added, conn.response_headers_mut());
}

/// The request as sent, in the core's `http` 1 types. `Around` converts it once and leaves it
/// in the conn's state (trillium's way to hand data from one handler to the next), where the
/// route's handler takes it.
struct Sent {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
}

impl Sent {
    /// `None` for a request target that is not an `http::Uri`.
    fn of(conn: &Conn) -> Option<Self> {
        Some(Sent {
            method: core_method(conn.method()),
            uri: http::Uri::try_from(conn.path_and_query()).ok()?,
            headers: core_headers(conn.request_headers()),
        })
    }
}

// ----- trillium-http <-> http 1 (core), through strings and bytes, in one place. Both accept
// the same header grammar, so a conversion fails only on a bug; the fallbacks keep that from
// becoming a panic. (trillium-http's `http-compat-1` feature converts owned `Headers` only: a
// clone of every request's headers.)

fn trillium_headers(core: &http::HeaderMap, headers: &mut Headers) {
    for (name, value) in core {
        let name = HeaderName::from(name.as_str()).into_owned();
        headers.append(name, HeaderValue::from(value.as_bytes().to_vec()));
    }
}

fn core_headers(headers: &Headers) -> http::HeaderMap {
    let mut core = http::HeaderMap::with_capacity(headers.len());
    for (name, values) in headers {
        let Ok(name) = http::HeaderName::from_bytes(name.as_ref().as_bytes()) else {
            continue;
        };
        for value in values {
            if let Ok(value) = http::HeaderValue::from_bytes(value.as_ref()) {
                core.append(name.clone(), value);
            }
        }
    }
    core
}

/// An unconvertible method becomes one the core refuses (501).
fn core_method(method: Method) -> http::Method {
    http::Method::from_bytes(method.as_ref().as_bytes()).unwrap_or(http::Method::CONNECT)
}

fn core_version(version: Version) -> http::Version {
    match version {
        Version::Http0_9 => http::Version::HTTP_09,
        Version::Http1_0 => http::Version::HTTP_10,
        Version::Http2 => http::Version::HTTP_2,
        Version::Http3 => http::Version::HTTP_3,
        _ => http::Version::HTTP_11,
    }
}

fn core_status(status: Status) -> http::StatusCode {
    http::StatusCode::from_u16(u16::from(status)).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}
