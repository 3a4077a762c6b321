//! The sitebench site on salvo 1.1: a `Router` tree of `#[handler]` functions (each route with
//! a filter that makes it match the path as sent), the `Site` in every request's `Depot`, a
//! `SecureMaxSize` body limit, a static catch-all route, one hoop around every request (the
//! core's admission rules, `Server`, access log, panics), and salvo's `Server` on the given
//! listener with a header-read timeout (its fuse config) and graceful shutdown (its handle).
//! Every handler extracts, calls the core, and converts its `Reply`.

use std::net::{IpAddr, Ipv4Addr};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use salvo::conn::tcp::{TcpAcceptor, TcpCoupler};
use salvo::conn::{Accepted, Acceptor, Holding, SocketAddr, StraightStream};
use salvo::fuse::{ArcFusePolicy, FuseAction, FuseConfig, FuseInfo, TransProto};
use salvo::http::body::Body as _;
use salvo::http::header::CONTENT_LENGTH;
use salvo::http::request::SecureMaxSize;
use salvo::http::uri::Scheme;
use salvo::http::{Method, ParseError, ParseResult};
use salvo::hyper::body::Bytes;
use salvo::hyper::ext::ReasonPhrase;
use salvo::routing::PathState;
use salvo::{ConnCtrl, Depot, FlowCtrl, Handler, Request, Response, Router, Server, handler};
use site_core::server::{GRACE, HEADER_READ_TIMEOUT, block_on_tokio};
use site_core::{Allow, BODY_LIMIT, Backend, BodyError, Deviation, Ready, Reply, Shutdown, Site};

/// This backend, as its binary and its conformance tests see it.
pub const BACKEND: Backend = Backend {
    name: "salvo",
    serve,
    deviations: &DEVIATIONS,
};

/// salvo lets every line of the contract be met: nothing to declare.
pub const DEVIATIONS: [Deviation; 0] = [];

/// The site's routes, in the order of SITE.md section 4, then the static catch-all. The root
/// router's hoops run for every request, since the catch-all matches any path and method:
/// first the `Site` into the `Depot`, then `around`, then the body limit. Methods other than
/// GET, HEAD and POST never reach a route (`around` answers 501).
pub fn app(site: Site) -> Router {
    Router::with_hoop(Inject(site))
        .hoop(around)
        .hoop(SecureMaxSize::new(BODY_LIMIT))
        .push(get("hello", hello))
        .push(post("users", sign_up))
        .push(get("users/{username}", user))
        .push(post("login", login))
        .push(post("logout", logout))
        .push(get("me", me))
        .push(get("admin", admin))
        .push(get("status/{code}", status))
        .push(get("teapot", teapot))
        .push(get("plaintext", plaintext))
        .push(get("json", json))
        .push(get("healthz", healthz))
        .push(get("openapi.json", openapi))
        .push(Router::with_path("{**rest}").goal(static_file))
}

#[handler]
async fn hello(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).hello(req.uri().query(), req.headers()));
}

#[handler]
async fn sign_up(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let body = body_of(req.payload().await);
    reply(res, site(depot).sign_up(req.headers(), body).await);
}

#[handler]
async fn user(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let username = segment(req, "username");
    reply(res, site(depot).user(&username, req.headers()).await);
}

#[handler]
async fn login(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let body = body_of(req.payload().await);
    reply(res, site(depot).login(req.headers(), body).await);
}

#[handler]
async fn logout(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let body = body_of(req.payload().await);
    reply(res, site(depot).logout(req.headers(), body).await);
}

#[handler]
async fn me(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).me(req.headers()).await);
}

#[handler]
async fn admin(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).admin(req.headers()).await);
}

#[handler]
async fn status(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let code = segment(req, "code");
    reply(res, site(depot).status(&code, req.headers()));
}

#[handler]
async fn teapot(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).teapot(req.headers()));
}

#[handler]
async fn plaintext(depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).plaintext());
}

#[handler]
async fn json(depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).json());
}

#[handler]
async fn healthz(depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).healthz());
}

#[handler]
async fn openapi(depot: &mut Depot, res: &mut Response) {
    reply(res, site(depot).openapi());
}

#[handler]
async fn static_file(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let site = site(depot);
    reply(
        res,
        site.static_file(req.method(), req.uri(), req.headers())
            .await,
    );
}

#[handler]
async fn not_get(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(
        res,
        site(depot).method_not_allowed(Allow::GetHead, req.headers()),
    );
}

#[handler]
async fn not_post(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    reply(
        res,
        site(depot).method_not_allowed(Allow::Post, req.headers()),
    );
}

// ----- around every request ------------------------------------------------------------------

/// Around every request, before any handler: the core's admission rules (Host, 431, 501),
/// panics turned into the core's 500 (salvo lets a panic end the connection's task without
/// a response), then `Server` and the access log. salvo routes before its hoops run, but
/// routing only picks a handler: the static catch-all means every request gets here.
#[handler]
async fn around(req: &mut Request, depot: &mut Depot, res: &mut Response, ctrl: &mut FlowCtrl) {
    let peer = req
        .remote_addr()
        .ip()
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let (exchange, early) =
        site(depot).begin(peer, req.method(), req.uri(), req.version(), req.headers());
    if let Some(refused) = early {
        reply(res, refused);
        ctrl.skip_rest();
    } else if AssertUnwindSafe(ctrl.call_next(req, depot, res))
        .catch_unwind()
        .await
        .is_err()
    {
        reply(res, exchange.panicked());
        ctrl.skip_rest();
    }
    // Not `status`: `#[handler]` makes each handler a unit struct, and one is called that.
    let code = res.status_code.unwrap_or_default();
    let length = res.body.size_hint().exact();
    // salvo drops a HEAD response's body after the hoops (salvo_core-1.1.0 src/service.rs,
    // `HyperHandler::handle`), so hyper would see an empty body and write no length: the
    // GET body's length is written here.
    if *req.method() == Method::HEAD
        && let Some(length) = length
    {
        res.headers_mut()
            .entry(CONTENT_LENGTH)
            .or_insert(length.into());
    }
    exchange.finish(code, length, res.headers_mut());
    // hyper writes the `http` crate's phrase unless the response carries its own
    // (hyper-1.12 src/proto/h1/role.rs, `Server::encode` reads `ext::ReasonPhrase`); salvo
    // hands the response's extensions to hyper (salvo_core-1.1.0 src/http/response.rs,
    // `into_hyper`).
    if let Some(phrase) = site_core::status_codes::custom_reason(code) {
        res.extensions
            .insert(ReasonPhrase::from_static(phrase.as_bytes()));
    }
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

/// salvo's `Server` on the given socket. Its fuse config carries the header-read timeout
/// (salvo sets hyper's from it per connection: salvo_core-1.1.0 src/conn/proto.rs,
/// `HttpBuilder::serve_connection`); `shutdown` triggers salvo's graceful stop, which ends
/// keep-alive, lets in-flight requests finish and cuts the rest after `GRACE`.
async fn run(
    listener: std::net::TcpListener,
    site: Site,
    shutdown: Shutdown,
    ready: Ready,
) -> std::io::Result<()> {
    let acceptor = NoDelay::new(tokio::net::TcpListener::from_std(listener)?)?;
    let addr = acceptor.listener.local_addr()?;
    let server = Server::new(acceptor)
        .fuse_config(FuseConfig::disabled().with_http1_header_timeout(HEADER_READ_TIMEOUT));
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.await;
        handle.stop_graceful(GRACE);
    });
    // The socket was listening before salvo took it: connections queue until it accepts.
    ready.listening(addr);
    server.try_serve(app(site)).await
}

/// salvo's `TcpAcceptor` with `TCP_NODELAY` on every accepted socket: salvo's own
/// `TcpAcceptor::accept` leaves Nagle's algorithm on and wraps the socket in a
/// `StraightStream`, which never hands it back (salvo_core-1.1.0 src/conn/tcp.rs). So this is
/// that function again, on salvo's `Acceptor` trait, with one line added, less the field
/// where salvo's keeps a socket across an async fuse policy (a `FuseConfig` decides at once).
/// salvo's accept loop backs off after an accept error (src/server.rs, `try_serve`).
struct NoDelay {
    listener: TcpAcceptor,
    local_addr: SocketAddr,
}

impl NoDelay {
    fn new(listener: tokio::net::TcpListener) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?.into();
        Ok(Self {
            listener: TcpAcceptor::try_from(listener)?,
            local_addr,
        })
    }
}

impl Acceptor for NoDelay {
    type Coupler = TcpCoupler<Self::Stream>;
    type Stream = StraightStream<tokio::net::TcpStream>;

    fn holdings(&self) -> &[Holding] {
        self.listener.holdings()
    }

    async fn accept(
        &mut self,
        fuse_policy: Option<ArcFusePolicy>,
    ) -> std::io::Result<Accepted<Self::Coupler, Self::Stream>> {
        loop {
            let (stream, remote_addr) = self.listener.inner().accept().await?;
            let _ = stream.set_nodelay(true);
            let conn_ctrl = ConnCtrl::new();
            let (fuse_config, observer) = match &fuse_policy {
                None => (None, None),
                Some(policy) => {
                    let info = FuseInfo {
                        trans_proto: TransProto::Tcp,
                        remote_addr: remote_addr.into(),
                        local_addr: self.local_addr.clone(),
                    };
                    match policy.decide(&info).await {
                        FuseAction::Accept(config) => {
                            (Some(config), policy.observe(&info, &conn_ctrl))
                        }
                        FuseAction::Reject => continue,
                    }
                }
            };
            return Ok(Accepted {
                coupler: TcpCoupler::new(),
                stream: StraightStream::new(stream, fuse_config, conn_ctrl.clone(), observer),
                fuse_config,
                conn_ctrl,
                local_addr: self.local_addr.clone(),
                remote_addr: remote_addr.into(),
                http_scheme: Scheme::HTTP,
            });
        }
    }
}

// ----- glue: the same names in every adapter, then this one's own ----------------------------

/// The core's reply as salvo's response (salvo speaks `http` 1, like the core).
fn reply(res: &mut Response, reply: Reply) {
    *res = reply.into();
}

/// salvo's body errors, in the core's terms (the limit comes from `SecureMaxSize`).
fn body_of(body: ParseResult<&Bytes>) -> Result<Bytes, BodyError> {
    match body {
        Ok(bytes) => Ok(bytes.clone()),
        Err(ParseError::PayloadTooLarge) => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The path parameter, percent-decoded by salvo (lossily: invalid UTF-8 becomes U+FFFD, which
/// the core refuses as it would any malformed value), or the last segment as sent.
fn segment(req: &Request, name: &str) -> String {
    match req.params().get(name) {
        Some(value) => value.clone(),
        None => req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// A GET route, answering HEAD too (salvo's `get` filter is GET alone: salvo_core-1.1.0
/// src/routing/filters/others.rs, `MethodFilter`); POST, the only other method that gets this
/// far, gets the core's 405 (salvo's own 405 would be its HTML page).
fn get(path: &'static str, handler: impl Handler) -> Router {
    let handler = handler.arc();
    Router::with_path(path)
        .filter_fn(exact(path))
        .get(handler.clone())
        .head(handler)
        .post(not_get)
}

/// A POST route; GET and HEAD get the core's 405.
fn post(path: &'static str, handler: impl Handler) -> Router {
    Router::with_path(path)
        .filter_fn(exact(path))
        .post(handler)
        .get(not_post)
        .head(not_post)
}

/// salvo matches routes on the path with empty segments and a trailing slash dropped and
/// every segment percent-decoded (salvo_core-1.1.0 src/routing/path_state.rs,
/// `parse_path_parts`), so `/hello/`, `//hello` and `/hell%6F` would reach `hello`; the
/// site's routes claim their paths as sent, so each literal segment must be spelt out (else
/// the static catch-all answers).
fn exact(template: &'static str) -> impl Fn(&mut Request, &mut PathState<'_>) -> bool {
    move |req, _| {
        let sent = req.uri().path().strip_prefix('/').unwrap_or_default();
        template.split('/').count() == sent.split('/').count()
            && template
                .split('/')
                .zip(sent.split('/'))
                .all(|(t, s)| t.starts_with('{') || t == s)
    }
}

/// Shared state: a hoop that puts the `Site` in each request's `Depot`, as
/// `salvo::affix_state::inject` does (that one lives in salvo_extra, which the workspace's
/// salvo features leave out).
struct Inject(Site);

#[handler]
impl Inject {
    async fn handle(&self, depot: &mut Depot) {
        depot.insert_typed(self.0.clone());
    }
}

/// The `Site` that `Inject` put in the depot. Every handler runs under the root router's
/// hoops, `Inject` first, so it is always there: a missing one is a bug in `app`, never
/// something a request can cause.
fn site(depot: &Depot) -> &Site {
    depot
        .get_typed::<Site>()
        .expect("`app` puts the `Inject` hoop before every handler")
}
