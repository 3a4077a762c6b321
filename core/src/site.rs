//! The site itself: one method per route of SITE.md section 4, each taking what an adapter
//! extracts (raw query, path segment, headers, body) and returning the route's `Reply`, which
//! the adapter converts; every decision is made here. What happens around every request
//! (admission, `Server`, the access log, panics) is `exchange`'s: `Site::begin` hands it on.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use serde::Serialize;

use crate::admission;
use crate::body::{BodyError, BodyKind, body_kind, form_pairs, within_limit};
use crate::cli::Config;
use crate::credentials;
pub use crate::errors::Allow;
use crate::errors::SiteError;
use crate::exchange::{Exchange, Lifecycle};
use crate::negotiation::prefers_html;
use crate::openapi;
use crate::pages;
use crate::passwords::Passwords;
use crate::reply::{self, Reply};
use crate::sessions::{self, LiveSessions, SessionToken};
use crate::static_files::StaticRoot;
use crate::status_codes::{self, StatusRequest};
use crate::storage::Storage;
use crate::throttle::LoginThrottle;
use crate::users::{self, User, Username};

/// The longest `name` `/hello` greets, in characters.
const HELLO_NAME_MAX: usize = 64;
/// How many users `/admin` lists.
const ADMIN_LIST_LIMIT: u32 = 100;

/// A running site: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Site(Arc<Inner>);

struct Inner {
    lifecycle: Lifecycle,
    statics: StaticRoot,
    storage: Storage,
    sessions: LiveSessions,
    passwords: Passwords,
    throttle: LoginThrottle,
    admins: HashSet<String>,
    secure_cookies: bool,
    workers: usize,
    panic_path: Option<String>,
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

#[derive(Serialize)]
struct Account<'a> {
    username: &'a str,
    admin: bool,
}

#[derive(Serialize)]
struct StatusBody {
    status: u16,
    title: String,
}

#[derive(Serialize)]
struct UserList {
    users: Vec<User>,
}

impl Site {
    /// Opens the static root, the database and the password hasher; `Err` is one line.
    pub fn open(config: Config, backend: &'static str) -> Result<Self, String> {
        let statics = match &config.static_dir {
            Some(dir) => StaticRoot::disk(dir)?,
            None => StaticRoot::embedded(),
        };
        let storage = Storage::open(&config.database)?;
        let passwords = Passwords::new(config.password_cost, config.workers)?;
        Ok(Self(Arc::new(Inner {
            lifecycle: Lifecycle::new(backend, config.quiet)?,
            statics,
            storage,
            sessions: LiveSessions::default(),
            passwords,
            throttle: LoginThrottle::default(),
            admins: config
                .admin
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
            secure_cookies: config.secure_cookies,
            workers: config.workers,
            panic_path: config.panic_path,
        })))
    }

    /// How many worker threads the backend should run (`--workers`).
    pub fn workers(&self) -> usize {
        self.0.workers
    }

    /// The start of every exchange, before routing: the reply to send at once when the
    /// request may not be served at all (the admission rules' `400`, `431` or `501`), and
    /// the [`Exchange`] to finish the response with, whichever it is (`exchange` owns both).
    pub fn begin(
        &self,
        peer: IpAddr,
        method: &Method,
        uri: &Uri,
        version: Version,
        headers: &HeaderMap,
    ) -> (Exchange, Option<Reply>) {
        self.0.lifecycle.begin(peer, method, uri, version, headers)
    }

    // ----- routes, in the order of SITE.md section 4 ---------------------------------------

    /// `GET /hello?name=...`
    pub fn hello(&self, query: Option<&str>, request: &HeaderMap) -> Reply {
        answer(request, || {
            let pairs = form_pairs(query.unwrap_or("").as_bytes())
                .map_err(|_| SiteError::BadQuery("The query string is not valid UTF-8."))?;
            let mut names = pairs
                .iter()
                .filter(|(k, _)| k == "name")
                .map(|(_, v)| v.as_str());
            let name = match (names.next(), names.next()) {
                (None, _) => "World",
                (Some(_), Some(_)) => return Err(SiteError::BadQuery("Give name only once.")),
                (Some(""), None) => return Err(SiteError::BadQuery("The name must not be empty.")),
                (Some(n), None) if n.chars().count() > HELLO_NAME_MAX => {
                    return Err(SiteError::BadQuery(
                        "The name must be at most 64 characters.",
                    ));
                }
                (Some(n), None) => n,
            };
            Ok(reply::with_body(
                StatusCode::OK,
                reply::TEXT_HTML,
                pages::hello(name),
            ))
        })
    }

    /// `POST /users`: sign-up.
    pub async fn sign_up(&self, request: &HeaderMap, body: Result<Bytes, BodyError>) -> Reply {
        answer_later(request, async {
            admission::same_origin_post(request)?;
            let form = credentials::parse(request, body)?;
            let (username, password) = users::parse_sign_up(&form.username, &form.password)
                .map_err(SiteError::RulesBroken)?;
            let hash = self.0.passwords.hash(password.as_str().to_owned()).await?;
            let created_at = rfc3339_now();
            self.0
                .storage
                .insert_user(username.as_str().to_owned(), hash, created_at.clone())
                .await?;
            let location = user_location(&username);
            Ok(match form.kind {
                BodyKind::Form => see_other(location),
                BodyKind::Json => {
                    let user = self.user_view(username.as_str().to_owned(), created_at);
                    let mut created = reply::json(StatusCode::CREATED, &user);
                    created
                        .headers_mut()
                        .insert(http::header::LOCATION, location);
                    created
                }
            })
        })
        .await
    }

    /// `GET /users/{username}`
    pub async fn user(&self, username: &str, request: &HeaderMap) -> Reply {
        answer_later(request, async {
            let name = Username::parse(username).map_err(|_| SiteError::NotFound)?;
            let stored = self
                .0
                .storage
                .find_user(name.as_str().to_owned())
                .await?
                .ok_or(SiteError::NotFound)?;
            let user = self.user_view(stored.username, stored.created_at);
            Ok(reply::negotiated(if prefers_html(request) {
                reply::with_body(
                    StatusCode::OK,
                    reply::TEXT_HTML,
                    pages::user(&user.username, &user.created_at, user.admin),
                )
            } else {
                reply::json(StatusCode::OK, &user)
            }))
        })
        .await
    }

    /// `POST /login`
    pub async fn login(&self, request: &HeaderMap, body: Result<Bytes, BodyError>) -> Reply {
        answer_later(request, async {
            admission::same_origin_post(request)?;
            let form = credentials::parse(request, body)?;
            let key = form.username.to_ascii_lowercase();
            self.0
                .throttle
                .check(&key, Instant::now())
                .map_err(|retry_after_secs| SiteError::Throttled { retry_after_secs })?;
            let signed_in = self.verify(&form.username, form.password).await?;
            let Some(username) = signed_in else {
                self.0.throttle.record_failure(&key, Instant::now());
                return Err(SiteError::BadCredentials);
            };
            self.0.throttle.clear(&key);
            let token = SessionToken::generate();
            let (now, digest) = (unix_now(), token.digest());
            let expires_at = now + sessions::LIFETIME_SECS;
            self.0
                .storage
                .insert_session(digest, username.clone(), now, expires_at)
                .await?;
            self.0
                .sessions
                .remember(digest, Arc::from(username.as_str()), expires_at);
            let mut response = match form.kind {
                BodyKind::Form => see_other(HeaderValue::from_static("/me")),
                BodyKind::Json => reply::json(
                    StatusCode::OK,
                    &Account {
                        admin: self.is_admin(&username),
                        username: &username,
                    },
                ),
            };
            response.headers_mut().insert(
                http::header::SET_COOKIE,
                token.set_cookie(self.0.secure_cookies),
            );
            Ok(reply::personal(response))
        })
        .await
    }

    /// `POST /logout`: idempotent; the body is ignored but still limited.
    pub async fn logout(&self, request: &HeaderMap, body: Result<Bytes, BodyError>) -> Reply {
        answer_later(request, async {
            admission::same_origin_post(request)?;
            within_limit(body)?;
            if let Some(token) = SessionToken::from_request(request) {
                let digest = token.digest();
                self.0.storage.delete_session(digest).await?;
                self.0.sessions.forget(&digest);
            }
            let mut response = match body_kind(request) {
                Ok(BodyKind::Form) => see_other(HeaderValue::from_static("/")),
                _ => reply::empty(StatusCode::NO_CONTENT),
            };
            response.headers_mut().insert(
                http::header::SET_COOKIE,
                sessions::clear_cookie(self.0.secure_cookies),
            );
            Ok(reply::personal(response))
        })
        .await
    }

    /// `GET /me`: personal whatever the outcome (a 401 too depends on the session).
    pub async fn me(&self, request: &HeaderMap) -> Reply {
        let outcome = answer_later(request, async {
            let username = self.session_user(request).await?;
            let admin = self.is_admin(&username);
            Ok(reply::negotiated(if prefers_html(request) {
                reply::with_body(
                    StatusCode::OK,
                    reply::TEXT_HTML,
                    pages::me(&username, admin),
                )
            } else {
                reply::json(
                    StatusCode::OK,
                    &Account {
                        username: &username,
                        admin,
                    },
                )
            }))
        })
        .await;
        reply::personal(outcome)
    }

    /// `GET /admin`: JSON only (SITE.md 8); personal whatever the outcome.
    pub async fn admin(&self, request: &HeaderMap) -> Reply {
        let outcome = answer_later(request, async {
            let username = self.session_user(request).await?;
            if !self.is_admin(&username) {
                return Err(SiteError::NotAdmin);
            }
            let users = self
                .0
                .storage
                .list_users(ADMIN_LIST_LIMIT)
                .await?
                .into_iter()
                .map(|(name, created_at)| self.user_view(name, created_at))
                .collect();
            Ok(reply::json(StatusCode::OK, &UserList { users }))
        })
        .await;
        reply::personal(outcome)
    }

    /// `GET /status/{code}`
    pub fn status(&self, code: &str, request: &HeaderMap) -> Reply {
        answer(request, || {
            let status = match StatusRequest::parse(code) {
                StatusRequest::Final(status) => status,
                StatusRequest::Informational(_) => return Err(SiteError::InformationalStatus),
                StatusRequest::Invalid => return Err(SiteError::InvalidStatus),
            };
            let header = status_headers(status);
            if status.as_u16() >= 400 {
                // Through the problem, so that an HTML error page can say when to retry.
                let mut problem = crate::problem::Problem::new(status).demonstration();
                if let Some((name, value)) = header {
                    problem = problem.header(name, value);
                }
                return Ok(problem.render(request));
            }
            let mut response = if status_codes::has_no_body(status) {
                reply::empty(status)
            } else {
                let title = status_codes::title(status);
                reply::json(
                    status,
                    &StatusBody {
                        status: status.as_u16(),
                        title,
                    },
                )
            };
            if let Some((name, value)) = header {
                response.headers_mut().insert(name, value);
            }
            Ok(response)
        })
    }

    /// `GET /teapot`
    pub fn teapot(&self, request: &HeaderMap) -> Reply {
        // The catalogue's own sentence, so `/teapot` and `/status/418` say the same thing.
        crate::problem::Problem::new(StatusCode::IM_A_TEAPOT).render(request)
    }

    /// `GET /plaintext` (as TechEmpower's plaintext test).
    pub fn plaintext(&self) -> Reply {
        reply::with_body(
            StatusCode::OK,
            reply::TEXT_PLAIN,
            Bytes::from_static(b"Hello, World!"),
        )
    }

    /// `GET /json`, serialised per request (as TechEmpower's json test).
    pub fn json(&self) -> Reply {
        reply::json(
            StatusCode::OK,
            &Message {
                message: "Hello, World!",
            },
        )
    }

    /// `GET /healthz`
    pub fn healthz(&self) -> Reply {
        reply::with_body(StatusCode::OK, reply::TEXT_PLAIN, Bytes::from_static(b"ok"))
    }

    /// `GET /openapi.json`
    pub fn openapi(&self) -> Reply {
        reply::with_body(
            StatusCode::OK,
            reply::APPLICATION_JSON,
            Bytes::from_static(openapi::DOCUMENT.as_bytes()),
        )
    }

    /// Any method on a path no route claims: static pages for GET/HEAD, `405` for POST.
    pub async fn static_file(&self, method: &Method, uri: &Uri, request: &HeaderMap) -> Reply {
        if self.0.panic_path.as_deref() == Some(uri.path()) {
            panic!("the test hook {} panics on purpose", uri.path());
        }
        match *method {
            Method::GET | Method::HEAD => {
                self.0.statics.serve(uri.path(), uri.query(), request).await
            }
            Method::POST => SiteError::MethodNotAllowed(Allow::GetHead).render(request),
            _ => SiteError::NotImplemented.render(request),
        }
    }

    /// A route asked with the wrong one of GET, HEAD and POST.
    pub fn method_not_allowed(&self, allow: Allow, request: &HeaderMap) -> Reply {
        SiteError::MethodNotAllowed(allow).render(request)
    }

    // ----- helpers ---------------------------------------------------------------------

    fn is_admin(&self, username: &str) -> bool {
        self.0.admins.contains(&username.to_ascii_lowercase())
    }

    fn user_view(&self, username: String, created_at: String) -> User {
        User {
            admin: self.is_admin(&username),
            username,
            created_at,
        }
    }

    /// The stored username for valid credentials. A hash is verified either way, so wrong
    /// password, unknown user and malformed username take about the same time.
    async fn verify(&self, username: &str, password: String) -> Result<Option<String>, SiteError> {
        if password.chars().count() > *users::PASSWORD_LENGTH.end() {
            return Ok(None);
        }
        let stored = match Username::parse(username) {
            Ok(name) => self.0.storage.find_user(name.as_str().to_owned()).await?,
            Err(_) => None,
        };
        let (name, hash) = match stored {
            Some(user) => (Some(user.username), Some(user.password_hash)),
            None => (None, None),
        };
        let matches = self.0.passwords.verify(password, hash).await?;
        Ok(name.filter(|_| matches))
    }

    /// The signed-in user: from the sessions in memory, else from the database (and then
    /// remembered).
    async fn session_user(&self, request: &HeaderMap) -> Result<Arc<str>, SiteError> {
        let token = SessionToken::from_request(request).ok_or(SiteError::NotSignedIn)?;
        let (digest, now) = (token.digest(), unix_now());
        if let Some(username) = self.0.sessions.get(&digest, now) {
            return Ok(username);
        }
        let (username, expires_at) = self
            .0
            .storage
            .session_user(digest, now)
            .await?
            .ok_or(SiteError::NotSignedIn)?;
        let username: Arc<str> = Arc::from(username);
        self.0
            .sessions
            .remember(digest, Arc::clone(&username), expires_at);
        Ok(username)
    }
}

/// A route's outcome as the response: an error is rendered as the request prefers (problem
/// JSON or HTML). The one way every route ends; [`answer_later`] is the same for async routes.
fn answer(request: &HeaderMap, route: impl FnOnce() -> Result<Reply, SiteError>) -> Reply {
    route().unwrap_or_else(|e| e.render(request))
}

async fn answer_later(
    request: &HeaderMap,
    route: impl Future<Output = Result<Reply, SiteError>>,
) -> Reply {
    let outcome = route.await;
    answer(request, || outcome)
}

/// The headers `GET /status/{code}` adds for its code (SITE.md 4.3).
fn status_headers(status: StatusCode) -> Option<(HeaderName, HeaderValue)> {
    use http::header::{ALLOW, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
    Some(match status.as_u16() {
        301 | 302 | 303 | 307 | 308 => (LOCATION, HeaderValue::from_static("/")),
        401 => (
            WWW_AUTHENTICATE,
            HeaderValue::from_static(crate::errors::WWW_AUTHENTICATE_VALUE),
        ),
        405 => (ALLOW, Allow::GetHead.header_value()),
        429 | 503 => (RETRY_AFTER, HeaderValue::from_static("1")),
        _ => return None,
    })
}

fn see_other(location: HeaderValue) -> Reply {
    let mut response = reply::empty(StatusCode::SEE_OTHER);
    response
        .headers_mut()
        .insert(http::header::LOCATION, location);
    response
}

fn user_location(username: &Username) -> HeaderValue {
    // Usernames are ASCII letters, digits, '_', '.' and '-': always a valid header value.
    HeaderValue::from_str(&format!("/users/{}", username.as_str()))
        .unwrap_or(HeaderValue::from_static("/"))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
